"""apprentice's tasks trained by the real third-party trainers: rsl_rl's OnPolicyRunner and
DistillationRunner (rsl-rl-lib 5.5.1) and rl_games' Runner (rl-games 1.6.5), on CPU."""
import numpy as np
import pytest
import torch

from envs import make_env
from envs.ecosystem.to_rsl_rl import RslRlVecEnv, as_groups
from envs.rollout import run_episodes

rsl_rl = pytest.importorskip("rsl_rl")  # in the [test] extra; installed by scripts/setup.sh
from rsl_rl.runners import DistillationRunner, OnPolicyRunner  # noqa: E402


def mlp_cfg(std: float | None) -> dict:
    cfg = {"class_name": "MLPModel", "hidden_dims": [128, 128], "activation": "elu", "obs_normalization": True}
    if std is not None:
        cfg["distribution_cfg"] = {"class_name": "GaussianDistribution", "init_std": std}
    return cfg


PPO_CFG = {
    "num_steps_per_env": 16, "save_interval": 1000,
    "obs_groups": {"actor": ["policy", "privileged"], "critic": ["policy", "privileged", "critic"]},
    "algorithm": {"class_name": "PPO", "num_learning_epochs": 5, "num_mini_batches": 4, "learning_rate": 1e-3,
                  "schedule": "adaptive", "desired_kl": 0.01, "entropy_coef": 0.0, "gamma": 0.99, "lam": 0.95},
    "actor": mlp_cfg(1.0), "critic": mlp_cfg(None),
}


def evaluate(cartpole_cfg, act) -> float:
    """Mean return over 128 paired episodes on the training dynamics."""
    env = make_env(cartpole_cfg, num_envs=128, seed=99)
    return run_episodes(env, act)["return"].mean().item()


def test_the_rsl_rl_env_exposes_groups_and_time_outs(cartpole_cfg):
    env = RslRlVecEnv(make_env(cartpole_cfg, num_envs=4, seed=0))
    obs = env.get_observations()
    assert {k: tuple(v.shape) for k, v in obs.items()} == {
        "policy": (4, 4), "proprio_hist": (4, 120), "privileged": (4, 13), "critic": (4, 6)}
    env.episode_length_buf = torch.full((4,), 499)  # what init_at_random_ep_len does
    obs, rew, done, extras = env.step(torch.zeros(4, 1))
    assert done.tolist() == [1, 1, 1, 1] and extras["time_outs"].all()
    assert torch.equal(obs["proprio_hist"].view(4, 30, 4)[:, -1], obs["policy"])


@pytest.fixture(scope="module")
def rsl_rl_teacher(cartpole_cfg, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("rsl_rl")
    torch.manual_seed(0)  # rsl_rl draws its initial weights from the global generator: fixed, whatever ran before
    env = RslRlVecEnv(make_env(cartpole_cfg, num_envs=256, seed=0))
    runner = OnPolicyRunner(env, {**PPO_CFG}, log_dir=str(log_dir), device="cpu")
    runner.learn(30)
    runner.save(str(log_dir / "model.pt"))
    return runner, log_dir / "model.pt"


def test_rsl_rl_ppo_learns_an_apprentice_task(rsl_rl_teacher, cartpole_cfg):
    runner, _ = rsl_rl_teacher
    policy = runner.get_inference_policy()
    trained = evaluate(cartpole_cfg, lambda o: policy(as_groups(o)).clamp(-1, 1))
    untrained = evaluate(cartpole_cfg, lambda o: torch.zeros(128, 1))
    assert untrained < 35 and trained > 60, (trained, untrained)  # 85-170 after 30 iterations on 256 envs (the value differs between machines)


def test_rsl_rl_distillation_runner_distills_an_apprentice_teacher(rsl_rl_teacher, cartpole_cfg, tmp_path):
    _, model = rsl_rl_teacher
    env = RslRlVecEnv(make_env(cartpole_cfg, num_envs=256, seed=1))
    cfg = {"num_steps_per_env": 16, "save_interval": 1000,
           "obs_groups": {"student": ["proprio_hist"], "teacher": ["policy", "privileged"]},
           "algorithm": {"class_name": "Distillation", "num_learning_epochs": 5, "learning_rate": 1e-3,
                         "gradient_length": 15},
           "student": mlp_cfg(0.1), "teacher": mlp_cfg(0.0)}
    runner = DistillationRunner(env, cfg, log_dir=str(tmp_path), device="cpu")
    runner.load(str(model))

    def student_return() -> float:
        student = runner.get_inference_policy()
        return evaluate(cartpole_cfg, lambda o: student(as_groups(o)).clamp(-1, 1))

    before = student_return()
    runner.learn(60)
    after = student_return()
    teacher = runner.alg.teacher.eval()
    teacher_return = evaluate(cartpole_cfg, lambda o: teacher(as_groups(o)).clamp(-1, 1))
    assert after > before + 20 and after > 0.5 * teacher_return, (before, after, teacher_return)


def test_rl_games_runner_trains_an_apprentice_task(cartpole_cfg, tmp_path):
    pytest.importorskip("rl_games")
    from rl_games.common.algo_observer import AlgoObserver
    from rl_games.torch_runner import Runner

    from envs.ecosystem.to_rl_games import register

    class Scores(AlgoObserver):
        def after_init(self, algo):
            self.algo, self.means = algo, []

        def after_print_stats(self, frame, epoch_num, total_time):
            self.means.append(self.algo.game_rewards.get_mean().item())

    register("apprentice_cartpole_test", cartpole_cfg)
    params = {
        "seed": 0, "algo": {"name": "a2c_continuous"}, "model": {"name": "continuous_a2c_logstd"},
        "network": {"name": "actor_critic", "separate": False,
                    "space": {"continuous": {"mu_activation": "None", "sigma_activation": "None",
                                             "mu_init": {"name": "default"}, "fixed_sigma": True,
                                             "sigma_init": {"name": "const_initializer", "val": 0}}},
                    "mlp": {"units": [128, 128], "activation": "elu", "initializer": {"name": "default"}}},
        "config": {"name": "cartpole", "env_name": "apprentice_cartpole_test", "device": "cpu", "device_name": "cpu",
                   "multi_gpu": False, "ppo": True, "mixed_precision": False, "normalize_input": True,
                   "normalize_value": True, "value_bootstrap": True, "num_actors": 256,
                   "reward_shaper": {"scale_value": 1.0}, "normalize_advantage": True, "gamma": 0.99, "tau": 0.95,
                   "learning_rate": 1e-3, "lr_schedule": "adaptive", "kl_threshold": 0.01, "score_to_win": 100000,
                   "max_epochs": 30, "save_best_after": 1000, "save_frequency": 1000, "grad_norm": 1.0,
                   "entropy_coef": 0.0, "truncate_grads": True, "e_clip": 0.2, "horizon_length": 16,
                   "minibatch_size": 1024, "mini_epochs": 5, "critic_coef": 2, "clip_value": True,
                   "bounds_loss_coef": 0.0001, "torch_compile": False, "train_dir": str(tmp_path)},
    }
    observer = Scores()
    runner = Runner(algo_observer=observer)
    runner.load({"params": params})
    runner.run({"train": True, "play": False, "checkpoint": None, "sigma": None})
    means = np.array(observer.means)
    assert len(means) == 30 and means[-1] > 50 and means[-1] > 2 * means[0], means


def test_rl_games_trains_an_apprentice_teacher_run_that_the_next_stages_take(tmp_path):
    """trainer=rl_games: rl_games' PPO loop on apprentice's ActorCritic, written as a teacher run."""
    pytest.importorskip("rl_games")
    from evaluation.evaluate import evaluate
    from runstore.config import ConfigError, compose
    from student.distill import distill
    from teacher.load import load_run
    from teacher.rl_games_trainer import train_rl_games

    quiet = ["log.progress=false", "log.tensorboard=false", "log.print_every=0"]
    teacher = tmp_path / "teacher"
    summary = train_rl_games(compose("teacher", ["trainer=rl_games", "num_envs=256", "max_iterations=30",
                                                 "save_every=10", f"run_dir={teacher}", *quiet]))
    assert summary["trainer"] == "rl_games" and summary["env_steps"] == 30 * 16 * 256
    assert summary["mean_return"] > 50, summary  # random play ~20; apprentice's own trainer ~80 here
    cfg, policy, spec = load_run(teacher)  # an ordinary teacher run: privileged info only through z
    assert policy.actor_input == "privileged" and cfg.trainer == "rl_games"
    student = tmp_path / "dagger"
    distill(compose("student", [f"teacher={teacher}", "iterations=3", "num_envs=256", "eval_envs=64",
                                f"run_dir={student}", *quiet]))
    report = evaluate(compose("evaluate", [f"runs=[{teacher},{student}]", "episodes=64", "sweep=false",
                                           f"out_dir={tmp_path}/eval"]))
    assert {r["policy"] for r in report["rows"]} == {"oracle", "noadapt", "dagger"}
    oracle = next(r for r in report["rows"] if r["policy"] == "oracle" and r["split"] == "train")
    assert oracle["return_mean"] > 50
    with pytest.raises(ConfigError, match=r"ppo.objective='kl' is not available with trainer=rl_games"):
        compose("teacher", ["trainer=rl_games", "ppo.objective=kl"])


def test_rsl_rl_pipeline_writes_runs_that_evaluation_reads_beside_apprentice_runs(trained_teacher, tmp_path):
    """rsl_rl's own teacher and student, trained by its runners, written as runs: the evaluation
    reads them by name and act exactly as rsl_rl's inference policies; the student is called with
    the history alone; a checkpoint naming a model class this version does not allow is refused."""
    from envs.ecosystem.rsl_rl_pipeline import run
    from evaluation.evaluate import evaluate as evaluate_runs
    from evaluation.policies import load_policies
    from runstore.config import compose
    from runstore.store import CheckpointError, load_checkpoint, save_checkpoint

    teacher_run, _ = trained_teacher
    out = tmp_path / "rsl"
    (out / "rsl_rl_student").mkdir(parents=True)
    (out / "rsl_rl_student" / "keep.txt").write_text("an earlier run")
    with pytest.raises(FileExistsError, match="rsl_rl_student exists and is not empty"):
        run(str(teacher_run), out, iterations=2, student_iterations=1, num_envs=32)
    assert not (out / "rsl_rl_teacher").exists()  # refused before any training
    with pytest.raises(CheckpointError, match="is not a teacher run dir"):
        run(str(tmp_path / "nothing"), tmp_path / "rsl2")
    (out / "rsl_rl_student" / "keep.txt").unlink()

    summaries = run(str(teacher_run), out, seed=3, iterations=4, student_iterations=2, num_envs=64)
    assert summaries["teacher"]["env_steps"] == 4 * 64 * 16 and summaries["student"]["env_steps"] == 2 * 64 * 16

    (teacher,), _ = load_policies(out / "rsl_rl_teacher", "cartpole")
    (student,), _ = load_policies(out / "rsl_rl_student", "cartpole")
    assert (teacher.name, teacher.deployable, student.name, student.deployable) == \
        ("rsl_rl_teacher", False, "rsl_rl_student", True)
    # the same numbers as rsl_rl's own models, rebuilt from the run's weights
    from rsl_rl.runners import DistillationRunner, OnPolicyRunner
    from omegaconf import OmegaConf
    settings = OmegaConf.to_container(OmegaConf.load("configs/rsl_rl/cartpole.yaml"))
    env = make_env(compose("teacher", []).task, num_envs=8, seed=5)
    obs = env.reset()
    for _ in range(20):
        obs, *_ = env.step(torch.rand(8, 1) * 2 - 1)
    rsl_env = RslRlVecEnv(make_env(compose("teacher", []).task, num_envs=8, seed=5))
    ref = OnPolicyRunner(rsl_env, settings["teacher"], log_dir=None, device="cpu")
    ref.load(str(out / "rsl_rl_teacher" / "rsl_rl" / "teacher.pt"))
    assert torch.equal(teacher.act(obs), ref.get_inference_policy()(as_groups(obs)).clamp(-1, 1))
    dref = DistillationRunner(rsl_env, settings["student"], log_dir=None, device="cpu")
    dref.load(str(out / "rsl_rl_student" / "rsl_rl" / "student.pt"))
    history_only = {"proprio_hist": obs["proprio_hist"]}  # a KeyError if the student read anything else
    assert torch.equal(student.act(history_only), dref.get_inference_policy()(as_groups(obs)).clamp(-1, 1))

    report = evaluate_runs(compose("evaluate", [f"runs=[{teacher_run},{out}/rsl_rl_teacher,{out}/rsl_rl_student]",
                                                f"out_dir={tmp_path}/eval", "episodes=16", "sweep=false",
                                                "splits=[heldout]"]))
    rows = {r["policy"]: r for r in report["rows"] if r["split"] == "heldout"}
    assert set(rows) == {"oracle", "noadapt", "rsl_rl_teacher", "rsl_rl_student"}
    assert (rows["rsl_rl_teacher"]["deployable"], rows["rsl_rl_student"]["deployable"]) == (False, True)
    # a deployable policy like any other: compared with the deployable baseline, paired
    assert {(c["policy"], c["baseline"]) for c in report["comparisons"]} == {("rsl_rl_student", "noadapt")}

    ckpt_path = out / "rsl_rl_student" / "checkpoints" / "last.pt"
    ckpt = load_checkpoint(ckpt_path, "rsl_rl")
    ckpt["model"]["class_name"] = "SomethingElse"
    save_checkpoint(ckpt_path, ckpt)
    with pytest.raises(CheckpointError, match="'SomethingElse'"):
        load_policies(out / "rsl_rl_student", "cartpole")
