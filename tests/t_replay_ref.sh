#!/usr/bin/env bash
# t_replay_ref.sh -- the replay metrics (src/model/replay.c) against a numpy
# implementation of the same formulas (tests/ref/replay_ref.py).
#   test_replay --dump writes, for a square, a triangle and a T-maze
#   (momentum cell, noisy replay, 24 starts x 150 steps, 12 x 12 bins):
#   every decoded replay, the real trajectories of the RNG_REPLAY stream
#   (regenerated with one traj_generate call, which also checks that the
#   module's one-trajectory-at-a-time generation draws the same numbers),
#   the C in-arena mask, occupancies and metrics.  The script recomputes
#   the masks from its own polygons and every metric from the stored
#   positions, and fails on a relative difference above 2e-5.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh   # BUILD, PYTHON, one OpenBLAS thread, tmp removed at exit

"$BUILD/tests/test_replay" --dump "$tmp"
"$PYTHON" tests/ref/replay_ref.py "$tmp"
