"""Config composition: hydra over ``configs/`` onto typed schemas, validated before any work.

Every stage composes its config through ``compose``: YAML files give the values, the
dataclass schemas give the keys, the types, and (through ``choice`` and ``bounded``) the
allowed values and numeric ranges. A wrong key, a wrong type, a value outside its range
or a combination a schema's ``check`` rejects is a ``ConfigError`` naming the key, raised
before a run dir is created or a simulator is built.
"""
from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path
from typing import Any, Sequence

from hydra import compose as hydra_compose
from hydra import initialize_config_dir
from hydra.core.config_store import ConfigStore
from hydra.errors import HydraException
from omegaconf import MISSING, DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

# the module that registers the schema of configs/<name>.yaml (imported when it is composed)
SCHEMA_MODULES = {"teacher": "teacher.config", "student": "student.config", "evaluate": "evaluation.config",
                  "task_only": "envs.config"}
CONFIG_DIR = Path(os.environ.get("APPRENTICE_CONFIG_DIR", Path(__file__).resolve().parent.parent / "configs"))


class ConfigError(ValueError):
    """A config key, value or file that does not exist or does not fit its schema."""


def register_schema(name: str, node: type, group: str | None = None) -> None:
    ConfigStore.instance().store(name=name, node=node, group=group)


def choice(*values: Any, default: Any = MISSING) -> Any:
    """A schema field whose value must be one of ``values``."""
    return dataclasses.field(default=default, metadata={"choices": tuple(values)})


def bounded(*, ge: float | None = None, gt: float | None = None, le: float | None = None,
            lt: float | None = None, default: Any = MISSING) -> Any:
    """A numeric schema field (or list of numbers) that must lie in the given range."""
    return dataclasses.field(default=default, metadata={"range": (ge, gt, le, lt)})


def device_error(key: str, value: str) -> str | None:
    """Why ``value`` cannot be the learner's torch device here (None: it can). The simulation
    stays on the CPU whatever the learner's device."""
    import torch

    try:
        device = torch.device(value)
    except (RuntimeError, TypeError) as err:
        return f"{key}={value!r} is not a torch device ({err}); use cpu, cuda, cuda:<index> or mps"
    if device.type == "cpu":
        return None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return f"{key}={value!r}: torch sees no CUDA device on this machine (torch.cuda.is_available() is False); use {key}=cpu"
        if device.index is not None and device.index >= torch.cuda.device_count():
            return f"{key}={value!r}: this machine has {torch.cuda.device_count()} CUDA device(s); use an index below that"
        return None
    if device.type == "mps":
        return None if torch.backends.mps.is_available() else f"{key}={value!r}: MPS is not available here; use {key}=cpu"
    return f"{key}={value!r}: the learner runs on cpu, cuda or mps, not {device.type}"


def _range_text(ge, gt, le, lt) -> str:
    lo = f"{ge} <= " if ge is not None else f"{gt} < " if gt is not None else ""
    hi = f" <= {le}" if le is not None else f" < {lt}" if lt is not None else ""
    return f"{lo}value{hi}"


def _in_range(v, ge, gt, le, lt) -> bool:
    return not ((ge is not None and v < ge) or (gt is not None and v <= gt)
                or (le is not None and v > le) or (lt is not None and v >= lt))


def validate(cfg: DictConfig, prefix: str = "") -> list[str]:
    """Every violation of the schemas' choices, ranges and checks, each naming its key."""
    errors: list[str] = []
    schema = OmegaConf.get_type(cfg)
    if dataclasses.is_dataclass(schema):
        for f in dataclasses.fields(schema):
            if f.name not in cfg or OmegaConf.is_missing(cfg, f.name):
                continue
            value = cfg[f.name]
            key = f"{prefix}{f.name}"
            if "choices" in f.metadata and value is not None:
                values = list(value) if isinstance(value, ListConfig) else [value]
                bad = [v for v in values if v not in f.metadata["choices"]]
                if bad:
                    errors.append(f"{key}: {bad[0]!r} is not allowed; choose from {list(f.metadata['choices'])}")
            if "range" in f.metadata and value is not None:
                values = list(value) if isinstance(value, ListConfig) else [value]
                if not all(isinstance(v, (int, float)) and _in_range(v, *f.metadata["range"]) for v in values):
                    errors.append(f"{key}={OmegaConf.to_container(value) if isinstance(value, ListConfig) else value!r}"
                                  f" is out of range: needs {_range_text(*f.metadata['range'])}")
        check = getattr(schema, "check", None)
        if check is not None:
            errors += [f"{prefix}{e}" for e in check(cfg)]
    for k in cfg:
        if not OmegaConf.is_missing(cfg, k) and isinstance(cfg[k], DictConfig):
            errors += validate(cfg[k], f"{prefix}{k}.")
    return errors


def compose(config_name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """Compose ``configs/<config_name>.yaml`` with hydra overrides; strict, typed and validated."""
    import envs.config  # noqa: F401  (registers the task schemas)

    if config_name in SCHEMA_MODULES:
        importlib.import_module(SCHEMA_MODULES[config_name])
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
    errors = validate(cfg)
    if errors:
        raise ConfigError(f"config {config_name!r}: " + "; ".join(errors))
    return cfg
