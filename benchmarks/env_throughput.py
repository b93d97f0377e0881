"""Env throughput against raw simulation, measured in the same run.

For each task and env count: control steps/s of the full env (random actions in [-1, 1];
observations, rewards, histories, auto-resets with freshly sampled dynamics included)
against ``Batch.step`` alone (same model, same per-env parameters, the same substeps per
control step). Two references, both measured in the same run:

- ``raw_steps_per_s`` / ``ratio``: the ``Batch.step`` calls the env itself makes, timed
  inside the env loop, so the physics runs on exactly the states the env visits
  (standing robots just reset, warm-started solver and all). ``ratio`` is therefore the
  share of an env step spent in simulation: ``1 - ratio`` is what the env adds.
- ``free_steps_per_s`` / ``ratio_free``: ``Batch.step`` looping on its own after the env
  loop, from the env's last state with no resets. For a contact-rich robot this is
  different physics (robots that have fallen over and lie still), so it can run faster or
  slower than the same call inside the env; it is kept for comparison with older files.

Writes ``benchmarks/results/env_throughput.json``.

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


class TimedBatch:
    """Stands in for a ``mujoco.batch.Batch`` and adds up the wall time of its ``step``."""

    def __init__(self, batch):
        self._batch = batch
        self.seconds = 0.0

    def step(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self._batch.step(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0

    def __getattr__(self, name):
        return getattr(self._batch, name)


def measure(task: str, num_envs: int, steps: int, repeats: int) -> dict:
    env = make_env(load_task_cfg(task), num_envs=num_envs, seed=0)
    env.reset()
    batch = env.backend.batch
    timed = TimedBatch(batch)
    gen = torch.Generator().manual_seed(0)
    actions = [torch.rand(num_envs, env.num_actions, generator=gen) * 2 - 1 for _ in range(steps)]
    env_rates, raw_rates, free_rates = [], [], []
    for _ in range(repeats):  # interleaved, so drifts in machine load hit both alike
        env.backend.batch, timed.seconds = timed, 0.0
        t0 = time.perf_counter()
        for a in actions:
            env.step(a)
        env_rates.append(steps * num_envs / (time.perf_counter() - t0))
        raw_rates.append(steps * num_envs / timed.seconds)
        env.backend.batch = batch
        t0 = time.perf_counter()
        for _ in range(steps):
            batch.step(nstep=env.substeps)
        free_rates.append(steps * num_envs / (time.perf_counter() - t0))
    # the fastest repeat of each: the one least disturbed by anything else on the machine
    env_rate, raw_rate, free_rate = max(env_rates), max(raw_rates), max(free_rates)
    return {
        "task": task,
        "num_envs": num_envs,
        "env_steps_per_s": round(env_rate),
        "raw_steps_per_s": round(raw_rate),
        "ratio": round(env_rate / raw_rate, 3),
        "free_steps_per_s": round(free_rate),
        "ratio_free": round(env_rate / free_rate, 3),
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
