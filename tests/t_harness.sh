#!/usr/bin/env bash
# t_harness.sh -- the test harness itself can fail, and reports honestly:
#  1. tests/testlib.h: a C test program that made no check fails (exit 1,
#     "no check was made"); one passing check passes; one failing check
#     fails;
#  2. tests/run.sh on throw-away scripts (EXTRA_TESTS, its own BUILD dir):
#     a pass, a skip (tests/lib.sh skip(): "SKIP: reason", exit 77), a
#     failure, an exit 77 without a SKIP line (a failure), and a script
#     whose soft_fail is followed by exit 0 (a failure: lib.sh's exit trap)
#     give "1 passed, 3 failed, 1 skipped" as the last line, the skip listed
#     by name with its reason and never counted as a pass; a run of the skip
#     alone passes with "0 passed, 0 failed, 1 skipped" (and fails with
#     NO_SKIPS=1); a run that matches nothing fails;
#  3. every tests/t_*.sh sources tests/lib.sh and keeps no private copy of
#     what it provides (fail(), a mktemp'd directory, an EXIT trap).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh   # tmp removed at exit, fail

# ---- 1. testlib.h -------------------------------------------------------------
cc=${CC:-cc}
compile() {  # name, body of main
  printf '#include "testlib.h"\nint main(void)\n{\n%s\n    return test_summary("%s");\n}\n' "$2" "$1" >"$tmp/$1.c"
  "$cc" -std=c11 -Wall -Wextra -Werror -Itests "$tmp/$1.c" -o "$tmp/$1" -lm >"$tmp/$1.cc.log" 2>&1 ||
    { cat "$tmp/$1.cc.log"; fail "cannot compile $1.c against tests/testlib.h"; }
}
compile zero ""
compile one_pass '    TEST_CHECK(1 + 1 == 2, "arithmetic");'
compile one_fail '    TEST_CHECK(1 + 1 == 3, "arithmetic");'
"$tmp/zero" >"$tmp/zero.out" 2>&1 && { cat "$tmp/zero.out"; fail "a test program with zero checks passed"; }
grep -q "no check was made" "$tmp/zero.out" || { cat "$tmp/zero.out"; fail "zero checks: no 'no check was made' message"; }
"$tmp/one_pass" >"$tmp/one_pass.out" 2>&1 || { cat "$tmp/one_pass.out"; fail "a test program with one passing check failed"; }
grep -qx "one_pass: 1 passed, 0 failed" "$tmp/one_pass.out" || { cat "$tmp/one_pass.out"; fail "one_pass: wrong summary line"; }
"$tmp/one_fail" >"$tmp/one_fail.out" 2>&1 && { cat "$tmp/one_fail.out"; fail "a test program with a failing check passed"; }
echo "ok: testlib.h fails a program with zero checks or a failed check, passes one with a passing check"

# ---- 2. run.sh counts skips as skips -----------------------------------------
x=$tmp/extra
mkdir -p "$x"
printf 'exit 0\n' >"$x/t_selftest_pass.sh"
printf '. tests/lib.sh\nskip "selftest reason"\n' >"$x/t_selftest_skip.sh"
printf 'echo FAIL: on purpose\nexit 1\n' >"$x/t_selftest_fail.sh"
printf 'exit 77\n' >"$x/t_selftest_bare77.sh"
printf '. tests/lib.sh\nsoft_fail "counted"\nexit 0\n' >"$x/t_selftest_soft.sh"
suite() {  # out-file, env assignments...: run tests/run.sh on the throw-away scripts
  local out=$1; shift
  env -u NO_SKIPS -u SKIP -u UNIT_ONLY -u WRAP BUILD="$tmp/build" EXTRA_TESTS="$x" "$@" \
    bash tests/run.sh >"$out" 2>&1
}
suite "$tmp/all.out" ONLY='t_selftest_*' && { cat "$tmp/all.out"; fail "run.sh passed a run with failures"; }
[ "$(tail -n 1 "$tmp/all.out")" = "1 passed, 3 failed, 1 skipped" ] ||
  { cat "$tmp/all.out"; fail "run.sh closing line: '$(tail -n 1 "$tmp/all.out")'"; }
grep -qx "skipped: t_selftest_skip" "$tmp/all.out" || { cat "$tmp/all.out"; fail "run.sh does not list the skipped test"; }
grep -qx "SKIP t_selftest_skip: selftest reason" "$tmp/all.out" || { cat "$tmp/all.out"; fail "run.sh does not give the skip's reason"; }
grep -q "^PASS t_selftest_skip" "$tmp/all.out" && fail "run.sh reported a skip as a pass"
for f in bare77 fail soft; do
  grep -q "^FAIL t_selftest_$f " "$tmp/all.out" || { cat "$tmp/all.out"; fail "run.sh did not fail t_selftest_$f"; }
done
grep -q "^PASS t_selftest_pass " "$tmp/all.out" || { cat "$tmp/all.out"; fail "run.sh did not pass t_selftest_pass"; }

suite "$tmp/skip.out" ONLY=t_selftest_skip || { cat "$tmp/skip.out"; fail "run.sh failed a run whose only test skipped"; }
[ "$(tail -n 1 "$tmp/skip.out")" = "0 passed, 0 failed, 1 skipped" ] ||
  { cat "$tmp/skip.out"; fail "run.sh closing line for a lone skip: '$(tail -n 1 "$tmp/skip.out")'"; }
suite "$tmp/noskips.out" ONLY=t_selftest_skip NO_SKIPS=1 &&
  { cat "$tmp/noskips.out"; fail "run.sh with NO_SKIPS=1 passed a run with a skip"; }
suite "$tmp/none.out" ONLY=t_selftest_nothing_matches &&
  { cat "$tmp/none.out"; fail "run.sh passed a run that ran nothing"; }
[ "$(tail -n 1 "$tmp/none.out")" = "0 passed, 0 failed, 0 skipped" ] ||
  { cat "$tmp/none.out"; fail "run.sh closing line for an empty run: '$(tail -n 1 "$tmp/none.out")'"; }
echo "ok: run.sh counts a skip as skipped (never passed), 77 without a reason and a lost soft_fail as failures"

# ---- 3. every script uses lib.sh ---------------------------------------------
for s in tests/t_*.sh; do
  grep -q '^\. tests/lib\.sh' "$s" || fail "$s does not source tests/lib.sh"
  [ "$s" = tests/t_harness.sh ] && continue   # its own pattern below would match
  grep -nE '^[[:space:]]*(fail|skip|soft_fail)\(\)|mktemp -d|trap .* EXIT' "$s" &&
    fail "$s keeps its own copy of what tests/lib.sh provides (above)"
done
echo "ok: every tests/t_*.sh sources tests/lib.sh"
