"""An IsaacGymEnvs ``VecTask`` (Isaac Gym, HORA) as an rsl_rl-style env, so that
``envs.ecosystem.from_rsl_rl`` presents it as an apprentice task.

A VecTask keeps its buffers on the task (``obs_buf``, ``rew_buf``, ``reset_buf``,
``progress_buf``, ``extras["time_outs"]``) and returns an ``obs_dict`` from ``reset()`` and
``step()``: ``obs`` and, with an asymmetric critic, ``states``; HORA's tasks add
``priv_info`` and ``proprio_hist``. Each key becomes an observation group (flattened per
env), so a config maps them: ``task.obs_groups=[obs] task.priv_groups=[priv_info]
task.critic_groups=[states]``. A factory for ``task=rsl_rl_env`` wraps the user's task:

    def make_env(split, num_envs, seed):
        return VecTaskEnv(AllegroHandHora(cfg_for(split, num_envs, seed), ...))

Isaac Gym is on no package registry, so this adapter is tested against a small pure-torch
task written to the same interface (tests/vectask_cartpole.py), not against Isaac Gym.
"""
from __future__ import annotations

import torch


class VecTaskEnv:
    def __init__(self, task):
        self.task = task
        self.num_envs = int(task.num_envs)
        self.num_actions = int(getattr(task, "num_actions", getattr(task, "num_acts", 0)))
        self.max_episode_length = int(task.max_episode_length)
        self.device = torch.device(getattr(task, "device", "cpu"))
        self._obs = dict(task.reset())

    @property
    def episode_length_buf(self) -> torch.Tensor:
        return self.task.progress_buf

    def get_observations(self) -> dict:
        return self._obs

    def step(self, actions: torch.Tensor):
        obs, rew, reset, extras = self.task.step(actions)
        self._obs = dict(obs)
        return self._obs, rew, reset, {"time_outs": extras.get("time_outs", torch.zeros_like(reset, dtype=torch.bool))}
