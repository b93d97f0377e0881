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
Writes benchmarks/results/peers_cartpole.json (and .md).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from envs import make_env  # noqa: E402
from envs.config import load_task_cfg  # noqa: E402
from envs.rollout import run_episodes  # noqa: E402
from evaluation.metrics import ci95, paired_difference, summarize  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "peers_cartpole.json"
NUM_ENVS, HORIZON = 1024, 16


class Probe:
    """The env every peer steps, wrapped: episode returns, steps and env time, on one clock."""

    def __init__(self, env, window: int = 200):
        self.env, self.t0, self.steps, self.env_s = env, time.perf_counter(), 0, 0.0
        self.returns = deque(maxlen=window)
        self.curve: list[tuple[int, float, float]] = []  # (env steps, wall s, mean return)

    def __getattr__(self, name):
        return getattr(self.env, name)

    def reset(self):
        return self.env.reset()

    def step(self, actions):
        t = time.perf_counter()
        out = self.env.step(actions)
        self.env_s += time.perf_counter() - t
        self.steps += self.env.num_envs
        ended = out[3]["episode"]["return"]
        if len(ended):
            self.returns.extend(ended.tolist())
            if len(self.returns) == self.returns.maxlen:
                self.curve.append((self.steps, time.perf_counter() - self.t0, float(np.mean(self.returns))))
        return out

    def result(self, threshold: float) -> dict:
        wall = time.perf_counter() - self.t0
        hit = next((c for c in self.curve if c[2] >= threshold), None)
        return {"env_steps_to_threshold": hit[0] if hit else None,
                "wall_s_to_threshold": round(hit[1], 1) if hit else None,
                "final_return": round(self.curve[-1][2], 1) if self.curve else None,
                "env_steps": self.steps, "wall_s": round(wall, 1), "steps_per_s": round(self.steps / wall),
                "env_share": round(self.env_s / wall, 3)}


def mlp(std=None) -> dict:
    cfg = {"class_name": "MLPModel", "hidden_dims": [128, 128], "activation": "elu", "obs_normalization": True}
    if std is not None:
        cfg["distribution_cfg"] = {"class_name": "GaussianDistribution", "init_std": std}
    return cfg


def rsl_rl_ppo_cfg() -> dict:
    return {"num_steps_per_env": HORIZON, "save_interval": 10**9,
            "obs_groups": {"actor": ["policy", "privileged"], "critic": ["policy", "privileged", "critic"]},
            "algorithm": {"class_name": "PPO", "num_learning_epochs": 5, "num_mini_batches": 4, "learning_rate": 1e-3,
                          "schedule": "adaptive", "desired_kl": 0.01, "entropy_coef": 0.005, "gamma": 0.99,
                          "lam": 0.95, "clip_param": 0.2, "value_loss_coef": 1.0, "max_grad_norm": 1.0},
            "actor": mlp(1.0), "critic": mlp()}


def run_apprentice(seed: int, iterations: int, threshold: float) -> dict:
    from runstore.config import compose
    from teacher.train import train

    with tempfile.TemporaryDirectory() as tmp:
        summary = train(compose("teacher", [f"seed={seed}", f"max_iterations={iterations}", f"num_envs={NUM_ENVS}",
                                            f"run_dir={tmp}/run", "log.progress=false", "log.tensorboard=false",
                                            "log.print_every=0"]))
        rows = [json.loads(x) for x in (Path(tmp) / "run" / "metrics.jsonl").read_text().splitlines()]
    hit = next((r for r in rows if r["mean_return"] is not None and r["mean_return"] >= threshold), None)
    collect, update = sum(r["collect_s"] for r in rows), sum(r["update_s"] for r in rows)
    return {"env_steps_to_threshold": hit["env_steps"] if hit else None,
            "wall_s_to_threshold": round(hit["wall_s"], 1) if hit else None,
            "final_return": round(summary["mean_return"], 1), "env_steps": summary["env_steps"],
            "wall_s": round(summary["wall_s"], 1), "steps_per_s": round(summary["env_steps"] / summary["wall_s"]),
            "env_share": round(collect / (collect + update), 3), "note": "env_share is collect_s (env + inference)"}


def run_rsl_rl(seed: int, iterations: int, threshold: float, log_dir: str) -> tuple[dict, object]:
    from rsl_rl.runners import OnPolicyRunner

    from envs.ecosystem.to_rsl_rl import RslRlVecEnv

    torch.manual_seed(seed)
    probe = Probe(make_env(load_task_cfg("cartpole"), num_envs=NUM_ENVS, seed=seed))
    runner = OnPolicyRunner(RslRlVecEnv(probe), rsl_rl_ppo_cfg(), log_dir=log_dir, device="cpu")
    with open(os.devnull, "w") as quiet, _redirect(quiet):
        runner.learn(iterations)
    return probe.result(threshold), runner


def run_rl_games(seed: int, iterations: int, threshold: float, train_dir: str) -> dict:
    from rl_games.common import env_configurations, vecenv
    from rl_games.torch_runner import Runner

    from envs.ecosystem.to_rl_games import RlGamesVecEnv

    probe = Probe(make_env(load_task_cfg("cartpole"), num_envs=NUM_ENVS, seed=seed))
    name = f"peers_cartpole_{seed}"
    vecenv.register(name, lambda config_name, num_actors, **kw: RlGamesVecEnv(probe))
    env_configurations.register(name, {"vecenv_type": name, "env_creator": lambda **kw: None})
    params = {
        "seed": seed, "algo": {"name": "a2c_continuous"}, "model": {"name": "continuous_a2c_logstd"},
        "network": {"name": "actor_critic", "separate": False,
                    "space": {"continuous": {"mu_activation": "None", "sigma_activation": "None",
                                             "mu_init": {"name": "default"}, "fixed_sigma": True,
                                             "sigma_init": {"name": "const_initializer", "val": 0}}},
                    "mlp": {"units": [128, 128], "activation": "elu", "initializer": {"name": "default"}}},
        "config": {"name": name, "env_name": name, "device": "cpu", "device_name": "cpu", "multi_gpu": False,
                   "ppo": True, "mixed_precision": False, "normalize_input": True, "normalize_value": True,
                   "value_bootstrap": True, "num_actors": NUM_ENVS, "reward_shaper": {"scale_value": 1.0},
                   "normalize_advantage": True, "gamma": 0.99, "tau": 0.95, "learning_rate": 3e-4,
                   "lr_schedule": "adaptive", "kl_threshold": 0.008, "score_to_win": 1e12, "max_epochs": iterations,
                   "save_best_after": 10**9, "save_frequency": 10**9, "grad_norm": 1.0, "entropy_coef": 0.0,
                   "truncate_grads": True, "e_clip": 0.2, "horizon_length": HORIZON, "minibatch_size": 8192,
                   "mini_epochs": 8, "critic_coef": 4, "clip_value": True, "bounds_loss_coef": 1e-4,
                   "torch_compile": False, "train_dir": train_dir},
    }
    runner = Runner()
    runner.load({"params": params})
    with open(os.devnull, "w") as quiet, _redirect(quiet):
        runner.run({"train": True, "play": False, "checkpoint": None, "sigma": None})
    return probe.result(threshold)


def run_sb3(seed: int, iterations: int, threshold: float) -> dict:
    from gymnasium import spaces
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecEnv, VecNormalize

    probe = Probe(make_env(load_task_cfg("cartpole"), num_envs=NUM_ENVS, seed=seed))
    width = probe.env.spec.obs_dim + probe.env.spec.priv_dim

    class Sb3Env(VecEnv):
        def __init__(self):
            super().__init__(NUM_ENVS, spaces.Box(-np.inf, np.inf, (width,), np.float32),
                             spaces.Box(-1.0, 1.0, (probe.num_actions,), np.float32))

        @staticmethod
        def _obs(o):
            return torch.cat([o["obs"], o["priv_info"]], 1).numpy()

        def reset(self):
            return self._obs(probe.reset())

        def step_async(self, actions):
            self._actions = torch.as_tensor(actions, dtype=torch.float32)

        def step_wait(self):
            o, r, d, info = probe.step(self._actions)
            infos = [{} for _ in range(NUM_ENVS)]
            return self._obs(o), r.numpy(), d.numpy(), infos

        def close(self):
            pass

        def get_attr(self, attr_name, indices=None):
            return [None] * NUM_ENVS

        def set_attr(self, attr_name, value, indices=None):
            pass

        def env_method(self, method_name, *args, indices=None, **kwargs):
            return [None] * NUM_ENVS

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False] * NUM_ENVS

    env = VecNormalize(Sb3Env(), norm_obs=True, norm_reward=False)
    model = PPO("MlpPolicy", env, n_steps=HORIZON, batch_size=512, seed=seed, device="cpu", verbose=0,
                policy_kwargs={"net_arch": {"pi": [128, 128], "vf": [128, 128]}, "activation_fn": torch.nn.ELU})
    model.learn(total_timesteps=iterations * HORIZON * NUM_ENVS)
    return probe.result(threshold)


class _redirect:
    """Silence a library's per-iteration console output (stdout only)."""

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        self.old, sys.stdout = sys.stdout, self.stream

    def __exit__(self, *exc):
        sys.stdout = self.old


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
        dcfg = {"num_steps_per_env": HORIZON, "save_interval": 10**9,
                "obs_groups": {"student": ["proprio_hist"], "teacher": ["policy", "privileged"]},
                "algorithm": {"class_name": "Distillation", "num_learning_epochs": 5, "learning_rate": 1e-3,
                              "gradient_length": 15},
                "student": mlp(0.1), "teacher": mlp(0.0)}
        rsl_teacher.save(f"{tmp}/rsl_teacher.pt")
        distiller = DistillationRunner(env, dcfg, log_dir=f"{tmp}/rsl_student", device="cpu")
        distiller.load(f"{tmp}/rsl_teacher.pt")
        with open(os.devnull, "w") as q, _redirect(q):
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
