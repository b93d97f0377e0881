"""Network pieces: MLPs, the privileged encoder, and encoders of a proprioceptive history.

The history encoders serve the DR baseline's actor (teacher/actor_critic.py), the DAgger
student and the adaptation module: one implementation of each architecture.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int | None) -> nn.Sequential:
    """Linear-ELU stack; a final linear layer to ``out_dim`` unless it is None.

    The ELUs work in place on their linear layer's output (which no backward needs): their
    backward then reads the result, ``grad * (out + 1)`` below zero, instead of computing
    ``exp`` of the input again; the forward is the same. With fused Adam, the PPO update is
    1.09x (cartpole) to 1.14x (Go2) faster on one CPU thread (benchmarks/update_roofline.py)."""
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ELU(inplace=True)]
        d = h
    if out_dim is not None:
        layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)


def hidden_widths(net: nn.Sequential) -> list[int]:
    """The ``hidden`` argument that rebuilds an ``mlp`` with a final linear layer."""
    return [m.out_features for m in net if isinstance(m, nn.Linear)][:-1]


def mlp_out_dim(in_dim: int, hidden: Sequence[int], out_dim: int | None) -> int:
    return out_dim if out_dim is not None else (hidden[-1] if hidden else in_dim)


class PrivEncoder(nn.Module):
    """z = tanh(MLP(priv_info)): the only way privileged information reaches the actor."""

    def __init__(self, priv_dim: int, hidden: Sequence[int], latent_dim: int):
        super().__init__()
        self.net = mlp(priv_dim, hidden, latent_dim)

    def forward(self, priv: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(priv))


class MLPHistoryEncoder(nn.Module):
    """MLP over the flattened history (N, H, D) -> (N, out_dim)."""

    def __init__(self, history_len: int, obs_dim: int, hidden: Sequence[int], out_dim: int):
        super().__init__()
        self.net = mlp(history_len * obs_dim, hidden, out_dim)

    def forward(self, hist: torch.Tensor) -> torch.Tensor:
        return self.net(hist.flatten(1))


class TCNHistoryEncoder(nn.Module):
    """HORA-style temporal convolution: per-step embedding, strided 1-D convs, then a linear."""

    def __init__(self, history_len: int, obs_dim: int, hidden: Sequence[int], out_dim: int):
        super().__init__()
        ch = hidden[0] if hidden else 32
        self.embed = nn.Sequential(nn.Linear(obs_dim, ch), nn.ELU())
        self.conv = nn.Sequential(
            nn.Conv1d(ch, ch, kernel_size=5, stride=2), nn.ELU(), nn.Conv1d(ch, ch, kernel_size=3, stride=2), nn.ELU()
        )
        length = history_len
        for k, s in ((5, 2), (3, 2)):
            length = (length - k) // s + 1
        if length < 1:
            raise ValueError(f"the tcn encoder needs a history of at least 9 steps, got {history_len}")
        self.head = nn.Linear(ch * length, out_dim)

    def forward(self, hist: torch.Tensor) -> torch.Tensor:
        x = self.embed(hist).transpose(1, 2)  # (N, C, H)
        return self.head(self.conv(x).flatten(1))


class GRUHistoryEncoder(nn.Module):
    """A GRU run over the history window; its last hidden state, projected."""

    def __init__(self, history_len: int, obs_dim: int, hidden: Sequence[int], out_dim: int):
        super().__init__()
        width = hidden[0] if hidden else 64
        self.gru = nn.GRU(obs_dim, width, batch_first=True)
        self.head = nn.Linear(width, out_dim)

    def forward(self, hist: torch.Tensor) -> torch.Tensor:
        _, h = self.gru(hist)
        return self.head(h[-1])


HISTORY_ENCODERS = {"mlp": MLPHistoryEncoder, "tcn": TCNHistoryEncoder, "gru": GRUHistoryEncoder}


def history_encoder(kind: str, history_len: int, obs_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Module:
    if kind not in HISTORY_ENCODERS:
        raise ValueError(f"unknown history encoder {kind!r}; choose one of {sorted(HISTORY_ENCODERS)}")
    return HISTORY_ENCODERS[kind](history_len, obs_dim, list(hidden), out_dim)
