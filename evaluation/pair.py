"""Policies of one set of evaluations paired with a policy of another, on the same episodes.

An ablation trained after a table was made (a new fine-tuning setting, a longer history) is
evaluated with the table's evaluation seed and settings, beside one policy the table already
has (e.g. the seed's teacher, retrained bit for bit or read from the same run). Its episodes
are then the table's, and each new policy's return can be paired, seed by seed, with a policy
of the table, without evaluating the table's policies again:

    python -m evaluation.pair --base <table's seed evals>... --new <new seed evals>... \\
        --policy dagger_ppo_ent0 [more...] [--against dagger_ppo] [--via <seed evals>...]... \\
        [--alias oracle=oracle_it300] --out <file stem>

``--base`` and ``--new`` are per-seed evaluation dirs in the same seed order; ``--against``
(default: each ``--policy``'s own name) is the base policy each new one is paired with. On a
task with a tracking criterion (Go2) tracking success is paired too, episode by episode. A
seed's one evaluation holding both policies is given as its own base and new.
The pairing is proven, not assumed: the two evaluations of a seed must share a policy name
whose episodes are bit-identical on every split, and have the same evaluation seed, episode
count, resampling rate, control step and episode length; the splits they all have are paired
(each split's episodes are drawn on their own, whatever other splits an evaluation ran).
Where they share no such policy (the new runs were evaluated beside a policy that was itself
evaluated later than the table), each ``--via`` (one evaluation dir per seed, repeatable, in
chain order) is a link between them: every
consecutive pair base -> via... -> new must share such a policy and such settings, so the
episodes are the same by a chain of proofs, each written beside the table. ``--alias BASE=NEW``
lets a link be proven by one policy under two names (a teacher retrained bit for bit under
another label), written ``BASE=NEW`` in the proof. Task configs of the same task may differ
(an ablation of a task key, such as ``history_len``): the keys that differ are written beside
the table. ``--across resample_prob`` pairs evaluations that differ in that setting on purpose
(the same runs evaluated with and without mid-episode resampling: the difference is its effect).
Their episodes cannot have bit-identical returns, so the proof is then the dynamics each episode
starts with (``params``), bit-identical for a shared policy on every split, with every other
setting the same. Refused before anything is written: anything else.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import numpy as np
import torch

from envs.registry import tracking_criterion
from evaluation.floor import rates, read
from evaluation.merge import check_same_settings, read_settings
from evaluation.metrics import paired_difference

# settings a pairing may vary on purpose (--across): the episodes still start alike
ACROSS = ("resample_prob",)


def by_policy(eval_dir: str, tracking, starts: bool = False) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """(split, policy) -> its episodes (``evaluation.floor.read``); with ``starts`` also the dynamics
    each episode started with (``params``)."""
    out = {}
    for (split, policy, _), episodes in read(eval_dir, tracking, ("params",) if starts else ()).items():
        if (split, policy) in out:
            raise ValueError(f"{eval_dir} holds {policy} twice on {split}: pair one seed's evaluation with one "
                             "seed's (not a merged report)")
        out[(split, policy)] = episodes
    return out


def same_episodes(base: dict, new: dict, splits: list[str], base_dir: str, new_dir: str,
                  aliases: dict[str, str] | None = None, proof: str = "return") -> tuple[list[str], list[str]]:
    """The proof that two evaluations (``by_policy`` maps) met the same episodes: the policy names
    they share whose returns are bit-identical on every split. ``aliases`` (base name -> new name)
    add pairs of names one policy has in the two (a run retrained bit for bit under another label),
    written ``base=new``. ``proof="params"``: the dynamics the episodes started with are compared
    instead of the returns (the evaluations differ on purpose, ``--across``). Returns (those, every
    shared name or alias); refuses when there is none."""
    names_b, names_n = {p for _, p in base}, {p for _, p in new}
    pairs = [(p, p) for p in sorted(names_b & names_n)]
    pairs += [(a, z) for a, z in (aliases or {}).items() if a in names_b and z in names_n and a != z]
    shared = [a if a == z else f"{a}={z}" for a, z in pairs]
    same = [name for name, (a, z) in zip(shared, pairs)
            if all(np.array_equal(base[(s, a)][proof], new[(s, z)][proof]) for s in splits)]
    if not same:
        what = "episodes" if proof == "return" else "starting dynamics (params)"
        raise ValueError(f"{new_dir} and {base_dir} share no policy with bit-identical {what} (shared names: "
                         f"{shared}): not provably the same episodes, so no pairing; evaluate the new runs beside "
                         "one of the base seed's policies (e.g. its teacher), with the base evaluation's settings, or "
                         "link them through evaluations that share such a policy with each (evaluation.pair "
                         "--via, --alias; zero_action=true adds one that no training changes: an evaluation "
                         "holding it beside a base seed's policy links any evaluation with the same settings "
                         "that holds it too)")
    return same, shared


def split_order(task: dict, splits: set[str]) -> list[str]:
    """``splits`` in the task config's order (train, heldout, extreme), any others after them by name."""
    order = list(next(iter((task.get("randomization") or {}).values()), {}))
    return sorted(splits, key=lambda s: (order.index(s) if s in order else len(order), s))


def check(base_dir: str, new_dir: str, across: str | None = None, any_splits: bool = False) -> tuple[dict, dict]:
    """The settings two evaluations of a seed must share (all but ``across``; the splits too unless
    ``any_splits``, for a pairing of the splits both ran). Returns (the base task config, the task
    keys whose values differ: key -> [base, new], and ``across``'s values under its name when given)."""
    base_task, base_attrs, base_splits, _, _ = read_settings(base_dir)
    new_task, new_attrs, new_splits, _, _ = read_settings(new_dir)
    if base_task["name"] != new_task["name"]:
        raise ValueError(f"{new_dir} evaluated task {new_task['name']!r} and {base_dir} {base_task['name']!r}")
    check_same_settings(new_dir, new_attrs, new_splits, base_dir, base_attrs, base_splits,
                        ignore=(*(("splits",) if any_splits else ()), *((across,) if across else ())))
    differ = {k: [base_task.get(k), new_task.get(k)] for k in sorted(set(base_task) | set(new_task))
              if base_task.get(k) != new_task.get(k)}
    if across:
        differ[f"evaluation {across}"] = [float(base_attrs[across]), float(new_attrs[across])]
    return base_task, differ


def paired_tracking(news: list[dict], bases: list[dict]) -> dict:
    """Where the task has a tracking criterion: the paired difference of tracking success (each
    episode 1 or 0), new minus base, seed i with seed i; else nothing."""
    if "tracked" not in news[0]:
        return {}
    diff = paired_difference([torch.from_numpy(e["tracked"].astype(np.float32)) for e in news],
                             [torch.from_numpy(e["tracked"].astype(np.float32)) for e in bases])
    return {"tracking_difference": diff["diff_mean"], "tracking_difference_ci95": diff["diff_ci95"]}


def pair_table(base_dirs: list[str], new_dirs: list[str], policies: list[str], against: str | None = None,
               via: list[list[str]] | None = None, aliases: dict[str, str] | None = None,
               across: str | None = None) -> dict:
    """The paired table; ``via``: links between base and new, each one evaluation dir per seed;
    ``aliases``: as in ``same_episodes``, on every link; ``across``: the one setting of ``ACROSS``
    base and new may differ in, the proof then being the episodes' starting dynamics.
    ``proven_by``: for each seed, each link's bit-identical policies (one link without ``via``)."""
    via = via or []
    if across is not None and across not in ACROSS:
        raise ValueError(f"--across {across!r}: a pairing may vary only {list(ACROSS)} (the others change which "
                         "episodes are run)")
    if across is not None and via:
        raise ValueError("--across with --via: evaluate the runs beside a shared policy instead, so that one link "
                         "proves the same starting dynamics")
    for i, link in enumerate(via, 1):
        if len(link) != len(base_dirs):
            raise ValueError(f"--via number {i} has {len(link)} evaluations and --base {len(base_dirs)}: give one per "
                             "seed, in the same seed order")
    if len(base_dirs) != len(new_dirs) or not base_dirs:
        raise ValueError(f"--base has {len(base_dirs)} evaluations and --new {len(new_dirs)}: give one of each per "
                         "seed, in the same seed order")
    chains = [[b, *(link[i] for link in via), n] for i, (b, n) in enumerate(zip(base_dirs, new_dirs))]
    checked = [check(b, n, across, any_splits=True) for b, n in zip(base_dirs, new_dirs)]
    for chain in chains if via else []:  # a chain's every link's settings too, before any episode is read
        for a, z in zip(chain, chain[1:]):
            check(a, z, any_splits=True)
    tracking = tracking_criterion(checked[0][0]["name"])
    base = [by_policy(d, tracking, starts=across is not None) for d in base_dirs]
    new = [by_policy(d, tracking, starts=across is not None) for d in new_dirs]
    links = [[by_policy(d, tracking) for d in chain[1:-1]] for chain in chains]
    splits = split_order(checked[0][0], set.intersection(*({split for split, _ in m}
                                                            for m in (*base, *new, *sum(links, [])))))
    if not splits:
        raise ValueError(f"--base, --new and --via share no split (--base {sorted({s for s, _ in base[0]})}, --new "
                         f"{sorted({s for s, _ in new[0]})}): evaluate the new runs on the base's splits (splits=...)")
    proofs = []
    for chain, b, link, n, bd, nd in zip(chains, base, links, new, base_dirs, new_dirs):
        maps = [b, *link, n]
        proofs.append([same_episodes(x, y, splits, xd, yd, aliases, "params" if across else "return")[0]
                       for x, y, xd, yd in zip(maps, maps[1:], chain, chain[1:])])
        for p in policies:
            if (splits[0], p) not in n:
                raise ValueError(f"--policy {p!r} is not in {nd} ({sorted({q for _, q in n})})")
            if (splits[0], against or p) not in b:
                raise ValueError(f"--against {against or p!r} is not in {bd} ({sorted({q for _, q in b})})")
    rows = []
    for split in splits:
        for p in policies:
            a = against or p
            news, bases = [n[(split, p)] for n in new], [b[(split, a)] for b in base]
            diff = paired_difference([torch.from_numpy(e["return"]) for e in news],
                                     [torch.from_numpy(e["return"]) for e in bases])
            rows.append({"split": split, "policy": p, "against": a, "seeds": len(news),
                         "return_mean": statistics.fmean(float(e["return"].mean()) for e in news),
                         "against_return_mean": statistics.fmean(float(e["return"].mean()) for e in bases),
                         **{k: statistics.fmean(rates(e)[k] for e in news) for k in rates(news[0])},
                         **{f"against_{k}": statistics.fmean(rates(e)[k] for e in bases) for k in rates(bases[0])},
                         "difference": diff["diff_mean"], "difference_ci95": diff["diff_ci95"], "pairs": diff["pairs"],
                         **paired_tracking(news, bases)})
    return {"rows": rows, "proven_by": proofs, "task_differences": [differ for _, differ in checked], "across": across}


def markdown(table: dict, command: str, note: str | None = None) -> str:
    lines = ["# New policies paired with a table's policy, on the same episodes", "", f"Command: `{command}`", "",
             *([note, ""] if note else []),
             "Returns and success are means over seeds; the difference is paired by episode, seed i of the new "
             "policy with seed i of the base one (95% interval). "
             + (f"The evaluations differ in `{table['across']}` on purpose (`--across`): the difference is its "
                "effect. Same episodes at the start, proven by policies whose episodes start from bit-identical "
                "dynamics in both evaluations, by seed: " if table.get("across") else
                "Same episodes, proven by policies whose episodes are bit-identical in both evaluations, by seed: ")
             + "; ".join(" then ".join(", ".join(link) for link in seed) for seed in table["proven_by"]) + "."]
    if any(len(seed) > 1 or any("=" in name for link in seed for name in link) for seed in table["proven_by"]):
        lines += ["", "Proven through a chain of evaluations (`--via`): each link's policies are bit-identical in "
                  "the two evaluations it joins, base first (`a=b`: one policy named a on the link's base side and b "
                  "on its other, `--alias`)."]
    differ = {k: v for d in table["task_differences"] for k, v in d.items()}
    if differ:
        lines += ["", "Task keys that differ (base -> new): "
                  + ", ".join(f"`{k}` {v[0]} -> {v[1]}" for k, v in differ.items()) + "."]
    tracking = "tracking_difference" in table["rows"][0]
    for split in dict.fromkeys(r["split"] for r in table["rows"]):
        lines += ["", f"## Split: {split}", "", "| policy | against | seeds | return | against's | success | "
                  "against's | difference (paired) |"
                  + (" tracking success | against's | difference (paired) |" if tracking else ""),
                  "|---|---|---|---|---|---|---|---|" + ("---|---|---|" if tracking else "")]
        for r in (r for r in table["rows"] if r["split"] == split):
            lines.append(f"| {r['policy']} | {r['against']} | {r['seeds']} | {r['return_mean']:.1f} | "
                         f"{r['against_return_mean']:.1f} | {r['success_rate']:.3f} | {r['against_success_rate']:.3f} | "
                         f"{r['difference']:+.1f} ± {r['difference_ci95']:.1f} |"
                         + (f" {r['tracking_success_rate']:.3f} | {r['against_tracking_success_rate']:.3f} | "
                            f"{r['tracking_difference']:+.3f} ± {r['tracking_difference_ci95']:.3f} |" if tracking else ""))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", nargs="+", required=True, help="the table's per-seed evaluation dirs")
    parser.add_argument("--new", nargs="+", required=True, help="the new runs' per-seed evaluation dirs, same order")
    parser.add_argument("--policy", nargs="+", required=True, help="policies of --new to pair")
    parser.add_argument("--against", default=None, help="the base policy they are paired with (default: the same name)")
    parser.add_argument("--out", required=True, help="writes <out>.json and <out>.md")
    parser.add_argument("--via", nargs="+", action="append", default=[],
                        help="an evaluation per seed linking --base to --new by shared bit-identical policies "
                             "(repeat for a longer chain, base side first)")
    parser.add_argument("--alias", nargs="+", default=[], metavar="BASE=NEW",
                        help="a policy named BASE on a link's base side is NEW on its other side (retrained bit for "
                             "bit under another label): bit-identical episodes under the two names prove the link")
    parser.add_argument("--across", default=None, choices=ACROSS,
                        help="the one setting --base and --new differ in on purpose (e.g. the same runs evaluated "
                             "without and with mid-episode resampling): the pairing is then proven by the episodes' "
                             "starting dynamics")
    parser.add_argument("--note", default=None, help="how the new runs were made, written under the command")
    args = parser.parse_args(argv)
    bad = [a for a in args.alias if a.count("=") != 1 or "" in a.split("=")]
    if bad:
        parser.error(f"--alias {bad[0]!r}: write BASE=NEW, two policy names, e.g. oracle=oracle_it300")
    aliases = dict(a.split("=") for a in args.alias)
    table = pair_table(args.base, args.new, args.policy, args.against, args.via, aliases, args.across)
    command = " ".join(["python -m evaluation.pair --base", *args.base, "--new", *args.new, "--policy", *args.policy,
                        *(["--against", args.against] if args.against else []),
                        *(w for link in args.via for w in ("--via", *link)),
                        *(["--alias", *args.alias] if args.alias else []),
                        *(["--across", args.across] if args.across else []), "--out", args.out])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"base": args.base, "new": args.new, "via": args.via, "alias": aliases,
                                                    "note": args.note, **table},
                                                   indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown(table, command, args.note))
    print(markdown(table, command, args.note))


if __name__ == "__main__":
    main()
