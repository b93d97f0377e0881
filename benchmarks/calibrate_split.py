"""Calibrating a task's held-out split: the oracle's success on candidate held-out steps.

Issue #11's protocol (after RMA) wants a held-out split whose every parameter reaches a
modest step beyond training, small enough that the oracle keeps at least 70% success under
the test's mid-episode resampling. For each fraction ``a`` in ``--fractions`` this builds a
split ``step<a>`` that widens every parameter's train range by ``a`` of the way to the
task's declared held-out range on each side (``a = 1`` is the held-out split itself; an
integer parameter's ends are rounded outward), and evaluates the teachers' oracles on
``train`` and on those splits in one paired evaluation (same episodes for every split's
policies; resampling at ``--resample``; several teacher runs are pooled like seeds).
Writes benchmarks/results/calibrate_<task>.{json,md}: success and return per split, and
the largest fraction whose success is at least ``--min-success``.

    python benchmarks/calibrate_split.py runs/go2-teacher [more teacher runs] \\
        [--fractions 0.25 0.5 0.75 1] [--episodes 512] [--resample 0.01] [--out-dir runs/calibrate-go2]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from omegaconf import OmegaConf, open_dict

import evaluation.config  # noqa: F401  (registers the schema)
from envs import make_env
from envs.randomization import step_split
from evaluation.evaluate import evaluate
from runstore.config import compose
from teacher.load import load_run

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("teachers", nargs="+", help="teacher run dirs (pooled like seeds)")
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0])
    parser.add_argument("--episodes", type=int, default=512)
    parser.add_argument("--resample", type=float, default=0.01)
    parser.add_argument("--min-success", type=float, default=0.7)
    parser.add_argument("--out-dir", default=None, help="the evaluation's report dir (default: runs/calibrate-<task>)")
    parser.add_argument("--nthread", type=int, default=0)
    args = parser.parse_args()
    if any(not 0 < a <= 1 for a in args.fractions):
        parser.error(f"--fractions {args.fractions}: each must be in (0, 1]")
    cfg, _, _ = load_run(args.teachers[0], "last")
    task = cfg.task.name
    specs = make_env(cfg.task, num_envs=1).param_specs
    splits = {f"step{a:g}": step_split(specs, a) for a in sorted(args.fractions)}
    out_dir = args.out_dir or f"runs/calibrate-{task}"
    ecfg = compose("evaluate", [f"runs=[{','.join(args.teachers)}]", "splits=[train]", "sweep=false",
                                f"episodes={args.episodes}", f"resample_prob={args.resample}", f"out_dir={out_dir}",
                                f"nthread={args.nthread}", "overwrite=true"])
    with open_dict(ecfg):
        ecfg.ranges = OmegaConf.create(splits)
    report = evaluate(ecfg)
    oracle = {r["split"]: r for r in report["rows"] if r["policy"] == "oracle"}
    rows = [{"split": name, "fraction": 0.0 if name == "train" else float(name[4:]),
             "success": oracle[name]["success_rate"], "return": oracle[name]["return_mean"],
             "return_ci95": oracle[name]["return_ci95"]} for name in ["train", *splits]]
    ok = [r["fraction"] for r in rows if r["fraction"] > 0 and r["success"] >= args.min_success]
    result = {"task": task, "teachers": args.teachers, "episodes": args.episodes, "resample_prob": args.resample,
              "min_success": args.min_success, "largest_fraction_meeting_it": max(ok) if ok else None,
              "rows": rows, "splits": splits, "report_dir": out_dir}
    out = RESULTS / f"calibrate_{task}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Held-out step calibration: {task}", "",
             f"Oracle of {', '.join(args.teachers)}; {args.episodes} paired episodes per split and teacher; "
             f"dynamics resampled within episodes at {args.resample}. `stepA` widens every train range by A of the "
             "step to the declared held-out range (step1 = heldout).", "",
             "| split | success | return ± 95% |", "|---|---|---|"]
    lines += [f"| {r['split']} | {r['success']:.2f} | {r['return']:.2f} ± {r['return_ci95']:.2f} |" for r in rows]
    lines += ["", f"Largest step with success >= {args.min_success}: {result['largest_fraction_meeting_it']}", ""]
    out.with_suffix(".md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
