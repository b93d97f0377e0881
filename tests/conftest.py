import os

os.environ.setdefault("WANDB_MODE", "disabled")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: idle OpenMP threads must not spin against the simulator

import pytest  # noqa: E402

from envs.config import load_task_cfg  # noqa: E402


@pytest.fixture(scope="session")
def cartpole_cfg():
    return load_task_cfg("cartpole")
