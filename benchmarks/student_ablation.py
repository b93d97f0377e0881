"""A student ablation on the teachers of a held-out table (benchmarks/heldout.sh): for each
seed, the default DAgger student and one student per variant, each from that seed's
teacher, then one paired evaluation of all of them (RMA's test rate of resampling) with
every variant's paired difference to the default student (``reference=dagger``).

    python benchmarks/student_ablation.py --table runs/heldout-cartpole-s7 --out runs/ablation \\
        --variant long iterations=200 --variant big 'actor_hidden=[256,256]' \\
        --teacher-variant noise policy.latent_noise=0.2 [--seeds 0 1 2] [--jobs 2]

A ``--variant NAME OVERRIDES...`` is a student trained with those overrides and
``label=NAME`` (``dagger_NAME`` in the report). A ``--teacher-variant NAME OVERRIDES...`` is
a teacher trained with those overrides (on the table teacher's task and seed, ``label=NAME``:
``oracle_NAME``) and a default DAgger student from it (``dagger_NAME``).
Runs with a summary.json are kept: rerun with the same --out to finish a stopped ablation.
Writes ``benchmarks/results/<--name>.{json,md}``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from omegaconf import OmegaConf

from runstore.config import compose
from runstore.store import config_diff, finished_or_cleared

ROOT = Path(__file__).resolve().parent.parent
QUIET = ["log.progress=false", "log.print_every=50", "log.tensorboard=false"]
_ABSENT = object()


def run(module: str, run_dir: Path, overrides: list[str], threads: int | None) -> None:
    """Train one run unless it finished before (a run stopped midway starts over)."""
    if finished_or_cleared(run_dir) is not None:
        print(f"kept {run_dir}", flush=True)
        return
    env = dict(os.environ, WANDB_MODE="disabled", PYTHONUNBUFFERED="1")
    extra = []
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
        extra = [f"nthread={threads}"]
    cmd = [sys.executable, "-m", module, f"run_dir={run_dir}", *overrides, *QUIET, *extra]
    print("$", " ".join(cmd), flush=True)
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{run_dir} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    print(out.stdout.strip().splitlines()[-1], flush=True)


def teacher_overrides(teacher: Path) -> list[str]:
    """The table teacher's config as overrides of the defaults (a teacher variant differs from it
    only by its own overrides): every key both have where they differ, but the run's identity."""
    saved = OmegaConf.load(teacher / "config.yaml")
    default = compose("teacher", [f"task={saved.task.name}"])
    own = {"run_dir", "seed", "nthread", "resume", "label"}

    def has(cfg, key):
        return OmegaConf.select(cfg, key, default=_ABSENT) is not _ABSENT

    return [f"task={saved.task.name}"] + [
        f"{k}={json.dumps(v)}" for k, (_, v) in config_diff(default, saved).items()
        if k not in own and not k.startswith("log.") and has(default, k) and has(saved, k)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", required=True, help="a held-out table's RUNS dir (s<seed>/teacher inside)")
    ap.add_argument("--out", required=True, help="where the ablation's runs and evaluation go")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--variant", nargs="+", action="append", default=[], metavar=("NAME", "OVERRIDE"))
    ap.add_argument("--teacher-variant", nargs="+", action="append", default=[], metavar=("NAME", "OVERRIDE"))
    ap.add_argument("--jobs", type=int, default=1, help="runs trained at once (each on one thread when > 1)")
    ap.add_argument("--resample", type=float, default=0.01, help="the evaluation's mid-episode resampling rate")
    ap.add_argument("--episodes", type=int, default=1000)
    ap.add_argument("--name", default=None, help="results file name (default: student_ablation_<task>)")
    args = ap.parse_args()
    table, out = Path(args.table).resolve(), Path(args.out).resolve()
    names = [v[0] for v in args.variant + args.teacher_variant]
    if len(set(names)) != len(names):
        raise SystemExit(f"variant names repeat: {names}")
    teachers = {s: table / f"s{s}" / "teacher" for s in args.seeds}
    missing = [str(t) for t in teachers.values() if not (t / "summary.json").exists()]
    if missing:
        raise SystemExit(f"no finished teacher at {missing}: pass the RUNS dir of a finished held-out table")
    threads = 1 if args.jobs > 1 else None

    chains, runs = [], []  # a chain trains in order; chains run args.jobs at a time
    for s, teacher in teachers.items():
        student = [f"seed={s}", "method=dagger", "export=false"]
        seed_chains = [[("student.distill", out / f"s{s}" / "dagger", [f"teacher={teacher}", *student])]]
        for name, *ov in args.variant:
            seed_chains.append([("student.distill", out / f"s{s}" / f"dagger_{name}",
                                 [f"teacher={teacher}", *student, f"label={name}", *ov])])
        for name, *ov in args.teacher_variant:
            t = out / f"s{s}" / f"teacher_{name}"
            seed_chains.append([("teacher.train", t, [*teacher_overrides(teacher), f"seed={s}", f"label={name}", *ov]),
                                ("student.distill", out / f"s{s}" / f"dagger_{name}",
                                 [f"teacher={t}", *student, f"label={name}"])])
        chains += seed_chains
        runs += [teacher] + [run_dir for chain in seed_chains for _, run_dir, _ in chain]

    for chain in chains:  # every run's config (a variant's name is its label) checked before any run trains
        for module, run_dir, ov in chain:
            compose(module.split(".")[0], [*ov, f"run_dir={run_dir}"])

    def train_chain(chain):
        for module, run_dir, ov in chain:
            run(module, run_dir, ov, threads)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for f in [pool.submit(train_chain, c) for c in chains]:
            f.result()

    eval_dir = out / "eval"
    cmd = [sys.executable, "-m", "evaluation.evaluate", f"runs=[{','.join(map(str, runs))}]", f"out_dir={eval_dir}",
           "sweep=false", f"resample_prob={args.resample}", "reference=dagger", f"episodes={args.episodes}",
           "overwrite=true"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, env=dict(os.environ, WANDB_MODE="disabled"), stdout=subprocess.DEVNULL)
    report = json.loads((eval_dir / "report.json").read_text())
    name = args.name or f"student_ablation_{report['task']}"
    report["command"] = " ".join(["python", "benchmarks/student_ablation.py", *sys.argv[1:]])
    dest = ROOT / "benchmarks" / "results"
    (dest / f"{name}.json").write_text(json.dumps(report, indent=1))
    md = (eval_dir / "report.md").read_text()
    (dest / f"{name}.md").write_text(f"Command: `{report['command']}`\n\n{md}")
    print(f"wrote benchmarks/results/{name}.{{json,md}} from {out}")


if __name__ == "__main__":
    main()
