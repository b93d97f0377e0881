# Evaluating new runs with a kept table's settings, for the scripts that pair with a table (source it).
#   evaluate_like_table <seed> <runs, comma-separated> <eval dir> [evaluation overrides...]
# evaluates the runs with the evaluation seed, episode count and resampling rate of TABLE/s<seed>
# (its config.yaml), one thread, and keeps the evaluation in OUT/s<seed>/ for evaluation.pair.
# Needs PY, TABLE and OUT set: table_settings sets them and the rest of the scripts' environment.
#   eval_is_current <eval dir> <runs, comma-separated>
# succeeds when the evaluation in <eval dir> covered exactly these runs, in this order, and none of
# them was trained again after it: the scripts keep such an evaluation instead of repeating it.
#   keep_eval <eval dir> <dest dir>
# copies the files of an evaluation that evaluation.pair and evaluation.merge read into <dest dir>.
#   merge_references <kept eval dirs...>
# prints evaluation.merge's --reference / --teacher-reference for the kept evaluations: the ones
# any of them was paired with (config.yaml), so that a table grown a seed at a time keeps its
# pairings with a peer (rsl_rl) that only some seeds have; fails when they name different ones.
table_settings() {  # table_settings <task> <default OUT>: the defaults both scripts document
  export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE WANDB_MODE=disabled PYTHONUNBUFFERED=1
  SEEDS=${SEEDS:-0 1 2}
  JOBS=${JOBS:-2}
  RUNS=${RUNS:-runs/finetune-ablation-$1}
  TABLE=${TABLE:-benchmarks/results/heldout_$1}
  OUT=${OUT:-$2}
  PY=.venv/bin/python
}
eval_is_current() {
  local dir=$1 list=$2
  local run
  [ -f "$dir/report.json" ] && [ -f "$dir/config.yaml" ] || return 1
  for run in ${list//,/ }; do [ -f "$run/summary.json" ] || return 1; done
  [ -z "$(find ${list//,/ } -name summary.json -newer "$dir/report.json")" ] || return 1
  $PY -c "import sys; from omegaconf import OmegaConf; sys.exit(list(OmegaConf.load(sys.argv[1]).runs) != sys.argv[2].split(','))" \
    "$dir/config.yaml" "$list"
}
keep_eval() {
  mkdir -p "$2"
  cp "$1/"{report.json,report.md,task.yaml,config.yaml,episodes.h5} "$2/"
}
merge_references() {
  $PY - "$@" <<'EOF'
import sys
from omegaconf import OmegaConf
flags = []
for key, flag in (("reference", "--reference"), ("teacher_reference", "--teacher-reference")):
    named = {d: OmegaConf.load(f"{d}/config.yaml").get(key) for d in sys.argv[1:]}
    values = set(named.values()) - {None}
    if len(values) > 1:
        sys.exit(f"the kept evaluations name different {key}s ({named}): evaluate them again with one, "
                 "or move the odd ones out of the table's folder")
    flags += [flag, values.pop()] if values else []
print(" ".join(flags))
EOF
}
evaluate_like_table() {
  local s=$1 list=$2 dir=$3 eseed episodes rate
  shift 3
  read -r eseed episodes rate < <($PY -c "from omegaconf import OmegaConf; c = OmegaConf.load('$TABLE/s$s/config.yaml'); print(c.seed, c.episodes, c.resample_prob)")
  $PY -m evaluation.evaluate "runs=[$list]" out_dir="$dir" overwrite=true sweep=false seed="$eseed" \
    episodes="$episodes" resample_prob="$rate" nthread=1 "$@" | tail -1
  keep_eval "$dir" "$OUT/s$s"
}
