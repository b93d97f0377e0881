#!/usr/bin/env bash
# Fine-tuning variants against a kept held-out table, paired on the table's own episodes.
# For each seed: the table's teacher and DAgger student, retrained at today's defaults (training
# is bit for bit reproducible on one machine kind, so they are the table's runs: the pairing
# below checks it), one PPO fine-tuning run per variant (configs/finetune/dagger.yaml plus the
# variant's overrides, label=<name>: dagger_ppo_<name> in the report), an evaluation with the
# table's settings, then evaluation.pair of every variant against the table's dagger_ppo.
#   bash benchmarks/finetune_ablation.sh <task> <name>=<overrides> [<name>=<overrides>...]
#   e.g. bash benchmarks/finetune_ablation.sh cartpole def= ent0=ppo.entropy_coef=0.0 'ent01=ppo.entropy_coef=0.01'
# A variant's overrides are separated by spaces ('lr=max_iterations=200 ppo.learning_rate=5.0e-5');
# 'def=' is the default fine-tuning. A table whose fine-tuning ran before e42da0f (cartpole's) is not
# repeated by it: that commit moved the teacher's loading before the seed (README); teacher and DAgger pair.
# Environment: SEEDS (default 0 1 2), JOBS (runs trained at once, one thread each; default 2),
# RUNS (default runs/finetune-ablation-<task>), TABLE (the kept table's seed evaluations,
# default benchmarks/results/heldout_<task>), OUT (results stem, default
# benchmarks/results/finetune_ablation_<task>; the seeds' evaluations are kept in OUT/s<seed>/).
# Rerun with the same RUNS to finish: a run with a summary.json is kept. EVALUATE=0 trains and stops
# there (the runs kept for benchmarks/soup.sh, which evaluates only the soups).
# One run per variant and seed is one draw: a fine-tuning seed alone moves cartpole's heldout return
# by about ±10 (sd over runs). Reseed a variant (e.g. 'v101=<overrides> seed=101', the last seed=
# wins) and compare configs run for run with python -m evaluation.runs (README: kickstarting).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
TASK=$1; shift
[ $# -ge 1 ] || { echo "give at least one variant: <name>=<overrides>"; exit 2; }
source benchmarks/table_eval.sh  # table_settings, evaluate_like_table
table_settings "$TASK" "benchmarks/results/finetune_ablation_$TASK"
Q="log.progress=false log.print_every=50 log.tensorboard=false nthread=1"
NAMES=()
for v in "$@"; do
  case "$v" in *=*) ;; *) echo "variant '$v' is not <name>=<overrides>"; exit 2 ;; esac
  name=${v%%=*}
  [[ "$name" =~ ^[a-z0-9]+$ ]] || { echo "variant name '$name': lower-case letters and digits only"; exit 2; }
  NAMES+=("$name")
done
EVALUATE=${EVALUATE:-1}
case "$EVALUATE" in 0|1) ;; *) echo "EVALUATE='$EVALUATE': 1 (train and evaluate, the default) or 0 (train only)"; exit 2 ;; esac
for s in $SEEDS; do
  [ -f "$TABLE/s$s/episodes.h5" ] || { echo "$TABLE/s$s/episodes.h5 does not exist: no table seed $s to pair with"; exit 2; }
done

train() {  # train <dir> <module> <overrides...>: unless it finished before
  local dir=$1 module=$2; shift 2
  if [ -f "$dir/summary.json" ]; then echo "kept $dir"; return; fi
  rm -rf "$dir"
  $PY -m "$module" run_dir="$dir" "$@" $Q | tail -1
}

base() {  # the seed's teacher and DAgger student, as the table trained them
  local s=$1 d="$RUNS/s$1"
  train "$d/teacher" teacher.train seed="$s" task="$TASK"
  train "$d/dagger" student.distill seed="$s" teacher="$d/teacher" method=dagger export=false
}

variant() {  # variant <seed> <name>=<overrides>
  local s=$1 name=${2%%=*} d="$RUNS/s$1"
  read -r -a over <<< "${2#*=}"
  train "$d/ft_$name" teacher.train seed="$s" task="$TASK" +finetune=dagger init_from="$d/dagger" label="$name" "${over[@]}"
}

source benchmarks/jobs.sh  # spawn / drain

mkdir -p "$RUNS"
for s in $SEEDS; do spawn "$RUNS/s$s.log" base "$s"; done
drain
for s in $SEEDS; do for v in "$@"; do spawn "$RUNS/s$s.log" variant "$s" "$v"; done; done
drain
if [ "$EVALUATE" = 0 ]; then echo "EVALUATE=0: trained, not evaluated; the runs are in $RUNS"; exit 0; fi

evaluate_seed() {  # the seed's runs with the table's evaluation settings (seed, episodes, resampling)
  local s=$1 d="$RUNS/s$1" name list="$RUNS/s$1/teacher,$RUNS/s$1/dagger"
  for name in "${NAMES[@]}"; do list="$list,$d/ft_$name"; done
  evaluate_like_table "$s" "$list" "$d/eval"
}
NEW=() BASE=() RUN_DIRS=()
for name in "${NAMES[@]}"; do RUN_DIRS+=("$RUNS/s${SEEDS%% *}/ft_$name"); done
# the names the evaluation gives them: dagger_ppo_<name>, or dagger_ppo_rs<rate>_<name> for a variant
# that trains at another rate of mid-episode resampling (evaluation/policies.py)
names=$($PY -c "import sys; from evaluation.policies import load_policies
print(' '.join(load_policies(run, sys.argv[1])[0][0].name for run in sys.argv[2:]))" "$TASK" "${RUN_DIRS[@]}")
read -r -a POLICIES <<< "$names"  # an assignment, so that set -e stops on a failure (a < <(...) would not)
for s in $SEEDS; do
  spawn "$RUNS/s$s.log" evaluate_seed "$s"
  NEW+=("$OUT/s$s") BASE+=("$TABLE/s$s")
done
drain
$PY -m evaluation.pair --base "${BASE[@]}" --new "${NEW[@]}" --policy "${POLICIES[@]}" --against dagger_ppo --out "$OUT" \
  --note "bash benchmarks/finetune_ablation.sh $TASK $* (SEEDS=$SEEDS): per seed the table's teacher and DAgger student retrained, one PPO fine-tuning run (+finetune=dagger) per variant <name>=<overrides>, evaluated with the table's settings."
