"""Generalized advantage estimation over a rollout of shape (T, N)."""
from __future__ import annotations

import torch


def bootstrap_time_outs(rewards: torch.Tensor, values: torch.Tensor, time_outs: torch.Tensor, gamma: float) -> torch.Tensor:
    """Add gamma * V to the reward of truncated steps: a time-out is not a failure.

    The env resets a done env before the next observation exists, so the value of the
    state the action was taken from stands in for the value of the truncated successor
    (rsl_rl's approximation). Terminations get nothing.
    """
    return rewards + gamma * values * time_outs.float()


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_values: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(advantages, returns), both (T, N).

    ``dones[t]`` ends the episode after step t (termination or time-out; time-outs are
    bootstrapped through ``bootstrap_time_outs`` beforehand). ``last_values`` is V of the
    observation after the last step.
    """
    T = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    next_adv = torch.zeros_like(last_values)
    next_value = last_values
    for t in reversed(range(T)):
        not_done = 1.0 - dones[t].float()
        delta = rewards[t] + gamma * next_value * not_done - values[t]
        next_adv = delta + gamma * lam * not_done * next_adv
        adv[t] = next_adv
        next_value = values[t]
    return adv, adv + values
