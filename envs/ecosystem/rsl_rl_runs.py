"""Policies trained by rsl_rl's own runners, written as apprentice runs, so an evaluation
reads them beside apprentice's on the same episodes (``evaluation/policies.py``).

    save_run(run_dir, runner.alg.get_policy(), model_cfg, role="teacher", task_cfg=..., ...)

A run holds ``config.yaml`` (the task config the env was made with, rsl_rl's runner config,
the role), ``code_version.json``, ``checkpoints/last.pt`` and ``summary.json``, as every
run does. The checkpoint holds the policy's ``state_dict``, its observation groups and their
widths, and its model config: plain data, read with ``weights_only=True``. The model class
is looked up by name among those this module allows (``MODELS``), from the installed rsl_rl,
never from the file.

Roles: ``teacher`` (PPO on ``policy`` + ``privileged``: evaluated as ``rsl_rl_teacher``, not
deployable) and ``student`` (Distillation; evaluated as ``rsl_rl_student``). A student is
deployable only if it reads nothing but ``proprio_hist`` and ``policy``; it is then called
with those groups alone, built from ``proprio_hist``, so it cannot read privileged inputs.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
from omegaconf import DictConfig, OmegaConf

from runstore.store import (CheckpointError, load_checkpoint, load_run_config, prepare_run_dir, save_checkpoint,
                            write_summary)

STAGE = "rsl_rl"
ROLES = ("teacher", "student")
MODELS = ("MLPModel",)
MODEL_KEYS = ("class_name", "hidden_dims", "activation", "obs_normalization", "distribution_cfg")


def save_run(run_dir: str | Path, model: torch.nn.Module, model_cfg: dict, role: str, task_cfg: DictConfig,
             runner_cfg: dict, seed: int, num_actions: int, group_dims: dict[str, int],
             summary: dict | None = None) -> Path:
    """Write an rsl_rl policy (``runner.alg.get_policy()``) as a run; refuses, before writing,
    an unknown role or model class, or a ``run_dir`` that is not new or empty."""
    if role not in ROLES:
        raise ValueError(f"role={role!r}: an rsl_rl run is one of {ROLES}")
    cfg = {k: model_cfg.get(k) for k in MODEL_KEYS if k in model_cfg}
    if cfg.get("class_name") not in MODELS:
        raise ValueError(f"model_cfg.class_name={cfg.get('class_name')!r}: an rsl_rl run holds one of {MODELS}")
    groups = list(model.obs_groups)
    unknown = [g for g in groups if g not in group_dims]
    if unknown:
        raise ValueError(f"the policy reads groups {unknown} that group_dims does not give")
    # the run store's own run dir: refuses a dir that is not new or empty, writes config and code version
    run_dir, _ = prepare_run_dir(OmegaConf.create({"trainer": "rsl_rl", "role": role, "seed": seed, "resume": False,
                                                   "run_dir": str(run_dir), "task": task_cfg, "rsl_rl": runner_cfg}),
                                 STAGE)
    save_checkpoint(run_dir / "checkpoints" / "last.pt", {
        "stage": STAGE, "role": role, "model": cfg, "groups": groups,
        "group_dims": {g: int(group_dims[g]) for g in groups}, "num_actions": int(num_actions),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}})
    write_summary(run_dir, {"trainer": "rsl_rl", "role": role, **(summary or {})})
    return run_dir


def load_policy(run_dir: str | Path) -> tuple[str, Callable[[dict], torch.Tensor], bool, DictConfig]:
    """(name, act, deployable, run config) of an rsl_rl run. ``act`` takes apprentice's obs dict
    (a deployable student only its ``proprio_hist``) and returns actions in [-1, 1], never non-finite."""
    from rsl_rl.models import MLPModel
    from tensordict import TensorDict

    from envs.ecosystem.to_rsl_rl import DEPLOYABLE_GROUPS, as_groups

    ckpt = load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt", STAGE,
                           ("role", "model", "groups", "group_dims", "num_actions", "state_dict"))
    cfg = load_run_config(run_dir, "rsl_rl")
    model_cfg = dict(ckpt["model"])
    if model_cfg.pop("class_name", None) not in MODELS or ckpt["role"] not in ROLES:
        raise CheckpointError(f"{run_dir}: model {ckpt['model'].get('class_name')!r} / role {ckpt['role']!r} "
                              f"is not one this version reads ({MODELS}, {ROLES})")
    groups, dims = ckpt["groups"], ckpt["group_dims"]
    probe = TensorDict({g: torch.zeros(1, dims[g]) for g in groups}, batch_size=[1])
    model = MLPModel(probe, {"actor": groups}, "actor", ckpt["num_actions"], **model_cfg)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError as err:
        raise CheckpointError(f"{run_dir}: the weights do not fit the saved model config ({err})") from err
    model.eval()
    deployable = ckpt["role"] == "student" and all(g in DEPLOYABLE_GROUPS for g in groups)

    @torch.no_grad()
    def act(obs: dict) -> torch.Tensor:
        if deployable:  # built from the history alone: its last row is the current obs
            hist = obs["proprio_hist"]
            groups_in = TensorDict({"proprio_hist": hist.flatten(1), "policy": hist[:, -1]}, batch_size=[len(hist)])
        else:
            groups_in = as_groups(obs)
        a = model(groups_in)  # the model reads its own groups from these
        return torch.where(torch.isfinite(a), a, torch.zeros_like(a)).clamp(-1.0, 1.0)

    return f"rsl_rl_{ckpt['role']}", act, deployable, cfg
