"""Structured schemas of the teacher stage's config (values live in configs/teacher.yaml).

Allowed values (``choice``) and numeric ranges (``bounded``) are part of the schema and
checked when the config is composed, before a run dir or an env exists.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from omegaconf import MISSING

from runstore.config import bounded, choice, device_error, register_schema


@dataclass
class PolicyCfg:
    actor_input: str = choice("privileged", "history", "obs")  # teacher | DR baseline | plain PPO
    latent_dim: int = bounded(ge=1)  # z for the teacher; history features for DR
    latent_noise: float = bounded(ge=0)  # std of Gaussian noise on z in teacher training (0: none)
    normalize_obs: bool = MISSING  # running mean/std normalization of the actor's obs (false: raw obs)
    priv_encoder_hidden: list[int] = bounded(ge=1)
    history_encoder: str = choice("mlp", "tcn", "gru")  # history actor only
    history_hidden: list[int] = bounded(ge=1)
    actor_hidden: list[int] = bounded(ge=1)
    critic_hidden: list[int] = bounded(ge=1)
    actor_out_gain: float = bounded(gt=0)  # the actor's last layer scaled at init (1: PyTorch's default, as rsl_rl)
    init_std: float = bounded(gt=0)
    std_schedule: str = choice("learned", "linear")  # linear: init_std -> final_std over training
    final_std: float = bounded(gt=0)
    # linear only (a learned std ignores it, as it does final_std): the iterations over which the std
    # falls, then held at final_std (null: max_iterations). Set it when a run may be resumed for
    # longer, or its std would jump back up with max_iterations
    std_decay_iterations: Optional[int] = bounded(ge=1, default=None)


@dataclass
class PPOCfg:
    objective: str = choice("clip", "kl")
    horizon: int = bounded(ge=1)  # steps per env per iteration
    epochs: int = bounded(ge=1)
    num_minibatches: int = bounded(ge=1)  # at most horizon * num_envs (checked by TeacherCfg)
    gamma: float = bounded(gt=0, le=1)
    lam: float = bounded(ge=0, le=1)
    clip: float = bounded(gt=0)
    clip_value_loss: bool = MISSING
    normalize_advantage: bool = MISSING
    entropy_coef: float = bounded(ge=0)
    value_coef: float = bounded(ge=0)
    max_grad_norm: float = bounded(gt=0)
    learning_rate: float = bounded(gt=0, lt=1)
    lr_schedule: str = choice("adaptive", "fixed", "linear")
    desired_kl: float = bounded(gt=0)  # for the adaptive learning rate
    kl_target: float = bounded(gt=0)  # d_targ of the PPO-KL penalty
    init_beta: float = bounded(ge=0)
    teacher_coef: float = bounded(ge=0)  # fine-tuning only: weight of MSE to the teacher's action (kickstarting)
    teacher_coef_schedule: str = choice("fixed", "linear")  # linear: teacher_coef -> 0 over the run


@dataclass
class LogCfg:
    wandb_mode: str = choice("disabled", "offline", "online")
    wandb_project: str = MISSING
    tensorboard: bool = MISSING
    progress: bool = MISSING  # a progress bar on the console
    print_every: int = bounded(ge=0)  # iterations between console lines (0: none)
    return_window: int = bounded(ge=1)  # finished episodes averaged into mean_return


def label_errors(label: str | None) -> list[str]:
    """A run's label goes into policy names, report tables and HDF5 group names."""
    if label is None or re.fullmatch(r"[a-z0-9][a-z0-9_]*", str(label)):
        return []
    return [f"label={label!r}: use lowercase letters, digits and '_' (it becomes part of a policy's name, "
            "e.g. dagger_<label>)"]


@dataclass
class TeacherCfg:
    task: Any = MISSING
    trainer: str = choice("apprentice", "rl_games")  # whose PPO loop trains the policy (teacher/rl_games_trainer.py)
    seed: int = bounded(ge=0)
    num_envs: int = bounded(ge=1)
    max_iterations: int = bounded(ge=1)
    nthread: int = bounded(ge=0)  # simulator threads; 0 = all cores
    device: str = MISSING  # the learner's torch device (cpu, cuda, cuda:N, mps); the simulation stays on the CPU
    run_dir: Optional[str] = None  # default: runs/<stage>/<task>-<time>-s<seed>
    resume: bool = False
    save_every: int = bounded(ge=1)
    overlap: bool = MISSING  # collect the next rollout while the learner updates (teacher/collector.py)
    init_from: Optional[str] = None  # a DAgger student run to fine-tune with PPO (teacher/finetune.py)
    heldout_eval_envs: int = bounded(ge=0)  # held-out episodes run at the end, reported in summary.json (0: none)
    label: Optional[str] = None  # names the run's policies in an evaluation, e.g. oracle_<label> (an ablation's variant)
    policy: PolicyCfg = field(default_factory=PolicyCfg)
    ppo: PPOCfg = field(default_factory=PPOCfg)
    log: LogCfg = field(default_factory=LogCfg)

    @staticmethod
    def check(cfg) -> list[str]:
        errors = []
        batch = cfg.ppo.horizon * cfg.num_envs
        if cfg.ppo.num_minibatches > batch:
            errors.append(f"ppo.num_minibatches={cfg.ppo.num_minibatches} exceeds the batch of ppo.horizon x num_envs "
                          f"= {batch} samples (each minibatch needs at least one); lower it or raise num_envs")
        if cfg.init_from is not None and not Path(cfg.init_from).is_dir():
            errors.append(f"init_from={cfg.init_from!r} is not a run dir; pass init_from=<the DAgger student's run dir>")
        if cfg.init_from is not None and cfg.policy.actor_input != "history":
            errors.append(f"init_from={cfg.init_from} fine-tunes a DAgger student, a history actor: "
                          "pass policy.actor_input=history")
        if cfg.ppo.teacher_coef > 0 and cfg.init_from is None:
            errors.append(f"ppo.teacher_coef={cfg.ppo.teacher_coef} weighs a teacher's actions in PPO fine-tuning: "
                          "pass init_from=<the DAgger student's run dir> (its teacher is the one used), or set it to 0")
        errors += label_errors(cfg.label)
        bad_device = device_error("device", cfg.device)
        if bad_device:
            errors.append(bad_device)
        if cfg.trainer == "rl_games":
            unsupported = {"ppo.objective": (cfg.ppo.objective, "clip"), "policy.latent_noise": (cfg.policy.latent_noise, 0.0),
                           "policy.std_schedule": (cfg.policy.std_schedule, "learned"), "overlap": (cfg.overlap, False),
                           "device": (cfg.device, "cpu"), "init_from": (cfg.init_from, None),
                           "ppo.teacher_coef": (cfg.ppo.teacher_coef, 0.0)}
            errors += [f"{k}={v!r} is not available with trainer=rl_games (needs {need!r})"
                       for k, (v, need) in unsupported.items() if v != need]
        return errors


# what a resume may change; any other key differing from the run's config.yaml is refused. The
# label only names the run's policies in an evaluation: a copy of a run resumed for longer (a
# snapshot of a budget curve, benchmarks/go2_budget.sh) takes a label of its own; a linear std
# schedule's length may be fixed on a resume (policy.std_decay_iterations) so that a longer run
# holds the std it ended at instead of restarting the fall from a higher one; the rate of
# mid-episode resampling may change too (a curriculum: the gait learned without resampling, then
# trained on with it; its recent returns and best.pt start over, teacher/train.py)
RESUMABLE = ("max_iterations", "save_every", "nthread", "device", "heldout_eval_envs", "label", "log.*",
             "policy.std_decay_iterations", "task.resample_prob")

register_schema("teacher_schema", TeacherCfg)
