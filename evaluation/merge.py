"""Merge evaluations of separate training seeds into one multi-seed report.

    python -m evaluation.merge <eval dir> <eval dir> ... --out <dir> [--reference dagger]
        [--teacher-reference rsl_rl_teacher] [--overwrite]

An evaluation (``evaluation.evaluate``'s ``out_dir``) keeps every episode it ran in
``episodes.h5``. Seeds trained on different machines, or in sessions that do not share
their run dirs, are evaluated one set at a time and merged here into the report one
evaluation of all the runs would give: each policy's runs pooled in the order the dirs
are given (seed i of every policy from the i-th dir that has it), paired differences
seed by seed, the failure breakdown over the merged episodes. Per-parameter sweeps are
not merged (each evaluation keeps its own plots).

Refused before anything is written, naming the dir and the key: a dir that is not such
an evaluation (no ``task.yaml``, or an ``episodes.h5`` from before they were written), a
different task config, evaluation seed, episode count, resampling rate or set of splits,
the same runs' episodes twice, a ``--reference`` no evaluation has, a ``--teacher-reference``
that is not a privileged policy of theirs, and an existing ``--out`` without ``--overwrite``.
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np
import torch
from omegaconf import OmegaConf

from envs.registry import tracking_criterion
from evaluation.breakdown import failure_breakdown
from evaluation.evaluate import build_atomically, tables
from evaluation.metrics import summarize
from evaluation.policies import ZERO_ACTION
from evaluation.report import markdown, write_report
from runstore.store import atomic_write_text

# what every merged evaluation must share (attributes of episodes.h5)
SAME = ("seed", "episodes", "resample_prob", "control_dt", "max_episode_length")


def _group_order(name: str) -> int:
    """Groups are ``<policy>_<k>``, k the policy's place in its evaluation: keep that order."""
    return int(name.rsplit("_", 1)[1])


def read_settings(d: str) -> tuple[dict, dict, list[str], set[str], set[str]]:
    """What an evaluation dir must hold to be merged or paired, read without its episodes:
    (task config, the ``SAME`` attributes of episodes.h5, its splits, its policy names, the
    privileged ones among them). A dir that is not such an evaluation is refused by name."""
    path = Path(d)
    for name in ("task.yaml", "episodes.h5"):
        if not (path / name).is_file():
            raise FileNotFoundError(f"{path / name} does not exist: {d} is not an evaluation out_dir "
                                    "written by this version of evaluation.evaluate (re-run the evaluation)")
    task = OmegaConf.to_container(OmegaConf.load(path / "task.yaml"))
    names, privileged = set(), set()
    with h5py.File(path / "episodes.h5", "r") as f:
        missing = [k for k in (*SAME, "episode_metric_names") if k not in f.attrs]
        if missing:
            raise ValueError(f"{path / 'episodes.h5'} lacks {missing}: it predates merging; re-run its evaluation")
        attrs = {k: f.attrs[k] for k in SAME}
        splits = sorted(f)
        for split in splits:
            for group in f[split]:
                if "policy" not in f[split][group].attrs:
                    raise ValueError(f"{path / 'episodes.h5'}: {split}/{group} does not name its policy; "
                                     "re-run its evaluation")
                names.add(str(f[split][group].attrs["policy"]))
                if not bool(f[split][group].attrs["deployable"]):
                    privileged.add(str(f[split][group].attrs["policy"]))
    return task, attrs, splits, names, privileged


def check_same_settings(d: str, attrs: dict, splits: list[str], first: str, first_attrs: dict,
                        first_splits: list[str], ignore: tuple[str, ...] = ()) -> None:
    """Evaluation ``d`` met the episodes of evaluation ``first``'s settings: the same evaluation seed,
    episode count, resampling rate, control step, episode length and splits (but the ``ignore``d
    ones: a setting a pairing varies on purpose, evaluation.pair --across; ``"splits"`` for
    evaluation.pair, which pairs the splits both ran: each split's episodes are drawn on their own)."""
    for k in (k for k in SAME if k not in ignore):
        if not np.isclose(attrs[k], first_attrs[k]):
            raise ValueError(f"{d} has {k}={attrs[k]} and {first} has {k}={first_attrs[k]}: "
                             "evaluate every seed with the same settings")
    if splits != first_splits and "splits" not in ignore:
        raise ValueError(f"{d} has the splits {splits} and {first} has {first_splits}: "
                         "evaluate every seed on the same splits (splits=...)")


def check_evals(dirs: list[str], out: str, overwrite: bool, reference: str | None = None,
                teacher_reference: str | None = None) -> tuple[dict, dict]:
    """Everything that can be wrong with a merge, found before anything is read in full.
    Returns (the shared task config, the shared episodes.h5 attributes)."""
    if len(dirs) < 2:
        raise ValueError("give at least two evaluation dirs to merge")
    resolved = [Path(d).resolve() for d in dirs]
    for d, r in zip(dirs, resolved):
        if resolved.count(r) > 1:
            raise ValueError(f"{d} is given twice: each evaluation may be merged once")
    task, attrs, splits, names, privileged = None, None, None, set(), set()
    for d in dirs:
        this_task, these, this_splits, these_names, these_privileged = read_settings(d)
        names |= these_names
        privileged |= these_privileged
        if task is None:
            task, attrs, splits = this_task, these, this_splits
            continue
        if this_task != task:
            keys = sorted(k for k in set(task) | set(this_task) if task.get(k) != this_task.get(k))
            raise ValueError(f"{d} evaluated a different task config than {dirs[0]} (keys {keys}); "
                             "merge only evaluations of the same task")
        check_same_settings(d, these, this_splits, dirs[0], attrs, splits)
    if reference is not None and reference not in names:
        raise ValueError(f"--reference {reference!r} is not among the merged policies ({sorted(names)})")
    if teacher_reference is not None and teacher_reference not in privileged:
        raise ValueError(f"--teacher-reference {teacher_reference!r} is not among the merged privileged policies "
                         f"({sorted(privileged)})")
    out_dir = Path(out)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not overwrite:
        raise FileExistsError(f"--out {out_dir} exists and is not empty; pass --overwrite to replace it, or another --out")
    return task, attrs


def merge(dirs: list[str], out: str, reference: str | None = None, overwrite: bool = False,
          teacher_reference: str | None = None) -> dict:
    t0 = time.perf_counter()
    task, attrs = check_evals(dirs, out, overwrite, reference, teacher_reference)
    return build_atomically(Path(out), lambda tmp: _merge(dirs, task, attrs, reference, teacher_reference, tmp, t0))


def _merge(dirs: list[str], task: dict, attrs: dict, reference: str | None, teacher_reference: str | None,
           out_dir: Path, t0: float) -> dict:
    atomic_write_text(out_dir / "task.yaml", OmegaConf.to_yaml(OmegaConf.create(task)))
    per_run: dict[tuple[str, str], list[dict]] = defaultdict(list)
    returns: dict[tuple[str, str], list] = defaultdict(list)
    seen: dict[tuple[str, str], list[tuple[bytes, str]]] = defaultdict(list)
    count: dict[str, int] = defaultdict(int)
    with h5py.File(out_dir / "episodes.h5", "w") as merged:
        for d in dirs:
            with h5py.File(Path(d) / "episodes.h5", "r") as f:
                metric_names = tuple(str(n) for n in f.attrs["episode_metric_names"])
                for split in f:
                    dst = merged.require_group(split)
                    dst.attrs["param_names"] = f[split].attrs["param_names"]
                    for group in sorted(f[split], key=_group_order):
                        g = f[split][group]
                        name = str(g.attrs["policy"])
                        records = {k: torch.from_numpy(np.asarray(g[k])) for k in g}
                        digest = records["return"].numpy().tobytes()
                        for other, where in seen[(split, name)]:
                            if other == digest and name == ZERO_ACTION:
                                raise ValueError(f"{d} and {where} both hold {ZERO_ACTION}, which no training seed "
                                                 f"changes: merge evaluations without it ({ZERO_ACTION}=false) and "
                                                 "pair it once with python -m evaluation.floor")
                            if other == digest:
                                raise ValueError(f"{d} and {where} hold the same episodes of {name} on {split}: "
                                                 "the same run evaluated twice (seeds must be separate trainings)")
                        seen[(split, name)].append((digest, d))
                        summary = summarize(records, float(attrs["control_dt"]), metric_names,
                                            int(attrs["max_episode_length"]), tracking_criterion(task["name"]))
                        per_run[(split, name)].append({**summary, "run_dir": str(g.attrs["run_dir"]),
                                                       "deployable": bool(g.attrs["deployable"])})
                        returns[(split, name)].append(records["return"])
                        f.copy(g, dst, name=f"{name}_{count[split]}")
                        dst[f"{name}_{count[split]}"].attrs["evaluation"] = str(d)
                        count[split] += 1
        merged.attrs.update({**attrs, "episode_metric_names": list(metric_names)})
    rows, comparisons = tables(per_run, returns, reference, teacher_reference)
    report = {"task": task["name"], "tracking_success": tracking_criterion(task["name"]), "rows": rows, "comparisons": comparisons,
              "breakdown": failure_breakdown(out_dir / "episodes.h5", tracking_criterion(task["name"])), "sweeps": {}, "videos": {},
              "wall_s": time.perf_counter() - t0, "seed": int(attrs["seed"]), "merged_from": [str(d) for d in dirs]}
    write_report(report, {}, {}, out_dir)
    return report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("evals", nargs="+", help="evaluation out_dirs, one per training seed (or set of seeds)")
    parser.add_argument("--out", required=True, help="the merged report's dir")
    parser.add_argument("--reference", default=None, help="a policy every other deployable one is also compared with")
    parser.add_argument("--teacher-reference", default=None,
                        help="a privileged policy every other privileged one (the oracle) is compared with")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing report in --out")
    args = parser.parse_args(argv)
    report = merge(args.evals, args.out, args.reference, args.overwrite, args.teacher_reference)
    print(markdown(report))
    print(f"merged report: {args.out}")


if __name__ == "__main__":
    main()
