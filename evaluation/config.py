"""Structured schema of the evaluation config (values in configs/evaluate.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

from runstore.config import bounded, choice, register_schema


@dataclass
class EvalCfg:
    runs: list[str] = MISSING  # run dirs: teachers (oracle + noadapt), DR runs, students
    episodes: int = bounded(ge=1)  # per split and policy (one per env, paired)
    seed: int = bounded(ge=0)
    splits: Optional[list[str]] = choice("train", "heldout", "extreme", "nominal", default=None)  # None: all the task's but nominal
    ranges: dict[str, Any] = field(default_factory=dict)  # extra named splits: {name: {param: [[lo, hi], ...]}}
    sweep: bool = MISSING  # each parameter alone across train and held-out values, others nominal
    sweep_points: int = bounded(ge=2)
    sweep_episodes: int = bounded(ge=1)  # per point, on average (all points share one batch)
    sweep_params: list[str] = field(default_factory=list)  # which parameters to sweep; empty: all
    video: bool = MISSING  # a GIF per policy on one held-out sample (needs MUJOCO_GL=egl or osmesa)
    video_seconds: float = bounded(gt=0)
    nthread: int = bounded(ge=0)
    resample_prob: Optional[float] = bounded(ge=0, le=1, default=None)  # mid-episode resampling in every split (None: the teachers' training rate)
    reference: Optional[str] = None  # a policy name (e.g. dagger): every other deployable policy is also compared with it, paired
    teacher_reference: Optional[str] = None  # a privileged policy (e.g. rsl_rl_teacher): every other privileged one (the oracle) is compared with it, paired
    clipped_oracle: bool = MISSING  # also each teacher told the nearest training dynamics: does z's extrapolation help it on held-out splits?
    zero_action: bool = MISSING  # also the policy that always acts 0 (Go2: stands still), a deployable baseline
    noadapt_envs: int = bounded(ge=1)  # envs whose training-split states give NoAdapt's fixed z (mean)
    out_dir: Optional[str] = None  # default: runs/eval/<task>-<time>
    overwrite: bool = False  # replace an existing report in out_dir (otherwise refused)

    @staticmethod
    def check(cfg) -> list[str]:
        errors = []
        if not cfg.runs:
            errors.append("runs is empty: pass runs=[<run dir>,...]")
        if cfg.splits is not None and not cfg.splits and not cfg.ranges and not cfg.sweep:
            errors.append("nothing to evaluate: splits and ranges are empty and sweep=false")
        clash = set(cfg.ranges) & {"train", "heldout", "extreme", "nominal"}
        if clash:
            errors.append(f"ranges names {sorted(clash)}, which are built-in splits; name them otherwise")
        return errors


register_schema("evaluate_schema", EvalCfg)
