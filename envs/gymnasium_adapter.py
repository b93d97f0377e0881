"""A gymnasium vector env behind the VecEnv contract (``task=gymnasium``).

It exists so the teacher's PPO can be checked on standard tasks against published
figures (``benchmarks/ppo_gymnasium.py``: Hopper-v5 and HalfCheetah-v5 against CleanRL),
and as the template of an adapter for any other simulator (Isaac Gym included).

A non-finite action row is replaced by zeros and counted in ``info["nan_actions"]``, but
(unlike the MuJoCo tasks) the env is not reset: a gymnasium vector env cannot reset one
sub-env alone. There is no privileged information: ``priv_info`` and ``critic`` have width 0 and the
history is the current observation alone, so use ``policy.actor_input=obs``. There are no
dynamics splits either: only ``split="train"`` exists.

Reward normalization (``reward_normalization``) divides rewards by the running std of the
discounted return and clips them (CleanRL's and SB3's ``NormalizeReward``), for learning
only: ``info["episode"]["return"]`` is always the raw return.

gymnasium is an optional dependency (``pip install -e .[bench]``), imported on use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import torch
from omegaconf import MISSING

from envs.contract import ObsDict, ObsSpec


@dataclass
class GymnasiumCfg:
    name: str = MISSING
    env_id: str = MISSING  # a registered gymnasium id with a Box action space, e.g. Hopper-v5
    reward_normalization: bool = MISSING
    gamma: float = MISSING  # discount of the return whose std scales rewards
    reward_clip: float = MISSING


class RunningReturnStd:
    """Running variance of the per-env discounted return (Welford over all steps seen)."""

    def __init__(self, num_envs: int, gamma: float):
        self.gamma = gamma
        self.ret = np.zeros(num_envs)
        self.mean, self.var, self.count = 0.0, 1.0, 1e-4

    def scale(self, reward: np.ndarray, done: np.ndarray) -> np.ndarray:
        self.ret = self.ret * self.gamma + reward
        n = len(self.ret)
        mean, var = self.ret.mean(), self.ret.var()
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total
        self.ret[done] = 0.0
        return reward / np.sqrt(self.var + 1e-8)


class GymnasiumVecEnv:
    episode_metric_names: tuple[str, ...] = ()
    param_names: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("train",)

    def __init__(
        self,
        cfg,
        num_envs: int,
        seed: int = 0,
        split: str | Mapping[str, Sequence[Sequence[float]]] = "train",
        nthread: int = 0,
    ):
        try:
            import gymnasium as gym
        except ImportError as err:  # pragma: no cover - depends on the install
            raise ImportError("task=gymnasium needs gymnasium: pip install -e '.[bench]'") from err
        if split != "train":
            raise ValueError(f"task=gymnasium has no dynamics splits; got split={split!r}")
        self.cfg = cfg
        self.num_envs = num_envs
        self.device = torch.device("cpu")
        self.vec = gym.make_vec(
            cfg.env_id,
            num_envs=num_envs,
            vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
        )
        space = self.vec.single_action_space
        if not isinstance(space, gym.spaces.Box):
            raise ValueError(f"{cfg.env_id} has a {type(space).__name__} action space; the contract needs a Box")
        self._act_lo, self._act_hi = space.low.astype(np.float32), space.high.astype(np.float32)
        self.num_actions = int(space.shape[0])
        obs_dim = int(np.prod(self.vec.single_observation_space.shape))
        self.spec = ObsSpec(obs_dim=obs_dim, history_len=1, priv_dim=0, critic_dim=0, num_actions=self.num_actions)
        spec = gym.spec(cfg.env_id)
        self.max_episode_length = int(spec.max_episode_steps or 0)
        self.control_dt = float(getattr(self.vec.envs[0].unwrapped, "dt", 0.0))
        self.seed = int(seed)
        self.normalizer = RunningReturnStd(num_envs, cfg.gamma) if cfg.reward_normalization else None
        self.episode_return = np.zeros(num_envs)
        self.episode_length = np.zeros(num_envs, np.int64)
        self.nan_resets_total = 0

    def _obs(self, obs: np.ndarray) -> ObsDict:
        o = torch.as_tensor(obs.reshape(self.num_envs, -1), dtype=torch.float32)
        empty = torch.zeros(self.num_envs, 0)
        return {"obs": o, "proprio_hist": o[:, None, :].clone(), "priv_info": empty, "critic": empty}

    def reset(self) -> ObsDict:
        obs, _ = self.vec.reset(seed=self.seed)
        self.episode_return[:] = 0.0
        self.episode_length[:] = 0
        return self._obs(obs)

    def step(self, actions: torch.Tensor) -> tuple[ObsDict, torch.Tensor, torch.Tensor, dict]:
        if actions.shape != (self.num_envs, self.num_actions) or actions.dtype != torch.float32:
            raise ValueError(
                f"actions must be float32 of shape {(self.num_envs, self.num_actions)}, "
                f"got {actions.dtype} {tuple(actions.shape)}"
            )
        act = actions.detach().numpy()
        bad_action = ~np.isfinite(act).all(axis=1)
        act = np.where(bad_action[:, None], 0.0, act)
        # contract actions are in [-1, 1]; map them onto the env's box
        act = self._act_lo + (np.clip(act, -1.0, 1.0) + 1.0) * 0.5 * (self._act_hi - self._act_lo)
        obs, reward, terminated, truncated, _ = self.vec.step(act)
        terminated = np.asarray(terminated, bool)
        time_outs = np.asarray(truncated, bool)
        done = terminated | time_outs
        self.episode_return += reward
        self.episode_length += 1
        ids = np.flatnonzero(done)
        episode = {
            "return": torch.as_tensor(self.episode_return[ids], dtype=torch.float32),
            "length": torch.as_tensor(self.episode_length[ids]),
            "terminated": torch.as_tensor(terminated[ids]),
        }
        self.episode_return[ids] = 0.0
        self.episode_length[ids] = 0
        if self.normalizer is not None:
            reward = np.clip(self.normalizer.scale(reward, done), -self.cfg.reward_clip, self.cfg.reward_clip)
        n_bad = int(bad_action.sum())
        info = {
            "time_outs": torch.as_tensor(time_outs),
            "terminated": torch.as_tensor(terminated),
            "nan_resets": 0,
            "nan_actions": n_bad,
            "resampled": 0,  # a gymnasium env's dynamics stay as built
            "episode": episode,
        }
        return self._obs(obs), torch.as_tensor(reward, dtype=torch.float32), torch.as_tensor(done), info

    def set_split(self, split) -> None:
        if split != "train":
            raise ValueError(f"task=gymnasium has no dynamics splits; got split={split!r}")
