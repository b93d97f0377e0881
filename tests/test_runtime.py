"""The deployable side under bad readings: the exported graph (ONNX, TorchScript), the
robot-side runtime, and what deploy.json tells an integrator."""
import hashlib
import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from envs import make_env
from student.export import export_policy
from student.policy import build_deployable
from student.runtime import ObservationError, PolicyRuntime

ARCH = {"latent": "history", "encoder": "mlp", "encoder_hidden": [32], "latent_dim": 8, "actor_hidden": [32]}


@pytest.fixture(scope="module")
def exported(cartpole_cfg, tmp_path_factory):
    """A deployable policy with non-trivial input statistics, exported with its run dir."""
    env = make_env(cartpole_cfg, num_envs=4, seed=0)
    torch.manual_seed(0)
    policy = build_deployable(ARCH, env.spec).eval()
    policy.obs_norm.mean.copy_(torch.tensor([0.3, -0.02, 0.5, 0.1]))
    policy.obs_norm.var.copy_(torch.tensor([0.5, 0.01, 0.8, 0.3]))
    run = tmp_path_factory.mktemp("run")
    (run / "checkpoints").mkdir()
    (run / "checkpoints" / "last.pt").write_bytes(b"stand-in checkpoint bytes")
    (run / "config.yaml").write_text("seed: 0\n")
    (run / "code_version.json").write_text(json.dumps({"commit": "abc123", "dirty": False}))
    export_policy(policy, env, run / "export", run)
    return policy, env, run


def backends(policy, export_dir):
    session = ort.InferenceSession(str(export_dir / "policy.onnx"), providers=["CPUExecutionProvider"])
    scripted = torch.jit.load(str(export_dir / "policy.pt"))
    with torch.no_grad():
        yield "torch", lambda x: policy(torch.from_numpy(x)).numpy()
        yield "torchscript", lambda x: scripted(torch.from_numpy(x)).numpy()
    yield "onnx", lambda x: session.run(["action"], {"proprio_hist": x})[0]


def histories(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((16, 30, 4)) * [0.5, 0.1, 0.8, 0.5]).astype(np.float32)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_graph_maps_a_non_finite_input_to_the_training_mean(exported, bad):
    policy, _, run = exported
    hist = histories()
    corrupt, repaired = hist.copy(), hist.copy()
    corrupt[:, -1, 1] = bad  # the pole-angle sensor fails on the current step
    corrupt[3, :, 0] = bad  # and one robot's cart-position history is gone entirely
    repaired[:, -1, 1] = policy.obs_norm.mean[1].item()
    repaired[3, :, 0] = policy.obs_norm.mean[0].item()
    for name, run_graph in backends(policy, run / "export"):
        out = run_graph(corrupt)
        assert np.isfinite(out).all(), name
        assert np.abs(out).max() <= 1.0, name
        np.testing.assert_allclose(out, run_graph(repaired), atol=1e-6, err_msg=name)
        assert not np.allclose(out, run_graph(hist)), name  # the reading did matter


def test_graph_never_emits_a_non_finite_action(exported, tmp_path):
    """A policy whose network itself yields NaN (a corrupted weight) commands 0, not NaN."""
    policy, env, _ = exported
    broken = build_deployable(ARCH, env.spec).eval()
    broken.load_state_dict(policy.state_dict())
    with torch.no_grad():
        broken.actor[-1].bias.fill_(float("nan"))
    export_policy(broken, env, tmp_path / "export")
    for name, run_graph in backends(broken, tmp_path / "export"):
        out = run_graph(histories())
        assert np.array_equal(out, np.zeros_like(out)), name


def test_runtime_rejects_a_wrong_reading_before_touching_its_history(exported):
    _, _, run = exported
    rt = PolicyRuntime.from_onnx(run / "export")
    for obs in histories()[0][:5]:
        rt.act(obs)
    before = rt.hist.copy()
    for bad in (np.zeros(5), np.zeros((1, 4)), "0.1 0.2 0.3 0.4", {"cart_pos": 0.1}):
        with pytest.raises(ObservationError, match=r"expected|numeric"):
            rt.act(bad)
        assert np.array_equal(rt.hist, before)  # nothing shifted, nothing lost
    assert rt.faults == 0
    a = rt.act([0.1, None, 0.2, 0.3])  # a missing entry is a failed sensor: repaired, counted
    assert np.isfinite(a).all() and rt.faults == 1 and rt.last_fault == ["pole_angle"]


def test_runtime_repairs_a_failed_sensor_counts_it_and_reports_ill_health(exported):
    _, _, run = exported
    obs_seq = histories(1)[0]  # 30 readings of 4 fields
    rt = PolicyRuntime.from_onnx(run / "export", fault_limit=3)
    ref = PolicyRuntime.from_onnx(run / "export")  # the same readings with the failed entry held by hand
    for t in range(10):
        rt.act(obs_seq[t])
        ref.act(obs_seq[t])
    held = obs_seq[9, 1]
    for t in range(10, 14):  # the pole-angle sensor reads NaN for four steps
        bad = obs_seq[t].copy()
        bad[1] = np.nan
        fixed = obs_seq[t].copy()
        fixed[1] = held
        a, b = rt.act(bad), ref.act(fixed)
        assert np.isfinite(a).all() and np.abs(a).max() <= 1.0
        np.testing.assert_allclose(a, b, atol=1e-6)
        assert rt.last_fault == ["pole_angle"]
        assert rt.healthy == (t - 10 + 1 < 3)  # ill after fault_limit consecutive faults
    assert rt.faults == 4 and rt.consecutive_faults == 4
    a = rt.act(obs_seq[14])  # the sensor recovers
    np.testing.assert_allclose(a, ref.act(obs_seq[14]), atol=1e-6)
    assert rt.healthy and rt.consecutive_faults == 0 and rt.faults == 4 and rt.last_fault == []
    for t in range(15, 30):  # and the NaN never resurfaces from the history
        assert np.isfinite(rt.act(obs_seq[t])).all()


def test_runtime_with_no_good_reading_yet_uses_the_graphs_mean(exported):
    policy, _, run = exported
    rt = PolicyRuntime.from_torch(policy, history_len=30)
    reading = np.array([np.nan, 0.01, 0.2, 0.0], np.float32)
    a = rt.act(reading)
    hist = np.zeros((1, 30, 4), np.float32)
    hist[0, -1] = [policy.obs_norm.mean[0].item(), 0.01, 0.2, 0.0]
    with torch.no_grad():
        np.testing.assert_allclose(a, policy(torch.from_numpy(hist))[0].numpy(), atol=1e-6)
    assert rt.faults == 1 and rt.last_fault == ["obs[0]"]


def test_deploy_json_tells_an_integrator_everything(exported):
    _, _, run = exported
    deploy = json.loads((run / "export" / "deploy.json").read_text())
    assert deploy["inputs"][0]["shape"] == ["batch", 30, 4]
    assert [f["name"] for f in deploy["obs_fields"]] == ["cart_pos", "pole_angle", "target_pos", "prev_action"]
    assert all(f["unit"] and f["note"] for f in deploy["obs_fields"])
    assert "before any actuation delay" in deploy["obs_fields"][3]["note"]
    assert "+x" in deploy["frame"] and "upright" in deploy["frame"]
    (force,) = deploy["action_fields"]
    assert force["scale"] == 20.0 and force["range"] == [-1.0, 1.0] and force["unit"] == "N"
    assert deploy["control_rate_hz"] == pytest.approx(50.0) and deploy["neutral_action"].startswith("0")
    assert "non-finite" in deploy["bad_input"]
    prov = deploy["provenance"]
    assert prov["commit"] == "abc123" and prov["dirty"] is False
    assert prov["checkpoint_sha256"] == hashlib.sha256(b"stand-in checkpoint bytes").hexdigest()
    assert prov["config_sha256"] == hashlib.sha256(b"seed: 0\n").hexdigest()
