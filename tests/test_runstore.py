"""The run store under bad input: unsafe or damaged checkpoints, out-of-range configs, run
dirs left by failed starts, resumes that would change a run. Each bad input is a clear
error naming what is wrong, raised before anything is written or overwritten."""
import json
import math
import pathlib
import time

import pytest
import torch

from evaluation.policies import load_policies
from runstore.config import ConfigError, compose
from runstore.store import CheckpointError, load_checkpoint
from teacher.load import load_run
from teacher.train import train

FAST = ["num_envs=32", "ppo.horizon=8", "log.progress=false", "log.tensorboard=false", "save_every=1"]


class Payload:
    """A pickle that runs code when loaded: creates ``marker``."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_a_crafted_checkpoint_does_not_run_code(tmp_path):
    ckpt = tmp_path / "best.pt"
    torch.save({"stage": "teacher", "model": Payload(tmp_path / "pwned")}, ckpt)
    torch.load(ckpt, weights_only=False)  # the file is live: a plain unpickle runs it
    assert (tmp_path / "pwned").exists()
    (tmp_path / "pwned").unlink()
    with pytest.raises(CheckpointError, match="cannot be read safely"):
        load_checkpoint(ckpt)
    assert not (tmp_path / "pwned").exists()


@pytest.fixture(scope="module")
def short_teacher(tmp_path_factory):
    run = tmp_path_factory.mktemp("teacher") / "run"
    train(compose("teacher", [*FAST, "max_iterations=2", f"run_dir={run}"]))
    return run


def test_a_checkpoint_missing_a_key_is_a_checkpoint_error(short_teacher, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(short_teacher, run)
    ckpt = load_checkpoint(run / "checkpoints" / "best.pt")
    del ckpt["model"]
    torch.save(ckpt, run / "checkpoints" / "best.pt")
    with pytest.raises(CheckpointError, match=r"lacks \['model'\]"):
        load_run(run)
    torch.save({**ckpt, "stage": "student"}, run / "checkpoints" / "best.pt")
    with pytest.raises(CheckpointError, match="is a 'student' checkpoint, not a teacher one"):
        load_run(run)
    torch.save([1, 2, 3], run / "checkpoints" / "best.pt")
    with pytest.raises(CheckpointError, match="holds a list"):
        load_run(run)


# every numeric setting has its range, every choice its values: (config, override, the message)
BAD_CONFIGS = [
    ("teacher", "max_iterations=0", r"max_iterations=0 is out of range: needs 1 <= value"),
    ("teacher", "num_envs=-4", r"num_envs=-4 is out of range"),
    ("teacher", "ppo.num_minibatches=0", r"ppo.num_minibatches=0 is out of range"),
    ("teacher", "ppo.num_minibatches=100000", r"ppo.num_minibatches=100000 exceeds the batch of .* = 256"),
    ("teacher", "ppo.gamma=1.01", r"ppo.gamma=1.01 is out of range: needs 0 < value <= 1"),
    ("teacher", "ppo.gamma=0", r"ppo.gamma=0(\.0)? is out of range"),
    ("teacher", "ppo.lam=-0.1", r"ppo.lam=-0.1 is out of range"),
    ("teacher", "ppo.clip=0", r"ppo.clip=0(\.0)? is out of range: needs 0 < value"),
    ("teacher", "ppo.learning_rate=0", r"ppo.learning_rate=0(\.0)? is out of range"),
    ("teacher", "ppo.epochs=0", r"ppo.epochs=0 is out of range"),
    ("teacher", "ppo.objective=trpo", r"ppo.objective: 'trpo' is not allowed; choose from \['clip', 'kl'\]"),
    ("teacher", "ppo.lr_schedule=cosine", r"ppo.lr_schedule: 'cosine' is not allowed"),
    ("teacher", "policy.actor_input=everything", r"policy.actor_input: 'everything' is not allowed"),
    ("teacher", "policy.actor_hidden=[128,0]", r"policy.actor_hidden=\[128, 0\] is out of range"),
    ("teacher", "policy.init_std=0", r"policy.init_std=0(\.0)? is out of range"),
    ("teacher", "save_every=0", r"save_every=0 is out of range"),
    ("teacher", "log.wandb_mode=cloud", r"log.wandb_mode: 'cloud' is not allowed"),
    ("teacher", "task.sim_dt=0", r"task.sim_dt=0(\.0)? is out of range"),
    ("teacher", "task.history_len=0", r"task.history_len=0 is out of range"),
    ("teacher", "task.randomization.pole_mass.train=[1.5,0.5]",
     r"task.randomization.pole_mass.train range \(1.5, 0.5\) has lo > hi"),
    ("teacher", "task.randomization.pole_mass.extreme=[[1.0,1.2]]",
     r"task.randomization.pole_mass.extreme interval \(1.0, 1.2\) overlaps the train range"),
    ("teacher", "task.randomization.pole_mass.heldout=[[1.0,1.2]]",
     r"task.randomization.pole_mass.heldout intervals \[\(1.0, 1.2\)\] lie inside the train range"),
    ("student", "iterations=0", r"iterations=0 is out of range"),
    ("student", "batch_size=0", r"batch_size=0 is out of range"),
    ("student", "batch_size=4096 buffer_size=100", r"batch_size=4096 exceeds buffer_size=100"),
    ("student", "method=bc", r"method: 'bc' is not allowed; choose from \['dagger', 'adapt', 'sysid'\]"),
    ("student", "beta0=1.5", r"beta0=1.5 is out of range"),
    ("student", "teacher_checkpoint=middle", r"teacher_checkpoint: 'middle' is not allowed"),
    ("student", "+task=cartpole", r"task"),
    ("evaluate", "episodes=0", r"episodes=0 is out of range"),
    ("evaluate", "splits=[train,test]", r"splits: 'test' is not allowed"),
    ("evaluate", "runs=[]", r"runs is empty"),
    ("evaluate", "sweep_points=1", r"sweep_points=1 is out of range"),
    ("teacher", "device=tpu", r"device='tpu' is not a torch device"),
    ("student", "device=meta", r"device='meta': the learner runs on cpu, cuda or mps, not meta"),
    *([("teacher", "device=cuda", r"device='cuda': torch sees no CUDA device"),
       ("student", "device=cuda:0", r"device='cuda:0': torch sees no CUDA device")] if not torch.cuda.is_available() else []),
]


@pytest.mark.parametrize("config,override,message", BAD_CONFIGS, ids=[f"{c}:{o}" for c, o, _ in BAD_CONFIGS])
def test_a_bad_setting_is_refused_at_compose_time(tmp_path, config, override, message):
    base = {"teacher": [*FAST, f"run_dir={tmp_path}/run"], "student": ["teacher=t", f"run_dir={tmp_path}/run"],
            "evaluate": ["runs=[r]", f"out_dir={tmp_path}/run"]}[config]
    with pytest.raises(ConfigError, match=message):
        compose(config, [*base, *override.split()])
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_failed_start_is_reported_not_reused(tmp_path):
    run = tmp_path / "t"
    run.mkdir()
    (run / "config.yaml").write_text("seed: 0\n")  # what a start killed before its first checkpoint leaves
    (run / "checkpoints").mkdir()
    for extra in ([], ["resume=true"]):
        with pytest.raises(CheckpointError, match="failed before (its|the) first checkpoint"):
            train(compose("teacher", [*FAST, "max_iterations=1", f"run_dir={run}", *extra]))
    assert (run / "config.yaml").read_text() == "seed: 0\n"


def test_a_foreign_non_empty_dir_is_not_a_run_dir(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(CheckpointError, match="exists and is not an empty directory"):
        train(compose("teacher", [*FAST, "max_iterations=1", f"run_dir={tmp_path}"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_resume_refuses_a_changed_config_and_a_finished_run(short_teacher):
    run = short_teacher
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(CheckpointError, match=r"already finished 2 iterations"):
        train(compose("teacher", [*FAST, "max_iterations=2", f"run_dir={run}", "resume=true"]))
    with pytest.raises(CheckpointError, match=r"ppo.learning_rate: run 0.001 vs now 0.01; seed: run 0 vs now 3"):
        train(compose("teacher", [*FAST, "max_iterations=4", f"run_dir={run}", "resume=true",
                                  "ppo.learning_rate=0.01", "seed=3"]))
    with pytest.raises(CheckpointError, match=r"task.randomization.pole_mass.train: run \[0.5, 1.5\] vs now \[0.6, 1.5\]"):
        train(compose("teacher", [*FAST, "max_iterations=4", f"run_dir={run}", "resume=true",
                                  "task.randomization.pole_mass.train=[0.6,1.5]"]))
    after = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert after == before  # nothing written or overwritten


def test_resume_with_a_resumable_change_is_recorded(short_teacher, tmp_path):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(short_teacher, run)
    train(compose("teacher", [*FAST, "max_iterations=3", f"run_dir={run}", "resume=true", "log.print_every=5",
                              "label=it3"]))
    (entry,) = [json.loads(x) for x in (run / "resumes.jsonl").read_text().splitlines()]
    assert entry["from_iteration"] == 2
    assert entry["environment"]["packages"]["torch"] == torch.__version__  # where the resume ran
    assert entry["changed"] == {"label": [None, "it3"], "log.print_every": [10, 5], "max_iterations": [2, 3],
                                "resume": [False, True],
                                "run_dir": [str(short_teacher), str(run)]}  # a moved run dir is the same run
    policies, _ = load_policies(run, "cartpole", noadapt_envs=8)
    assert [p.name for p in policies] == ["oracle_it3", "noadapt_it3"]  # a snapshot of a longer run, named apart
    assert load_checkpoint(run / "checkpoints" / "last.pt")["iteration"] == 3


def test_a_resume_may_start_mid_episode_resampling_and_its_returns_start_over(tmp_path):
    """A curriculum: trained without resampling, resumed with it. The change is recorded, the
    resumed iterations resample, and the recent returns and best.pt's record are of the new
    episodes only; a resume at the same rate keeps both."""
    import shutil

    short = [*FAST, "task.episode_length=8"]  # every env ends an episode in each rollout
    base = tmp_path / "base"
    train(compose("teacher", [*short, "max_iterations=2", f"run_dir={base}", "log.return_window=16"]))
    before = load_checkpoint(base / "checkpoints" / "last.pt")
    assert len(before["windows"]["return"]) == 16 and math.isfinite(before["best_return"])
    runs = {}
    for name, extra in [("same", []), ("curriculum", ["task.resample_prob=0.05"])]:
        runs[name] = tmp_path / name
        shutil.copytree(base, runs[name])
        train(compose("teacher", [*short, "max_iterations=3", f"run_dir={runs[name]}", "resume=true",
                                  "log.return_window=1000", *extra]))  # a window the resumed iteration cannot fill
    same, curriculum = (load_checkpoint(runs[n] / "checkpoints" / "last.pt") for n in ("same", "curriculum"))
    assert same["best_return"] == before["best_return"] and same["windows"]["return"][:16] == before["windows"]["return"]
    assert curriculum["best_return"] == -math.inf  # not yet a full window of the new episodes
    assert curriculum["windows"]["return"][:16] != before["windows"]["return"]
    assert len(curriculum["windows"]["return"]) == len(same["windows"]["return"]) - 16
    (entry,) = [json.loads(x) for x in (runs["curriculum"] / "resumes.jsonl").read_text().splitlines()]
    assert entry["changed"]["task.resample_prob"] == [0.0, 0.05]
    rows = [json.loads(x) for x in (runs["curriculum"] / "metrics.jsonl").read_text().splitlines()]
    assert [r["resampled"] for r in rows[:2]] == [0, 0] and rows[2]["resampled"] > 0  # 32 envs x 8 steps x 0.05
    # the next full window of new episodes is best.pt, whatever the old record was
    train(compose("teacher", [*short, "max_iterations=4", f"run_dir={runs['curriculum']}", "resume=true",
                              "task.resample_prob=0.05", "log.return_window=16"]))
    assert load_checkpoint(runs["curriculum"] / "checkpoints" / "best.pt")["iteration"] == 4


@pytest.mark.parametrize("overrides,message", [
    (["+ranges.odd={pole_mas: [[1.0, 1.0]]}"], r"split 'odd': ranges name unknown parameters \['pole_mas'\]"),
    (["+ranges.odd={pole_mass: [[1.2, 1.0]]}"], r"split 'odd': ranges for 'pole_mass' must be .* lo <= hi"),
    (["+ranges.odd={action_delay: [[0.2, 0.4]]}"], r"integer interval .* holds no whole number"),
    (["sweep_params=[pole_mas]"], r"sweep_params \['pole_mas'\] are not parameters of cartpole"),
])
def test_evaluation_refuses_bad_splits_before_any_episode(short_teacher, tmp_path, overrides, message):
    from evaluation.evaluate import evaluate

    t0 = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        evaluate(compose("evaluate", [f"runs=[{short_teacher}]", f"out_dir={tmp_path}/eval", *overrides]))
    assert time.perf_counter() - t0 < 20 and not list(tmp_path.iterdir())  # nothing ran, nothing written


def test_evaluation_refuses_the_same_run_twice_and_an_existing_report(short_teacher, tmp_path):
    import shutil

    from evaluation.evaluate import evaluate

    copy = tmp_path / "copy"
    shutil.copytree(short_teacher, copy)
    for runs, what in [(f"[{short_teacher},{short_teacher}/.]", "same dir"), (f"[{short_teacher},{copy}]", "identical checkpoint")]:
        with pytest.raises(ValueError, match=f"are the same run \\({what}\\)"):
            evaluate(compose("evaluate", [f"runs={runs}", f"out_dir={tmp_path}/eval"]))
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "report.md").write_text("an earlier report")
    with pytest.raises(FileExistsError, match="pass overwrite=true"):
        evaluate(compose("evaluate", [f"runs=[{short_teacher}]", f"out_dir={tmp_path}/eval"]))
    assert (tmp_path / "eval" / "report.md").read_text() == "an earlier report"
    with pytest.raises(CheckpointError, match="is not a teacher, DR or student run dir"):
        evaluate(compose("evaluate", [f"runs=[{tmp_path}/nothing]", f"out_dir={tmp_path}/eval2"]))


def test_student_bad_input_is_refused_before_anything_is_written(short_teacher, tmp_path):
    from student.distill import distill

    data = tmp_path / "data.h5"
    data.write_bytes(b"an earlier dataset")
    quiet = ["log.progress=false", "log.tensorboard=false", "num_envs=16", "eval_envs=16"]
    with pytest.raises(FileExistsError, match=f"dataset_path {data} exists"):
        distill(compose("student", [f"teacher={short_teacher}", f"dataset_path={data}", f"run_dir={tmp_path}/s", *quiet]))
    assert data.read_bytes() == b"an earlier dataset" and not (tmp_path / "s").exists()
    with pytest.raises(FileNotFoundError, match="dataset .* does not exist"):
        distill(compose("student", [f"teacher={short_teacher}", f"offline_dataset={tmp_path}/none.h5",
                                    f"run_dir={tmp_path}/s", *quiet]))
    assert not (tmp_path / "s").exists()
    run = tmp_path / "s2"
    distill(compose("student", [f"teacher={short_teacher}", "iterations=2", "save_every=1", "export=false",
                                f"run_dir={run}", *quiet]))
    with pytest.raises(CheckpointError, match=r"learning_rate: run 0.001 vs now 0.01"):
        distill(compose("student", [f"teacher={short_teacher}", "iterations=3", "learning_rate=0.01", "export=false",
                                    f"run_dir={run}", "resume=true", *quiet]))
    summary = distill(compose("student", [f"teacher={short_teacher}", "iterations=3", "save_every=1", "export=false",
                                          f"run_dir={run}", "resume=true", *quiet]))
    assert summary["iterations"] == 3 and summary["env_steps"] == 3 * 16 * 16
    assert iterations_logged(run) == [0, 1, 2]


def iterations_logged(run) -> list[int]:
    return [json.loads(x)["iteration"] for x in (run / "metrics.jsonl").read_text().splitlines()]


def test_a_benchmark_rerun_keeps_finished_runs_and_starts_stopped_ones_over(tmp_path):
    from runstore.store import finished_or_cleared

    done, stopped = tmp_path / "done", tmp_path / "stopped"
    (done / "checkpoints").mkdir(parents=True)
    (done / "summary.json").write_text('{"mean_return": 12.5}')
    (stopped / "checkpoints").mkdir(parents=True)
    (stopped / "checkpoints" / "last.pt").write_bytes(b"a half-finished run")
    assert finished_or_cleared(done) == {"mean_return": 12.5} and (done / "checkpoints").is_dir()
    assert finished_or_cleared(stopped) is None and not stopped.exists()
    assert finished_or_cleared(tmp_path / "never") is None
