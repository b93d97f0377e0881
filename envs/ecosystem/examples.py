"""Example factories for ``task=rsl_rl_env`` (``envs/ecosystem/from_rsl_rl.py``).

A factory builds the user's env for a named split. This one hands apprentice's own
cartpole out through its rsl_rl wrapper, so the round trip apprentice -> rsl_rl VecEnv ->
apprentice is exercised with the real ``rsl_rl.env.VecEnv``; the held-out split is
apprentice's own. An Isaac Lab or mjlab factory has the same shape: build the env config,
change what the held-out split changes (e.g. friction or mass ranges of its randomization
events), create the env and return the framework's rsl_rl wrapper around it.
"""
from __future__ import annotations


def apprentice_cartpole(split: str, num_envs: int, seed: int, **overrides):
    from envs.config import load_task_cfg
    from envs.ecosystem.to_rsl_rl import RslRlVecEnv
    from envs.registry import make_env

    cfg = load_task_cfg("cartpole", [f"task.{k}={v}" for k, v in overrides.items()])
    return RslRlVecEnv(make_env(cfg, num_envs=num_envs, seed=seed, split=split))
