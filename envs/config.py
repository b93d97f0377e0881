"""The task configs: each task's schema registered for hydra, and ``load_task_cfg``.

Composition itself (``compose``, ``ConfigError``) lives in ``runstore.config``.
"""
from __future__ import annotations

from typing import Sequence

from omegaconf import DictConfig

from envs.registry import TASKS
from runstore.config import ConfigError, compose, register_schema

for _task, (_schema, _) in TASKS.items():
    register_schema(f"{_task}_schema", _schema, group="task")


def load_task_cfg(name: str = "cartpole", overrides: Sequence[str] = ()) -> DictConfig:
    """A task's config alone (``configs/task/<name>.yaml``), for tests and tools."""
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}")
    return compose("task_only", [f"task={name}", *overrides]).task
