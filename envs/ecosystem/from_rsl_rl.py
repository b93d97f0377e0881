"""Any rsl_rl-style ``VecEnv`` as an apprentice task: Isaac Lab's, mjlab's and UniLab's
rsl_rl wrappers hand one out, and so does ``envs.ecosystem.from_isaacgym`` for a VecTask.

    task=rsl_rl_env task.factory=my_pkg.tasks:make_env task.obs_groups=[policy] \\
        task.priv_groups=[privileged] task.critic_groups=[critic]

``task.factory`` names a function ``make_env(split: str, num_envs: int, seed: int, **kwargs)``
that builds the user's env (``task.factory_kwargs`` are passed through) and returns an
object with rsl_rl's ``VecEnv`` interface: ``num_envs``, ``num_actions``,
``max_episode_length``, ``episode_length_buf``, ``get_observations()`` (a mapping of
observation groups, each (N, D)) and ``step(actions) -> (obs, rewards, dones, extras)``
with ``extras["time_outs"]`` and automatic resets. The split is a name (``train``,
``heldout`` or any the factory knows): how a held-out split changes the dynamics is the
factory's business (see the README's example).

What the adapter adds, to present apprentice's contract (``envs/contract.py``):
- ``obs`` = the ``obs_groups`` concatenated (deployable), ``priv_info`` = ``priv_groups``,
  ``critic`` = ``critic_groups`` (both never deployable);
- ``proprio_hist``, kept here: the last ``history_len`` ``obs`` rows, zeroed at each env's
  reset, exactly as apprentice's own tasks keep it;
- episode returns and lengths, ``terminated`` = done and not timed out;
- actions: shape and dtype checked, rows with NaN/inf replaced by 0 and counted, clipped
  to [-1, 1] and multiplied by ``action_scale``;
- a non-finite observation row is zeroed and counted in ``nan_resets``. The adapter cannot
  reset a single env of a foreign simulator: that env is marked done (a time-out) for the
  learner and the episode bookkeeping, and the foreign env goes on with its own resets.

An external env declares no randomized parameters to apprentice (``param_names`` is empty):
evaluation runs its named splits; per-parameter sweeps need the parameters apprentice owns.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from omegaconf import MISSING, OmegaConf

from envs.base import push_history
from envs.contract import ObsDict, ObsSpec
from runstore.config import bounded


@dataclass
class RslRlEnvCfg:
    name: str = MISSING
    factory: str = MISSING  # "module:function" building the env for a split
    factory_kwargs: dict[str, Any] = field(default_factory=dict)
    obs_groups: list[str] = MISSING  # deployable: concatenated into obs
    priv_groups: list[str] = MISSING  # privileged: concatenated into priv_info
    critic_groups: list[str] = field(default_factory=list)  # extra critic input (may be empty)
    history_len: int = bounded(ge=1)
    control_dt: float = bounded(gt=0)  # s per env step (for rates and times in reports)
    action_scale: float = bounded(gt=0)  # the env receives action * action_scale

    @staticmethod
    def check(cfg) -> list[str]:
        errors = []
        if ":" not in cfg.factory:
            errors.append(f"factory={cfg.factory!r} must be 'module:function'")
        if not cfg.obs_groups:
            errors.append("obs_groups is empty: name the deployable observation groups")
        if not cfg.priv_groups:
            errors.append("priv_groups is empty: name the privileged groups the teacher reads")
        return errors


def load_factory(path: str) -> Callable:
    module, _, attr = path.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"task.factory={path!r} cannot be loaded ({err}); give 'module:function' importable here") from err
    if not callable(fn):
        raise ValueError(f"task.factory={path!r} is not a function")
    return fn


def _as_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


class RslRlEnvAdapter:
    param_names: tuple[str, ...] = ()
    param_specs: list = []
    splits: tuple[str, ...] = ("train", "heldout")  # built by the factory
    episode_metric_names: tuple[str, ...] = ()

    def __init__(self, cfg, num_envs: int, seed: int = 0, split="train", nthread: int = 0):
        self.cfg = cfg
        self.set_split(split)
        kwargs = OmegaConf.to_container(cfg.factory_kwargs, resolve=True) if OmegaConf.is_config(cfg.factory_kwargs) \
            else dict(cfg.factory_kwargs)
        self.vec = load_factory(cfg.factory)(split=split, num_envs=num_envs, seed=seed, **kwargs)
        if self.vec.num_envs != num_envs:
            raise ValueError(f"task.factory built {self.vec.num_envs} envs, asked for {num_envs}")
        self.num_envs = num_envs
        self.num_actions = int(self.vec.num_actions)
        self.max_episode_length = int(self.vec.max_episode_length)
        self.device = torch.device("cpu")
        self.control_dt = float(cfg.control_dt)
        self.history_len = int(cfg.history_len)
        groups = self.vec.get_observations()
        for key in ("obs_groups", "priv_groups", "critic_groups"):
            missing = [g for g in cfg[key] if g not in groups]
            if missing:
                raise ValueError(f"task.{key} names {missing}, which the env does not return; it has {list(groups.keys())}")
        first = self._split_groups(groups)
        self.spec = ObsSpec(obs_dim=first["obs"].shape[1], history_len=self.history_len,
                            priv_dim=first["priv_info"].shape[1], critic_dim=first["critic"].shape[1],
                            num_actions=self.num_actions)
        self.params = np.zeros((num_envs, 0))
        self.hist = np.zeros((num_envs, self.history_len, self.spec.obs_dim), np.float32)
        self.episode_return = np.zeros(num_envs, np.float32)
        self._length = np.zeros(num_envs, np.int64)
        self.nan_resets_total = 0
        self._first = first

    @property
    def episode_length_buf(self) -> np.ndarray:
        return self._length

    def set_split(self, split) -> None:
        if not isinstance(split, str):
            raise ValueError(f"an external env ({self.cfg.name}) takes named splits only (its factory builds them), "
                             f"not explicit ranges {split!r}")
        self.split = split

    def _cat(self, groups, names) -> torch.Tensor:
        if not names:
            return torch.zeros(self.num_envs, 0)
        return torch.cat([torch.as_tensor(groups[g]).detach().float().cpu().reshape(len(groups[g]), -1)
                          for g in names], dim=1)

    def _split_groups(self, groups) -> dict[str, torch.Tensor]:
        return {"obs": self._cat(groups, self.cfg.obs_groups), "priv_info": self._cat(groups, self.cfg.priv_groups),
                "critic": self._cat(groups, self.cfg.critic_groups)}

    def _observe(self, parts: dict[str, torch.Tensor], reset_ids: np.ndarray) -> ObsDict:
        self.hist = push_history(self.hist, parts["obs"].numpy(), reset_ids)
        return {"obs": parts["obs"], "proprio_hist": torch.from_numpy(self.hist), "priv_info": parts["priv_info"],
                "critic": parts["critic"]}

    def reset(self) -> ObsDict:
        """The current observations with a fresh history; a foreign env resets itself, so
        episodes already under way go on (a new env from the factory starts fresh)."""
        self.hist[:] = 0.0
        self.episode_return[:] = 0.0
        self._length[:] = 0
        parts = self._first if self._first is not None else self._split_groups(self.vec.get_observations())
        self._first = None
        return self._observe(parts, np.arange(self.num_envs))

    def step(self, actions: torch.Tensor) -> tuple[ObsDict, torch.Tensor, torch.Tensor, dict]:
        if not isinstance(actions, torch.Tensor) or actions.dtype != torch.float32 \
                or actions.shape != (self.num_envs, self.num_actions):
            raise ValueError(f"actions must be a float32 tensor of shape {(self.num_envs, self.num_actions)}, got "
                             f"{getattr(actions, 'dtype', type(actions))} {tuple(getattr(actions, 'shape', ()))}")
        bad_action = ~torch.isfinite(actions).all(dim=1)
        act = torch.where(bad_action[:, None], 0.0, actions).clamp(-1.0, 1.0) * self.cfg.action_scale
        groups, reward, dones, extras = self.vec.step(act.to(getattr(self.vec, "device", "cpu")))
        self._first = None
        parts = self._split_groups(groups)
        bad_obs = ~torch.cat(list(parts.values()), dim=1).isfinite().all(dim=1)
        for k in parts:
            parts[k][bad_obs] = 0.0
        reward = torch.as_tensor(reward).detach().float().cpu().reshape(self.num_envs)
        bad = (bad_obs | bad_action).numpy()
        reward = torch.where(torch.from_numpy(bad) | ~reward.isfinite(), 0.0, reward)
        time_outs = _as_numpy(extras.get("time_outs", np.zeros(self.num_envs, bool))).astype(bool).reshape(-1) | bad
        done = _as_numpy(dones).astype(bool).reshape(-1) | bad
        terminated = done & ~time_outs
        self._length += 1
        self.episode_return += reward.numpy()
        ids = np.flatnonzero(done)
        episode = {"return": torch.from_numpy(self.episode_return[ids].copy()),
                   "length": torch.from_numpy(self._length[ids].copy()),
                   "terminated": torch.from_numpy(terminated[ids])}
        self.episode_return[ids] = 0.0
        self._length[ids] = 0
        n_bad = int(bad.sum())
        self.nan_resets_total += n_bad
        info = {"time_outs": torch.from_numpy(time_outs), "terminated": torch.from_numpy(terminated),
                "nan_resets": n_bad, "nan_actions": int(bad_action.sum()),
                "resampled": 0,  # the wrapped env's own randomization is not seen from here
                "episode": episode}
        return self._observe(parts, ids), reward, torch.from_numpy(done), info

    def deploy_description(self) -> dict:
        return {
            "obs_fields": [{"name": f"{'+'.join(self.cfg.obs_groups)}[{i}]", "unit": "as the source env defines it",
                            "note": f"from observation groups {list(self.cfg.obs_groups)} of {self.cfg.factory}"}
                           for i in range(self.spec.obs_dim)],
            "action_fields": [{"name": f"action[{i}]", "scale": float(self.cfg.action_scale), "range": [-1.0, 1.0]}
                              for i in range(self.num_actions)],
            "neutral_action": "0",
            "control_rate_hz": 1.0 / self.control_dt,
        }
