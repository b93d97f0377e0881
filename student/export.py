"""Export of a deployable policy: TorchScript, ONNX and deploy.json, normalization included."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from student.policy import DeployablePolicy
from teacher.runs import atomic_write_text


def export_policy(policy: DeployablePolicy, env, out_dir: Path) -> dict[str, Path]:
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
            "layout": "oldest row first; the last row is the current observation; rows before the episode began are zero",
        }],
        "outputs": [{"name": "action", "shape": ["batch", spec.num_actions], "dtype": "float32", "range": [-1.0, 1.0]}],
        "history_len": spec.history_len,
        "normalization": "included in the exported graph (feed raw observations)",
        **env.deploy_description(),
    }
    atomic_write_text(paths["deploy"], json.dumps(deploy, indent=2) + "\n")
    return paths
