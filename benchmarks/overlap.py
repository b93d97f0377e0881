"""Simulation and learning overlapped against in step: wall-clock per iteration and learning.

For each task, the same teacher (same seed) is trained with ``overlap=false`` and
``overlap=true`` back to back on the same machine. Reported per run: the median wall-clock
of an iteration after the first two, the collection's own time, the update's time, the time
the learner waited for a rollout, env steps per second, and the final training return.
The speed-up is the ratio of median iteration times (in step / overlapped). Cartpole runs
the full default teacher (150 iterations, so the return shows the overlap still learns);
Go2 runs a short slice of its teacher (``--go2-iterations``) for the timing alone.
Writes benchmarks/results/overlap.json.

    python benchmarks/overlap.py [--cartpole-iterations 150] [--go2-iterations 12]
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import torch

from runstore.config import compose
from teacher.train import train

OUT = Path(__file__).resolve().parent / "results" / "overlap.json"
QUIET = ["log.progress=false", "log.tensorboard=false", "log.print_every=0", "heldout_eval_envs=0"]


def one(task_overrides: list[str], iterations: int, overlap: bool, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        summary = train(compose("teacher", [*task_overrides, f"overlap={str(overlap).lower()}",
                                            f"max_iterations={iterations}", f"seed={seed}", f"run_dir={tmp}/r", *QUIET]))
        curve = [json.loads(line) for line in (Path(tmp) / "r" / "metrics.jsonl").read_text().splitlines()]
    steady = curve[2:] or curve

    def med(key):
        return statistics.median(m[key] for m in steady)

    steps = curve[-1]["env_steps"] / len(curve)
    iteration_s = statistics.median(steps / m["steps_per_s"] for m in steady)
    return {"overlap": overlap, "iterations": iterations, "iteration_s": iteration_s, "collect_s": med("collect_s"),
            "update_s": med("update_s"), "collect_wait_s": med("collect_wait_s"),
            "steps_per_s": steps / iteration_s, "final_return": summary["mean_return"], "wall_s": summary["wall_s"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cartpole-iterations", type=int, default=150)
    parser.add_argument("--go2-iterations", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = {"torch_threads": torch.get_num_threads(), "tasks": {}}
    for task, overrides, iterations in (("cartpole", [], args.cartpole_iterations),
                                        ("go2", ["+experiment=go2"], args.go2_iterations)):
        runs = [one(overrides, iterations, overlap, args.seed) for overlap in (False, True)]
        result["tasks"][task] = {"in_step": runs[0], "overlapped": runs[1],
                                 "speedup": runs[0]["iteration_s"] / runs[1]["iteration_s"]}
        print(task, json.dumps(result["tasks"][task]), flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
