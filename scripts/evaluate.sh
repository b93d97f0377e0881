#!/usr/bin/env bash
# Evaluate policies on train and held-out dynamics (paired seeds) and write a report:
#   scripts/evaluate.sh 'runs=[runs/teacher/a,runs/dr/b,runs/student_dagger/c,runs/student_adapt/d]' out_dir=runs/eval/x
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} WANDB_MODE=${WANDB_MODE:-disabled} MUJOCO_GL=${MUJOCO_GL:-egl}
exec .venv/bin/python -m evaluation.evaluate "$@"
