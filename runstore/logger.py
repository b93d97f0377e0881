"""Training diagnostics to the console, metrics.jsonl, TensorBoard and wandb.

wandb runs only when ``log.wandb_mode`` is offline or online (disabled by default) and is
imported lazily, so a disabled run never touches it or the network.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from omegaconf import OmegaConf
from tqdm import tqdm

WANDB_MODES = ("disabled", "offline", "online")


def _iteration(line: str) -> int:
    """The iteration a metrics.jsonl line records; -1 for a line cut short by a kill."""
    try:
        return int(json.loads(line)["iteration"])
    except (ValueError, KeyError, TypeError):
        return -1


class Logger:
    def __init__(self, run_dir: Path, cfg, stage: str, total_iterations: int, start_iteration: int = 0):
        log = cfg.log
        if log.wandb_mode not in WANDB_MODES:
            raise ValueError(f"unknown log.wandb_mode {log.wandb_mode!r}; choose one of {WANDB_MODES}")
        self.print_every = log.print_every
        path = Path(run_dir) / "metrics.jsonl"
        if start_iteration and path.is_file():  # a resume: drop what was logged after the checkpoint
            kept = [line for line in path.read_text().splitlines() if -1 < _iteration(line) < start_iteration]
            path.write_text("".join(line + "\n" for line in kept))
        self.metrics_file = open(path, "a")
        self.tb = None
        if log.tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(log_dir=str(Path(run_dir) / "tb"))
        self.wandb = None
        if log.wandb_mode != "disabled":
            import wandb

            self.wandb = wandb.init(
                project=log.wandb_project,
                mode=log.wandb_mode,
                dir=str(run_dir),
                name=f"{stage}-{Path(run_dir).name}",
                config=OmegaConf.to_container(cfg, resolve=True),
            )
        self.bar = tqdm(total=total_iterations, initial=start_iteration, desc=stage, disable=not log.progress, dynamic_ncols=True)

    def log(self, iteration: int, metrics: dict) -> None:
        clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}
        self.metrics_file.write(json.dumps({"iteration": iteration, **clean}) + "\n")
        self.metrics_file.flush()
        numeric = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and v is not None}
        if self.tb is not None:
            for k, v in numeric.items():
                self.tb.add_scalar(k, v, iteration)
        if self.wandb is not None:
            self.wandb.log(numeric, step=iteration)
        self.bar.update(1)
        self.bar.set_postfix({k: f"{metrics[k]:.3g}" for k in ("mean_return", "steps_per_s") if k in metrics})
        if self.print_every and (iteration + 1) % self.print_every == 0:
            line = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in numeric.items())
            self.bar.write(f"[{iteration + 1}] {line}")

    def close(self) -> None:
        self.bar.close()
        self.metrics_file.close()
        if self.tb is not None:
            self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()
