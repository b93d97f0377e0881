#!/usr/bin/env bash
# The main job on the default task (cartpole), on CPU: teacher, the DR and Robust baselines,
# DAgger, adaptation-module and SysID students, the DAgger student fine-tuned by PPO, then the
# evaluation on the train, heldout and extreme splits.
# Everything lands under $RUNS (default runs/pipeline-<time>); the held-out table is printed.
# Extra arguments are hydra overrides passed to the two PPO runs (e.g. max_iterations=100).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} WANDB_MODE=${WANDB_MODE:-disabled} PYTHONUNBUFFERED=1 MUJOCO_GL=${MUJOCO_GL:-egl}
RUNS=${RUNS:-runs/pipeline-$(date +%Y%m%d-%H%M%S)}
PY=.venv/bin/python
QUIET="log.progress=false log.print_every=25"
echo "== 1/8 teacher (PPO with privileged latent) -> $RUNS/teacher"
$PY -m teacher.train run_dir="$RUNS/teacher" $QUIET "$@"
echo "== 2/8 DR baseline (PPO on proprioceptive history) -> $RUNS/dr"
$PY -m teacher.train run_dir="$RUNS/dr" policy.actor_input=history $QUIET "$@"
echo "== 3/8 Robust baseline (PPO on the current observation: no latent, no history) -> $RUNS/robust"
$PY -m teacher.train run_dir="$RUNS/robust" policy.actor_input=obs $QUIET "$@"
echo "== 4/8 DAgger student -> $RUNS/dagger"
$PY -m student.distill teacher="$RUNS/teacher" method=dagger run_dir="$RUNS/dagger" $QUIET
echo "== 5/8 adaptation-module student -> $RUNS/adapt"
$PY -m student.distill teacher="$RUNS/teacher" method=adapt run_dir="$RUNS/adapt" $QUIET
echo "== 6/8 SysID baseline (regresses the explicit parameters) -> $RUNS/sysid"
$PY -m student.distill teacher="$RUNS/teacher" method=sysid run_dir="$RUNS/sysid" $QUIET export=false
echo "== 7/8 DAgger student fine-tuned by PPO (configs/finetune/dagger.yaml) -> $RUNS/dagger_ppo"
$PY -m teacher.train +finetune=dagger init_from="$RUNS/dagger" run_dir="$RUNS/dagger_ppo" $QUIET
echo "== 8/8 evaluation on the train, heldout and extreme splits, dynamics resampled within episodes at RMA's test rate -> $RUNS/eval"
$PY -m evaluation.evaluate "runs=[$RUNS/teacher,$RUNS/dr,$RUNS/robust,$RUNS/dagger,$RUNS/adapt,$RUNS/sysid,$RUNS/dagger_ppo]" out_dir="$RUNS/eval" \
  resample_prob=0.01 sweep_points=5 sweep_episodes=100
echo "deployable policies: $RUNS/dagger_ppo/export, $RUNS/adapt/export and $RUNS/dagger/export (policy.onnx, policy.pt, deploy.json)"
