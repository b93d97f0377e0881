"""The aggregated distillation dataset in HDF5.

Schema (one row per visited state, datasets grow along axis 0):
- ``proprio_hist`` float32 (M, H, D): the deployable input at that state;
- ``teacher_action`` float32 (M, A): the frozen teacher's mean action (the DAgger label);
- ``teacher_latent`` float32 (M, Z): the teacher's z (the adaptation-module label);
- ``priv_info`` float32 (M, P): privileged information at that state (for analysis);
- ``episode_id`` int64 (M,): unique per (env, episode) within the file;
- ``step`` int64 (M,): control step within the episode.
Attributes: ``task``, ``obs_spec`` (JSON), ``teacher_run``.
"""
from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import torch

FIELDS = ("proprio_hist", "teacher_action", "teacher_latent", "priv_info", "episode_id", "step")


class DatasetWriter:
    """Appends rows to a new file, or (``keep_rows``: a resumed run) to an existing one cut
    back to the rows its checkpoint had seen."""

    def __init__(self, path: str | Path, task: str, spec, teacher_run: str, latent_dim: int,
                 keep_rows: int | None = None):
        shapes = {
            "proprio_hist": ((spec.history_len, spec.obs_dim), "f4"),
            "teacher_action": ((spec.num_actions,), "f4"),
            "teacher_latent": ((latent_dim,), "f4"),
            "priv_info": ((spec.priv_dim,), "f4"),
            "episode_id": ((), "i8"),
            "step": ((), "i8"),
        }
        if keep_rows is not None and Path(path).is_file():
            self.file = h5py.File(path, "a")
            for name, (shape, _) in shapes.items():
                if name not in self.file or self.file[name].shape[1:] != shape or self.file[name].shape[0] < keep_rows:
                    raise ValueError(f"dataset {path} does not hold the {keep_rows} rows of layout {shape} "
                                     f"that the resumed checkpoint recorded in {name!r}; remove dataset_path= to go on")
                self.file[name].resize(keep_rows, axis=0)
            self.rows = keep_rows
            return
        self.file = h5py.File(path, "w")
        self.file.attrs.update(task=task, obs_spec=json.dumps(spec.as_dict()), teacher_run=str(teacher_run))
        for name, (shape, dtype) in shapes.items():
            self.file.create_dataset(name, shape=(0, *shape), maxshape=(None, *shape), dtype=dtype, chunks=True)
        self.rows = 0

    def append(self, rows: dict[str, torch.Tensor]) -> None:
        n = len(rows["episode_id"])
        for name in FIELDS:
            ds = self.file[name]
            ds.resize(ds.shape[0] + n, axis=0)
            ds[-n:] = rows[name].cpu().numpy() if isinstance(rows[name], torch.Tensor) else rows[name]
        self.rows += n

    def flush(self) -> None:
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_dataset(path: str | Path, task: str, spec) -> dict[str, torch.Tensor]:
    """All rows of a dataset file; a clear error when it was made for another task or layout."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"dataset {path} does not exist; write one with dataset_path=<file> first")
    with h5py.File(path, "r") as f:
        if f.attrs["task"] != task or json.loads(f.attrs["obs_spec"]) != spec.as_dict():
            raise ValueError(
                f"dataset {path} was made for task {f.attrs['task']!r} with layout {f.attrs['obs_spec']}, "
                f"not {task!r} with {json.dumps(spec.as_dict())}"
            )
        return {name: torch.from_numpy(np.asarray(f[name])) for name in FIELDS}
