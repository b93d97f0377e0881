"""Where policies fail: per randomized parameter, the episodes below and above its median.

Read from ``episodes.h5`` (one group per split and policy run, with ``params_end`` (or
``params``), ``terminated`` and ``return`` per episode). The parameters are those in effect
when each episode ended: with mid-episode resampling, the dynamics it failed under, not the
ones it started with (files without ``params_end`` give the ones at the reset). Runs of the
same policy (seeds) are pooled. A parameter that does not vary within a split (e.g. every
parameter at ``nominal``) is left out. For integer parameters (``action_delay``) the low
half is the values below the median and the high half the rest. Where the task has a
tracking criterion (``tracking``: metric, limit; Go2), the tracking success of each half is
given too: on Go2 a robot that stands still never falls, so where a policy stops tracking
tells more than where it falls.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np


def failure_breakdown(path: str | Path, tracking: tuple[str, float] | None = None) -> dict[str, dict[str, list[dict]]]:
    """{split: {policy: [{param, median, low/high: success, return, episodes (and tracking)}, ...]}}."""
    out: dict[str, dict[str, list[dict]]] = {}
    with h5py.File(path, "r") as f:
        for split in f:
            names = [str(n) for n in f[split].attrs["param_names"]]
            if not names:  # an external task declares no parameters to apprentice
                out[split] = {}
                continue
            pooled: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
            for group in f[split]:
                policy = group.rsplit("_", 1)[0]  # "<policy>_<k>": the k-th run of that policy
                g = f[split][group]
                pooled[policy]["params"].append(np.asarray(g["params_end"] if "params_end" in g else g["params"]))
                for key in ("terminated", "return", *(tracking[:1] if tracking else ())):
                    pooled[policy][key].append(np.asarray(g[key]))
            out[split] = {}
            for policy, cols in pooled.items():
                params = np.concatenate(cols["params"]).reshape(-1, len(names))
                success = 1.0 - np.concatenate(cols["terminated"]).astype(float)
                ret = np.concatenate(cols["return"]).astype(float)
                stats = {"success": success, "return": ret}
                if tracking:  # did not fail, and the episode's mean error within the limit
                    stats["tracking"] = success * (np.concatenate(cols[tracking[0]]) <= tracking[1])
                rows = []
                for j, name in enumerate(names):
                    v = params[:, j]
                    if v.min() == v.max():
                        continue
                    median = float(np.median(v))
                    low = v < median if np.all(v == np.round(v)) else v <= median
                    if low.all() or not low.any():
                        low = v <= median
                    rows.append({"param": name, "median": median,
                                 **{f"{half}_{k}": float(x[m].mean()) for half, m in (("low", low), ("high", ~low))
                                    for k, x in stats.items()},
                                 "low_episodes": int(low.sum()), "high_episodes": int((~low).sum())})
                out[split][policy] = rows
    return out


def breakdown_markdown(breakdown: dict, order) -> list[str]:
    """Per split: success rate (and, where the task has one, tracking success) in the low /
    high half of each parameter, per policy."""
    lines = []
    for split, per_policy in breakdown.items():
        policies = sorted(per_policy, key=order)
        params = [r["param"] for r in per_policy[policies[0]]] if policies else []
        if not params:
            continue
        tables = [("success", "Failures by parameter", "Success rate")]
        if "low_tracking" in per_policy[policies[0]][0]:
            tables.append(("tracking", "Tracking by parameter", "Tracking success"))
        for key, title, what in tables:
            lines += [f"### {title}: {split}", "",
                      f"{what} on the episodes below / above each parameter's median (pooled over seeds), "
                      "the parameters taken as they were when the episode ended.", "",
                      "| parameter | median | " + " | ".join(policies) + " |",
                      "|---|---|" + "---|" * len(policies)]
            for i, param in enumerate(params):
                rows = [per_policy[p][i] for p in policies]
                cells = [f"{r[f'low_{key}']:.2f} / {r[f'high_{key}']:.2f}" for r in rows]
                lines.append(f"| {param} | {rows[0]['median']:.3g} | " + " | ".join(cells) + " |")
            lines.append("")
    return lines
