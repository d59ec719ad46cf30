# tests/lib.sh -- the shared preamble of every tests/t_*.sh script
# (sourced, after `cd` to the repository root):
#   BUILD, SWEEP, PYTHON  defaults build, $PWD/$BUILD/sweep, /usr/bin/python3
#   Open MPI as root, oversubscribed; one OpenBLAS thread
#   tmp                 a temporary directory, removed at exit (made
#                       writable first, so a test may leave read-only parts)
#   at_exit CMD         run CMD (a string, eval'd) at exit, before tmp goes
#   pid, ranks          set by the script to mpirun's pid / rank pids: at exit
#                       they are killed (Open MPI 4.1 puts every rank in its
#                       own process group, so the job is killed by pid; and
#                       only by the script itself, not by a child forked for
#                       `cmd &` and signalled before its exec)
#   fail MSG            print FAIL: MSG and exit 1
#   soft_fail MSG       print FAIL: MSG, count it ($failures) and go on; at
#                       exit the script's status becomes 1 whatever it
#                       exits with, so a counted failure cannot be lost
#   skip MSG            print SKIP: MSG and exit 77: the test cannot run
#                       here; tests/run.sh counts it as skipped, never passed
#   wait_for S RE FILE  poll FILE for the regex RE for up to S seconds, or
#                       until $pid is gone; status 0 when found
#   status_of FILE ID   the /tasks status of task ID
: "${BUILD:=build}"
: "${SWEEP:=$PWD/$BUILD/sweep}" "${PYTHON:=/usr/bin/python3}"
export BUILD SWEEP PYTHON
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sweep-test.XXXXXX") || { echo "FAIL: mktemp"; exit 1; }
pid=
ranks=
failures=0
lib_exit_cmds=()
at_exit() { lib_exit_cmds+=("$*"); }
lib_cleanup() {
  local rc=$? c
  [ "$BASHPID" = "$$" ] || return 0
  set +e   # the clean-up never turns a result into another (set -e scripts)
  [ -n "$pid" ] && kill -9 "$pid" $(ps -o pid= --ppid "$pid") 2>/dev/null
  [ -n "$ranks" ] && kill -9 $ranks 2>/dev/null
  for c in "${lib_exit_cmds[@]}"; do eval "$c"; done
  chmod -R u+rwx "$tmp" 2>/dev/null
  rm -rf "$tmp"
  if [ "$failures" -gt 0 ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; }; then
    echo "FAIL: $failures check(s) failed"
    exit 1
  fi
  return "$rc"
}
trap lib_cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
soft_fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
skip() { echo "SKIP: $*"; exit 77; }
wait_for() {
  local i
  for ((i = 0; i < $1 * 20; i++)); do
    grep -qE -- "$2" "$3" 2>/dev/null && return 0
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.05
  done
  grep -qE -- "$2" "$3" 2>/dev/null
}
status_of() {
  "$PYTHON" - "$1" "$2" <<'PY'
import sys, h5py
t = h5py.File(sys.argv[1], "r")["tasks"]
print(t["status"][list(t["id"]).index(int(sys.argv[2]))].decode())
PY
}
