"""Stage two: distill a deployable student from a teacher run (DAgger, adaptation module,
or the SysID baseline).

    python -m student.distill teacher=<teacher run dir> method=dagger|adapt|sysid [overrides]

Each iteration: the deployable policy acts for ``horizon`` steps in every env (DAgger mixes
in teacher actions with probability beta); the frozen teacher labels each visited state
(its action for DAgger, its latent z for the adaptation module, the true ``priv_info``
for SysID); the states join an aggregated buffer; the student takes
``updates_per_iteration`` regression steps on it.
The run ends with an evaluation on the training dynamics and the export.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf

from adaptation.module import AdaptMethod
from adaptation.sysid import SysIdMethod
from envs import make_env
from envs.config import compose
from envs.rollout import run_episodes
from student.config import StudentCfg  # noqa: F401  (registers the schema)
from student.dagger import DaggerMethod
from student.dataset import DatasetWriter, read_dataset
from student.export import export_policy
from student.policy import DeployablePolicy, build_deployable
from teacher.logger import Logger
from teacher.runs import CheckpointError, check_same, load_checkpoint, prepare_run_dir, save_checkpoint, write_summary
from teacher.train import load_run

METHODS = {"dagger": DaggerMethod, "adapt": AdaptMethod, "sysid": SysIdMethod}
LOSSES = {"mse": F.mse_loss, "huber": F.smooth_l1_loss}


class Buffer:
    """The aggregated (history, label) pairs, oldest overwritten first."""

    def __init__(self, capacity: int, hist_shape: tuple, label_dim: int):
        self.hist = torch.zeros(capacity, *hist_shape)
        self.label = torch.zeros(capacity, label_dim)
        self.capacity, self.size, self.head = capacity, 0, 0

    def add(self, hist: torch.Tensor, label: torch.Tensor) -> None:
        idx = (self.head + torch.arange(len(hist))) % self.capacity
        self.hist[idx], self.label[idx] = hist, label
        self.head = int((self.head + len(hist)) % self.capacity)
        self.size = min(self.capacity, self.size + len(hist))

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(self.size, (n,), generator=generator)
        return self.hist[idx], self.label[idx]


def student_checkpoint(method, cfg, spec, task: str, iteration: int, env_steps: int) -> dict:
    return {
        "stage": "student",
        "method": method.name,
        "task": task,
        "obs_spec": spec.as_dict(),
        "arch": method.arch,
        "model": method.policy.state_dict(),
        "teacher_run": str(cfg.teacher),
        "iteration": iteration,
        "env_steps": env_steps,
    }


def load_student(run_dir: str | Path, spec, task: str) -> DeployablePolicy:
    """The deployable policy of a student run; strict, and checked against the task."""
    ckpt = load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt")
    if ckpt.get("stage") != "student":
        raise CheckpointError(f"{run_dir} holds a {ckpt.get('stage')!r} checkpoint, not a student one")
    check_same("the task", ckpt["task"], task)
    check_same("the task's observation layout", ckpt["obs_spec"], spec.as_dict())
    policy = build_deployable(ckpt["arch"], spec)
    policy.load_state_dict(ckpt["model"], strict=True)
    return policy.eval()


def distill(cfg: DictConfig) -> dict:
    if cfg.method not in METHODS:
        raise ValueError(f"unknown method {cfg.method!r}; choose one of {sorted(METHODS)}")
    if cfg.loss not in LOSSES:
        raise ValueError(f"unknown loss {cfg.loss!r}; choose one of {sorted(LOSSES)}")
    teacher_cfg, teacher, spec = load_run(cfg.teacher, cfg.teacher_checkpoint)
    if teacher.actor_input != "privileged":
        raise CheckpointError(f"{cfg.teacher} is a DR (history) run, not a privileged teacher")
    # the student runs on the teacher's task, exactly as the teacher saw it
    if cfg.task is not None:
        raise ValueError("the student runs on its teacher's task; do not pass task= (train another teacher instead)")
    cfg.task = teacher_cfg.task  # recorded in the student's config.yaml
    run_dir = prepare_run_dir(cfg, f"student_{cfg.method}")
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    method = METHODS[cfg.method](cfg, teacher, spec)
    loss_fn = LOSSES[cfg.loss]
    optimizer = torch.optim.Adam(method.parameters, lr=cfg.learning_rate)
    env = make_env(teacher_cfg.task, num_envs=cfg.num_envs, seed=cfg.seed, nthread=cfg.nthread)
    buffer = Buffer(cfg.buffer_size, (spec.history_len, spec.obs_dim), method.label_dim)
    writer = DatasetWriter(cfg.dataset_path, teacher_cfg.task.name, spec, cfg.teacher, teacher.latent_dim) \
        if cfg.dataset_path else None
    offline = read_dataset(cfg.offline_dataset, teacher_cfg.task.name, spec) if cfg.offline_dataset else None

    iterations = cfg.offline_epochs if offline is not None else cfg.iterations
    logger = Logger(run_dir, cfg, f"student_{cfg.method}", iterations)
    t_start, env_steps, loss = time.perf_counter(), 0, float("nan")
    if offline is not None:
        buffer = Buffer(len(offline["episode_id"]), (spec.history_len, spec.obs_dim), method.label_dim)
        buffer.add(offline["proprio_hist"], offline[method.label_key])

    obs = env.reset()
    episode_id = torch.arange(cfg.num_envs)
    next_episode = cfg.num_envs
    returns: list[float] = []
    for it in range(iterations):
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
                    obs, _, done, info = env.step(actions)
                    returns.extend(info["episode"]["return"].tolist())
                    n_done = int(done.sum())
                    episode_id[done] = torch.arange(next_episode, next_episode + n_done)
                    next_episode += n_done
            env_steps += cfg.horizon * cfg.num_envs
        collect_s = time.perf_counter() - t0

        t1 = time.perf_counter()
        updates = cfg.updates_per_iteration if offline is None else max(1, buffer.size // cfg.batch_size)
        total = 0.0
        for _ in range(updates):
            hist, label = buffer.sample(cfg.batch_size, gen)
            loss_t = loss_fn(method.predict(hist), label)
            optimizer.zero_grad(set_to_none=True)
            loss_t.backward()
            optimizer.step()
            total += loss_t.item()
        loss = total / updates
        recent = returns[-cfg.log.return_window:]
        logger.log(it, {
            "loss": loss,
            "beta": beta,
            "mean_return": sum(recent) / len(recent) if recent else float("nan"),
            "buffer_size": buffer.size,
            "env_steps": env_steps,
            "collect_s": collect_s,
            "update_s": time.perf_counter() - t1,
            "wall_s": time.perf_counter() - t_start,
        })
    logger.close()
    if writer is not None:
        writer.close()
    save_checkpoint(run_dir / "checkpoints" / "last.pt",
                    student_checkpoint(method, cfg, spec, teacher_cfg.task.name, iterations, env_steps))

    # final check on the training dynamics, the teacher beside it with the same seeds
    eval_env = make_env(teacher_cfg.task, num_envs=cfg.eval_envs, seed=cfg.seed + 10_000, nthread=cfg.nthread)
    student_policy = method.policy.eval()
    student_ret = run_episodes(eval_env, lambda o: student_policy(o["proprio_hist"]))["return"].mean().item()
    teacher_ret = run_episodes(eval_env, lambda o: teacher.action_mean(o))["return"].mean().item()
    exported = export_policy(student_policy, eval_env, run_dir / "export") if cfg.export else {}
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
    }
    write_summary(run_dir, summary)
    return summary


def main(argv: list[str] | None = None) -> None:
    cfg = compose("student", sys.argv[1:] if argv is None else argv)
    if not OmegaConf.is_missing(cfg, "teacher") and not Path(cfg.teacher).is_dir():
        raise SystemExit(f"teacher run dir {cfg.teacher} does not exist; train one with scripts/train_teacher.sh")
    summary = distill(cfg)
    print(f"student run: {cfg.run_dir}")
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()})


if __name__ == "__main__":
    main()
