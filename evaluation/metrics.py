"""Per-episode records -> summary metrics with 95% confidence intervals."""
from __future__ import annotations

import math

import torch


def ci95(values: torch.Tensor) -> float:
    """Half-width of the normal-approximation 95% interval of the mean."""
    n = values.numel()
    return float("nan") if n < 2 else 1.96 * values.float().std().item() / math.sqrt(n)


def summarize(records: dict[str, torch.Tensor], control_dt: float, metric_names: tuple[str, ...],
              max_episode_length: int | None = None, tracking: tuple[str, float] | None = None) -> dict:
    """Episode statistics; with ``max_episode_length``, also RMA's normalized time to fall
    (the mean over episodes of the fraction of the episode survived: 1 for a success); with
    ``tracking`` = (metric, limit), the task's tracking success rate: episodes that did not
    fail and whose mean ``metric`` is at most ``limit`` (``BatchedTask.tracking_success``)."""
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
    if tracking is not None:
        metric, limit = tracking
        tracked = ((~failed) & (records[metric].float() <= limit)).float()
        out["tracking_success_rate"] = tracked.mean().item()
        out["tracking_success_ci95"] = ci95(tracked)
    if max_episode_length:
        survived = torch.where(failed, records["length"].float() / max_episode_length, torch.ones_like(ret))
        out["time_to_fall_norm"] = survived.mean().item()
    for name in metric_names:
        out[f"{name}_mean"] = records[name].float().mean().item()
    return out


def pool_runs(per_run: list[dict]) -> dict:
    """One summary from several runs' summaries (training seeds, each over its own episodes).

    Means are means of the per-run means (None where no run has one); the 95% half-width
    of such a mean treats the runs as independent: sqrt(sum of squared half-widths) / k.
    Episode counts add up. Other fields are taken from the first run.
    """
    row = dict(per_run[0])
    k = len(per_run)
    if k == 1:
        return row
    for key, first in per_run[0].items():
        if key == "episodes":
            row[key] = sum(r[key] for r in per_run)
        elif key.endswith("_ci95"):
            row[key] = math.sqrt(sum(r[key] ** 2 for r in per_run)) / k
        elif first is None or isinstance(first, float):
            vals = [r[key] for r in per_run if r[key] is not None]
            row[key] = sum(vals) / len(vals) if vals else None
    return row


def combine_seeds(per_run: list[dict]) -> dict:
    """Across training seeds: the mean of run means and a 95% interval over runs."""
    means = torch.tensor([r["return_mean"] for r in per_run])
    return {"seeds": len(per_run), "seed_return_mean": means.mean().item(), "seed_return_ci95": ci95(means)}


def paired_difference(returns_a: list[torch.Tensor], returns_b: list[torch.Tensor]) -> dict:
    """Mean and 95% half-width of the per-episode return difference a - b.

    The evaluation is paired (episode j of every policy has the same dynamics sample and
    initial state), so the difference of each pair removes the spread that comes from the
    dynamics themselves. Runs pair up in order (seed i of a with seed i of b).
    """
    if len(returns_a) != len(returns_b):
        raise ValueError(f"cannot pair {len(returns_a)} runs with {len(returns_b)}: give both policies the same seeds")
    diff = torch.cat([a.float() - b.float() for a, b in zip(returns_a, returns_b)])
    return {"diff_mean": diff.mean().item(), "diff_ci95": ci95(diff), "pairs": int(diff.numel())}
