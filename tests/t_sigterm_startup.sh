#!/usr/bin/env bash
# t_sigterm_startup.sh -- SIGTERM during start-up.  Whatever the moment,
# the run exits non-zero with a clear message, never leaves a half-made
# file at the result's name (it is built as FILE.creating and renamed),
# never leaves a lock that stops a rerun, and a rerun / --resume finishes:
#   1. one process, SIGTERM right after the fork (before sweep installs its
#      handlers: killed, 143, nothing created; or, if the handlers were
#      already in place, a clean stop, 3);
#   2. mpirun, SIGTERM to the ranks as soon as they exist (the same two
#      outcomes; mpirun reports "exited on signal 15" for the first);
#   3. SIGTERM to the ranks while FILE.creating is being built (held there
#      by the SWEEP_TEST_CREATE_DELAY_MS hook of src/io/h5out.c): the file is
#      completed and renamed, every task pending, exit 3, lock released;
#   4. SIGTERM to mpirun at the same moment, with the hook holding the
#      file longer than mpirun's 1 s SIGTERM-to-SIGKILL grace: the ranks
#      are killed; no file at the result's name, only FILE.creating and an
#      unlocked FILE.lock, and a plain rerun (no --resume, no --force)
#      creates and finishes the file.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp, pid/ranks killed at exit, fail, wait_for, status_of
SPEC=sweeps/smoke.yaml

all_pending() {  # file: opens, checks, every task pending
  h5dump -H "$1" >/dev/null || fail "h5dump cannot read $1"
  "$PYTHON" tests/check_results.py "$1" || fail "$1 after the stop"
  "$PYTHON" - "$1" <<'PY' || fail "$1: expected every task pending"
import sys, h5py
st = [s.decode() for s in h5py.File(sys.argv[1], "r")["tasks"]["status"]]
assert st and set(st) == {"pending"}, st
PY
}
unlocked() {  # file: FILE.lock absent or not locked by anyone
  [ ! -e "$1.lock" ] || flock -n "$1.lock" true || fail "$1.lock is still locked"
}
resumes() {  # file [plain]: --resume (plain: a rerun without it) finishes the sweep
  local f=$1 args=(--resume)
  [ "${2:-}" = plain ] && args=()
  mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" "${args[@]}" >"$f.rerun.log" 2>&1 || { cat "$f.rerun.log"; fail "rerun of $f"; }
  "$PYTHON" tests/check_results.py "$f" --complete || fail "$f after the rerun"
  [ ! -e "$f.creating" ] && [ ! -e "$f.lock" ] || fail "$f: a temporary or lock file was left behind by the rerun"
}
early_outcome() {  # status log file: killed before the handlers, or a clean stop
  local rc=$1 log=$2 f=$3
  case $rc in
    143)
      echo "  killed before sweep's handlers (143)"
      [ ! -e "$f" ] || all_pending "$f" ;;
    3)
      echo "  clean stop (3): the handlers were in place"
      grep -q "stopped by SIGTERM" "$log" || { cat "$log"; fail "no stop message"; }
      all_pending "$f" ;;
    *) cat "$log"; fail "exit $rc after an early SIGTERM, expected 143 or 3" ;;
  esac
  unlocked "$f"
}

# 1. one process, SIGTERM at once
echo "1. one process, SIGTERM right after the fork"
f=$tmp/one.h5
"$SWEEP" "$SPEC" -o "$f" >"$f.log" 2>&1 &
p1=$!
kill -TERM "$p1"   # at once: before (or during) the exec, long before the handlers
wait "$p1"; rc=$?
early_outcome "$rc" "$f.log" "$f"
"$SWEEP" "$SPEC" -o "$f" --resume >"$f.rerun.log" 2>&1 || { cat "$f.rerun.log"; fail "rerun of $f"; }
"$PYTHON" tests/check_results.py "$f" --complete || fail "$f after the rerun"

# 2. mpirun, SIGTERM to the ranks as soon as they exist
echo "2. mpirun, SIGTERM to the ranks as soon as they exist"
f=$tmp/early.h5
mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" >"$f.log" 2>&1 &
pid=$!
ranks=
for _ in $(seq 20000); do
  ranks=$(ps -o pid= --ppid "$pid")
  [ "$(echo $ranks | wc -w)" -ge 3 ] && break
  kill -0 "$pid" 2>/dev/null || break
done
[ -n "$ranks" ] || { cat "$f.log"; fail "no ranks seen"; }
kill -TERM $ranks 2>/dev/null
wait "$pid"; rc=$?; pid=
early_outcome "$rc" "$f.log" "$f"
[ "$rc" -ne 143 ] || grep -q "exited on signal 15" "$f.log" || { cat "$f.log"; fail "mpirun did not say why"; }
resumes "$f"

# 3. SIGTERM to the ranks while FILE.creating is built: a clean stop
echo "3. SIGTERM to the ranks while the file is created"
f=$tmp/create.h5
: > "$f.log"
mpirun -n 3 -x SWEEP_TEST_CREATE_DELAY_MS=1500 "$SWEEP" "$SPEC" -o "$f" >"$f.log" 2>&1 &
pid=$!
wait_for 30 "test hook: .* built" "$f.log" || { cat "$f.log"; fail "the create hook never ran"; }
[ ! -e "$f" ] || fail "$f exists before it is complete"
[ -e "$f.creating" ] || fail "$f.creating does not exist while the file is built"
flock -n "$f.lock" true 2>/dev/null && fail "$f.lock is not locked while the file is built"
kill -TERM $(ps -o pid= --ppid "$pid")
wait "$pid"; rc=$?; pid=
[ "$rc" -eq 3 ] || { cat "$f.log"; fail "exit $rc, expected 3"; }
grep -q "stopped by SIGTERM; incomplete: resume with" "$f.log" || { cat "$f.log"; fail "no stop message"; }
all_pending "$f"
[ ! -e "$f.creating" ] && [ ! -e "$f.lock" ] || fail "$f: .creating or .lock left after a clean stop"
resumes "$f"

# 4. SIGTERM to mpirun while the file is created: the ranks are SIGKILLed
echo "4. SIGTERM to mpirun while the file is created (ranks killed 1 s later)"
f=$tmp/killed.h5
: > "$f.log"
mpirun -n 3 -x SWEEP_TEST_CREATE_DELAY_MS=6000 "$SWEEP" "$SPEC" -o "$f" >"$f.log" 2>&1 &
pid=$!
wait_for 30 "test hook: .* built" "$f.log" || { cat "$f.log"; fail "the create hook never ran"; }
ranks=$(ps -o pid= --ppid "$pid")
kill -TERM "$pid"
wait "$pid"; rc=$?; pid=
[ "$rc" -ne 0 ] || { cat "$f.log"; fail "mpirun exited 0"; }
for r in $ranks; do
  for _ in $(seq 100); do kill -0 "$r" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$r" 2>/dev/null || fail "rank $r survived"
done
[ ! -e "$f" ] || fail "a half-created file was left at the result's name $f"
[ -e "$f.creating" ] || echo "  (no $f.creating left)"
unlocked "$f"
resumes "$f" plain
echo "start-up stops ok"
