#!/usr/bin/env bash
# run_task_table.sh -- whole tasks, measured in one run: `bench_step --task`
# (sweep's task_run timed by phase, with the sgemm-only replay of its
# training steps as the bound) and, for the rows in TORCH_ROWS, the same
# task end to end in PyTorch (bench/torch_task.py), side by side.
#
#   bash bench/run_task_table.sh        (BUILD=build by default)
#   ROWS="128:256:3000 512:512:300 1024:512:100" TORCH_ROWS="128" TARGET=dog
#   THREAD_ROWS="128": rows also run with the data thread (`bench_step
#   --task --data-thread on`: the training batches made one step ahead by
#   a second thread, docs/performance.md section 8) when the machine has
#   two cores or more; compared on wall time
#
# Legend: N hidden, P place cells; a row is N:P:steps.  B 200, T 20, leaky
# relu, the place-cell target TARGET (dog), default evaluation (eval_batch
# 200, E 40, 4000 rate-map trajectories, 1000 null shuffles), one thread.
# "cpu" is process CPU time, the figure to read on a loaded machine.
# task / bound = task time / (steps x sgemm-only time of one training step).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
ROWS=${ROWS:-"128:256:3000 512:512:300 1024:512:100"}
TORCH_ROWS=${TORCH_ROWS:-"128"}
THREAD_ROWS=${THREAD_ROWS:-"128"}
TARGET=${TARGET:-dog}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
bin=$BUILD/bench/bench_step
[ -x "$bin" ] || { echo "run_task_table: $bin not built (make BUILD=$BUILD $bin)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# task table, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n), $(getconf _NPROCESSORS_ONLN) cores," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
have_torch=0
"$PYTHON" -c 'import torch, scipy' 2>/dev/null && have_torch=1
for row in $ROWS; do
  IFS=: read -r N P S <<<"$row"
  "$bin" --task --N "$N" --P "$P" --target "$TARGET" --steps "$S" --reps 10 --format tsv >"$tmp/c_$N.tsv"
  if [ $have_torch = 1 ] && [[ " $TORCH_ROWS " == *" $N "* ]]; then
    "$PYTHON" bench/torch_task.py --N "$N" --P "$P" --steps "$S" --target "$TARGET" --format tsv >"$tmp/t_$N.tsv"
  fi
  if [ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] && [[ " $THREAD_ROWS " == *" $N "* ]]; then
    "$bin" --task --N "$N" --P "$P" --target "$TARGET" --steps "$S" --reps 10 --data-thread on --format tsv \
      >"$tmp/d_$N.tsv"
  fi
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| N | P | steps | C task s (cpu) | data | step | eval + ratemap | score + null | other | bound = steps x sgemm-only, cpu s | task / bound (cpu) | task / bound during the task (cpu) | PyTorch task s (cpu) | PyTorch / C (cpu) | peak MB / model MB (ratio) |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for row in $ROWS; do
  IFS=: read -r N P S <<<"$row"
  t="-"; r="-"
  if [ -f "$tmp/t_$N.tsv" ]; then
    tw=$(awk -F'\t' 'NR == 2 { print $4 }' "$tmp/t_$N.tsv"); tc=$(awk -F'\t' 'NR == 2 { print $5 }' "$tmp/t_$N.tsv")
    t=$(printf '%.1f (%.1f)' "$tw" "$tc")
  fi
  awk -F'\t' -v t="$t" -v tf="$tmp/t_$N.tsv" '
    NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    NR == 2 {
      c = $col["task_cpu_s"]; w = $col["task_wall_s"]
      ev = $col["eval_cpu_s"] + $col["ratemap_cpu_s"]; sc = $col["score_cpu_s"] + $col["null_cpu_s"]
      ot = $col["log_cpu_s"] + $col["replay_cpu_s"] + $col["setup_cpu_s"]
      r = "-"
      if ((getline line < tf) > 0 && (getline line < tf) > 0) { split(line, f, "\t"); r = sprintf("%.2f (%.2f)", f[4] / w, f[5] / c) }
      printf "| %s | %s | %s | %.1f (%.1f) | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.2f | %.3f | %.3f (%d samples) | %s | %s | %.1f / %.1f (%.2f) |\n",
        $col["N"], $col["P"], $col["steps"], w, c, 100 * $col["data_cpu_s"] / c, 100 * $col["step_cpu_s"] / c,
        100 * ev / c, 100 * sc / c, 100 * ot / c, $col["bound_cpu_s"], $col["ratio_cpu"],
        $col["ratio_inside_cpu"], $col["n_inside"], t, r,
        $col["hwm_mb"], $col["model_mb"], $col["mem_ratio"]
    }' "$tmp/c_$N.tsv"
done
echo
echo "(data ... other: shares of the C task's CPU time; peak = VmHWM growth over the task (reset before it),"
echo " model = params + grads + Adam + BPTT cache; during the task: the sgemm-only step sampled once a second"
echo " between training steps, its median as the bound)"
thread_rows=$(ls "$tmp"/d_*.tsv 2>/dev/null || true)
if [ -n "$thread_rows" ]; then
  echo
  echo "With the data thread (wall time: the process's CPU time counts both threads):"
  echo
  echo "| N | P | steps | in line: task wall s, task / bound | data thread: task wall s, task / bound | the loop's wait for data s | the thread's CPU s |"
  echo "|---|---|---|---|---|---|---|"
  for row in $ROWS; do
    IFS=: read -r N P S <<<"$row"
    [ -f "$tmp/d_$N.tsv" ] || continue
    paste "$tmp/c_$N.tsv" "$tmp/d_$N.tsv" | awk -F'\t' '
      NR == 1 { n = NF / 2; for (i = 1; i <= n; i++) col[$i] = i; next }
      NR == 2 {
        printf "| %s | %s | %s | %.1f, %.3f | %.1f, %.3f | %.2f | %.2f |\n", $col["N"], $col["P"], $col["steps"],
          $col["task_wall_s"], $col["ratio_wall"], $(n + col["task_wall_s"]), $(n + col["ratio_wall"]),
          $(n + col["data_wall_s"]), $(n + col["data_thread_cpu_s"])
      }'
  done
fi
