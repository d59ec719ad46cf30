# tests/lib.sh -- shared preamble of the MPI fault and signal scripts
# (sourced, after `cd` to the repository root):
#   SWEEP, PYTHON       defaults build/sweep and /usr/bin/python3
#   Open MPI as root, oversubscribed; one OpenBLAS thread
#   tmp                 a temporary directory, removed at exit
#   pid, ranks          set by the script to mpirun's pid / rank pids: at exit
#                       they are killed (Open MPI 4.1 puts every rank in its
#                       own process group, so the job is killed by pid; and
#                       only by the script itself, not by a child forked for
#                       `cmd &` and signalled before its exec)
#   fail MSG            print FAIL: MSG and exit 1
#   wait_for S RE FILE  poll FILE for the regex RE for up to S seconds, or
#                       until $pid is gone; status 0 when found
#   status_of FILE ID   the /tasks status of task ID
: "${SWEEP:=$PWD/build/sweep}" "${PYTHON:=/usr/bin/python3}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
tmp=$(mktemp -d)
pid=
ranks=
lib_cleanup() {
  [ "$BASHPID" = "$$" ] || return 0
  [ -n "$pid" ] && kill -9 "$pid" $(ps -o pid= --ppid "$pid") 2>/dev/null
  [ -n "$ranks" ] && kill -9 $ranks 2>/dev/null
  rm -rf "$tmp"
}
trap lib_cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
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
