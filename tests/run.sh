#!/usr/bin/env bash
# tests/run.sh -- run the whole suite and print one closing line
# "N passed, N failed".  Exit status is non-zero if anything failed.
#
#   unit tests:        every $BUILD/tests/test_* program (C, links libsweep.a)
#   integration tests: every tests/t_*.sh script (mpirun, python, h5py, ...)
#
# Environment: BUILD (default build), PYTHON (default /usr/bin/python3),
# UNIT_ONLY=1 to skip the scripts, ONLY=glob to run matching names only,
# SKIP="name ..." to leave those out,
# WRAP="valgrind ..." to run the unit tests under a wrapper.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
export PYTHON=${PYTHON:-/usr/bin/python3}
export SWEEP=${SWEEP:-$PWD/$BUILD/sweep}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
ONLY=${ONLY:-*}
SKIP=" ${SKIP:-} "
WRAP=${WRAP:-}
passed=0; failed=0; failures=()
log=$BUILD/test-logs; mkdir -p "$log"

run_one() {  # name, command...
  local name=$1; shift
  local t0=$SECONDS
  if "$@" >"$log/$name.log" 2>&1; then
    passed=$((passed+1)); echo "PASS $name ($((SECONDS-t0)) s)"
  else
    failed=$((failed+1)); failures+=("$name"); echo "FAIL $name ($((SECONDS-t0)) s)"
    sed 's/^/    | /' "$log/$name.log" | tail -n 40
  fi
}

for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  [[ $name == $ONLY ]] || continue
  [[ $SKIP == *" $name "* ]] && continue
  run_one "$name" $WRAP "$t"
done
if [ -z "${UNIT_ONLY:-}" ]; then
  for s in tests/t_*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    [[ $name == $ONLY ]] || continue
    [[ $SKIP == *" $name "* ]] && continue
    run_one "$name" bash "$s"
  done
fi
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
