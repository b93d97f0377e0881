"""report.json, report.md (RMA-style tables, one per split) and sweep plots."""
from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from evaluation.breakdown import breakdown_markdown  # noqa: E402
from runstore.store import atomic_write_text  # noqa: E402

ORDER = ["oracle", "adapt", "adapt_tcn", "dagger", "dagger_ppo", "sysid", "dr", "robust", "noadapt"]


def _order(name: str) -> tuple:
    return (ORDER.index(name) if name in ORDER else len(ORDER), name)


def the_oracle(rows: list[dict]) -> dict | None:
    """The row the "/ oracle" column divides by: ``oracle``, or the one labelled oracle
    (``oracle_<label>``, a teacher run with a label) where there is no other; None otherwise."""
    named = [r for r in rows if r["policy"] == "oracle"] or [r for r in rows if r["policy"].startswith("oracle_")]
    return named[0] if len(named) == 1 else None


def fmt(v, digits=3) -> str:
    return "-" if v is None or v != v else f"{v:.{digits}g}" if abs(v) < 1000 else f"{v:.0f}"


def markdown(report: dict) -> str:
    lines = [f"# Evaluation on `{report['task']}`", ""]
    splits = sorted({r["split"] for r in report["rows"]}, key=lambda s: (s != "train", s != "heldout", s != "extreme", s))
    for split in splits:
        rows = sorted([r for r in report["rows"] if r["split"] == split], key=lambda r: _order(r["policy"]))
        oracle = the_oracle(rows)
        extra = [k for k in rows[0] if k.endswith("_mean") and k not in ("return_mean", "seed_return_mean")] if rows else []
        tracking = any("tracking_success_rate" in r for r in rows)  # a task with a tracking success (Go2)
        lines += [f"## Split: {split}", "",
                  "| policy | deployable | return (95% CI) | / oracle | success rate | "
                  + ("tracking success | " if tracking else "") + "time to failure (s) | "
                  "time to fall (norm.) | " + " | ".join(extra) + " | episodes | seeds |",
                  "|---|---|---|---|---|---|---|" + "---|" * (len(extra) + tracking) + "---|---|"]
        for r in rows:
            frac = r["return_mean"] / oracle["return_mean"] if oracle and oracle["return_mean"] else None
            seeds = f"{r['seeds']} ({fmt(r['seed_return_mean'])} ± {fmt(r['seed_return_ci95'])})" if r["seeds"] > 1 else "1"
            lines.append(
                f"| {r['policy']} | {'yes' if r['deployable'] else 'no (privileged)'} | "
                f"{fmt(r['return_mean'], 4)} ± {fmt(r['return_ci95'], 2)} | {fmt(frac)} | "
                f"{fmt(r['success_rate'])} | " + (f"{fmt(r.get('tracking_success_rate'))} | " if tracking else "")
                + f"{fmt(r['time_to_failure_s'])} | {fmt(r.get('time_to_fall_norm'))} | "
                + " | ".join(fmt(r[k]) for k in extra) + f" | {r['episodes']} | {seeds} |"
            )
        lines.append("")
        pairs = sorted([c for c in report.get("comparisons", []) if c["split"] == split],
                       key=lambda c: (_order(c["policy"]), _order(c["baseline"])))
        if pairs:
            lines += ["| policy | baseline | return difference (95% CI, paired) | above the baseline |",
                      "|---|---|---|---|"]
            for c in pairs:
                above = "yes" if c["diff_mean"] - c["diff_ci95"] > 0 else "no"
                lines.append(f"| {c['policy']} | {c['baseline']} | {fmt(c['diff_mean'], 4)} ± "
                             f"{fmt(c['diff_ci95'], 2)} | {above} |")
            lines.append("")
    lines += ["Returns are means over episodes (one per env, paired: the same seeds give every policy the same "
              "dynamics samples and initial states); ± is the 95% interval over episodes. With several training "
              "seeds per policy, 'seeds' gives the mean over seeds and its 95% interval. Paired differences are "
              "per-episode return differences on the same episodes (seed i of one policy against seed i of the "
              "other); 'above the baseline' means the whole interval is above zero."
              + (" Success rate: the episode did not fail (RMA's). Tracking success: it did not fail and its mean "
                 f"`{report['tracking_success'][0]}` was at most {report['tracking_success'][1]:g} (the task's "
                 "`tracking_success`)." if report.get("tracking_success") else ""), ""]
    lines += breakdown_markdown(report.get("breakdown", {}), _order)
    return "\n".join(lines)


def plot_sweeps(sweeps: dict, train_ranges: dict, out_dir: Path) -> list[Path]:
    paths = []
    for param, curves in sweeps.items():
        fig, ax = plt.subplots(figsize=(5, 3.4))
        lo, hi = train_ranges[param]
        ax.axvspan(lo, hi, color="0.85", label="train range")
        for policy in sorted(curves, key=_order):
            xs, ys, cis, _ = zip(*curves[policy])  # (value, mean return, 95% half-width, episodes)
            ax.errorbar(xs, ys, yerr=cis, marker="o", ms=3, capsize=2, label=policy)
        ax.set_xlabel(param)
        ax.set_ylabel("mean return")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out_dir / f"sweep_{param}.png"
        fig.savefig(path, dpi=120)
        plt.close(fig)
        paths.append(path)
    return paths


def write_report(report: dict, sweeps: dict, train_ranges: dict, out_dir: Path) -> None:
    atomic_write_text(out_dir / "report.json", json.dumps(report, indent=2) + "\n")
    atomic_write_text(out_dir / "report.md", markdown(report))
    plot_sweeps(sweeps, train_ranges, out_dir)
