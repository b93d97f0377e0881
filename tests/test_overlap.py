"""Simulation and learning overlapped (teacher/collector.py): what acts, and that it learns."""
import copy

import pytest
import torch

from envs import make_env
from runstore.config import compose
from teacher.actor_critic import ActorCritic
from teacher.collector import Collector
from teacher.train import train

QUIET = ["log.progress=false", "log.tensorboard=false", "log.print_every=0"]


def _log_probs(policy, storage):
    flat = {k: v.flatten(0, 1) for k, v in storage.obs.items()}
    with torch.no_grad():
        return policy.distribution(policy.action_mean(flat)).log_prob(storage.actions.flatten(0, 1)).sum(-1)


@pytest.mark.parametrize("overlap", [False, True])
def test_the_next_rollout_is_acted_by_the_weights_it_was_launched_with(overlap):
    """With overlap, rollout k+1 starts before update k and is acted by the weights from before
    it; without, it is collected after the update, by the new weights."""
    cfg = compose("teacher", ["num_envs=16", "ppo.horizon=8", *QUIET])
    env = make_env(cfg.task, num_envs=16, seed=0)
    torch.manual_seed(0)
    policy = ActorCritic(env.spec, cfg.policy)
    shapes = {"obs": (env.spec.obs_dim,), "priv_info": (env.spec.priv_dim,), "critic": (env.spec.critic_dim,)}
    collector = Collector(env, policy, 8, shapes, torch.Generator().manual_seed(0), ("return",), overlap)
    collector.launch(env.reset())
    first = collector.take()
    if overlap:
        collector.launch(first.obs)  # the next rollout starts now, before the "update"
    before = copy.deepcopy(policy)
    with torch.no_grad():  # the update: the actor's weights change
        for p in policy.actor.parameters():
            p.add_(0.3 * torch.randn_like(p))
    if not overlap:
        collector.launch(first.obs)
    second = collector.take()
    collector.close()
    assert second.storage is not first.storage or not overlap  # double-buffered with overlap
    stored = second.storage.log_probs.flatten()
    acted_by, other = (before, policy) if overlap else (policy, before)
    torch.testing.assert_close(stored, _log_probs(acted_by, second.storage))
    assert not torch.allclose(stored, _log_probs(other, second.storage))
    assert second.storage.obs["obs"].abs().sum() > 0 and torch.isfinite(second.storage.rewards).all()


@pytest.mark.learning
def test_overlapped_training_learns_cartpole(tmp_path):
    """The same bar as the in-step teacher (tests/test_teacher_runs.py, > 200 where random play
    scores about 20), at 90 iterations: one update of staleness costs some samples early on
    (measured, seed 0: 156 at 60 iterations, 290 at 90, 307 at 150)."""
    summary = train(compose("teacher", ["overlap=true", "max_iterations=90", "heldout_eval_envs=0",
                                        f"run_dir={tmp_path}/t", *QUIET]))
    assert summary["mean_return"] > 200, summary


def test_overlap_is_refused_with_rl_games():
    from runstore.config import ConfigError

    with pytest.raises(ConfigError, match="overlap"):
        compose("teacher", ["trainer=rl_games", "overlap=true"])
