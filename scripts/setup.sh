#!/usr/bin/env bash
# Creates the project's virtual environment (.venv) and installs apprentice-rl into it.
# torch is installed first as the pinned CPU wheel: a bare or newer torch requirement
# would pull several GB of CUDA packages. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
  .venv/bin/python -m pip install -q torch==2.13.0 2>&1 | grep -v "is ignored" || true
fi
.venv/bin/python -m pip install -q -e ".[test]" 2>&1 | grep -vE "is ignored|BuildBackendWarning|^\s*$" || true
.venv/bin/python -c "import torch, mujoco, envs, teacher; print(f'apprentice ready: torch {torch.__version__}, mujoco {mujoco.__version__}')"
