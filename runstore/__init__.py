"""The run store: how every stage's runs are configured, written, validated and read.

- ``runstore.config``: hydra composition onto typed schemas, validated before any work;
- ``runstore.store``: run dirs, code version, atomic writes, safe checkpoints, resume rules;
- ``runstore.logger``: console, ``metrics.jsonl``, TensorBoard and (opt-in) wandb.

Every stage imports this package; no stage imports another stage's training loop. A run
written by any trainer (apprentice's own, rl_games, rsl_rl) has the same layout, so the
next stage reads it the same way.
"""
