"""Export of a deployable policy: TorchScript, ONNX and deploy.json, normalization included.

``deploy.json`` is what a robot integrator needs beside the graph: input layout, field
order, units, frames and sign conventions, the meaning of the previous action, action
scaling and limits, the control rate, how bad readings are handled, and where the policy
came from (run dir, code commit, config and checkpoint hashes).
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from runstore.store import atomic_write_text, file_sha256
from student.policy import DeployablePolicy

BAD_INPUT = (
    "The graph maps a non-finite input entry to that input's training mean and a non-finite action "
    "to 0, so its output is always finite and in [-1, 1]. student/runtime.py's PolicyRuntime also "
    "rejects a reading of the wrong shape before touching its history (ObservationError), holds the "
    "last finite value of a failed entry, counts faulty readings, and reports healthy=false after "
    "fault_limit consecutive ones: hand control to a safe fallback then."
)


def provenance(run_dir: Path | None) -> dict:
    """Where an exported policy came from, from its run dir (run store layout)."""
    if run_dir is None:
        return {}
    run_dir = Path(run_dir)
    version_file = run_dir / "code_version.json"
    version = json.loads(version_file.read_text()) if version_file.is_file() else {}
    return {
        "run_dir": str(run_dir.resolve()),
        "commit": version.get("commit"),
        "dirty": version.get("dirty"),
        "config_sha256": file_sha256(run_dir / "config.yaml"),
        "checkpoint_sha256": file_sha256(run_dir / "checkpoints" / "last.pt"),
        "exported": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def export_policy(policy: DeployablePolicy, env, out_dir: Path, run_dir: Path | None = None) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    policy = policy.eval()
    spec = env.spec
    example = torch.zeros(1, spec.history_len, spec.obs_dim)
    paths = {"torchscript": out_dir / "policy.pt", "onnx": out_dir / "policy.onnx", "deploy": out_dir / "deploy.json"}
    with torch.no_grad():
        torch.jit.trace(policy, example).save(str(paths["torchscript"]))
        torch.onnx.export(
            policy,
            (example,),
            str(paths["onnx"]),
            input_names=["proprio_hist"],
            output_names=["action"],
            dynamic_axes={"proprio_hist": {0: "batch"}, "action": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    deploy = {
        "inputs": [{
            "name": "proprio_hist",
            "shape": ["batch", spec.history_len, spec.obs_dim],
            "dtype": "float32",
            "layout": "oldest row first; the last row is the current observation; rows before the episode "
                      "began are zero; each row holds obs_fields in order",
        }],
        "outputs": [{"name": "action", "shape": ["batch", spec.num_actions], "dtype": "float32", "range": [-1.0, 1.0]}],
        "history_len": spec.history_len,
        "normalization": "included in the exported graph (feed raw observations in the units below)",
        "bad_input": BAD_INPUT,
        **env.deploy_description(),
        "provenance": provenance(run_dir),
    }
    atomic_write_text(paths["deploy"], json.dumps(deploy, indent=2) + "\n")
    return paths
