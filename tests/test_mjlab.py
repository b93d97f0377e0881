"""mjlab's own tasks (mjlab 1.6.0, a real third-party task source) through apprentice:
teacher -> students -> held-out evaluation, on CPU, a few iterations each.

mjlab pins mujoco 3.11, so these stages run in mjlab's virtual environment
(``scripts/setup_mjlab.sh``, cached between runs) with apprentice's code on PYTHONPATH.
The tests are marked ``mjlab``: ``scripts/test.sh`` leaves them out, ``scripts/test_mjlab.sh``
(run by ``.ci/run``) sets ``APPRENTICE_MJLAB_PYTHON`` and runs them.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PYTHON = os.environ.get("APPRENTICE_MJLAB_PYTHON")
pytestmark = [pytest.mark.mjlab,
              pytest.mark.skipif(not PYTHON, reason="needs mjlab's venv: run scripts/test_mjlab.sh")]
QUIET = ["log.progress=false", "log.tensorboard=false", "log.print_every=0"]


def run(module: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "WANDB_MODE": "disabled", "OMP_WAIT_POLICY": "PASSIVE"}
    proc = subprocess.run([PYTHON, "-m", module, *args], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def task_args(task_id: str, episode_s: float) -> list[str]:
    return ["task=rsl_rl_env", "task.factory=envs.ecosystem.mjlab_tasks:make_env",
            f"+task.factory_kwargs.task_id={task_id}", f"+task.factory_kwargs.episode_length_s={episode_s}",
            "task.obs_groups=[actor]", "task.priv_groups=[critic]", "task.critic_groups=[]", "task.history_len=10"]


@pytest.mark.parametrize("task_id,envs,students", [
    ("Mjlab-Cartpole-Balance", 16, ("dagger", "adapt")),
    ("Mjlab-Velocity-Flat-Unitree-Go1", 4, ("adapt",)),
])
def test_mjlab_task_through_teacher_students_and_heldout_evaluation(tmp_path, task_id, envs, students):
    task = task_args(task_id, 1.0)
    teacher = tmp_path / "teacher"
    run("teacher.train", *task, f"num_envs={envs}", "ppo.horizon=8", "ppo.num_minibatches=2", "max_iterations=2",
        "save_every=1", f"run_dir={teacher}", *QUIET)
    summary = json.loads((teacher / "summary.json").read_text())
    assert summary["env_steps"] == 2 * 8 * envs and summary["nan_resets_total"] == 0
    runs = [teacher]
    for method in students:
        student = tmp_path / method
        run("student.distill", f"teacher={teacher}", f"method={method}", "iterations=2", "horizon=8",
            f"num_envs={envs}", "batch_size=64", f"eval_envs={envs}", f"run_dir={student}", *QUIET)
        assert (student / "export" / "policy.onnx").is_file()
        runs.append(student)
    out = tmp_path / "eval"
    run("evaluation.evaluate", f"runs=[{','.join(map(str, runs))}]", f"episodes={envs}", "sweep=false",
        f"noadapt_envs={envs}", f"out_dir={out}")
    report = json.loads((out / "report.json").read_text())
    rows = {(r["split"], r["policy"]): r for r in report["rows"]}
    assert set(rows) == {(s, p) for s in ("train", "heldout") for p in ("oracle", "noadapt", *students)}
    assert all(r["episodes"] == envs for r in rows.values())
