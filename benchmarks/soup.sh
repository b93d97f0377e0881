#!/usr/bin/env bash
# Model soups of fine-tuning runs kept by benchmarks/finetune_ablation.sh, paired on the table's episodes.
# For each seed: one soup per <name>=<run>,<run>,... (run names under RUNS/s<seed>/, e.g. ft_def,ft_seed101)
# made by python -m teacher.soup (label <name>: dagger_ppo_<name> in the report), an evaluation with the
# table's settings beside the seed's teacher (the proof of the pairing), then evaluation.pair against
# the table's dagger_ppo.
#   bash benchmarks/soup.sh <task> <name>=<run>,<run>[,...] [<name>=...]
#   e.g. RUNS=runs/finetune-ablation-cartpole bash benchmarks/soup.sh cartpole soup4=ft_def,ft_seed101,ft_seed102,ft_seed103
# Environment: SEEDS (default 0 1 2), JOBS (default 2), RUNS (default runs/finetune-ablation-<task>),
# TABLE (default benchmarks/results/heldout_<task>), OUT (default benchmarks/results/soup_<task>).
set -euo pipefail
cd "$(dirname "$0")/.."
TASK=$1; shift
[ $# -ge 1 ] || { echo "give at least one soup: <name>=<run>,<run>[,...]"; exit 2; }
source benchmarks/table_eval.sh  # table_settings, evaluate_like_table
table_settings "$TASK" "benchmarks/results/soup_$TASK"
NAMES=()
for v in "$@"; do
  case "$v" in *=*,*) ;; *) echo "soup '$v' is not <name>=<run>,<run>[,...]"; exit 2 ;; esac
  NAMES+=("${v%%=*}")
done
source benchmarks/jobs.sh  # spawn / drain

seed_soups() {  # the seed's soups (remade), then its evaluation with the table's settings
  local s=$1 d="$RUNS/s$1" v name r members runs list="$RUNS/s$1/teacher"
  for v in "${@:2}"; do
    name=${v%%=*}; members=()
    IFS=, read -r -a runs <<< "${v#*=}"
    for r in "${runs[@]}"; do members+=("$d/$r"); done
    rm -rf "$d/soup_$name"
    $PY -m teacher.soup "${members[@]}" --out "$d/soup_$name" --label "$name" | tail -1
    list="$list,$d/soup_$name"
  done
  evaluate_like_table "$s" "$list" "$d/eval_soup"
}
NEW=() BASE=() POLICIES=()
for name in "${NAMES[@]}"; do POLICIES+=("dagger_ppo_$name"); done
for s in $SEEDS; do
  spawn "$RUNS/s$s.soup.log" seed_soups "$s" "$@"
  NEW+=("$OUT/s$s") BASE+=("$TABLE/s$s")
done
drain
$PY -m evaluation.pair --base "${BASE[@]}" --new "${NEW[@]}" --policy "${POLICIES[@]}" --against dagger_ppo --out "$OUT" \
  --note "RUNS=$RUNS bash benchmarks/soup.sh $TASK $* (SEEDS=$SEEDS): per seed, python -m teacher.soup of the named fine-tuning runs (kept by benchmarks/finetune_ablation.sh), evaluated with the table's settings beside the seed's teacher."
