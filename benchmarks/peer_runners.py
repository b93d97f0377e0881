"""The peers of ``benchmarks/peers.py``, each training on apprentice's cartpole through one
probe: apprentice's teacher, rsl_rl's OnPolicyRunner, rl_games' Runner and SB3's PPO, each with
its own settings for massively parallel envs (peers.py's docstring lists them).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from envs import make_env  # noqa: E402
from envs.config import load_task_cfg  # noqa: E402

NUM_ENVS, HORIZON = 1024, 16


class Probe:
    """The env every peer steps, wrapped: episode returns, steps and env time, on one clock."""

    def __init__(self, env, window: int = 200):
        self.env, self.t0, self.steps, self.env_s = env, time.perf_counter(), 0, 0.0
        self.returns = deque(maxlen=window)
        self.curve: list[tuple[int, float, float]] = []  # (env steps, wall s, mean return)

    def __getattr__(self, name):
        return getattr(self.env, name)

    def reset(self):
        return self.env.reset()

    def step(self, actions):
        t = time.perf_counter()
        out = self.env.step(actions)
        self.env_s += time.perf_counter() - t
        self.steps += self.env.num_envs
        ended = out[3]["episode"]["return"]
        if len(ended):
            self.returns.extend(ended.tolist())
            if len(self.returns) == self.returns.maxlen:
                self.curve.append((self.steps, time.perf_counter() - self.t0, float(np.mean(self.returns))))
        return out

    def result(self, threshold: float) -> dict:
        wall = time.perf_counter() - self.t0
        hit = next((c for c in self.curve if c[2] >= threshold), None)
        return {"env_steps_to_threshold": hit[0] if hit else None,
                "wall_s_to_threshold": round(hit[1], 1) if hit else None,
                "final_return": round(self.curve[-1][2], 1) if self.curve else None,
                "env_steps": self.steps, "wall_s": round(wall, 1), "steps_per_s": round(self.steps / wall),
                "env_share": round(self.env_s / wall, 3)}


def rsl_rl_settings() -> dict:
    """rsl_rl's settings on cartpole (Isaac Lab's), shared with its pipeline: configs/rsl_rl/cartpole.yaml."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(Path(__file__).resolve().parents[1] / "configs" / "rsl_rl" / "cartpole.yaml"))


def rsl_rl_ppo_cfg() -> dict:
    return rsl_rl_settings()["teacher"]


def run_apprentice(seed: int, iterations: int, threshold: float) -> dict:
    from runstore.config import compose
    from teacher.train import train

    with tempfile.TemporaryDirectory() as tmp:
        summary = train(compose("teacher", [f"seed={seed}", f"max_iterations={iterations}", f"num_envs={NUM_ENVS}",
                                            f"run_dir={tmp}/run", "log.progress=false", "log.tensorboard=false",
                                            "log.print_every=0"]))
        rows = [json.loads(x) for x in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
    hit = next((r for r in rows if r["mean_return"] is not None and r["mean_return"] >= threshold), None)
    collect, update = sum(r["collect_s"] for r in rows), sum(r["update_s"] for r in rows)
    return {"env_steps_to_threshold": hit["env_steps"] if hit else None,
            "wall_s_to_threshold": round(hit["wall_s"], 1) if hit else None,
            "final_return": round(summary["mean_return"], 1), "env_steps": summary["env_steps"],
            "wall_s": round(summary["wall_s"], 1), "steps_per_s": round(summary["env_steps"] / summary["wall_s"]),
            "env_share": round(collect / (collect + update), 3), "note": "env_share is collect_s (env + inference)"}


def run_rsl_rl(seed: int, iterations: int, threshold: float, log_dir: str) -> tuple[dict, object]:
    from rsl_rl.runners import OnPolicyRunner

    from envs.ecosystem.to_rsl_rl import RslRlVecEnv

    torch.manual_seed(seed)
    probe = Probe(make_env(load_task_cfg("cartpole"), num_envs=NUM_ENVS, seed=seed))
    runner = OnPolicyRunner(RslRlVecEnv(probe), rsl_rl_ppo_cfg(), log_dir=log_dir, device="cpu")
    with quiet_stdout():
        runner.learn(iterations)
    return probe.result(threshold), runner


def run_rl_games(seed: int, iterations: int, threshold: float, train_dir: str) -> dict:
    from rl_games.common import env_configurations, vecenv
    from rl_games.torch_runner import Runner

    from envs.ecosystem.to_rl_games import RlGamesVecEnv

    probe = Probe(make_env(load_task_cfg("cartpole"), num_envs=NUM_ENVS, seed=seed))
    name = f"peers_cartpole_{seed}"
    vecenv.register(name, lambda config_name, num_actors, **kw: RlGamesVecEnv(probe))
    env_configurations.register(name, {"vecenv_type": name, "env_creator": lambda **kw: None})
    params = {
        "seed": seed, "algo": {"name": "a2c_continuous"}, "model": {"name": "continuous_a2c_logstd"},
        "network": {"name": "actor_critic", "separate": False,
                    "space": {"continuous": {"mu_activation": "None", "sigma_activation": "None",
                                             "mu_init": {"name": "default"}, "fixed_sigma": True,
                                             "sigma_init": {"name": "const_initializer", "val": 0}}},
                    "mlp": {"units": [128, 128], "activation": "elu", "initializer": {"name": "default"}}},
        "config": {"name": name, "env_name": name, "device": "cpu", "device_name": "cpu", "multi_gpu": False,
                   "ppo": True, "mixed_precision": False, "normalize_input": True, "normalize_value": True,
                   "value_bootstrap": True, "num_actors": NUM_ENVS, "reward_shaper": {"scale_value": 1.0},
                   "normalize_advantage": True, "gamma": 0.99, "tau": 0.95, "learning_rate": 3e-4,
                   "lr_schedule": "adaptive", "kl_threshold": 0.008, "score_to_win": 1e12, "max_epochs": iterations,
                   "save_best_after": 10**9, "save_frequency": 10**9, "grad_norm": 1.0, "entropy_coef": 0.0,
                   "truncate_grads": True, "e_clip": 0.2, "horizon_length": HORIZON, "minibatch_size": 8192,
                   "mini_epochs": 8, "critic_coef": 4, "clip_value": True, "bounds_loss_coef": 1e-4,
                   "torch_compile": False, "train_dir": train_dir},
    }
    runner = Runner()
    runner.load({"params": params})
    with quiet_stdout():
        runner.run({"train": True, "play": False, "checkpoint": None, "sigma": None})
    return probe.result(threshold)


def run_sb3(seed: int, iterations: int, threshold: float) -> dict:
    from gymnasium import spaces
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecEnv, VecNormalize

    probe = Probe(make_env(load_task_cfg("cartpole"), num_envs=NUM_ENVS, seed=seed))
    width = probe.env.spec.obs_dim + probe.env.spec.priv_dim

    class Sb3Env(VecEnv):
        def __init__(self):
            super().__init__(NUM_ENVS, spaces.Box(-np.inf, np.inf, (width,), np.float32),
                             spaces.Box(-1.0, 1.0, (probe.num_actions,), np.float32))

        @staticmethod
        def _obs(o):
            return torch.cat([o["obs"], o["priv_info"]], 1).numpy()

        def reset(self):
            return self._obs(probe.reset())

        def step_async(self, actions):
            self._actions = torch.as_tensor(actions, dtype=torch.float32)

        def step_wait(self):
            o, r, d, info = probe.step(self._actions)
            infos = [{} for _ in range(NUM_ENVS)]
            return self._obs(o), r.numpy(), d.numpy(), infos

        def close(self):
            pass

        def get_attr(self, attr_name, indices=None):
            return [None] * NUM_ENVS

        def set_attr(self, attr_name, value, indices=None):
            pass

        def env_method(self, method_name, *args, indices=None, **kwargs):
            return [None] * NUM_ENVS

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False] * NUM_ENVS

    env = VecNormalize(Sb3Env(), norm_obs=True, norm_reward=False)
    model = PPO("MlpPolicy", env, n_steps=HORIZON, batch_size=512, seed=seed, device="cpu", verbose=0,
                policy_kwargs={"net_arch": {"pi": [128, 128], "vf": [128, 128]}, "activation_fn": torch.nn.ELU})
    model.learn(total_timesteps=iterations * HORIZON * NUM_ENVS)
    return probe.result(threshold)


class quiet_stdout:
    """Silence a library's per-iteration console output (stdout only)."""

    def __enter__(self):
        self.stream = open(os.devnull, "w")
        self.old, sys.stdout = sys.stdout, self.stream

    def __exit__(self, *exc):
        sys.stdout = self.old
        self.stream.close()
