"""Run directories, the code version, and checkpoints that never end up half-written.

Every stage writes a run dir with ``config.yaml`` (resolved), ``code_version.json`` (git
commit and whether the tree was dirty, the diff beside it in ``code.diff``),
``checkpoints/`` and ``summary.json``. A later stage reads only a run dir.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

REPO = Path(__file__).resolve().parent.parent


class CheckpointError(ValueError):
    """A checkpoint that is missing, unreadable, or does not fit the config it is loaded into."""


def default_run_dir(stage: str, task: str, seed: int) -> Path:
    return Path("runs") / stage / f"{task}-{time.strftime('%Y%m%d-%H%M%S')}-s{seed}"


def code_version() -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "HEAD").strip() or None
    diff = git("diff", "HEAD")
    return {"commit": commit, "dirty": bool(diff.strip()), "diff": diff}


def prepare_run_dir(cfg: DictConfig, stage: str) -> Path:
    """Create (or, with resume, reopen) the run dir and record config and code version."""
    run_dir = Path(cfg.run_dir) if cfg.run_dir else default_run_dir(stage, cfg.task.name, cfg.seed)
    if cfg.resume:
        if not (run_dir / "checkpoints" / "last.pt").is_file():
            raise CheckpointError(
                f"resume=true but {run_dir}/checkpoints/last.pt does not exist; "
                "pass run_dir=<an existing run> or drop resume=true"
            )
    elif (run_dir / "checkpoints" / "last.pt").exists():
        raise CheckpointError(
            f"{run_dir} already holds a run; pass resume=true to continue it or another run_dir= to start anew"
        )
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    cfg.run_dir = str(run_dir)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    version = code_version()
    atomic_write_text(run_dir / "code.diff", version.pop("diff"))
    atomic_write_text(run_dir / "code_version.json", json.dumps(version, indent=2) + "\n")
    return run_dir


def load_run_config(run_dir: str | Path, stage: str) -> DictConfig:
    """The resolved config a run was trained with; a clear error if it is not a run dir."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a {stage} run dir: {path} does not exist")
    return OmegaConf.load(path)


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    _atomic(Path(path), lambda f: f.write(text.encode()))


def save_checkpoint(path: Path, payload: dict) -> None:
    _atomic(Path(path), lambda f: torch.save(payload, f))


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; train that stage first or fix the path")
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # a truncated or foreign file
        raise CheckpointError(f"checkpoint {path} cannot be read ({err}); it is not a checkpoint of this project") from err


def check_same(what: str, saved, current) -> None:
    """Raise a CheckpointError naming every key where a checkpoint and a config differ."""
    saved = OmegaConf.to_container(saved) if isinstance(saved, DictConfig) else saved
    current = OmegaConf.to_container(current) if isinstance(current, DictConfig) else current
    if isinstance(saved, dict) and isinstance(current, dict):
        keys = sorted(set(saved) | set(current))
        diffs = [f"{k}: checkpoint {saved.get(k)!r} vs config {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]
    else:
        diffs = [] if saved == current else [f"checkpoint {saved!r} vs config {current!r}"]
    if diffs:
        raise CheckpointError(f"{what} does not match the checkpoint: " + "; ".join(diffs))


def write_summary(run_dir: Path, summary: dict) -> None:
    atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
