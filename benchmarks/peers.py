"""apprentice beside its peers on apprentice's own cartpole env, and rsl_rl's whole pipeline
beside apprentice's on the same held-out episodes.

Part 1, learning (``--part learn``): apprentice's teacher, rsl_rl's PPO, rl_games' PPO and
SB3's PPO train on the same env (1024 envs, the same env-step budget, runs interleaved by
seed). The peers' actors read the privileged observation (``obs`` + ``priv_info``);
apprentice's reads it through its latent z. Actor and critic MLPs are 128 x 128 everywhere.
Each library runs with its own settings for massively parallel envs:
- rsl_rl: Isaac Lab's cartpole settings (16 steps, 5 epochs, 4 minibatches, lr 1e-3 adaptive);
- rl_games: IsaacGymEnvs' cartpole settings (16 steps, 8 epochs, minibatch 8192, lr 3e-4 adaptive);
- SB3: its defaults (lr 3e-4, 10 epochs, GAE 0.95) with n_steps 16 and batch 512, observation
  normalization by VecNormalize. SB3's VecEnv cannot bootstrap truncations here: the env
  auto-resets and does not hand back the terminal observation SB3 wants;
- apprentice: its default teacher config.
One probe for all peers wraps the env. It records each finished episode's return with the
env steps and wall-clock so far, and the time spent inside ``env.step``: the rest is the
learner (inference and update). Time to threshold is the first moment the mean of the last
200 episodes reaches ``--threshold``. apprentice reads the same window from its
metrics.jsonl, where the time split is its logged collect_s / update_s.

Part 2, pipeline (``--part pipeline``), for every seed:
- rsl_rl: a PPO teacher (actor on obs + priv_info), then DistillationRunner (student on the
  flattened history, 5 epochs per iteration);
- apprentice: the teacher, then the DAgger and adaptation-module students at their default
  budgets, and the DAgger student fine-tuned by PPO (configs/finetune/dagger.yaml).
Every policy runs on the same 1000 episodes of each split (train, heldout, extreme; seed
2026, dynamics resampled within episodes at RMA's test rate 0.01), with paired differences
pooled over the seeds.

    python benchmarks/peers.py [--part learn|pipeline|all] [--seeds 0 1] [--pipeline-seeds 0 1 2]
Writes benchmarks/results/peers_cartpole.json (and .md). The peers' runners are in
peer_runners.py, the pipeline comparison in peer_pipeline.py.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_pipeline import pipeline_part  # noqa: E402
from peer_runners import run_apprentice, run_rl_games, run_rsl_rl, run_sb3  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "peers_cartpole.json"


def learn_part(seeds: list[int], iterations: int, threshold: float) -> list[dict]:
    rows = []
    for seed in seeds:  # interleaved: every library once per seed before the next seed
        with tempfile.TemporaryDirectory() as tmp:
            for lib, run in [("apprentice", lambda: run_apprentice(seed, iterations, threshold)),
                             ("rsl_rl", lambda: run_rsl_rl(seed, iterations, threshold, f"{tmp}/rsl")[0]),
                             ("rl_games", lambda: run_rl_games(seed, iterations, threshold, f"{tmp}/rlg")),
                             ("sb3", lambda: run_sb3(seed, iterations, threshold))]:
                row = {"library": lib, "seed": seed, "threshold": threshold, **run()}
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def markdown(result: dict) -> str:
    """The tables of peers_cartpole.json, per library the mean (and range) over seeds."""
    lines = ["# Peers on apprentice's cartpole (`benchmarks/peers.py`)", "", f"Machine: {result.get('machine')}.", ""]
    learn = result.get("learn", [])
    if learn:
        lines += ["## Learning: the same env, 1024 envs, the same env-step budget, runs interleaved by seed", "",
                  "| library | seeds | wall s to return 250 | env steps to 250 | final return | steps/s | env share |",
                  "|---|---|---|---|---|---|---|"]
        for lib in dict.fromkeys(r["library"] for r in learn):
            rows = [r for r in learn if r["library"] == lib]

            def col(key, digits=0):
                vals = [r[key] for r in rows if r[key] is not None]
                if not vals:
                    return "not reached"
                mean = sum(vals) / len(vals)
                text = f"{mean:.{digits}f}" + (f" ({min(vals):.{digits}f}-{max(vals):.{digits}f})" if len(vals) > 1 else "")
                return text + (f", {len(vals)}/{len(rows)} reached" if len(vals) < len(rows) else "")

            lines.append(f"| {lib} | {len(rows)} | {col('wall_s_to_threshold', 1)} | {col('env_steps_to_threshold')} | "
                         f"{col('final_return', 1)} | {col('steps_per_s')} | {col('env_share', 2)} |")
        lines.append("")
    pipe = result.get("pipeline")
    if pipe:
        lines += [f"## Teacher -> student pipelines on the same episodes (seeds {pipe['seeds']}, "
                  f"{pipe['episodes']} paired episodes per split and seed, resampling "
                  f"{pipe['resample_prob']}, student iterations {pipe.get('student_iterations', 80)})", ""]
        lines += [f"Wall-clock per stage (s), seed {s}: " + ", ".join(f"{k} {v}" for k, v in t.items())
                  for s, t in pipe["timings"].items()]
        lines.append("")
        for split, table in pipe["splits"].items():
            lines += [f"### {split}", "", "| policy | return ± 95% | success | per seed |", "|---|---|---|---|"]
            lines += [f"| {k} | {v['return_mean']:.1f} ± {v['return_ci95']:.1f} | {v['success_rate']:.2f} | "
                      + ", ".join(f"{x:.0f}" for x in v["seed_returns"]) + " |"
                      for k, v in table.items() if "return_mean" in v]
            lines += ["", "| paired difference | mean ± 95% |", "|---|---|"]
            lines += [f"| {k} | {v['diff_mean']:+.1f} ± {v['diff_ci95']:.1f} |" for k, v in table.items() if "diff_mean" in v]
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("learn", "pipeline", "all"), default="all")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="seeds of the learning part")
    parser.add_argument("--pipeline-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--threshold", type=float, default=250.0)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--student-iterations", type=int, default=None,
                        help="iterations of apprentice's students and of rsl_rl's student (default: configs/student.yaml's)")
    parser.add_argument("--markdown-only", action="store_true", help="rewrite the .md from the existing .json")
    parser.add_argument("--finetune-iterations", type=int, default=None, help="default: configs/finetune/dagger.yaml's")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    out = args.out
    result = json.loads(out.read_text()) if out.is_file() else {}
    if args.markdown_only:
        out.with_suffix(".md").write_text(markdown(result) + "\n")
        return
    result["machine"] = f"{os.cpu_count()} cores, torch {torch.__version__}, threads {torch.get_num_threads()}"
    if args.part in ("learn", "all"):
        result["learn"] = learn_part(args.seeds, args.iterations, args.threshold)
    if args.part in ("pipeline", "all"):
        if args.student_iterations is None:
            from omegaconf import OmegaConf
            args.student_iterations = int(OmegaConf.load(Path(__file__).resolve().parents[1] / "configs" / "student.yaml").iterations)
        result["pipeline"] = pipeline_part(args.pipeline_seeds, args.episodes, args.iterations, args.student_iterations,
                                           args.finetune_iterations)
        print(json.dumps(result["pipeline"], indent=1), flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(result) + "\n")
    print(f"wrote {out} and its .md")


if __name__ == "__main__":
    main()
