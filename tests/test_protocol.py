"""RMA's evaluation protocol: mid-episode resampling of the dynamics, the Robust baseline,
RMA's metrics (normalized time to fall, smoothness), and the teacher's held-out check."""
import json

import numpy as np
import pytest
import torch

from envs import make_env
from envs.config import load_task_cfg
from envs.rollout import run_episodes
from evaluation.metrics import summarize
from runstore.config import ConfigError, compose

QUIET = ["log.progress=false", "log.tensorboard=false", "log.print_every=0"]


def test_a_resample_changes_the_simulation_at_that_step_and_priv_info_follows(cartpole_cfg):
    strong = {"motor_strength": [[1.3, 1.3]], "action_delay": [[0, 0]]}
    dead = {"motor_strength": [[0.0, 0.0]], "action_delay": [[0, 0]]}
    env = make_env(cartpole_cfg, num_envs=4, seed=0, split=strong, resample_prob=1.0)
    ref = make_env(cartpole_cfg, num_envs=4, seed=0, split=strong)  # the same dynamics, never resampled
    env.reset(), ref.reset()
    col = env.param_names.index("motor_strength")
    push = torch.ones(4, 1)
    for _ in range(3):  # every step resamples, to the same value: the physics is untouched
        _, _, _, info = env.step(push)
        ref.step(push)
        assert info["resampled"] == 4
        np.testing.assert_array_equal(env.backend.qpos, ref.backend.qpos)
        np.testing.assert_array_equal(env.backend.qvel, ref.backend.qvel)
    env.set_split(dead)  # from now on a resample draws a dead motor
    obs, _, done, info = env.step(push)
    ref.step(push)
    # this step's physics ran on the old dynamics and the state is kept (the episode goes on) ...
    assert info["resampled"] == 4 and not done.any() and int(env.episode_length_buf[0]) == 4
    np.testing.assert_array_equal(env.backend.qpos, ref.backend.qpos)
    # ... the new dynamics are in place and priv_info reports them: (value - centre) / half-width
    assert np.all(env.params[:, col] == 0.0)
    assert torch.allclose(obs["priv_info"][:, col], torch.full((4,), (0.0 - 1.0) / 0.3))
    # and the next physics step runs on them: a full push now moves the cart as no push moves
    # the unchanged twin, and unlike a full push on it
    pushed = make_env(cartpole_cfg, num_envs=4, seed=0, split=strong)
    pushed.reset()
    pushed.backend.qpos[:], pushed.backend.qvel[:] = ref.backend.qpos, ref.backend.qvel
    pushed.backend.forward(np.arange(4))
    env.step(push)
    ref.step(torch.zeros(4, 1))
    pushed.step(push)
    np.testing.assert_allclose(env.backend.qpos, ref.backend.qpos, atol=1e-12)
    assert np.abs(pushed.backend.qvel[:, 0] - ref.backend.qvel[:, 0]).min() > 1e-3


def test_episodes_record_the_dynamics_they_ended_under(cartpole_cfg):
    """``params_end`` holds the parameters in effect at each episode's last step (what the
    failure breakdown reads): with resampling, not the ones sampled at the reset."""
    env = make_env(cartpole_cfg, num_envs=64, seed=3, resample_prob=0.05)
    seen = []  # the parameters every step acts under, recorded just before the step

    def act(obs):
        seen.append(env.params.copy())
        return torch.zeros(64, 1)

    rec = run_episodes(env, act)
    for i, length in enumerate(rec["length"].tolist()):
        np.testing.assert_array_equal(rec["params_end"][i].numpy(), seen[length - 1][i])
        np.testing.assert_array_equal(rec["params"][i].numpy(), seen[0][i])
    assert (rec["params_end"] != rec["params"]).any(dim=1).float().mean() > 0.3  # most episodes saw a resample
    still = run_episodes(make_env(cartpole_cfg, num_envs=64, seed=3), lambda o: torch.zeros(64, 1))
    assert torch.equal(still["params_end"], still["params"])  # no resampling: the same


def test_resampling_rate_and_bad_values(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=256, seed=1, resample_prob=0.01)
    env.reset()
    counts = [env.step(torch.zeros(256, 1))[3]["resampled"] for _ in range(200)]
    assert 0.006 < sum(counts) / (256 * 200) < 0.014  # about 1% of env steps
    with pytest.raises(ConfigError, match=r"task.resample_prob=1.5 is out of range"):
        load_task_cfg("cartpole", ["task.resample_prob=1.5"])
    with pytest.raises(ValueError, match="cannot resample its dynamics"):
        make_env(load_task_cfg("rsl_rl_env"), num_envs=2, resample_prob=0.01)


def test_metrics_by_hand(cartpole_cfg):
    # normalized time to fall: failures count length / max, successes 1
    records = {"return": torch.tensor([1.0, 2.0, 3.0, 4.0]), "length": torch.tensor([50, 500, 250, 500]),
               "terminated": torch.tensor([True, False, True, False])}
    s = summarize(records, 0.02, (), max_episode_length=500)
    assert s["time_to_fall_norm"] == pytest.approx((0.1 + 1 + 0.5 + 1) / 4)
    assert "tracking_success_rate" not in s  # a task without a tracking success (cartpole)
    # tracking success: not failed and the mean error within the limit (the first failed, though it tracked)
    records["err"] = torch.tensor([0.1, 0.2, 0.1, 0.3])
    s = summarize(records, 0.02, ("err",), max_episode_length=500, tracking=("err", 0.25))
    assert s["tracking_success_rate"] == 0.25 and s["success_rate"] == 0.5
    assert s["tracking_success_ci95"] == pytest.approx(1.96 * 0.5 / 2)  # std of (0, 1, 0, 0) is 0.5
    # smoothness: actions 1, -1, 1, -1 give |a_t - 2 a_t-1 + a_t-2| = 4 from the third step on
    cfg = load_task_cfg("cartpole", ["task.episode_length=4", "task.init_angle=0.0", "task.max_angle=3.0"])
    env = make_env(cfg, num_envs=2, seed=0, split="nominal")
    env.reset()
    for a in (1.0, -1.0, 1.0, -1.0):
        _, _, done, info = env.step(torch.full((2, 1), a))
    assert done.all()
    k = env.episode_metric_names.index("action_jerk")
    assert env.episode_metric_names[-1] == "action_jerk"
    assert info["episode"]["action_jerk"].tolist() == pytest.approx([4.0 * 2 / 4] * 2)  # 2 of 4 steps count
    assert k == len(env.episode_metric_names) - 1


def test_robust_cannot_read_the_history_and_teachers_report_heldout(tmp_path):
    from evaluation.policies import load_policies
    from teacher.train import train

    run = tmp_path / "robust"
    summary = train(compose("teacher", ["policy.actor_input=obs", "num_envs=64", "ppo.horizon=8", "max_iterations=2",
                                        "heldout_eval_envs=32", f"run_dir={run}", *QUIET]))
    assert summary["heldout_episodes"] == 32 and np.isfinite(summary["heldout_return"])
    assert 0.0 <= summary["heldout_success"] <= 1.0
    assert json.loads((run / "summary.json").read_text())["heldout_return"] == summary["heldout_return"]
    # too short to fill the return window: best.pt is the final policy, met on the same episodes
    assert summary["heldout_return_best"] == summary["heldout_return"]
    (robust,), task = load_policies(run, "cartpole")
    assert robust.name == "robust" and robust.deployable
    env = make_env(task, num_envs=32, seed=3)
    obs = env.reset()
    for _ in range(10):
        obs, *_ = env.step(robust.act(obs))
    scrambled = obs["proprio_hist"].clone()
    scrambled[:, :-1] = torch.randn_like(scrambled[:, :-1]) * 5  # every row but the current one
    with torch.no_grad():
        a = robust.act({"proprio_hist": obs["proprio_hist"]})
        b = robust.act({"proprio_hist": scrambled})
        c = robust.act({"proprio_hist": obs["proprio_hist"] + 0.1})
    assert torch.equal(a, b) and not torch.equal(a, c)
    no_heldout = train(compose("teacher", ["num_envs=16", "ppo.horizon=8", "max_iterations=1", "heldout_eval_envs=0",
                                           f"run_dir={tmp_path}/t0", *QUIET]))
    assert "heldout_return" not in no_heldout


def test_evaluation_with_resampling_runs(tmp_path):
    records = run_episodes(make_env(load_task_cfg("cartpole"), num_envs=16, seed=0, split="heldout",
                                    resample_prob=0.01), lambda o: torch.zeros(16, 1))
    assert records["return"].shape == (16,)


def test_students_train_with_resampling_by_default_and_evaluation_asks_for_a_rate(tmp_path):
    from evaluation.evaluate import check_inputs
    from evaluation.policies import load_policies
    from runstore.store import load_run_config
    from student.distill import distill
    from teacher.train import train

    train(compose("teacher", ["num_envs=32", "ppo.horizon=8", "max_iterations=1", "heldout_eval_envs=0",
                              f"run_dir={tmp_path}/teacher", *QUIET]))
    base = [*QUIET, f"teacher={tmp_path}/teacher", "num_envs=32", "iterations=1", "eval_envs=8", "batch_size=64",
            "export=false"]
    distill(compose("student", [*base, f"run_dir={tmp_path}/default"]))
    distill(compose("student", [*base, "resample_prob=0", f"run_dir={tmp_path}/plain"]))
    assert load_run_config(tmp_path / "teacher", "teacher").task.resample_prob == 0.0
    assert load_run_config(tmp_path / "plain", "student").task.resample_prob == 0.0
    cfg = load_run_config(tmp_path / "default", "student")
    assert cfg.resample_prob == cfg.task.resample_prob == 0.004  # RMA's training rate, recorded resolved
    env = make_env(cfg.task, num_envs=64, seed=0)  # the training env it built: it resamples
    env.reset()
    assert sum(env.step(torch.zeros(64, 1))[3]["resampled"] for _ in range(100)) > 0
    # fine-tuning trains at its student's rate
    ft = train(compose("teacher", [*QUIET, "+finetune=dagger", f"init_from={tmp_path}/default", "num_envs=32",
                                   "ppo.horizon=8", "max_iterations=1", "heldout_eval_envs=0",
                                   f"run_dir={tmp_path}/finetune"]))
    assert ft["stage"] == "finetune"
    assert load_run_config(tmp_path / "finetune", "teacher").task.resample_prob == 0.004
    # unless it is asked for another rate: then that one, not silently the student's
    train(compose("teacher", [*QUIET, "+finetune=dagger", f"init_from={tmp_path}/default", "num_envs=32",
                              "ppo.horizon=8", "max_iterations=1", "heldout_eval_envs=0", "task.resample_prob=0.01",
                              f"run_dir={tmp_path}/finetune_rs01"]))
    assert load_run_config(tmp_path / "finetune_rs01", "teacher").task.resample_prob == 0.01
    train(compose("teacher", [*QUIET, "+finetune=dagger", f"init_from={tmp_path}/default", "num_envs=32",
                              "ppo.horizon=8", "max_iterations=2", "heldout_eval_envs=0", "resume=true",
                              f"run_dir={tmp_path}/finetune_rs01"]))  # a resume keeps the run's rate
    assert load_run_config(tmp_path / "finetune_rs01", "teacher").task.resample_prob == 0.01
    assert "task.resample_prob" not in (tmp_path / "finetune_rs01" / "resumes.jsonl").read_text()
    names = {r: [p.name for p in load_policies(tmp_path / r, "cartpole")[0]]
             for r in ("default", "plain", "finetune", "finetune_rs01")}
    assert names == {"default": ["dagger"], "plain": ["dagger_rs0"], "finetune": ["dagger_ppo"],
                     "finetune_rs01": ["dagger_ppo_rs0.01"]}
    # the same task but for the students' training rate: by default evaluated at the teacher's rate
    runs = f"runs=[{tmp_path}/default,{tmp_path}/teacher,{tmp_path}/finetune]"
    task_cfg, splits, _ = check_inputs(compose("evaluate", [runs, f"out_dir={tmp_path}/eval"]))
    assert task_cfg.name == "cartpole" and "heldout" in splits and task_cfg.resample_prob == 0.0
    train(compose("teacher", ["num_envs=32", "ppo.horizon=8", "max_iterations=1", "heldout_eval_envs=0",
                              "task.resample_prob=0.004", f"run_dir={tmp_path}/teacher_rs", *QUIET]))
    runs = f"runs=[{tmp_path}/teacher,{tmp_path}/teacher_rs]"  # teachers that disagree: which rate is the task's?
    with pytest.raises(ValueError, match=r"different task.resample_prob.*pass resample_prob="):
        check_inputs(compose("evaluate", [runs, f"out_dir={tmp_path}/eval"]))
    assert check_inputs(compose("evaluate", [runs, "resample_prob=0.01", f"out_dir={tmp_path}/eval"]))[0].name == "cartpole"
    train(compose("teacher", ["num_envs=32", "ppo.horizon=8", "max_iterations=1", "heldout_eval_envs=0",
                              "task.max_force=25", f"run_dir={tmp_path}/other", *QUIET]))
    with pytest.raises(ValueError, match="different cartpole config"):  # any other task field is still refused
        check_inputs(compose("evaluate", [f"runs=[{tmp_path}/teacher,{tmp_path}/other]", "resample_prob=0.01"]))
