"""Summarizes what benchmarks/gpu_check.sh left in a folder into one JSON file.

    python benchmarks/gpu_check_summary.py <folder> [--out benchmarks/results/gpu_check.json]

Reads machine.txt, test_device.log, go2_slices.json and go2_metrics.jsonl; the Go2 run is
judged by benchmarks/teacher_quadruped.py's threshold (its constants, its episode length).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from teacher_quadruped import MAX_LIN_VEL_ERR, MIN_LENGTH_FRACTION, tracks

GO2_EPISODE_STEPS = 1000  # 20 s at 50 Hz (configs/task/go2.yaml episode_length)


def summarize(folder: Path) -> dict:
    machine = (folder / "machine.txt").read_text().splitlines()
    tests = [line for line in (folder / "test_device.log").read_text().splitlines() if " in " in line and ("passed" in line or "failed" in line)]
    slices = json.loads((folder / "go2_slices.json").read_text())
    curve = [json.loads(line) for line in (folder / "go2_metrics.jsonl").read_text().splitlines()]
    min_length = MIN_LENGTH_FRACTION * GO2_EPISODE_STEPS
    hit = next((m for m in curve if tracks(m, min_length)), None)
    errs = [m["episode_lin_vel_err"] for m in curve if m["episode_lin_vel_err"] is not None and m["mean_episode_length"] >= min_length]
    last = curve[-1]
    return {
        "machine": machine,
        "tests_device": tests[-1] if tests else None,
        "go2_slices": {"note": "median over iterations 3-20 of the Go2 teacher (+experiment=go2, seed 0), 1024 envs x 24 steps",
                       **slices,
                       "speedup_cuda_vs_cpu": round(slices["cpu"]["iteration_s"] / slices["cuda"]["iteration_s"], 2),
                       "speedup_cuda_overlap_vs_cpu": round(slices["cpu"]["iteration_s"] / slices["cuda_overlap"]["iteration_s"], 2)},
        "go2_threshold_run": {
            "overrides": ["device=cuda", "overlap=true"],
            "threshold": {"episode_lin_vel_err_max": MAX_LIN_VEL_ERR, "episode_length_min": min_length},
            "reached": hit is not None,
            "env_steps_to_threshold": hit["env_steps"] if hit else None,
            "wall_s_to_threshold": round(hit["wall_s"], 1) if hit else None,
            "iterations_run": len(curve),
            "env_steps": last["env_steps"],
            "wall_s": round(last["wall_s"], 1),
            "best_lin_vel_err_in_long_episodes": round(min(errs), 4) if errs else None,
            "final": {k: last[k] for k in ("mean_return", "mean_episode_length", "episode_lin_vel_err", "action_std")},
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "gpu_check.json")
    args = parser.parse_args()
    result = summarize(args.folder)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
