"""Actor-critic for PPO, with two actor inputs chosen by config.

- ``privileged`` (the teacher): the actor reads the deployable ``obs`` and a latent
  ``z = tanh(encoder(priv_info))``; privileged information reaches the actor only through
  ``z``, so stage two can swap ``z`` for an estimate from proprioception and keep the
  actor frozen (RMA / HORA). With ``latent_noise`` > 0, training adds Gaussian noise of
  that std to ``z`` (drawn by the trainer, stored with the rollout as ``latent_noise`` so
  the update sees the same inputs): the base policy learns to tolerate the estimation
  error a student's ``z_hat`` will have. Evaluation passes no noise.
- ``history`` (the DR baseline, "Robust" in RMA): the actor reads ``obs`` and features of
  ``proprio_hist``; nothing privileged.
- ``obs`` (plain PPO, for tasks without privileged information such as ``task=gymnasium``):
  the actor reads ``obs`` alone; ``latent_dim`` is unused.

The critic is asymmetric in both: it reads ``obs``, ``priv_info`` and ``critic``.
Actions are Gaussian with a state-independent log-std (learned, or set by a schedule).
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.distributions import Normal

from envs.contract import ObsSpec
from teacher.networks import PrivEncoder, history_encoder, mlp
from teacher.normalizer import RunningNorm

ACTOR_INPUTS = ("privileged", "history", "obs")


class ActorCritic(nn.Module):
    def __init__(self, spec: ObsSpec, cfg):
        super().__init__()
        if cfg.actor_input not in ACTOR_INPUTS:
            raise ValueError(f"unknown policy.actor_input {cfg.actor_input!r}; choose one of {ACTOR_INPUTS}")
        self.spec = spec
        self.actor_input = cfg.actor_input
        self.obs_norm = RunningNorm(spec.obs_dim)
        self.critic_norm = RunningNorm(spec.obs_dim + spec.priv_dim + spec.critic_dim)
        if self.actor_input == "privileged":
            self.priv_encoder = PrivEncoder(spec.priv_dim, cfg.priv_encoder_hidden, cfg.latent_dim)
        elif self.actor_input == "history":
            self.history_encoder = history_encoder(
                cfg.history_encoder, spec.history_len, spec.obs_dim, cfg.history_hidden, cfg.latent_dim
            )
        self.latent_dim = 0 if self.actor_input == "obs" else cfg.latent_dim
        self.latent_noise = cfg.latent_noise if self.actor_input == "privileged" else 0.0
        # False: the actor's obs normalizer stays the identity (mean 0, var 1): it never updates
        self.normalize_obs = bool(cfg.get("normalize_obs", True))
        self.actor = mlp(spec.obs_dim + self.latent_dim, cfg.actor_hidden, spec.num_actions)
        self.critic = mlp(spec.obs_dim + spec.priv_dim + spec.critic_dim, cfg.critic_hidden, 1)
        self.log_std = nn.Parameter(torch.full((spec.num_actions,), math.log(cfg.init_std)))
        with torch.no_grad():  # small initial actions (gain 0.01): the policy starts near zero force
            self.actor[-1].weight.mul_(float(cfg.get("actor_out_gain", 0.01)))  # runs made before the key: 0.01
            self.actor[-1].bias.zero_()

    @property
    def input_keys(self) -> tuple[str, ...]:
        """The obs-dict keys this policy reads (the rollout stores only these)."""
        if self.actor_input == "history":
            return ("obs", "proprio_hist", "priv_info", "critic")
        if self.latent_noise > 0:
            return ("obs", "priv_info", "critic", "latent_noise")
        return ("obs", "priv_info", "critic")

    # ---- actor ----------------------------------------------------------------------
    def latent(self, priv_info: torch.Tensor) -> torch.Tensor:
        """The teacher's z (privileged actor only)."""
        return self.priv_encoder(priv_info)

    def actor_from_latent(self, obs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Mean action from the raw ``obs`` and a latent: the base policy pi(obs, z)."""
        return self.actor(torch.cat([self.obs_norm(obs), z], dim=-1))

    def features(self, obs: dict) -> torch.Tensor:
        if self.actor_input == "privileged":
            z = self.latent(obs["priv_info"])
            return z + obs["latent_noise"] if "latent_noise" in obs else z  # noise only in training
        if self.actor_input == "history":
            return self.history_encoder(self.obs_norm(obs["proprio_hist"]))
        return obs["obs"].new_zeros(obs["obs"].shape[0], 0)

    def action_mean(self, obs: dict) -> torch.Tensor:
        return self.actor_from_latent(obs["obs"], self.features(obs))

    def distribution(self, mean: torch.Tensor) -> Normal:
        return Normal(mean, self.log_std.exp().expand_as(mean))

    # ---- critic ---------------------------------------------------------------------
    def value(self, obs: dict) -> torch.Tensor:
        x = torch.cat([obs["obs"], obs["priv_info"], obs["critic"]], dim=-1)
        return self.critic(self.critic_norm(x)).squeeze(-1)

    @torch.no_grad()
    def update_normalizers(self, obs: dict, group=None) -> None:
        """Merge a rollout into the input statistics (with ``group``: every rank's rollout)."""
        if self.normalize_obs:
            self.obs_norm.update(obs["obs"], group)
        self.critic_norm.update(torch.cat([obs["obs"], obs["priv_info"], obs["critic"]], dim=-1), group)
