"""Structured schema of the evaluation config (values in configs/evaluate.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

from envs.config import register_schema


@dataclass
class EvalCfg:
    runs: list[str] = MISSING  # run dirs: teachers (oracle + noadapt), DR runs, students
    episodes: int = MISSING  # per split and policy (one per env, paired)
    seed: int = MISSING
    splits: list[str] = MISSING  # any of train, heldout, nominal
    ranges: dict[str, Any] = field(default_factory=dict)  # extra named splits: {name: {param: [[lo, hi], ...]}}
    sweep: bool = MISSING  # each parameter alone across train and held-out values, others nominal
    sweep_points: int = MISSING
    sweep_episodes: int = MISSING  # per point, on average (all points share one batch)
    sweep_params: list[str] = field(default_factory=list)  # which parameters to sweep; empty: all
    video: bool = MISSING  # a GIF per policy on one held-out sample (needs MUJOCO_GL=egl or osmesa)
    video_seconds: float = MISSING
    nthread: int = MISSING
    out_dir: Optional[str] = None


register_schema("evaluate_schema", EvalCfg)
