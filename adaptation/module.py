"""HORA / RMA adaptation module: a network over the proprioceptive history predicts the
teacher's latent z; the teacher's base actor, frozen, acts on (obs, z_hat).

Training is on-policy, as in both papers: the deployable policy itself (driven by z_hat)
visits the states, the teacher's z at those states is the regression target.
"""
from __future__ import annotations

import copy

import torch

from student.policy import DeployablePolicy, TanhLatent
from teacher.actor_critic import ActorCritic
from teacher.networks import hidden_widths, history_encoder


class AdaptMethod:
    name = "adapt"
    label_key = "teacher_latent"  # the dataset field it regresses (offline training)

    def __init__(self, cfg, teacher: ActorCritic, spec):
        if teacher.actor_input != "privileged":
            raise ValueError("method=adapt needs a teacher with policy.actor_input=privileged (a latent z to regress)")
        self.teacher = teacher
        self.label_dim = teacher.latent_dim
        z_dim = teacher.latent_dim
        self.arch = {
            "latent": "tanh_history",
            "encoder": cfg.encoder,
            "encoder_hidden": list(cfg.encoder_hidden),
            "latent_dim": z_dim,
            "actor_hidden": hidden_widths(teacher.actor),
        }
        self.module = TanhLatent(history_encoder(cfg.encoder, spec.history_len, spec.obs_dim, cfg.encoder_hidden, z_dim))
        base_actor = copy.deepcopy(teacher.actor).requires_grad_(False)
        self.policy = DeployablePolicy(copy.deepcopy(teacher.obs_norm), self.module, base_actor)
        self.parameters = list(self.module.parameters())

    def label(self, obs: dict) -> torch.Tensor:
        return self.teacher.latent(obs["priv_info"])

    def predict(self, hist: torch.Tensor) -> torch.Tensor:
        return self.module(self.policy.obs_norm(hist))

    def act(self, obs: dict, label: torch.Tensor, beta: float, generator: torch.Generator) -> torch.Tensor:
        return self.policy(obs["proprio_hist"])  # driven by z_hat: on-policy
