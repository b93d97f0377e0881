#!/usr/bin/env bash
# The cartpole held-out result over several training seeds (issue #5's targets): for each
# seed a teacher, a DR baseline, both students and the SysID baseline, then one paired evaluation of all of
# them. Copies report.json / report.md to benchmarks/results/heldout_cartpole.{json,md}.
#   bash benchmarks/heldout_cartpole.sh [seeds...]        (default: 0 1 2)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} WANDB_MODE=${WANDB_MODE:-disabled} PYTHONUNBUFFERED=1
SEEDS=${*:-0 1 2}
RUNS=${RUNS:-runs/heldout-cartpole-$(date +%Y%m%d-%H%M%S)}
PY=.venv/bin/python
Q="log.progress=false log.print_every=50 log.tensorboard=false"
ALL=()
for s in $SEEDS; do
  echo "== seed $s"
  $PY -m teacher.train seed=$s run_dir="$RUNS/s$s/teacher" $Q | tail -1
  $PY -m teacher.train seed=$s run_dir="$RUNS/s$s/dr" policy.actor_input=history $Q | tail -1
  for m in dagger adapt sysid; do
    $PY -m student.distill seed=$s teacher="$RUNS/s$s/teacher" method=$m run_dir="$RUNS/s$s/$m" $Q export=false | tail -1
  done
  ALL+=("$RUNS/s$s/teacher" "$RUNS/s$s/dr" "$RUNS/s$s/dagger" "$RUNS/s$s/adapt" "$RUNS/s$s/sysid")
done
LIST=$(IFS=,; echo "${ALL[*]}")
$PY -m evaluation.evaluate "runs=[$LIST]" out_dir="$RUNS/eval" sweep=false
cp "$RUNS/eval/report.json" benchmarks/results/heldout_cartpole.json
cp "$RUNS/eval/report.md" benchmarks/results/heldout_cartpole.md
echo "wrote benchmarks/results/heldout_cartpole.{json,md} from $RUNS"
