"""External tasks into apprentice: an rsl_rl-style VecEnv (the real rsl_rl base class) and an
IsaacGymEnvs VecTask (against a pure-torch task written to its interface; Isaac Gym itself
installs from no registry) run through teacher, every student method and the evaluation."""
import json

import pytest
import torch

from envs import make_env
from envs.config import load_task_cfg
from runstore.config import ConfigError, compose
from student.distill import distill
from teacher.train import train

pytest.importorskip("rsl_rl")
QUIET = ["log.progress=false", "log.tensorboard=false", "log.print_every=0"]
VECTASK = ["task=rsl_rl_env", "task.factory=vectask_cartpole:make_env", "task.obs_groups=[obs]",
           "task.priv_groups=[priv_info]", "task.critic_groups=[states]", "task.history_len=10"]


def test_the_round_trip_through_rsl_rl_is_bit_identical_to_the_native_env():
    """apprentice cartpole -> rsl_rl VecEnv -> apprentice contract: nothing changes on the way."""
    adapted = make_env(load_task_cfg("rsl_rl_env"), num_envs=8, seed=3)
    native = make_env(load_task_cfg("cartpole"), num_envs=8, seed=3)
    a, b = adapted.reset(), native.reset()
    gen = torch.Generator().manual_seed(0)
    ended = 0
    for t in range(300):
        assert all(torch.equal(a[k], b[k]) for k in b), t
        act = torch.rand(8, 1, generator=gen) * 2 - 1
        a, ra, da, ia = adapted.step(act)
        b, rb, db, ib = native.step(act)
        assert torch.equal(ra, rb) and torch.equal(da, db) and torch.equal(ia["time_outs"], ib["time_outs"]), t
        assert torch.equal(ia["terminated"], ib["terminated"])
        for k in ("return", "length", "terminated"):
            assert torch.equal(ia["episode"][k], ib["episode"][k]), (t, k)
        ended += len(ib["episode"]["return"])
    assert ended > 20  # random actions: many episodes ended and were reset on the way


def test_a_teacher_on_the_round_trip_trains_exactly_like_on_the_native_env(tmp_path):
    common = ["num_envs=32", "ppo.horizon=8", "max_iterations=3", "save_every=1", *QUIET]
    train(compose("teacher", [*common, "task=rsl_rl_env", f"run_dir={tmp_path}/adapted"]))
    train(compose("teacher", [*common, f"run_dir={tmp_path}/native"]))

    def learning(run):
        rows = [json.loads(x) for x in (tmp_path / run / "metrics.jsonl").read_text().splitlines()]
        return [(r["mean_return"], r["policy_loss"], r["value_loss"], r["kl"]) for r in rows]

    assert learning("adapted") == learning("native")


@pytest.mark.parametrize("task", ["round_trip", "vectask"])
def test_teacher_students_and_evaluation_run_on_an_external_env(tmp_path, task):
    from evaluation.evaluate import evaluate

    task_args = ["task=rsl_rl_env"] if task == "round_trip" else VECTASK
    teacher = tmp_path / "teacher"
    train(compose("teacher", [*task_args, "num_envs=64", "ppo.horizon=16", "max_iterations=5", "save_every=5",
                              f"run_dir={teacher}", *QUIET]))
    runs = [str(teacher)]
    for method in ("dagger", "adapt", "sysid"):
        run = tmp_path / method
        summary = distill(compose("student", [f"teacher={teacher}", f"method={method}", "iterations=2",
                                              "num_envs=64", "eval_envs=32", f"run_dir={run}", *QUIET]))
        assert summary["env_steps"] == 2 * 16 * 64 and summary["task"] == "rsl_rl_env"
        runs.append(str(run))
    assert (tmp_path / "dagger" / "export" / "policy.onnx").is_file()
    # an external task cannot resample: a rate is refused by key before a run dir exists, and 0 is none
    with pytest.raises(ValueError, match=r"resample_prob=0.01: task=rsl_rl_env cannot resample.*resample_prob=null"):
        distill(compose("student", [f"teacher={teacher}", "resample_prob=0.01", f"run_dir={tmp_path}/rs", *QUIET]))
    assert not (tmp_path / "rs").exists()
    distill(compose("student", [f"teacher={teacher}", "resample_prob=0", "iterations=1", "num_envs=64", "eval_envs=32",
                                "export=false", f"run_dir={tmp_path}/rs0", *QUIET]))
    with pytest.raises(ValueError, match=r"splits \['extreme'\]: .* offers the splits \['train', 'heldout'\]"):
        evaluate(compose("evaluate", [f"runs=[{','.join(runs)}]", "splits=[train,extreme]", f"out_dir={tmp_path}/bad"]))
    assert not (tmp_path / "bad").exists()
    # by default, every split the task offers (an external env has no extreme split)
    report = evaluate(compose("evaluate", [f"runs=[{','.join(runs)}]", "episodes=32", f"out_dir={tmp_path}/eval"]))
    rows = {(r["split"], r["policy"]) for r in report["rows"]}
    assert rows == {(s, p) for s in ("train", "heldout") for p in ("oracle", "noadapt", "dagger", "adapt", "sysid")}
    assert all(r["episodes"] == 32 for r in report["rows"])


def test_the_vectask_adapter_keeps_the_history_and_counts_a_bad_row():
    env = make_env(compose("task_only", VECTASK).task, num_envs=4, seed=0)
    obs = env.reset()
    assert obs["proprio_hist"].shape == (4, 10, 2) and obs["priv_info"].shape == (4, 3)
    assert torch.count_nonzero(obs["proprio_hist"][:, :-1]) == 0
    for _ in range(3):
        obs, *_ = env.step(torch.zeros(4, 1))
    assert torch.equal(obs["proprio_hist"][:, -1], obs["obs"]) and torch.count_nonzero(obs["proprio_hist"][:, -3:]) > 0
    env.vec.task.state[2] = float("nan")  # the foreign simulator blows up in env 2
    obs, rew, done, info = env.step(torch.zeros(4, 1))
    assert info["nan_resets"] == 1 and done.tolist() == [False, False, True, False] and bool(info["time_outs"][2])
    assert torch.isfinite(obs["obs"]).all() and rew[2] == 0
    assert torch.count_nonzero(obs["proprio_hist"][2, :-1]) == 0  # a new episode for the learner
    a = torch.zeros(4, 1)
    a[1] = float("nan")
    obs, rew, done, info = env.step(a)
    assert info["nan_actions"] == 1 and bool(done[1])
    assert info["resampled"] == 0  # the contract's key; the wrapped task's randomization is its own


def test_bad_external_configs_are_clear_errors():
    with pytest.raises(ValueError, match=r"task.factory='nowhere:make' cannot be loaded"):
        make_env(compose("task_only", ["task=rsl_rl_env", "task.factory=nowhere:make"]).task, num_envs=2)
    with pytest.raises(ValueError, match=r"task.priv_groups names \['secret'\], which the env does not return"):
        make_env(compose("task_only", ["task=rsl_rl_env", "task.priv_groups=[secret]"]).task, num_envs=2)
    with pytest.raises(ValueError, match="takes named splits only"):
        make_env(load_task_cfg("rsl_rl_env"), num_envs=2, split={"pole_mass": [[1.0, 1.0]]})
    with pytest.raises(ConfigError, match="must be 'module:function'"):
        compose("task_only", ["task=rsl_rl_env", "task.factory=nofunction"])
    with pytest.raises(ConfigError, match="priv_groups is empty"):
        compose("task_only", ["task=rsl_rl_env", "task.priv_groups=[]"])
