#!/usr/bin/env bash
# t_fuzz_short.sh -- a short libFuzzer run of the spec parser (part of make test).
#
# Builds tests/fuzz/fuzz_spec.c with clang -fsanitize=fuzzer,address,undefined
# (tests/fuzz/run.sh), replays every saved crash input of tests/fuzz/crashes/
# (each must now load cleanly), then fuzzes for FUZZ_SHORT_SECONDS (default
# 40) from the seed corpus (tests/fuzz/corpus/, sweeps/) plus whatever earlier
# runs found in $BUILD/fuzz/corpus.
#
# Fails on a crash, a sanitizer report, a leak, a broken spec.h contract, an
# input slower than the per-input timeout, out-of-memory, or a fuzzer that
# does not finish in time.  Skips (SKIP: ..., exit 77; never a pass) only
# when clang's libFuzzer is missing and cannot be installed
# (scripts/install-deps --with-fuzz).  The long run (>= 10 minutes) is
# `bash tests/fuzz/run.sh 600`.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh   # BUILD, fail, skip
secs=${FUZZ_SHORT_SECONDS:-40}
export FUZZ_DIR=${FUZZ_DIR:-$BUILD/fuzz}
# the build (first time ~20 s) + the run + replay; a stuck fuzzer is a failure
limit=$((secs + 240))
timeout --signal=TERM --kill-after=10 "$limit" bash tests/fuzz/run.sh "$secs"
rc=$?
case $rc in
  0) echo "t_fuzz_short: PASS ($secs s of fuzzing)"; exit 0 ;;
  77) skip "clang's libFuzzer is not available and could not be installed" ;;
  124 | 137) fail "the fuzzer did not finish within $limit s" ;;
  *) fail "tests/fuzz/run.sh exit status $rc" ;;
esac
