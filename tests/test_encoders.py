"""Every history encoder a config can name builds, runs, and exports to ONNX faithfully."""
import numpy as np
import onnxruntime as ort
import pytest
import torch

from envs import make_env
from student.export import export_policy
from student.policy import build_deployable


@pytest.mark.parametrize("kind", ["mlp", "tcn", "gru"])
def test_history_encoder_deployable_exports(cartpole_cfg, tmp_path, kind):
    env = make_env(cartpole_cfg, num_envs=16, seed=0)
    arch = {"latent": "tanh_history", "encoder": kind, "encoder_hidden": [32, 16], "latent_dim": 8,
            "actor_hidden": [32]}
    policy = build_deployable(arch, env.spec).eval()
    hist = env.reset()["proprio_hist"]
    for _ in range(10):
        hist = env.step(policy(hist).detach())[0]["proprio_hist"]
    paths = export_policy(policy, env, tmp_path)
    out = ort.InferenceSession(str(paths["onnx"]), providers=["CPUExecutionProvider"]).run(
        ["action"], {"proprio_hist": hist.numpy()})[0]
    with torch.no_grad():
        ref = policy(hist).numpy()
    assert out.shape == (16, 1) and np.abs(out - ref).max() <= 1e-5


def test_unknown_encoder_is_a_clear_error(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=1)
    arch = {"latent": "history", "encoder": "lstm", "encoder_hidden": [8], "latent_dim": 4, "actor_hidden": [8]}
    with pytest.raises(ValueError, match="unknown history encoder 'lstm'"):
        build_deployable(arch, env.spec)
