#!/usr/bin/env bash
# The multi-seed held-out table of one task (issue #11's protocol): for each training seed a
# teacher, the DR and Robust baselines, the DAgger, adaptation-module (MLP and TCN history
# encoders, the same budget) and SysID students, then one paired evaluation of all of them on
# the train, heldout (calibrated) and extreme splits, with the dynamics resampled within
# episodes at RMA's test rate. Called by heldout_<task>.sh; copies report.{json,md} to
# benchmarks/results/heldout_<task>.{json,md}.
#   bash benchmarks/heldout.sh <task> [seeds...]          (default seeds: 0 1 2)
# Environment: JOBS (seeds trained at once, each on OMP_NUM_THREADS=1; default 1),
# RUNS (where the runs go), TEACHER / STUDENT (extra overrides), RESAMPLE (default 0.01).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} WANDB_MODE=${WANDB_MODE:-disabled} PYTHONUNBUFFERED=1
TASK=$1; shift
SEEDS=${*:-0 1 2}
JOBS=${JOBS:-1}
RUNS=${RUNS:-runs/heldout-$TASK-$(date +%Y%m%d-%H%M%S)}
PY=.venv/bin/python
Q="log.progress=false log.print_every=50 log.tensorboard=false"
read -r -a TEACHER <<< "${TEACHER:-}"
read -r -a STUDENT <<< "${STUDENT:-}"
[ "$JOBS" -gt 1 ] && export OMP_NUM_THREADS=1 && Q="$Q nthread=1"

one_seed() {
  local s=$1 d="$RUNS/s$1"
  $PY -m teacher.train seed=$s run_dir="$d/teacher" "${TEACHER[@]}" $Q | tail -1
  $PY -m teacher.train seed=$s run_dir="$d/dr" policy.actor_input=history "${TEACHER[@]}" $Q | tail -1
  $PY -m teacher.train seed=$s run_dir="$d/robust" policy.actor_input=obs "${TEACHER[@]}" $Q | tail -1
  for m in dagger adapt sysid; do
    $PY -m student.distill seed=$s teacher="$d/teacher" method=$m run_dir="$d/$m" "${STUDENT[@]}" $Q export=false | tail -1
  done
  $PY -m student.distill seed=$s teacher="$d/teacher" method=adapt encoder=tcn run_dir="$d/adapt_tcn" "${STUDENT[@]}" $Q export=false | tail -1
}

ALL=()
running=0
for s in $SEEDS; do
  echo "== $TASK seed $s -> $RUNS/s$s"
  if [ "$JOBS" -gt 1 ]; then
    one_seed "$s" > "$RUNS.s$s.log" 2>&1 &
    running=$((running + 1))
    if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
  else
    one_seed "$s"
  fi
  for r in teacher dr robust dagger adapt sysid adapt_tcn; do ALL+=("$RUNS/s$s/$r"); done
done
wait
for r in "${ALL[@]}"; do [ -f "$r/checkpoints/last.pt" ] || { echo "missing $r (see $RUNS.s*.log)"; exit 1; }; done
LIST=$(IFS=,; echo "${ALL[*]}")
unset OMP_NUM_THREADS
$PY -m evaluation.evaluate "runs=[$LIST]" out_dir="$RUNS/eval" sweep=false resample_prob="${RESAMPLE:-0.01}"
cp "$RUNS/eval/report.json" "benchmarks/results/heldout_$TASK.json"
cp "$RUNS/eval/report.md" "benchmarks/results/heldout_$TASK.md"
echo "wrote benchmarks/results/heldout_$TASK.{json,md} from $RUNS"
