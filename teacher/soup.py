"""A model soup of fine-tuned students: one policy whose weights are the mean of several
PPO fine-tuning runs from the same DAgger student (Wortsman et al. 2022, "model soups").

    python -m teacher.soup --out <run dir> <fine-tuning run>... [--label soup]

Runs fine-tuned from one start stay in one basin, so their weights average into a network
of the same size and speed as each of them: no ensemble to run on the robot. The members'
``best.pt`` (the policies an evaluation reads) are averaged parameter by parameter, the
input normalizers' statistics too. The soup is written as a fine-tuning run of its own
(read back by the run store like any, evaluated as ``dagger_ppo_<label>``): ``config.yaml``
(the first member's, with the label and this run dir), ``soup.json`` (the members, in
order), ``checkpoints/best.pt`` = ``last.pt`` (the averaged weights; no optimizer: a soup
is not trained on), ``export/`` (ONNX, TorchScript, deploy.json), and ``summary.json``
with the held-out check every teacher run ends with.

Refused before anything is written: fewer than two members, a member that is not a
finished fine-tuning run, members of another task, network or DAgger start, an out dir
that exists.
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch
from omegaconf import open_dict

from envs import make_env
from runstore.store import (CheckpointError, atomic_write_text, load_checkpoint, load_run_config, prepare_run_dir,
                            save_checkpoint, write_summary)
from teacher.config import label_errors
from teacher.finetune import export_finetuned
from teacher.load import CHECKPOINT_KEYS, load_policy
from teacher.train import heldout_check


def start_weights(init_from: str) -> dict:
    """The weights of the DAgger student a member was fine-tuned from."""
    path = Path(init_from) / "checkpoints" / "last.pt"
    if not path.is_file():
        raise CheckpointError(f"{path} does not exist: the DAgger student a member was fine-tuned from is needed "
                              "to check that the members share one start")
    return load_checkpoint(path, stage="student")["model"]


def same_weights(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(v, b[k]) for k, v in a.items())


def read_members(members: list[str]) -> tuple[list, list[dict]]:
    """Each member's config and ``best.pt``, after checking they can be averaged."""
    if len(members) < 2:
        raise ValueError(f"a soup needs at least two fine-tuning runs ({len(members)} given)")
    cfgs, ckpts = [], []
    for m in members:
        if not (Path(m) / "summary.json").is_file():
            raise CheckpointError(f"{m} has no summary.json: not a finished run; soup finished fine-tuning runs")
        cfg = load_run_config(m, "finetune")
        if not cfg.get("init_from"):
            raise CheckpointError(f"{m} is not a fine-tuning run (its config has no init_from): a soup averages "
                                  "PPO fine-tuning runs of one DAgger student (+finetune=dagger)")
        cfgs.append(cfg)
        ckpts.append(load_checkpoint(Path(m) / "checkpoints" / "best.pt", stage="teacher", required=CHECKPOINT_KEYS))
    first, start = members[0], start_weights(cfgs[0].init_from)
    for m, cfg, ckpt in zip(members[1:], cfgs[1:], ckpts[1:]):
        # the same student read from another dir (retrained bit for bit, or moved) is the same start
        same_start = cfg.init_from == cfgs[0].init_from or same_weights(start, start_weights(cfg.init_from))
        for what, a, b, same in (("task", cfgs[0].task.name, cfg.task.name, None),
                                 ("DAgger start (init_from)", cfgs[0].init_from, cfg.init_from, same_start),
                                 ("network (policy config)", ckpts[0]["policy_cfg"], ckpt["policy_cfg"], None),
                                 ("observation layout", ckpts[0]["obs_spec"], ckpt["obs_spec"], None)):
            if not (a == b if same is None else same):
                raise ValueError(f"{m} and {first} differ in their {what} ({b!r} vs {a!r}): a soup averages runs "
                                 "fine-tuned from the same DAgger student with the same network")
    return cfgs, ckpts


def average(models: list[dict]) -> dict:
    """The parameter-by-parameter mean of state dicts (in float64, stored in each tensor's dtype)."""
    out = {}
    for key, value in models[0].items():
        if value.is_floating_point():
            out[key] = (sum(m[key].double() for m in models) / len(models)).to(value.dtype)
        elif all(torch.equal(m[key], value) for m in models):
            out[key] = value.clone()
        else:
            raise ValueError(f"{key} is not a floating-point tensor and differs between members: it cannot be averaged")
    return out


def soup(members: list[str], out: str, label: str = "soup") -> dict:
    bad = label_errors(label)
    if bad:
        raise ValueError(bad[0])
    cfgs, ckpts = read_members(members)
    cfg = copy.deepcopy(cfgs[0])
    with open_dict(cfg):
        cfg.label, cfg.run_dir, cfg.resume = label, str(out), False
    t0 = time.perf_counter()
    run_dir, _ = prepare_run_dir(cfg, "finetune")  # refuses an out dir that holds anything
    atomic_write_text(run_dir / "soup.json", json.dumps({"members": [str(m) for m in members]}, indent=2) + "\n")
    payload = {**ckpts[0], "model": average([c["model"] for c in ckpts]), "optimizer": {},
               "best_return": float("nan"), "soup_of": [str(m) for m in members]}
    for name in ("best.pt", "last.pt"):
        save_checkpoint(run_dir / "checkpoints" / name, payload)
    env = make_env(cfg.task, num_envs=1)
    policy = load_policy(payload, env.spec, cfg.task.name, cfg.policy).eval()
    summary = {"stage": "soup", "task": cfg.task.name, "members": [str(m) for m in members],
               "wall_s": time.perf_counter() - t0,
               **heldout_check({"": policy}, cfg, env.splits),
               "export": export_finetuned(policy, env, run_dir)}
    write_summary(run_dir, summary)
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("members", nargs="+", help="fine-tuning run dirs of one DAgger student")
    parser.add_argument("--out", required=True, help="the soup's run dir (must not exist)")
    parser.add_argument("--label", default="soup", help="names the policy dagger_ppo_<label> in an evaluation")
    args = parser.parse_args(argv)
    summary = soup(args.members, args.out, args.label)
    print(f"soup run: {args.out}")
    print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in summary.items() if k != "export"})


if __name__ == "__main__":
    main()
