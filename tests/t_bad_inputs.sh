#!/usr/bin/env bash
# t_bad_inputs.sh -- the CLI's answer to malformed and hostile spec files.
#
# Each case is run as `$SWEEP --dry-run FILE` (no MPI, nothing written) and
# must give: exit status exactly 2, nothing on stdout, one line on stderr
# that names the file (FILE:LINE:COL: where the problem has a place in the
# file, else "FILE: ..."), the expected words, no control character in the
# message, and no crash (status < 128, no sanitizer report) within 30 s.
# Then the result-file faults a run meets before any training: output
# directory missing or read-only, output path a directory or not HDF5, a
# full disk (ENOSPC) while the file is created: exit 4, a "sweep: " line
# that says why, no crash, nothing left behind, a refused file untouched.
# docs/faults.md lists these cases; each row names its case here.
#
# Environment: SWEEP (default build/sweep), BUILD.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh   # BUILD, SWEEP, tmp removed at exit, fail, soft_fail
[ -x "$SWEEP" ] || fail "$SWEEP not built"
at_exit 'umount "$tmp/full" 2>/dev/null'
root=$PWD
cd "$tmp" || exit 1
pass=0

# check NAME FILE WHERE WORDS
#   WHERE: "L:C" for FILE:L:C:, "L:" for FILE:L:<any col>:, "-" for "FILE: " (no place)
check() {
  local name=$1 file=$2 where=$3 words=$4 rc out err lines prefix
  timeout 30 "$SWEEP" --dry-run "$file" >"$name.out" 2>"$name.err"
  rc=$?
  out=$(cat "$name.out"); err=$(cat "$name.err")
  lines=$(wc -l <"$name.err")
  local why=()
  [ $rc -eq 2 ] || why+=("exit status $rc, want 2")
  [ $rc -lt 128 ] || why+=("killed by signal $((rc - 128))")
  [ $rc -ne 124 ] || why+=("hung (30 s)")
  [ -z "$out" ] || why+=("wrote to stdout")
  [ "$lines" -eq 1 ] || why+=("$lines lines on stderr, want 1")
  case $where in
    -) prefix="$file: " ;;
    *:) prefix="$file:$where" ;;
    *) prefix="$file:$where: " ;;
  esac
  case $where in
    *:) [[ $err =~ ^"$prefix"[0-9]+:\  ]] || why+=("does not start with '$prefix<col>: '") ;;
    *) [[ $err == "$prefix"* ]] || why+=("does not start with '$prefix'") ;;
  esac
  [[ $err == *"$words"* ]] || why+=("lacks '$words'")
  if LC_ALL=C grep -q '[[:cntrl:]]' <(tr -d '\n' <"$name.err"); then why+=("control character in the message"); fi
  grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer|Segmentation|core dumped' "$name.err" && why+=("crash report")
  if [ ${#why[@]} -eq 0 ]; then
    pass=$((pass+1)); echo "PASS $name: $(head -c 160 "$name.err")"
  else
    soft_fail "$name: ${why[*]}"
    echo "     stderr: $(head -c 400 "$name.err" | cat -v)"
  fi
}

# ---- the file itself ------------------------------------------------------
: >empty.yaml
check empty empty.yaml 1:1 "empty spec"
printf '# nothing here\n\n   \n' >comments.yaml
check comments-only comments.yaml 1:1 "empty spec"
check missing no-such-spec.yaml - "cannot open: No such file or directory"
mkdir adir.yaml
check directory adir.yaml - "Is a directory"
ln -s loop-b.yaml loop-a.yaml; ln -s loop-a.yaml loop-b.yaml
check symlink-loop loop-a.yaml - "cannot open: Too many levels of symbolic links"
check dev-null /dev/null 1:1 "empty spec"
check dev-zero /dev/zero - "larger than 16777216 bytes"
head -c 17000000 /dev/zero | tr '\0' '#' >big.yaml
check too-big big.yaml - "larger than 16777216 bytes"
# a binary file: an ELF executable (the sweep program itself)
cp "$SWEEP" binary.yaml
check binary binary.yaml 1: "YAML syntax error"
head -c 4096 /dev/urandom >random.yaml 2>/dev/null || dd if=/dev/urandom of=random.yaml bs=4096 count=1 2>/dev/null
# random bytes are almost surely not UTF-8; if they happen to be, the
# check still wants a spec error (exit 2) naming the file
timeout 30 "$SWEEP" --dry-run random.yaml >/dev/null 2>random.err; rc=$?
if [ $rc -eq 2 ] && grep -q '^random.yaml:[0-9]*:[0-9]*: ' random.err; then
  pass=$((pass+1)); echo "PASS random-bytes: $(head -c 120 random.err | cat -v)"
else
  soft_fail "random-bytes: exit $rc: $(head -c 300 random.err | cat -v)"
fi

# ---- encoding -------------------------------------------------------------
printf 'name: caf\xe9\nmodel:\n  hidden: 16\n' >latin1.yaml
check invalid-utf8 latin1.yaml 1:11 "YAML syntax error: invalid trailing UTF-8 octet"
printf 'model:\n  cell: lea\xff\xfeky\n' >badbytes.yaml
check invalid-utf8-value badbytes.yaml 2:12 "YAML syntax error: invalid leading UTF-8 octet"
printf 'model:\n  hidden: 16\x00\n' >nul.yaml
check nul-byte nul.yaml 2:13 "control characters are not allowed"
printf 'model:\n  cell: vanilla\n\n# comment \x01\n' >ctrl.yaml
check control-char ctrl.yaml 4:11 "control characters are not allowed"
printf 'model: "\\e]0;owned\\a\\e[2J"\n' >escape.yaml
check terminal-escape escape.yaml 1:8 'model: expected a mapping of settings, got "'
printf 'model: "line one\\nline two"\n' >newline.yaml
check newline-in-value newline.yaml 1:8 'model: expected a mapping of settings'
printf '\xef\xbb\xbfmodel:\n  hiden: 16\n' >bom.yaml
check utf8-bom-ok bom.yaml 2:3 "unknown key 'hiden' (did you mean 'hidden'?)"

# ---- YAML structure ---------------------------------------------------------
printf 'model:\n  hidden: [1, 2\n' >unclosed.yaml
check unclosed-flow unclosed.yaml 3:1 "YAML syntax error"
printf 'model:\n\thidden: 5\n' >tab.yaml
check tab-indent tab.yaml 2:1 "YAML syntax error"
printf 'name: "abc\n' >quote.yaml
check unterminated-quote quote.yaml 2: "YAML syntax error"
{ printf 'sweep:\n  tau: '; head -c 5000 /dev/zero | tr '\0' '['; head -c 5000 /dev/zero | tr '\0' ']'; echo; } >deep-flow.yaml
check deep-flow deep-flow.yaml 2:70 "nesting deeper than 64 levels"
python3 -c "
import sys
sys.stdout.write(''.join('  ' * i + 'k%d:\n' % i for i in range(200)))" >deep-block.yaml
check deep-block deep-block.yaml 64:127 "nesting deeper than 64 levels"
{ echo 'a: &a [x, x, x, x, x, x, x, x, x, x]'
  for c in b c d e f g h i j k; do
    p=$(printf "\\$(printf '%03o' $(( $(printf '%d' "'$c") - 1 )))")
    printf '%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n' "$c" "$c" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p" "$p"
  done; } >bomb.yaml
check alias-bomb bomb.yaml 5:36 "aliases expand to more than 100000 nodes"
printf 'a: &a [*a]\n' >self-alias.yaml
check self-alias self-alias.yaml 1:8 "unknown alias *a (anchors must be defined, and complete, before use)"
printf 'base: &b {hidden: 16}\nmodel:\n  <<: *b\n' >merge.yaml
check merge-key merge.yaml 1:1 "unknown section 'base'"
printf 'model:\n  <<: {hidden: 16}\n' >merge2.yaml
check merge-key-in-section merge2.yaml 2:3 "model.<<: unknown key '<<'"
printf 'model: {}\n---\nmodel: {}\n' >twodocs.yaml
check two-documents twodocs.yaml 2:1 "a spec is one YAML document, found a second one"
printf -- '- model: {}\n' >seqroot.yaml
check sequence-root seqroot.yaml 1:1 "a spec is a mapping of sections"
printf 'just some text\n' >scalar.yaml
check scalar-root scalar.yaml 1:1 "a spec is a mapping of sections"
printf '? [a, b]\n: 1\n' >complexkey.yaml
check complex-key complexkey.yaml 1:3 "a key must be a name, got a list"
python3 -c "
import sys
sys.stdout.write('model:\n  ' + 'k' * 20000 + ': 1\n')" >longkey.yaml
check long-key longkey.yaml 2: "YAML syntax error: mapping values are not allowed"

# ---- numbers ----------------------------------------------------------------
python3 -c "print('model:\n  hidden: ' + '9' * 400)" >hugeint.yaml
check huge-integer hugeint.yaml 2:11 "model.hidden: expected an integer in [1, 65536], got 99999"
printf 'train:\n  lr: 1e99999\n' >hugereal.yaml
check huge-real hugereal.yaml 2:7 '(out of range of a double)'
printf 'train:\n  lr: 1e-99999\n' >tinyreal.yaml
check tiny-real tinyreal.yaml 2:7 '(out of range of a double)'
printf 'train:\n  seed: 2147483648\n' >intmax.yaml
check int-overflow intmax.yaml 2:9 "train.seed: expected an integer in [0, 2147483647], got 2147483648"
printf 'sweep_seed: 18446744073709551616\n' >seed64.yaml
check sweep-seed-overflow seed64.yaml 1:13 "sweep_seed: expected an integer in [0, 2^64 - 1]"
printf 'train:\n  lr: .nan\n' >nan.yaml
check nan nan.yaml 2:7 'train.lr: expected a number in [0, 10], got ".nan"'
printf 'model:\n  noise: .inf\n' >inf.yaml
check infinity inf.yaml 2:10 'model.noise: expected a non-negative number, got ".inf"'
printf 'model:\n  hidden: 0x10\n' >hex.yaml
check hex-number hex.yaml 2:11 'model.hidden: expected an integer in [1, 65536], got "0x10"'
printf 'sweep:\n  seed: {range: [0, 10, 0.5]}\n' >fracstep.yaml
check fractional-step fracstep.yaml 2:25 "expected an integer, got 0.5"

# ---- size limits ------------------------------------------------------------
printf 'sweep:\n  seed: {range: [0, 1000]}\n  batch: {range: [1, 1002]}\n' >combos.yaml
check too-many-combos combos.yaml 2:3 "the sweep expands to more than 1000000 combinations"
printf 'sweep:\n  lr: {loguniform: [1e-5, 1e-2], samples: 100001}\n' >samples.yaml
check too-many-samples samples.yaml 2:43 "samples must be an integer in [1, 100000]"
printf 'sweep:\n  seed: {range: [0, 2000000]}\n' >bigrange.yaml
check range-too-long bigrange.yaml 2:17 "range has more than 1000000 values"

# ---- result-file faults (a real run of smoke.yaml, one process) -------------
# run_case NAME WANT_STATUS WORDS ARGS...: status, a "sweep: " line with WORDS,
# no signal, no sanitizer report
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
spec=$root/sweeps/smoke.yaml
run_case() {
  local name=$1 want=$2 words=$3 rc; shift 3
  timeout 120 "$@" >"$name.log" 2>&1
  rc=$?
  local why=()
  [ $rc -eq "$want" ] || why+=("exit status $rc, want $want")
  [ $rc -lt 128 ] || why+=("killed by signal $((rc - 128))")
  grep -q "^sweep: .*$words" "$name.log" || why+=("no 'sweep: ...$words' line")
  grep -qE 'AddressSanitizer|runtime error:|Segmentation fault|Signal: ' "$name.log" && why+=("crash report")
  if [ ${#why[@]} -eq 0 ]; then
    pass=$((pass+1)); echo "PASS $name: $(grep -m1 "^sweep: .*$words" "$name.log" | head -c 160)"
  else
    soft_fail "$name: ${why[*]}"
    grep -vE '^ |HDF5-DIAG|^, name' "$name.log" | head -n 8 | sed 's/^/     | /'
  fi
}
run_case out-dir-missing 4 "the output directory no/such/dir does not exist" "$SWEEP" "$spec" -o no/such/dir/r.h5
[ ! -e no/such/dir ] || { soft_fail "out-dir-missing: created the directory"; }
mkdir outdir.h5
run_case out-is-directory 4 "output file exists" "$SWEEP" "$spec" -o outdir.h5
run_case out-is-directory-force 4 "not a regular file; --force replaces only result files" "$SWEEP" "$spec" -o outdir.h5 --force
mkfifo fifo.h5
run_case out-fifo-force 4 "not a regular file; --force replaces only result files" "$SWEEP" "$spec" -o fifo.h5 --force
if [ -p fifo.h5 ]; then pass=$((pass+1)); echo "PASS out-fifo-kept: the FIFO is still there"
else soft_fail "out-fifo-kept: --force replaced a FIFO"; fi
echo "not HDF5" >text.h5
run_case out-not-hdf5 4 "output file exists" "$SWEEP" "$spec" -o text.h5
run_case out-not-hdf5-resume 4 "not an HDF5 file" "$SWEEP" "$spec" -o text.h5 --resume
if [ "$(cat text.h5)" = "not HDF5" ]; then pass=$((pass+1)); echo "PASS out-not-hdf5-kept: the file is untouched"
else soft_fail "out-not-hdf5-kept: the refused file was modified"; fi
# read-only directory: root ignores permissions, so run as nobody
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
  mkdir ro; chmod 555 ro; chmod 755 .; cp "$spec" smoke.yaml; chmod 644 smoke.yaml
  run_case out-dir-read-only 4 "the output directory ro is not writable" \
    env HOME="$PWD" setpriv --reuid=65534 --regid=65534 --clear-groups "$SWEEP" smoke.yaml -o ro/r.h5
  [ -z "$(ls ro)" ] || { soft_fail "out-dir-read-only: left $(ls ro)"; }
else
  echo "SKIP out-dir-read-only (needs root and setpriv to run as nobody)"
fi
# a full disk (ENOSPC) while the result file is created: a 16 KiB tmpfs.
# Every dataset is allocated and filled at creation, so a disk that is
# full later than creation cannot hit the task writes of a fixed-size file.
mkdir full
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=16k tmpfs full 2>/dev/null; then
  run_case out-enospc 4 "HDF5 error while creating the result file" "$SWEEP" "$spec" -o full/r.h5
  left=$(ls full)
  umount full
  [ -z "$left" ] || { soft_fail "out-enospc: left $left"; }
else
  echo "SKIP out-enospc (needs root to mount a small tmpfs)"
fi

echo "t_bad_inputs: $pass passed, $failures failed"
[ "$failures" -eq 0 ]
