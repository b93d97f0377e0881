"""Evaluate policies from run dirs on the same dynamics with the same seeds (paired).

    python -m evaluation.evaluate 'runs=[<run dir>,...]' [overrides]

Splits: the task's named splits (``train``, ``heldout`` and ``extreme`` for apprentice's
tasks; ``splits`` picks some, one episode per env), any named extra
ranges, and a sweep of each randomized parameter alone (the others at nominal). Writes
``report.json``, ``report.md``, ``sweep_<param>.png`` and ``episodes.h5`` to ``out_dir``.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import h5py
import numpy as np
from omegaconf import DictConfig, OmegaConf

from envs import make_env
from envs.registry import tracking_criterion
from runstore.config import compose
from envs.rollout import run_episodes
from evaluation.breakdown import failure_breakdown
from evaluation.config import EvalCfg  # noqa: F401  (registers the schema)
from evaluation.metrics import ci95, combine_seeds, paired_difference, pool_runs, summarize
from evaluation.policies import ZERO_ACTION, load_policies, zero_action
from evaluation.report import markdown, write_report
from runstore.store import CheckpointError, atomic_write_text, file_sha256, load_run_config


# what a student must beat: no privileged training (with or without a history), or no adaptation
BASELINES = ("dr", "robust", "noadapt", ZERO_ACTION)  # ZERO_ACTION: only with zero_action=true


def sweep_values(spec, points: int) -> list[float]:
    """Evenly spaced values over all declared (train, held-out and extreme) values of a parameter."""
    lo = min([spec.train[0]] + [a for a, _ in (*spec.heldout, *spec.extreme)])
    hi = max([spec.train[1]] + [b for _, b in (*spec.heldout, *spec.extreme)])
    if spec.integer:
        return [float(v) for v in range(int(lo), int(hi) + 1)]
    return [float(v) for v in np.linspace(lo, hi, points)]


def check_inputs(cfg: DictConfig) -> tuple[DictConfig, dict, Path]:
    """Everything that can be wrong with an evaluation, found before any episode runs:
    run dirs (each a run, trained on the same task config, none counted twice), splits,
    ranges, sweep parameters and the output dir. Returns (task config, splits, out_dir)."""
    task_cfg, seen, rates = None, {}, {}
    for run in cfg.runs:
        run_cfg = load_run_config(run, "teacher, DR or student")
        if "task" not in run_cfg:
            raise CheckpointError(f"{run}/config.yaml has no task; it is not a run of this project")
        digest = file_sha256(Path(run) / "checkpoints" / "last.pt")
        key = (str(Path(run).resolve()), digest)
        for (path, dig), other in seen.items():
            if path == key[0] or dig == digest:
                raise ValueError(f"{run} and {other} are the same run ({'same dir' if path == key[0] else 'identical checkpoint'}); "
                                 "each run may be counted once (seeds must be separate trainings)")
        seen[key] = run
        stage_two = "teacher" in run_cfg or bool(run_cfg.get("init_from"))  # a student, or a fine-tuned one
        rates[run] = (run_cfg.task.get("resample_prob", 0.0), stage_two)
        if task_cfg is None:
            task_cfg = run_cfg.task
        elif _without_training_rate(run_cfg.task) != _without_training_rate(task_cfg):
            raise ValueError(f"{run} was trained on a different {task_cfg.name} config than {cfg.runs[0]}")
    # the task's own rate of mid-episode resampling: the teachers' and baselines' (students train at their own)
    base = {run: rate for run, (rate, stage_two) in rates.items() if not stage_two} or \
        {run: rate for run, (rate, _) in rates.items()}
    if cfg.resample_prob is None:
        if len(set(base.values())) > 1:
            raise ValueError(f"the runs were trained with different task.resample_prob ({base}); "
                             "pass resample_prob=<rate> to choose the evaluation's (RMA tests at 0.01)")
        if "resample_prob" in task_cfg:
            task_cfg = task_cfg.copy()
            task_cfg.resample_prob = next(iter(base.values()))
    probe = make_env(task_cfg, num_envs=1, resample_prob=cfg.resample_prob)
    named = [s for s in probe.splits if s != "nominal"] if cfg.splits is None else list(cfg.splits)
    missing = [s for s in named if s not in probe.splits]
    if missing:
        raise ValueError(f"splits {missing}: {task_cfg.name} offers the splits {list(probe.splits)}; "
                         "pass splits=[...] with those (or splits=null for all of them)")
    splits = {s: s for s in named}
    splits.update({name: OmegaConf.to_container(r) for name, r in cfg.ranges.items()})
    for name, split in splits.items():
        try:
            probe.set_split(split)
        except (ValueError, TypeError, AttributeError) as err:
            raise ValueError(f"split {name!r}: {err}") from err
    unknown = set(cfg.sweep_params) - set(probe.param_names)
    if cfg.sweep and unknown:
        raise ValueError(f"sweep_params {sorted(unknown)} are not parameters of {task_cfg.name}: {list(probe.param_names)}")
    out_dir = Path(cfg.out_dir or f"runs/eval/{task_cfg.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not cfg.overwrite:
        raise FileExistsError(f"out_dir {out_dir} exists and is not empty; pass overwrite=true to replace "
                              "its report, or another out_dir=")
    return task_cfg, splits, out_dir


def _without_training_rate(task_cfg) -> dict:
    """A task config less its mid-episode resampling rate: a training setting (students and
    fine-tuning may train with their own), which an evaluation sets for every policy alike."""
    return {k: v for k, v in OmegaConf.to_container(task_cfg).items() if k != "resample_prob"}


def remove_stale_temporaries(out_dir: Path) -> None:
    """Drop what killed evaluations into ``out_dir`` left behind (their process is gone)."""
    for tmp in out_dir.parent.glob(f".{out_dir.name}.tmp-*"):
        try:
            os.kill(int(tmp.name.rsplit(".tmp-", 1)[1].split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def evaluate(cfg: DictConfig) -> dict:
    t0 = time.perf_counter()
    task_cfg, splits, out_dir = check_inputs(cfg)
    policies = []
    for run in cfg.runs:
        loaded, _ = load_policies(run, task_cfg.name, cfg.noadapt_envs, cfg.clipped_oracle)
        policies += loaded
    if cfg.zero_action:
        policies.append(zero_action(make_env(task_cfg, num_envs=1).spec.num_actions))
    names = sorted({pol.name for pol in policies})
    if cfg.reference is not None and cfg.reference not in names:
        raise ValueError(f"reference={cfg.reference!r} is not among the policies these runs give ({names}); "
                         "pass one of them, or reference=null")
    privileged = sorted({pol.name for pol in policies if not pol.deployable})
    if cfg.teacher_reference is not None and cfg.teacher_reference not in privileged:
        raise ValueError(f"teacher_reference={cfg.teacher_reference!r} is not among the privileged policies these runs "
                         f"give ({privileged}); pass one of them, or teacher_reference=null")
    report = build_atomically(out_dir, lambda tmp: _evaluate(cfg, task_cfg, splits, policies, tmp, t0))
    cfg.out_dir = str(out_dir)
    return report


def build_atomically(out_dir: Path, build):
    """``build(tmp)`` writes into a hidden temporary dir beside ``out_dir``, renamed into
    place on success: a killed evaluation leaves the old report (or none), never a
    half-written one. Returns what ``build`` returns."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out_dir)
    tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.tmp-{os.getpid()}-"))
    try:
        result = build(tmp)
        if out_dir.exists():  # overwrite (checked by the caller): swap, then drop the old one
            old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
            os.replace(out_dir, old / "report")
            os.replace(tmp, out_dir)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return result


def tables(per_run: dict[tuple[str, str], list[dict]], returns: dict[tuple[str, str], list],
           reference: str | None, teacher_reference: str | None = None) -> tuple[list[dict], list[dict]]:
    """The report's rows and paired comparisons from each (split, policy)'s per-run summaries
    and per-episode returns (runs in seed order): one row per split and policy, its runs
    pooled; each deployable policy against each deployable baseline (and ``reference``), and
    each privileged policy against ``teacher_reference`` (one teacher against another), paired
    by episode and seed."""
    rows = []
    for (split_name, name), runs in per_run.items():
        row = {k: v for k, v in pool_runs(runs).items() if k != "run_dir"}
        rows.append({"policy": name, "split": split_name, **row, **combine_seeds(runs),
                     "run_dirs": [r["run_dir"] for r in runs]})
    comparisons = []

    def compare(split_name: str, name: str, rets: list, baseline: str) -> None:
        other = returns.get((split_name, baseline))
        if baseline != name and other is not None and len(other) == len(rets):
            comparisons.append({"split": split_name, "policy": name, "baseline": baseline,
                                **paired_difference(rets, other)})

    against = BASELINES + ((reference,) if reference and reference not in BASELINES else ())
    for (split_name, name), rets in returns.items():
        if name not in BASELINES and per_run[(split_name, name)][0]["deployable"]:
            for baseline in against:
                compare(split_name, name, rets, baseline)
    if teacher_reference is not None:
        for (split_name, name), rets in returns.items():
            if not per_run[(split_name, name)][0]["deployable"]:
                compare(split_name, name, rets, teacher_reference)
    return rows, comparisons


def _evaluate(cfg: DictConfig, task_cfg, splits: dict, policies: list, out_dir: Path, t0: float) -> dict:
    atomic_write_text(out_dir / "config.yaml", OmegaConf.to_yaml(cfg))
    atomic_write_text(out_dir / "task.yaml", OmegaConf.to_yaml(task_cfg))  # what a merge checks
    per_run: dict[tuple[str, str], list[dict]] = defaultdict(list)
    returns: dict[tuple[str, str], list] = defaultdict(list)
    episodes_file = h5py.File(out_dir / "episodes.h5", "w")
    for split_name, split in splits.items():
        for k, pol in enumerate(policies):
            # a fresh env with the same seed for each policy: the same dynamics and initial states
            env = make_env(task_cfg, num_envs=cfg.episodes, seed=cfg.seed, split=split, nthread=cfg.nthread,
                           resample_prob=cfg.resample_prob)
            records = run_episodes(env, pol.act)
            summary = summarize(records, env.control_dt, env.episode_metric_names, env.max_episode_length,
                                tracking_criterion(task_cfg.name))
            per_run[(split_name, pol.name)].append({**summary, "run_dir": pol.run_dir, "deployable": pol.deployable})
            returns[(split_name, pol.name)].append(records["return"])
            group = episodes_file.create_group(f"{split_name}/{pol.name}_{k}")
            group.attrs.update(run_dir=pol.run_dir, policy=pol.name, deployable=pol.deployable)
            for key, v in records.items():
                group.create_dataset(key, data=v.numpy())
        episodes_file[split_name].attrs["param_names"] = list(env.param_names)
    # what summarizing the episodes again (evaluation/merge.py) needs, without building the task
    probe = make_env(task_cfg, num_envs=1)
    rate = cfg.resample_prob if cfg.resample_prob is not None else task_cfg.get("resample_prob", 0.0)
    episodes_file.attrs.update(control_dt=probe.control_dt, max_episode_length=probe.max_episode_length,
                               episode_metric_names=list(probe.episode_metric_names), seed=cfg.seed,
                               episodes=cfg.episodes, resample_prob=float(rate))
    episodes_file.close()
    breakdown = failure_breakdown(out_dir / "episodes.h5", tracking_criterion(task_cfg.name))
    rows, comparisons = tables(per_run, returns, cfg.reference, cfg.teacher_reference)

    sweeps: dict[str, dict[str, list]] = {}
    train_ranges = {}
    if cfg.sweep:
        specs = probe.param_specs
        for spec in specs:
            if cfg.sweep_params and spec.name not in cfg.sweep_params:
                continue
            train_ranges[spec.name] = spec.train
            values = sweep_values(spec, cfg.sweep_points)
            col = [s.name for s in specs].index(spec.name)
            curves: dict[str, list] = defaultdict(list)
            for pol in policies:
                # every point in one batch: each env draws one of the values (uniformly, the
                # same draws for every policy), about sweep_episodes envs per value
                env = make_env(task_cfg, num_envs=cfg.sweep_episodes * len(values), seed=cfg.seed,
                               split={spec.name: [[v, v] for v in values]}, nthread=cfg.nthread)
                records = run_episodes(env, pol.act)
                for value in values:
                    ret = records["return"][records["params"][:, col] == value].float()
                    mean = ret.mean().item() if len(ret) else float("nan")
                    curves[pol.name].append((value, mean, ci95(ret), len(ret)))
            sweeps[spec.name] = dict(curves)

    videos = {}
    if cfg.video:  # one held-out sample, the same for every policy
        from evaluation.video import render_episode

        for pol in policies:
            if pol.name not in videos:
                videos[pol.name] = render_episode(task_cfg, pol.act, out_dir / f"video_{pol.name}.gif",
                                                  split="heldout", seed=cfg.seed, seconds=cfg.video_seconds)
                videos[pol.name]["path"] = f"video_{pol.name}.gif"  # beside report.json

    report = {"task": task_cfg.name, "tracking_success": tracking_criterion(task_cfg.name),
              "rows": rows, "comparisons": comparisons, "breakdown": breakdown,
              "sweeps": sweeps, "videos": videos,
              "wall_s": time.perf_counter() - t0, "seed": cfg.seed}
    write_report(report, sweeps, train_ranges, out_dir)
    return report


def main(argv: list[str] | None = None) -> None:
    cfg = compose("evaluate", sys.argv[1:] if argv is None else argv)
    report = evaluate(cfg)
    print(markdown(report))
    print(f"report: {cfg.out_dir} ({report['wall_s']:.0f} s)")


if __name__ == "__main__":
    main()
