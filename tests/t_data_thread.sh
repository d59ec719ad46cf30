#!/usr/bin/env bash
# t_data_thread.sh -- train.data_thread (docs/spec.md, "Run settings of the
# train section"): a task whose training batches a second thread makes one
# step ahead gives the same file, number for number, as one made in line,
# under run-one and under mpirun, and when stopped by the time limit and
# resumed from its checkpoint; the thread is logged when used; a bad value
# or an axis is refused with file:line:column.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp removed at exit, fail

# DoG targets, hidden noise, snapshots and a null: every stream and buffer
# the training batches touch
spec() {  # data_thread steps
  cat <<EOF
name: data-thread
model: {hidden: 32, activation: relu, noise: 0.01}
task: {seq_len: 10}
place: {n_place: 32, target: dog}
train: {steps: $2, batch: 16, lr: 1.0e-3, log_every: 500, data_thread: $1, stop_grace: 0, checkpoint_every: 0.2}
eval: {eval_batch: 32, ratemap_trajectories: 200, ratemap_bins: 10, null_shuffles: 20,
       snapshot_every: 1000, snapshot_trajectories: 32}
sweep: {seed: [0, 1]}
EOF
}
spec on 2000 >"$tmp/on.yaml"
spec off 2000 >"$tmp/off.yaml"

same() {  # a.h5 b.h5: every dataset equal but the timings and the rank
  "$PYTHON" - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
skip = {"rank", "wall_s", "train_s", "eval_s"}
ta, tb = a["tasks"][()], b["tasks"][()]
assert len(ta) == len(tb) and len(ta) > 0, (len(ta), len(tb))
for k in ta.dtype.names:
    if k in skip:
        continue
    x, y = ta[k], tb[k]
    ok = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)
    assert ok, ("tasks", k, x, y)
assert set(ta["status"]) == {b"done"} or set(ta["status"]) == {1}, ta["status"]
names = []
a.visit(lambda n: names.append(n) if isinstance(a[n], h5py.Dataset) and n != "tasks" else None)
assert len(names) > 5, names
for n in names:
    x, y = a[n][()], b[n][()]
    ok = x.shape == y.shape and (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y))
    assert ok, n
print(f"{sys.argv[1]} == {sys.argv[2]}: {len(names)} datasets and the /tasks columns")
PY
}

# run-one, each way; the thread is logged only when used
"$SWEEP" run-one "$tmp/on.yaml" --task 1 -o "$tmp/on1.h5" 2>"$tmp/log_on"
"$SWEEP" run-one "$tmp/off.yaml" --task 1 -o "$tmp/off1.h5" 2>"$tmp/log_off"
grep -q 'second thread (train.data_thread on' "$tmp/log_on" || { cat "$tmp/log_on"; fail "data thread not logged"; }
! grep -q 'second thread' "$tmp/log_off" || fail "data thread logged with train.data_thread off"
same "$tmp/on1.h5" "$tmp/off1.h5"

# the whole sweep under mpirun (2 tasks on 2 workers), each way
mpirun -n 3 "$SWEEP" "$tmp/on.yaml" -o "$tmp/on.h5" 2>"$tmp/log_mpi"
mpirun -n 3 "$SWEEP" "$tmp/off.yaml" -o "$tmp/off.h5" 2>/dev/null
grep -q 'second thread (train.data_thread on' "$tmp/log_mpi" || { cat "$tmp/log_mpi"; fail "not logged under mpirun"; }
same "$tmp/on.h5" "$tmp/off.h5"

# stopped by the time limit with the thread (checkpoint, exit 3), resumed
# with it: the same as in line without a stop
spec on 30000 >"$tmp/on_long.yaml"
spec off 30000 >"$tmp/off_long.yaml"
set +e
"$SWEEP" run-one "$tmp/on_long.yaml" --task 0 -o "$tmp/stop.h5" --time-limit 0.5 2>"$tmp/log_stop"; rc=$?
set -e
[ "$rc" -eq 3 ] || { cat "$tmp/log_stop"; fail "time limit: exit $rc, expected 3 (the task ended before 0.5 s?)"; }
ls "$tmp/stop.h5.ckpt"/task-0.h5 >/dev/null || fail "no checkpoint after the stop"
"$SWEEP" run-one "$tmp/on_long.yaml" --task 0 -o "$tmp/stop.h5" --resume 2>"$tmp/log_resume"
grep -q 'resumes from its checkpoint at step' "$tmp/log_resume" || { cat "$tmp/log_resume"; fail "not resumed"; }
"$SWEEP" run-one "$tmp/off_long.yaml" --task 0 -o "$tmp/ref.h5" 2>/dev/null
same "$tmp/stop.h5" "$tmp/ref.h5"

# bad input: a value that is not auto/off/on, and an axis
spec maybe 10 >"$tmp/bad.yaml"
set +e
"$SWEEP" --dry-run "$tmp/bad.yaml" >/dev/null 2>"$tmp/err"; rc=$?
set -e
cat "$tmp/err"
[ "$rc" -eq 2 ] || fail "bad value: exit $rc, expected 2"
grep -q "bad.yaml:5:[0-9]*: train.data_thread: expected 'auto', 'off' or 'on', got maybe" "$tmp/err" ||
  fail "bad value: message does not name file:line:column, key and value"
spec on 10 | sed 's/sweep: {seed: \[0, 1\]}/sweep: {data_thread: [on, off]}/' >"$tmp/axis.yaml"
set +e
"$SWEEP" --dry-run "$tmp/axis.yaml" >/dev/null 2>"$tmp/err"; rc=$?
set -e
cat "$tmp/err"
[ "$rc" -eq 2 ] || fail "axis: exit $rc, expected 2"
grep -q "axis.yaml:8:[0-9]*: sweep.data_thread: 'data_thread' is a run setting" "$tmp/err" || fail "axis: message"
echo "data thread: same results in line and ahead, run-one, mpirun, stop and resume; bad input refused"
