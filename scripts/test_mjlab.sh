#!/usr/bin/env bash
# mjlab's tasks through apprentice (tests/test_mjlab.py), in mjlab's own venv (scripts/setup_mjlab.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
export APPRENTICE_MJLAB_PYTHON=$(bash scripts/setup_mjlab.sh)
export WANDB_MODE=disabled OMP_WAIT_POLICY=PASSIVE
exec .venv/bin/python -m pytest -q -m mjlab tests/test_mjlab.py "$@"
