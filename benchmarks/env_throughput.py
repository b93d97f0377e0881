"""Env throughput against raw simulation, measured in the same run.

For each task and env count: control steps/s of the full env (random actions in [-1, 1];
observations, rewards, histories, auto-resets with freshly sampled dynamics included)
against ``Batch.step`` alone on the same batch (same model, same per-env parameters, the
same substeps per control step). Writes ``benchmarks/results/env_throughput.json``.

    python benchmarks/env_throughput.py [--steps 500] [--repeats 3] [--tasks cartpole]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from envs import make_env
from envs.config import load_task_cfg

OUT = Path(__file__).resolve().parent / "results" / "env_throughput.json"


def measure(task: str, num_envs: int, steps: int, repeats: int) -> dict:
    env = make_env(load_task_cfg(task), num_envs=num_envs, seed=0)
    env.reset()
    gen = torch.Generator().manual_seed(0)
    actions = [torch.rand(num_envs, env.num_actions, generator=gen) * 2 - 1 for _ in range(steps)]
    env_rates, raw_rates = [], []
    for _ in range(repeats):  # interleaved, so drifts in machine load hit both alike
        t0 = time.perf_counter()
        for a in actions:
            env.step(a)
        env_rates.append(steps * num_envs / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        for _ in range(steps):
            env.backend.batch.step(nstep=env.substeps)
        raw_rates.append(steps * num_envs / (time.perf_counter() - t0))
    env_rate, raw_rate = max(env_rates), max(raw_rates)
    return {
        "task": task,
        "num_envs": num_envs,
        "env_steps_per_s": round(env_rate),
        "raw_steps_per_s": round(raw_rate),
        "ratio": round(env_rate / raw_rate, 3),
        "substeps": env.substeps,
        "steps": steps,
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", default=["cartpole"])
    parser.add_argument("--num-envs", nargs="+", type=int, default=[256, 1024])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    rows = [measure(t, n, args.steps, args.repeats) for t in args.tasks for n in args.num_envs]
    for r in rows:
        print(json.dumps(r))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(args.out.read_text()) if args.out.exists() else []
    keep = [r for r in old if r["task"] not in args.tasks]  # other tasks' rows stay
    args.out.write_text(json.dumps(keep + rows, indent=2) + "\n")
    print(f"wrote {args.out} ({platform.processor() or platform.machine()}, torch threads {torch.get_num_threads()})")


if __name__ == "__main__":
    main()
