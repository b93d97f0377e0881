"""Structured schema of the student stage's config (values in configs/student.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

from envs.config import register_schema
from teacher.config import LogCfg


@dataclass
class StudentCfg:
    teacher: str = MISSING  # the teacher's run dir
    teacher_checkpoint: str = MISSING  # best | last
    method: str = MISSING  # dagger | adapt | sysid
    seed: int = MISSING
    num_envs: int = MISSING
    nthread: int = MISSING
    iterations: int = MISSING
    horizon: int = MISSING  # env steps per env per iteration
    updates_per_iteration: int = MISSING
    batch_size: int = MISSING
    buffer_size: int = MISSING  # aggregated states kept (oldest dropped first)
    learning_rate: float = MISSING
    loss: str = MISSING  # mse | huber
    beta0: float = MISSING  # DAgger: probability of executing the teacher's action at iteration 0
    beta_decay: float = MISSING  # beta_i = beta0 * beta_decay ** i
    encoder: str = MISSING  # mlp | tcn | gru
    encoder_hidden: list[int] = MISSING
    latent_dim: int = MISSING  # DAgger's history features (adapt uses the teacher's z size)
    actor_hidden: list[int] = MISSING  # DAgger's head (adapt reuses the teacher's actor)
    dataset_path: Optional[str] = None  # write the aggregated data to this HDF5 file
    offline_dataset: Optional[str] = None  # train from this HDF5 file instead of the env
    offline_epochs: int = MISSING
    eval_envs: int = MISSING  # episodes of the final evaluation (one per env)
    export: bool = MISSING
    run_dir: Optional[str] = None
    resume: bool = False
    task: Any = None  # copied from the teacher run by the stage itself; never set by hand
    log: LogCfg = field(default_factory=LogCfg)


register_schema("student_schema", StudentCfg)
