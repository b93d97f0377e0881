import os

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("MUJOCO_GL", "egl")  # offscreen rendering (videos); read when mujoco is imported
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: idle OpenMP threads must not spin against the simulator

import pytest  # noqa: E402

from envs.config import load_task_cfg  # noqa: E402


@pytest.fixture(scope="session")
def cartpole_cfg():
    return load_task_cfg("cartpole")


@pytest.fixture(scope="session")
def trained_teacher(tmp_path_factory, worker_id):
    """A cartpole teacher trained once per test session (~1M env steps, about a minute). Under
    pytest-xdist (scripts/test.sh runs two workers) the workers share one: the first to ask
    trains it under a file lock, the others wait for it and read its summary."""
    import json

    from filelock import FileLock

    from runstore.config import compose
    from teacher.train import train

    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # every worker's basetemp lies in one directory of the session
        root = root.parent
    run = root / "trained_teacher" / "run"
    with FileLock(str(root / "trained_teacher.lock")):
        if not (run / "summary.json").is_file():
            train(compose("teacher", ["max_iterations=60", f"run_dir={run}", "log.progress=false",
                                      "log.tensorboard=false", "log.print_every=0"]))
    return run, json.loads((run / "summary.json").read_text())
