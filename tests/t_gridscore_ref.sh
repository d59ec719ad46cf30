#!/usr/bin/env bash
# t_gridscore_ref.sh -- the C gridness / SAC / border score / rate maps
# against an independent numpy/scipy implementation of the published
# algorithms (tests/ref/gridscore_ref.py).
#  1. test_spatial --dump writes 260 rate maps at G = 20 and G = 15
#     (hexagonal and square grids, bands, noise, border fields, maps with
#     unvisited bins, flat and empty maps, random-weight RNN maps) with the C
#     scores (both variants), border scores and SACs, plus a binned sample
#     set; the script recomputes them with scipy and fails on any score
#     differing by more than 1e-3 (SAC 1e-6, border 1e-5, rate maps 1e-5,
#     bin counts exactly).
#  2. The whole pipeline: `sweep run-one` trains four tiny networks (relu /
#     tanh x mean_diff / min_max) for 40 steps with save_ratemaps = all; the
#     scores the program stored in /units are recomputed from the stored
#     rate maps.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh   # BUILD, SWEEP, PYTHON, MPI env, tmp removed at exit, fail

"$BUILD/tests/test_spatial" --dump "$tmp"
"$PYTHON" tests/ref/gridscore_ref.py "$tmp"

cat > "$tmp/pipeline.yaml" <<'YAML'
name: spatial_pipeline_check
model:   {hidden: 48}
task:    {seq_len: 20}
place:   {target: dog, n_place: 64}
train:   {steps: 40, batch: 20, lr: 1.0e-3, log_every: 20}
eval:    {eval_noise: [0], eval_batch: 10, ratemap_trajectories: 300, save_ratemaps: all}
sweep:
  activation: [relu, tanh]
  score_variant: [mean_diff, min_max]
YAML
for k in 0 1 2 3; do
  "$SWEEP" run-one "$tmp/pipeline.yaml" --task $k -o "$tmp/task$k.h5" > "$tmp/run$k.log" 2>&1 ||
    { echo "sweep run-one task $k failed:"; tail -5 "$tmp/run$k.log"; exit 1; }
  "$PYTHON" tests/ref/gridscore_ref.py --h5 "$tmp/task$k.h5"
done
