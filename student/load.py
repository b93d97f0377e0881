"""Reading a student run's deployable policy back from the run store."""
from __future__ import annotations

from pathlib import Path

from runstore.store import check_same, load_checkpoint
from student.policy import DeployablePolicy, build_deployable

CHECKPOINT_KEYS = ("stage", "method", "task", "obs_spec", "arch", "model", "teacher_run", "iteration", "env_steps")


def load_student(run_dir: str | Path, spec, task: str) -> DeployablePolicy:
    """The deployable policy of a student run; strict, and checked against the task."""
    ckpt = load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt", stage="student", required=CHECKPOINT_KEYS)
    check_same("the task", ckpt["task"], task)
    check_same("the task's observation layout", ckpt["obs_spec"], spec.as_dict())
    policy = build_deployable(ckpt["arch"], spec)
    policy.load_state_dict(ckpt["model"], strict=True)
    return policy.eval()
