"""Why does a teacher generalize to held-out dynamics, or not: an ablation of the candidates.

Each cartpole variant is the cartpole teacher as it was before this ablation (entropy_coef 0.0)
with one change (the overrides below), trained on the training ranges for several seeds. Each
Go2 variant (``--task go2``) is today's Go2 teacher (``+experiment=go2``, 300 iterations as in
benchmarks/heldout_go2.sh) with one of the ways it differs from rsl_rl's Go2 teacher, which
tracks the commanded velocity more closely at the same success (heldout_go2.md). Every run's summary already holds its return on
the training ranges and on 256 held-out episodes, for the final policy and for ``best.pt``
(chosen by training return); this script gathers them. Held-out episodes are the same for
every variant of one seed (seed + 20000), so variants compare on paired dynamics samples.
Writes benchmarks/results/teacher_heldout.{json,md} (Go2: teacher_heldout_go2.{json,md});
finished runs are kept and skipped, so an interrupted benchmark continues where it stopped.

    python benchmarks/teacher_heldout.py [--seeds 0 1] [--variants entropy_0.0 entropy_0.005] [--nthread 1]
    python benchmarks/teacher_heldout.py --task go2 --seeds 0 1 2   (about 17 min a run on 2 cores)
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

RESULTS = Path(__file__).resolve().parent / "results"
OLD = ["ppo.entropy_coef=0.0"]  # the teacher's default before this ablation: every other change is made on it
GO2 = ["+experiment=go2"]
RSL_WIDTHS = ["policy.actor_hidden=[128,128,128]", "policy.critic_hidden=[128,128,128]"]
TASKS = {  # task -> (its variants: name -> overrides, the reference variant, iterations, results file)
    "cartpole": ({
        "entropy_0.0": OLD,  # the reference
        "entropy_0.005": ["ppo.entropy_coef=0.005"],  # rsl_rl / Isaac Lab's cartpole setting; the default since
        "raw_obs": [*OLD, "policy.normalize_obs=false"],  # no running normalization of the actor's obs
        "latent_noise_0.2": [*OLD, "policy.latent_noise=0.2"],  # noise on z in training
        "resample_0.004": [*OLD, "task.resample_prob=0.004"],  # RMA's mid-episode resampling in training
        "latent_16": [*OLD, "policy.latent_dim=16"],  # a wider latent
    }, "entropy_0.0", 150, "teacher_heldout"),
    "go2": ({  # today's Go2 teacher, then each difference from rsl_rl's (configs/rsl_rl/go2.yaml)
        "go2": GO2,  # the reference
        "rsl_widths": [*GO2, *RSL_WIDTHS],  # 128 x 3 actor and critic instead of 256, 128, 128
        "out_gain_1": [*GO2, "policy.actor_out_gain=1.0"],  # the actor's last layer at PyTorch's init, not x0.01
        "value_clip": [*GO2, "ppo.clip_value_loss=true"],  # rsl_rl's clipped value loss
        "latent_16": [*GO2, "policy.latent_dim=16"],  # a wider latent (rsl_rl's actor reads the raw priv_info)
        "rsl_all": [*GO2, *RSL_WIDTHS, "policy.actor_out_gain=1.0", "ppo.clip_value_loss=true"],
    }, "go2", 300, "teacher_heldout_go2"),
}
KEYS = ("mean_return", "heldout_return", "heldout_success", "heldout_return_best", "heldout_success_best", "wall_s")


def run(overrides: list[str], run_dir: Path, seed: int, iterations: int, nthread: int) -> dict:
    summary = finished_or_cleared(run_dir)  # a run stopped before its summary trains again from scratch
    if summary is not None:
        return summary
    return train(compose("teacher", [*overrides, f"seed={seed}", f"max_iterations={iterations}",
                                     f"nthread={nthread}", f"run_dir={run_dir}", "log.progress=false",
                                     "log.tensorboard=false", "log.print_every=0"]))


def table(rows: list[dict], reference: str) -> str:
    lines = ["| variant | seeds | train return | held-out (final) | success (final) | held-out (best.pt) "
             f"| success (best.pt) | final - {reference} (paired by seed) |", "|---|---|---|---|---|---|---|---|"]
    by_variant: dict[str, list[dict]] = {}
    for r in rows:
        by_variant.setdefault(r["variant"], []).append(r)
    default = {r["seed"]: r["heldout_return"] for r in by_variant.get(reference, [])}

    def mean(rs, k):
        return statistics.fmean(r[k] for r in rs)

    for variant, rs in by_variant.items():
        diffs = [r["heldout_return"] - default[r["seed"]] for r in rs if r["seed"] in default]
        diff = f"{statistics.fmean(diffs):+.1f} ({', '.join(f'{d:+.1f}' for d in diffs)})" if diffs else "-"
        lines.append(f"| {variant} | {len(rs)} | {mean(rs, 'mean_return'):.1f} | {mean(rs, 'heldout_return'):.1f} "
                     f"| {mean(rs, 'heldout_success'):.2f} | {mean(rs, 'heldout_return_best'):.1f} "
                     f"| {mean(rs, 'heldout_success_best'):.2f} | {diff} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="cartpole", choices=list(TASKS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--variants", nargs="+", help="default: every variant of the task")
    parser.add_argument("--iterations", type=int, help="default: 150 on cartpole, 300 on go2")
    parser.add_argument("--nthread", type=int, default=0, help="simulator threads (0: all cores)")
    parser.add_argument("--root", help="where the runs are kept (default: runs/teacher_heldout[_go2])")
    parser.add_argument("--existing", action="store_true",
                        help="train nothing: tabulate the finished runs under --root (e.g. after parallel invocations)")
    args = parser.parse_args()
    variants, reference, iterations, name = TASKS[args.task]
    unknown = sorted(set(args.variants or []) - set(variants))
    if unknown:  # before any training
        parser.error(f"--variants {unknown} are not {args.task} variants; choose from {sorted(variants)}")
    iterations = args.iterations or iterations
    root, out = Path(args.root or f"runs/{name}"), RESULTS / name
    command = "python benchmarks/teacher_heldout.py" + ("" if args.task == "cartpole" else f" --task {args.task}")
    rows = []
    for seed in args.seeds:  # seeds outermost: a partial benchmark has every variant of the first seeds
        for variant in args.variants or list(variants):
            run_dir = root / f"{variant}-s{seed}"
            if args.existing and not (run_dir / "summary.json").exists():
                continue
            s = run(variants[variant], run_dir, seed, iterations, args.nthread)
            rows.append({"variant": variant, "seed": seed, **{k: s[k] for k in KEYS}})
            print(json.dumps(rows[-1]), flush=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.with_suffix(".json").write_text(json.dumps(
                {"iterations": iterations, "heldout_episodes": s["heldout_episodes"], "rows": rows}, indent=2) + "\n")
            out.with_suffix(".md").write_text(
                f"# Teacher held-out ablation ({args.task}, {iterations} iterations, "
                f"{s['heldout_episodes']} held-out episodes per run)\n\n"
                f"Command: `{command}`\n\n{table(rows, reference)}\n")
    print(f"wrote {out}.json and .md")


if __name__ == "__main__":
    main()
