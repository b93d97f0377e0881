"""Data-parallel training across processes and machines with torch.distributed (torchrun).

    torchrun --nproc_per_node 2 -m teacher.train run_dir=runs/t2 num_envs=512     # one machine
    torchrun --nnodes 2 --node_rank <0|1> --master_addr <host> --nproc_per_node 2 \\
        -m teacher.train run_dir=<shared path> ...                                 # two machines

Each rank simulates its own ``num_envs`` envs with its own seed, computes gradients on its
own rollout, and averages them with every other rank before each optimizer step, so the
parameters stay identical everywhere. Decisions that depend on data (the adaptive learning
rate's KL, PPO-KL's beta, input normalization statistics) use the values of all ranks
combined. Rank 0 alone writes the run. The backend is gloo on CPU and NCCL where the
learner's tensors live on a GPU. Without torchrun (``WORLD_SIZE`` unset) every call here
is a no-op and training is the single-process loop, bit for bit.
"""
from __future__ import annotations

import atexit
import os
from pathlib import Path

import torch
import torch.distributed as tdist


def _destroy() -> None:
    if tdist.is_initialized():
        tdist.destroy_process_group()


class Group:
    def __init__(self, device: str = "cpu"):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.device = torch.device(device)  # this rank's learner device
        if self.device.type == "cuda" and self.device.index is None:  # set_device needs an index
            index = int(os.environ.get("LOCAL_RANK", "0")) if self.world > 1 else torch.cuda.current_device()
            self.device = torch.device("cuda", index)  # one GPU per rank
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if self.world > 1 and not tdist.is_initialized():
            tdist.init_process_group(backend="nccl" if self.device.type == "cuda" else "gloo")
            # torn down before the interpreter's own teardown: a gloo group left to the C++ static
            # destructors aborted a finished rank once ("terminate called without an active exception")
            atexit.register(_destroy)

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1

    def barrier(self) -> None:
        if self.active:
            tdist.barrier()

    def agree(self, message: str | None, error: BaseException | None = None) -> None:
        """Rank 0's verdict on a check only it made (e.g. the run dir), raised on every rank:
        rank 0 raises its own ``error``, the others a RuntimeError with its message."""
        if self.active:
            box = [message]
            tdist.broadcast_object_list(box, src=0)
            message = box[0]
        if error is not None:
            raise error
        if message:
            raise RuntimeError(f"rank 0: {message}")

    def share(self, obj):
        """Rank 0's object (e.g. the checkpoint it resumes from) on every rank: no shared disk needed."""
        if not self.active:
            return obj
        box = [obj]
        tdist.broadcast_object_list(box, src=0)
        return box[0]

    def average_gradients(self, params) -> None:
        if not self.active:
            return
        grads = [p.grad for p in params if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        tdist.all_reduce(flat)
        flat /= self.world
        offset = 0
        for g in grads:
            g.copy_(flat[offset:offset + g.numel()].view_as(g))
            offset += g.numel()

    def gather(self, obj) -> list:
        """Every rank's ``obj`` (small, picklable), in rank order, on every rank."""
        if not self.active:
            return [obj]
        out = [None] * self.world
        tdist.all_gather_object(out, obj)
        return out

    def mean(self, value: float) -> float:
        if not self.active:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        tdist.all_reduce(t)
        return float(t) / self.world

    def moments(self, x: torch.Tensor) -> tuple[int, torch.Tensor, torch.Tensor]:
        """(count, mean, population variance) of ``x`` (n, d) over every rank's rows."""
        x = x.reshape(-1, x.shape[-1]).double()
        stats = torch.cat([torch.tensor([float(len(x))], dtype=torch.float64, device=x.device), x.sum(0), (x * x).sum(0)])
        if self.active:
            tdist.all_reduce(stats)
        n = int(stats[0])
        d = x.shape[-1]
        mean = stats[1:1 + d] / n
        var = (stats[1 + d:] / n - mean * mean).clamp_min(0.0)
        return n, mean.float(), var.float()

    def broadcast(self, module: torch.nn.Module) -> None:
        if self.active:
            for t in module.state_dict().values():
                tdist.broadcast(t, src=0)

    def max_param_difference(self, module: torch.nn.Module) -> float:
        """The largest difference of any parameter or buffer from rank 0's (0.0 when in sync)."""
        if not self.active:
            return 0.0
        flat = torch.cat([t.detach().reshape(-1).double() for t in module.state_dict().values()])
        ref = flat.clone()
        tdist.broadcast(ref, src=0)
        diff = (flat - ref).abs().max().reshape(1)
        tdist.all_reduce(diff, op=tdist.ReduceOp.MAX)
        return float(diff)


def open_run(cfg, stage: str, group: Group, resumable=(), iterations: int | None = None,
             checkpoint_stage: str | None = None, required=()):
    """``prepare_run_dir`` for one process or a torchrun job: rank 0 prepares (or reopens)
    the run dir, and every rank gets the checkpoint it resumes from."""
    from runstore.store import CheckpointError, prepare_run_dir

    args = (cfg, stage, resumable, iterations, checkpoint_stage, required)
    if not group.active:
        return prepare_run_dir(*args)
    if not cfg.run_dir:
        raise ValueError("training under torchrun needs an explicit run_dir= (rank 0 writes it)")
    run_dir, ckpt, error = Path(cfg.run_dir), None, None
    if group.main:
        try:
            run_dir, ckpt = prepare_run_dir(*args)
        except (CheckpointError, ValueError) as err:
            error = err
    group.agree(str(error) if error else None, error)
    return run_dir, group.share(ckpt)
