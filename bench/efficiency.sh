#!/usr/bin/env bash
# efficiency.sh -- parallel efficiency of the farm with real tasks on all
# cores: the same sweep of TASKS identical-cost tasks run once by a single
# process (it schedules and works) and once with one worker per core plus
# the scheduling rank (mpirun -n CORES+1, rank 0 sleeps while tasks run).
#
#   bash bench/efficiency.sh [TASKS]      (default 12 tasks of ~8 s each: ~2.5 min)
#   CORES=2 STEPS=400 HIDDEN=128 BUILD=build bash bench/efficiency.sh 12
#
# Figures (wall times from sweep's closing "used X s of CPU over Y s" line,
# i.e. the scheduling phase: file creation and MPI start-up excluded):
#   serial s        the single process: TASKS tasks one after another
#   parallel s      CORES workers
#   efficiency      serial / (CORES x parallel): 1 = perfect.  Below 1 for
#                   two reasons, both reported: the farm (scheduling, the
#                   write, the idle tail when TASKS is not a multiple of
#                   CORES) and the cores slowing each other down (shared
#                   caches and memory bandwidth: task_run itself is slower
#                   when every core runs one)
#   busy            sum of /tasks/wall_s / (CORES x parallel s): the share
#                   of worker time spent inside task_run (1 - busy = farm
#                   overhead + tail)
#   task slowdown   mean task_run wall time, parallel / serial
#   rank 0 CPU      the scheduling rank's share of one core
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
TASKS=${1:-${TASKS:-12}}
CORES=${CORES:-$(getconf _NPROCESSORS_ONLN)}
STEPS=${STEPS:-400}
HIDDEN=${HIDDEN:-128}
SWEEP=${SWEEP:-$BUILD/sweep}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
[ -x "$SWEEP" ] || { echo "efficiency.sh: $SWEEP not built" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/eff.yaml" <<YAML
name: efficiency
description: identical real tasks for the parallel-efficiency benchmark (bench/efficiency.sh)
model: {hidden: $HIDDEN, activation: relu, cell: leaky}
place: {n_place: 256}
train: {steps: $STEPS, batch: 200, log_every: 100}
eval: {eval_batch: 200, ratemap_trajectories: 400, eval_noise: [0, 0.01]}
output: {progress_every: 1000}
sweep:
  seed: {range: [0, $TASKS]}
YAML
run() {  # ranks out log -> "cpu wall mean_task_s"
  local n=$1 out=$2 log=$3
  if [ "$n" -eq 1 ]; then
    "$SWEEP" "$work/eff.yaml" -o "$out" --force >"$log" 2>&1
  else
    mpirun -n "$n" "$SWEEP" "$work/eff.yaml" -o "$out" --force >"$log" 2>&1
  fi || { echo "efficiency.sh: the run with $n ranks failed:" >&2; tail -n 20 "$log" >&2; exit 1; }
  local line
  line=$(grep 'used .* s of CPU over' "$log" | tail -n 1)
  [ -n "$line" ] || { echo "efficiency.sh: no timing line in $log" >&2; cat "$log" >&2; exit 1; }
  local cpu wall
  cpu=$(sed -E 's/.*used ([0-9.]+) s of CPU over ([0-9.]+) s.*/\1/' <<<"$line")
  wall=$(sed -E 's/.*used ([0-9.]+) s of CPU over ([0-9.]+) s.*/\2/' <<<"$line")
  local m
  m=$("$PYTHON" -c "import h5py,sys,numpy as np; t=h5py.File(sys.argv[1],'r')['tasks']; \
    assert int(np.sum(t['status'][:]==b'done'))==$TASKS, 'not all tasks done'; \
    print('%.4f %.4f' % (float(np.mean(t['wall_s'][:])), float(np.sum(t['wall_s'][:]))))" "$out")
  rm -f "$out"
  echo "$cpu $wall $m"
}
echo "# efficiency: $TASKS tasks (leaky ReLU, N $HIDDEN, P 256, B 200, T 20, $STEPS steps)," \
     "$(date -u '+%Y-%m-%d %H:%M UTC'), $(getconf _NPROCESSORS_ONLN) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
read -r _ w1 m1 _ <<<"$(run 1 "$work/serial.h5" "$work/serial.log")"
read -r c2 w2 m2 s2 <<<"$(run $((CORES + 1)) "$work/par.h5" "$work/par.log")"
echo
echo "| tasks | workers | serial s | parallel s | efficiency | busy | task s serial / parallel (slowdown) | rank 0 CPU |"
echo "|---|---|---|---|---|---|---|---|"
awk -v T="$TASKS" -v W="$CORES" -v w1="$w1" -v w2="$w2" -v m1="$m1" -v m2="$m2" -v s2="$s2" -v c2="$c2" 'BEGIN {
  printf "| %d | %d | %.1f | %.1f | %.3f | %.3f | %.3f / %.3f (%.3f) | %.2f%% |\n",
    T, W, w1, w2, w1 / (W * w2), s2 / (W * w2), m1, m2, m2 / m1, 100 * c2 / w2 }'
