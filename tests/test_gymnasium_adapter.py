"""The gymnasium adapter (task=gymnasium) keeps the VecEnv contract."""
import pytest
import torch

from envs import make_env
from envs.config import load_task_cfg

pytest.importorskip("gymnasium")


def make(env_id: str, normalize: bool, num_envs: int = 3):
    cfg = load_task_cfg("gymnasium", [f"task.env_id={env_id}", f"task.reward_normalization={str(normalize).lower()}"])
    return make_env(cfg, num_envs=num_envs, seed=5)


def rollout(env, steps, action):
    env.reset()
    rewards, finished = [], []
    for _ in range(steps):
        _, r, done, info = env.step(torch.full((env.num_envs, env.num_actions), action))
        rewards.append(r)
        finished.append((done, info))
    return torch.stack(rewards), finished


def test_time_outs_and_raw_returns():
    env = make("Pendulum-v1", normalize=False)
    assert env.spec.obs_dim == 3 and env.spec.priv_dim == 0 and env.max_episode_length == 200
    rewards, finished = rollout(env, 200, 0.5)
    for done, info in finished[:-1]:
        assert not done.any()
    done, info = finished[-1]
    assert done.all() and info["time_outs"].all() and not info["terminated"].any()
    torch.testing.assert_close(info["episode"]["return"], rewards.sum(0))
    assert (info["episode"]["length"] == 200).all()
    assert info["resampled"] == 0  # the contract's key (a trainer logs it); gymnasium's dynamics stay as built


def test_reward_normalization_leaves_reported_returns_raw():
    raw_rewards, raw = rollout(make("Pendulum-v1", normalize=False), 200, 0.5)
    scaled_rewards, scaled = rollout(make("Pendulum-v1", normalize=True), 200, 0.5)
    torch.testing.assert_close(scaled[-1][1]["episode"]["return"], raw[-1][1]["episode"]["return"])
    assert not torch.allclose(scaled_rewards, raw_rewards)  # learning sees the scaled rewards


def test_actions_map_onto_the_box():
    env = make("Pendulum-v1", normalize=False, num_envs=1)
    env.reset()
    env.step(torch.ones(1, 1))
    assert env.vec.envs[0].unwrapped.last_u == pytest.approx(2.0)  # +1 is the box's upper bound, 2 N m


def test_falling_is_a_termination_not_a_time_out():
    env = make("Hopper-v5", normalize=False, num_envs=2)
    _, finished = rollout(env, 200, 1.0)  # full torque: the hopper falls well before 1000 steps
    ends = [(done, info) for done, info in finished if done.any()]
    assert ends
    for done, info in ends:
        assert info["terminated"][done].all() and not info["time_outs"].any()


def test_no_dynamics_splits():
    cfg = load_task_cfg("gymnasium", ["task.env_id=Pendulum-v1"])
    with pytest.raises(ValueError, match="no dynamics splits"):
        make_env(cfg, num_envs=1, split="heldout")
