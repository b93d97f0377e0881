"""Teacher runs: run-dir contents, checkpoints, resume, strict loading, and learning."""
import json
import platform

import mujoco
import pytest
import torch
from omegaconf import OmegaConf

from envs import make_env
from runstore.config import compose
from runstore.store import CheckpointError, load_checkpoint
from teacher.load import load_policy
from teacher.train import train

FAST = ["num_envs=64", "ppo.horizon=8", "log.progress=false", "log.tensorboard=false", "save_every=1"]


def test_run_dir_checkpoint_round_trip_and_resume(tmp_path):
    run = tmp_path / "t"
    summary = train(compose("teacher", [*FAST, "max_iterations=2", f"run_dir={run}"]))
    for f in ("config.yaml", "code_version.json", "code.diff", "metrics.jsonl", "summary.json",
              "checkpoints/last.pt", "checkpoints/best.pt"):
        assert (run / f).is_file(), f
    assert summary["env_steps"] == 2 * 8 * 64
    assert set(json.loads((run / "summary.json").read_text())) >= {"mean_return", "env_steps", "wall_s"}
    assert OmegaConf.load(run / "config.yaml").num_envs == 64
    # what besides the code decides the numbers: another CPU or torch is another draw
    env_record = json.loads((run / "code_version.json").read_text())["environment"]
    assert env_record["packages"]["torch"] == torch.__version__
    assert env_record["packages"]["mujoco"] == mujoco.__version__
    assert env_record["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert env_record["cpu"] and env_record["python"] == platform.python_version()
    ckpt = load_checkpoint(run / "checkpoints" / "last.pt")
    assert ckpt["iteration"] == 2

    cfg = compose("teacher", [*FAST, "max_iterations=2", f"run_dir={run}"])
    env = make_env(cfg.task, num_envs=4)
    policy = load_policy(ckpt, env.spec, cfg.task.name, cfg.policy)
    obs = env.reset()
    for k, v in policy.state_dict().items():
        assert torch.equal(v, ckpt["model"][k]), k  # exact round trip, normalizers included

    with pytest.raises(CheckpointError, match="resume=true"):  # never overwrite a run silently
        train(compose("teacher", [*FAST, "max_iterations=3", f"run_dir={run}"]))
    summary = train(compose("teacher", [*FAST, "max_iterations=4", f"run_dir={run}", "resume=true"]))
    assert summary["env_steps"] == 4 * 8 * 64
    assert load_checkpoint(run / "checkpoints" / "last.pt")["iteration"] == 4
    lines = (run / "metrics.jsonl").read_text().strip().splitlines()
    assert [json.loads(x)["iteration"] for x in lines] == [0, 1, 2, 3]


def test_mismatched_config_is_a_clear_error(tmp_path):
    run = tmp_path / "t"
    train(compose("teacher", [*FAST, "max_iterations=1", f"run_dir={run}"]))
    ckpt = load_checkpoint(run / "checkpoints" / "last.pt")
    cfg = compose("teacher", [*FAST, "policy.actor_hidden=[64,64]"])
    env = make_env(cfg.task, num_envs=2)
    with pytest.raises(CheckpointError, match=r"actor_hidden: checkpoint \[128, 128\] vs config \[64, 64\]"):
        load_policy(ckpt, env.spec, cfg.task.name, cfg.policy)
    cfg = compose("teacher", [*FAST, "task.history_len=10"])
    env = make_env(cfg.task, num_envs=2)
    with pytest.raises(CheckpointError, match="history_len: checkpoint 30 vs config 10"):
        load_policy(ckpt, env.spec, cfg.task.name, cfg.policy)
    with pytest.raises(CheckpointError, match="resume=true but"):
        train(compose("teacher", [*FAST, f"run_dir={tmp_path / 'none'}", "resume=true"]))


def test_missing_and_corrupt_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_checkpoint(bad)


@pytest.mark.parametrize("objective", ["clip", "kl"])
def test_both_objectives_run(tmp_path, objective):
    s = train(compose("teacher", [*FAST, "max_iterations=2", f"run_dir={tmp_path}/r", f"ppo.objective={objective}"]))
    assert s["env_steps"] == 2 * 8 * 64


@pytest.mark.learning
def test_teacher_learns_cartpole(trained_teacher):
    """60 iterations x 16 steps x 1024 envs (~1M steps, about a minute on 2 cores).

    A random policy scores about 20 (the pole falls within ~40 steps); a PPO with the
    advantage sign flipped learns to fall faster. Keeping the pole up for most of the
    500-step episode while tracking is needed to pass 200.
    """
    _, summary = trained_teacher
    assert summary["mean_return"] > 200, summary


def test_latent_noise_is_stored_with_the_rollout_and_absent_at_evaluation(tmp_path, monkeypatch):
    from teacher import storage as storage_mod

    seen = {}
    original_add = storage_mod.RolloutStorage.add

    def spy(self, obs, *args):
        seen.setdefault("noise", []).append(obs["latent_noise"].clone())
        return original_add(self, obs, *args)

    monkeypatch.setattr(storage_mod.RolloutStorage, "add", spy)
    cfg = compose("teacher", [*FAST, "max_iterations=1", f"run_dir={tmp_path}/t", "policy.latent_noise=0.3"])
    train(cfg)
    noise = torch.stack(seen["noise"])
    assert noise.shape == (8, 64, cfg.policy.latent_dim)
    assert noise.std().item() == pytest.approx(0.3, rel=0.1)  # the configured std, fresh every step

    ckpt = load_checkpoint(tmp_path / "t" / "checkpoints" / "last.pt")
    env = make_env(cfg.task, num_envs=4)
    policy = load_policy(ckpt, env.spec, cfg.task.name, cfg.policy)
    assert "latent_noise" in policy.input_keys
    obs = env.reset()
    clean = policy.action_mean(obs)  # evaluation: no noise key, the clean z
    z = policy.latent(obs["priv_info"])
    torch.testing.assert_close(clean, policy.actor_from_latent(obs["obs"], z))
    noisy = policy.action_mean({**obs, "latent_noise": torch.ones(4, cfg.policy.latent_dim)})
    torch.testing.assert_close(noisy, policy.actor_from_latent(obs["obs"], z + 1.0))


def test_actor_out_gain_scales_only_the_actors_last_layer_at_init():
    from teacher.actor_critic import ActorCritic

    env = make_env(compose("teacher", []).task, num_envs=1)
    nets = {}
    for gain in (0.01, 1.0):
        torch.manual_seed(0)  # the same draws: the two policies differ only by the gain
        nets[gain] = ActorCritic(env.spec, compose("teacher", [f"policy.actor_out_gain={gain}"]).policy)
    small, default = nets[0.01].state_dict(), nets[1.0].state_dict()
    last = f"actor.{len(nets[1.0].actor) - 1}.weight"
    torch.testing.assert_close(small[last], 0.01 * default[last], rtol=0, atol=0)
    assert default[last].abs().max() > 0.05  # PyTorch's own init, unscaled (1/sqrt(128) bound)
    for key in default:
        if key != last:
            torch.testing.assert_close(small[key], default[key], rtol=0, atol=0)
    with pytest.raises(Exception, match="actor_out_gain"):
        compose("teacher", ["policy.actor_out_gain=0"])


def test_linear_std_schedule_falls_then_holds_across_a_resume(tmp_path):
    """init 1.0 -> final 0.2: over max_iterations by default, over std_decay_iterations when set
    (then held), so a run resumed for longer keeps the std it ended at instead of jumping back."""
    lin = ["policy.std_schedule=linear", "policy.init_std=1.0", "policy.final_std=0.2"]

    def stds(run):
        return [json.loads(x)["action_std"] for x in (run / "metrics.jsonl").read_text().splitlines()]

    a = tmp_path / "a"
    train(compose("teacher", [*FAST, *lin, "max_iterations=4", f"run_dir={a}"]))
    assert stds(a) == pytest.approx([1.0, 0.8, 0.6, 0.4])  # 1 - 0.8 * it / 4

    b = tmp_path / "b"
    train(compose("teacher", [*FAST, *lin, "max_iterations=2", f"run_dir={b}"]))
    train(compose("teacher", [*FAST, *lin, "max_iterations=4", f"run_dir={b}", "resume=true",
                              "policy.std_decay_iterations=2"]))
    assert stds(b) == pytest.approx([1.0, 0.6, 0.2, 0.2])
