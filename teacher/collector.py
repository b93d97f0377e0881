"""Rollout collection, in step with the learner or overlapped with its update.

``collect`` runs ``horizon`` steps of every env with a policy and fills a RolloutStorage.

``Collector`` hands the training loop one rollout per iteration (``take``) and is told
where the envs stand afterwards (``launch``):

- ``overlap=False``: ``take`` collects with the current weights, then and there: the
  classic on-policy loop.
- ``overlap=True``: ``launch`` copies the current weights into a behavior policy and
  starts the next rollout in a background thread, so the envs step (MuJoCo's batch
  stepping and torch's kernels release the GIL) while the learner updates on the rollout
  before. That rollout was collected by the weights from before the last update: one
  update stale. The training loop then treats it as off-policy data for one step: the
  PPO ratio and its clipping are taken against the stored behavior log-probabilities
  (an exact importance weight, the trust region anchored at the policy that acted), while
  the values used by GAE and the KL that drives the adaptive learning rate and PPO-KL's
  beta are re-evaluated by the current weights (teacher/train.py).

With overlap two storages alternate, so the learner reads one while the collector fills the other;
the stale one is re-anchored by ``RolloutStorage.reanchor`` before the update.

The envs and the acting policy live on the CPU: a CPU copy of the learner's weights acts,
refreshed from the learner before every rollout (the same code whether the learner's
``device`` is the CPU or a GPU), and ``take`` hands the rollout over on the learner's device.
"""
from __future__ import annotations

import copy
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import torch

from teacher.actor_critic import ActorCritic
from teacher.storage import RolloutStorage


@dataclass
class Rollout:
    storage: RolloutStorage
    obs: dict  # the observation after the last step (a copy: the envs may step on)
    ended: dict  # the metrics of the episodes that finished in it, one list per key
    nan_resets: int
    resampled: int  # running envs that drew new dynamics mid-episode (task.resample_prob)
    seconds: float  # wall-clock of the collection itself


@torch.no_grad()
def collect(env, policy: ActorCritic, storage: RolloutStorage, obs: dict, noise_gen: torch.Generator,
            metric_keys) -> Rollout:
    t0 = time.perf_counter()
    storage.clear()
    ended = {k: [] for k in metric_keys}
    nan_resets = resampled = 0
    for _ in range(storage.horizon):
        if policy.latent_noise > 0:  # drawn here and stored, so the update sees it too
            noise = torch.randn(env.num_envs, policy.latent_dim, generator=noise_gen)
            obs = {**obs, "latent_noise": noise * policy.latent_noise}
        mean = policy.action_mean(obs)
        dist = policy.distribution(mean)
        actions = dist.sample()
        values = policy.value(obs)
        next_obs, rewards, dones, info = env.step(actions)
        storage.add(obs, actions, dist.log_prob(actions).sum(-1), values, mean, dist.stddev,
                    rewards, dones, info["time_outs"])
        nan_resets += int(info["nan_resets"])
        resampled += int(info["resampled"])
        for k, episode_values in ended.items():
            episode_values.extend(info["episode"][k].tolist())
        obs = next_obs
    obs = {k: v.clone() for k, v in obs.items()}
    return Rollout(storage, obs, ended, nan_resets, resampled, time.perf_counter() - t0)


class Collector:
    def __init__(self, env, policy: ActorCritic, horizon: int, obs_shapes: dict[str, tuple[int, ...]],
                 noise_gen: torch.Generator, metric_keys, overlap: bool, device: torch.device = torch.device("cpu")):
        self.env, self.policy, self.device = env, policy, torch.device(device)
        self.storages = tuple(RolloutStorage(horizon, env.num_envs, obs_shapes, env.num_actions)
                              for _ in range(2 if overlap else 1))
        self.noise_gen, self.metric_keys, self.overlap = noise_gen, tuple(metric_keys), overlap
        self.count = 0  # rollouts launched, picks the storage
        self.obs: dict | None = None
        self.pending: Future | None = None
        # the weights that act: a CPU copy of the learner's, refreshed before every rollout (overlap:
        # the learner moves on while the envs step; a GPU learner: the envs read CPU tensors)
        self.behavior = copy.deepcopy(policy).cpu().requires_grad_(False)
        if overlap:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collector")

    def launch(self, obs: dict) -> None:
        """The envs stand at ``obs``; with overlap, start the next rollout now with the current weights."""
        storage = self.storages[self.count % len(self.storages)]
        self.count += 1
        obs = {k: v.cpu() for k, v in obs.items()}  # the learner's copy, when it lives on another device
        if not self.overlap:
            self.obs = obs
            return
        self.behavior.load_state_dict(self.policy.state_dict())
        self.pending = self.pool.submit(collect, self.env, self.behavior, storage, obs, self.noise_gen,
                                        self.metric_keys)

    def take(self) -> Rollout:
        """The next rollout, on the learner's device."""
        if self.overlap:
            rollout = self.pending.result()
        else:
            self.behavior.load_state_dict(self.policy.state_dict())
            rollout = collect(self.env, self.behavior, self.storages[(self.count - 1) % len(self.storages)], self.obs,
                              self.noise_gen, self.metric_keys)
        return Rollout(rollout.storage.to(self.device), {k: v.to(self.device) for k, v in rollout.obs.items()},
                       rollout.ended, rollout.nan_resets, rollout.resampled, rollout.seconds)

    def close(self) -> None:
        if self.overlap:
            if self.pending is not None:
                self.pending.result()  # let the last rollout finish before the envs go away
            self.pool.shutdown()
