#!/usr/bin/env bash
# Sets up .venv (scripts/setup.sh) and runs the test suite. Extra arguments go to pytest.
# The test files are spread over one pytest-xdist worker per core (TEST_WORKERS to choose;
# 0 runs them in this process): most tests start processes, import torch or step small
# batches, so they leave a core idle when run one after another.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export WANDB_MODE=disabled OMP_WAIT_POLICY=PASSIVE MUJOCO_GL=${MUJOCO_GL:-egl}
exec .venv/bin/python -m pytest -q -m "not mjlab" -n "${TEST_WORKERS:-auto}" --dist loadfile "$@"
