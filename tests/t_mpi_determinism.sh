#!/usr/bin/env bash
# t_mpi_determinism.sh -- the same spec with 1 (no mpirun), 2 and 4 ranks
# (oversubscribed) gives identical data in every dataset except timings and
# ranks; every file has the documented layout (check_results.py).  Two
# specs: sweeps/smoke.yaml, and a variant whose tasks differ in size
# (hidden, seq_len axes), save rate maps and run the replay stage (noisy, so
# the replay's noise stream is exercised), to exercise the padding.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp removed at exit, fail
CHECK="$PYTHON tests/check_results.py"

cat > "$tmp/sizes.yaml" <<'YAML'
name: sizes
model: {activation: relu, noise: 0.01}
place: {n_place: 24}
train: {steps: 40, batch: 8, lr: 1.0e-3, log_every: 15}
eval: {eval_batch: 16, ratemap_trajectories: 100, ratemap_bins: 8, eval_noise: [0.0, 0.02],
       save_ratemaps: top, save_top_k: 5}
replay: {replay: true, replay_starts: 6, replay_steps: 25, replay_burn_in: 5, replay_keep: 2}
sweep:
  hidden: [16, 40]
  seq_len: [6, 10]
  seed: [0, 1]
YAML

for spec in sweeps/smoke.yaml "$tmp/sizes.yaml"; do
  name=$(basename "$spec" .yaml)
  "$SWEEP" "$spec" -o "$tmp/$name-1.h5"
  mpirun -n 2 "$SWEEP" "$spec" -o "$tmp/$name-2.h5"
  mpirun -n 4 "$SWEEP" "$spec" -o "$tmp/$name-4.h5"
  $CHECK "$tmp/$name-1.h5" --complete
  $CHECK "$tmp/$name-2.h5" --complete --compare "$tmp/$name-1.h5"
  $CHECK "$tmp/$name-4.h5" --complete --compare "$tmp/$name-1.h5"
done

# the sizes variant really has padding and rate maps, and ranks 1..3 worked
"$PYTHON" - "$tmp/sizes-4.h5" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
t = f["tasks"][:]
assert f["units/score60"].shape[1] == 40, f["units/score60"].shape
assert f["units/ratemaps"].shape[1:] == (5, 8, 8), f["units/ratemaps"].shape
small = t["hidden"] == 16
assert small.any() and np.isnan(f["units/score60"][np.nonzero(small)[0][0], 16:]).all()
assert set(t["rank"].tolist()) <= {1, 2, 3} and len(set(t["rank"].tolist())) >= 2, t["rank"]
assert (f["units/ratemap_unit"][:] >= 0).all()
assert f["replay/traj"].shape == (len(t), 2, 26, 2), f["replay/traj"].shape
assert np.isfinite(f["replay/speed_cm"][:]).all()
print("sizes variant ok:", len(t), "tasks")
PY
