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
def trained_teacher(tmp_path_factory):
    """A cartpole teacher trained once per test session (~1M env steps, about a minute)."""
    from runstore.config import compose
    from teacher.train import train

    run = tmp_path_factory.mktemp("teacher") / "run"
    summary = train(compose("teacher", ["max_iterations=60", f"run_dir={run}", "log.progress=false",
                                        "log.tensorboard=false", "log.print_every=0"]))
    return run, summary
