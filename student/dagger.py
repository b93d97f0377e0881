"""DAgger: the student acts (mixed with the teacher by a decaying beta), the frozen
teacher labels every visited state with its mean action, the student regresses it."""
from __future__ import annotations

import copy

import torch

from student.policy import DeployablePolicy
from teacher.actor_critic import ActorCritic
from teacher.networks import history_encoder, mlp


class DaggerMethod:
    name = "dagger"
    label_key = "teacher_action"  # the dataset field it regresses (offline training)

    def __init__(self, cfg, teacher: ActorCritic, spec):
        self.teacher = teacher
        self.label_dim = spec.num_actions
        self.arch = {
            "latent": "history",
            "encoder": cfg.encoder,
            "encoder_hidden": list(cfg.encoder_hidden),
            "latent_dim": cfg.latent_dim,
            "actor_hidden": list(cfg.actor_hidden),
        }
        enc = history_encoder(cfg.encoder, spec.history_len, spec.obs_dim, cfg.encoder_hidden, cfg.latent_dim)
        actor = mlp(spec.obs_dim + cfg.latent_dim, cfg.actor_hidden, spec.num_actions)
        # the teacher's (frozen) input statistics: the student sees the same scaled inputs
        self.policy = DeployablePolicy(copy.deepcopy(teacher.obs_norm), enc, actor)
        self.parameters = list(enc.parameters()) + list(actor.parameters())

    def label(self, obs: dict) -> torch.Tensor:
        return self.teacher.action_mean(obs).clamp(-1.0, 1.0)

    def predict(self, hist: torch.Tensor) -> torch.Tensor:
        return self.policy.raw(hist)

    def act(self, obs: dict, label: torch.Tensor, beta: float, generator: torch.Generator) -> torch.Tensor:
        student = self.policy(obs["proprio_hist"])
        if beta <= 0.0:
            return student
        use_teacher = (torch.rand(student.shape[0], 1, generator=generator) < beta).to(student.device)
        return torch.where(use_teacher, label, student)
