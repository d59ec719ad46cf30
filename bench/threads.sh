#!/usr/bin/env bash
# threads.sh -- one vs two OpenBLAS threads per rank (the spec's
# train.threads, or sbatch --cpus-per-task; docs/performance.md, "Threads
# per rank"): the training step (bench_step) and a whole task (bench_step
# --task, timed by phase), each with 1 and 2 threads, alternating 1, 2, 1,
# 2 so that drifting load hits both alike; wall seconds (with 2 threads the
# CPU time is the sum over threads, not what a user waits for).
#
#   bash bench/threads.sh                      (BUILD=build)
#   ROWS="512:512:40 1024:512:20 4096:512:3" PAIRS=2 bash bench/threads.sh
#
# Legend: N hidden, P place cells; a row is N:P:steps (steps of the short
# whole task; its evaluation is the default one, 4000 rate-map
# trajectories and 1000 null shuffles, so the table also projects the
# task to PROJECT_STEPS training steps: steps x the per-step phases + the
# fixed evaluation phases).  B 200, T 20, leaky relu, DoG targets.
# Needs a machine with 2 idle cores: with other work on them, a second
# thread waits for a core and the speed-up is meaningless (the load
# average is printed before and after).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ROWS=${ROWS:-"512:512:40 1024:512:20 4096:512:3"}
PAIRS=${PAIRS:-2}
PROJECT_STEPS=${PROJECT_STEPS:-100000}
bin=$BUILD/bench/bench_step
[ -x "$bin" ] || { echo "threads.sh: $bin not built (make BUILD=$BUILD $bin)" >&2; exit 1; }
export OMP_NUM_THREADS=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# threads, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(getconf _NPROCESSORS_ONLN) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"

# phase WALL from a bench_step --task report: the wall column of row NAME
phase() { awk -F'|' -v n="$2" '{ gsub(/ /, "", $2) } $2 == n { gsub(/ /, "", $3); print $3; exit }' "$1"; }
# the median of the numbers on stdin
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

for row in $ROWS; do
  IFS=: read -r N P S <<<"$row"
  reps=$(( N >= 4096 ? 2 : N >= 1024 ? 4 : 8 ))
  for ((k = 0; k < PAIRS; k++)); do
    for t in 1 2; do
      OPENBLAS_NUM_THREADS=$t "$bin" --N "$N" --P "$P" --threads "$t" --reps "$reps" --warmup 1 --format tsv \
        >"$tmp/step_${N}_${t}_$k.tsv"
      OPENBLAS_NUM_THREADS=$t "$bin" --task --N "$N" --P "$P" --target dog --steps "$S" --threads "$t" \
        >"$tmp/task_${N}_${t}_$k.txt"
    done
  done
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| N | P | step ms, 1 thread | step ms, 2 threads | step speed-up | data ms/step (1 thread) | task per step ms, 1 | task per step ms, 2 | training speed-up | eval s, 1 | eval s, 2 | projected task h, 1 | projected task h, 2 | task speed-up at $PROJECT_STEPS steps |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for row in $ROWS; do
  IFS=: read -r N P S <<<"$row"
  declare -A v=()
  for t in 1 2; do
    # the step: bench_step's tsv has a header; column "step_ms" (wall)
    v[step$t]=$(for f in "$tmp"/step_${N}_${t}_*.tsv; do
                  awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } NR == 2 { print $c["step_ms"] }' "$f"
                done | median)
    # the task: training phases per step, evaluation phases in all
    v[train$t]=$(for f in "$tmp"/task_${N}_${t}_*.txt; do
                   d=$(phase "$f" data); s=$(phase "$f" step); l=$(phase "$f" log)
                   awk -v d="$d" -v s="$s" -v l="$l" -v n="$S" 'BEGIN { print 1000 * (d + s + l) / n }'
                 done | median)
    v[data$t]=$(for f in "$tmp"/task_${N}_${t}_*.txt; do
                  awk -v d="$(phase "$f" data)" -v n="$S" 'BEGIN { print 1000 * d / n }'
                done | median)
    v[eval$t]=$(for f in "$tmp"/task_${N}_${t}_*.txt; do
                  e=0
                  for p in eval ratemap score null replay setup; do e=$(awk -v a="$e" -v b="$(phase "$f" "$p")" 'BEGIN { print a + b }'); done
                  echo "$e"
                done | median)
  done
  awk -v N="$N" -v P="$P" -v s1="${v[step1]}" -v s2="${v[step2]}" -v d1="${v[data1]}" \
      -v t1="${v[train1]}" -v t2="${v[train2]}" -v e1="${v[eval1]}" -v e2="${v[eval2]}" -v S="$PROJECT_STEPS" 'BEGIN {
    h1 = (S * t1 / 1000 + e1) / 3600; h2 = (S * t2 / 1000 + e2) / 3600
    printf "| %d | %d | %.1f | %.1f | %.2f | %.1f | %.1f | %.1f | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f |\n",
      N, P, s1, s2, s1 / s2, d1, t1, t2, t1 / t2, e1, e2, h1, h2, h1 / h2 }'
  unset v
done
