"""Running mean / std normalization of inputs, kept in buffers so checkpoints carry it."""
from __future__ import annotations

import torch
from torch import nn


class RunningNorm(nn.Module):
    """Normalizes the last dimension with running statistics (Chan et al. parallel merge).

    Statistics update only in ``update()``, called by the trainer on rollout data; the
    forward pass never changes them, so a frozen copy is exactly reproducible.
    """

    def __init__(self, dim: int, eps: float = 1e-8, clip: float = 10.0):
        super().__init__()
        self.eps, self.clip = eps, clip
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("var", torch.ones(dim))
        self.register_buffer("count", torch.tensor(0.0))

    @torch.no_grad()
    def update(self, x: torch.Tensor, group=None) -> None:
        """Merge the rows of ``x`` (with ``group``: every rank's rows, see runstore.distributed)."""
        if group is not None and group.active:
            self.merge(*group.moments(x))
            return
        x = x.reshape(-1, x.shape[-1])
        if x.shape[0]:
            self.merge(x.shape[0], x.mean(0), x.var(0, unbiased=False))

    @torch.no_grad()
    def merge(self, n: int, mean: torch.Tensor, var: torch.Tensor) -> None:
        """Merge a batch given by its count, mean and population variance."""
        if n == 0:
            return
        total = self.count + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.var = (self.var * self.count + var * n + delta**2 * self.count * n / total) / total
        self.count = total

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ((x - self.mean) / torch.sqrt(self.var + self.eps)).clamp(-self.clip, self.clip)
