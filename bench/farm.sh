#!/usr/bin/env bash
# farm.sh -- dispatch throughput of the farm: many zero-work tasks through
# rank 0, with 2, 8 and 64 ranks (oversubscribed on a small machine).
#
#   bash bench/farm.sh [TASKS]          (default 20000 tasks)
#   RANKS="2 8 64" DIRS="/tmp /dev/shm" SYNCS="task none" BUILD=build bash bench/farm.sh
#
# The spec: `steps: 0` and the smallest network and evaluation the
# validator accepts (hidden 1, one place cell, T = 1, one trajectory of one
# step per evaluation, 2x2 rate-map bins, one noise level), seeds 0..TASKS-1
# as the axis.  Each task's own work (task_run) is then 15 to 30 us, so what is
# measured is the farm: rank 0's dispatch, the MPI messages, the workers'
# per-task set-up and the HDF5 write of every row (with its fsync).
# The result file goes to each directory of DIRS: /tmp (a disk: the fsync
# after every task costs what the disk costs) and /dev/shm (tmpfs: fsync is
# free, which leaves dispatch and HDF5).  SYNCS: the spec's output.sync
# modes to run (task: an fsync per task, the default; none: no fsync,
# docs/running.md "Durability").
#
# Figures, per run, from sweep's own closing lines and the result file:
#   sched s        the scheduling phase (rank 0's "used X s of CPU over Y s")
#   tasks/s        TASKS / sched s
#   overhead ms    per-task worker time not spent in task_run:
#                  (workers x sched s) / TASKS - mean /tasks/wall_s
#   rank 0 CPU     rank 0's CPU share over the phase (its own line)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
TASKS=${1:-${TASKS:-20000}}
RANKS=${RANKS:-2 8 64}
DIRS=${DIRS:-/tmp /dev/shm}
SYNCS=${SYNCS:-task none}
SWEEP=${SWEEP:-$BUILD/sweep}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
[ -x "$SWEEP" ] || { echo "farm.sh: $SWEEP not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/farm.yaml" <<YAML
name: farm
description: zero-work tasks for the dispatch benchmark (bench/farm.sh)
model: {hidden: 1}
task: {seq_len: 1}
place: {n_place: 1, decode_k: 1}
train: {steps: 0, batch: 1, log_every: 1}
eval: {eval_batch: 1, ratemap_trajectories: 1, ratemap_bins: 2, eval_noise: [0], eval_len_factor: 1}
output: {progress_every: 1000, sync: SYNC}
sweep:
  seed: {range: [0, $TASKS]}
YAML
echo "# farm: $TASKS zero-work tasks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -n)," \
     "$(getconf _NPROCESSORS_ONLN) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| ranks | file in | sync | sched s | tasks/s | worker ms per task | task_run ms (mean) | overhead ms per task | rank 0 CPU |"
echo "|---|---|---|---|---|---|---|---|---|"
for sync in $SYNCS; do
 sed "s/SYNC}/$sync}/" "$work/farm.yaml" >"$work/farm_$sync.yaml"
 for dir in $DIRS; do
  for n in $RANKS; do
    out="$dir/sweep_farm_$$.h5"
    log="$work/log_${n}"
    mpirun -n "$n" "$SWEEP" "$work/farm_$sync.yaml" -o "$out" --force >"$log" 2>&1 || {
      echo "farm.sh: the run with $n ranks failed:" >&2; tail -n 20 "$log" >&2; rm -f "$out"; exit 1; }
    line=$(grep 'rank 0 (scheduler) used' "$log" | tail -n 1)
    cpu=$(sed -E 's/.*used ([0-9.]+) s of CPU over ([0-9.]+) s.*/\1/' <<<"$line")
    over=$(sed -E 's/.*used ([0-9.]+) s of CPU over ([0-9.]+) s.*/\2/' <<<"$line")
    task_ms=$("$PYTHON" -c "import h5py,sys; t=h5py.File(sys.argv[1],'r')['tasks']; \
      import numpy as np; print('%.4f %d' % (1e3*float(np.mean(t['wall_s'][:])), int(np.sum(t['status'][:]==b'done'))))" "$out")
    rm -f "$out"
    read -r tms ndone <<<"$task_ms"
    [ "$ndone" -eq "$TASKS" ] || { echo "farm.sh: only $ndone of $TASKS tasks done with $n ranks" >&2; exit 1; }
    awk -v n="$n" -v d="$dir" -v y="$sync" -v T="$TASKS" -v s="$over" -v c="$cpu" -v tms="$tms" 'BEGIN {
      w = n - 1; per = w * s / T * 1e3
      printf "| %d | %s | %s | %.1f | %.0f | %.2f | %.3f | %.2f | %.1f%% |\n", n, d, y, s, T / s, per, tms, per - tms, 100 * c / s }'
  done
 done
done
