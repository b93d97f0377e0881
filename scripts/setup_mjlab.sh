#!/usr/bin/env bash
# Creates (once) the virtual environment in which mjlab's tasks run with apprentice:
# mjlab 1.6 pins mujoco 3.11, so it cannot share .venv (MuJoCo 4). torch and torchvision
# are pinned to the CPU wheels: unconstrained, mjlab's rsl-rl-lib pulls a CUDA torch.
# apprentice itself is not installed there: its code is put on PYTHONPATH by the caller
# (its external-task path needs no MuJoCo 4). Prints the venv's python.
# Location: $APPRENTICE_MJLAB_VENV (default ~/.cache/apprentice/mjlab-venv), kept between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${APPRENTICE_MJLAB_VENV:-$HOME/.cache/apprentice/mjlab-venv}
PY=${PYTHON:-python3}
if ! "$VENV/bin/python" -c "import mjlab, hydra, h5py, onnxruntime, pytest" 2>/dev/null; then
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" >&2 || true
  "$VENV/bin/python" -m pip install -q "mjlab==1.6.0" "torch==2.13.0" "torchvision==0.28.0" \
    "hydra-core==1.3.8" "omegaconf>=2.3" "h5py>=3.10" "onnx>=1.16" "onnxruntime>=1.18" "tensorboard>=2.15" \
    "matplotlib>=3.8" "tqdm>=4.66" "pytest>=8" 2>&1 | grep -vE "is ignored|^\s*$" >&2 || true
fi
"$VENV/bin/python" -c "import mjlab, mujoco, torch; assert torch.__version__.endswith('+cpu') or not torch.cuda.is_available()" >&2
echo "$VENV/bin/python"
