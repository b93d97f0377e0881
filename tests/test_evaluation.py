"""Evaluation: paired runs, hand-checked metrics, and a small end-to-end report."""
import json

import h5py
import numpy as np
import pytest
import torch
from PIL import Image

from envs import make_env
from envs.config import compose, load_task_cfg
from envs.rollout import run_episodes
from evaluation.evaluate import evaluate, sweep_values
from evaluation.metrics import paired_difference, pool_runs, summarize
from evaluation.report import markdown
from student.distill import distill
from teacher.train import train

QUIET = ["log.progress=false", "log.tensorboard=false", "log.print_every=0"]


def test_evaluation_is_paired(cartpole_cfg):
    """Same seed: every policy meets the same dynamics samples and initial states."""
    def first_obs_and_params(policy):
        env = make_env(cartpole_cfg, num_envs=32, seed=4, split="heldout")
        first = env.reset()["obs"].clone()
        records = run_episodes(make_env(cartpole_cfg, num_envs=32, seed=4, split="heldout"), policy)
        return first, records["params"]

    o1, p1 = first_obs_and_params(lambda o: torch.zeros(32, 1))
    o2, p2 = first_obs_and_params(lambda o: torch.ones(32, 1))
    assert torch.equal(o1, o2) and torch.equal(p1, p2)


def test_scripted_policy_gives_the_expected_metrics():
    # at rest on target with no push: reward exactly 1 per step, no failure
    cfg = load_task_cfg("cartpole", ["task.episode_length=20", "task.init_angle=0.0", "task.init_pos=0.0",
                                     "task.target_range=0.0", "task.action_cost=0.0"])
    env = make_env(cfg, num_envs=8, seed=0, split={"pole_damping": [[0.0, 0.0]]})
    s = summarize(run_episodes(env, lambda o: torch.zeros(8, 1)), env.control_dt, env.episode_metric_names)
    assert s["return_mean"] == pytest.approx(20.0, abs=1e-4) and s["success_rate"] == 1.0
    assert s["time_to_failure_s"] is None and s["episodes"] == 8
    # full force one way from the centre: the cart leaves the 2.4 m track, every episode fails
    cfg = load_task_cfg("cartpole", ["task.init_angle=0.0", "task.init_pos=0.0", "task.target_range=0.0"])
    env = make_env(cfg, num_envs=8, seed=0, split="nominal")
    rec = run_episodes(env, lambda o: torch.ones(8, 1))
    s = summarize(rec, env.control_dt, env.episode_metric_names)
    assert s["success_rate"] == 0.0
    assert s["time_to_failure_s"] == pytest.approx(rec["length"].float().mean().item() * 0.02)
    assert s["time_to_failure_s"] < 3.0


def test_sweep_values_span_train_and_heldout(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=1)
    spec = {s.name: s for s in env.param_specs}
    assert sweep_values(spec["pole_mass"], 5) == pytest.approx([0.3, 0.675, 1.05, 1.425, 1.8])
    assert sweep_values(spec["action_delay"], 5) == [0.0, 1.0, 2.0, 3.0]


def test_small_pipeline_writes_a_well_formed_report(tmp_path):
    base = [*QUIET, "num_envs=64", "ppo.horizon=8", "max_iterations=2"]
    train(compose("teacher", [*base, f"run_dir={tmp_path}/teacher"]))
    train(compose("teacher", [*base, f"run_dir={tmp_path}/dr", "policy.actor_input=history"]))
    for m in ("dagger", "adapt", "sysid"):
        distill(compose("student", [*QUIET, f"teacher={tmp_path}/teacher", f"method={m}", f"run_dir={tmp_path}/{m}",
                                    "num_envs=64", "iterations=2", "eval_envs=16", "batch_size=256"]))
    runs = ",".join(str(tmp_path / r) for r in ("teacher", "dr", "dagger", "adapt", "sysid"))
    report = evaluate(compose("evaluate", [f"runs=[{runs}]", f"out_dir={tmp_path}/eval", "episodes=24",
                                           "sweep_points=2", "sweep_episodes=8", "sweep_params=[pole_mass,action_delay]",
                                           "video=true", "video_seconds=0.5",
                                           "+ranges.heavy_pole={pole_mass:[[2.5,2.5]]}"]))
    out = tmp_path / "eval"
    saved = json.loads((out / "report.json").read_text())
    assert saved["task"] == "cartpole" == report["task"]
    policies = {"oracle", "noadapt", "dr", "dagger", "adapt", "sysid"}
    for split in ("train", "heldout", "extreme", "heavy_pole"):
        rows = [r for r in saved["rows"] if r["split"] == split]
        assert {r["policy"] for r in rows} == policies
        for r in rows:
            assert {"policy", "split", "return_mean", "return_ci95", "success_rate", "episodes"} <= set(r)
            assert r["episodes"] == 24 and 0.0 <= r["success_rate"] <= 1.0 and np.isfinite(r["return_mean"])
    md = (out / "report.md").read_text()
    assert "## Split: heldout" in md and "| oracle |" in md and "/ oracle" in md
    pairs = {(c["split"], c["policy"], c["baseline"]) for c in saved["comparisons"]}
    assert pairs == {(s, p, b) for s in ("train", "heldout", "extreme", "heavy_pole")
                     for p in ("dagger", "adapt", "sysid") for b in ("dr", "noadapt")}
    assert all(c["pairs"] == 24 for c in saved["comparisons"]) and "| adapt | dr |" in md
    assert sorted(p.name for p in out.glob("sweep_*.png")) == ["sweep_action_delay.png", "sweep_pole_mass.png"]
    for param, values in (("pole_mass", [0.3, 1.8]), ("action_delay", [0.0, 1.0, 2.0, 3.0])):  # every whole delay
        curves = saved["sweeps"][param]
        counts = [n for _, _, _, n in curves["oracle"]]
        assert [v for v, *_ in curves["oracle"]] == pytest.approx(values)
        assert sum(counts) == 8 * len(values) and min(counts) >= 1
        assert all([n for *_, n in c] == counts for c in curves.values())  # paired: the same draws for everyone
    for name in policies:  # one GIF per policy, on the same held-out sample
        video = saved["videos"][name]
        assert video["path"] == f"video_{name}.gif" and video["frames"] >= 1
        assert Image.open(out / video["path"]).n_frames == video["frames"]
    assert len({json.dumps(v["params"]) for v in saved["videos"].values()}) == 1
    with h5py.File(out / "episodes.h5") as f:
        assert f["heldout/oracle_0/return"].shape == (24,)
        assert f["heldout/oracle_0/params"].shape == (24, len(make_env(load_task_cfg("cartpole"), 1).param_names))


def test_pooling_seeds_averages_means_and_combines_intervals():
    a = {"return_mean": 10.0, "return_ci95": 3.0, "success_rate": 0.5, "time_to_failure_s": None,
         "episodes": 100, "deployable": True}
    b = {"return_mean": 20.0, "return_ci95": 4.0, "success_rate": 1.0, "time_to_failure_s": 2.0,
         "episodes": 300, "deployable": True}
    pooled = pool_runs([a, b])
    assert pooled["return_mean"] == 15.0 and pooled["success_rate"] == 0.75
    assert pooled["return_ci95"] == pytest.approx(2.5)  # sqrt(3^2 + 4^2) / 2
    assert pooled["time_to_failure_s"] == 2.0  # only b failed
    assert pooled["episodes"] == 400 and pooled["deployable"] is True
    assert pool_runs([a]) == a


def test_the_oracle_column_divides_by_the_one_oracle_labelled_or_not():
    def row(policy, ret):
        return {"split": "heldout", "policy": policy, "deployable": not policy.startswith("oracle"),
                "return_mean": ret, "return_ci95": 1.0, "success_rate": 1.0, "time_to_failure_s": None,
                "episodes": 8, "seeds": 1}

    def ratio(rows):  # the "/ oracle" cell of the dagger row
        line = next(x for x in markdown({"task": "t", "rows": rows}).splitlines() if x.startswith("| dagger |"))
        return line.split(" | ")[3]

    assert ratio([row("oracle", 20.0), row("dagger", 15.0)]) == "0.75"
    assert ratio([row("oracle_it900", 20.0), row("dagger", 19.0)]) == "0.95"  # the one oracle, labelled
    assert ratio([row("oracle", 20.0), row("oracle_it900", 10.0), row("dagger", 15.0)]) == "0.75"
    assert ratio([row("oracle_a", 20.0), row("oracle_b", 10.0), row("dagger", 15.0)]) == "-"  # which one: not said


def test_paired_difference_removes_the_shared_spread():
    a = [torch.tensor([10.0, 20.0, 30.0]), torch.tensor([12.0, 22.0])]
    b = [torch.tensor([9.0, 19.0, 29.0]), torch.tensor([10.0, 20.0])]
    d = paired_difference(a, b)  # differences 1, 1, 1, 2, 2
    assert d["diff_mean"] == pytest.approx(1.4) and d["pairs"] == 5
    assert d["diff_ci95"] == pytest.approx(1.96 * np.std([1, 1, 1, 2, 2], ddof=1) / np.sqrt(5))
    with pytest.raises(ValueError, match="same seeds"):
        paired_difference(a, b[:1])


def test_labelled_variants_are_compared_with_a_reference_policy(tmp_path):
    from runstore.config import ConfigError

    base = [*QUIET, "num_envs=32", "ppo.horizon=8", "max_iterations=1", "heldout_eval_envs=0"]
    train(compose("teacher", [*base, f"run_dir={tmp_path}/teacher"]))
    train(compose("teacher", [*base, "label=noise", "policy.latent_noise=0.2", f"run_dir={tmp_path}/teacher_noise"]))
    student = [*QUIET, f"teacher={tmp_path}/teacher", "num_envs=32", "iterations=1", "eval_envs=8",
               "batch_size=64", "export=false"]
    distill(compose("student", [*student, f"run_dir={tmp_path}/dagger"]))
    distill(compose("student", [*student, "label=long", "iterations=2", f"run_dir={tmp_path}/dagger_long"]))
    with pytest.raises(ConfigError, match="label='Long run'.*lowercase"):
        compose("student", [*student, "label=Long run"])
    runs = f"runs=[{tmp_path}/teacher,{tmp_path}/teacher_noise,{tmp_path}/dagger,{tmp_path}/dagger_long]"
    common = [runs, "episodes=16", "splits=[heldout]", "sweep=false"]
    with pytest.raises(ValueError, match=r"reference='dagger_short' is not among.*dagger_long"):
        evaluate(compose("evaluate", [*common, "reference=dagger_short", f"out_dir={tmp_path}/refused"]))
    assert not (tmp_path / "refused").exists()  # refused before anything was written
    # a teacher is compared only with a privileged policy: dagger is deployable
    with pytest.raises(ValueError, match=r"teacher_reference='dagger' is not among the privileged.*oracle_noise"):
        evaluate(compose("evaluate", [*common, "teacher_reference=dagger", f"out_dir={tmp_path}/refused"]))
    assert not (tmp_path / "refused").exists()
    report = evaluate(compose("evaluate", [*common, "reference=dagger", "teacher_reference=oracle",
                                           f"out_dir={tmp_path}/eval"]))
    assert {r["policy"] for r in report["rows"]} == {"oracle", "noadapt", "oracle_noise", "noadapt_noise",
                                                     "dagger", "dagger_long"}
    pairs = {(c["policy"], c["baseline"]): c for c in report["comparisons"]}
    assert set(pairs) == {(p, b) for p in ("dagger", "dagger_long", "noadapt_noise") for b in ("noadapt", "dagger")
                          if p != b} | {("oracle_noise", "oracle")}
    with h5py.File(tmp_path / "eval" / "episodes.h5") as f:  # the paired differences, by hand
        groups = {f[f"heldout/{k}"].attrs["run_dir"]: k for k in f["heldout"]}
        ret = {k: f[f"heldout/{k}/return"][()] for k in f["heldout"]}
        long, ref = ret[groups[str(tmp_path / "dagger_long")]], ret[groups[str(tmp_path / "dagger")]]
        noisy, oracle = ret["oracle_noise_2"], ret["oracle_0"]  # the groups are <policy>_<place in the evaluation>
    assert pairs[("dagger_long", "dagger")]["diff_mean"] == pytest.approx(float(np.mean(long - ref)), rel=1e-5)
    assert pairs[("oracle_noise", "oracle")]["diff_mean"] == pytest.approx(float(np.mean(noisy - oracle)), rel=1e-5)
    assert pairs[("oracle_noise", "oracle")]["diff_ci95"] == pytest.approx(
        1.96 * float(np.std(noisy - oracle, ddof=1)) / np.sqrt(len(noisy)), rel=1e-4)
    md = (tmp_path / "eval" / "report.md").read_text()
    assert "| dagger_long | dagger |" in md and "| oracle_noise | oracle |" in md


def test_evaluations_of_separate_seeds_merge_into_the_joint_report(tmp_path):
    """Seeds evaluated apart (other machines, other sessions) and merged give the report of
    one evaluation of all the runs, number for number; bad merges are refused before
    anything is written."""
    from evaluation.merge import main as merge_main, merge

    base = [*QUIET, "num_envs=32", "ppo.horizon=8", "max_iterations=1", "heldout_eval_envs=0"]
    for s in (0, 1):
        train(compose("teacher", [*base, f"seed={s}", f"run_dir={tmp_path}/s{s}/teacher"]))
        train(compose("teacher", [*base, f"seed={s}", "policy.actor_input=history", f"run_dir={tmp_path}/s{s}/dr"]))
        distill(compose("student", [*QUIET, f"seed={s}", f"teacher={tmp_path}/s{s}/teacher", "num_envs=32",
                                    "iterations=1", "eval_envs=8", "batch_size=64", "export=false",
                                    f"run_dir={tmp_path}/s{s}/dagger"]))
    common = ["episodes=16", "splits=[train,heldout]", "sweep=false", "resample_prob=0.01"]

    def runs(*seeds):
        return "runs=[" + ",".join(f"{tmp_path}/s{s}/{r}" for s in seeds for r in ("teacher", "dr", "dagger")) + "]"

    joint = evaluate(compose("evaluate", [runs(0, 1), *common, f"out_dir={tmp_path}/joint"]))
    for s in (0, 1):
        evaluate(compose("evaluate", [runs(s), *common, f"out_dir={tmp_path}/eval{s}"]))
    merged = merge([f"{tmp_path}/eval0", f"{tmp_path}/eval1"], f"{tmp_path}/merged")
    def keyed(rows, *keys):
        return {tuple(r[k] for k in keys): r for r in rows}

    assert keyed(merged["rows"], "split", "policy") == keyed(joint["rows"], "split", "policy")
    assert keyed(merged["comparisons"], "split", "policy", "baseline") == \
        keyed(joint["comparisons"], "split", "policy", "baseline")
    assert merged["breakdown"] == joint["breakdown"] and len(merged["comparisons"]) == 2 * 2
    assert {(r["split"], r["policy"], r["seeds"]) for r in merged["rows"]} == \
        {(s, p, 2) for s in ("train", "heldout") for p in ("oracle", "noadapt", "dr", "dagger")}
    saved = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert saved["merged_from"] == [f"{tmp_path}/eval0", f"{tmp_path}/eval1"]
    with h5py.File(tmp_path / "merged" / "episodes.h5") as f, h5py.File(tmp_path / "eval1" / "episodes.h5") as one:
        assert np.array_equal(f["heldout/dagger_7"]["return"][()], one["heldout/dagger_3"]["return"][()])
        assert f["heldout/dagger_7"].attrs["evaluation"] == f"{tmp_path}/eval1"

    # refused, naming what differs, and nothing written
    evaluate(compose("evaluate", [runs(1), *[c for c in common if not c.startswith("episodes")], "episodes=8",
                                  f"out_dir={tmp_path}/eval1_short"]))
    evaluate(compose("evaluate", [runs(1), *common, f"out_dir={tmp_path}/eval1_again"]))
    for dirs, match in (([f"{tmp_path}/eval0", f"{tmp_path}/eval1_short"], "episodes=8"),
                        ([f"{tmp_path}/eval0", f"{tmp_path}/eval0"], "given twice"),
                        ([f"{tmp_path}/eval0", f"{tmp_path}/s0/teacher"], "task.yaml does not exist"),
                        ([f"{tmp_path}/eval1", f"{tmp_path}/eval1_again"], "the same run evaluated twice")):
        with pytest.raises((ValueError, FileNotFoundError), match=match):
            merge(dirs, f"{tmp_path}/refused")
        assert not (tmp_path / "refused").exists()
    with pytest.raises(ValueError, match="--reference 'dagger_long' is not among"):
        merge([f"{tmp_path}/eval0", f"{tmp_path}/eval1"], f"{tmp_path}/refused", reference="dagger_long")
    with pytest.raises(ValueError, match=r"--teacher-reference 'dagger' is not among the merged privileged.*'oracle'"):
        merge([f"{tmp_path}/eval0", f"{tmp_path}/eval1"], f"{tmp_path}/refused", teacher_reference="dagger")
    assert not (tmp_path / "refused").exists()
    with pytest.raises(FileExistsError, match="--overwrite"):
        merge_main([f"{tmp_path}/eval0", f"{tmp_path}/eval1", "--out", f"{tmp_path}/merged"])
    merge_main([f"{tmp_path}/eval0", f"{tmp_path}/eval1", "--out", f"{tmp_path}/merged", "--overwrite",
                "--reference", "dagger"])
    again = json.loads((tmp_path / "merged" / "report.json").read_text())
    assert again["comparisons"] == saved["comparisons"] and again["rows"] == saved["rows"]


def test_zero_action_baseline_is_the_do_nothing_policy_on_the_same_episodes(trained_teacher, tmp_path):
    from runstore.store import load_run_config

    run, _ = trained_teacher
    report = evaluate(compose("evaluate", [f"runs=[{run}]", f"out_dir={tmp_path}/eval", "episodes=32", "sweep=false",
                                           "splits=[heldout]", "resample_prob=0.0", "zero_action=true"]))
    rows = {r["policy"]: r for r in report["rows"]}
    assert set(rows) == {"oracle", "noadapt", "zero_action"} and rows["zero_action"]["deployable"]
    # by hand: the same seed and split, zero force at every step
    task = load_run_config(run, "teacher").task
    env = make_env(task, num_envs=32, seed=2026, split="heldout", resample_prob=0.0)
    by_hand = run_episodes(env, lambda o: torch.zeros(32, env.spec.num_actions))["return"]
    with h5py.File(tmp_path / "eval" / "episodes.h5") as f:
        np.testing.assert_array_equal(f["heldout/zero_action_2/return"][()], by_hand.numpy())
    assert rows["zero_action"]["return_mean"] == pytest.approx(by_hand.float().mean().item(), rel=1e-6)
    assert rows["oracle"]["return_mean"] > rows["zero_action"]["return_mean"] + 50  # an unpushed pole falls


def test_clipped_oracle_is_the_teacher_told_the_nearest_training_dynamics(trained_teacher, tmp_path):
    from runstore.store import load_run_config
    from teacher.load import load_run

    run, _ = trained_teacher
    report = evaluate(compose("evaluate", [f"runs=[{run}]", f"out_dir={tmp_path}/eval", "episodes=32", "sweep=false",
                                           "splits=[train,extreme]", "resample_prob=0.0", "clipped_oracle=true"]))
    rows = {(r["split"], r["policy"]): r for r in report["rows"]}
    assert {p for _, p in rows} == {"oracle", "noadapt", "clipped_oracle"}
    assert not rows[("extreme", "clipped_oracle")]["deployable"]
    # by hand: cartpole's 9 parameters are priv_info's first entries, each normalized to [-1, 1] on its
    # train range; the teacher told those clipped to [-1, 1] and the rest of priv_info as it is
    _, teacher, _ = load_run(str(run), "best")
    task = load_run_config(run, "teacher").task
    env = make_env(task, num_envs=32, seed=2026, split="extreme", resample_prob=0.0)
    assert len(env.param_names) == 9 and env.spec.priv_dim > 9

    def clipped(o):
        priv = torch.cat([o["priv_info"][:, :9].clamp(-1, 1), o["priv_info"][:, 9:]], dim=1)
        return teacher.action_mean({**o, "priv_info": priv}).clamp(-1, 1)
    with torch.no_grad():
        by_hand = run_episodes(env, clipped)
    with h5py.File(tmp_path / "eval" / "episodes.h5") as f:
        np.testing.assert_array_equal(f["extreme/clipped_oracle_2/return"][()], by_hand["return"].numpy())
        np.testing.assert_array_equal(f["extreme/clipped_oracle_2/params"][()], by_hand["params"].numpy())
        # every extreme sample lies outside the train ranges, so the clip changes what the teacher does...
        assert (f["extreme/clipped_oracle_2/return"][()] != f["extreme/oracle_0/return"][()]).mean() > 0.5
        # ...and on train it clips nothing: the same policy, episode for episode
        np.testing.assert_array_equal(f["train/clipped_oracle_2/return"][()], f["train/oracle_0/return"][()])


def assert_paired_by_hand(mean: float, ci95: float, a: np.ndarray, b: np.ndarray) -> None:
    """A paired difference a - b as computed by hand: the mean of per-episode differences and
    1.96 standard errors."""
    diffs = a.astype(np.float64) - b
    assert mean == pytest.approx(diffs.mean(), rel=1e-5)
    assert ci95 == pytest.approx(1.96 * diffs.std(ddof=1) / np.sqrt(diffs.size), rel=1e-4)


def test_floor_pairs_every_seeds_episodes_with_the_do_nothing_policy(trained_teacher, tmp_path):
    import shutil

    from evaluation.floor import floor_table

    run, _ = trained_teacher
    common = [f"runs=[{run}]", "episodes=16", "sweep=false", "splits=[heldout]", "resample_prob=0.0"]
    evaluate(compose("evaluate", [*common, "zero_action=true", f"out_dir={tmp_path}/zero"]))
    evaluate(compose("evaluate", [*common, f"out_dir={tmp_path}/seed0"]))
    rows = {r["policy"]: r for r in floor_table(str(tmp_path / "zero"), [str(tmp_path / "seed0")])}
    with h5py.File(tmp_path / "seed0" / "episodes.h5") as f, h5py.File(tmp_path / "zero" / "episodes.h5") as z:
        oracle, floor = f["heldout/oracle_0/return"][()], z["heldout/zero_action_2/return"][()]
    assert_paired_by_hand(rows["oracle"]["minus_floor"], rows["oracle"]["minus_floor_ci95"], oracle, floor)
    assert rows["oracle"]["pairs"] == 16 and rows["zero_action"]["return_mean"] == pytest.approx(floor.mean())
    # another seed's episodes (here: the oracle's returns changed) cannot be paired with the floor
    shutil.copytree(tmp_path / "seed0", tmp_path / "other")
    with h5py.File(tmp_path / "other" / "episodes.h5", "r+") as f:
        f["heldout/oracle_0/return"][0] += 1.0
    with pytest.raises(ValueError, match="not the same episodes"):
        floor_table(str(tmp_path / "zero"), [str(tmp_path / "other")])
    with pytest.raises(ValueError, match="no 'zero_action' episodes"):
        floor_table(str(tmp_path / "seed0"), [str(tmp_path / "zero")])
    # two seeds' evaluations that both hold zero_action do not merge: the error says where it goes
    from evaluation.merge import merge

    train(compose("teacher", [*QUIET, "num_envs=64", "ppo.horizon=8", "max_iterations=1", f"run_dir={tmp_path}/t1"]))
    evaluate(compose("evaluate", [*common[1:], f"runs=[{tmp_path}/t1]", "zero_action=true", f"out_dir={tmp_path}/zero1"]))
    with pytest.raises(ValueError, match="evaluation.floor"):
        merge([str(tmp_path / "zero"), str(tmp_path / "zero1")], str(tmp_path / "merged"))
    assert not (tmp_path / "merged").exists()


def test_pair_puts_new_runs_beside_a_tables_policy_on_proven_same_episodes(tmp_path):
    """evaluation.pair: a policy evaluated later, with the table's settings, beside a policy the
    table has, is paired episode by episode with a table policy; the shared policy's bit-identical
    episodes prove the pairing, a task key that differs (history_len) is named, and anything else
    is refused."""
    import shutil

    from evaluation.pair import markdown, pair_table

    short = [*QUIET, "num_envs=64", "ppo.horizon=8", "heldout_eval_envs=0"]
    # a teacher's actor does not read the history: with history_len 20 the same seed trains the same weights
    train(compose("teacher", [*short, "max_iterations=1", f"run_dir={tmp_path}/t"]))
    train(compose("teacher", [*short, "max_iterations=1", "task.history_len=20", f"run_dir={tmp_path}/t_h20"]))
    train(compose("teacher", [*short, "max_iterations=3", "task.history_len=20", "label=more",
                              f"run_dir={tmp_path}/t3_h20"]))
    common = ["episodes=16", "sweep=false", "splits=[train,heldout]", "resample_prob=0.01"]
    evaluate(compose("evaluate", [*common, f"runs=[{tmp_path}/t]", f"out_dir={tmp_path}/base"]))
    evaluate(compose("evaluate", [*common, f"runs=[{tmp_path}/t_h20,{tmp_path}/t3_h20]", f"out_dir={tmp_path}/new"]))
    table = pair_table([str(tmp_path / "base")], [str(tmp_path / "new")], ["oracle_more"], against="oracle")
    assert table["proven_by"] == [[["noadapt", "oracle"]]] and table["task_differences"] == [{"history_len": [30, 20]}]
    rows = {r["split"]: r for r in table["rows"]}
    assert list(rows) == ["train", "heldout"]  # the task's order of splits
    with h5py.File(tmp_path / "new" / "episodes.h5") as f, h5py.File(tmp_path / "base" / "episodes.h5") as b:
        new, old = f["heldout/oracle_more_2/return"][()], b["heldout/oracle_0/return"][()]
        assert np.array_equal(f["heldout/oracle_0/return"][()], old)  # what proves the pairing
    assert_paired_by_hand(rows["heldout"]["difference"], rows["heldout"]["difference_ci95"], new, old)
    assert rows["heldout"]["pairs"] == 16 and rows["heldout"]["against_return_mean"] == pytest.approx(old.mean())
    # refused: other episodes (the shared policies' returns changed), other settings, unknown names
    shutil.copytree(tmp_path / "new", tmp_path / "other")
    with h5py.File(tmp_path / "other" / "episodes.h5", "r+") as f:
        for name in ("oracle_0", "noadapt_1"):
            f[f"train/{name}/return"][3] += 1.0
    with pytest.raises(ValueError, match="no policy with bit-identical episodes"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "other")], ["oracle_more"], against="oracle")
    evaluate(compose("evaluate", [*common[:-1], "resample_prob=0.0", f"runs=[{tmp_path}/t_h20]",
                                  f"out_dir={tmp_path}/rs0"]))
    with pytest.raises(ValueError, match="resample_prob"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "rs0")], ["oracle"])
    # ...unless that setting is what is compared (--across): the episodes' starting dynamics prove the
    # pairing, on the splits both evaluations ran (here heldout only)
    evaluate(compose("evaluate", [*common[:2], "splits=[heldout]", "resample_prob=0.0", f"runs=[{tmp_path}/t_h20]",
                                  f"out_dir={tmp_path}/rs0_heldout"]))
    across = pair_table([str(tmp_path / "base")], [str(tmp_path / "rs0_heldout")], ["oracle"], across="resample_prob")
    assert across["proven_by"] == [[["noadapt", "oracle"]]] and [r["split"] for r in across["rows"]] == ["heldout"]
    assert across["task_differences"][0]["evaluation resample_prob"] == [0.01, 0.0]
    with h5py.File(tmp_path / "rs0_heldout" / "episodes.h5") as f, h5py.File(tmp_path / "base" / "episodes.h5") as b:
        np.testing.assert_array_equal(f["heldout/oracle_0/params"][()], b["heldout/oracle_0/params"][()])
        without, with_ = f["heldout/oracle_0/return"][()], b["heldout/oracle_0/return"][()]
    assert not np.array_equal(without, with_)  # resampling changed the episodes after their start
    assert_paired_by_hand(across["rows"][0]["difference"], across["rows"][0]["difference_ci95"], without, with_)
    assert "`resample_prob` on purpose" in markdown(across, "cmd")
    shutil.copytree(tmp_path / "rs0_heldout", tmp_path / "rs0_other")
    with h5py.File(tmp_path / "rs0_other" / "episodes.h5", "r+") as f:  # other starting dynamics
        for name in ("oracle_0", "noadapt_1"):
            f[f"heldout/{name}/params"][0, 0] += 0.5
    with pytest.raises(ValueError, match="bit-identical starting dynamics"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "rs0_other")], ["oracle"], across="resample_prob")
    with pytest.raises(ValueError, match="may vary only"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "rs0_heldout")], ["oracle"], across="seed")
    with pytest.raises(ValueError, match="--across with --via"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "rs0_heldout")], ["oracle"], across="resample_prob",
                   via=[[str(tmp_path / "new")]])
    evaluate(compose("evaluate", [*common[:2], "splits=[extreme]", "resample_prob=0.01", f"runs=[{tmp_path}/t_h20]",
                                  f"out_dir={tmp_path}/extreme"]))
    with pytest.raises(ValueError, match="share no split"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "extreme")], ["oracle"])
    with pytest.raises(ValueError, match="--policy 'dagger'"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "new")], ["dagger"])
    with pytest.raises(ValueError, match="--against 'oracle_more'"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "new")], ["oracle_more"])
    with pytest.raises(ValueError, match="one of each per seed"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "new"), str(tmp_path / "rs0")], ["oracle"])
    # an evaluation that shares no policy with the base is linked to it through one that shares with both
    evaluate(compose("evaluate", [*common, f"runs=[{tmp_path}/t3_h20]", f"out_dir={tmp_path}/far"]))
    with pytest.raises(ValueError, match="--via"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "far")], ["oracle_more"], against="oracle")
    chained = pair_table([str(tmp_path / "base")], [str(tmp_path / "far")], ["oracle_more"], against="oracle",
                         via=[[str(tmp_path / "new")]])
    assert chained["proven_by"][0][0] == ["noadapt", "oracle"] and "oracle_more" in chained["proven_by"][0][1]
    assert chained["rows"] == table["rows"]  # the direct pairing's numbers, episode for episode
    assert "then" in markdown(chained, "cmd") and "chain of evaluations" in markdown(chained, "cmd")
    with pytest.raises(ValueError, match="no policy with bit-identical episodes"):  # a broken link
        pair_table([str(tmp_path / "base")], [str(tmp_path / "far")], ["oracle_more"], against="oracle",
                   via=[[str(tmp_path / "other")]])
    # one policy under two names (the same weights, another label) proves a link when named as an alias
    shutil.copytree(tmp_path / "t", tmp_path / "t_relabelled")
    config = (tmp_path / "t_relabelled" / "config.yaml").read_text()
    (tmp_path / "t_relabelled" / "config.yaml").write_text(config.replace("label: null", "label: again"))
    evaluate(compose("evaluate", [*common, f"runs=[{tmp_path}/t_relabelled]", f"out_dir={tmp_path}/relabelled"]))
    with pytest.raises(ValueError, match="no policy with bit-identical episodes"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "relabelled")], ["oracle_again"], against="oracle")
    aliased = pair_table([str(tmp_path / "base")], [str(tmp_path / "relabelled")], ["oracle_again"], against="oracle",
                         aliases={"oracle": "oracle_again", "noadapt": "oracle_again"})  # the second is not the same
    assert aliased["proven_by"] == [[["oracle=oracle_again"]]] and "`--alias`" in markdown(aliased, "cmd")
    assert all(r["difference"] == 0 and r["return_mean"] == r["against_return_mean"] for r in aliased["rows"])
    with pytest.raises(ValueError, match="--via number 1 has 2"):
        pair_table([str(tmp_path / "base")], [str(tmp_path / "far")], ["oracle_more"], against="oracle",
                   via=[[str(tmp_path / "new"), str(tmp_path / "rs0")]])


def test_pair_pairs_tracking_success_episode_by_episode():
    """Where the task has a tracking criterion, evaluation.pair also pairs tracking success (1 or 0
    per episode) seed by seed; without one it adds nothing."""
    from evaluation.pair import markdown, paired_tracking

    new = [{"tracked": np.array([1, 1, 0, 1], bool)}, {"tracked": np.array([0, 1], bool)}]
    base = [{"tracked": np.array([0, 1, 0, 0], bool)}, {"tracked": np.array([1, 1], bool)}]
    out = paired_tracking(new, base)  # differences 1, 0, 0, 1, -1, 0
    assert out["tracking_difference"] == pytest.approx(1 / 6)
    assert_paired_by_hand(out["tracking_difference"], out["tracking_difference_ci95"],
                          np.array([1, 1, 0, 1, 0, 1]), np.array([0, 1, 0, 0, 1, 1]))
    assert paired_tracking([{"return": np.zeros(2)}], [{"return": np.ones(2)}]) == {}
    row = {"split": "heldout", "policy": "oracle_b", "against": "oracle_a", "seeds": 2, "return_mean": 12.0,
           "against_return_mean": 11.0, "success_rate": 0.9, "against_success_rate": 0.8, "difference": 1.0,
           "difference_ci95": 0.5, "tracking_success_rate": 0.5, "against_tracking_success_rate": 0.5, **out}
    assert "| 0.500 | 0.500 | +0.167 ± " in markdown({"rows": [row], "proven_by": [["zero_action"]],
                                                     "task_differences": [{}]}, "cmd")


def test_runs_compares_two_configs_over_training_runs_on_proven_same_episodes(tmp_path):
    """evaluation.runs: run i of config A paired with run i of config B on each seed's episodes,
    the unit being the training run (each run's mean return), with a Student-t interval over the
    run pairs; a seed's evaluation dirs must prove they met the same episodes."""
    import shutil

    from evaluation.runs import compare

    short = [*QUIET, "num_envs=64", "ppo.horizon=8", "heldout_eval_envs=0"]
    train(compose("teacher", [*short, "max_iterations=1", f"run_dir={tmp_path}/t"]))
    for label, iters, seed in (("a1", 1, 1), ("a2", 1, 2), ("b1", 2, 1), ("b2", 2, 2)):
        train(compose("teacher", [*short, f"max_iterations={iters}", f"seed={seed}", f"label={label}",
                                  f"run_dir={tmp_path}/{label}"]))
    common = ["episodes=16", "sweep=false", "splits=[train,heldout]", "resample_prob=0.0"]
    for eval_seed in (3, 4):  # two "seeds": A's runs evaluated in one dir, B's in another, beside the shared teacher
        for group in ("a", "b"):
            evaluate(compose("evaluate", [*common, f"seed={eval_seed}", f"out_dir={tmp_path}/{group}{eval_seed}",
                                          f"runs=[{tmp_path}/t,{tmp_path}/{group}1,{tmp_path}/{group}2]"]))
    evals = [[str(tmp_path / f"a{s}"), str(tmp_path / f"b{s}")] for s in (3, 4)]
    table = compare(evals, ["oracle_a1", "oracle_a2"], ["oracle_b1", "oracle_b2"])
    rows = {r["split"]: r for r in table["rows"]}
    assert list(rows) == ["train", "heldout"]  # the task's order
    runs_a, runs_b = [], []
    for s in (3, 4):
        with h5py.File(tmp_path / f"a{s}" / "episodes.h5") as fa, h5py.File(tmp_path / f"b{s}" / "episodes.h5") as fb:
            runs_a += [float(fa[f"heldout/oracle_a{i}_{2 * i}/return"][()].mean()) for i in (1, 2)]
            runs_b += [float(fb[f"heldout/oracle_b{i}_{2 * i}/return"][()].mean()) for i in (1, 2)]
    diffs = np.array(runs_b) - np.array(runs_a)
    r = rows["heldout"]
    assert r["runs"] == 4 and r["a_runs"] == pytest.approx(runs_a) and r["b_runs"] == pytest.approx(runs_b)
    assert r["difference"] == pytest.approx(diffs.mean())
    t_975_3 = 3.182446305284263  # Student-t 97.5% quantile, 3 degrees of freedom (tables)
    assert r["difference_ci95"] == pytest.approx(t_975_3 * diffs.std(ddof=1) / 2.0)
    assert r["a_sd"] == pytest.approx(np.std(runs_a, ddof=1))

    shutil.copytree(tmp_path / "b4", tmp_path / "other")  # the shared teacher met other episodes: refused
    with h5py.File(tmp_path / "other" / "episodes.h5", "r+") as f:
        for name in ("oracle_0", "noadapt_1"):
            f[f"train/{name}/return"][0] += 1.0
    with pytest.raises(ValueError, match="no policy with bit-identical episodes"):
        compare([[evals[1][0], str(tmp_path / "other")]], ["oracle_a1"], ["oracle_b1"])
    with pytest.raises(ValueError, match="--a names 2 runs and --b 1"):
        compare(evals, ["oracle_a1", "oracle_a2"], ["oracle_b1"])
    with pytest.raises(ValueError, match=r"\['oracle_c1'\] not in"):
        compare(evals, ["oracle_a1"], ["oracle_c1"])
