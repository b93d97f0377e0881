#!/usr/bin/env bash
# The Go2 held-out table over training seeds (benchmarks/heldout.sh says what it runs), with the
# Go2 teacher settings (configs/experiment/go2.yaml). Students at 30 iterations, as in the README. On 2 cores a seed takes about 3 hours
# (ITERATIONS=300 EVAL=episodes=256: 1.6 hours in session 10).
#   bash benchmarks/heldout_go2.sh [seeds...]             (default: 0 1 2)
TEACHER="+experiment=go2 ${TEACHER:-}" STUDENT="iterations=30 ${STUDENT:-}" exec bash "$(dirname "$0")/heldout.sh" go2 "$@"
