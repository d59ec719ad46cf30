#!/usr/bin/env bash
# t_valgrind.sh -- the C unit tests under valgrind memcheck.
#
# Runs every $BUILD/tests/test_* program that does not start MPI, and
# $BUILD/sweep on its MPI-free paths (--dry-run of sweeps/*.yaml and of bad
# specs, --settings, --help, a usage error; memcheck errors exit 99), under
#   valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite
#            --error-exitcode=1 --suppressions=tests/valgrind.supp
# from the repository root (the tests read sweeps/).  A test fails on any
# memcheck error (invalid read/write, use of uninitialised values, invalid
# free, ...), on a definite leak, or when the test itself fails.
# tests/valgrind.supp covers OpenBLAS, Open MPI and HDF5 internals only:
# nothing of the project's code is suppressed.
#
# Skipped, by name, unless VALGRIND_MPI=1 (tests that start MPI; the ASan +
# UBSan run of .ci/run covers them):
#   test_h5out*, test_sched*, test_run*, test_mpi*, test_cli_run*
# and, as a safety net, any test whose source (tests/NAME.c) calls MPI_Init,
# run_sweep or run_one: the line "SKIP NAME (calls MPI_Init)" says so.
#
# Also skipped by name unless VALGRIND_ALL=1, as too slow for make test:
# test_train* (full training runs: 4.5 s natively, more than 25 minutes
# under memcheck) and test_gridnull* (a null distribution of grid scores:
# 11 s natively).  The ASan + UBSan run of .ci/run covers both.
#
# Timing assertions cannot hold at valgrind's 20-50x slowdown: the script
# exports SWEEP_NO_TIMING=1, which tests with a speed check should honour.
#
# Environment: BUILD (default build), VALGRIND_TIMEOUT per test (default 600 s),
# VALGRIND_ONLY=glob to run matching test names only, VALGRIND_ALL=1 to include the
# slow tests, VALGRIND_MPI=1 to include the MPI tests too (one process,
# singleton MPI_Init; tests/valgrind.supp covers Open MPI's own leaks),
# VALGRIND_ORIGINS=1 for --track-origins=yes (twice slower; to find where
# an uninitialised value came from).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh   # BUILD, MPI env, tmp removed at exit, fail
VG_ONLY=${VALGRIND_ONLY:-*}
VALGRIND_TIMEOUT=${VALGRIND_TIMEOUT:-600}
MPI_PATTERNS=(test_h5out* test_sched* test_run* test_mpi* test_cli_run*)
[ -n "${VALGRIND_MPI:-}" ] && MPI_PATTERNS=()
SLOW_PATTERNS=(test_train* test_gridnull*)
[ -n "${VALGRIND_ALL:-}" ] && SLOW_PATTERNS=()
origins=--track-origins=no
[ -n "${VALGRIND_ORIGINS:-}" ] && origins=--track-origins=yes

command -v valgrind >/dev/null 2>&1 || fail "valgrind is not installed (apt-get install valgrind)"
# one BLAS thread: OpenBLAS's thread pool is the same code either way, and
# valgrind serialises threads anyway
export OMP_NUM_THREADS=1 SWEEP_NO_TIMING=1
log=$BUILD/test-logs/valgrind
mkdir -p "$log"

ran=0; failed=0; skipped=0
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] && [ -f "$t" ] || continue
  name=$(basename "$t")
  [[ $name == $VG_ONLY ]] || continue
  why_skip=
  for p in "${MPI_PATTERNS[@]}"; do [[ $name == $p ]] && why_skip="starts MPI (name pattern $p)"; done
  for p in "${SLOW_PATTERNS[@]}"; do [[ $name == $p ]] && why_skip="slow under memcheck; VALGRIND_ALL=1 runs it"; done
  if [ -z "$why_skip" ] && [ -z "${VALGRIND_MPI:-}" ] && [ -f "tests/$name.c" ] && grep -qE '\b(MPI_Init(_thread)?|run_sweep|run_one)\b' "tests/$name.c"; then
    why_skip="calls MPI_Init"
  fi
  if [ -n "$why_skip" ]; then
    echo "SKIP $name ($why_skip)"; skipped=$((skipped+1)); continue
  fi
  ran=$((ran+1))
  out=$log/$name.log
  t0=$SECONDS
  timeout --kill-after=10 "$VALGRIND_TIMEOUT" \
    valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --error-exitcode=1 "$origins" --num-callers=50 \
      --suppressions=tests/valgrind.supp --gen-suppressions=all \
      "$t" >"$out" 2>&1
  rc=$?
  errs=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$out" | tail -n 1)
  if [ $rc -eq 0 ] && [ "${errs:-x}" = 0 ]; then
    echo "PASS $name under valgrind ($((SECONDS-t0)) s, $(grep -E 'passed, [0-9]+ failed' "$out" | tail -n 1))"
  else
    failed=$((failed+1))
    case $rc in
      124 | 137) why="timed out after $VALGRIND_TIMEOUT s" ;;
      *) why="exit status $rc, ${errs:-no} memcheck errors" ;;
    esac
    echo "FAIL $name under valgrind: $why; log $out"
    grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Mismatched|Syscall|Source and|[0-9,]+ bytes in)|^FAIL|definitely lost' "$out" | head -n 20 | sed 's/^/    /'
    grep -A12 -E '^==[0-9]+== (Invalid|Conditional|Use of|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' "$out" | head -n 40 | sed 's/^/    /'
  fi
done
# the program itself on the paths that never start MPI: --dry-run of every
# shipped spec and of bad specs (the error paths free everything too),
# --settings, --help, a usage error
if [[ sweep == $VG_ONLY ]]; then
  [ -x "$BUILD/sweep" ] || fail "no $BUILD/sweep (build it first: make)"
  bad=$tmp
  printf 'model:\n  hiden: 5\n' >"$bad/typo.yaml"
  printf 'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b]\n' >"$bad/alias.yaml"
  printf 'sweep:\n  cell: [vanilla, leaky]\n  tau: [0.01, 0.1]\n' >"$bad/invalid-task.yaml"
  : >"$bad/empty.yaml"
  cases=()
  for y in sweeps/*.yaml; do [ -f "$y" ] && cases+=("0 --dry-run $y"); done
  for y in "$bad"/*.yaml; do cases+=("2 --dry-run $y"); done
  cases+=("0 --settings" "0 --help" "2 --no-such-option" "2 --dry-run $bad/missing.yaml")
  for c in "${cases[@]}"; do
    want=${c%% *}; args=${c#* }
    ran=$((ran+1))
    out=$log/sweep-$(echo "$args" | tr -c 'A-Za-z0-9._-' '_').log
    # shellcheck disable=SC2086
    valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
      --show-leak-kinds=definite --error-exitcode=99 "$origins" --num-callers=50 \
      --suppressions=tests/valgrind.supp --gen-suppressions=all \
      "$BUILD/sweep" $args >"$out" 2>&1
    rc=$?
    if [ $rc -eq "$want" ]; then
      echo "PASS sweep $args under valgrind (exit $rc)"
    else
      failed=$((failed+1))
      echo "FAIL sweep $args under valgrind: exit $rc, want $want (99 = memcheck errors); log $out"
      grep -A12 -E '^==[0-9]+== (Invalid|Conditional|Use of|[0-9,]+ bytes in [0-9,]+ blocks are definitely)' "$out" | head -n 30 | sed 's/^/    /'
    fi
  done
fi
echo "t_valgrind: $ran run, $failed failed, $skipped skipped"
if [ $ran -eq 0 ]; then
  echo "t_valgrind: FAIL: no unit test found in $BUILD/tests (build them first: make)"
  exit 1
fi
[ $failed -eq 0 ]
