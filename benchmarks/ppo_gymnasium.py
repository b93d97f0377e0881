"""An outside check of the teacher's PPO: gymnasium Hopper-v5 and HalfCheetah-v5.

The same trainer as the teacher (``teacher.train.train``) with ``task=gymnasium`` and
``policy.actor_input=obs``, 1M env steps per run, several seeds, CleanRL's
``ppo_continuous_action`` hyperparameters (2048 steps per update, 10 epochs, 32
minibatches, lr 3e-4 annealed linearly, gamma 0.99, lambda 0.95, clip 0.2, value
coefficient 0.5, gradient-norm 0.5, 64x64 networks, observation and reward
normalization). One deliberate difference: the 2048 steps of an update come from
``--num-envs`` envs (8 x 256 by default) instead of 1 x 2048, which makes collection on
CPU 8x cheaper; the batch, the number of updates and the minibatch size are CleanRL's.

The figure per run is the mean raw return of the last ``--window`` finished episodes,
beside CleanRL's published 1M-step returns. Writes
benchmarks/results/ppo_gymnasium.json (rewritten after every run, so a partial file
survives an interruption; ``--resume`` keeps the runs already in it and does the rest).

    python benchmarks/ppo_gymnasium.py [--envs Hopper-v5 HalfCheetah-v5] [--seeds 0 1 2] [--resume]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import torch

from runstore.config import compose
from teacher.train import train

OUT = Path(__file__).resolve().parent / "results" / "ppo_gymnasium.json"
# CleanRL ppo_continuous_action.py, 1M steps, mean +/- std over seeds (CleanRL docs, PPO benchmarks)
CLEANRL = {"Hopper-v5": (2383.0, 272.0), "HalfCheetah-v5": (1443.0, 46.0)}
BATCH = 2048


def overrides(env_id: str, seed: int, num_envs: int, steps: int, window: int, run_dir: str) -> list[str]:
    horizon = BATCH // num_envs
    return [
        "task=gymnasium", f"task.env_id={env_id}", "policy.actor_input=obs",
        f"seed={seed}", f"num_envs={num_envs}", f"max_iterations={steps // BATCH}",
        f"ppo.horizon={horizon}", "ppo.epochs=10", "ppo.num_minibatches=32",
        "ppo.learning_rate=3e-4", "ppo.lr_schedule=linear", "ppo.gamma=0.99", "ppo.lam=0.95",
        "ppo.clip=0.2", "ppo.value_coef=0.5", "ppo.max_grad_norm=0.5", "ppo.entropy_coef=0.0",
        "policy.actor_hidden=[64,64]", "policy.critic_hidden=[64,64]", "policy.init_std=1.0",
        f"log.return_window={window}", f"run_dir={run_dir}",
        "log.progress=false", "log.tensorboard=false", "log.print_every=0",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", nargs="+", default=list(CLEANRL))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--resume", action="store_true", help="keep the finished runs in the results file")
    args = parser.parse_args()
    if BATCH % args.num_envs:
        raise SystemExit(f"--num-envs must divide the batch of {BATCH}")
    torch.set_num_threads(args.threads)
    result = {
        "what": "final mean raw return (last --window episodes) after --steps env steps, teacher PPO vs CleanRL",
        "steps": args.steps, "num_envs": args.num_envs, "horizon": BATCH // args.num_envs,
        "window": args.window, "tasks": {},
    }
    done = {}
    if args.resume and OUT.exists():
        old = json.loads(OUT.read_text())
        if (old["steps"], old["num_envs"], old["window"]) != (args.steps, args.num_envs, args.window):
            raise SystemExit(f"{OUT} was measured with other settings; run without --resume")
        done = {env_id: task["runs"] for env_id, task in old["tasks"].items()}
    for env_id in args.envs:
        runs = [r for r in done.get(env_id, []) if r["seed"] in args.seeds]
        for seed in args.seeds:
            if any(r["seed"] == seed for r in runs):
                continue
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                summary = train(compose("teacher", overrides(env_id, seed, args.num_envs, args.steps,
                                                               args.window, f"{tmp}/run")))
            runs.append({"seed": seed, "final_return": round(summary["mean_return"], 1),
                         "env_steps": summary["env_steps"], "wall_s": round(time.perf_counter() - t0, 1)})
            print(env_id, json.dumps(runs[-1]), flush=True)
            finals = [r["final_return"] for r in runs]
            ref = CLEANRL.get(env_id)
            result["tasks"][env_id] = {
                "runs": runs,
                "mean": round(statistics.fmean(finals), 1),
                "std": round(statistics.stdev(finals), 1) if len(finals) > 1 else None,
                "cleanrl_mean": ref[0] if ref else None,
                "cleanrl_std": ref[1] if ref else None,
                "ratio_to_cleanrl": round(statistics.fmean(finals) / ref[0], 3) if ref else None,
            }
            OUT.parent.mkdir(parents=True, exist_ok=True)
            OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
