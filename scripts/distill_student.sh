#!/usr/bin/env bash
# Stage two: distill a deployable student from a teacher run.
#   scripts/distill_student.sh teacher=runs/teacher/<run> method=dagger|adapt|sysid [overrides]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} WANDB_MODE=${WANDB_MODE:-disabled}
exec .venv/bin/python -m student.distill "$@"
