#!/usr/bin/env bash
# The multi-seed held-out table of one task (issue #11's protocol): for each training seed a
# teacher, the DR and Robust baselines, the DAgger, adaptation-module (MLP and TCN history
# encoders, the same budget; the TCN with RMA/HORA's 32 channels) and SysID students, the
# DAgger student fine-tuned by PPO (configs/finetune/dagger.yaml), then one paired
# evaluation of all of them on the train, heldout (calibrated) and extreme splits, with the
# dynamics resampled within episodes at RMA's test rate. Called by heldout_<task>.sh; copies report.{json,md} to
# benchmarks/results/heldout_<task>.{json,md}.
#   bash benchmarks/heldout.sh <task> [seeds...]          (default seeds: 0 1 2)
# Environment: JOBS (seeds trained at once, each on OMP_NUM_THREADS=1; default 1),
# RUNS (where the runs go), TEACHER / STUDENT (extra overrides), RESAMPLE (default 0.01),
# ITERATIONS (max_iterations of the teacher, DR and Robust runs only: the fine-tuning keeps
# its own 100), EVAL (extra evaluation overrides, e.g. episodes=256).
# Rerun with the same RUNS to finish a stopped table: a run with a summary.json is kept.
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
read -r -a EVAL <<< "${EVAL:-}"
BUDGET=()
[ -n "${ITERATIONS:-}" ] && BUDGET=("max_iterations=$ITERATIONS")
[ "$JOBS" -gt 1 ] && export OMP_NUM_THREADS=1 && Q="$Q nthread=1"

run() {  # run <dir> <module> <overrides...>: train unless the run finished before
  local dir=$1 module=$2; shift 2
  if [ -f "$dir/summary.json" ]; then echo "kept $dir"; return; fi
  rm -rf "$dir"  # a run stopped midway starts over
  $PY -m "$module" run_dir="$dir" "$@" $Q | tail -1
}

one_seed() {
  local s=$1 d="$RUNS/s$1"
  run "$d/teacher" teacher.train seed=$s "${TEACHER[@]}" "${BUDGET[@]}"
  run "$d/dr" teacher.train seed=$s policy.actor_input=history "${TEACHER[@]}" "${BUDGET[@]}"
  run "$d/robust" teacher.train seed=$s policy.actor_input=obs "${TEACHER[@]}" "${BUDGET[@]}"
  for m in dagger adapt sysid; do
    run "$d/$m" student.distill seed=$s teacher="$d/teacher" method=$m "${STUDENT[@]}" export=false
  done
  run "$d/adapt_tcn" student.distill seed=$s teacher="$d/teacher" method=adapt encoder=tcn 'encoder_hidden=[32]' \
    "${STUDENT[@]}" export=false
  run "$d/dagger_ppo" teacher.train seed=$s "${TEACHER[@]}" +finetune=dagger init_from="$d/dagger"
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
  for r in teacher dr robust dagger adapt sysid adapt_tcn dagger_ppo; do ALL+=("$RUNS/s$s/$r"); done
done
wait
for r in "${ALL[@]}"; do [ -f "$r/checkpoints/last.pt" ] || { echo "missing $r (see $RUNS.s*.log)"; exit 1; }; done
LIST=$(IFS=,; echo "${ALL[*]}")
unset OMP_NUM_THREADS
$PY -m evaluation.evaluate "runs=[$LIST]" out_dir="$RUNS/eval" sweep=false resample_prob="${RESAMPLE:-0.01}" \
  "${EVAL[@]}"
cp "$RUNS/eval/report.json" "benchmarks/results/heldout_$TASK.json"
cp "$RUNS/eval/report.md" "benchmarks/results/heldout_$TASK.md"
echo "wrote benchmarks/results/heldout_$TASK.{json,md} from $RUNS"
