"""The VecEnv contract (envs/contract.py) on the cartpole task."""
import numpy as np
import pytest
import torch

from envs import make_env
from envs.config import load_task_cfg


def zeros(env):
    return torch.zeros(env.num_envs, env.num_actions)


def test_shapes_and_dtypes(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=8, seed=0)
    obs = env.reset()
    s = env.spec
    assert obs["obs"].shape == (8, s.obs_dim) and obs["obs"].dtype == torch.float32
    assert obs["proprio_hist"].shape == (8, s.history_len, s.obs_dim)
    assert obs["priv_info"].shape == (8, s.priv_dim) and obs["priv_info"].dtype == torch.float32
    assert obs["critic"].shape == (8, s.critic_dim)
    assert s.priv_dim == len(env.param_names) + env.priv_state_dim
    obs, rew, done, info = env.step(zeros(env))
    assert rew.shape == (8,) and rew.dtype == torch.float32
    assert done.shape == (8,) and done.dtype == torch.bool
    assert info["time_outs"].dtype == torch.bool and info["terminated"].dtype == torch.bool


def test_history_is_zero_at_reset_and_shifts(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=4, seed=0)
    obs = env.reset()
    hist = obs["proprio_hist"]
    assert torch.equal(hist[:, -1], obs["obs"])
    assert torch.count_nonzero(hist[:, :-1]) == 0
    obs2, *_ = env.step(zeros(env))
    assert torch.equal(obs2["proprio_hist"][:, -2], obs["obs"])  # the old row moved back by one
    assert torch.equal(obs2["proprio_hist"][:, -1], obs2["obs"])
    assert torch.count_nonzero(obs2["proprio_hist"][:, :-2]) == 0
    # the tensors handed out before were not mutated by the step
    assert torch.equal(hist[:, -1], obs["obs"]) and torch.count_nonzero(hist[:, :-1]) == 0


def test_previous_action_is_observed(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=3, seed=0)
    env.reset()
    a = torch.tensor([[0.5], [-0.25], [2.0]])  # the last is clipped to 1
    obs, *_ = env.step(a)
    assert torch.allclose(obs["obs"][:, 3], torch.tensor([0.5, -0.25, 1.0]))


def test_time_out_separate_from_termination_and_auto_reset():
    cfg = load_task_cfg(
        "cartpole", ["task.episode_length=5", "task.init_angle=0.0", "task.init_pos=0.0", "task.target_range=0.0"]
    )
    env = make_env(cfg, num_envs=4, seed=0, split="nominal")
    env.reset()
    for t in range(5):
        obs, rew, done, info = env.step(zeros(env))
    # a balanced pole with no push survives 5 steps: truncation, not termination
    assert done.all() and info["time_outs"].all() and not info["terminated"].any()
    assert torch.equal(info["episode"]["length"], torch.full((4,), 5))
    # at rest on target: reward 0.5 cos(0) + 0.5 exp(0) = 1 per step
    assert torch.allclose(info["episode"]["return"], torch.full((4,), 5.0), atol=1e-5)
    # the envs were reset: fresh history and zero episode length
    assert np.all(env.episode_length_buf == 0)
    assert torch.count_nonzero(obs["proprio_hist"][:, :-1]) == 0


def test_failure_terminates_without_time_out():
    cfg = load_task_cfg("cartpole", ["task.init_angle=0.5", "task.max_angle=0.6"])
    env = make_env(cfg, num_envs=16, seed=1)
    env.reset()
    ended = torch.zeros(16, dtype=torch.bool)
    for _ in range(100):
        _, _, done, info = env.step(zeros(env))
        assert not (info["terminated"] & info["time_outs"]).any()
        ended |= info["terminated"]
    assert ended.all()  # with no control, every pole falls past 0.6 rad


def test_action_delay_holds_actions_back(cartpole_cfg):
    delayed = make_env(cartpole_cfg, num_envs=2, seed=0, split={"action_delay": [[2.0, 2.0]]})
    delayed.reset()
    applied = []
    for a in (1.0, -1.0, 0.5, 0.0):
        delayed.step(torch.full((2, 1), a))
        applied.append(float(delayed.backend.ctrl[0, 0]))
    assert applied == [0.0, 0.0, 1.0, -1.0]  # two control steps of latency
