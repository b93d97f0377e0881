"""Run a policy function for complete episodes: one (the first) episode per env.

Taking exactly the first episode of every env, rather than whatever ends first, keeps
short (failed) episodes from being over-represented and makes runs paired: the same seed
gives every policy the same dynamics samples and initial states in the same envs.
"""
from __future__ import annotations

from typing import Callable

import torch

from envs.base import BatchedTask
from envs.contract import ObsDict


@torch.no_grad()
def run_episodes(env: BatchedTask, act: Callable[[ObsDict], torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per-env records of each env's first episode, plus its dynamics parameters.

    Returns tensors of length ``num_envs``: ``return``, ``length``, ``terminated``, the
    task's episode metrics, ``params`` (num_envs, P) as sampled at the reset, and
    ``params_end``, the parameters in effect at the episode's last step: with mid-episode
    resampling, the dynamics the episode ended (or failed) under.
    """
    obs = env.reset()
    params = torch.from_numpy(env.params.copy())
    params_end = params.clone()
    n = env.num_envs
    records: dict[str, torch.Tensor] = {}
    finished = torch.zeros(n, dtype=torch.bool)
    for _ in range(env.max_episode_length):
        acting = torch.from_numpy(env.params.copy())  # a reset at this step replaces them
        obs, _, done, info = env.step(act(obs).float())
        new = done & ~finished
        params_end[new] = acting[new]
        if new.any():
            ended = torch.nonzero(done).squeeze(1)
            pick = new[ended]
            for k, v in info["episode"].items():
                if k not in records:
                    records[k] = torch.zeros(n, dtype=v.dtype)
                records[k][ended[pick]] = v[pick]
            finished |= new
        if finished.all():
            break
    if not finished.all():
        raise RuntimeError("some episodes did not end within max_episode_length steps")
    records["params"], records["params_end"] = params, params_end
    return records
