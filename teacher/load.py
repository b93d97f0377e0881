"""Reading a PPO run (teacher, DR baseline or plain PPO) back from the run store.

The next stage and the evaluation read a teacher through this file, never through the
training loop: any trainer that writes the same run (config.yaml + a ``stage: teacher``
checkpoint) is loaded the same way.
"""
from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from envs import make_env
from runstore.store import CheckpointError, check_same, load_checkpoint, load_run_config
from teacher.actor_critic import ActorCritic
from teacher.config import RESUMABLE

CHECKPOINT_KEYS = ("stage", "task", "obs_spec", "policy_cfg", "model", "optimizer", "ppo_state",
                   "iteration", "env_steps", "best_return", "rng")


# the policy keys a resume may change: they shape training, not the network, so a checkpoint
# saved before the change (best.pt) still loads under the resumed run's config
RESUMABLE_POLICY_KEYS = tuple(k.removeprefix("policy.") for k in RESUMABLE if k.startswith("policy."))


def load_policy(ckpt: dict, spec, task_name: str, policy_cfg) -> ActorCritic:
    """Rebuild a policy from a checkpoint; any mismatch with the config is an error."""
    check_same("the task", ckpt["task"], task_name)
    check_same("the task's observation layout", ckpt["obs_spec"], spec.as_dict())
    saved, current = ({k: v for k, v in OmegaConf.to_container(OmegaConf.create(c)).items()
                       if k not in RESUMABLE_POLICY_KEYS} for c in (ckpt["policy_cfg"], policy_cfg))
    check_same("the policy config", saved, current)
    policy = ActorCritic(spec, OmegaConf.create(ckpt["policy_cfg"]))
    policy.load_state_dict(ckpt["model"], strict=True)
    return policy


def load_run(run_dir: str | Path, checkpoint: str = "best", stage: str = "teacher"):
    """(config, policy, spec) of a finished PPO run (teacher or DR); the policy is frozen."""
    cfg = load_run_config(run_dir, stage)
    if "policy" not in cfg or "ppo" not in cfg:
        raise CheckpointError(f"{run_dir} is not a PPO (teacher/DR) run: its config has no policy/ppo section")
    ckpt = load_checkpoint(Path(run_dir) / "checkpoints" / f"{checkpoint}.pt", stage="teacher",
                           required=CHECKPOINT_KEYS)
    env = make_env(cfg.task, num_envs=1)
    policy = load_policy(ckpt, env.spec, cfg.task.name, cfg.policy).eval()
    for p in policy.parameters():
        p.requires_grad_(False)
    return cfg, policy, env.spec
