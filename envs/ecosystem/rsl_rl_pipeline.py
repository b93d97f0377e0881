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
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def stage(role: str, runner_class, env_seed: int, model_key: str, run_dir: Path, init: Path | None) -> dict:
            """One runner trained and written as a run, rsl_rl's own logs and checkpoint kept in it."""
            env = RslRlVecEnv(make_env(task_cfg, num_envs=num_envs, seed=env_seed, nthread=nthread))
            runner = runner_class(env, settings[role], log_dir=str(tmp / role), device="cpu")
            if init is not None:
                runner.load(str(init))  # rsl_rl's own checkpoint of the teacher, written by the stage before
            n = iterations if role == "teacher" else student_iterations
            t = time.perf_counter()
            with open(tmp / f"{role}.log", "w") as log, contextlib.redirect_stdout(log):
                runner.learn(n)
            summary = {"iterations": n, "env_steps": n * num_envs * settings[role]["num_steps_per_env"],
                       "wall_s": round(time.perf_counter() - t, 1)}
            runner.save(str(tmp / f"{role}.pt"))
            save_run(run_dir, runner.alg.get_policy(), settings[role][model_key], role, task_cfg, settings[role], seed,
                     env.num_actions, group_dims(env.get_observations()), summary)
            shutil.copytree(tmp / role, run_dir / "rsl_rl", dirs_exist_ok=True)
            shutil.copy(tmp / f"{role}.log", run_dir / "rsl_rl" / "console.log")
            shutil.copy(tmp / f"{role}.pt", run_dir / "rsl_rl" / f"{role}.pt")  # for rsl_rl's own runner.load
            print(json.dumps({"run": str(run_dir), **summary}), flush=True)
            return summary

        torch.manual_seed(seed)  # rsl_rl draws its initial weights from the global generator
        summaries = {"teacher": stage("teacher", OnPolicyRunner, seed, "actor", teacher_dir, None)}
        summaries["student"] = stage("student", DistillationRunner, seed + 1, "student", student_dir,
                                     tmp / "teacher.pt")
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
