"""The batched-env contract every task implements and every stage reads.

A ``VecEnv`` holds ``num_envs`` simulations and speaks torch tensors (float32 unless
noted, on ``env.device``). It mirrors the Isaac Gym ``VecTask`` obs-dict convention, so
an Isaac Gym task can plug in through an adapter that returns the same keys.

``reset() -> ObsDict``
    Resets every env (resampling its dynamics) and returns the first observations.

``step(actions) -> (ObsDict, reward, done, info)``
    ``actions``: (N, num_actions) float32 in [-1, 1] (clipped; the task scales them).
    A wrong shape or dtype raises ``ValueError``. A row containing NaN/inf is replaced by
    zeros, that env is reset after the step, and it is counted in ``info["nan_actions"]``.
    ``reward``: (N,) float32. ``done``: (N,) bool, ``terminated | time_outs``.
    Done envs are reset automatically: the returned observation of a done env is the
    first observation of its next episode.

``info`` (all tensors are (N,) unless noted):
    ``time_outs`` (bool): the episode was truncated (episode length reached, or the
        simulation blew up); a learner bootstraps through these.
    ``terminated`` (bool): the episode ended by failure; no bootstrapping.
    ``nan_resets`` (int): how many envs were reset this step because the simulator blew
        up (non-finite or huge state) or their action was non-finite.
    ``nan_actions`` (int): how many of those had a non-finite action.
    ``resampled`` (int): how many running envs drew new dynamics mid-episode this step
        (``resample_prob``; 0 unless enabled). The state is kept; ``priv_info`` follows.
    ``episode`` (dict of 1-D tensors over the episodes that ended this step):
        ``return``, ``length``, ``terminated`` and the task's own metrics
        (``env.episode_metric_names``, ending with ``action_jerk``: the mean of
        |a_t - 2 a_t-1 + a_t-2| over the episode), each one value per finished episode.

``ObsDict`` keys:
    ``obs`` (N, D): the current proprioceptive observation: only what the robot's own
        sensors measure, with sensor noise, plus the previous action. Deployable.
    ``proprio_hist`` (N, H, D): the last H ``obs`` rows, oldest first; the last row is
        the current ``obs``. Rows from before the episode began are zero. Deployable.
    ``priv_info`` (N, P): privileged information, about [-1, 1] on the training ranges:
        the sampled dynamics parameters (normalized by their train range, so held-out
        values fall outside [-1, 1]) and simulator-only state such as true velocities.
        Never available on a robot.
    ``critic`` (N, C): extra noise-free state for an asymmetric critic. Never deployable.

Only ``obs`` and ``proprio_hist`` may reach a deployable policy (see ``DEPLOYABLE_KEYS``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypedDict

import torch

DEPLOYABLE_KEYS = ("obs", "proprio_hist")
PRIVILEGED_KEYS = ("priv_info", "critic")


class ObsDict(TypedDict):
    obs: torch.Tensor
    proprio_hist: torch.Tensor
    priv_info: torch.Tensor
    critic: torch.Tensor


@dataclass(frozen=True)
class ObsSpec:
    """Shapes of one task's observations: what a checkpoint must agree with."""

    obs_dim: int
    history_len: int
    priv_dim: int
    critic_dim: int
    num_actions: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class VecEnv(Protocol):
    num_envs: int
    num_actions: int
    max_episode_length: int
    device: torch.device
    spec: ObsSpec
    control_dt: float
    episode_metric_names: tuple[str, ...]
    param_names: tuple[str, ...]
    splits: tuple[str, ...]  # the named dynamics splits make_env(split=...) accepts

    def reset(self) -> ObsDict: ...

    def step(self, actions: torch.Tensor) -> tuple[ObsDict, torch.Tensor, torch.Tensor, dict]: ...
