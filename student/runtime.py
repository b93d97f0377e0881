"""Robot-side runtime: keeps the proprioceptive history itself, ``reset()`` / ``act(obs)``.

Runs either a torch ``DeployablePolicy`` or an exported ``policy.onnx`` (onnxruntime).

What a robot gets from it (also written to ``deploy.json``):
- A reading of the wrong shape, or one that is not numeric, raises ``ObservationError``
  before the history is touched: the call changed nothing and may be retried.
- A reading with non-finite entries (a failed sensor) is repaired before it enters the
  history: each bad entry holds its last finite value since ``reset()`` (or, if none, the
  policy maps it to that input's training mean). The step is counted in ``faults`` and
  ``consecutive_faults``, and ``last_fault`` names the bad fields.
- ``healthy`` turns false after ``fault_limit`` consecutive faulty readings: the caller
  should then hand control to its safe fallback (e.g. a damping or standing controller).
- The action is always finite and in [-1, 1]; a non-finite network output (which the
  exported graph already maps to 0) would be replaced by 0 here too and counted.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class ObservationError(ValueError):
    """A reading the runtime cannot use at all (wrong shape or type); the history is unchanged."""


class PolicyRuntime:
    def __init__(self, policy, history_len: int, obs_dim: int, field_names: list[str] | None = None,
                 fault_limit: int = 5):
        self.policy = policy
        self.obs_dim = obs_dim
        self.field_names = field_names or [f"obs[{i}]" for i in range(obs_dim)]
        self.fault_limit = fault_limit
        self.hist = np.zeros((1, history_len, obs_dim), np.float32)
        self.faults = 0  # readings with a non-finite entry, since construction
        self.bad_actions = 0  # non-finite actions replaced by 0, since construction
        self.reset()

    @classmethod
    def from_onnx(cls, export_dir: str | Path, fault_limit: int = 5) -> "PolicyRuntime":
        import onnxruntime as ort

        export_dir = Path(export_dir)
        deploy = json.loads((export_dir / "deploy.json").read_text())
        session = ort.InferenceSession(str(export_dir / "policy.onnx"), providers=["CPUExecutionProvider"])
        _, h, d = deploy["inputs"][0]["shape"]
        names = [f["name"] for f in deploy.get("obs_fields", [])] or None
        return cls(lambda x: session.run(["action"], {"proprio_hist": x})[0], h, d, names, fault_limit)

    @classmethod
    def from_torch(cls, policy, history_len: int, fault_limit: int = 5) -> "PolicyRuntime":
        import torch

        def run(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return policy(torch.from_numpy(x)).numpy()

        return cls(run, history_len, policy.obs_norm.mean.shape[0], fault_limit=fault_limit)

    def reset(self) -> None:
        """A new episode: empty history, no reading seen yet."""
        self.hist[:] = 0.0
        self.last_good = np.full(self.obs_dim, np.nan, np.float32)
        self.consecutive_faults = 0
        self.last_fault: list[str] = []

    @property
    def healthy(self) -> bool:
        return self.consecutive_faults < self.fault_limit

    def _check(self, obs) -> np.ndarray:
        try:
            x = np.asarray(obs, dtype=np.float32)
        except (TypeError, ValueError) as err:
            raise ObservationError(f"observation is not numeric ({err}); expected {self.obs_dim} floats") from err
        if x.shape != (self.obs_dim,):
            raise ObservationError(f"observation has shape {x.shape}; expected ({self.obs_dim},) in the order "
                                   f"of deploy.json obs_fields: {self.field_names}")
        return x

    def act(self, obs) -> np.ndarray:
        """One control step: check and append ``obs`` (D,) to the history, return the action (A,)."""
        x = self._check(obs)  # raises before anything changes
        bad = ~np.isfinite(x)
        if bad.any():
            x = np.where(bad, self.last_good, x)  # NaN where nothing good was seen: the graph's mean
            self.faults += 1
            self.consecutive_faults += 1
            self.last_fault = [self.field_names[i] for i in np.flatnonzero(bad)]
        else:
            self.consecutive_faults = 0
            self.last_fault = []
        self.last_good = np.where(bad, self.last_good, x)
        self.hist[:, :-1] = self.hist[:, 1:]
        self.hist[0, -1] = x
        action = np.asarray(self.policy(self.hist)[0], np.float32)
        if not np.isfinite(action).all():
            self.bad_actions += 1
            action = np.where(np.isfinite(action), action, 0.0).astype(np.float32)
        return np.clip(action, -1.0, 1.0)
