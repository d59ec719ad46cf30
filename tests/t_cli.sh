#!/usr/bin/env bash
# t_cli.sh -- the command line: --version, --help, --dry-run, spec errors
# (exit 2 with file:line:col), usage errors (exit 2).  No MPI, no training.
set -u
SWEEP=${SWEEP:-build/sweep}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails+1)); }

# run CMD...: sets $rc, $out, $err
run() { "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; out=$(cat "$tmp/out"); err=$(cat "$tmp/err"); }

expect_rc() {  # want, description
  [ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1 (stderr: $err)"
}

# --version: SWEEP_VERSION from sweep.h
ver=$(sed -n 's/^#define SWEEP_VERSION "\(.*\)"/\1/p' src/base/sweep.h)
run "$SWEEP" --version
expect_rc 0 "--version"
[ "$out" = "sweep $ver" ] || fail "--version printed '$out', want 'sweep $ver'"

# --help documents every flag and every exit status
run "$SWEEP" --help
expect_rc 0 "--help"
for w in --dry-run --resume --force --output --time-limit --shard --task --settings --columns --version run-one status merge \
         "  0  " "  1  " "  2  " "  3  " "  4  "; do
  grep -qF -- "$w" "$tmp/out" || fail "--help does not mention '$w'"
done

# --dry-run of the smoke spec: the table and the count
run "$SWEEP" --dry-run sweeps/smoke.yaml
expect_rc 0 "--dry-run smoke"
grep -q "^8 combinations, 6 tasks: 2 merged because vanilla ignores tau$" "$tmp/out" \
  || fail "--dry-run count line missing: $out"
grep -qE "^ 5  leaky +0\.2 +1$" "$tmp/out" || fail "--dry-run: last row missing: $out"
grep -qE "^hash: [0-9a-f]{64}$" "$tmp/out" || fail "--dry-run: no hash line"
hash1=$(grep '^hash:' "$tmp/out")

# the same spec written differently (flow style, other key order, comments,
# another output file) has the same hash; another value changes it
cat >"$tmp/smoke2.yaml" <<'YAML'
sweep: {seed: [0, 1], tau: [0.05, 0.2], cell: [vanilla, leaky]}   # reordered
output: {file: elsewhere.h5}
eval: {eval_noise: [0.0, 0.01, 0.03], ratemap_bins: 10, ratemap_trajectories: 200, eval_batch: 32}
train: {log_every: 20, lr: 0.001, batch: 16, steps: 60}
place: {n_place: 32}
task: {seq_len: 10}
model: {activation: relu, hidden: 32}
name: smoke-again
YAML
run "$SWEEP" -n "$tmp/smoke2.yaml"
expect_rc 0 "--dry-run reordered"
[ "$(grep '^hash:' "$tmp/out")" = "$hash1" ] || fail "reordered spec has another hash"
sed 's/hidden: 32/hidden: 33/' "$tmp/smoke2.yaml" >"$tmp/smoke3.yaml"
run "$SWEEP" -n "$tmp/smoke3.yaml"
[ "$(grep '^hash:' "$tmp/out")" != "$hash1" ] || fail "changed value, same hash"

# every shipped spec dry-runs
for f in sweeps/*.yaml; do
  run "$SWEEP" --dry-run "$f"
  expect_rc 0 "--dry-run $f"
done

# a bad spec: exit 2, one line file:line:col: section.key: message
printf 'model:\n  hiden: 512\n' >"$tmp/bad.yaml"
run "$SWEEP" --dry-run "$tmp/bad.yaml"
expect_rc 2 "bad spec"
[ "$err" = "$tmp/bad.yaml:2:3: model.hiden: unknown key 'hiden' (did you mean 'hidden'?)" ] \
  || fail "bad spec message: '$err'"
printf 'sweep:\n  tau: [0.1, fast]\n' >"$tmp/bad2.yaml"
run "$SWEEP" "$tmp/bad2.yaml"
expect_rc 2 "bad spec (run)"
echo "$err" | grep -q "bad2.yaml:2:14: sweep.tau: expected a non-negative number, got \"fast\"" \
  || fail "bad spec (run) message: '$err'"

# a missing file
run "$SWEEP" --dry-run "$tmp/nope.yaml"
expect_rc 2 "missing spec"
echo "$err" | grep -q "nope.yaml: cannot open" || fail "missing spec message: '$err'"

# usage errors
run "$SWEEP";                                                  expect_rc 2 "no arguments"
run "$SWEEP" --bogus sweeps/smoke.yaml;                        expect_rc 2 "unknown option"
echo "$err" | grep -q "unknown option '--bogus'" || fail "unknown option message: '$err'"
run "$SWEEP" sweeps/smoke.yaml --shard 3/2;                    expect_rc 2 "--shard 3/2"
run "$SWEEP" sweeps/smoke.yaml --shard x;                      expect_rc 2 "--shard x"
run "$SWEEP" sweeps/smoke.yaml --time-limit -1;                expect_rc 2 "--time-limit -1"
run "$SWEEP" sweeps/smoke.yaml --resume --force;               expect_rc 2 "--resume --force"
run "$SWEEP" sweeps/smoke.yaml sweeps/smoke.yaml;              expect_rc 2 "two specs"
run "$SWEEP" sweeps/smoke.yaml --task 1;                       expect_rc 2 "--task without run-one"
run "$SWEEP" run-one sweeps/smoke.yaml -o "$tmp/x.h5";         expect_rc 2 "run-one without --task"
run "$SWEEP" run-one sweeps/smoke.yaml --task 6 -o "$tmp/x.h5"; expect_rc 2 "run-one --task out of range"
echo "$err" | grep -q "out of range" || fail "run-one range message: '$err'"
run "$SWEEP" status;                                           expect_rc 2 "status without a file"
run "$SWEEP" merge "$tmp/a.h5";                                expect_rc 2 "merge without -o"
run "$SWEEP" merge -o "$tmp/a.h5" "$tmp/a.h5";                 expect_rc 2 "merge into an input"
run "$SWEEP" --dry-run sweeps/smoke.yaml -o;                   expect_rc 2 "-o without a value"

# --settings prints the table docs/spec.md embeds, verbatim
run "$SWEEP" --settings
expect_rc 0 "--settings"
in_doc=$("$PYTHON" -c 'import sys; print(open(sys.argv[1]).read() in open(sys.argv[2]).read())' \
         "$tmp/out" docs/spec.md)
[ "$in_doc" = "True" ] || fail "docs/spec.md settings table differs from sweep --settings"

# --columns prints the /tasks table docs/results-format.md embeds, verbatim
run "$SWEEP" --columns
expect_rc 0 "--columns"
grep -q '^| `final_err_cm` | float32 | cm | metric |' "$tmp/out" || fail "--columns: no final_err_cm row"
in_doc=$("$PYTHON" -c 'import sys; print(open(sys.argv[1]).read() in open(sys.argv[2]).read())' \
         "$tmp/out" docs/results-format.md)
[ "$in_doc" = "True" ] || fail "docs/results-format.md /tasks table differs from sweep --columns"

# the README's spec example is a spec that parses
awk '/^```yaml/{f=1;next}/^```/{f=0}f' README.md > "$tmp/readme.yaml"
run "$SWEEP" --dry-run "$tmp/readme.yaml"
expect_rc 0 "--dry-run of the README's example spec"

[ "$fails" -eq 0 ] && echo "t_cli: ok" || echo "t_cli: $fails failures"
[ "$fails" -eq 0 ]
