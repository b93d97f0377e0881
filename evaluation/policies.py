"""Policies to evaluate, loaded from run dirs: each a name and a function of the obs dict.

- a teacher run gives ``oracle`` (the teacher with the true ``priv_info``) and ``noadapt``
  (its base actor with z fixed to the mean z over training-split states);
- a DR run (PPO with the history actor) gives ``dr``; a DAgger student fine-tuned by PPO
  (``init_from``, teacher/finetune.py) gives ``dagger_ppo``;
- a Robust run (PPO on ``obs`` alone: randomization, no latent, no history; RMA's
  "Robust") gives ``robust``, a deployable policy that reads only the last history row;
- a student run gives its method (``dagger``, ``adapt``, ``sysid``), suffixed by its history
  encoder when that is not the default MLP (``adapt_tcn``);
- a run trained by rsl_rl's own runners (``envs/ecosystem/rsl_rl_runs.py``) gives
  ``rsl_rl_teacher`` (privileged) or ``rsl_rl_student`` (deployable if it reads only the history).
With ``clipped_oracle=true`` a teacher run also gives ``clipped_oracle``: the teacher with each
dynamics parameter of ``priv_info`` clipped to its training range (the nearest dynamics it was
trained on), privileged; on a held-out split, the oracle's gain over it is what z's extrapolation
beyond the training ranges buys (negative: z extrapolates badly). On the train split the two are
the same policy.
With ``zero_action=true`` the evaluation adds ``zero_action``, the policy that always acts 0 (Go2: the
joint targets stay at the default pose, so it stands; cartpole: no force): the floor a trained policy
must clear, deployable and read as a baseline. A run's ``label`` (teacher and student configs) is appended to each of its names
(``dagger_long``, ``oracle_noise``): variants of one method side by side in one evaluation.
Deployable policies are called with ``proprio_hist`` alone.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from envs import make_env
from envs.randomization import normalizer
from envs.registry import TRAIN_RESAMPLE_PROB, can_resample
from student.load import load_student
from student.policy import ConstantLatent, DeployablePolicy, history_actor_as_deployable
from runstore.store import CheckpointError, load_checkpoint, load_run_config
from teacher.load import load_run


@dataclass
class EvalPolicy:
    name: str
    run_dir: str
    act: Callable[[dict], torch.Tensor]
    deployable: bool


ZERO_ACTION = "zero_action"  # the do-nothing policy's name (and run dir: no training makes it)
CLIPPED_ORACLE = "clipped_oracle"  # not oracle_*: a labelled oracle stays the one the report divides by


def zero_action(num_actions: int) -> EvalPolicy:
    """The do-nothing baseline: zeros for every env, whatever the history says."""
    return EvalPolicy(ZERO_ACTION, ZERO_ACTION,
                      lambda obs: obs["proprio_hist"].new_zeros(obs["proprio_hist"].shape[0], num_actions), True)


def deployable(policy: DeployablePolicy) -> Callable[[dict], torch.Tensor]:
    return lambda obs: policy(obs["proprio_hist"])


@torch.no_grad()
def mean_training_latent(teacher, task_cfg, num_envs: int = 256, seed: int = 12345) -> torch.Tensor:
    """Mean z over states the teacher visits on the training split (the NoAdapt latent)."""
    env = make_env(task_cfg, num_envs=num_envs, seed=seed)
    obs, zs = env.reset(), []
    for _ in range(env.max_episode_length // 2):
        zs.append(teacher.latent(obs["priv_info"]))
        obs, *_ = env.step(teacher.action_mean(obs))
    return torch.cat(zs).mean(0)



def clipped_to_training(teacher, task_cfg) -> Callable[[dict], torch.Tensor]:
    """The teacher's action with each dynamics parameter of ``priv_info`` (its first entries,
    normalized by the train ranges) clipped to its normalized train range; the simulator-only
    state after them is left as it is."""
    specs = make_env(task_cfg, num_envs=1).param_specs
    centre, half = normalizer(specs)
    lo = torch.from_numpy((np.array([s.train[0] for s in specs]) - centre) / half)  # -1, or 0 for a fixed one
    hi = torch.from_numpy((np.array([s.train[1] for s in specs]) - centre) / half)
    n = len(specs)

    def act(obs: dict) -> torch.Tensor:
        priv = obs["priv_info"]
        params = torch.clamp(priv[:, :n], lo.to(priv.dtype), hi.to(priv.dtype))
        return teacher.action_mean({**obs, "priv_info": torch.cat([params, priv[:, n:]], dim=1)}).clamp(-1, 1)
    return act


def resampled_suffix(task_cfg) -> str:
    """``_rs<rate>`` for a stage-two policy (student, fine-tuned student) trained at another rate of
    mid-episode resampling than the default (``dagger_rs0`` beside ``dagger``); the teacher and the
    baselines keep the names the report compares against."""
    if not can_resample(task_cfg):
        return ""
    rate = task_cfg.get("resample_prob", 0.0)
    return "" if rate == TRAIN_RESAMPLE_PROB else f"_rs{rate:g}"


def load_policies(run_dir: str | Path, task_name: str, noadapt_envs: int = 256,
                  clipped_oracle: bool = False) -> tuple[list[EvalPolicy], object]:
    """The policies a run dir holds, each name with the run's label appended if it has one
    (``dagger`` -> ``dagger_long``), and its task config; a teacher run also gives
    ``clipped_oracle`` when asked."""
    policies, cfg = _load_run_policies(str(run_dir), task_name, noadapt_envs, clipped_oracle)
    if cfg.get("label"):
        for pol in policies:
            pol.name = f"{pol.name}_{cfg.label}"
    return policies, cfg.task


def _load_run_policies(run_dir: str, task_name: str, noadapt_envs: int,
                       clipped_oracle: bool) -> tuple[list[EvalPolicy], object]:
    """The policies a run dir holds under their method's names, and the run's config."""
    ckpt_dir = Path(run_dir) / "checkpoints"
    stage = load_checkpoint(ckpt_dir / "last.pt").get("stage")
    if stage == "teacher":
        cfg, policy, spec = load_run(run_dir, "best")
        if cfg.task.name != task_name:
            raise CheckpointError(f"{run_dir} was trained on {cfg.task.name!r}, not {task_name!r}")
        if policy.actor_input == "history":  # the DR baseline, or a DAgger student fine-tuned by PPO
            name = "dagger_ppo" + resampled_suffix(cfg.task) if cfg.get("init_from") else "dr"
            return [EvalPolicy(name, run_dir, deployable(history_actor_as_deployable(policy)), True)], cfg
        if policy.actor_input == "obs":  # RMA's "Robust": randomization, no latent, no history
            robust = DeployablePolicy(copy.deepcopy(policy.obs_norm), ConstantLatent(torch.zeros(0)),
                                      copy.deepcopy(policy.actor)).eval()
            return [EvalPolicy("robust", run_dir, deployable(robust), True)], cfg
        z = mean_training_latent(policy, cfg.task, num_envs=noadapt_envs)
        noadapt = DeployablePolicy(copy.deepcopy(policy.obs_norm), ConstantLatent(z), copy.deepcopy(policy.actor)).eval()
        teachers = [
            EvalPolicy("oracle", run_dir, lambda obs: policy.action_mean(obs).clamp(-1, 1), False),
            EvalPolicy("noadapt", run_dir, deployable(noadapt), True),
        ]
        if clipped_oracle:
            teachers.append(EvalPolicy(CLIPPED_ORACLE, run_dir, clipped_to_training(policy, cfg.task), False))
        return teachers, cfg
    if stage == "student":
        cfg = load_run_config(run_dir, "student")
        if cfg.task.name != task_name:
            raise CheckpointError(f"{run_dir} was trained on {cfg.task.name!r}, not {task_name!r}")
        spec = make_env(cfg.task, num_envs=1).spec
        student = load_student(run_dir, spec, cfg.task.name)
        name = cfg.method if cfg.encoder == "mlp" else f"{cfg.method}_{cfg.encoder}"  # e.g. adapt_tcn beside adapt
        name += resampled_suffix(cfg.task)
        return [EvalPolicy(name, run_dir, deployable(student), True)], cfg
    if stage == "rsl_rl":
        from envs.ecosystem.rsl_rl_runs import load_policy

        name, act, is_deployable, cfg = load_policy(run_dir)
        if cfg.task.name != task_name:
            raise CheckpointError(f"{run_dir} was trained on {cfg.task.name!r}, not {task_name!r}")
        return [EvalPolicy(name, run_dir, act, is_deployable)], cfg
    raise CheckpointError(f"{run_dir}: unknown checkpoint stage {stage!r}")
