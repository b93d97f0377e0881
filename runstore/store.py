"""Run directories, the code version, and checkpoints that are never half-written or unsafe.

Every stage writes a run dir with ``config.yaml`` (resolved), ``code_version.json`` (git
commit and whether the tree was dirty, the diff beside it in ``code.diff``, and the
``environment``: Python, the computing packages' versions, the CPU and torch's kernels),
``checkpoints/`` and ``summary.json``. A later stage reads only a run dir.

The lifecycle of a run dir (``prepare_run_dir``):
- a new run needs a run dir that does not exist or is empty;
- a dir with ``config.yaml`` but no ``checkpoints/last.pt`` was left by a start that
  failed before its first checkpoint: it is reported, never silently reused;
- ``resume=true`` continues from ``checkpoints/last.pt``; the config may differ from the
  saved one only in the keys the stage declares resumable (e.g. ``max_iterations``,
  logging), every other difference is refused by name. Each resume is recorded in
  ``resumes.jsonl`` (with the version and environment it ran in); ``code_version.json``
  keeps the ones the run started with.

Checkpoints hold tensors and plain data only and are read with ``weights_only=True``: a
shared run dir cannot execute code on load.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import Sequence

import torch
from omegaconf import DictConfig, OmegaConf

REPO = Path(__file__).resolve().parent.parent


class CheckpointError(ValueError):
    """A run dir or checkpoint that is missing, unreadable, unsafe, or does not fit its config."""


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
    return {"commit": commit, "dirty": bool(diff.strip()), "diff": diff, "environment": environment()}


# the installed packages whose arithmetic or sampling reaches a run's numbers
NUMERIC_PACKAGES = ("torch", "numpy", "mujoco", "mujoco-warp", "warp-lang", "scipy", "rsl-rl-lib", "rl-games",
                    "onnxruntime")


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment() -> dict:
    """What besides the code decides a run's numbers. Training repeats bit for bit only where
    all of it matches: the same commit on another CPU (other vector kernels in torch) or with
    another package version is another draw of the same training."""
    packages = {}
    for name in NUMERIC_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {
        "python": platform.python_version(),
        "packages": packages,
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads(),
    }


def config_diff(saved, current, prefix: str = "") -> dict[str, tuple]:
    """{dotted key: (saved, current)} for every leaf where two configs differ."""
    saved = OmegaConf.to_container(saved, resolve=True) if isinstance(saved, DictConfig) else saved
    current = OmegaConf.to_container(current, resolve=True) if isinstance(current, DictConfig) else current
    if isinstance(saved, dict) and isinstance(current, dict):
        out: dict[str, tuple] = {}
        for k in sorted(set(saved) | set(current), key=str):
            out.update(config_diff(saved.get(k), current.get(k), f"{prefix}{k}."))
        return out
    return {} if saved == current else {prefix.rstrip("."): (saved, current)}


def _matches(key: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, p) for p in patterns)


def prepare_run_dir(cfg: DictConfig, stage: str, resumable: Sequence[str] = (), iterations: int | None = None,
                    checkpoint_stage: str | None = None, required: Sequence[str] = ()) -> tuple[Path, dict | None]:
    """Create (or, with resume, reopen) the run dir and record config and code version.

    Returns the run dir and, with ``resume=true``, its last checkpoint (checked against
    ``checkpoint_stage`` and ``required`` keys), with ``resume_changes``: what this resume
    changed, key -> [the run's value, now's], as ``resumes.jsonl`` records it. ``resumable``: glob patterns of the keys
    a resume may change (``max_iterations``, ``log.*``); any other difference from the
    saved ``config.yaml`` is refused by name, and so is resuming a finished run (a
    ``summary.json`` and ``iterations`` already done). Nothing in the dir is written
    before every check has passed.
    """
    run_dir = Path(cfg.run_dir) if cfg.run_dir else default_run_dir(stage, cfg.task.name, cfg.seed)
    last = run_dir / "checkpoints" / "last.pt"
    if cfg.resume:
        if not last.is_file():
            hint = (" (its config.yaml shows a start that failed before the first checkpoint: "
                    f"remove {run_dir} and start anew)") if (run_dir / "config.yaml").is_file() else ""
            raise CheckpointError(f"resume=true but {last} does not exist{hint}; "
                                  "pass run_dir=<an existing run> or drop resume=true")
        ckpt = load_checkpoint(last, checkpoint_stage, required)
        done = int(ckpt.get("iteration", 0))
        if iterations is not None and done >= iterations and (run_dir / "summary.json").is_file():
            raise CheckpointError(f"{run_dir} already finished {done} iterations; "
                                  "raise the iteration count to continue it, or start a new run_dir")
        saved = load_run_config(run_dir, stage)
        cfg.run_dir = str(run_dir)
        changed = config_diff(saved, cfg)
        refused = {k: v for k, v in changed.items() if not _matches(k, ("resume", "run_dir", *resumable))}
        if refused:
            raise CheckpointError(
                f"resume=true with a config that differs from {run_dir}/config.yaml: "
                + "; ".join(f"{k}: run {a!r} vs now {b!r}" for k, (a, b) in refused.items())
                + f". A resume may change only {list(resumable)}; start a new run_dir for other changes"
            )
        atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
        version = code_version()
        ckpt["resume_changes"] = {k: list(v) for k, v in changed.items()}
        with open(run_dir / "resumes.jsonl", "a") as f:
            f.write(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "commit": version["commit"],
                                "dirty": version["dirty"], "environment": version["environment"],
                                "from_iteration": done, "changed": ckpt["resume_changes"]}) + "\n")
        return run_dir, ckpt
    if last.exists():
        raise CheckpointError(
            f"{run_dir} already holds a run; pass resume=true to continue it or another run_dir= to start anew"
        )
    if (run_dir / "config.yaml").is_file():
        raise CheckpointError(
            f"{run_dir} was left by a start that failed before its first checkpoint (config.yaml, no "
            f"checkpoints/last.pt); nothing in it can be resumed: remove it or pass another run_dir="
        )
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        raise CheckpointError(f"run_dir {run_dir} exists and is not an empty directory; pass another run_dir=")
    (run_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
    cfg.run_dir = str(run_dir)
    atomic_write_text(run_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    version = code_version()
    atomic_write_text(run_dir / "code.diff", version.pop("diff"))
    atomic_write_text(run_dir / "code_version.json", json.dumps(version, indent=2) + "\n")
    return run_dir, None


def load_run_config(run_dir: str | Path, stage: str) -> DictConfig:
    """The resolved config a run was trained with; a clear error if it is not a run dir."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a {stage} run dir: {path} does not exist")
    try:
        return OmegaConf.load(path)
    except Exception as err:
        raise CheckpointError(f"{path} cannot be read as a config ({err}); the run dir is damaged") from err


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


def finished_or_cleared(run_dir: Path) -> dict | None:
    """For a benchmark rerun to finish what a stopped one left: the summary of a run that
    finished, or None once whatever a stopped run left in ``run_dir`` is removed (it starts over)."""
    run_dir = Path(run_dir)
    if (run_dir / "summary.json").is_file():
        return json.loads((run_dir / "summary.json").read_text())
    shutil.rmtree(run_dir, ignore_errors=True)
    return None


def atomic_write_text(path: Path, text: str) -> None:
    _atomic(Path(path), lambda f: f.write(text.encode()))


def save_checkpoint(path: Path, payload: dict) -> None:
    _atomic(Path(path), lambda f: torch.save(payload, f))


def load_checkpoint(path: str | Path, stage: str | None = None, required: Sequence[str] = ()) -> dict:
    """A checkpoint's tensors and plain data; never executes code stored in the file.

    ``stage`` and ``required``: what the caller needs; a checkpoint of another stage or
    one missing a key is a ``CheckpointError`` naming it, never a ``KeyError`` later.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist; train that stage first or fix the path")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file, or one that holds code (refused unrun)
        raise CheckpointError(
            f"checkpoint {path} cannot be read safely ({type(err).__name__}: {str(err).splitlines()[0][:200]}); "
            "it is not a checkpoint of this project (checkpoints hold tensors and plain data only)"
        ) from err
    if not isinstance(ckpt, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(ckpt).__name__}, not a checkpoint dict")
    if stage is not None and ckpt.get("stage") != stage:
        raise CheckpointError(f"{path} is a {ckpt.get('stage')!r} checkpoint, not a {stage} one")
    missing = [k for k in required if k not in ckpt]
    if missing:
        raise CheckpointError(f"checkpoint {path} lacks {missing}; it was written by another version or is damaged")
    return ckpt


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


def file_sha256(path: str | Path) -> str | None:
    """The sha256 of a run file (a checkpoint, a config); None if it does not exist."""
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def write_summary(run_dir: Path, summary: dict) -> None:
    atomic_write_text(run_dir / "summary.json", json.dumps(summary, indent=2) + "\n")
