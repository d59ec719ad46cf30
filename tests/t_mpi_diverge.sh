#!/usr/bin/env bash
# t_mpi_diverge.sh -- a task that diverges is recorded as diverged with its
# message and does not stop the sweep (exit 0: divergence is a result);
# --resume keeps it (nothing to run).
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp removed at exit, fail
# a linear vanilla RNN: lr 1e-3 trains, lr 10 blows up at once
cat > "$tmp/div.yaml" <<'YAML'
name: diverge
model: {hidden: 32, activation: none, cell: vanilla}
task: {seq_len: 20}
place: {n_place: 32}
train: {steps: 100, batch: 16, log_every: 10, weight_decay: 0}
eval: {eval_batch: 32, ratemap_trajectories: 100, ratemap_bins: 8}
sweep:
  lr: [1.0e-3, 10.0]
  seed: [0, 1]
YAML
mpirun -n 3 "$SWEEP" "$tmp/div.yaml" -o "$tmp/d.h5"
"$PYTHON" tests/check_results.py "$tmp/d.h5" --complete
"$PYTHON" - "$tmp/d.h5" <<'PY'
import sys, h5py, numpy as np
t = h5py.File(sys.argv[1], "r")["tasks"][:]
st = [s.decode() for s in t["status"]]
print(list(zip(t["lr"].tolist(), st)))
assert st.count("done") == 2 and st.count("diverged") == 2, st
for row in t[t["lr"] > 1]:
    assert row["status"] == b"diverged" and b"nan" in row["message"].lower(), row
    assert row["steps_done"] < 100 and row["rank"] >= 1
PY
mpirun -n 2 "$SWEEP" "$tmp/div.yaml" -o "$tmp/d.h5" --resume 2>"$tmp/log"
grep -q "(0 to run)" "$tmp/log" || { cat "$tmp/log"; exit 1; }
echo "divergence recorded"
