"""Robot-side runtime: keeps the proprioceptive history itself, ``reset()`` / ``act(obs)``.

Runs either a torch ``DeployablePolicy`` or an exported ``policy.onnx`` (onnxruntime).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


class PolicyRuntime:
    def __init__(self, policy, history_len: int, obs_dim: int):
        self.policy = policy
        self.hist = np.zeros((1, history_len, obs_dim), np.float32)

    @classmethod
    def from_onnx(cls, export_dir: str | Path) -> "PolicyRuntime":
        import onnxruntime as ort

        export_dir = Path(export_dir)
        deploy = json.loads((export_dir / "deploy.json").read_text())
        session = ort.InferenceSession(str(export_dir / "policy.onnx"), providers=["CPUExecutionProvider"])
        _, h, d = deploy["inputs"][0]["shape"]
        return cls(lambda x: session.run(["action"], {"proprio_hist": x})[0], h, d)

    @classmethod
    def from_torch(cls, policy, history_len: int) -> "PolicyRuntime":
        import torch

        def run(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return policy(torch.from_numpy(x)).numpy()

        return cls(run, history_len, policy.obs_norm.mean.shape[0])

    def reset(self) -> None:
        self.hist[:] = 0.0

    def act(self, obs: np.ndarray) -> np.ndarray:
        """One control step: append ``obs`` (D,) to the history, return the action (A,)."""
        self.hist[:, :-1] = self.hist[:, 1:]
        self.hist[0, -1] = np.asarray(obs, np.float32)
        return self.policy(self.hist)[0]

