"""kill -9 at random points of every stage, then resume: only the work since the last
checkpoint is lost, the record is whole, and the result is as good as an uninterrupted run.

Each stage runs as its own process (``python -m ...``, as the scripts run it) and is killed
with SIGKILL at a random moment after it has written a checkpoint (teacher, student) or
started writing its report (evaluation). The random moments come from a seeded generator.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from runstore.store import load_checkpoint

REPO = Path(__file__).resolve().parent.parent
QUIET = ["log.progress=false", "log.tensorboard=false", "log.print_every=0"]
ENV = {**os.environ, "WANDB_MODE": "disabled", "OMP_WAIT_POLICY": "PASSIVE", "PYTHONUNBUFFERED": "1"}


def start(module: str, args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO, env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(condition, proc: subprocess.Popen, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended before it could be killed:\n{proc.stdout.read()}")
        if time.monotonic() - t0 > timeout:
            proc.kill()
            raise AssertionError("timed out waiting for the process")
        time.sleep(0.05)


def kill_after(proc: subprocess.Popen, delay: float) -> None:
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the stage finished before the kill: raise its length"


def finish(module: str, args: list[str]) -> str:
    proc = start(module, args)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out
    return out


def mtime(path: Path) -> float:
    return path.stat().st_mtime_ns if path.exists() else -1


def kill_and_resume(module: str, args: list[str], last: Path, kills: int, rng: np.random.Generator,
                    spread: float) -> None:
    """Start, kill -9 ``kills`` times (each a random moment after a fresh checkpoint), resume to the end."""
    for k in range(kills):
        seen = mtime(last)
        proc = start(module, args + (["resume=true"] if k else []))
        wait_for(lambda: mtime(last) > seen, proc)
        kill_after(proc, rng.uniform(0.0, spread))
    finish(module, args + ["resume=true"])


def iterations_logged(run: Path) -> list[int]:
    return [json.loads(x)["iteration"] for x in (run / "metrics.jsonl").read_text().splitlines()]


TEACHER = ["num_envs=256", "max_iterations=40", "save_every=3", "seed=1", "heldout_eval_envs=0", *QUIET]


def test_teacher_killed_twice_resumes_to_the_same_quality(tmp_path):
    rng = np.random.default_rng(2026)
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    finish("teacher.train", [*TEACHER, f"run_dir={whole}"])
    kill_and_resume("teacher.train", [*TEACHER, f"run_dir={killed}"], killed / "checkpoints" / "last.pt",
                    kills=2, rng=rng, spread=2.0)
    summary = json.loads((killed / "summary.json").read_text())
    reference = json.loads((whole / "summary.json").read_text())
    assert summary["env_steps"] == reference["env_steps"] == 40 * 16 * 256
    assert load_checkpoint(killed / "checkpoints" / "last.pt")["iteration"] == 40
    assert iterations_logged(killed) == list(range(40))  # every iteration once: the lost ones redone
    assert len((killed / "resumes.jsonl").read_text().splitlines()) == 2
    # a random policy scores ~20, the uninterrupted run ~80 here; the killed run learns as well
    assert reference["mean_return"] > 50
    assert summary["mean_return"] >= 0.8 * reference["mean_return"], (summary, reference)


def test_teacher_killed_before_its_first_checkpoint_is_a_failed_start(tmp_path):
    run = tmp_path / "t"
    proc = start("teacher.train", [*TEACHER, f"run_dir={run}"])
    wait_for(lambda: (run / "config.yaml").exists(), proc)
    kill_after(proc, 0.0)
    assert not (run / "checkpoints" / "last.pt").exists()
    proc = start("teacher.train", [*TEACHER, f"run_dir={run}", "resume=true"])
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "failed before the first checkpoint" in out and f"remove {run}" in out


@pytest.mark.learning
def test_student_killed_twice_resumes_and_still_learns(trained_teacher, tmp_path):
    teacher_run, _ = trained_teacher
    rng = np.random.default_rng(7)
    run = tmp_path / "dagger"
    args = [f"teacher={teacher_run}", "method=dagger", "iterations=20", "updates_per_iteration=25", "save_every=2",
            "eval_envs=256",
            f"dataset_path={tmp_path / 'data.h5'}", f"run_dir={run}", *QUIET]
    kill_and_resume("student.distill", args, run / "checkpoints" / "last.pt", kills=2, rng=rng, spread=1.5)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["iterations"] == 20 and summary["env_steps"] == 20 * 16 * 1024
    assert iterations_logged(run) == list(range(20))
    assert summary["mean_return"] >= 0.9 * summary["teacher_return"], summary  # the uninterrupted bar
    import h5py

    with h5py.File(tmp_path / "data.h5") as f:  # the dataset holds each collected step exactly once
        assert f["proprio_hist"].shape[0] == f["episode_id"].shape[0] == 20 * 16 * 1024
    assert (run / "export" / "policy.onnx").is_file()
    proc = start("student.distill", args + ["resume=true"])
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "already finished 20 iterations" in out


def test_evaluation_killed_leaves_the_old_report_or_none(trained_teacher, tmp_path):
    teacher_run, _ = trained_teacher
    rng = np.random.default_rng(11)
    out = tmp_path / "eval"
    args = [f"runs=[{teacher_run}]", "episodes=128", "sweep_points=3", "sweep_episodes=64", "sweep_params=[pole_mass]",
            f"out_dir={out}"]

    def temporaries():
        return list(tmp_path.glob(".eval.tmp-*"))

    proc = start("evaluation.evaluate", args)
    wait_for(lambda: bool(temporaries()), proc)
    kill_after(proc, rng.uniform(0.5, 2.0))
    assert not out.exists()  # no half-written report, no unreadable episodes.h5

    finish("evaluation.evaluate", args)
    assert not temporaries()  # the killed run's leftovers are gone
    report = (out / "report.json").read_bytes()
    (out / "sweep_stale.png").write_bytes(b"a plot from an older evaluation")

    proc = start("evaluation.evaluate", args + ["overwrite=true", "seed=5"])
    wait_for(lambda: bool(temporaries()), proc)
    kill_after(proc, rng.uniform(0.5, 2.0))
    assert (out / "report.json").read_bytes() == report  # the old report, whole

    finish("evaluation.evaluate", args + ["overwrite=true", "seed=5"])
    assert json.loads((out / "report.json").read_text())["seed"] == 5
    assert not (out / "sweep_stale.png").exists()  # replaced as a whole: nothing stale beside it
