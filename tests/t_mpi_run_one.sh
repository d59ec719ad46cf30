#!/usr/bin/env bash
# t_mpi_run_one.sh -- `sweep run-one SPEC --task K -o FILE`: one task in
# one process (MPI singleton), a progress line, a one-row file in the same
# format whose data equal row K of a whole-sweep run; an existing output is
# refused (exit 4) unless --force.
set -eu
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp removed at exit, fail

"$SWEEP" sweeps/smoke.yaml -o "$tmp/all.h5"
"$SWEEP" run-one sweeps/smoke.yaml --task 3 -o "$tmp/one.h5" 2>"$tmp/log"
cat "$tmp/log"
grep -q 'steps/s' "$tmp/log"
grep -q 'loss' "$tmp/log"
"$PYTHON" tests/check_results.py "$tmp/one.h5" --complete --tasks 1

set +e
"$SWEEP" run-one sweeps/smoke.yaml --task 3 -o "$tmp/one.h5" 2>"$tmp/log2"; rc=$?
set -e
[ "$rc" -eq 4 ] || { echo "existing output: exit $rc, expected 4"; cat "$tmp/log2"; exit 1; }
grep -q 'exists' "$tmp/log2"
"$SWEEP" run-one sweeps/smoke.yaml --task 3 -o "$tmp/one.h5" --force 2>/dev/null

"$PYTHON" - "$tmp/one.h5" "$tmp/all.h5" <<'PY'
import sys, h5py, numpy as np
one, full = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
assert one["tasks"]["id"][0] == 3
row = list(full["tasks"]["id"]).index(3)
skip = {"rank", "wall_s", "train_s", "eval_s"}
a, b = one["tasks"][0], full["tasks"][row]
for k in one["tasks"].dtype.names:
    if k in skip:
        continue
    x, y = a[k], b[k]
    assert (x == y) or (isinstance(x, np.floating) and np.isnan(x) and np.isnan(y)), (k, x, y)
names = []
one.visit(lambda n: names.append(n) if isinstance(one[n], h5py.Dataset) and n != "tasks" else None)
for n in names:
    x = one[n][()]
    y = full[n][()] if n == "curves/eval_noise" else full[n][row:row + 1]
    assert x.shape == y.shape and np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), n
print("run-one row equals the sweep's row", row)
PY
