#!/usr/bin/env bash
# t_mpi_refuse.sh -- what must be refused is refused, with exit 4 and a
# message that says why, and the existing file is left untouched:
# an existing output without --resume; a --resume of a file written by a
# different spec (the message names the differing lines); a file that is
# not HDF5; an output directory that does not exist.  --force replaces the
# file; --resume of a complete file runs nothing; --resume of a missing
# file starts it.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp removed at exit, fail
expect() {  # status, log-pattern, command...
  local want=$1 pat=$2; shift 2
  "$@" >"$tmp/log" 2>&1; local rc=$?
  [ "$rc" -eq "$want" ] || { cat "$tmp/log"; fail "$* -> exit $rc, expected $want"; }
  [ -z "$pat" ] || grep -q -- "$pat" "$tmp/log" || { cat "$tmp/log"; fail "$* -> no '$pat' in the output"; }
}
out=$tmp/r.h5
expect 0 "" mpirun -n 2 "$SWEEP" sweeps/smoke.yaml -o "$out"
sum0=$(md5sum < "$out")

expect 4 "exists" mpirun -n 2 "$SWEEP" sweeps/smoke.yaml -o "$out"
[ "$(md5sum < "$out")" = "$sum0" ] || fail "refused file was modified"

expect 0 "(0 to run)" mpirun -n 2 "$SWEEP" sweeps/smoke.yaml -o "$out" --resume

# a different spec (one seed changed): refused, the diff names the line
sed 's/^  seed: \[0, 1\]/  seed: [0, 2]/' sweeps/smoke.yaml > "$tmp/other.yaml"
grep -q 'seed: \[0, 2\]' "$tmp/other.yaml" || fail "could not make the other spec"
expect 4 "different spec" mpirun -n 2 "$SWEEP" "$tmp/other.yaml" -o "$out" --resume
grep -q -- "- .*seed" "$tmp/log" && grep -q -- "+ .*seed" "$tmp/log" || { cat "$tmp/log"; fail "the diff does not name the seed lines"; }
[ "$(md5sum < "$out")" = "$sum0" ] || fail "mismatched resume modified the file"

# a shard file is not the unsharded run
expect 4 "shard" mpirun -n 2 "$SWEEP" sweeps/smoke.yaml -o "$out" --resume --shard 1/2

# not HDF5, missing directory
echo "not a result file" > "$tmp/text.h5"
expect 4 "not an HDF5 file" "$SWEEP" sweeps/smoke.yaml -o "$tmp/text.h5" --resume
expect 4 "output directory .*no/such/dir does not exist" "$SWEEP" sweeps/smoke.yaml -o "$tmp/no/such/dir/r.h5"

# --force replaces; --resume of a missing file starts it
expect 0 "" mpirun -n 2 "$SWEEP" sweeps/smoke.yaml -o "$out" --force
"$PYTHON" - "$out" <<'PY' || fail "--force did not rewrite the file"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert "--force" in f.attrs["command_line"], f.attrs["command_line"]
PY
expect 0 "starting it" "$SWEEP" sweeps/smoke.yaml -o "$tmp/new.h5" --resume
"$PYTHON" tests/check_results.py "$tmp/new.h5" --complete || fail "resume-started file incomplete"
# sharded runs: two files, disjoint ids, together every task
expect 0 "" mpirun -n 2 "$SWEEP" sweeps/smoke.yaml -o "$tmp/s0.h5" --shard 0/2
expect 0 "" mpirun -n 2 "$SWEEP" sweeps/smoke.yaml -o "$tmp/s1.h5" --shard 1/2
"$PYTHON" - "$tmp/s0.h5" "$tmp/s1.h5" "$out" <<'PY' || fail "shards"
import sys, h5py
a, b, full = (h5py.File(p, "r") for p in sys.argv[1:])
ia, ib = list(a["tasks"]["id"]), list(b["tasks"]["id"])
assert all(i % 2 == 0 for i in ia) and all(i % 2 == 1 for i in ib), (ia, ib)
assert sorted(ia + ib) == sorted(full["tasks"]["id"]), (ia, ib)
assert a.attrs["shard"] == "0/2" and b.attrs["shard"] == "1/2"
print("shards ok")
PY
"$PYTHON" tests/check_results.py "$tmp/s1.h5" --complete || fail "shard file"
# two sweeps on one file: the second is refused while the first runs
sed 's/^  steps: 60$/  steps: 4000/' sweeps/smoke.yaml > "$tmp/long.yaml"
grep -q 'steps: 4000' "$tmp/long.yaml" || fail "could not make the long spec"
mpirun -n 2 "$SWEEP" "$tmp/long.yaml" -o "$tmp/busy.h5" >"$tmp/busy.log" 2>&1 & first=$!
for _ in $(seq 50); do [ -e "$tmp/busy.h5" ] && break; sleep 0.1; done
expect 4 "in use by another running sweep" "$SWEEP" "$tmp/long.yaml" -o "$tmp/busy.h5" --resume
kill -USR1 "$first"; wait "$first"
echo "all refusals ok"
