"""Per-episode records -> summary metrics with 95% confidence intervals."""
from __future__ import annotations

import math

import torch


def ci95(values: torch.Tensor) -> float:
    """Half-width of the normal-approximation 95% interval of the mean."""
    n = values.numel()
    return float("nan") if n < 2 else 1.96 * values.float().std().item() / math.sqrt(n)


def summarize(records: dict[str, torch.Tensor], control_dt: float, metric_names: tuple[str, ...]) -> dict:
    ret = records["return"].float()
    failed = records["terminated"].bool()
    length_s = records["length"].float() * control_dt
    out = {
        "return_mean": ret.mean().item(),
        "return_ci95": ci95(ret),
        "success_rate": 1.0 - failed.float().mean().item(),
        "success_ci95": ci95((~failed).float()),
        "time_to_failure_s": length_s[failed].mean().item() if failed.any() else None,
        "episodes": int(ret.numel()),
    }
    for name in metric_names:
        out[f"{name}_mean"] = records[name].float().mean().item()
    return out


def combine_seeds(per_run: list[dict]) -> dict:
    """Across training seeds: the mean of run means and a 95% interval over runs."""
    means = torch.tensor([r["return_mean"] for r in per_run])
    return {"seeds": len(per_run), "seed_return_mean": means.mean().item(), "seed_return_ci95": ci95(means)}
