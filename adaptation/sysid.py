"""SysID baseline (RMA's "SysID"): a network over the proprioceptive history regresses the
explicit privileged inputs (the normalized dynamics parameters and the simulator-only
state, i.e. ``priv_info``) instead of the teacher's latent z. The estimate goes through
the teacher's own frozen privileged encoder and base actor, so no extra teacher is needed:
the teacher was already trained with the parameters as its input.

Against the adaptation module this asks for more (every parameter, including ones the
policy does not care about) and lets errors in irrelevant parameters move z; RMA found it
worse for that reason. Training is on-policy like the adaptation module's.
"""
from __future__ import annotations

import copy

import torch

from student.policy import DeployablePolicy, SysIdLatent
from teacher.actor_critic import ActorCritic
from teacher.networks import hidden_widths, history_encoder


class SysIdMethod:
    name = "sysid"
    label_key = "priv_info"  # the dataset field it regresses (offline training)

    def __init__(self, cfg, teacher: ActorCritic, spec):
        if teacher.actor_input != "privileged":
            raise ValueError("method=sysid needs a teacher with policy.actor_input=privileged (priv_info as input)")
        self.teacher = teacher
        self.label_dim = spec.priv_dim
        self.arch = {
            "latent": "sysid",
            "encoder": cfg.encoder,
            "encoder_hidden": list(cfg.encoder_hidden),
            "priv_dim": spec.priv_dim,
            "priv_encoder_hidden": hidden_widths(teacher.priv_encoder.net),
            "latent_dim": teacher.latent_dim,
            "actor_hidden": hidden_widths(teacher.actor),
        }
        self.estimator = history_encoder(cfg.encoder, spec.history_len, spec.obs_dim, cfg.encoder_hidden, spec.priv_dim)
        latent = SysIdLatent(self.estimator, copy.deepcopy(teacher.priv_encoder).requires_grad_(False))
        base_actor = copy.deepcopy(teacher.actor).requires_grad_(False)
        self.policy = DeployablePolicy(copy.deepcopy(teacher.obs_norm), latent, base_actor)
        self.parameters = list(self.estimator.parameters())

    def label(self, obs: dict) -> torch.Tensor:
        return obs["priv_info"]

    def predict(self, hist: torch.Tensor) -> torch.Tensor:
        return self.estimator(self.policy.obs_norm(hist))

    def act(self, obs: dict, label: torch.Tensor, beta: float, generator: torch.Generator) -> torch.Tensor:
        return self.policy(obs["proprio_hist"])  # driven by the estimated parameters: on-policy
