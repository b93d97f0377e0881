#!/usr/bin/env bash
# Sets up .venv (scripts/setup.sh) and runs the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WANDB_MODE=disabled OMP_WAIT_POLICY=PASSIVE MUJOCO_GL=${MUJOCO_GL:-egl}
exec .venv/bin/python -m pytest -q -m "not mjlab" "$@"
