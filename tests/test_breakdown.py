"""The per-parameter failure breakdown, checked on a hand-made episodes.h5."""
import h5py
import numpy as np
import pytest

from evaluation.breakdown import breakdown_markdown, failure_breakdown


def write(path, at_end: bool = False):
    """at_end: the parameters go to ``params_end`` and ``params`` (at the reset) holds a
    constant that must be ignored, as under mid-episode resampling."""
    with h5py.File(path, "w") as f:
        f.create_group("heldout").attrs["param_names"] = ["mass", "delay", "fixed"]
        # two seeds of the oracle: pooled; mass median 2.5, delay (integer) median 1
        runs = {"oracle_0": ([[1, 0, 5], [2, 1, 5], [3, 1, 5], [4, 2, 5]], [0, 0, 1, 1], [10, 20, 30, 40]),
                "oracle_1": ([[1.5, 0, 5], [3.5, 2, 5]], [0, 1], [12, 36]),
                "dr_0": ([[1, 0, 5], [2, 1, 5], [3, 1, 5], [4, 2, 5]], [1, 0, 0, 0], [1, 2, 3, 4])}
        for name, (params, term, ret) in runs.items():
            g = f.create_group(f"heldout/{name}")
            if at_end:
                g.create_dataset("params_end", data=np.array(params, float))
                g.create_dataset("params", data=np.full((len(params), 3), 7.0))
            else:
                g.create_dataset("params", data=np.array(params, float))
            g.create_dataset("terminated", data=np.array(term, bool))
            g.create_dataset("return", data=np.array(ret, np.float32))


@pytest.mark.parametrize("at_end", [False, True])
def test_breakdown_by_hand(tmp_path, at_end):
    write(tmp_path / "episodes.h5", at_end)
    b = failure_breakdown(tmp_path / "episodes.h5")
    oracle = {r["param"]: r for r in b["heldout"]["oracle"]}
    assert set(oracle) == {"mass", "delay"}  # 'fixed' never varies
    # mass over 6 pooled episodes: 1, 2, 3, 4, 1.5, 3.5 -> median 2.5
    m = oracle["mass"]
    assert m["median"] == 2.5 and (m["low_episodes"], m["high_episodes"]) == (3, 3)
    assert m["low_success"] == 1.0 and m["high_success"] == 0.0  # every heavy episode failed
    assert m["low_return"] == pytest.approx((10 + 20 + 12) / 3) and m["high_return"] == pytest.approx((30 + 40 + 36) / 3)
    # delay: 0, 1, 1, 2, 0, 2 -> median 1; integer: low = {0} (2 episodes), high = {1, 2} (4 episodes)
    d = oracle["delay"]
    assert (d["low_episodes"], d["high_episodes"]) == (2, 4)
    assert d["low_success"] == 1.0 and d["high_success"] == pytest.approx(1 / 4)  # only (2, delay 1) succeeded
    dr = {r["param"]: r for r in b["heldout"]["dr"]}
    assert dr["mass"]["low_success"] == 0.5 and dr["mass"]["high_success"] == 1.0
    md = "\n".join(breakdown_markdown(b, lambda p: p))  # columns in name order: dr, oracle
    assert "| parameter | median | dr | oracle |" in md
    assert "| mass | 2.5 | 0.50 / 1.00 | 1.00 / 0.00 |" in md and "| delay | 1 | 0.00 / 1.00 | 1.00 / 0.25 |" in md


def test_a_task_without_parameters_has_no_breakdown(tmp_path):
    with h5py.File(tmp_path / "e.h5", "w") as f:
        f.create_group("train").attrs["param_names"] = []
        g = f.create_group("train/oracle_0")
        g.create_dataset("params", data=np.zeros((4, 0)))
        g.create_dataset("terminated", data=np.zeros(4, bool))
        g.create_dataset("return", data=np.ones(4, np.float32))
    b = failure_breakdown(tmp_path / "e.h5")
    assert b == {"train": {}} and breakdown_markdown(b, lambda p: p) == []


def test_tracking_success_by_parameter_by_hand(tmp_path):
    """With a tracking criterion (metric, limit) each half also gets its tracking success:
    episodes that did not fail and whose mean error was within the limit."""
    write(tmp_path / "episodes.h5")
    errors = {"oracle_0": [0.1, 0.9, 0.2, 0.1], "oracle_1": [0.3, 0.1], "dr_0": [0.1, 0.1, 0.6, 0.1]}
    with h5py.File(tmp_path / "episodes.h5", "a") as f:
        for name, err in errors.items():
            f[f"heldout/{name}"].create_dataset("err", data=np.array(err, np.float32))
    b = failure_breakdown(tmp_path / "episodes.h5", tracking=("err", 0.25))
    mass = {p: {r["param"]: r for r in rows}["mass"] for p, rows in b["heldout"].items()}
    # oracle, light half (masses 1, 2, 1.5): none failed; errors 0.1, 0.9, 0.3 -> one tracked
    assert mass["oracle"]["low_tracking"] == pytest.approx(1 / 3) and mass["oracle"]["low_success"] == 1.0
    # heavy half (3, 4, 3.5): all failed, so none tracked even at error 0.1-0.2
    assert mass["oracle"]["high_tracking"] == 0.0
    # dr: light (1, 2) failed then tracked -> 1/2; heavy (3, 4): 0.6 over the limit, 0.1 within -> 1/2
    assert mass["dr"]["low_tracking"] == 0.5 and mass["dr"]["high_tracking"] == 0.5
    md = "\n".join(breakdown_markdown(b, lambda p: p))
    assert "### Failures by parameter: heldout" in md and "### Tracking by parameter: heldout" in md
    assert "| mass | 2.5 | 0.50 / 0.50 | 0.33 / 0.00 |" in md
    assert "Tracking by parameter" not in "\n".join(breakdown_markdown(failure_breakdown(tmp_path / "episodes.h5"),
                                                                         lambda p: p))
