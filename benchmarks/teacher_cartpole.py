"""Teacher learning speed on cartpole: PPO-Clip and PPO-KL with the default config.

Records, per objective, the wall-clock and env steps until the rolling mean return first
reaches the threshold, and the final return. Writes benchmarks/results/teacher_cartpole.json.

    python benchmarks/teacher_cartpole.py [--iterations 150] [--threshold 250]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from runstore.config import compose
from teacher.train import train

OUT = Path(__file__).resolve().parent / "results" / "teacher_cartpole.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--threshold", type=float, default=250.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    for objective in ("clip", "kl"):
        with tempfile.TemporaryDirectory() as tmp:
            summary = train(compose("teacher", [
                f"ppo.objective={objective}", f"max_iterations={args.iterations}", f"seed={args.seed}",
                f"run_dir={tmp}/run", "log.progress=false", "log.tensorboard=false", "log.print_every=0",
            ]))
            curve = [json.loads(line) for line in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
        hit = next((m for m in curve if m["mean_return"] is not None and m["mean_return"] >= args.threshold), None)
        rows.append({
            "objective": objective,
            "threshold": args.threshold,
            "reached": hit is not None,
            "env_steps_to_threshold": hit["env_steps"] if hit else None,
            "wall_s_to_threshold": round(hit["wall_s"], 1) if hit else None,
            "final_return": round(summary["mean_return"], 2),
            "env_steps": summary["env_steps"],
            "wall_s": round(summary["wall_s"], 1),
            "seed": args.seed,
        })
        print(json.dumps(rows[-1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
