"""Loading configs: hydra composition from ``configs/`` onto structured, typed schemas.

Every stage composes its config through ``compose``: YAML files give the values, the
dataclass schemas registered here (tasks) and by each stage give the keys and types, so a
wrong key or a wrong type is an error that names it.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from envs.registry import TASKS

CONFIG_DIR = Path(os.environ.get("APPRENTICE_CONFIG_DIR", Path(__file__).resolve().parent.parent / "configs"))


class ConfigError(ValueError):
    """A config key, value or file that does not exist or does not fit its schema."""


def register_schema(name: str, node: type, group: str | None = None) -> None:
    ConfigStore.instance().store(name=name, node=node, group=group)


for _task, (_schema, _) in TASKS.items():
    register_schema(f"{_task}_schema", _schema, group="task")


def compose(config_name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``configs/<config_name>.yaml`` with hydra overrides; strict and typed."""
    if not (CONFIG_DIR / f"{config_name}.yaml").is_file():
        raise ConfigError(f"no config {config_name!r} in {CONFIG_DIR}")
    try:
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
        OmegaConf.resolve(cfg)
        missing = sorted(OmegaConf.missing_keys(cfg))
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(
            f"config {config_name!r} with overrides {list(overrides)}: {err}\n"
            f"(check the key's spelling and type against configs/{config_name}.yaml)"
        ) from err
    if missing:
        raise ConfigError(f"config {config_name!r} leaves keys without a value: {missing}")
    return cfg


def load_task_cfg(name: str = "cartpole", overrides: Sequence[str] = ()) -> DictConfig:
    """A task's config alone (``configs/task/<name>.yaml``), for tests and tools."""
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; known tasks: {sorted(TASKS)}")
    return compose("task_only", [f"task={name}", *overrides]).task
