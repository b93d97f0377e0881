"""rsl_rl's own teacher -> student pipeline on an apprentice task, written as two runs that
``evaluation.evaluate`` takes beside apprentice's (the same episodes, paired).

    python -m envs.ecosystem.rsl_rl_pipeline --task-from <apprentice run> --out <dir> [--seed 0]

The env is made from the task config of ``--task-from`` (an apprentice teacher run: the same
task, ranges and training-time resampling). rsl_rl's settings are ``configs/rsl_rl/<task>.yaml``
(Isaac Lab's for that robot): ``OnPolicyRunner`` trains a PPO teacher whose actor reads obs +
raw ``priv_info``, then ``DistillationRunner`` distills it into a student on the flattened
history. Writes ``<out>/rsl_rl_teacher`` and ``<out>/rsl_rl_student``
(``envs/ecosystem/rsl_rl_runs.py``), each with rsl_rl's own logs and final checkpoint
(``rsl_rl/{teacher,student}.pt``, for rsl_rl's ``runner.load``) in ``rsl_rl/``. Everything is
checked before training starts: the run, the settings file, the two output dirs.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from envs import make_env
from envs.ecosystem.rsl_rl_runs import save_run
from runstore.store import CheckpointError, load_run_config

SETTINGS = Path(__file__).resolve().parents[2] / "configs" / "rsl_rl"


def check(task_from: str, out: Path) -> tuple:
    """(task config, settings, teacher dir, student dir), or a clear error before any work."""
    run_cfg = load_run_config(task_from, "teacher")
    if "task" not in run_cfg:
        raise CheckpointError(f"{task_from}/config.yaml has no task; pass an apprentice teacher run as --task-from")
    path = SETTINGS / f"{run_cfg.task.name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in SETTINGS.glob("*.yaml"))
        raise FileNotFoundError(f"{path} does not exist: rsl_rl's settings are given for {known}; "
                                f"add configs/rsl_rl/{run_cfg.task.name}.yaml to run {run_cfg.task.name!r}")
    settings = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    missing = [k for k in ("num_envs", "iterations", "student_iterations", "teacher", "student") if k not in settings]
    if missing:
        raise KeyError(f"{path} lacks {missing}")
    dirs = out / "rsl_rl_teacher", out / "rsl_rl_student"
    for d in dirs:
        if d.exists() and (not d.is_dir() or any(d.iterdir())):
            raise FileExistsError(f"{d} exists and is not empty; pass another --out or remove it")
    return run_cfg.task, settings, *dirs


def group_dims(obs) -> dict[str, int]:
    return {k: int(v.shape[-1]) for k, v in obs.items()}


def run(task_from: str, out: str | Path, seed: int = 0, iterations: int | None = None,
        student_iterations: int | None = None, num_envs: int | None = None, nthread: int = 0) -> dict:
    """Train rsl_rl's teacher, then its student; write both runs; return their summaries."""
    from rsl_rl.runners import DistillationRunner, OnPolicyRunner

    from envs.ecosystem.to_rsl_rl import RslRlVecEnv

    task_cfg, settings, teacher_dir, student_dir = check(task_from, Path(out))
    iterations = iterations or settings["iterations"]
    student_iterations = student_iterations or settings["student_iterations"]
    num_envs = num_envs or settings["num_envs"]
    summaries = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torch.manual_seed(seed)  # rsl_rl draws its initial weights from the global generator
        env = RslRlVecEnv(make_env(task_cfg, num_envs=num_envs, seed=seed, nthread=nthread))
        runner = OnPolicyRunner(env, settings["teacher"], log_dir=str(tmp / "teacher"), device="cpu")
        t = time.perf_counter()
        with open(tmp / "teacher.log", "w") as log, contextlib.redirect_stdout(log):
            runner.learn(iterations)
        steps = iterations * num_envs * settings["teacher"]["num_steps_per_env"]
        summaries["teacher"] = {"iterations": iterations, "env_steps": steps, "wall_s": round(time.perf_counter() - t, 1)}
        runner.save(str(tmp / "teacher.pt"))
        save_run(teacher_dir, runner.alg.get_policy(), settings["teacher"]["actor"], "teacher", task_cfg,
                 settings["teacher"], seed, env.num_actions, group_dims(env.get_observations()), summaries["teacher"])
        print(json.dumps({"run": str(teacher_dir), **summaries["teacher"]}), flush=True)

        env = RslRlVecEnv(make_env(task_cfg, num_envs=num_envs, seed=seed + 1, nthread=nthread))
        distiller = DistillationRunner(env, settings["student"], log_dir=str(tmp / "student"), device="cpu")
        distiller.load(str(tmp / "teacher.pt"))  # rsl_rl's own checkpoint, written just above
        t = time.perf_counter()
        with open(tmp / "student.log", "w") as log, contextlib.redirect_stdout(log):
            distiller.learn(student_iterations)
        distiller.save(str(tmp / "student.pt"))
        steps = student_iterations * num_envs * settings["student"]["num_steps_per_env"]
        summaries["student"] = {"iterations": student_iterations, "env_steps": steps,
                                "wall_s": round(time.perf_counter() - t, 1)}
        save_run(student_dir, distiller.alg.get_policy(), settings["student"]["student"], "student", task_cfg,
                 settings["student"], seed, env.num_actions, group_dims(env.get_observations()), summaries["student"])
        print(json.dumps({"run": str(student_dir), **summaries["student"]}), flush=True)
        for role, run_dir in (("teacher", teacher_dir), ("student", student_dir)):  # rsl_rl's own logs, kept
            shutil.copytree(tmp / role, run_dir / "rsl_rl", dirs_exist_ok=True)
            shutil.copy(tmp / f"{role}.log", run_dir / "rsl_rl" / "console.log")
            shutil.copy(tmp / f"{role}.pt", run_dir / "rsl_rl" / f"{role}.pt")  # for rsl_rl's own runner.load
    return summaries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task-from", required=True, help="an apprentice teacher run: its task config makes the env")
    parser.add_argument("--out", required=True, help="writes <out>/rsl_rl_teacher and <out>/rsl_rl_student")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iterations", type=int, default=None, help="default: configs/rsl_rl/<task>.yaml's")
    parser.add_argument("--student-iterations", type=int, default=None)
    parser.add_argument("--num-envs", type=int, default=None)
    parser.add_argument("--nthread", type=int, default=0, help="simulation threads (0: all cores)")
    args = parser.parse_args()
    run(args.task_from, args.out, args.seed, args.iterations, args.student_iterations, args.num_envs, args.nthread)


if __name__ == "__main__":
    main()
