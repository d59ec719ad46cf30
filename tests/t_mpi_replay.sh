#!/usr/bin/env bash
# t_mpi_replay.sh -- the replay stage end to end through the result file.
#
# A tiny spec with replay on and off (axis), two cells and two replay
# horizons (6 tasks) run with `mpirun -n 2`:
#  1. tests/check_results.py --complete (/replay shapes, finite metrics of
#     done rows with replay on, trajectories inside the arena's box, NaN /
#     -1 for rows with replay off), plus h5py: the /replay dimensions, the
#     units/dims attributes, the /tasks replay_speed_cm and replay_kl
#     columns equal /replay's, shorter replays padded with NaN;
#  2. the same spec on 1 rank (no mpirun) gives the same file (--compare);
#  3. shards 0/2 and 1/2 merged with `sweep merge` equal the unsharded run,
#     /replay included (--compare);
#  4. resume: shard 0 alone merged into a file of the whole spec (the other
#     rows pending), completed with `--resume` (the file's /replay opened
#     and written), equals the unsharded run;
#  5. `sweep status` lists grid_frac_null next to grid_frac.
# Environment (tests/run.sh): SWEEP, PYTHON.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp removed at exit, fail
CHECK="$PYTHON tests/check_results.py"

cat > "$tmp/rp.yaml" <<'YAML'
name: replay_tiny
model: {hidden: 16, activation: relu, tau: 0.05, noise: 0.02}
task: {seq_len: 10}
place: {n_place: 24, place_sigma: 0.2}
train: {steps: 30, batch: 8, lr: 1.0e-3, log_every: 10}
eval: {eval_batch: 8, ratemap_trajectories: 24, ratemap_bins: 8, null_shuffles: 20, null_units: 8}
replay: {replay_starts: 8, replay_keep: 3, replay_burn_in: 5}
sweep:
  replay: [true, false]
  cell: [leaky, momentum]
  replay_steps: [30, 60]
YAML

"$SWEEP" --dry-run "$tmp/rp.yaml" | tail -n 1
mpirun -n 2 "$SWEEP" "$tmp/rp.yaml" -o "$tmp/two.h5"
$CHECK "$tmp/two.h5" --complete --tasks 6

"$PYTHON" - "$tmp/two.h5" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
t = f["tasks"][:]
g = f["replay"]
on = t["replay"] == 1
assert on.sum() == 4 and (~on).sum() == 2, t["replay"]
R = len(t)
assert g["traj"].shape == (R, 3, 61, 2), g["traj"].shape
assert g["occ"].shape == g["occ_real"].shape == (R, 8, 8)
for k in ("sigma", "speed_cm", "real_step_cm", "speed_ratio", "spread_cm2", "coverage", "mean_first_visit",
          "outside", "kl", "kl_uniform", "kl_untrained", "n_in"):
    assert g[k].shape == (R,), (k, g[k].shape)
    assert "units" in g[k].attrs and g[k].attrs["dims"] == "task", k
assert g["traj"].attrs["units"] == "m" and g["traj"].attrs["dims"] == "task, replay, step, xy"
assert g["speed_cm"].attrs["units"] == "cm/step" and g["kl"].attrs["units"] == "nats"
sp, kl = g["speed_cm"][:], g["kl"][:]
assert np.isfinite(sp[on]).all() and (sp[on] > 0).all(), sp
assert np.isnan(sp[~on]).all() and (g["n_in"][:][~on] == -1).all()
assert np.array_equal(t["replay_speed_cm"], sp, equal_nan=True), (t["replay_speed_cm"], sp)
assert np.array_equal(t["replay_kl"], kl, equal_nan=True)
assert np.allclose(g["sigma"][:][on], np.sqrt(2.0) * 0.02)
tr = g["traj"][:]
for r in np.nonzero(on)[0]:
    H1 = int(t["replay_steps"][r]) + 1
    assert np.isfinite(tr[r, :, :H1]).all() and np.isnan(tr[r, :, H1:]).all(), r
    assert (np.abs(tr[r, :, :H1]) <= 1.1 + 1e-5).all(), r
    # the trajectories move: the mean step of the kept replays is positive
    assert np.linalg.norm(np.diff(tr[r, :, :H1], axis=1), axis=-1).mean() > 0, r
assert np.isnan(tr[~on]).all()
print("replay datasets ok:", int(on.sum()), "tasks with replay of", R)
PY

"$SWEEP" "$tmp/rp.yaml" -o "$tmp/one.h5"
$CHECK "$tmp/one.h5" --complete --compare "$tmp/two.h5"

mpirun -n 2 "$SWEEP" "$tmp/rp.yaml" --shard 0/2 -o "$tmp/s0.h5"
mpirun -n 2 "$SWEEP" "$tmp/rp.yaml" --shard 1/2 -o "$tmp/s1.h5"
"$SWEEP" merge -o "$tmp/merged.h5" "$tmp/s1.h5" "$tmp/s0.h5"
$CHECK "$tmp/merged.h5" --complete --compare "$tmp/two.h5"

rc=0; "$SWEEP" merge -o "$tmp/part.h5" "$tmp/s0.h5" || rc=$?
[ $rc -eq 3 ] || { echo "FAIL: merge of one shard exited $rc, expected 3 (tasks left pending)"; exit 1; }
"$PYTHON" -c '
import sys, h5py
t = h5py.File(sys.argv[1], "r")["tasks"][:]
assert sorted(t["status"].tolist()) == [b"done"] * 3 + [b"pending"] * 3, t["status"]' "$tmp/part.h5"
mpirun -n 2 "$SWEEP" "$tmp/rp.yaml" --resume -o "$tmp/part.h5"
$CHECK "$tmp/part.h5" --complete --compare "$tmp/two.h5"

"$SWEEP" status "$tmp/two.h5" > "$tmp/status.txt"
grep -q "grid_frac  *grid_frac_null" "$tmp/status.txt" || { cat "$tmp/status.txt"; echo "FAIL: status has no grid_frac_null column"; exit 1; }
echo "t_mpi_replay ok"
