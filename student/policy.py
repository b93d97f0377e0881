"""The deployable policy: proprioceptive history in, action out. Nothing else.

``DeployablePolicy.forward`` takes one tensor, ``proprio_hist`` (N, H, D), whose last row
is the current ``obs``. It has no argument through which ``priv_info`` or ``critic``
could arrive: the student is structurally unable to read privileged inputs.

Every deployable policy of the project is this class with a different ``latent`` module:
- DAgger student: a history encoder (mlp / tcn / gru) trained on teacher labels;
- adaptation-module student (RMA / HORA): an encoder regressing the teacher's z, with the
  teacher's frozen base actor;
- SysID baseline: an encoder regressing the explicit ``priv_info``, then the teacher's
  frozen privileged encoder and base actor;
- NoAdapt baseline: the teacher's base actor with z fixed to its training mean;
- DR baseline: the history actor trained by PPO.
"""
from __future__ import annotations

import torch
from torch import nn

from teacher.normalizer import RunningNorm


class ConstantLatent(nn.Module):
    """A fixed latent (NoAdapt): the same z whatever the history."""

    def __init__(self, z: torch.Tensor):
        super().__init__()
        self.register_buffer("z", z.detach().clone())

    def forward(self, hist: torch.Tensor) -> torch.Tensor:
        return self.z.expand(hist.shape[0], -1)


class TanhLatent(nn.Module):
    """An encoder whose output is squashed like the teacher's z = tanh(...)."""

    def __init__(self, encoder: nn.Module):
        super().__init__()
        self.encoder = encoder

    def forward(self, hist: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.encoder(hist))


class SysIdLatent(nn.Module):
    """z from estimated privileged inputs: the teacher's encoder over an estimator's output."""

    def __init__(self, estimator: nn.Module, priv_encoder: nn.Module):
        super().__init__()
        self.estimator = estimator
        self.priv_encoder = priv_encoder

    def forward(self, hist: torch.Tensor) -> torch.Tensor:
        return self.priv_encoder(self.estimator(hist))


class DeployablePolicy(nn.Module):
    def __init__(self, obs_norm: RunningNorm, latent: nn.Module, actor: nn.Module):
        super().__init__()
        self.obs_norm = obs_norm
        self.latent = latent
        self.actor = actor

    def raw(self, proprio_hist: torch.Tensor) -> torch.Tensor:
        """The unclipped action (for training).

        A non-finite input (a failed sensor reading) enters as the training mean of that
        input, i.e. as 0 after normalization: part of the graph, so the export does it too.
        """
        hist = torch.where(torch.isfinite(proprio_hist), proprio_hist, self.obs_norm.mean)
        h = self.obs_norm(hist)
        return self.actor(torch.cat([h[:, -1], self.latent(h)], dim=-1))

    def forward(self, proprio_hist: torch.Tensor) -> torch.Tensor:
        """The action the robot applies, in [-1, 1] (the task scales it); never non-finite:
        should the network still produce NaN/inf, that action is 0 (the task's neutral command)."""
        a = self.raw(proprio_hist)
        return torch.where(torch.isfinite(a), a, torch.zeros_like(a)).clamp(-1.0, 1.0)


def history_actor_as_deployable(policy) -> DeployablePolicy:
    """A PPO history actor (the DR baseline, a fine-tuned DAgger student) as a DeployablePolicy:
    copies of the same modules, read from ``proprio_hist`` only."""
    import copy

    return DeployablePolicy(copy.deepcopy(policy.obs_norm), copy.deepcopy(policy.history_encoder),
                            copy.deepcopy(policy.actor)).eval()


def build_deployable(arch: dict, spec) -> DeployablePolicy:
    """Rebuild a deployable policy from the ``arch`` record its checkpoint carries."""
    from teacher.networks import PrivEncoder, history_encoder, mlp

    obs_norm = RunningNorm(spec.obs_dim)
    kind = arch["latent"]
    if kind not in ("constant", "history", "tanh_history", "sysid"):
        raise ValueError(f"unknown deployable latent kind {kind!r}")
    if kind == "constant":
        latent: nn.Module = ConstantLatent(torch.zeros(arch["latent_dim"]))
    elif kind == "sysid":
        estimator = history_encoder(arch["encoder"], spec.history_len, spec.obs_dim, arch["encoder_hidden"],
                                    arch["priv_dim"])
        latent = SysIdLatent(estimator, PrivEncoder(arch["priv_dim"], arch["priv_encoder_hidden"], arch["latent_dim"]))
    else:
        enc = history_encoder(arch["encoder"], spec.history_len, spec.obs_dim, arch["encoder_hidden"], arch["latent_dim"])
        latent = TanhLatent(enc) if kind == "tanh_history" else enc
    actor = mlp(spec.obs_dim + arch["latent_dim"], arch["actor_hidden"], spec.num_actions)
    return DeployablePolicy(obs_norm, latent, actor)
