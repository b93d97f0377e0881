"""Stage two: distill a deployable student from a teacher run (DAgger, adaptation module,
or the SysID baseline).

    python -m student.distill teacher=<teacher run dir> method=dagger|adapt|sysid [overrides]

Each iteration: the deployable policy acts for ``horizon`` steps in every env (DAgger mixes
in teacher actions with probability beta); the frozen teacher labels each visited state
(its action for DAgger, its latent z for the adaptation module, the true ``priv_info``
for SysID); the states join an aggregated buffer; the student takes
``updates_per_iteration`` regression steps on it.
The run ends with an evaluation on the training dynamics and the export.

Checkpoints every ``save_every`` iterations; ``resume=true`` continues from the last one
with the student, its optimizer, the DAgger schedule and the random streams restored. The
aggregated buffer is not checkpointed (it can be gigabytes): a resumed run refills it from
its first resumed rollout on. A dataset being recorded is truncated to the rows the
checkpoint had seen and appended to.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from omegaconf import DictConfig

from adaptation.module import AdaptMethod
from adaptation.sysid import SysIdMethod
from envs import make_env
from envs.registry import TRAIN_RESAMPLE_PROB, can_resample
from envs.rollout import run_episodes
from runstore.config import compose
from runstore.logger import Logger
from runstore.distributed import Group, open_run
from runstore.store import CheckpointError, save_checkpoint, write_summary
from student.config import RESUMABLE
from student.dagger import DaggerMethod
from student.dataset import DatasetWriter, read_dataset
from student.export import export_policy
from student.load import CHECKPOINT_KEYS
from teacher.load import load_run

METHODS = {"dagger": DaggerMethod, "adapt": AdaptMethod, "sysid": SysIdMethod}
LOSSES = {"mse": F.mse_loss, "huber": F.smooth_l1_loss}


class Buffer:
    """The aggregated (history, label) pairs, oldest overwritten first."""

    def __init__(self, capacity: int, hist_shape: tuple, label_dim: int, device: torch.device = torch.device("cpu")):
        self.hist = torch.zeros(capacity, *hist_shape, device=device)
        self.label = torch.zeros(capacity, label_dim, device=device)
        self.capacity, self.size, self.head = capacity, 0, 0

    def add(self, hist: torch.Tensor, label: torch.Tensor) -> None:
        idx = (self.head + torch.arange(len(hist), device=self.hist.device)) % self.capacity
        self.hist[idx], self.label[idx] = hist, label
        self.head = int((self.head + len(hist)) % self.capacity)
        self.size = min(self.capacity, self.size + len(hist))

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(self.size, (n,), generator=generator)
        return self.hist[idx], self.label[idx]


def student_checkpoint(method, optimizer, cfg, spec, task: str, iteration: int, env_steps: int,
                       gen: torch.Generator, returns: list, dataset_rows: int) -> dict:
    """Tensors and plain data only: ``runstore.store.load_checkpoint`` reads it with weights_only."""
    return {
        "stage": "student",
        "method": method.name,
        "task": task,
        "obs_spec": spec.as_dict(),
        "arch": method.arch,
        "model": {k: v.cpu() for k, v in method.policy.state_dict().items()},  # loads on any machine
        "optimizer": optimizer.state_dict(),
        "teacher_run": str(cfg.teacher),
        "iteration": iteration,
        "env_steps": env_steps,
        "rng": torch.get_rng_state(),
        "generator": gen.get_state(),
        "returns": returns[-cfg.log.return_window:],
        "dataset_rows": dataset_rows,
    }


def distill(cfg: DictConfig) -> dict:
    teacher_cfg, teacher, spec = load_run(cfg.teacher, cfg.teacher_checkpoint)
    if teacher.actor_input != "privileged":
        raise CheckpointError(f"{cfg.teacher} is a DR (history) run, not a privileged teacher")
    if cfg.dataset_path and not cfg.resume and Path(cfg.dataset_path).exists():
        raise FileExistsError(f"dataset_path {cfg.dataset_path} exists; it would be overwritten: "
                              "remove it or choose another file")
    offline = read_dataset(cfg.offline_dataset, teacher_cfg.task.name, spec) if cfg.offline_dataset else None
    iterations = cfg.offline_epochs if offline is not None else cfg.iterations
    cfg.task = teacher_cfg.task  # the student runs on its teacher's task; recorded in its config.yaml
    resamples = can_resample(cfg.task)  # the student's own training rate of mid-episode resampling:
    if cfg.resample_prob is None and resamples:  # recorded resolved, so a resume finds the same
        cfg.resample_prob = TRAIN_RESAMPLE_PROB
    if cfg.resample_prob and not resamples:
        raise ValueError(f"resample_prob={cfg.resample_prob}: task={cfg.task.name} cannot resample its dynamics "
                         "mid-episode (only apprentice's own tasks can); pass resample_prob=null")
    if resamples:
        cfg.task.resample_prob = cfg.resample_prob
    group = Group(cfg.device)  # one process, or one rank of a torchrun job (runstore/distributed.py)
    device = group.device  # the learner's: the student acts there too; the envs stay on the CPU
    if group.active and cfg.dataset_path:
        raise ValueError("dataset_path (recording a dataset) is for a single process, not a torchrun job")
    run_dir, ckpt = open_run(cfg, f"student_{cfg.method}", group, RESUMABLE, iterations, "student", CHECKPOINT_KEYS)
    start = ckpt["iteration"] if ckpt else 0
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed + 7919 * group.rank)
    teacher.to(device)
    method = METHODS[cfg.method](cfg, teacher, spec)
    method.policy.to(device)
    loss_fn = LOSSES[cfg.loss]
    optimizer = torch.optim.Adam(method.parameters, lr=cfg.learning_rate, fused=True)  # one kernel for all tensors
    env_steps, returns, dataset_rows = 0, [], 0
    if ckpt is not None:
        method.policy.load_state_dict(ckpt["model"], strict=True)
        optimizer.load_state_dict(ckpt["optimizer"])
        torch.set_rng_state(ckpt["rng"])
        gen.set_state(ckpt["generator"])
        env_steps, returns, dataset_rows = ckpt["env_steps"], list(ckpt["returns"]), ckpt["dataset_rows"]
    group.broadcast(method.policy)  # the same student on every rank
    env = make_env(cfg.task, num_envs=cfg.num_envs, seed=cfg.seed + start + 1000 * group.rank,
                   nthread=cfg.nthread)
    buffer = Buffer(cfg.buffer_size, (spec.history_len, spec.obs_dim), method.label_dim, device)
    writer = DatasetWriter(cfg.dataset_path, teacher_cfg.task.name, spec, cfg.teacher, teacher.latent_dim,
                           keep_rows=dataset_rows if ckpt else None) if cfg.dataset_path else None
    if offline is not None:
        buffer = Buffer(len(offline["episode_id"]), (spec.history_len, spec.obs_dim), method.label_dim, device)
        buffer.add(offline["proprio_hist"].to(device), offline[method.label_key].to(device))

    logger = Logger(run_dir, cfg, f"student_{cfg.method}", iterations, start) if group.main else None
    t_start, loss = time.perf_counter(), float("nan")
    def on_device(o: dict) -> dict:
        return {k: v.to(device) for k, v in o.items()}

    obs = on_device(env.reset())
    episode_id = torch.arange(cfg.num_envs) + dataset_rows  # unique within a recorded file across resumes
    next_episode = int(episode_id[-1]) + 1
    for it in range(start, iterations):
        beta = cfg.beta0 * cfg.beta_decay**it if cfg.method == "dagger" else 0.0
        t0 = time.perf_counter()
        if offline is None:
            with torch.no_grad():
                for _ in range(cfg.horizon):
                    label = method.label(obs)
                    actions = method.act(obs, label, beta, gen)
                    buffer.add(obs["proprio_hist"], label)
                    if writer is not None:
                        writer.append({
                            "proprio_hist": obs["proprio_hist"],
                            "teacher_action": teacher.action_mean(obs).clamp(-1, 1),
                            "teacher_latent": teacher.latent(obs["priv_info"]),
                            "priv_info": obs["priv_info"],
                            "episode_id": episode_id.clone(),
                            "step": torch.from_numpy(env.episode_length_buf.copy()),
                        })
                    obs, _, done, info = env.step(actions.cpu())
                    obs = on_device(obs)
                    returns.extend(info["episode"]["return"].tolist())
                    n_done = int(done.sum())
                    episode_id[done] = torch.arange(next_episode, next_episode + n_done)
                    next_episode += n_done
            env_steps += cfg.horizon * cfg.num_envs * group.world
        collect_s = time.perf_counter() - t0

        t1 = time.perf_counter()
        updates = cfg.updates_per_iteration if offline is None else max(1, buffer.size // cfg.batch_size)
        total = 0.0
        for _ in range(updates):
            hist, label = buffer.sample(cfg.batch_size, gen)
            loss_t = loss_fn(method.predict(hist), label)
            optimizer.zero_grad(set_to_none=True)
            loss_t.backward()
            group.average_gradients(method.parameters)
            optimizer.step()
            total += loss_t.item()
        loss = total / updates
        returns = returns[-cfg.log.return_window:]
        if not group.main:  # rank 0 alone logs and writes the run
            continue
        logger.log(it, {
            "loss": loss,
            "beta": beta,
            "mean_return": sum(returns) / len(returns) if returns else float("nan"),
            "buffer_size": buffer.size,
            "env_steps": env_steps,
            "collect_s": collect_s,
            "update_s": time.perf_counter() - t1,
            "wall_s": time.perf_counter() - t_start,
        })
        if it + 1 == iterations or (it + 1) % cfg.save_every == 0:
            if writer is not None:
                writer.flush()
            save_checkpoint(run_dir / "checkpoints" / "last.pt",
                            student_checkpoint(method, optimizer, cfg, spec, teacher_cfg.task.name, it + 1, env_steps,
                                               gen, returns, writer.rows if writer else 0))
    ranks = {"ranks": group.world, "param_max_difference": group.max_param_difference(method.policy)} \
        if group.active else {}
    if not group.main:
        return {"stage": "student", "rank": group.rank, **ranks}
    logger.close()
    if writer is not None:
        writer.close()

    # final check on the training dynamics, the teacher beside it with the same seeds
    eval_env = make_env(teacher_cfg.task, num_envs=cfg.eval_envs, seed=cfg.seed + 10_000, nthread=cfg.nthread)
    teacher.cpu()
    student_policy = method.policy.cpu().eval()
    student_ret = run_episodes(eval_env, lambda o: student_policy(o["proprio_hist"]))["return"].mean().item()
    teacher_ret = run_episodes(eval_env, lambda o: teacher.action_mean(o))["return"].mean().item()
    exported = export_policy(student_policy, eval_env, run_dir / "export", run_dir) if cfg.export else {}
    summary = {
        "stage": "student",
        "method": cfg.method,
        "task": teacher_cfg.task.name,
        "mean_return": student_ret,
        "teacher_return": teacher_ret,
        "return_fraction": student_ret / teacher_ret if teacher_ret else float("nan"),
        "final_loss": loss,
        "env_steps": env_steps,
        "iterations": iterations,
        "wall_s": time.perf_counter() - t_start,
        "export": {k: str(v) for k, v in exported.items()},
        **ranks,
    }
    write_summary(run_dir, summary)
    return summary


def main(argv: list[str] | None = None) -> None:
    cfg = compose("student", sys.argv[1:] if argv is None else argv)
    if not Path(cfg.teacher).is_dir():
        raise SystemExit(f"teacher run dir {cfg.teacher} does not exist; train one with scripts/train_teacher.sh")
    summary = distill(cfg)
    print(f"student run: {cfg.run_dir}")
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()})


if __name__ == "__main__":
    main()
