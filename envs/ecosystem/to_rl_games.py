"""An apprentice task as an rl_games vec-env: train it with rl_games' ``Runner``.

``register(name, task_cfg)`` registers the vec-env type ``apprentice`` (once) and an env
config ``name`` with rl_games (``vecenv.register`` / ``env_configurations.register``); an
rl_games config then names it in ``config.env_name``. The actor's observation is the
concatenation of ``actor_keys`` (default: ``obs`` and ``priv_info``, the privileged
teacher's view); ``states`` (the asymmetric critic's input when the config has a
``central_value_config``) concatenates ``state_keys``. Truncations reach rl_games as
``infos["time_outs"]`` (bootstrapped with ``value_bootstrap: True``).
"""
from __future__ import annotations

import numpy as np
import torch
from gymnasium import spaces
from rl_games.common import env_configurations, vecenv
from rl_games.common.ivecenv import IVecEnv

from envs.registry import make_env

VECENV_TYPE = "apprentice"


class RlGamesVecEnv(IVecEnv):
    def __init__(self, env, actor_keys=("obs", "priv_info"), state_keys=("obs", "priv_info", "critic")):
        self.env = env
        self.actor_keys, self.state_keys = tuple(actor_keys), tuple(state_keys)
        first = env.reset()
        self._dims = {k: first[k].shape[1] for k in set(self.actor_keys) | set(self.state_keys)}

    def _pack(self, obs: dict) -> dict:
        return {"obs": torch.cat([obs[k] for k in self.actor_keys], dim=1),
                "states": torch.cat([obs[k] for k in self.state_keys], dim=1)}

    def reset(self):
        return self._pack(self.env.reset())

    def step(self, actions: torch.Tensor):
        obs, reward, done, info = self.env.step(actions.detach().float().cpu())
        return self._pack(obs), reward, done, {"time_outs": info["time_outs"], "episode": info["episode"]}

    def get_number_of_agents(self) -> int:
        return 1

    def get_env_info(self) -> dict:
        def box(keys):
            return spaces.Box(-np.inf, np.inf, (sum(self._dims[k] for k in keys),), np.float32)

        return {"action_space": spaces.Box(-1.0, 1.0, (self.env.num_actions,), np.float32),
                "observation_space": box(self.actor_keys), "state_space": box(self.state_keys), "agents": 1}


def register(name: str, task_cfg, seed: int = 0, **keys) -> None:
    """Make ``name`` an rl_games env: an apprentice task built from ``task_cfg``."""
    if VECENV_TYPE not in vecenv.vecenv_config:
        vecenv.register(VECENV_TYPE, lambda config_name, num_actors, **kwargs:
                        env_configurations.configurations[config_name]["env_creator"](num_actors=num_actors, **kwargs))
    env_configurations.register(name, {
        "vecenv_type": VECENV_TYPE,
        "env_creator": lambda num_actors=1, **kwargs: RlGamesVecEnv(
            make_env(task_cfg, num_envs=num_actors, seed=seed), **keys),
    })
