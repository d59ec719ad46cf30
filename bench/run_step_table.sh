#!/usr/bin/env bash
# run_step_table.sh -- issue 7's table, measured in one run: the C training
# step (bench_step --table) and the same step in Debian's python3-torch
# (torch_step.py --table), side by side, one thread each.
#
#   bash bench/run_step_table.sh            (BUILD=build by default)
#
# Rows: (N, P) = (128,256) (512,512) (1024,512) (4096,512), B 200, T 20,
# leaky relu, cross-entropy place-cell loss.  Every figure is a median of
# repeated steps after warm-up; "cpu" is process CPU time, which is the
# figure to trust on a loaded machine (wall time then includes waiting for
# a core).  Ratios: step / sgemm-only (same run, same buffers) and
# torch / C (both on CPU time and on wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
bin=$BUILD/bench/bench_step
[ -x "$bin" ] || { echo "run_step_table: $bin not built (make BUILD=$BUILD $bin)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# step table, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(getconf _NPROCESSORS_ONLN) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
"$bin" --table --format tsv >"$tmp/c.tsv"
if "$PYTHON" -c 'import torch' 2>/dev/null; then
  "$PYTHON" bench/torch_step.py --table --format tsv >"$tmp/t.tsv"
else
  echo "# $PYTHON cannot import torch: PyTorch columns left empty" >&2
  printf 'N\tP\n' >"$tmp/t.tsv"
fi
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
awk -F'\t' '
  FNR == 1 { next }
  FILENAME == ARGV[1] { key = $1 "," $2; tw[key] = $7; tc[key] = $8; tv[key] = $6; next }
  {
    key = $1 "," $2
    if (!header++) {
      print "| N | P | C step ms (cpu) | GFLOP/s (cpu) | sgemm-only ms (cpu) | step / sgemm (cpu) | PyTorch ms (cpu), variant | PyTorch / C (cpu) |"
      print "|---|---|---|---|---|---|---|---|"
    }
    flops = $10 * $8   # GFLOP/s on wall times step_ms -> GFLOP
    gcpu = flops / $9
    t = (key in tc) ? sprintf("%.1f (%.1f), %s", tw[key], tc[key], tv[key]) : "-"
    r = (key in tc) ? sprintf("%.2f (%.2f)", tw[key] / $8, tc[key] / $9) : "-"
    printf "| %s | %s | %.1f (%.1f) | %.1f | %.1f (%.1f) | %.2f (%.2f) | %s | %s |\n",
           $1, $2, $8, $9, gcpu, $11, $12, $13, $14, t, r
  }' "$tmp/t.tsv" "$tmp/c.tsv"
