"""Domain randomization: declared ranges, held-out beyond train, extreme outside it, reproducibility."""
import numpy as np
import pytest
import torch

from envs import make_env
from envs.randomization import ParamSpec, Sampler, step_split


def _params(env, split):
    env.set_split(split)
    env.reset()
    return env.params.copy()


def _inside(values, intervals):
    return np.any([(values >= a - 1e-12) & (values <= b + 1e-12) for a, b in intervals], axis=0)


def test_train_heldout_and_extreme_samples_respect_ranges(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=2048, seed=3)
    train, held, extreme = (_params(env, s) for s in ("train", "heldout", "extreme"))
    beyond_any = np.zeros(len(held), bool)
    for k, spec in enumerate(env.param_specs):
        lo, hi = spec.train
        assert (train[:, k] >= lo).all() and (train[:, k] <= hi).all(), spec.name
        assert ((extreme[:, k] < lo) | (extreme[:, k] > hi)).all(), f"{spec.name}: extreme samples inside train"
        assert _inside(extreme[:, k], spec.extreme).all() and _inside(held[:, k], spec.heldout).all(), spec.name
        beyond = (held[:, k] < lo) | (held[:, k] > hi)
        # RMA's protocol: the held-out range contains train and reaches beyond it
        assert 0.05 < beyond.mean() < 0.6 and (~beyond).any(), (spec.name, beyond.mean())
        beyond_any |= beyond
    assert beyond_any.mean() > 0.9  # nearly every held-out episode has some parameter outside train
    assert set(np.unique(train[:, env.param_names.index("action_delay")])) == {0.0, 1.0, 2.0}
    assert set(np.unique(held[:, env.param_names.index("action_delay")])) == {0.0, 1.0, 2.0, 3.0}


def test_extreme_never_touches_train_endpoint():
    spec = ParamSpec("m", train=(0.8, 1.2), heldout=((0.7, 1.3),), extreme=((0.8, 0.8), (1.2, 1.2)), nominal=1.0)
    v = Sampler([spec], "extreme")(1000, np.random.default_rng(0))
    assert ((v < 0.8) | (v > 1.2)).all()


def test_a_step_split_widens_train_by_a_fraction_of_the_way_to_heldout():
    mass = ParamSpec("mass", train=(0.5, 1.5), heldout=((0.3, 1.8),), extreme=((0.3, 0.5),), nominal=1.0)
    delay = ParamSpec("delay", train=(0.0, 2.0), heldout=((0.0, 3.0),), extreme=((3.0, 3.0),), nominal=1.0, integer=True)
    # by hand: 0.5 - 0.5 * 0.2 = 0.4 and 1.5 + 0.5 * 0.3 = 1.65; delay 2 + 0.5 * 1 = 2.5, rounded outward to 3
    half = step_split([mass, delay], 0.5)
    assert half["mass"] == [[pytest.approx(0.4), pytest.approx(1.65)]] and half["delay"] == [[0.0, 3.0]]
    assert step_split([mass], 1.0)["mass"] == [[pytest.approx(0.3), pytest.approx(1.8)]]  # the held-out hull
    assert step_split([delay], 0.25)["delay"] == [[0.0, 3.0]]
    v = Sampler([mass, delay], half)(4000, np.random.default_rng(0))
    assert v[:, 0].min() >= 0.4 - 1e-9 and v[:, 0].max() <= 1.65 + 1e-9 and v[:, 0].max() > 1.6
    with pytest.raises(ValueError, match="fraction 0"):
        step_split([mass], 0.0)


def test_extreme_overlapping_train_and_heldout_inside_train_are_rejected():
    with pytest.raises(ValueError, match="extreme interval .* overlaps the train range"):
        ParamSpec("m", train=(0.8, 1.2), heldout=((0.7, 1.5),), extreme=((1.1, 1.5),), nominal=1.0)
    with pytest.raises(ValueError, match="heldout intervals .* lie inside the train range"):
        ParamSpec("m", train=(0.8, 1.2), heldout=((0.9, 1.2),), extreme=((1.2, 1.5),), nominal=1.0)


def test_per_env_parameters_differ_and_reach_the_simulation(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=64, seed=0)
    env.reset()
    assert len(np.unique(env.params[:, 0])) == 64
    pole = env.backend.model.body("pole").id
    mass = env.backend.batch.expand("body_mass")[:, pole]
    assert np.allclose(mass, cartpole_cfg.pole_mass * env.params[:, env.param_names.index("pole_mass")])


def test_motor_strength_changes_the_dynamics(cartpole_cfg):
    """Same state, same action: a stronger motor accelerates the cart more."""
    weak = make_env(cartpole_cfg, num_envs=1, seed=0, split={"motor_strength": [[0.5, 0.5]]})
    strong = make_env(cartpole_cfg, num_envs=1, seed=0, split={"motor_strength": [[1.5, 1.5]]})
    for env in (weak, strong):
        env.set_split({"motor_strength": env.split["motor_strength"], "action_delay": [[0.0, 0.0]]})
        env.reset()
        for _ in range(5):
            env.step(torch.ones(1, 1))
    assert strong.backend.qvel[0, 0] > 2.5 * weak.backend.qvel[0, 0] > 0


def test_same_seed_same_trajectory(cartpole_cfg):
    def run(seed):
        env = make_env(cartpole_cfg, num_envs=32, seed=seed)
        out = [env.reset()["obs"]]
        gen = torch.Generator().manual_seed(0)
        for _ in range(60):
            obs, rew, *_ = env.step(torch.rand(32, 1, generator=gen) * 2 - 1)
            out += [obs["obs"], rew[:, None]]
        return torch.cat(out, 1), env.params.copy()

    a, pa = run(7)
    b, pb = run(7)
    c, pc = run(8)
    assert torch.equal(a, b) and np.array_equal(pa, pb)
    assert not torch.equal(a, c) and not np.array_equal(pa, pc)


def test_priv_info_is_normalized_on_train_range(cartpole_cfg):
    env = make_env(cartpole_cfg, num_envs=256, seed=0)
    priv = env.reset()["priv_info"][:, : len(env.param_names)]
    assert priv.abs().max() <= 1.0 + 1e-6
    env.set_split("extreme")
    priv = env.reset()["priv_info"][:, : len(env.param_names)]
    assert (priv.abs() > 1.0).all()


def test_angle_bias_offsets_only_the_sensed_angle(cartpole_cfg):
    """The pole-angle sensor reads true angle + bias (+ noise): the bias shifts the observation
    by its value, while the true angle the critic sees is unaffected."""
    def sensed_and_true(bias):
        env = make_env(cartpole_cfg, num_envs=256, seed=3, split={"angle_bias": [[bias, bias]]})
        obs = env.reset()
        return obs["obs"][:, 1].numpy(), obs["critic"][:, 1].numpy()

    sensed0, true0 = sensed_and_true(0.0)
    sensed1, true1 = sensed_and_true(0.12)
    assert np.array_equal(true0, true1)  # same seed: same initial states
    offset = sensed1 - sensed0  # same noise draws too, so the difference is the bias alone
    assert np.allclose(offset, 0.12, atol=1e-6)
    assert np.abs(sensed0 - true0).mean() < 0.02  # no bias: only sensor noise (std 0.01)
