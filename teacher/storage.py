"""Rollout storage: one horizon of transitions from all envs, (T, N, ...)."""
from __future__ import annotations

import copy
from typing import Iterator

import torch


class RolloutStorage:
    def __init__(self, horizon: int, num_envs: int, obs_shapes: dict[str, tuple[int, ...]], num_actions: int):
        T, N = horizon, num_envs
        self.horizon, self.num_envs = T, N
        self.obs = {k: torch.zeros(T, N, *shape) for k, shape in obs_shapes.items()}
        self.actions = torch.zeros(T, N, num_actions)
        self.log_probs = torch.zeros(T, N)
        self.values = torch.zeros(T, N)
        self.mu = torch.zeros(T, N, num_actions)
        self.sigma = torch.zeros(T, N, num_actions)
        self.rewards = torch.zeros(T, N)
        self.dones = torch.zeros(T, N, dtype=torch.bool)
        self.time_outs = torch.zeros(T, N, dtype=torch.bool)
        self.advantages = torch.zeros(T, N)
        self.returns = torch.zeros(T, N)
        # set when the data was acted by an older policy than the one whose log-probs are in
        # ``log_probs`` (overlapped collection, decoupled PPO); None: the same policy
        self.behavior_log_probs: torch.Tensor | None = None
        self.step = 0

    def add(self, obs: dict, actions, log_probs, values, mu, sigma, rewards, dones, time_outs) -> None:
        t = self.step
        if t >= self.horizon:
            raise RuntimeError("rollout storage is full: call clear() after each update")
        for k, buf in self.obs.items():
            buf[t].copy_(obs[k])
        self.actions[t] = actions
        self.log_probs[t] = log_probs
        self.values[t] = values
        self.mu[t] = mu
        self.sigma[t] = sigma
        self.rewards[t] = rewards
        self.dones[t] = dones
        self.time_outs[t] = time_outs
        self.step += 1

    def to(self, device: torch.device) -> "RolloutStorage":
        """This rollout on the learner's ``device``: itself when it is there already, otherwise
        a copy (the collector keeps filling its own buffers on the CPU)."""
        if self.actions.device == torch.device(device):
            return self
        out = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, torch.Tensor):
                setattr(out, name, value.to(device))
        out.obs = {k: v.to(device) for k, v in self.obs.items()}
        return out

    def clear(self) -> None:
        self.step = 0
        self.behavior_log_probs = None

    @torch.no_grad()
    def reanchor(self, policy) -> None:
        """The data was acted by an older policy than ``policy`` (overlapped collection): keep the
        acting log-probs as ``behavior_log_probs`` and re-evaluate ``log_probs``, ``mu``/``sigma``
        (the KL anchor of the update) and ``values`` (GAE's) with ``policy``: decoupled PPO."""
        flat = {k: v.flatten(0, 1) for k, v in self.obs.items()}
        prox = policy.distribution(policy.action_mean(flat))
        self.behavior_log_probs = self.log_probs
        self.log_probs = prox.log_prob(self.actions.flatten(0, 1)).sum(-1).view_as(self.values)
        self.mu = prox.mean.view_as(self.mu)
        self.sigma = prox.stddev.reshape(self.mu.shape).clone()  # writable rows, not an expanded view
        self.values = policy.value(flat).view_as(self.values)

    def minibatches(self, num_minibatches: int, epochs: int, generator: torch.Generator) -> Iterator[dict]:
        """Shuffled minibatches over all T * N transitions, ``epochs`` passes."""
        total = self.horizon * self.num_envs
        size = total // num_minibatches
        flat = {
            "obs": {k: v.flatten(0, 1) for k, v in self.obs.items()},
            "actions": self.actions.flatten(0, 1),
            "log_probs": self.log_probs.flatten(),
            "values": self.values.flatten(),
            "mu": self.mu.flatten(0, 1),
            "sigma": self.sigma.flatten(0, 1),
            "advantages": self.advantages.flatten(),
            "returns": self.returns.flatten(),
        }
        if self.behavior_log_probs is not None:
            flat["behavior_log_probs"] = self.behavior_log_probs.flatten()
        for _ in range(epochs):
            perm = torch.randperm(total, generator=generator)
            for i in range(num_minibatches):
                idx = perm[i * size : (i + 1) * size]
                yield {
                    k: ({kk: vv[idx] for kk, vv in v.items()} if isinstance(v, dict) else v[idx])
                    for k, v in flat.items()
                }
