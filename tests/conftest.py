import os

os.environ.setdefault("WANDB_MODE", "disabled")

import pytest  # noqa: E402

from envs.config import load_task_cfg  # noqa: E402


@pytest.fixture(scope="session")
def cartpole_cfg():
    return load_task_cfg("cartpole")
