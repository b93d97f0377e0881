"""PPO fine-tuning of a DAgger student (``+finetune=dagger init_from=<student run>``,
configs/finetune/dagger.yaml).

Two-stage distillation stops where the student's imitation error stops it. Fine-tuning the
student with PPO on the task's reward, from a good start, can close that gap (e.g. "DAgger
then RL fine-tuning", and the warm-started critic of rsl_rl's distillation-then-RL recipes).

A DAgger student is a history actor of the same form as the DR baseline's:
``actor(cat[norm(obs), encoder(norm(history))])``. So the fine-tuning run is a PPO run with
``policy.actor_input=history`` whose initial weights come from two runs, read through the
run store (never through their training loops):
- the actor, its history encoder and the obs normalizer: the DAgger student's;
- the critic, its normalizer and the action std: the student's teacher's (``best.pt``). Its
  value function, for a policy the student imitates, is the warmed-up critic; its std is
  the exploration the teacher ended with (the config's ``policy.init_std`` is not used).
``adopt_student_arch`` sets the policy's widths from those runs, and the task's rate of
mid-episode resampling from the student's (RMA's 0.004 by default: student/distill.py; a resume
keeps the run's own) unless ``task.resample_prob`` asks for another than the task's default,
before the run's config is written, so ``config.yaml`` records the network and the rate it
trained with. The finished run exports its deployable policy like a student run (``export/``:
ONNX, TorchScript, deploy.json).

With ``ppo.teacher_coef`` > 0 the same teacher stays beside the run, frozen, and its mean action
on every rollout state enters the PPO loss as a DAgger-style imitation term (kickstarting,
Schmitt et al. 2018; teacher/ppo.py): the student improves on the reward without forgetting
what it imitated. The teacher reads the rollout's ``priv_info``; the fine-tuned actor does not.
"""
from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig, open_dict

from envs.config import load_task_cfg
from runstore.store import CheckpointError, load_checkpoint, load_run_config
from student.export import export_policy
from student.load import CHECKPOINT_KEYS as STUDENT_KEYS
from student.policy import history_actor_as_deployable
from teacher.actor_critic import ActorCritic
from teacher.load import load_run


def adopt_student_arch(cfg: DictConfig) -> dict:
    """Set ``cfg.policy``'s history encoder, actor and critic widths from the student run and
    its teacher; refuse a student of another task or method. Returns the student's checkpoint,
    which ``policy_from_student`` starts from."""
    ckpt = load_checkpoint(Path(cfg.init_from) / "checkpoints" / "last.pt", stage="student", required=STUDENT_KEYS)
    if ckpt["method"] != "dagger":
        raise CheckpointError(f"init_from={cfg.init_from} is a method={ckpt['method']} student; PPO fine-tuning "
                              "starts from a DAgger student (its actor is a history actor; adapt/sysid reuse the teacher's)")
    if ckpt["task"] != cfg.task.name:
        raise CheckpointError(f"init_from={cfg.init_from} was trained on {ckpt['task']!r}, not {cfg.task.name!r}; "
                              f"pass task={ckpt['task']}")
    teacher_cfg = load_run_config(ckpt["teacher_run"], "teacher")
    student_task = load_run_config(cfg.init_from, "student").task
    arch = ckpt["arch"]
    with open_dict(cfg):
        # fine-tuning trains at its student's rate of mid-episode resampling (a resume at the run's own),
        # unless the command line asks for another rate than the task's default (which reads as not asked)
        if "resample_prob" in cfg.task and cfg.task.resample_prob == load_task_cfg(cfg.task.name).resample_prob:
            own = cfg.resume and cfg.run_dir and (Path(cfg.run_dir) / "config.yaml").is_file()
            source = load_run_config(cfg.run_dir, "teacher").task if own else student_task
            cfg.task.resample_prob = source.get("resample_prob", 0.0)
        cfg.policy.history_encoder = arch["encoder"]
        cfg.policy.history_hidden = list(arch["encoder_hidden"])
        cfg.policy.latent_dim = arch["latent_dim"]
        cfg.policy.actor_hidden = list(arch["actor_hidden"])
        cfg.policy.critic_hidden = list(teacher_cfg.policy.critic_hidden)
    return ckpt


def student_teacher(ckpt: dict) -> ActorCritic:
    """The teacher the student (``ckpt``, from ``adopt_student_arch``) imitated: its ``best.pt``,
    frozen, in eval mode."""
    _, teacher, _ = load_run(ckpt["teacher_run"], "best")
    return teacher.eval().requires_grad_(False)


@torch.no_grad()
def policy_from_student(cfg: DictConfig, spec, ckpt: dict, teacher: ActorCritic | None = None) -> ActorCritic:
    """The fine-tuning run's initial policy: the student's actor (``ckpt``, from
    ``adopt_student_arch``), the critic and std of its teacher (``student_teacher(ckpt)``
    unless given)."""
    teacher = student_teacher(ckpt) if teacher is None else teacher
    policy = ActorCritic(spec, cfg.policy)
    student = ckpt["model"]  # DeployablePolicy: obs_norm.*, latent.* (the history encoder), actor.*
    state = policy.state_dict()
    for key, value in student.items():
        head, rest = key.split(".", 1)
        target = {"obs_norm": "obs_norm", "latent": "history_encoder", "actor": "actor"}[head] + "." + rest
        if state[target].shape != value.shape:
            raise CheckpointError(f"init_from: {key} {tuple(value.shape)} does not fit {target} {tuple(state[target].shape)}")
        state[target] = value
    for key, value in teacher.state_dict().items():
        if key.startswith(("critic.", "critic_norm.")) or key == "log_std":
            state[key] = value
    policy.load_state_dict(state, strict=True)
    return policy


def export_finetuned(policy: ActorCritic, env, run_dir: Path) -> dict[str, str]:
    """The fine-tuned history actor, exported as the deployable policy (``run_dir/export``)."""
    paths = export_policy(history_actor_as_deployable(policy.cpu()), env, Path(run_dir) / "export", Path(run_dir))
    return {k: str(v) for k, v in paths.items()}
