#!/usr/bin/env bash
# The cartpole held-out table over training seeds (benchmarks/heldout.sh says what it runs):
#   bash benchmarks/heldout_cartpole.sh [seeds...]        (default: 0 1 2; JOBS=2 trains two seeds at once)
exec bash "$(dirname "$0")/heldout.sh" cartpole "$@"
