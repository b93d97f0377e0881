"""Part 2 of ``benchmarks/peers.py``: rsl_rl's teacher -> student pipeline beside apprentice's,
per seed, every policy on the same episodes of each split; paired differences pooled over seeds.
"""
from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from envs import make_env  # noqa: E402
from envs.config import load_task_cfg  # noqa: E402
from envs.rollout import run_episodes  # noqa: E402
from evaluation.metrics import ci95, paired_difference, summarize  # noqa: E402
from peer_runners import NUM_ENVS, quiet_stdout, rsl_rl_settings, run_rsl_rl  # noqa: E402

SPLITS, RESAMPLE = ("train", "heldout", "extreme"), 0.01


def evaluate_paired(policies: dict, episodes: int, seed: int = 2026) -> dict:
    """Every policy on the same episodes of each split; returns per split {name: (summary, returns)}."""
    cfg = load_task_cfg("cartpole")
    out = {}
    for split in SPLITS:
        out[split] = {}
        for name, act in policies.items():
            env = make_env(cfg, num_envs=episodes, seed=seed, split=split, resample_prob=RESAMPLE)
            rec = run_episodes(env, act)
            out[split][name] = (summarize(rec, env.control_dt, env.episode_metric_names, env.max_episode_length),
                                rec["return"])
    return out


def pipeline_seed(seed: int, episodes: int, iterations: int, student_iterations: int,
                  finetune_iterations: int | None) -> tuple[dict, dict]:
    """One seed of both pipelines: (timings, per split {policy: (summary, returns)})."""
    from rsl_rl.runners import DistillationRunner

    from envs.ecosystem.to_rsl_rl import RslRlVecEnv, as_groups
    from runstore.config import compose
    from student.distill import distill
    from student.load import load_student
    from student.policy import history_actor_as_deployable
    from teacher.load import load_run
    from teacher.train import train

    quiet = ["log.progress=false", "log.tensorboard=false", "log.print_every=0", f"seed={seed}"]
    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        train(compose("teacher", [f"run_dir={tmp}/teacher", f"max_iterations={iterations}", *quiet]))
        timings["apprentice_teacher_s"] = round(time.perf_counter() - t, 1)
        for method in ("dagger", "adapt"):
            t = time.perf_counter()
            distill(compose("student", [f"teacher={tmp}/teacher", f"method={method}", f"run_dir={tmp}/{method}",
                                        f"iterations={student_iterations}", "export=false", *quiet]))
            timings[f"apprentice_{method}_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        train(compose("teacher", ["+finetune=dagger", f"init_from={tmp}/dagger", f"run_dir={tmp}/dagger_ppo",
                                  "heldout_eval_envs=0", *quiet,
                                  *([f"max_iterations={finetune_iterations}"] if finetune_iterations else [])]))
        timings["apprentice_dagger_ppo_s"] = round(time.perf_counter() - t, 1)
        _, teacher, spec = load_run(f"{tmp}/teacher")
        students = {m: load_student(f"{tmp}/{m}", spec, "cartpole") for m in ("dagger", "adapt")}
        students["dagger_ppo"] = history_actor_as_deployable(load_run(f"{tmp}/dagger_ppo", stage="finetune")[1])

        t = time.perf_counter()
        _, rsl_teacher = run_rsl_rl(seed, iterations, float("inf"), f"{tmp}/rsl")
        timings["rsl_rl_teacher_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        env = RslRlVecEnv(make_env(load_task_cfg("cartpole"), num_envs=NUM_ENVS, seed=seed + 1))
        dcfg = rsl_rl_settings()["student"]
        rsl_teacher.save(f"{tmp}/rsl_teacher.pt")
        distiller = DistillationRunner(env, dcfg, log_dir=f"{tmp}/rsl_student", device="cpu")
        distiller.load(f"{tmp}/rsl_teacher.pt")
        with quiet_stdout():
            distiller.learn(student_iterations)
        timings["rsl_rl_student_s"] = round(time.perf_counter() - t, 1)
        rsl_actor = rsl_teacher.get_inference_policy()
        rsl_student = distiller.get_inference_policy()

    with torch.no_grad():
        policies = {
            "apprentice_oracle": lambda o: teacher.action_mean(o).clamp(-1, 1),
            "apprentice_dagger": lambda o: students["dagger"](o["proprio_hist"]),
            "apprentice_adapt": lambda o: students["adapt"](o["proprio_hist"]),
            "apprentice_dagger_ppo": lambda o: students["dagger_ppo"](o["proprio_hist"]),
            "rsl_rl_teacher": lambda o: rsl_actor(as_groups(o)).clamp(-1, 1),
            "rsl_rl_student": lambda o: rsl_student(as_groups(o)).clamp(-1, 1),
        }
        return timings, evaluate_paired(policies, episodes)


PAIRS = [("apprentice_oracle", "rsl_rl_teacher"), ("apprentice_dagger", "rsl_rl_student"),
         ("apprentice_adapt", "rsl_rl_student"), ("apprentice_dagger_ppo", "rsl_rl_student"),
         ("apprentice_dagger_ppo", "rsl_rl_teacher"), ("apprentice_dagger_ppo", "apprentice_oracle")]


def pipeline_part(seeds: list[int], episodes: int, iterations: int, student_iterations: int,
                  finetune_iterations: int | None = None) -> dict:
    """Both pipelines for every seed; returns pooled over the seeds' episodes (paired by seed)."""
    timings, per_seed = {}, []
    for seed in seeds:
        t, results = pipeline_seed(seed, episodes, iterations, student_iterations, finetune_iterations)
        timings[str(seed)] = t
        per_seed.append(results)
        print(json.dumps({"seed": seed, "timings": t, "heldout": {k: round(v[0]["return_mean"], 1)
                                                                   for k, v in results["heldout"].items()}}), flush=True)
    table = {}
    for split in SPLITS:
        names = per_seed[0][split]
        table[split] = {}
        for name in names:
            returns = torch.cat([r[split][name][1].float() for r in per_seed])
            table[split][name] = {"return_mean": returns.mean().item(), "return_ci95": ci95(returns),
                                  "success_rate": sum(r[split][name][0]["success_rate"] for r in per_seed) / len(seeds),
                                  "seed_returns": [r[split][name][0]["return_mean"] for r in per_seed]}
        for a, b in PAIRS:
            table[split][f"{a} - {b}"] = paired_difference([r[split][a][1] for r in per_seed],
                                                           [r[split][b][1] for r in per_seed])
    return {"seeds": seeds, "episodes": episodes, "resample_prob": RESAMPLE, "student_iterations": student_iterations,
            "timings": timings, "splits": table}
