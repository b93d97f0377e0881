"""One process against two torchrun ranks with the same total number of envs, on this machine.

Trains the cartpole teacher for ``--iterations`` iterations as 1 process x N envs and as
2 ranks x N/2 envs (``torch.distributed.run --standalone --nproc_per_node 2``, gloo), and
records each run's wall-clock, env steps per second and final return, read from the run's
own ``summary.json``. torchrun gives each rank one OpenMP thread, so on a machine with as
many cores as ranks this compares one process spreading over the cores by threads against
one single-threaded process per core, all-reduces included.
Writes benchmarks/results/ranks.json.

    python benchmarks/ranks.py [--iterations 60] [--num-envs 1024]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results" / "ranks.json"
REPO = Path(__file__).resolve().parent.parent


def run(ranks: int, num_envs: int, iterations: int, seed: int, tmp: str) -> dict:
    run_dir = f"{tmp}/r{ranks}"
    args = [f"num_envs={num_envs // ranks}", f"max_iterations={iterations}", f"seed={seed}", f"run_dir={run_dir}",
            "heldout_eval_envs=0", "log.progress=false", "log.tensorboard=false", "log.print_every=0"]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks)] \
        if ranks > 1 else [sys.executable]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    subprocess.run([*launcher, "-m", "teacher.train", *args], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    s = json.loads((Path(run_dir) / "summary.json").read_text())
    return {"ranks": ranks, "envs_per_rank": num_envs // ranks, "wall_s": s["wall_s"], "env_steps": s["env_steps"],
            "env_steps_per_s": s["env_steps"] / s["wall_s"], "final_return": s["mean_return"],
            "param_max_difference": s.get("param_max_difference")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--num-envs", type=int, default=1024, help="total over the ranks")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(r, args.num_envs, args.iterations, args.seed, tmp) for r in (1, 2)]
    result = {"cores": os.cpu_count(), "rows": rows, "speedup_2_ranks": rows[0]["wall_s"] / rows[1]["wall_s"]}
    print(json.dumps(result, indent=2))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
