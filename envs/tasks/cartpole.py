"""Cartpole target tracking with randomized dynamics (continuous force action).

The pole starts near upright; the cart must follow a target position that jumps every
``target_period_s`` while keeping the pole balanced. Why privileged information matters
here, by design:

- The robot senses only cart position and pole angle, with noise, plus its last action
  and the target: velocities are never measured and must be inferred from the history.
- Pole mass and length, cart mass, motor strength and joint damping are randomized over
  wide ranges. The feedback gains that move a heavy, long pole on a weak motor quickly
  without falling are wrong for a light, short pole on a strong motor: a policy blind
  to the dynamics has to be cautious (slow tracking) or risk falling.
- Actuation latency (0-2 control steps in training) and the sensor-noise level are
  randomized too; both punish a policy that cannot tell how stale or noisy its inputs are.
- The pole-angle sensor has a constant calibration offset (``angle_bias``). A controller
  that takes the reading at face value balances the pole off vertical and must push the
  cart steadily to hold it, so it settles away from the target, the further the larger
  the offset.
  The offset shows in the history only indirectly (the reading at which the cart stops
  accelerating), so it is the parameter a policy blind to the dynamics pays most for:
  without it, a PPO policy over the same history (the DR baseline) tracks far worse
  than the teacher even on the training ranges.

The teacher reads all of that through ``priv_info``; a deployable student must infer it
from ``proprio_hist``. The held-out split puts every parameter outside its training range
at once, in the spirit of RMA's Table 1.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np
from omegaconf import MISSING

from envs.base import BatchedTask, BatchedTaskCfg
from envs.randomization import ParamSpec, RangeCfg, param_specs_from
from runstore.config import bounded

ASSET = Path(__file__).resolve().parent.parent / "assets" / "cartpole.xml"


@dataclass
class CartpoleRandomizationCfg:
    pole_mass: RangeCfg = MISSING  # scale of pole_mass
    pole_length: RangeCfg = MISSING  # scale of pole_length
    cart_mass: RangeCfg = MISSING  # scale of cart_mass
    motor_strength: RangeCfg = MISSING  # scale of max_force
    cart_damping: RangeCfg = MISSING  # N s/m on the slider
    pole_damping: RangeCfg = MISSING  # N m s/rad on the hinge
    action_delay: RangeCfg = MISSING  # whole control steps
    obs_noise: RangeCfg = MISSING  # scale of the sensor noise
    angle_bias: RangeCfg = MISSING  # rad, constant offset of the pole-angle sensor


@dataclass
class CartpoleCfg(BatchedTaskCfg):
    cart_mass: float = bounded(gt=0)  # kg
    pole_mass: float = bounded(gt=0)  # kg
    pole_length: float = bounded(gt=0)  # m
    max_force: float = bounded(gt=0)  # N at action 1
    track_limit: float = bounded(gt=0)  # m; beyond it the episode terminates
    max_angle: float = bounded(gt=0)  # rad; beyond it the episode terminates
    init_pos: float = bounded(ge=0)  # initial cart position ~ U(-init_pos, init_pos)
    init_angle: float = bounded(ge=0)  # initial pole angle ~ U(-init_angle, init_angle)
    target_range: float = bounded(ge=0)  # targets ~ U(-target_range, target_range)
    target_period_s: float = bounded(gt=0)
    pos_noise: float = bounded(ge=0)  # m, sensor noise std at obs_noise scale 1
    angle_noise: float = bounded(ge=0)  # rad
    track_sigma: float = bounded(gt=0)  # m, width of the tracking reward
    upright_weight: float = MISSING  # reward weight of cos(pole angle), earned on every step alive
    track_weight: float = MISSING  # reward weight of exp(-(error / track_sigma)^2)
    action_cost: float = bounded(ge=0)
    randomization: CartpoleRandomizationCfg = field(default_factory=CartpoleRandomizationCfg)


_SCALARS = (
    "cart_mass", "pole_mass", "pole_length", "max_force", "track_limit", "max_angle", "init_pos",
    "init_angle", "target_range", "pos_noise", "angle_noise", "track_sigma", "upright_weight",
    "track_weight", "action_cost",
)


class CartpoleEnv(BatchedTask):
    num_actions = 1
    obs_dim = 4  # cart position, pole angle (noisy), target, previous action
    priv_state_dim = 4  # true position, angle, cart and pole velocities (scaled)
    critic_dim = 6
    episode_metric_names = ("track_err", "abs_angle")

    def build_model(self) -> mujoco.MjModel:
        c = self.cfg
        spec = mujoco.MjSpec.from_file(str(ASSET))
        spec.option.timestep = c.sim_dt
        spec.body("cart").mass = c.cart_mass
        spec.body("pole").mass = c.pole_mass
        spec.actuator("force").gear[0] = c.max_force
        model = spec.compile()
        self._cart = model.body("cart").id
        self._pole = model.body("pole").id
        return model

    def declare_params(self) -> list[ParamSpec]:
        return param_specs_from(self.cfg.randomization)

    def __init__(self, cfg, num_envs: int, seed: int = 0, split="train", nthread: int = 0,
                 resample_prob: float | None = None):
        super().__init__(cfg, num_envs, seed, split, nthread, resample_prob)
        # config scalars as plain floats: the hot path never touches the config object
        self.c = {k: float(cfg[k]) for k in _SCALARS}
        b = self.backend
        self._mass = b.expand("body_mass")
        self._inertia = b.expand("body_inertia")
        self._ipos = b.expand("body_ipos")
        self._gear = b.expand("actuator_gear")
        self._damping = b.expand("dof_damping")
        self.target = np.zeros(num_envs, np.float32)
        self._angle_bias = np.zeros(num_envs)
        self._period = max(1, round(cfg.target_period_s / self.control_dt))
        self._col = {name: k for k, name in enumerate(self.param_names)}

    def apply_params(self, ids: np.ndarray, p: np.ndarray) -> None:
        c, col = self.c, self._col
        pole_mass = c["pole_mass"] * p[:, col["pole_mass"]]
        length = c["pole_length"] * p[:, col["pole_length"]]
        rod = pole_mass * length**2 / 12.0  # a thin rod about its centre
        self._mass[ids, self._pole] = pole_mass
        self._mass[ids, self._cart] = c["cart_mass"] * p[:, col["cart_mass"]]
        self._ipos[ids, self._pole, 2] = length / 2
        self._inertia[ids, self._pole, 0] = rod
        self._inertia[ids, self._pole, 1] = rod
        self._gear[ids, 0, 0] = c["max_force"] * p[:, col["motor_strength"]]
        self._damping[ids, 0] = p[:, col["cart_damping"]]
        self._damping[ids, 1] = p[:, col["pole_damping"]]
        self._angle_bias[ids] = p[:, col["angle_bias"]]

    def reset_state(self, ids: np.ndarray) -> None:
        c = self.c
        u = self.rng.uniform(-1.0, 1.0, (len(ids), 3))
        self.backend.qpos[ids, 0] = u[:, 0] * c["init_pos"]
        self.backend.qpos[ids, 1] = u[:, 1] * c["init_angle"]
        self.backend.qvel[ids] = 0.0
        self.target[ids] = u[:, 2] * c["target_range"]

    def apply_actions(self, actions: np.ndarray) -> None:
        self.backend.ctrl[:, 0] = actions[:, 0]

    def after_physics(self) -> None:
        switch = np.flatnonzero(self.episode_length_buf % self._period == 0)
        if len(switch):
            self.target[switch] = self.rng.uniform(-1.0, 1.0, len(switch)) * self.c["target_range"]

    def _state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        q, v = self.backend.qpos, self.backend.qvel
        return q[:, 0], q[:, 1], v[:, 0], v[:, 1]

    def compute_reward(self, actions: np.ndarray):
        c = self.c
        x, th, _, _ = self._state()
        err = x - self.target
        track = np.exp(-((err / c["track_sigma"]) ** 2))
        reward = c["upright_weight"] * np.cos(th) + c["track_weight"] * track - c["action_cost"] * actions[:, 0] ** 2
        terminated = (np.abs(x) > c["track_limit"]) | (np.abs(th) > c["max_angle"])
        metrics = np.stack([np.abs(err), np.abs(th)], axis=1)
        return reward.astype(np.float32), terminated, metrics.astype(np.float32)

    def compute_obs(self) -> np.ndarray:
        c = self.c
        x, th, _, _ = self._state()
        noise = self.rng.standard_normal((self.num_envs, 2)) * self.obs_noise[:, None]
        obs = np.empty((self.num_envs, 4), np.float32)
        obs[:, 0] = x + c["pos_noise"] * noise[:, 0]
        obs[:, 1] = th + self._angle_bias + c["angle_noise"] * noise[:, 1]
        obs[:, 2] = self.target
        obs[:, 3] = self.prev_actions[:, 0]
        return obs

    def compute_priv_state(self) -> np.ndarray:
        c = self.c
        x, th, xd, thd = self._state()
        return np.stack([x / c["track_limit"], th / c["max_angle"], xd / 2.0, thd / 4.0], axis=1).astype(np.float32)

    def deploy_description(self) -> dict:
        """What a robot-side runtime needs to know about inputs and outputs (deploy.json)."""
        return {
            "frame": "x along the track, positive to the right (the slider's +x); pole angle about +y, "
                     "0 upright, positive when the pole's tip leans towards +x",
            "obs_fields": [
                {"name": "cart_pos", "unit": "m", "note": "cart position on the track, 0 at its centre, +x right"},
                {"name": "pole_angle", "unit": "rad", "note": "0 is upright, positive tip towards +x; "
                 "as the sensor reads it (a calibration offset is part of what the policy adapts to)"},
                {"name": "target_pos", "unit": "m", "note": "where the cart should be, same axis as cart_pos"},
                {"name": "prev_action", "unit": "1", "note": "this policy's own action at the previous control "
                 "step, clipped to [-1, 1], as commanded (before any actuation delay); 0 after reset"},
            ],
            "action_fields": [{"name": "cart_force", "unit": "N", "scale": self.c["max_force"], "range": [-1.0, 1.0],
                               "note": "force on the cart = action x scale, positive pushes towards +x"}],
            "neutral_action": "0: no force",
            "control_rate_hz": 1.0 / self.control_dt,
        }

    def compute_critic(self) -> np.ndarray:
        x, th, xd, thd = self._state()
        phase = (self.episode_length_buf % self._period) / self._period
        return np.stack([x, th, xd, thd, self.target - x, phase], axis=1).astype(np.float32)
