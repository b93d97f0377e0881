"""Bad input gives a clear error, or (NaN, blow-up) a reset that is counted."""
import numpy as np
import pytest
import torch

from envs import make_env
from envs.config import ConfigError, compose, load_task_cfg


@pytest.fixture
def env(cartpole_cfg):
    e = make_env(cartpole_cfg, num_envs=4, seed=0)
    e.reset()
    return e


def test_wrong_action_shape(env):
    with pytest.raises(ValueError, match=r"shape \(num_envs, num_actions\) = \(4, 1\)"):
        env.step(torch.zeros(4, 2))


def test_wrong_action_dtype(env):
    with pytest.raises(ValueError, match="float32"):
        env.step(torch.zeros(4, 1, dtype=torch.float64))


def test_nan_action_resets_that_env_and_is_counted(env):
    for _ in range(3):
        env.step(torch.zeros(4, 1))
    a = torch.zeros(4, 1)
    a[2] = float("nan")
    obs, rew, done, info = env.step(a)
    assert info["nan_actions"] == 1 and info["nan_resets"] == 1
    assert done.tolist() == [False, False, True, False] and bool(info["time_outs"][2])
    assert torch.isfinite(obs["obs"]).all() and rew[2] == 0
    assert env.episode_length_buf[2] == 0 and env.episode_length_buf[0] == 4


def test_simulator_blowup_resets_that_env_and_is_counted(env):
    env.backend.qvel[1] = np.nan  # a blown-up simulation
    obs, rew, done, info = env.step(torch.zeros(4, 1))
    assert info["nan_resets"] == 1 and info["nan_actions"] == 0
    assert done.tolist() == [False, True, False, False]
    assert torch.isfinite(obs["priv_info"]).all() and torch.isfinite(rew).all()
    obs, rew, done, info = env.step(torch.zeros(4, 1))  # and training goes on
    assert info["nan_resets"] == 0 and env.nan_resets_total == 1


def test_unknown_task_name(cartpole_cfg):
    cfg = cartpole_cfg.copy()
    cfg.name = "cartpool"
    with pytest.raises(ValueError, match=r"unknown task 'cartpool'; known tasks: \['cartpole', 'go2', 'gymnasium', 'rsl_rl_env'\]"):
        make_env(cfg, num_envs=2)
    with pytest.raises(ConfigError, match="unknown task"):
        load_task_cfg("cartpool")
    with pytest.raises(ConfigError, match="cartpool"):
        compose("task_only", ["task=cartpool"])


def test_unknown_config_key():
    with pytest.raises(ConfigError, match="episode_lenght"):
        load_task_cfg("cartpole", ["task.episode_lenght=10"])


def test_wrong_config_type():
    with pytest.raises(ConfigError, match="substeps"):
        load_task_cfg("cartpole", ["task.substeps=fast"])


@pytest.mark.parametrize("task", ["cartpole", "go2"])
@pytest.mark.parametrize("override", ["task.resample_prob=1.5", "task.history_len=0", "task.sim_dt=0.0"])
def test_shared_loop_keys_bounded_for_every_task(task, override):
    # the keys every batched task's loop reads are one schema (envs.base.BatchedTaskCfg)
    with pytest.raises(ConfigError, match=override.split("=")[0].split(".")[1]):
        load_task_cfg(task, [override])


def test_unknown_randomized_parameter_in_ranges(cartpole_cfg):
    with pytest.raises(ValueError, match=r"unknown parameters \['pole_mas'\]"):
        make_env(cartpole_cfg, num_envs=2, split={"pole_mas": [[1.0, 1.0]]})


def test_unknown_split(cartpole_cfg):
    with pytest.raises(ValueError, match="unknown split 'test'"):
        make_env(cartpole_cfg, num_envs=2, split="test")
