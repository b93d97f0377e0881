"""Every policy of a multi-seed held-out table beside the do-nothing policy, on the same episodes.

The policy that always acts 0 (``evaluation.evaluate zero_action=true``; on Go2 it stands at
the default pose) does not depend on a training seed. Every seed of a table is evaluated with
the same evaluation seed and settings, so it meets the same episodes, and the do-nothing
policy's returns are one vector per split. This pairs each policy's episodes, seed by seed,
with that vector: how far a trained policy is above the floor, with the paired 95% interval.

    python -m evaluation.floor <eval dir with zero_action> <seed eval dir>... --out <file stem>

The evaluation with ``zero_action`` must also hold a policy of one of the seeds (e.g. that
seed's teacher, ``runs=[<teacher>] zero_action=true``): its episodes must equal the seed's
bit for bit, which proves the pairing. Refused before anything is written: different task
configs or settings (evaluation.merge's checks), no shared policy, or a shared one whose
episodes differ.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import h5py
import numpy as np
import torch
from omegaconf import OmegaConf

from envs.registry import tracking_criterion
from evaluation.merge import check_evals
from evaluation.metrics import paired_difference
from evaluation.policies import ZERO_ACTION as FLOOR


def read(eval_dir: str, tracking: tuple[str, float] | None = None,
         extra: tuple[str, ...] = ()) -> dict[tuple[str, str, str], dict[str, np.ndarray]]:
    """(split, policy, run dir) -> its episodes' return and termination flags, the ``extra``
    datasets asked for (e.g. ``params``), and with the task's ``tracking`` criterion (metric,
    limit) whether each episode was a tracking success."""
    out = {}
    with h5py.File(Path(eval_dir) / "episodes.h5", "r") as f:
        for split in f:
            for group in f[split].values():
                key = (split, str(group.attrs["policy"]), str(group.attrs["run_dir"]))
                out[key] = {name: group[name][()] for name in ("return", "terminated", *extra)}
                if tracking is not None:
                    out[key]["tracked"] = ~out[key]["terminated"].astype(bool) & (group[tracking[0]][()] <= tracking[1])
    return out


def rates(episodes: dict[str, np.ndarray]) -> dict:
    """Success (did not fail) and, where the task has one, tracking success: episode means."""
    out = {"success_rate": 1.0 - float(episodes["terminated"].mean())}
    if "tracked" in episodes:
        out["tracking_success_rate"] = float(episodes["tracked"].mean())
    return out


def floor_table(zero_dir: str, seed_dirs: list[str]) -> list[dict]:
    tracking = tracking_criterion(OmegaConf.load(Path(zero_dir) / "task.yaml").name)
    zero = read(zero_dir, tracking)
    floor = {split: eps for (split, policy, _), eps in zero.items() if policy == FLOOR}
    if not floor:
        raise ValueError(f"{zero_dir} holds no {FLOOR!r} episodes: evaluate with zero_action=true")
    seeds = [read(d, tracking) for d in seed_dirs]
    shared = [(key, i) for i, eps in enumerate(seeds) for key in eps if key in zero]
    if not shared:
        raise ValueError(f"{zero_dir} shares no policy run with {seed_dirs}: evaluate one seed's teacher with "
                         "zero_action=true, so that the pairing can be checked")
    for key, i in shared:
        if not np.array_equal(zero[key]["return"], seeds[i][key]["return"]):
            raise ValueError(f"{key[1]} of {key[2]} on {key[0]} has other episodes in {zero_dir} than in "
                             f"{seed_dirs[i]}: not the same episodes, so no pairing")
    by_policy: dict[tuple[str, str], list[dict]] = {}
    for eps in seeds:
        for (split, policy, _), e in eps.items():
            by_policy.setdefault((split, policy), []).append(e)
    rows = []
    for (split, policy), runs in sorted(by_policy.items()):
        if policy == FLOOR or split not in floor:
            continue
        diff = paired_difference([torch.from_numpy(r["return"]) for r in runs],
                                 [torch.from_numpy(floor[split]["return"])] * len(runs))
        rows.append({"split": split, "policy": policy, "seeds": len(runs),
                     "return_mean": statistics.fmean(float(r["return"].mean()) for r in runs),
                     **{k: statistics.fmean(rates(r)[k] for r in runs) for k in rates(runs[0])},
                     "minus_floor": diff["diff_mean"], "minus_floor_ci95": diff["diff_ci95"], "pairs": diff["pairs"]})
    for split, e in sorted(floor.items()):
        rows.append({"split": split, "policy": FLOOR, "seeds": 0, "return_mean": float(e["return"].mean()),
                     **rates(e), "minus_floor": 0.0,
                     "minus_floor_ci95": 0.0, "pairs": int(e["return"].size)})
    return rows


def markdown(rows: list[dict], command: str) -> str:
    lines = ["# Every policy beside the do-nothing policy (zero_action), on the same episodes", "",
             f"Command: `{command}`", "",
             "Return and success are means over the seeds; the difference to zero_action is paired by "
             "episode, seed by seed (95% interval).", ""]
    tracking = any("tracking_success_rate" in r for r in rows)
    if tracking:
        lines += ["Tracking success: the episode did not fail and tracked its commands (the task's "
                  "`tracking_success`, as in the evaluation's report).", ""]
    for split in dict.fromkeys(r["split"] for r in rows):
        lines += [f"## Split: {split}", "", "| policy | seeds | return | success | "
                  + ("tracking success | " if tracking else "") + "- zero_action (paired) |",
                  "|---|---|---|---|" + "---|" * tracking + "---|"]
        for r in (r for r in rows if r["split"] == split):
            diff = "" if r["policy"] == FLOOR else f"{r['minus_floor']:+.2f} ± {r['minus_floor_ci95']:.2f}"
            seeds = "none (no training)" if r["policy"] == FLOOR else r["seeds"]
            track = f"{r['tracking_success_rate']:.2f} | " if tracking else ""
            lines.append(f"| {r['policy']} | {seeds} | {r['return_mean']:.2f} | {r['success_rate']:.2f} | {track}{diff} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("zero_eval", help="an evaluation dir with zero_action and one seed's policy")
    parser.add_argument("seed_evals", nargs="+", help="the table's per-seed evaluation dirs, in seed order")
    parser.add_argument("--out", required=True, help="writes <out>.json and <out>.md")
    args = parser.parse_args(argv)
    check_evals([args.zero_eval, *args.seed_evals], args.out, overwrite=True)  # the same task, settings, splits
    rows = floor_table(args.zero_eval, args.seed_evals)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "python -m evaluation.floor " + " ".join([args.zero_eval, *args.seed_evals, "--out", args.out])
    out.with_suffix(".json").write_text(json.dumps({"zero_eval": args.zero_eval, "seed_evals": args.seed_evals,
                                                    "rows": rows}, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(rows, command))
    print(markdown(rows, command))


if __name__ == "__main__":
    main()
