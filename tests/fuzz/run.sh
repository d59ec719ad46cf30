#!/usr/bin/env bash
# tests/fuzz/run.sh -- build the spec-parser fuzzer and run it.
#
#   bash tests/fuzz/run.sh [SECONDS]        (default 60; 0 = build and replay only)
#
# Builds tests/fuzz/fuzz_spec.c with clang -fsanitize=fuzzer,address,undefined
# against the spec sources (src/spec/spec.c, src/spec/spec_yaml.c, src/base/config.c,
# src/spec/sha256.c; libyaml from Debian), then runs libFuzzer for SECONDS on one
# core.  Seeds: tests/fuzz/corpus/ (the bad specs of tests/test_spec.c and
# hostile YAML) and sweeps/*.yaml; the inputs libFuzzer finds accumulate in
# $FUZZ_DIR/corpus, so later runs start where earlier ones stopped.
#
# Exit status: 0 clean run; 1 the fuzzer found a crash, leak, sanitizer
# report, timeout or out-of-memory (the input is saved in
# $FUZZ_DIR/artifacts/, copy it to tests/fuzz/crashes/ and reproduce with
# `$FUZZ_DIR/fuzz_spec FILE`); 77 clang's libFuzzer is not available even
# after scripts/install-deps --with-fuzz (a "SKIP" line says why).
#
# Environment:
#   FUZZ_DIR     build and work directory (default build-fuzz/fuzz)
#   FUZZ_TIMEOUT seconds one input may take before it counts as a hang (default
#                60: the largest legal sweep, 1e6 tasks, takes ~20 s under the
#                sanitizers and ~1.5 s in the real program)
#   FUZZ_RSS_MB  memory limit in MB, also the largest single malloc (default 2048)
#   FUZZ_ARGS    extra libFuzzer flags
#   FUZZ_SRC     source root holding spec/ and base/ (default
#                src; point it at a patched copy to try a fix)
#   NO_INSTALL=1 do not try to install clang / libclang-rt-14-dev
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=${1:-60}
case $secs in '' | *[!0-9]*) echo "usage: bash tests/fuzz/run.sh [SECONDS]" >&2; exit 2 ;; esac
FUZZ_DIR=${FUZZ_DIR:-build-fuzz/fuzz}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-60}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}
CLANG=${CLANG:-clang}
mkdir -p "$FUZZ_DIR/corpus" "$FUZZ_DIR/artifacts"

# ---- toolchain -----------------------------------------------------------
have_libfuzzer() {
  command -v "$CLANG" >/dev/null 2>&1 || return 1
  printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' \
    >"$FUZZ_DIR/probe.c"
  "$CLANG" -fsanitize=fuzzer,address,undefined "$FUZZ_DIR/probe.c" -o "$FUZZ_DIR/probe" >/dev/null 2>&1
}
if ! have_libfuzzer; then
  if [ -z "${NO_INSTALL:-}" ]; then
    echo "fuzz: clang/libFuzzer missing; trying scripts/install-deps --with-fuzz" >&2
    bash scripts/install-deps --with-fuzz >&2 || true
  fi
  if ! have_libfuzzer; then
    echo "SKIP: clang with libFuzzer (-fsanitize=fuzzer) is not available and could not be installed" \
         "(Debian: apt-get install clang libclang-rt-14-dev)"
    exit 77
  fi
fi
if ! pkg-config --exists yaml-0.1; then
  echo "fuzz: libyaml (yaml-0.1) not found: run scripts/install-deps" >&2
  exit 1
fi

# ---- build (only when a source is newer than the binary) -----------------
FUZZ_SRC=${FUZZ_SRC:-src}
srcs=(tests/fuzz/fuzz_spec.c "$FUZZ_SRC"/spec/spec.c "$FUZZ_SRC"/spec/spec_yaml.c "$FUZZ_SRC"/base/config.c "$FUZZ_SRC"/spec/sha256.c)
bin=$FUZZ_DIR/fuzz_spec
rebuild=0
[ -x "$bin" ] || rebuild=1
[ "$(cat "$bin.src" 2>/dev/null)" = "$FUZZ_SRC" ] || rebuild=1
for f in "${srcs[@]}" "$FUZZ_SRC"/*/*.h "$FUZZ_SRC"/*/*.def; do
  [ "$f" -nt "$bin" ] && rebuild=1
done
if [ $rebuild = 1 ]; then
  echo "fuzz: building $bin"
  # shellcheck disable=SC2046
  "$CLANG" -std=c11 -g -O1 -D_XOPEN_SOURCE=700 -I"$FUZZ_SRC" $(pkg-config --cflags yaml-0.1) \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
    -Wall -Wextra -Wno-unused-parameter \
    "${srcs[@]}" -o "$bin.tmp" $(pkg-config --libs yaml-0.1) -lm || { echo "fuzz: build failed" >&2; exit 1; }
  mv "$bin.tmp" "$bin"
  echo "$FUZZ_SRC" >"$bin.src"
fi

# ---- dictionary: YAML syntax + every setting key and enum name -----------
dict=$FUZZ_DIR/spec.dict
{
  cat tests/fuzz/yaml.dict
  echo "# generated from src/base/settings.def and src/base/config.c"
  sed -n 's/^SETTING([a-z]*, *\([a-z_0-9]*\),.*/"\1: "/p' src/base/settings.def
  awk '/^const char \*const config_enum_/{on=1} /^#define/{on=0} on' src/base/config.c | grep -o '"[a-z_]*"' | sort -u
} >"$dict"

# ---- regression: every saved crash must now load cleanly ------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
crashes=()
for f in tests/fuzz/crashes/*; do
  case $f in *.md | *.patch | */README*) continue ;; esac
  [ -f "$f" ] && crashes+=("$f")
done
if [ ${#crashes[@]} -gt 0 ]; then
  bad=0
  for f in "${crashes[@]}"; do
    if ! "$bin" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" -malloc_limit_mb="$FUZZ_RSS_MB" \
        "$f" >"$FUZZ_DIR/replay.log" 2>&1; then
      echo "fuzz: REGRESSION: $f still fails:"
      grep -E 'contract violated|ERROR|runtime error|SUMMARY' "$FUZZ_DIR/replay.log" | head -5 | sed 's/^/    /'
      bad=1
    fi
  done
  [ $bad = 0 ] || { echo "fuzz: FAILED: saved crash inputs in tests/fuzz/crashes/ still fail"; exit 1; }
  echo "fuzz: ${#crashes[@]} saved crash inputs replay cleanly"
fi

# ---- run -----------------------------------------------------------------
if [ "$secs" -eq 0 ]; then   # libFuzzer reads -max_total_time=0 as "forever"
  echo "fuzz: built $bin; 0 s: no fuzzing"
  exit 0
fi
seeds=(tests/fuzz/corpus)
for y in sweeps/*.yaml; do [ -f "$y" ] && { seeds+=(sweeps); break; }; done
log=$FUZZ_DIR/last-run.log
echo "fuzz: running $bin for $secs s (timeout $FUZZ_TIMEOUT s per input, rss limit $FUZZ_RSS_MB MB)"
# shellcheck disable=SC2086
"$bin" -max_total_time="$secs" -timeout="$FUZZ_TIMEOUT" -rss_limit_mb="$FUZZ_RSS_MB" \
  -malloc_limit_mb="$FUZZ_RSS_MB" -max_len=65536 -detect_leaks=1 -print_final_stats=1 \
  -dict="$dict" -artifact_prefix="$FUZZ_DIR/artifacts/" ${FUZZ_ARGS:-} \
  "$FUZZ_DIR/corpus" "${seeds[@]}" >"$log" 2>&1
rc=$?
grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added|Done [0-9]+ runs)' "$log"
if [ $rc -ne 0 ] || grep -qE '^==[0-9]+==ERROR|runtime error:|SUMMARY: (Address|Leak|Undefined)|contract violated' "$log"; then
  echo "fuzz: FAILED (libFuzzer exit status $rc); log: $log"
  grep -nE 'ERROR|runtime error|SUMMARY|contract violated|Test unit written|timeout|out-of-memory' "$log" | head -20
  tail -n 40 "$log"
  exit 1
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
echo "fuzz: clean: ${execs:-?} executions in $secs s, corpus $(ls "$FUZZ_DIR/corpus" | wc -l) inputs"
exit 0
