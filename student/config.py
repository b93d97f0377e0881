"""Structured schema of the student stage's config (values in configs/student.yaml).

Allowed values and ranges are checked when the config is composed (``runstore.config``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

from runstore.config import bounded, choice, device_error, register_schema
from teacher.config import LogCfg, label_errors


@dataclass
class StudentCfg:
    teacher: str = MISSING  # the teacher's run dir
    teacher_checkpoint: str = choice("best", "last")
    method: str = choice("dagger", "adapt", "sysid")
    seed: int = bounded(ge=0)
    num_envs: int = bounded(ge=1)
    nthread: int = bounded(ge=0)
    device: str = MISSING  # the learner's torch device (cpu, cuda, cuda:N, mps); the simulation stays on the CPU
    iterations: int = bounded(ge=1)
    horizon: int = bounded(ge=1)  # env steps per env per iteration
    updates_per_iteration: int = bounded(ge=1)
    batch_size: int = bounded(ge=1)
    buffer_size: int = bounded(ge=1)  # aggregated states kept (oldest dropped first)
    learning_rate: float = bounded(gt=0, lt=1)
    loss: str = choice("mse", "huber")
    beta0: float = bounded(ge=0, le=1)  # DAgger: probability of executing the teacher's action at iteration 0
    beta_decay: float = bounded(ge=0, le=1)  # beta_i = beta0 * beta_decay ** i
    encoder: str = choice("mlp", "tcn", "gru")
    encoder_hidden: list[int] = bounded(ge=1)
    latent_dim: int = bounded(ge=1)  # DAgger's history features (adapt uses the teacher's z size)
    actor_hidden: list[int] = bounded(ge=1)  # DAgger's head (adapt reuses the teacher's actor)
    dataset_path: Optional[str] = None  # write the aggregated data to this HDF5 file (a new file)
    offline_dataset: Optional[str] = None  # train from this HDF5 file instead of the env
    offline_epochs: int = bounded(ge=1)
    eval_envs: int = bounded(ge=1)  # episodes of the final evaluation (one per env)
    # mid-episode dynamics resampling while the student trains. None: RMA's 0.004 where the task can
    # resample (apprentice's tasks; DAgger's held-out return +16 on cartpole), none where it cannot
    resample_prob: Optional[float] = bounded(ge=0, le=1, default=None)
    export: bool = MISSING
    label: Optional[str] = None  # names the run's policy in an evaluation, <method>_<label> (an ablation's variant)
    save_every: int = bounded(ge=1)  # iterations between checkpoints (resume continues from the last)
    run_dir: Optional[str] = None
    resume: bool = False
    task: Any = None  # copied from the teacher run by the stage itself; never set by hand
    log: LogCfg = field(default_factory=LogCfg)

    @staticmethod
    def check(cfg) -> list[str]:
        errors = [e for e in [device_error("device", cfg.device)] if e]
        if cfg.batch_size > cfg.buffer_size:
            errors.append(f"batch_size={cfg.batch_size} exceeds buffer_size={cfg.buffer_size}")
        if cfg.dataset_path and cfg.offline_dataset:
            errors.append("dataset_path and offline_dataset are both set: record a dataset or train from one, not both")
        errors += label_errors(cfg.label)
        if cfg.task is not None:
            errors.append("task is copied from the teacher run; do not pass task= (train another teacher instead)")
        return errors


RESUMABLE = ("iterations", "offline_epochs", "save_every", "nthread", "device", "eval_envs", "log.*")

register_schema("student_schema", StudentCfg)
