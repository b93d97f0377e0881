"""Why does a teacher generalize to held-out dynamics, or not: an ablation of the candidates.

Each variant is the cartpole teacher as it was before this ablation (entropy_coef 0.0) with
one change (the overrides below), trained on the training ranges for several seeds. Every run's summary already holds its return on
the training ranges and on 256 held-out episodes, for the final policy and for ``best.pt``
(chosen by training return); this script gathers them. Held-out episodes are the same for
every variant of one seed (seed + 20000), so variants compare on paired dynamics samples.
Writes benchmarks/results/teacher_heldout.{json,md}; finished runs are kept and skipped,
so an interrupted benchmark continues where it stopped.

    python benchmarks/teacher_heldout.py [--seeds 0 1] [--variants entropy_0.0 entropy_0.005] [--nthread 1]
    python benchmarks/teacher_heldout.py --existing --seeds 0 1 2 3   (tabulate runs made by parallel invocations)
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from runstore.config import compose
from runstore.store import finished_or_cleared
from teacher.train import train

OUT = Path(__file__).resolve().parent / "results" / "teacher_heldout"
OLD = ["ppo.entropy_coef=0.0"]  # the teacher's default before this ablation: every other change is made on it
REFERENCE = "entropy_0.0"
VARIANTS = {
    "entropy_0.0": OLD,  # the reference
    "entropy_0.005": ["ppo.entropy_coef=0.005"],  # rsl_rl / Isaac Lab's cartpole setting; the default since
    "raw_obs": [*OLD, "policy.normalize_obs=false"],  # no running normalization of the actor's obs
    "latent_noise_0.2": [*OLD, "policy.latent_noise=0.2"],  # noise on z in training
    "resample_0.004": [*OLD, "task.resample_prob=0.004"],  # RMA's mid-episode resampling in training
    "latent_16": [*OLD, "policy.latent_dim=16"],  # a wider latent
}
KEYS = ("mean_return", "heldout_return", "heldout_success", "heldout_return_best", "heldout_success_best", "wall_s")


def run(variant: str, seed: int, iterations: int, nthread: int, root: Path) -> dict:
    run_dir = root / f"{variant}-s{seed}"
    summary = finished_or_cleared(run_dir)  # a run stopped before its summary trains again from scratch
    if summary is not None:
        return summary
    return train(compose("teacher", [*VARIANTS[variant], f"seed={seed}", f"max_iterations={iterations}",
                                     f"nthread={nthread}", f"run_dir={run_dir}", "log.progress=false",
                                     "log.tensorboard=false", "log.print_every=0"]))


def table(rows: list[dict]) -> str:
    lines = ["| variant | seeds | train return | held-out (final) | success (final) | held-out (best.pt) "
             f"| success (best.pt) | final - {REFERENCE} (paired by seed) |", "|---|---|---|---|---|---|---|---|"]
    by_variant: dict[str, list[dict]] = {}
    for r in rows:
        by_variant.setdefault(r["variant"], []).append(r)
    default = {r["seed"]: r["heldout_return"] for r in by_variant.get(REFERENCE, [])}

    def mean(rs, k):
        return statistics.fmean(r[k] for r in rs)

    for variant, rs in by_variant.items():
        diffs = [r["heldout_return"] - default[r["seed"]] for r in rs if r["seed"] in default]
        diff = f"{statistics.fmean(diffs):+.1f} ({', '.join(f'{d:+.0f}' for d in diffs)})" if diffs else "-"
        lines.append(f"| {variant} | {len(rs)} | {mean(rs, 'mean_return'):.1f} | {mean(rs, 'heldout_return'):.1f} "
                     f"| {mean(rs, 'heldout_success'):.2f} | {mean(rs, 'heldout_return_best'):.1f} "
                     f"| {mean(rs, 'heldout_success_best'):.2f} | {diff} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--nthread", type=int, default=0, help="simulator threads (0: all cores)")
    parser.add_argument("--root", default="runs/teacher_heldout", help="where the runs are kept")
    parser.add_argument("--existing", action="store_true",
                        help="train nothing: tabulate the finished runs under --root (e.g. after parallel invocations)")
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:  # seeds outermost: a partial benchmark has every variant of the first seeds
        for variant in args.variants:
            if args.existing and not (Path(args.root) / f"{variant}-s{seed}" / "summary.json").exists():
                continue
            s = run(variant, seed, args.iterations, args.nthread, Path(args.root))
            rows.append({"variant": variant, "seed": seed, **{k: s[k] for k in KEYS}})
            print(json.dumps(rows[-1]), flush=True)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.with_suffix(".json").write_text(json.dumps(
                {"iterations": args.iterations, "heldout_episodes": s["heldout_episodes"], "rows": rows}, indent=2) + "\n")
            OUT.with_suffix(".md").write_text(
                f"# Teacher held-out ablation (cartpole, {args.iterations} iterations, "
                f"{s['heldout_episodes']} held-out episodes per run)\n\n"
                f"Command: `python benchmarks/teacher_heldout.py`\n\n{table(rows)}\n")
    print(f"wrote {OUT}.json and .md")


if __name__ == "__main__":
    main()
