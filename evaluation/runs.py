"""Two training configs compared over several training runs each, on the same episodes.

One fine-tuning run per seed varies by about ±12 in held-out return (cartpole), more than
most settings change it, and an episode-paired interval says nothing about that: it covers
the episodes, not the training. Here each config is trained several times from the same
start (e.g. the same teacher and DAgger student, fine-tuning seeds 101, 102, 103) and the
unit is the training run:

    python -m evaluation.runs --evals <seed 0's eval dirs, comma-separated> <seed 1's> ... \\
        --a dagger_ppo_def dagger_ppo_seed101 ... --b dagger_ppo_tc1f dagger_ppo_tc1fseed101 ... --out <stem>

For each seed and position i, run ``a[i]`` and run ``b[i]`` are paired (same seed, same
episodes): each run's mean return over the seed's episodes, the difference b - a, and over
all seeds x positions the mean difference with a Student-t 95% interval (n - 1 degrees of
freedom). A seed's dirs must be provably the same episodes (evaluation.pair's proof: a
shared policy, bit-identical on every split, and the same settings); a policy may be found
in any of them (in several: bit-identical there). Refused before anything is written: the rest.
"""
from __future__ import annotations

import argparse
import json
import math
import statistics
from pathlib import Path

from scipy import stats

from envs.registry import tracking_criterion
from evaluation.merge import read_settings
from evaluation.pair import by_policy, check, same_episodes, split_order


def t_interval(values: list[float]) -> float:
    """Half-width of the Student-t 95% interval of the mean of ``values`` (nan below 2)."""
    n = len(values)
    if n < 2:
        return float("nan")
    return float(stats.t.ppf(0.975, n - 1)) * statistics.stdev(values) / math.sqrt(n)


def seed_episodes(dirs: list[str]) -> tuple[dict, list[str]]:
    """One seed's evaluations as one map (split, policy) -> episodes, after proving that every
    dir holds the same episodes as the first. Returns it and the task config's splits."""
    task = read_settings(dirs[0])[0]
    tracking = tracking_criterion(task["name"])
    maps = [by_policy(d, tracking) for d in dirs]
    splits = split_order(task, {s for s, _ in maps[0]})
    merged = dict(maps[0])
    for d, m in zip(dirs[1:], maps[1:]):
        _, differ = check(dirs[0], d)
        if differ:
            raise ValueError(f"{d} evaluated another task config than {dirs[0]} ({sorted(differ)} differ): "
                             "compare runs of one task config")
        same, shared = same_episodes(merged, m, splits, dirs[0], d)
        for key in m:
            if key[1] in shared and key[1] not in same:
                raise ValueError(f"{key[1]} has other episodes in {d} than in {dirs[0]}: name each run once")
        merged.update(m)
    return merged, splits


def compare(seed_dirs: list[list[str]], a: list[str], b: list[str]) -> dict:
    if len(a) != len(b) or not a:
        raise ValueError(f"--a names {len(a)} runs and --b {len(b)}: give as many of each (run i of --a is paired "
                         "with run i of --b)")
    seeds = [seed_episodes(dirs) for dirs in seed_dirs]
    for (episodes, _), dirs in zip(seeds, seed_dirs):
        missing = [p for p in a + b if not any(q == p for _, q in episodes)]
        if missing:
            raise ValueError(f"{missing} not in {dirs} (it holds {sorted({q for _, q in episodes})})")
    rows = []
    for split in seeds[0][1]:
        runs_a, runs_b = [], []
        for episodes, _ in seeds:
            runs_a += [float(episodes[(split, p)]["return"].mean()) for p in a]
            runs_b += [float(episodes[(split, p)]["return"].mean()) for p in b]
        diffs = [y - x for x, y in zip(runs_a, runs_b)]
        rows.append({"split": split, "runs": len(diffs), "a_mean": statistics.fmean(runs_a),
                     "a_sd": statistics.stdev(runs_a) if len(runs_a) > 1 else float("nan"),
                     "b_mean": statistics.fmean(runs_b),
                     "b_sd": statistics.stdev(runs_b) if len(runs_b) > 1 else float("nan"),
                     "difference": statistics.fmean(diffs), "difference_ci95": t_interval(diffs),
                     "a_runs": runs_a, "b_runs": runs_b})
    return {"a": a, "b": b, "evals": seed_dirs, "rows": rows}


def markdown(table: dict, command: str, note: str | None = None) -> str:
    lines = ["# Two configs over several training runs each, on the same episodes", "", f"Command: `{command}`", "",
             *([note, ""] if note else []),
             f"A: {', '.join(table['a'])}. B: {', '.join(table['b'])}. Each run's return is its mean over the "
             "seed's episodes; run i of A is paired with run i of B on the same seed; the interval is Student-t "
             "over those run pairs (training runs, not episodes).", "",
             "| split | runs | A: mean (sd over runs) | B: mean (sd over runs) | B - A (95%, over runs) |",
             "|---|---|---|---|---|"]
    for r in table["rows"]:
        lines.append(f"| {r['split']} | {r['runs']} | {r['a_mean']:.1f} ({r['a_sd']:.1f}) | {r['b_mean']:.1f} "
                     f"({r['b_sd']:.1f}) | {r['difference']:+.1f} ± {r['difference_ci95']:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", nargs="+", required=True,
                        help="per seed, its evaluation dirs joined by commas (the same episodes)")
    parser.add_argument("--a", nargs="+", required=True, help="config A's runs (policy names)")
    parser.add_argument("--b", nargs="+", required=True, help="config B's runs, paired with --a by position")
    parser.add_argument("--out", required=True, help="writes <out>.json and <out>.md")
    parser.add_argument("--note", default=None, help="how the runs were made, written under the command")
    args = parser.parse_args(argv)
    table = compare([e.split(",") for e in args.evals], args.a, args.b)
    command = " ".join(["python -m evaluation.runs --evals", *args.evals, "--a", *args.a, "--b", *args.b,
                        "--out", args.out])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"note": args.note, **table}, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(table, command, args.note))
    print(markdown(table, command, args.note))


if __name__ == "__main__":
    main()
