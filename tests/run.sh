#!/usr/bin/env bash
# tests/run.sh -- run the whole suite and print one closing line
# "N passed, N failed, N skipped".  Exit status is non-zero if anything
# failed or if nothing ran at all.
#
#   unit tests:        every $BUILD/tests/test_* program (C, links libsweep.a)
#   integration tests: every tests/t_*.sh script (mpirun, python, h5py, ...)
#
# A test that cannot run here (a missing optional tool that cannot be
# installed) prints "SKIP: reason" and exits 77 (tests/lib.sh, skip()): it
# is counted as skipped, listed by name with its reason, and never as a
# pass.  Exit status 77 without a "SKIP:" line is a failure.
#
# Environment: BUILD (default build), PYTHON (default /usr/bin/python3),
# UNIT_ONLY=1 to skip the scripts, ONLY=glob to run matching names only,
# SKIP="name ..." to leave those out, NO_SKIPS=1 to make a skipped test
# fail the run (it is still reported as skipped), EXTRA_TESTS=DIR to also
# run DIR/t_*.sh (the suite's own self-test uses it),
# WRAP="valgrind ..." to run the unit tests under a wrapper.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
export PYTHON=${PYTHON:-/usr/bin/python3}
case $BUILD in /*) sweep_default=$BUILD/sweep ;; *) sweep_default=$PWD/$BUILD/sweep ;; esac
export SWEEP=${SWEEP:-$sweep_default}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
ONLY=${ONLY:-*}
SKIP=" ${SKIP:-} "
WRAP=${WRAP:-}
passed=0; failed=0; skipped=0; failures=(); skips=()
log=$BUILD/test-logs; mkdir -p "$log"

run_one() {  # name, command...
  local name=$1 rc reason; shift
  local t0=$SECONDS
  "$@" >"$log/$name.log" 2>&1
  rc=$?
  reason=$(sed -n 's/^SKIP: *//p' "$log/$name.log" | head -n 1)
  if [ $rc -eq 0 ]; then
    passed=$((passed+1)); echo "PASS $name ($((SECONDS-t0)) s)"
  elif [ $rc -eq 77 ] && [ -n "$reason" ]; then
    skipped=$((skipped+1)); skips+=("$name"); echo "SKIP $name: $reason"
  else
    [ $rc -eq 77 ] && echo "    | (exit status 77 without a 'SKIP: reason' line: a failure)" >>"$log/$name.log"
    failed=$((failed+1)); failures+=("$name"); echo "FAIL $name ($((SECONDS-t0)) s, exit status $rc)"
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
  for s in tests/t_*.sh ${EXTRA_TESTS:+"$EXTRA_TESTS"/t_*.sh}; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    [[ $name == $ONLY ]] || continue
    [[ $SKIP == *" $name "* ]] && continue
    run_one "$name" bash "$s"
  done
fi
[ ${#failures[@]} -eq 0 ] || echo "failed: ${failures[*]}"
[ ${#skips[@]} -eq 0 ] || echo "skipped: ${skips[*]}"
[ $((passed + failed + skipped)) -gt 0 ] || echo "no test matched ONLY='$ONLY'"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ $((passed + failed + skipped)) -gt 0 ] &&
  { [ "$skipped" -eq 0 ] || [ -z "${NO_SKIPS:-}" ]; }
