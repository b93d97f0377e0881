"""Stage one: train a PPO teacher (or, with policy.actor_input=history, the DR baseline).

    python -m teacher.train [hydra overrides]      (scripts/train_teacher.sh wraps this)

The loop, top to bottom: collect ``horizon`` steps from every env with the current
policy; bootstrap time-outs and compute GAE; run the PPO update; update the input
normalizers on the rollout; log every diagnostic; checkpoint.
"""
from __future__ import annotations

import math
import sys
import time
from collections import deque

import torch
from omegaconf import DictConfig, OmegaConf

from envs import make_env
from envs.registry import tracking_criterion
from envs.rollout import run_episodes
from evaluation.metrics import summarize
from runstore.config import compose
from runstore.logger import Logger
from runstore.distributed import Group, open_run
from runstore.store import load_checkpoint, save_checkpoint, write_summary
from teacher.actor_critic import ActorCritic
from teacher.config import RESUMABLE
from teacher.gae import bootstrap_time_outs, compute_gae
from teacher.load import CHECKPOINT_KEYS, load_policy
from teacher.collector import Collector
from teacher.finetune import adopt_student_arch, export_finetuned, policy_from_student, student_teacher
from teacher.ppo import PPO, teacher_coef_at

# the run-dir stage name of each actor input: the teacher, the DR baseline, plain PPO
RUN_STAGE = {"privileged": "teacher", "history": "dr", "obs": "ppo"}
FINETUNE_STAGE = "finetune"  # a history actor started from a DAgger student (init_from, teacher/finetune.py)


def checkpoint_payload(policy, ppo, cfg, iteration, env_steps, best_return, spec, windows: dict) -> dict:
    """Tensors and plain data only: ``runstore.store.load_checkpoint`` reads it with weights_only."""
    return {
        "stage": "teacher",
        "task": cfg.task.name,
        "obs_spec": spec.as_dict(),
        "policy_cfg": OmegaConf.to_container(cfg.policy),
        "model": {k: v.cpu() for k, v in policy.state_dict().items()},  # loads on any machine
        "optimizer": ppo.optimizer.state_dict(),
        "ppo_state": {"learning_rate": ppo.learning_rate, "beta": ppo.beta},
        "iteration": iteration,
        "env_steps": env_steps,
        "best_return": best_return,
        "rng": torch.get_rng_state(),
        "windows": {k: list(v) for k, v in windows.items()},  # recent episodes, so a resume logs on
    }


@torch.no_grad()
def heldout_check(policies: dict[str, ActorCritic], cfg: DictConfig, splits: tuple[str, ...]) -> dict:
    """Each policy on the same ``heldout_eval_envs`` held-out episodes (one per env, no
    mid-episode resampling): how well the trained policy generalizes, in every run's
    summary. ``policies`` maps a key suffix ("" for the final policy, "_best" for best.pt)
    to a policy. Empty if the task has no held-out split."""
    if not cfg.heldout_eval_envs or "heldout" not in splits:
        return {}
    out = {}
    for suffix, policy in policies.items():
        env = make_env(cfg.task, num_envs=cfg.heldout_eval_envs, seed=cfg.seed + 20_000, split="heldout",
                       nthread=cfg.nthread, resample_prob=0.0)  # the same episodes whatever the training settings
        s = summarize(run_episodes(env, lambda o: policy.action_mean(o).clamp(-1.0, 1.0)), env.control_dt,
                      env.episode_metric_names, env.max_episode_length, tracking_criterion(cfg.task.name))
        out |= {f"heldout_return{suffix}": s["return_mean"], f"heldout_return_ci95{suffix}": s["return_ci95"],
                f"heldout_success{suffix}": s["success_rate"]}
        if "tracking_success_rate" in s:  # Go2: survived and tracked its commands
            out[f"heldout_tracking_success{suffix}"] = s["tracking_success_rate"]
        out["heldout_episodes"] = s["episodes"]
    return out


def best_policy(run_dir, spec, cfg: DictConfig) -> ActorCritic:
    """best.pt's policy (chosen by training return), for the summary's held-out comparison."""
    ckpt = load_checkpoint(run_dir / "checkpoints" / "best.pt", stage="teacher", required=CHECKPOINT_KEYS)
    return load_policy(ckpt, spec, cfg.task.name, cfg.policy).eval()


def train(cfg: DictConfig) -> dict:
    stage = FINETUNE_STAGE if cfg.init_from else RUN_STAGE[cfg.policy.actor_input]
    # before config.yaml is written: it records the network trained
    student_ckpt = adopt_student_arch(cfg) if cfg.init_from else None
    # fine-tuning: the student's frozen teacher lends a fresh start its critic, and guides the update
    # when ppo.teacher_coef > 0; a resume at 0 has no use for it
    needs_guide = cfg.init_from and (cfg.ppo.teacher_coef > 0 or not cfg.resume)
    guide = student_teacher(student_ckpt) if needs_guide else None
    group = Group(cfg.device)  # one process, or one rank of a torchrun job (runstore/distributed.py)
    device = group.device  # the learner's; the envs and the acting weights stay on the CPU (teacher/collector.py)
    run_dir, ckpt = open_run(cfg, stage, group, RESUMABLE, cfg.max_iterations, "teacher", CHECKPOINT_KEYS)
    start = ckpt["iteration"] if ckpt else 0
    torch.manual_seed(cfg.seed)  # the same initial policy on every rank
    env = make_env(cfg.task, num_envs=cfg.num_envs, seed=cfg.seed + start + 1000 * group.rank, nthread=cfg.nthread)
    if ckpt is not None:
        policy = load_policy(ckpt, env.spec, cfg.task.name, cfg.policy)
    elif cfg.init_from:
        policy = policy_from_student(cfg, env.spec, student_ckpt, guide)
    else:
        policy = ActorCritic(env.spec, cfg.policy)
    policy.to(device)
    if guide is not None:
        guide.to(device)
    group.broadcast(policy)
    ppo = PPO(policy, cfg.ppo, seed=cfg.seed + start + 7919 * group.rank, group=group if group.active else None)
    env_steps, best_return = 0, -math.inf
    # a resume that changes the rate of mid-episode resampling (a curriculum: resampling once the
    # gait is learned) trains on other episodes: the returns of the old ones are not comparable,
    # so the recent episodes and best.pt's record start over, and best.pt is chosen anew
    new_rate = ckpt is not None and "task.resample_prob" in ckpt["resume_changes"]
    if ckpt is not None:  # everything the loop carries on, restored; the envs start fresh episodes
        ppo.optimizer.load_state_dict(ckpt["optimizer"])
        ppo.set_learning_rate(ckpt["ppo_state"]["learning_rate"])
        ppo.beta = ckpt["ppo_state"]["beta"]
        env_steps, best_return = ckpt["env_steps"], -math.inf if new_rate else ckpt["best_return"]
        torch.set_rng_state(ckpt["rng"])

    p = cfg.ppo
    shapes = {k: tuple(s) for k, s in {
        "obs": (env.spec.obs_dim,),
        "proprio_hist": (env.spec.history_len, env.spec.obs_dim),
        "priv_info": (env.spec.priv_dim,),
        "critic": (env.spec.critic_dim,),
        "latent_noise": (policy.latent_dim,),
    }.items() if k in policy.input_keys}
    noise_gen = torch.Generator().manual_seed(cfg.seed + 7919 + group.rank)
    logger = Logger(run_dir, cfg, stage, cfg.max_iterations, start) if group.main else None
    saved = ckpt.get("windows", {}) if ckpt and not new_rate else {}
    windows = {k: deque(saved.get(k, []), maxlen=cfg.log.return_window)
               for k in ("return", "length", *env.episode_metric_names)}
    returns, lengths = windows["return"], windows["length"]
    task_metrics = {k: windows[k] for k in env.episode_metric_names}
    t_start = time.perf_counter()
    mean_return = sum(returns) / len(returns) if returns else float("nan")
    # overlap: the next rollout is collected in the background while the learner updates (teacher/collector.py)
    collector = Collector(env, policy, p.horizon, shapes, noise_gen, windows, cfg.overlap, device)
    collector.launch(env.reset())

    for it in range(start, cfg.max_iterations):
        t0 = time.perf_counter()
        frac = it / cfg.max_iterations
        if cfg.policy.std_schedule == "linear":
            decay = cfg.policy.std_decay_iterations or cfg.max_iterations
            std = cfg.policy.init_std + (cfg.policy.final_std - cfg.policy.init_std) * min(1.0, it / decay)
            policy.log_std.requires_grad_(False)
            policy.log_std.fill_(math.log(std))
        if p.lr_schedule == "linear":
            ppo.set_learning_rate(p.learning_rate * (1.0 - frac))

        # 1. rollout (overlap: wait for the one collected during the last update, and start the next)
        rollout = collector.take()
        if cfg.overlap and it + 1 < cfg.max_iterations:
            collector.launch(rollout.obs)
        storage, nan_resets = rollout.storage, rollout.nan_resets
        wait_s = time.perf_counter() - t0
        with torch.no_grad():
            for rank_ended in group.gather(rollout.ended):  # every rank's finished episodes (just this one's alone)
                for k, values in rank_ended.items():
                    windows[k].extend(values)
            # 2. advantages
            if cfg.overlap:  # acted by the weights before the last update: decoupled PPO (teacher/ppo.py)
                storage.reanchor(policy)
            last_values = policy.value(rollout.obs)
            rewards = bootstrap_time_outs(storage.rewards, storage.values, storage.time_outs, p.gamma)
            storage.advantages, storage.returns = compute_gae(
                rewards, storage.values, storage.dones, last_values, p.gamma, p.lam
            )
        collect_s = rollout.seconds

        # 3. update, then the normalizers (fixed during a rollout and its update)
        t1 = time.perf_counter()
        stats = ppo.update(storage, guide, teacher_coef_at(p.teacher_coef, p.teacher_coef_schedule, frac))
        policy.update_normalizers({k: v.flatten(0, 1) for k, v in storage.obs.items()}, group)
        if not cfg.overlap:
            collector.launch(rollout.obs)
        update_s = time.perf_counter() - t1
        iteration_s = time.perf_counter() - t0

        # 4. log and checkpoint
        steps = p.horizon * cfg.num_envs
        env_steps += steps * group.world
        if returns:
            mean_return = sum(returns) / len(returns)
        metrics = {
            "mean_return": mean_return,
            "mean_episode_length": sum(lengths) / len(lengths) if lengths else float("nan"),
            **{f"episode_{k}": sum(w) / len(w) if w else float("nan") for k, w in task_metrics.items()},
            **{k: v for k, v in stats.__dict__.items()},
            "action_std": policy.log_std.exp().mean().item(),
            "env_steps": env_steps,
            "steps_per_s": steps / iteration_s,
            "env_steps_per_s": steps / collect_s,
            "collect_s": collect_s,  # the collection's own wall-clock (overlap: beside the update)
            "collect_wait_s": wait_s,  # how long the learner waited for it
            "update_s": update_s,
            "nan_resets": nan_resets,
            "resampled": rollout.resampled,  # mid-episode changes of dynamics in this rollout
            "wall_s": time.perf_counter() - t_start,
        }
        if not group.main:  # rank 0 alone logs and writes the run
            continue
        logger.log(it, metrics)
        done = it + 1 == cfg.max_iterations
        if returns and len(returns) == returns.maxlen and mean_return > best_return:
            best_return = mean_return
            save_checkpoint(run_dir / "checkpoints" / "best.pt",
                            checkpoint_payload(policy, ppo, cfg, it + 1, env_steps, best_return, env.spec, windows))
        if done or (it + 1) % cfg.save_every == 0:
            save_checkpoint(run_dir / "checkpoints" / "last.pt",
                            checkpoint_payload(policy, ppo, cfg, it + 1, env_steps, best_return, env.spec, windows))
    collector.close()
    ranks = {"ranks": group.world, "param_max_difference": group.max_param_difference(policy)} if group.active else {}
    policy.cpu()  # the held-out check below runs on the CPU envs (after the ranks compared on the learner's device)
    if not group.main:
        return {"stage": stage, "rank": group.rank, **ranks}
    logger.close()

    if not (run_dir / "checkpoints" / "best.pt").exists():  # too short to fill the window
        save_checkpoint(run_dir / "checkpoints" / "best.pt",
                        checkpoint_payload(policy, ppo, cfg, cfg.max_iterations, env_steps, mean_return, env.spec,
                                           windows))
    summary = {
        "stage": stage,
        "task": cfg.task.name,
        "mean_return": mean_return,
        "best_return": best_return if best_return > -math.inf else mean_return,
        "env_steps": env_steps,
        "iterations": cfg.max_iterations,
        "wall_s": time.perf_counter() - t_start,
        "nan_resets_total": env.nan_resets_total,
        **ranks,
        **heldout_check({"": policy, "_best": best_policy(run_dir, env.spec, cfg)}, cfg, env.splits),
    }
    if cfg.init_from:  # a fine-tuned student: its deployable policy, like a student run's
        summary["export"] = export_finetuned(policy, env, run_dir)
    write_summary(run_dir, summary)
    return summary


def main(argv: list[str] | None = None) -> None:
    cfg = compose("teacher", sys.argv[1:] if argv is None else argv)
    if cfg.trainer == "rl_games":
        from teacher.rl_games_trainer import train_rl_games

        summary = train_rl_games(cfg)
    else:
        summary = train(cfg)
    print(f"teacher run: {cfg.run_dir}")
    print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in summary.items()})


if __name__ == "__main__":
    main()
