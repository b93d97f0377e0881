#!/usr/bin/env bash
# The multi-seed held-out table of one task (issue #11's protocol): for each training seed a
# teacher, the DR and Robust baselines, the DAgger, adaptation-module (MLP and TCN history
# encoders, the same budget; the TCN with RMA/HORA's 32 channels) and SysID students, the
# DAgger student fine-tuned by PPO (configs/finetune/dagger.yaml), then a paired evaluation
# of the seed's runs on the train, heldout (calibrated) and extreme splits, with the dynamics
# resampled within episodes at RMA's test rate, kept in benchmarks/results/heldout_<task>/s<seed>/
# (episodes.h5 and its report). The table, benchmarks/results/heldout_<task>.{json,md}, merges
# every seed kept there (evaluation/merge.py): seeds trained in other sessions or on other
# machines count, so a table too long for one session grows a seed at a time.
# Called by heldout_<task>.sh.
#   bash benchmarks/heldout.sh <task> [seeds...]          (default seeds: 0 1 2)
# Environment: JOBS (seeds trained at once, each on OMP_NUM_THREADS=1; default 1),
# RUNS (where the runs go), KEEP (where the seeds' evaluations are kept and the table is
# written as KEEP.{json,md}), TEACHER / STUDENT (extra overrides), RESAMPLE (default 0.01),
# ITERATIONS (max_iterations of the teacher, DR and Robust runs only: the fine-tuning keeps
# its own 100), EVAL (extra evaluation overrides, e.g. episodes=256), RSL_RL=1 (also rsl_rl's
# own teacher -> student pipeline on the seed's task, envs/ecosystem/rsl_rl_pipeline.py with
# configs/rsl_rl/<task>.yaml, at ITERATIONS when given, evaluated as rsl_rl_teacher /
# rsl_rl_student, every deployable policy compared with rsl_rl_student and the teacher with
# rsl_rl_teacher, paired, on the seeds that have it), SKIP (runs of the seed left out of
# training and evaluation, e.g. SKIP=adapt_tcn: the TCN is the slowest student, 3x the MLP
# adaptation module), TEACHERS (an existing teacher run for each seed, {s} standing for the seed,
# e.g. /work/runs/go2std/s{s}/it900: the seed's teacher is a copy of it instead of one trained
# here, and its students are trained from it; its label names its policies).
# Rerun with the same RUNS to finish a stopped table: a run with a summary.json is kept, and so is
# a seed's evaluation when it covered the same runs and none was trained after it (EVAL and
# RESAMPLE are not compared: remove RUNS/s<seed>/eval to evaluate with other settings).
# Remove benchmarks/results/heldout_<task>/s<seed>/ to drop a seed from the table.
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

RUNS_OF_A_SEED="teacher dr robust dagger adapt sysid adapt_tcn dagger_ppo"
for skip in ${SKIP:-}; do
  case " $RUNS_OF_A_SEED " in *" $skip "*) ;; *) echo "SKIP=$skip: not a run of a seed ($RUNS_OF_A_SEED)"; exit 2 ;; esac
  case "$skip" in teacher|dagger) echo "SKIP=$skip: the other runs are trained from it"; exit 2 ;; esac
done
skipped() { case " ${SKIP:-} " in *" $(basename "$1") "*) return 0 ;; esac; return 1; }

run() {  # run <dir> <module> <overrides...>: train unless the run finished before, or is skipped
  local dir=$1 module=$2; shift 2
  if skipped "$dir"; then echo "skipped $dir"; return; fi
  if [ -f "$dir/summary.json" ]; then echo "kept $dir"; return; fi
  rm -rf "$dir"  # a run stopped midway starts over
  $PY -m "$module" run_dir="$dir" "$@" $Q | tail -1
}

one_seed() {
  local s=$1 d="$RUNS/s$1"
  if [ -n "${TEACHERS:-}" ] && [ ! -f "$d/teacher/summary.json" ]; then
    local from=${TEACHERS//\{s\}/$s}
    [ -f "$from/summary.json" ] || { echo "TEACHERS: $from is not a finished run (no summary.json)"; exit 2; }
    rm -rf "$d/teacher" && mkdir -p "$d" && cp -r "$from" "$d/teacher"
  fi
  run "$d/teacher" teacher.train seed=$s "${TEACHER[@]}" "${BUDGET[@]}"
  run "$d/dr" teacher.train seed=$s policy.actor_input=history "${TEACHER[@]}" "${BUDGET[@]}"
  run "$d/robust" teacher.train seed=$s policy.actor_input=obs "${TEACHER[@]}" "${BUDGET[@]}"
  for m in dagger adapt sysid; do
    run "$d/$m" student.distill seed=$s teacher="$d/teacher" method=$m "${STUDENT[@]}" export=false
  done
  run "$d/adapt_tcn" student.distill seed=$s teacher="$d/teacher" method=adapt encoder=tcn 'encoder_hidden=[32]' \
    "${STUDENT[@]}" export=false
  run "$d/dagger_ppo" teacher.train seed=$s "${TEACHER[@]}" +finetune=dagger init_from="$d/dagger"
  local list="" peers=() r
  for r in $RUNS_OF_A_SEED; do skipped "$r" || list="$list$d/$r,"; done
  if [ -n "${RSL_RL:-}" ]; then
    if [ -f "$d/rsl_rl_student/summary.json" ]; then echo "kept $d/rsl_rl_teacher, $d/rsl_rl_student"; else
      rm -rf "$d/rsl_rl_teacher" "$d/rsl_rl_student"  # a pipeline stopped midway starts over
      $PY -m envs.ecosystem.rsl_rl_pipeline --task-from "$d/teacher" --out "$d" --seed "$s" \
        ${ITERATIONS:+--iterations "$ITERATIONS"} ${RSL_NTHREAD:-} | tail -1
    fi
    list="$list$d/rsl_rl_teacher,$d/rsl_rl_student,"
    peers=(reference=rsl_rl_student teacher_reference=rsl_rl_teacher)
  fi
  # evaluated again when the runs differ from the last evaluation's (SKIP, RSL_RL) or one was
  # (re)trained after it
  if eval_is_current "$d/eval" "${list%,}"; then  # EVAL and RESAMPLE are not compared: say so
    echo "kept $d/eval (the same runs, none trained since; remove it to evaluate with other settings)"
  else
    $PY -m evaluation.evaluate "runs=[${list%,}]" out_dir="$d/eval" overwrite=true sweep=false \
      resample_prob="${RESAMPLE:-0.01}" ${EVAL_NTHREAD:-} "${peers[@]}" "${EVAL[@]}" | tail -1
  fi
  keep_eval "$d/eval" "$KEEP/s$s"
}

KEEP=${KEEP:-benchmarks/results/heldout_$TASK}
EVAL_NTHREAD= RSL_NTHREAD=
[ "$JOBS" -gt 1 ] && EVAL_NTHREAD=nthread=1 && RSL_NTHREAD="--nthread 1"
source benchmarks/jobs.sh  # spawn / drain
source benchmarks/table_eval.sh  # eval_is_current, keep_eval, merge_references
for s in $SEEDS; do
  echo "== $TASK seed $s -> $RUNS/s$s"
  if [ "$JOBS" -gt 1 ]; then
    : > "$RUNS.s$s.log"
    spawn "$RUNS.s$s.log" one_seed "$s"
  else
    one_seed "$s"
  fi
done
drain
for s in $SEEDS; do [ -f "$KEEP/s$s/episodes.h5" ] || { echo "seed $s has no evaluation (see $RUNS.s$s.log)"; exit 1; }; done
KEPT=("$KEEP"/s*)
if [ "${#KEPT[@]}" -eq 1 ]; then
  cp "${KEPT[0]}/report.json" "$KEEP.json"
  cp "${KEPT[0]}/report.md" "$KEEP.md"
else
  refs=$(merge_references "${KEPT[@]}")  # the pairings of every kept seed, not only this run's
  read -r -a MERGE_REF <<< "$refs"
  $PY -m evaluation.merge "${KEPT[@]}" --out "$RUNS/merged" --overwrite "${MERGE_REF[@]}" > /dev/null
  cp "$RUNS/merged/report.json" "$KEEP.json"
  cp "$RUNS/merged/report.md" "$KEEP.md"
fi
echo "wrote $KEEP.{json,md} from ${KEPT[*]}"
