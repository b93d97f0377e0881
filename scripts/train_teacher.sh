#!/usr/bin/env bash
# Stage one: train the PPO teacher on the default task (cartpole). Hydra overrides pass
# through, e.g.  scripts/train_teacher.sh ppo.objective=kl run_dir=runs/teacher_kl
# The DR baseline is the same trainer with a history actor:  scripts/train_teacher.sh policy.actor_input=history
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} WANDB_MODE=${WANDB_MODE:-disabled}
exec .venv/bin/python -m teacher.train "$@"
