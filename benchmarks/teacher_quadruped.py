"""Go2 teacher learning speed on CPU: env steps and wall-clock until it tracks commands.

Threshold ("tracks commands"): over the last ``log.return_window`` episodes, the mean
linear-velocity error is at most 0.24 m/s (where the tracking reward exp(-e^2 / 0.25)
is 80% of its maximum) and episodes last at least 90% of their 20 s, i.e. the robot does
not fall. Also records what bounds an iteration: the share of rollout collection
(simulation + policy inference) and of the PPO update, and a separate timing of the
simulation alone (``env.step``) and of the policy's forward pass at the same batch size.
Writes benchmarks/results/teacher_quadruped.json.

    python benchmarks/teacher_quadruped.py [--iterations 400] [--run-dir runs/teacher/go2-bench]
    python benchmarks/teacher_quadruped.py --resume --iterations 600 --run-dir <that run>   (train on)
    python benchmarks/teacher_quadruped.py --out teacher_quadruped_overlap overlap=true   (a variant: teacher overrides)
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import teacher.config  # noqa: F401  (registers the schema)
from envs import make_env
from envs.tasks.go2 import Go2Env
from runstore.config import compose
from teacher.load import load_run
from teacher.train import train

OUT = Path(__file__).resolve().parent / "results" / "teacher_quadruped.json"
MAX_LIN_VEL_ERR = Go2Env.tracking_success[1]  # the evaluation's tracking success, per episode
MIN_LENGTH_FRACTION = 0.9


def tracks(m: dict, min_length: float) -> bool:
    """One logged iteration at the threshold: velocity error low enough, episodes long enough."""
    err, length = m["episode_lin_vel_err"], m["mean_episode_length"]
    return err is not None and length is not None and err <= MAX_LIN_VEL_ERR and length >= min_length


def profile(run_dir: str, steps: int = 50) -> dict:
    """Seconds per control step of the simulation alone and of the policy alone."""
    cfg, policy, _ = load_run(run_dir, "last")
    env = make_env(cfg.task, num_envs=cfg.num_envs, seed=1, nthread=cfg.nthread)
    obs = env.reset()
    sim_s = net_s = 0.0
    with torch.no_grad():
        for _ in range(steps):
            t0 = time.perf_counter()
            actions = policy.distribution(policy.action_mean(obs)).sample()
            policy.value(obs)
            t1 = time.perf_counter()
            obs, *_ = env.step(actions)
            t2 = time.perf_counter()
            net_s += t1 - t0
            sim_s += t2 - t1
    return {"num_envs": cfg.num_envs, "env_step_s": sim_s / steps, "policy_forward_s": net_s / steps,
            "env_steps_per_s_sim_only": round(cfg.num_envs * steps / sim_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--run-dir", default=f"runs/teacher/go2-bench-{time.strftime('%Y%m%d-%H%M%S')}")
    parser.add_argument("--resume", action="store_true", help="continue --run-dir up to --iterations")
    parser.add_argument("--nthread", type=int, default=0, help="simulator threads (0: all cores)")
    parser.add_argument("--out", default=OUT.stem, help="results file name in benchmarks/results (no suffix)")
    parser.add_argument("overrides", nargs="*", help="teacher config overrides, e.g. overlap=true ppo.epochs=4")
    args = parser.parse_args()
    cfg = compose("teacher", ["+experiment=go2", f"max_iterations={args.iterations}", f"seed={args.seed}",
                              f"run_dir={args.run_dir}", f"resume={str(args.resume).lower()}",
                              f"nthread={args.nthread}", "log.progress=false", "log.print_every=10", *args.overrides])
    summary = train(cfg)
    curve = [json.loads(line) for line in (Path(args.run_dir) / "metrics.jsonl").read_text().splitlines()]
    offset, last_wall = 0.0, 0.0
    for m in curve:  # a resumed run restarts its clock: make wall_s cumulative
        if m["wall_s"] < last_wall:
            offset += last_wall
        last_wall = m["wall_s"]
        m["wall_s"] += offset
    min_length = MIN_LENGTH_FRACTION * cfg.task.episode_length
    hit = next((m for m in curve if tracks(m, min_length)), None)
    last = curve[-1]
    collect = sum(m["collect_s"] for m in curve)
    update = sum(m["update_s"] for m in curve)
    result = {
        "task": "go2",
        "threshold": {"episode_lin_vel_err_max": MAX_LIN_VEL_ERR, "episode_length_min": min_length},
        "reached": hit is not None,
        "env_steps_to_threshold": hit["env_steps"] if hit else None,
        "wall_s_to_threshold": round(hit["wall_s"], 1) if hit else None,
        "iterations": args.iterations,
        "env_steps": summary["env_steps"],
        "wall_s": round(curve[-1]["wall_s"], 1),
        "final": {k: last[k] for k in ("mean_return", "mean_episode_length", "episode_lin_vel_err",
                                       "episode_yaw_rate_err", "episode_power", "steps_per_s")},
        "time_share": {"collect": round(collect / (collect + update), 3), "update": round(update / (collect + update), 3)},
        "profile": profile(args.run_dir),
        "run_dir": args.run_dir,
        "seed": args.seed,
        "overrides": args.overrides,
    }
    out = OUT.with_name(f"{args.out}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
