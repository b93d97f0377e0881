"""Machinery shared by every batched MuJoCo task: the step/reset loop of the contract.

A task subclasses ``BatchedTask`` and supplies the physics-facing pieces (model, how its
parameters reach the simulation, initial state, actions, observations, reward). This
class owns what is the same for all of them: action checks, actuation latency, blow-up
handling, time-outs, automatic resets with freshly sampled dynamics, the proprioceptive
history and episode statistics.

Two randomized parameters are understood here because they are not simulator fields:
``action_delay`` (whole control steps of latency) and ``obs_noise`` (a per-env scale of
the task's sensor noise). A task declares them like any other parameter.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import mujoco
import numpy as np
import torch
from omegaconf import MISSING

from envs.backend import MujocoBatchBackend
from envs.contract import ObsDict, ObsSpec
from envs.randomization import SPLITS, ParamSpec, Sampler, normalizer
from runstore.config import bounded


def push_history(hist: np.ndarray, obs: np.ndarray, reset_ids: np.ndarray) -> np.ndarray:
    """The proprioceptive history after ``obs`` (N, D): a new array, so observations already
    handed out are never mutated; rows of envs that just reset hold nothing before ``obs``."""
    new = np.empty_like(hist)
    new[:, :-1] = hist[:, 1:]
    new[:, -1] = obs
    if len(reset_ids):
        new[reset_ids, :-1] = 0.0  # nothing observed before the episode began
    return new


@dataclass
class BatchedTaskCfg:
    """The keys the shared loop reads; a task's typed schema extends it with its own."""
    name: str = MISSING
    sim_dt: float = bounded(gt=0)
    substeps: int = bounded(ge=1)
    episode_length: int = bounded(ge=1)  # control steps
    history_len: int = bounded(ge=1)
    resample_prob: float = bounded(ge=0, le=1)  # per env and step: new dynamics mid-episode (RMA 0.004)


class BatchedTask:
    """Base of the tasks; see ``envs/contract.py`` for what ``reset``/``step`` promise."""

    num_actions: int
    obs_dim: int
    priv_state_dim: int
    critic_dim: int
    episode_metric_names: tuple[str, ...] = ()
    # A task whose job is more than not failing names it here: (an episode metric, the
    # largest episode mean of it that still counts). An episode is then a *tracking success*
    # when it did not fail and its mean stayed at or below that value (evaluation/metrics.py).
    # None: not failing is the task's only success (RMA's success rate).
    tracking_success: tuple[str, float] | None = None

    # ---- what a task supplies -------------------------------------------------------
    def build_model(self) -> mujoco.MjModel:
        raise NotImplementedError

    def declare_params(self) -> list[ParamSpec]:
        raise NotImplementedError

    def apply_params(self, ids: np.ndarray, params: np.ndarray) -> None:
        """Write sampled parameters (rows for ``ids``) into the backend's model fields."""
        raise NotImplementedError

    def reset_state(self, ids: np.ndarray) -> None:
        """Write the initial state of the envs ``ids`` (and the task's own state)."""
        raise NotImplementedError

    def apply_actions(self, actions: np.ndarray) -> None:
        """Write the (delayed, clipped) actions into the simulation's controls."""
        raise NotImplementedError

    def after_physics(self) -> None:
        """Advance the task's own state after a step (e.g. resample commands)."""

    def compute_reward(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(reward (N,), terminated (N,) bool, per-step metrics (N, M)) after physics."""
        raise NotImplementedError

    def compute_obs(self) -> np.ndarray:
        """The noisy proprioceptive observation (N, obs_dim), previous action included.

        Called first, then ``compute_priv_state`` and ``compute_critic``, on the same state
        (after this step's resets): a task may compute what they share once, here.
        """
        raise NotImplementedError

    def compute_priv_state(self) -> np.ndarray:
        """Simulator-only state for ``priv_info`` (N, priv_state_dim), about [-1, 1]."""
        raise NotImplementedError

    def compute_critic(self) -> np.ndarray:
        raise NotImplementedError

    # ---- the shared loop ------------------------------------------------------------
    def __init__(
        self,
        cfg,
        num_envs: int,
        seed: int = 0,
        split: str | Mapping[str, Sequence[Sequence[float]]] = "train",
        nthread: int = 0,
        resample_prob: float | None = None,
    ):
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        self.cfg = cfg
        self.num_envs = num_envs
        self.device = torch.device("cpu")
        self.rng = np.random.Generator(np.random.PCG64(int(seed)))
        self.param_specs = self.declare_params()
        self.param_names = tuple(s.name for s in self.param_specs)
        self.splits = SPLITS if self.param_specs else ("train",)  # the named splits this env offers
        self._max_delay = self._declared_max_delay()
        self.set_split(split)
        # per step and env: resample the dynamics mid-episode (RMA: 0.004 in training, 0.01 in testing)
        self.resample_prob = float(cfg.get("resample_prob", 0.0) if resample_prob is None else resample_prob)
        if not 0.0 <= self.resample_prob <= 1.0:
            raise ValueError(f"resample_prob must lie in [0, 1], got {self.resample_prob}")
        self._param_centre, self._param_half = normalizer(self.param_specs)
        self.backend = MujocoBatchBackend(self.build_model(), num_envs, nthread)
        self.substeps = int(cfg.substeps)
        self.control_dt = float(cfg.sim_dt) * self.substeps
        self.max_episode_length = int(cfg.episode_length)
        self.history_len = int(cfg.history_len)
        self.spec = ObsSpec(
            obs_dim=self.obs_dim,
            history_len=self.history_len,
            priv_dim=len(self.param_specs) + self.priv_state_dim,
            critic_dim=self.critic_dim,
            num_actions=self.num_actions,
        )

        n, a, f32 = num_envs, self.num_actions, np.float32
        self.params = np.zeros((n, len(self.param_specs)))
        self.params_normalized = np.zeros((n, len(self.param_specs)), f32)
        self.episode_metric_names = (*type(self).episode_metric_names, "action_jerk")
        self.episode_length_buf = np.zeros(n, np.int64)
        self.episode_return = np.zeros(n, f32)
        self.metric_sums = np.zeros((n, len(self.episode_metric_names)), f32)
        self.prev_actions = np.zeros((n, a), f32)
        self.prev2_actions = np.zeros((n, a), f32)
        self.obs_noise = np.ones(n, f32)
        self.action_delay = np.zeros(n, np.int64)
        self.action_queue = np.zeros((n, self._max_delay + 1, a), f32)  # [:, k]: k steps ago
        self.hist = np.zeros((n, self.history_len, self.obs_dim), f32)
        self._rows = np.arange(n)
        self.nan_resets_total = 0

    def _declared_max_delay(self) -> int:
        if "action_delay" not in self.param_names:
            return 0
        spec = self.param_specs[self.param_names.index("action_delay")]
        return int(max([spec.train[1], spec.nominal] + [b for _, b in (*spec.heldout, *spec.extreme)]))

    def set_split(self, split: str | Mapping[str, Sequence[Sequence[float]]]) -> None:
        """Sample dynamics from another split (or explicit ranges) from the next reset on."""
        sampler = Sampler(self.param_specs, split)
        if "action_delay" in self.param_names:
            j = self.param_names.index("action_delay")
            top = sampler.lo[j] + sampler.width[j] - 1
            if top.max() > self._max_delay:
                raise ValueError(f"action_delay up to {int(top.max())} exceeds the declared maximum {self._max_delay}")
        self.split = split
        self._sampler = sampler

    def reset(self) -> ObsDict:
        ids = self._rows
        self._reset_ids(ids)
        return self._observe(ids)

    def step(self, actions: torch.Tensor) -> tuple[ObsDict, torch.Tensor, torch.Tensor, dict]:
        self._check_actions(actions)
        act = actions.detach().numpy()
        bad_action = ~np.isfinite(act).all(axis=1)
        act = np.clip(np.where(bad_action[:, None], 0.0, act), -1.0, 1.0).astype(np.float32)

        self.action_queue = np.roll(self.action_queue, 1, axis=1)
        self.action_queue[:, 0] = act
        self.apply_actions(self.action_queue[self._rows, self.action_delay])
        failed = self.backend.step(self.substeps)

        # smoothness (RMA): the command's second difference, |a_t - 2 a_t-1 + a_t-2|, from the third step on
        jerk = np.abs(act - 2.0 * self.prev_actions + self.prev2_actions).mean(axis=1) * (self.episode_length_buf >= 2)
        self.prev2_actions = self.prev_actions
        self.prev_actions = act
        self.episode_length_buf += 1
        self.after_physics()
        reward, terminated, metrics = self.compute_reward(act)
        metrics = np.concatenate([metrics, jerk[:, None].astype(np.float32)], axis=1)

        bad = failed | bad_action
        n_bad = int(bad.sum())
        if n_bad:  # not the policy's failure: no reward, truncated, reset below
            reward = np.where(bad, 0.0, reward).astype(np.float32)
            terminated = terminated & ~bad
            metrics = np.where(bad[:, None], 0.0, metrics).astype(np.float32)
        time_outs = (self.episode_length_buf >= self.max_episode_length) | bad
        done = terminated | time_outs
        self.episode_return += reward
        self.metric_sums += metrics

        self.nan_resets_total += n_bad
        info = {
            "time_outs": torch.from_numpy(time_outs),
            "terminated": torch.from_numpy(terminated),
            "nan_resets": n_bad,
            "nan_actions": int(bad_action.sum()),
        }
        ids = np.flatnonzero(done)
        info["episode"] = self._finish_episodes(ids, terminated)
        if len(ids):
            self._reset_ids(ids)
        info["resampled"] = self._resample(~done) if self.resample_prob > 0 else 0
        return self._observe(ids), torch.from_numpy(reward), torch.from_numpy(done), info

    # ---- internals ------------------------------------------------------------------
    def _check_actions(self, actions: torch.Tensor) -> None:
        if not isinstance(actions, torch.Tensor):
            raise ValueError(f"actions must be a torch.Tensor, got {type(actions).__name__}")
        if actions.dtype != torch.float32:
            raise ValueError(f"actions must be float32, got {actions.dtype}; cast with .float()")
        if actions.shape != (self.num_envs, self.num_actions):
            raise ValueError(
                f"actions must have shape (num_envs, num_actions) = {(self.num_envs, self.num_actions)}, "
                f"got {tuple(actions.shape)}"
            )

    def _finish_episodes(self, ids: np.ndarray, terminated: np.ndarray) -> dict[str, torch.Tensor]:
        length = self.episode_length_buf[ids]
        out = {
            "return": torch.from_numpy(self.episode_return[ids]),
            "length": torch.from_numpy(length),
            "terminated": torch.from_numpy(terminated[ids]),
        }
        means = self.metric_sums[ids] / np.maximum(length, 1)[:, None]
        for k, name in enumerate(self.episode_metric_names):
            out[name] = torch.from_numpy(np.ascontiguousarray(means[:, k]))
        return out

    def _set_params(self, ids: np.ndarray) -> None:
        """Draw fresh dynamics for ``ids`` from the split and write them into the simulation."""
        params = self._sampler(len(ids), self.rng)
        self.params[ids] = params
        self.params_normalized[ids] = (params - self._param_centre) / self._param_half
        if "action_delay" in self.param_names:
            self.action_delay[ids] = params[:, self.param_names.index("action_delay")].astype(np.int64)
        if "obs_noise" in self.param_names:
            self.obs_noise[ids] = params[:, self.param_names.index("obs_noise")]
        self.apply_params(ids, params)
        self.backend.set_const(ids)

    def _resample(self, running: np.ndarray) -> int:
        """Mid-episode resampling: with ``resample_prob`` per env and step, new dynamics take
        effect from the next physics step, the state is kept, and ``priv_info`` follows."""
        ids = np.flatnonzero(running & (self.rng.random(self.num_envs) < self.resample_prob))
        if len(ids):
            self._set_params(ids)
        return len(ids)

    def _reset_ids(self, ids: np.ndarray) -> None:
        self._set_params(ids)
        self.backend.reset(ids)
        self.reset_state(ids)
        self.backend.forward(ids)
        self.episode_length_buf[ids] = 0
        self.episode_return[ids] = 0.0
        self.metric_sums[ids] = 0.0
        self.prev_actions[ids] = 0.0
        self.prev2_actions[ids] = 0.0
        self.action_queue[ids] = 0.0

    def _observe(self, reset_ids: np.ndarray) -> ObsDict:
        obs = self.compute_obs()
        self.hist = push_history(self.hist, obs, reset_ids)
        priv = np.concatenate([self.params_normalized, self.compute_priv_state()], axis=1)
        return {
            "obs": torch.from_numpy(obs),
            "proprio_hist": torch.from_numpy(self.hist),
            "priv_info": torch.from_numpy(priv),
            "critic": torch.from_numpy(self.compute_critic()),
        }
