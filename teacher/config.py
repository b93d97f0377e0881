"""Structured schemas of the teacher stage's config (values live in configs/teacher.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from omegaconf import MISSING

from envs.config import register_schema


@dataclass
class PolicyCfg:
    actor_input: str = MISSING  # privileged (teacher) | history (DR baseline) | obs (plain PPO)
    latent_dim: int = MISSING  # z for the teacher; history features for DR
    latent_noise: float = MISSING  # std of Gaussian noise on z in teacher training (0: none)
    priv_encoder_hidden: list[int] = MISSING
    history_encoder: str = MISSING  # mlp | tcn | gru (history actor only)
    history_hidden: list[int] = MISSING
    actor_hidden: list[int] = MISSING
    critic_hidden: list[int] = MISSING
    init_std: float = MISSING
    std_schedule: str = MISSING  # learned | linear (init_std -> final_std over training)
    final_std: float = MISSING


@dataclass
class PPOCfg:
    objective: str = MISSING  # clip | kl
    horizon: int = MISSING  # steps per env per iteration
    epochs: int = MISSING
    num_minibatches: int = MISSING
    gamma: float = MISSING
    lam: float = MISSING
    clip: float = MISSING
    clip_value_loss: bool = MISSING
    normalize_advantage: bool = MISSING
    entropy_coef: float = MISSING
    value_coef: float = MISSING
    max_grad_norm: float = MISSING
    learning_rate: float = MISSING
    lr_schedule: str = MISSING  # adaptive | fixed | linear
    desired_kl: float = MISSING  # for the adaptive learning rate
    kl_target: float = MISSING  # d_targ of the PPO-KL penalty
    init_beta: float = MISSING


@dataclass
class LogCfg:
    wandb_mode: str = MISSING  # disabled | offline | online
    wandb_project: str = MISSING
    tensorboard: bool = MISSING
    progress: bool = MISSING  # a progress bar on the console
    print_every: int = MISSING  # iterations between console lines
    return_window: int = MISSING  # finished episodes averaged into mean_return


@dataclass
class TeacherCfg:
    task: Any = MISSING
    seed: int = MISSING
    num_envs: int = MISSING
    max_iterations: int = MISSING
    nthread: int = MISSING  # simulator threads; 0 = all cores
    run_dir: Optional[str] = None  # default: runs/<stage>/<task>-<time>-s<seed>
    resume: bool = False
    save_every: int = MISSING
    policy: PolicyCfg = field(default_factory=PolicyCfg)
    ppo: PPOCfg = field(default_factory=PPOCfg)
    log: LogCfg = field(default_factory=LogCfg)


register_schema("teacher_schema", TeacherCfg)
