"""An apprentice task as an rsl_rl ``VecEnv``: train it with rsl_rl's runners.

Observation groups (a ``TensorDict``, 1-D per env, as rsl_rl's MLP models need):
- ``policy``: the deployable ``obs``;
- ``proprio_hist``: the deployable history, flattened oldest row first (H * D);
- ``privileged``: ``priv_info`` (never deployable);
- ``critic``: the asymmetric critic's extra state (never deployable).

A teacher reads ``["policy", "privileged"]``, a deployable student ``["proprio_hist"]`` or
``["policy"]``. ``extras["time_outs"]`` carries apprentice's truncations (bootstrapped by
rsl_rl), ``extras["log"]`` the mean return and length of the episodes that ended.
"""
from __future__ import annotations

import torch
from rsl_rl.env import VecEnv
from tensordict import TensorDict

DEPLOYABLE_GROUPS = ("policy", "proprio_hist")
PRIVILEGED_GROUPS = ("privileged", "critic")


def as_groups(obs: dict) -> TensorDict:
    """apprentice's obs dict as rsl_rl's observation groups (also for evaluating an rsl_rl policy)."""
    return TensorDict({
        "policy": obs["obs"],
        "proprio_hist": obs["proprio_hist"].flatten(1),
        "privileged": obs["priv_info"],
        "critic": obs["critic"],
    }, batch_size=[obs["obs"].shape[0]], device=obs["obs"].device)


class RslRlVecEnv(VecEnv):
    def __init__(self, env):
        self.env = env
        self.num_envs = env.num_envs
        self.num_actions = env.num_actions
        self.max_episode_length = env.max_episode_length
        self.device = env.device
        self.cfg = {"task": getattr(env.cfg, "name", type(env).__name__)}
        self._obs = as_groups(env.reset())

    @property
    def episode_length_buf(self) -> torch.Tensor:
        return torch.from_numpy(self.env.episode_length_buf)  # shares memory with the env

    @episode_length_buf.setter
    def episode_length_buf(self, value: torch.Tensor) -> None:  # rsl_rl's init_at_random_ep_len
        self.env.episode_length_buf[:] = value.cpu().numpy()

    def get_observations(self) -> TensorDict:
        return self._obs

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        obs, reward, done, info = self.env.step(actions.detach().float().cpu())
        self._obs = as_groups(obs)
        extras: dict = {"time_outs": info["time_outs"], "log": {}}
        episode = info["episode"]
        if len(episode["return"]):
            extras["log"] = {"/episode/return": episode["return"].mean(), "/episode/length": episode["length"].float().mean()}
        if info["nan_resets"]:
            extras["log"]["/env/nan_resets"] = float(info["nan_resets"])
        return self._obs, reward, done.long(), extras
