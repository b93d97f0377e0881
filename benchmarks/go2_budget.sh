#!/usr/bin/env bash
# Go2's oracle against its training budget: does more training bring the teacher to issue #11's
# target (tracking success >= 0.70 on heldout)? For each seed one teacher (configs/experiment/go2.yaml)
# is trained in stages: at each stage's end the run is copied and the copy resumed to the next
# stage, so every snapshot is a complete run (config, checkpoints, held-out summary), labelled
# NAME<iterations>. A seed's snapshots, the runs in WITH and standing still (zero_action) are
# evaluated together on the Go2 table's episodes (benchmarks/results/heldout_go2/s<seed>: its
# evaluation seed, episode count and resampling rate; every oracle paired with REF) ->
# OUT/s<seed>/; every oracle paired over the seeds with REF -> OUT.{json,md}, and with standing
# still -> OUT_floor.{json,md} (evaluation.pair, tracking success paired too).
#   bash benchmarks/go2_budget.sh [seeds...]            (default: 0 1)
# Environment: STAGES (default "300 600 900 1200"), RUNS (default runs/go2-budget), OUT (default
# benchmarks/results/go2_budget), JOBS (seeds at once, one thread each; default 2), TEACHER (extra
# teacher overrides), TABLE (the table whose episodes are used; default benchmarks/results/heldout_go2),
# NAME (the snapshots' label before the iterations; default it), WITH (runs evaluated beside a
# seed's snapshots, comma-separated, {s} standing for the seed: a variant against the budget curve),
# REF (the oracle the others are paired with; default the first snapshot's).
# The budget curve of a learned std to 600 iterations, then the action std schedule beside it
# (session 17): the second command writes the table with every run (benchmarks/results/go2_budget.md),
# the first's is replaced. The third resumes the schedule's snapshots to 600 and 900 iterations
# with the std held at 0.3 (session 18, benchmarks/results/go2_std_budget.md; now the Go2 default):
#   RUNS=runs/go2-budget STAGES="300 600" TEACHER=policy.std_schedule=learned bash benchmarks/go2_budget.sh 0 1
#   RUNS=runs/go2-std NAME=std03_it STAGES=300 TEACHER="policy.std_schedule=linear policy.final_std=0.3" \
#     WITH=runs/go2-budget/s{s}/it300,runs/go2-budget/s{s}/it600 REF=oracle_it300 bash benchmarks/go2_budget.sh 0 1
#   RUNS=runs/go2-std NAME=std03_it STAGES="300 600 900" OUT=benchmarks/results/go2_std_budget \
#     TEACHER="policy.std_schedule=linear policy.final_std=0.3 policy.std_decay_iterations=300" \
#     WITH=runs/go2-budget/s{s}/it600 REF=oracle_it600 bash benchmarks/go2_budget.sh 0 1
# Rerun with the same RUNS to finish: a snapshot with a summary.json is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
source benchmarks/table_eval.sh  # table_settings, evaluate_like_table, eval_is_current, keep_eval
source benchmarks/jobs.sh        # spawn, drain
table_settings go2 benchmarks/results/go2_budget
RUNS=${RUNS:-runs/go2-budget}
SEEDS=${*:-0 1}
read -r -a STAGES <<< "${STAGES:-300 600 900 1200}"
NAME=${NAME:-it}
REF=${REF:-oracle_$NAME${STAGES[0]}}
Q=(log.progress=false log.print_every=50 log.tensorboard=false nthread=1)
read -r -a TEACHER <<< "${TEACHER:-}"

train_seed() {  # every stage of one seed, each resumed from a copy of the one before
  local s=$1 prev="" n dir resume
  for n in "${STAGES[@]}"; do
    dir=$RUNS/s$s/it$n
    if [ -f "$dir/summary.json" ]; then echo "kept $dir"; prev=$dir; continue; fi
    rm -rf "$dir"  # a stage stopped midway starts over from the stage before
    resume=()
    if [ -n "$prev" ]; then  # the copy's summary.json is the stage before's: gone until this stage ends
      cp -r "$prev" "$dir" && rm "$dir/summary.json"; resume=(resume=true)
    fi
    $PY -m teacher.train +experiment=go2 seed="$s" max_iterations="$n" run_dir="$dir" label="$NAME$n" "${resume[@]}" \
      "${Q[@]}" "${TEACHER[@]}" | tail -1
    prev=$dir
  done
}

mkdir -p "$RUNS"
for s in $SEEDS; do spawn "$RUNS/s$s.log" train_seed "$s"; done
drain
for s in $SEEDS; do
  list=""
  for n in "${STAGES[@]}"; do list="$list$RUNS/s$s/it$n,"; done
  [ -n "${WITH:-}" ] && list="$list${WITH//\{s\}/$s},"
  list=${list%,}
  # kept when it evaluated these runs and none was trained again since
  if eval_is_current "$RUNS/s$s/eval" "$list"; then
    echo "kept $RUNS/s$s/eval"; keep_eval "$RUNS/s$s/eval" "$OUT/s$s"
  else
    spawn "$RUNS/s$s.log" evaluate_like_table "$s" "$list" "$RUNS/s$s/eval" zero_action=true teacher_reference="$REF"
  fi
done
drain
KEPT=()
for s in $SEEDS; do KEPT+=("$OUT/s$s"); done
# every oracle paired with REF and with standing still, over the seeds, on each seed's one
# evaluation (its own base and new; evaluations holding zero_action are not merged)
read -r -a ORACLES < <($PY -c "import json, sys; rows = json.load(open(sys.argv[1]))['rows']; print(' '.join(sorted({r['policy'] for r in rows if not r['deployable'] and r['policy'] != sys.argv[2]})))" "${KEPT[0]}/report.json" "$REF")
$PY -m evaluation.pair --base "${KEPT[@]}" --new "${KEPT[@]}" --policy "${ORACLES[@]}" --against "$REF" --out "$OUT"
$PY -m evaluation.pair --base "${KEPT[@]}" --new "${KEPT[@]}" --policy "$REF" "${ORACLES[@]}" --against zero_action \
  --out "${OUT}_floor"
for s in $SEEDS; do for n in "${STAGES[@]}"; do
  $PY -c "import json, sys; d = json.load(open(sys.argv[1])); print(sys.argv[1], 'iterations', d['iterations'], 'env_steps', d['env_steps'], 'wall_s', round(d['wall_s']), 'heldout_tracking_success', d.get('heldout_tracking_success'))" \
    "$RUNS/s$s/it$n/summary.json"
done; done | tee "$OUT.summaries.txt"
echo "wrote $OUT.{json,md}, ${OUT}_floor.{json,md} from ${KEPT[*]}"
