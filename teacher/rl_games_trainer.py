"""Stage one with rl_games' continuous PPO as the trainer (``trainer=rl_games``).

    scripts/train_teacher.sh trainer=rl_games [overrides]

The policy is apprentice's own ``ActorCritic``, registered with rl_games as the network
``apprentice_actor_critic``: privileged information reaches the actor only through the
latent z, exactly as with apprentice's trainer, so stage two can swap z for an estimate.
rl_games runs the PPO loop (its rollout, GAE, clipped objective, adaptive learning rate);
apprentice's ``ppo`` settings are translated to its config (``rl_games_params``). The
run is written through the run store like a native one (config.yaml, code version,
``checkpoints/{last,best}.pt`` with ``stage: teacher``, metrics.jsonl, summary.json), so
``distill_student.sh`` and ``evaluate.sh`` take it unchanged. rl_games' own files go to
``<run_dir>/rl_games``.

Differences from apprentice's trainer, by construction: input normalization statistics
are updated on every rollout step (rl_games calls the network step by step) rather than
after each update; the PPO-KL objective, ``latent_noise``, the linear std schedule and
resume are not available (refused when the config is composed or the run starts).
"""
from __future__ import annotations

import math
import time
from collections import deque

import torch
from omegaconf import DictConfig, OmegaConf

from envs import make_env
from runstore.logger import Logger
from runstore.store import CheckpointError, prepare_run_dir, save_checkpoint, write_summary
from teacher.actor_critic import ActorCritic

NETWORK = "apprentice_actor_critic"
VECENV = "apprentice_teacher_env"


def packed_keys(actor_critic: ActorCritic) -> tuple[str, ...]:
    return tuple(k for k in actor_critic.input_keys if k != "latent_noise")


class ApprenticeNetwork(torch.nn.Module):
    """rl_games' network interface around an ``ActorCritic``: one packed tensor in, (mu, logstd, value, states) out."""

    def __init__(self, actor_critic: ActorCritic):
        super().__init__()
        self.ac = actor_critic
        spec = actor_critic.spec
        widths = {"obs": spec.obs_dim, "proprio_hist": spec.history_len * spec.obs_dim, "priv_info": spec.priv_dim,
                  "critic": spec.critic_dim}
        self.keys = packed_keys(actor_critic)
        self.widths = [widths[k] for k in self.keys]

    def unpack(self, packed: torch.Tensor) -> dict:
        parts = dict(zip(self.keys, packed.split(self.widths, dim=1)))
        if "proprio_hist" in parts:
            parts["proprio_hist"] = parts["proprio_hist"].reshape(len(packed), self.ac.spec.history_len, -1)
        return parts

    def forward(self, input_dict: dict):
        obs = self.unpack(input_dict["obs"])
        if not input_dict.get("is_train", True) and not torch.is_grad_enabled():  # a rollout step
            self.ac.update_normalizers(obs)
        mu = self.ac.action_mean(obs)
        return mu, self.ac.log_std.expand_as(mu), self.ac.value(obs).unsqueeze(-1), None

    def is_separate_critic(self) -> bool:
        return False

    def is_rnn(self) -> bool:
        return False

    def get_default_rnn_state(self):
        return None

    def get_aux_loss(self):
        return None

    def get_value_layer(self):
        return self.ac.critic[-1]


class PackedEnv:
    """An apprentice env for rl_games: the policy's input keys packed into one ``obs`` tensor."""

    def __init__(self, env, keys: tuple[str, ...]):
        self.env, self.keys = env, keys

    def _pack(self, obs: dict) -> torch.Tensor:
        return torch.cat([obs[k].flatten(1) for k in self.keys], dim=1)

    def reset(self):
        return {"obs": self._pack(self.env.reset())}

    def step(self, actions):
        obs, reward, done, info = self.env.step(actions.detach().float().cpu())
        return {"obs": self._pack(obs)}, reward, done, {"time_outs": info["time_outs"], "episode": info["episode"],
                                                        "nan_resets": info["nan_resets"]}

    def get_number_of_agents(self) -> int:
        return 1

    def has_action_masks(self) -> bool:
        return False

    def set_train_info(self, *args, **kwargs) -> None:
        pass

    def get_env_state(self):
        return None

    def get_env_info(self) -> dict:
        import numpy as np
        from gymnasium import spaces

        width = self._pack(self.env.reset()).shape[1]
        return {"action_space": spaces.Box(-1.0, 1.0, (self.env.num_actions,), np.float32),
                "observation_space": spaces.Box(-np.inf, np.inf, (width,), np.float32), "agents": 1}


def rl_games_params(cfg: DictConfig, train_dir: str) -> dict:
    """apprentice's teacher config as an rl_games a2c_continuous config."""
    p = cfg.ppo
    batch = p.horizon * cfg.num_envs
    schedule = {"adaptive": "adaptive", "linear": "linear", "fixed": "identity"}[p.lr_schedule]
    return {
        "seed": cfg.seed,
        "algo": {"name": "a2c_continuous"},
        "model": {"name": "continuous_a2c_logstd"},
        "network": {"name": NETWORK},
        "config": {
            "name": "teacher", "full_experiment_name": "teacher", "env_name": VECENV, "device": "cpu",
            "device_name": "cpu", "multi_gpu": False, "ppo": True, "mixed_precision": False,
            "normalize_input": False, "normalize_value": False, "value_bootstrap": True,
            "num_actors": cfg.num_envs, "reward_shaper": {"scale_value": 1.0},
            "normalize_advantage": p.normalize_advantage, "gamma": p.gamma, "tau": p.lam,
            "learning_rate": p.learning_rate, "lr_schedule": schedule, "kl_threshold": p.desired_kl,
            "score_to_win": 1e12, "max_epochs": cfg.max_iterations, "save_best_after": 10**9,
            "save_frequency": 10**9, "grad_norm": p.max_grad_norm, "truncate_grads": True,
            "entropy_coef": p.entropy_coef, "e_clip": p.clip, "clip_value": p.clip_value_loss,
            "horizon_length": p.horizon, "minibatch_size": batch // p.num_minibatches, "mini_epochs": p.epochs,
            "critic_coef": p.value_coef, "bounds_loss_coef": 0.0, "torch_compile": False,
            "games_to_track": cfg.log.return_window, "train_dir": train_dir,
        },
    }


def train_rl_games(cfg: DictConfig) -> dict:
    from rl_games.algos_torch import model_builder
    from rl_games.common import env_configurations, vecenv
    from rl_games.common.algo_observer import AlgoObserver
    from rl_games.torch_runner import Runner

    from teacher.train import RUN_STAGE, heldout_check

    if cfg.resume:
        raise CheckpointError("trainer=rl_games cannot resume a run; start a new run_dir (or use trainer=apprentice)")
    stage = RUN_STAGE[cfg.policy.actor_input]
    run_dir, _ = prepare_run_dir(cfg, stage)
    torch.manual_seed(cfg.seed)
    env = make_env(cfg.task, num_envs=cfg.num_envs, seed=cfg.seed, nthread=cfg.nthread)
    actor_critic = ActorCritic(env.spec, cfg.policy)
    keys = packed_keys(actor_critic)

    class Builder:  # rl_games' NetworkBuilder protocol: load(params), build(name, **kwargs)
        def load(self, params):
            pass

        def build(self, name, **kwargs):
            return ApprenticeNetwork(actor_critic)

    model_builder.register_network(NETWORK, Builder)
    vecenv.register(VECENV, lambda config_name, num_actors, **kwargs: PackedEnv(env, keys))
    env_configurations.register(VECENV, {"vecenv_type": VECENV, "env_creator": lambda **kwargs: None})

    logger = Logger(run_dir, cfg, stage, cfg.max_iterations)
    t_start = time.perf_counter()
    state = {"best": -math.inf, "mean": float("nan"), "steps": 0}
    returns = deque(maxlen=cfg.log.return_window)

    def payload(algo, iteration: int) -> dict:
        return {
            "stage": "teacher", "task": cfg.task.name, "obs_spec": env.spec.as_dict(),
            "policy_cfg": OmegaConf.to_container(cfg.policy), "model": actor_critic.state_dict(),
            "optimizer": algo.optimizer.state_dict(), "ppo_state": {"learning_rate": algo.last_lr, "beta": 0.0},
            "iteration": iteration, "env_steps": state["steps"], "best_return": state["best"],
            "rng": torch.get_rng_state(), "windows": {"return": list(returns)}, "trainer": "rl_games",
        }

    class RunStoreObserver(AlgoObserver):
        """Logs each rl_games epoch to the run store and keeps best.pt / last.pt."""

        def after_init(self, algo):
            self.algo = algo

        def process_infos(self, infos, done_indices):
            returns.extend(infos["episode"]["return"].tolist())

        def after_print_stats(self, frame, epoch_num, total_time):
            state["steps"] = epoch_num * cfg.ppo.horizon * cfg.num_envs
            if returns:
                state["mean"] = sum(returns) / len(returns)
            logger.log(epoch_num - 1, {"mean_return": state["mean"], "env_steps": state["steps"],
                                       "learning_rate": self.algo.last_lr,
                                       "action_std": actor_critic.log_std.exp().mean().item(),
                                       "wall_s": time.perf_counter() - t_start})
            if len(returns) == returns.maxlen and state["mean"] > state["best"]:
                state["best"] = state["mean"]
                save_checkpoint(run_dir / "checkpoints" / "best.pt", payload(self.algo, epoch_num))
            if epoch_num == cfg.max_iterations or epoch_num % cfg.save_every == 0:
                save_checkpoint(run_dir / "checkpoints" / "last.pt", payload(self.algo, epoch_num))

    observer = RunStoreObserver()
    runner = Runner(algo_observer=observer)
    runner.load({"params": rl_games_params(cfg, str(run_dir / "rl_games"))})
    runner.run({"train": True, "play": False, "checkpoint": None, "sigma": None})
    logger.close()
    if not (run_dir / "checkpoints" / "best.pt").exists():  # too short to fill the window
        save_checkpoint(run_dir / "checkpoints" / "best.pt", payload(observer.algo, cfg.max_iterations))
    summary = {
        "stage": stage, "task": cfg.task.name, "trainer": "rl_games", "mean_return": state["mean"],
        "best_return": state["best"] if state["best"] > -math.inf else state["mean"],
        "env_steps": state["steps"], "iterations": cfg.max_iterations, "wall_s": time.perf_counter() - t_start,
        "nan_resets_total": env.nan_resets_total,
        **heldout_check({"": actor_critic.eval()}, cfg, env.splits),
    }
    write_summary(run_dir, summary)
    return summary
