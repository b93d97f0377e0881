"""The learner against this machine's roofline: FLOP/s of the PPO and distillation updates
divided by the FLOP/s of a plain matrix multiply, both measured in this run on the same threads.

- PPO update: ``teacher.ppo.PPO.update`` on a rollout of random data with the shapes, widths,
  horizon, envs, epochs and minibatches of the task's teacher config (Go2: 24 steps x 1024
  envs, [256, 128, 128]; cartpole: 16 x 1024, [128, 128]). Its FLOPs are counted from the linear layers: a forward
  is 2 * rows * in * out per layer and a backward twice that (input and weight gradients),
  over the actor, the critic and the privileged encoder, for every sample of every epoch.
  Elementwise work (activations, the losses, Adam) is not counted: it is what keeps the
  ratio below 1.
- Distillation update: one DAgger step of the MLP history encoder + actor on a batch of
  histories (forward and backward counted the same way).
  The same update is timed again with the ELUs out of place and Adam unfused (what the
  update was before those two changes): ``speedup_over_plain``.
- Reference: ``torch.mm`` of two 2048 x 2048 float32 matrices (peak sgemm on these threads),
  and the same GEMM shapes the update runs (one layer at a time, forward only: its
  achievable ceiling at these sizes).

Writes benchmarks/results/update_roofline.json.

    python benchmarks/update_roofline.py [--threads 1 2] [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf
from torch import nn

import teacher.config  # noqa: F401  (registers the schema)
from envs import make_env
from runstore.config import compose
from teacher.actor_critic import ActorCritic
from teacher.ppo import PPO
from teacher.storage import RolloutStorage

OUT = Path(__file__).resolve().parent / "results" / "update_roofline.json"
# each task's teacher config (configs/teacher.yaml; Go2: configs/experiment/go2.yaml): widths, horizon, envs, epochs
TASKS = {"go2": ["+experiment=go2"], "cartpole": []}


def task_setup(task: str):
    """(teacher config, obs spec) of a task, as its teacher would train it."""
    cfg = compose("teacher", TASKS[task])
    return cfg, make_env(cfg.task, num_envs=1).spec


def linear_flops(modules: list[nn.Module], rows: int) -> float:
    """FLOPs of a forward and backward pass of every nn.Linear in ``modules`` over ``rows`` rows."""
    macs = sum(m.in_features * m.out_features for mod in modules for m in mod.modules() if isinstance(m, nn.Linear))
    return 6.0 * rows * macs  # forward 2 * macs, backward 4 * macs


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def matmul_flops(n: int, repeats: int) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2.0 * n**3 * 10 / best_of(lambda: [torch.mm(a, b) for _ in range(10)], repeats)


def layer_gemm_flops(policy: ActorCritic, rows: int, repeats: int) -> float:
    """The forward GEMMs of the update's layers alone, at its minibatch size: the ceiling at these shapes."""
    layers = [m for m in policy.modules() if isinstance(m, nn.Linear)]
    xs = [torch.randn(rows, m.in_features) for m in layers]
    flops = sum(2.0 * rows * m.in_features * m.out_features for m in layers)
    with torch.no_grad():
        return flops * 5 / best_of(lambda: [m(x) for _ in range(5) for m, x in zip(layers, xs)], repeats)


def ppo_update(task: str, repeats: int) -> dict:
    cfg, spec = task_setup(task)
    T, N, ppo_cfg = cfg.ppo.horizon, cfg.num_envs, cfg.ppo
    torch.manual_seed(0)
    policy = ActorCritic(spec, cfg.policy)
    ppo = PPO(policy, OmegaConf.merge(ppo_cfg, {"lr_schedule": "fixed"}), seed=0)
    shapes = {"obs": (spec.obs_dim,), "priv_info": (spec.priv_dim,), "critic": (spec.critic_dim,)}
    storage = RolloutStorage(T, N, shapes, spec.num_actions)
    for k, v in storage.obs.items():
        v.normal_()
    storage.actions.normal_()
    storage.mu.normal_()
    storage.sigma.fill_(1.0)
    storage.log_probs.normal_()
    storage.values.normal_()
    storage.advantages.normal_()
    storage.returns.normal_()
    samples = ppo_cfg.epochs * T * N
    flops = linear_flops([policy.actor, policy.critic, policy.priv_encoder], samples)
    seconds = best_of(lambda: ppo.update(storage), repeats)
    # the same update with the ELUs out of place and Adam's per-tensor loop (before both changes)
    for m in policy.modules():
        if isinstance(m, nn.ELU):
            m.inplace = False
    ppo.optimizer = torch.optim.Adam(policy.parameters(), lr=ppo.learning_rate)
    plain = best_of(lambda: ppo.update(storage), repeats)
    return {"seconds": seconds, "seconds_plain_elu_unfused_adam": plain, "speedup_over_plain": plain / seconds,
            "flops": flops, "flop_per_s": flops / seconds, "samples": samples,
            "minibatch": T * N // ppo_cfg.num_minibatches, "epochs": ppo_cfg.epochs,
            "layer_gemm_flop_per_s": layer_gemm_flops(policy, T * N // ppo_cfg.num_minibatches, repeats)}


def distill_update(task: str, repeats: int, batch: int = 8192, steps: int = 10) -> dict:
    """DAgger's regression step: MLP history encoder + actor, MSE to teacher actions, Adam."""
    from teacher.networks import MLPHistoryEncoder, mlp

    cfg, spec = task_setup(task)
    torch.manual_seed(0)
    encoder = MLPHistoryEncoder(spec.history_len, spec.obs_dim, [256, 128], 8)
    actor = mlp(spec.obs_dim + 8, cfg.policy.actor_hidden, spec.num_actions)
    params = [*encoder.parameters(), *actor.parameters()]
    opt = torch.optim.Adam(params, lr=1e-3, fused=True)  # as student/distill.py
    hist = torch.randn(batch, spec.history_len, spec.obs_dim)
    target = torch.randn(batch, spec.num_actions)

    def run():
        for _ in range(steps):
            a = actor(torch.cat([hist[:, -1], encoder(hist)], -1))
            loss = (a - target).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    flops = linear_flops([encoder, actor], batch * steps)
    seconds = best_of(run, repeats)
    return {"seconds": seconds, "flops": flops, "flop_per_s": flops / seconds, "batch": batch}


def measure(threads: int, repeats: int) -> dict:
    torch.set_num_threads(threads)
    peak = matmul_flops(2048, repeats)
    result = {"threads": threads, "matmul_2048_flop_per_s": peak, "tasks": {}}
    for task in TASKS:
        ppo = ppo_update(task, repeats)
        dis = distill_update(task, repeats)
        result["tasks"][task] = {
            "ppo_update": ppo, "ppo_ratio_to_matmul": ppo["flop_per_s"] / peak,
            "ppo_ratio_to_layer_gemm": ppo["flop_per_s"] / ppo["layer_gemm_flop_per_s"],
            "layer_gemm_ratio_to_matmul": ppo["layer_gemm_flop_per_s"] / peak,
            "distill_update": dis, "distill_ratio_to_matmul": dis["flop_per_s"] / peak,
        }
        print(f"{threads} thread(s), {task}:", json.dumps({k: round(v, 3) for k, v in result["tasks"][task].items()
                                                          if "ratio" in k}), flush=True)
    print(f"matmul peak {peak / 1e9:.1f} GFLOP/s on {threads} thread(s)")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, torch.get_num_threads()],
                        help="torch thread counts to measure (default: 1 and torch's default)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    results = [measure(t, args.repeats) for t in dict.fromkeys(args.threads)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
