#!/usr/bin/env bash
# t_mpi_signal.sh -- clean stops.  Each stop leaves a file whose structure
# is intact and whose done tasks are complete (check_results.py), with
# tasks still pending, and --resume finishes it:
#   SIGUSR1 to mpirun (forwarded to the ranks): drain, exit 3 (and the file
#     reads with h5dump and h5py while the sweep runs);
#   SIGTERM to the ranks (what srun / SLURM's time limit do): exit 3;
#   SIGTERM to mpirun (Open MPI 4.1 then SIGTERMs the ranks and SIGKILLs
#     them 1 s later; mpirun itself exits 1): the file is still resumable;
#   --time-limit: drain (running tasks finish), exit 3;
#   SIGTERM to a single process: exit 3.
# Tasks take about 1 s here (8000 steps), so a stop 1.2 s after the file
# appears always leaves some pending, however fast the machine.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp, pid/ranks killed at exit, fail
cat > "$tmp/slow.yaml" <<'YAML'
name: slow
model: {hidden: 64, activation: relu}
task: {seq_len: 10}
place: {n_place: 32}
train: {steps: 8000, batch: 16, lr: 1.0e-3, log_every: 100}
eval: {eval_batch: 32, ratemap_trajectories: 200, ratemap_bins: 10, eval_noise: [0.0, 0.03]}
output: {progress_every: 1}
sweep:
  cell: [vanilla, leaky]
  tau: [0.05, 0.2]
  seed: [0, 1, 2]
YAML
SPEC=$tmp/slow.yaml

start() {  # file, extra args...: mpirun -n 3 in the background
  local f=$1; shift
  mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" "$@" >"$f.log" 2>&1 &
  pid=$!
}
ready() {  # file: wait until the sweep has created it (renamed from
  # FILE.creating: slow under sanitizers or on a loaded machine), then 1.2 s
  local f=$1 i
  for i in $(seq 1200); do [ -e "$f" ] && break; sleep 0.1; done
  [ -e "$f" ] || fail "$f was not created within 120 s"
  sleep 1.2
}
finish() {  # expected-status file
  wait "$pid"; local rc=$?; pid=
  [ "$rc" -eq "$1" ] || { cat "$2.log"; fail "exit $rc, expected $1"; }
}
stopped_ok() {  # file [resume]: intact, done tasks complete, some pending; resume to the end
  local f=$1
  h5dump -H "$f" >/dev/null || fail "h5dump cannot read $f"
  "$PYTHON" tests/check_results.py "$f" || fail "$f after the stop"
  "$PYTHON" - "$f" <<'PY' || fail "$f: expected pending tasks after the stop"
import sys, h5py
st = [s.decode() for s in h5py.File(sys.argv[1], "r")["tasks"]["status"]]
print(sys.argv[1], {s: st.count(s) for s in set(st)})
assert "pending" in st
PY
  [ "${2:-}" = resume ] || return 0
  mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" --resume >"$f.resume.log" 2>&1 || { cat "$f.resume.log"; fail "resume of $f"; }
  "$PYTHON" tests/check_results.py "$f" --complete || fail "$f after resume"
}

# SIGUSR1 to mpirun: drain
start "$tmp/usr1.h5"; ready "$tmp/usr1.h5"
# the file reads while the sweep writes it (HDF5 readers flock it: sweep must not)
h5dump -H "$tmp/usr1.h5" >/dev/null || fail "h5dump cannot read the file of a running sweep"
"$PYTHON" -c 'import sys, h5py; h5py.File(sys.argv[1], "r")["tasks"][:]' "$tmp/usr1.h5" || fail "h5py cannot read a running sweep's file"
kill -USR1 "$pid"; finish 3 "$tmp/usr1.h5"
grep -q "stopped by SIGUSR1" "$tmp/usr1.h5.log" || { cat "$tmp/usr1.h5.log"; fail "no stop message"; }
stopped_ok "$tmp/usr1.h5" resume

# SIGTERM to every rank (not to mpirun)
start "$tmp/term.h5"; ready "$tmp/term.h5"
ranks=$(ps -o pid= --ppid "$pid"); [ -n "$ranks" ] || fail "no ranks found"
kill -TERM $ranks; finish 3 "$tmp/term.h5"
grep -q "stopped by SIGTERM" "$tmp/term.h5.log" || { cat "$tmp/term.h5.log"; fail "no stop message"; }
stopped_ok "$tmp/term.h5"

# SIGTERM to mpirun: Open MPI kills the job (mpirun exits 1); the file survives
start "$tmp/mterm.h5"; ready "$tmp/mterm.h5"; kill -TERM "$pid"
wait "$pid"; rc=$?; pid=
[ "$rc" -ne 0 ] || fail "mpirun exited 0 after SIGTERM"
stopped_ok "$tmp/mterm.h5" resume

# the time limit
start "$tmp/limit.h5" --time-limit 1.2; finish 3 "$tmp/limit.h5"
grep -q "time limit" "$tmp/limit.h5.log" || { cat "$tmp/limit.h5.log"; fail "no time-limit message"; }
"$PYTHON" tests/check_results.py "$tmp/limit.h5" --min-done 1 || fail "the tasks running at the time limit did not finish"
stopped_ok "$tmp/limit.h5"

# one process, no mpirun
"$SWEEP" "$SPEC" -o "$tmp/one.h5" >"$tmp/one.h5.log" 2>&1 & p1=$!
ready "$tmp/one.h5"; kill -TERM "$p1"; wait "$p1"; rc=$?
[ "$rc" -eq 3 ] || { cat "$tmp/one.h5.log"; fail "single process: exit $rc, expected 3"; }
stopped_ok "$tmp/one.h5"
echo "all stops ok"
