#!/usr/bin/env bash
# t_sigterm_write.sh -- SIGTERM during training and during the writing of
# a task's results.  The write window (data, fsync, then the status) is
# milliseconds long; the SWEEP_TEST_WRITE_DELAY_MS hook of src/io/h5out.c
# holds a worker between a task's data and its status, and announces it
# ("sweep[R]: test hook: task K written, ..."), so the signal lands there:
#   1. training: SIGTERM to the ranks while both workers train: exit 3,
#      "stopped by SIGTERM", the running tasks abandoned and pending;
#   2. writing, SIGTERM to the ranks: the worker finishes the write (the
#      stop is honoured between tasks), task K is done and complete, exit 3;
#   3. writing, SIGTERM to mpirun with the hook longer than mpirun's 1 s
#      SIGTERM-to-SIGKILL grace: the worker dies between data and status;
#      task K must be pending, never done with incomplete data.
# Every time the file opens (h5dump -H), every done task is complete
# (check_results.py), some are pending, and --resume finishes the sweep.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp, pid/ranks killed at exit, fail, wait_for, status_of
cat > "$tmp/w.yaml" <<'YAML'
name: sigterm_write
model: {hidden: 64, activation: relu}
task: {seq_len: 10}
place: {n_place: 32}
train: {steps: 4000, batch: 16, lr: 1.0e-3, log_every: 100}
eval: {eval_batch: 32, ratemap_trajectories: 200, ratemap_bins: 10, eval_noise: [0.0, 0.03]}
output: {progress_every: 0.1}
sweep:
  cell: [leaky]
  tau: [0.05, 0.2]
  seed: [0, 1]
YAML
SPEC=$tmp/w.yaml

start() {  # file, extra mpirun args...: mpirun -n 3 in the background
  local f=$1; shift
  : > "$f.log"
  mpirun -n 3 "$@" "$SWEEP" "$SPEC" -o "$f" >"$f.log" 2>&1 &
  pid=$!
}
hooked_task() {  # file: the task of the first "test hook" line
  sed -n 's/^sweep\[[0-9]*\]: test hook: task \([0-9]*\) written.*/\1/p' "$1.log" | head -1
}
stopped_ok() {  # file: intact, done tasks complete, some pending; --resume finishes
  local f=$1
  h5dump -H "$f" >/dev/null || fail "h5dump cannot read $f"
  "$PYTHON" tests/check_results.py "$f" || fail "$f after the stop"
  "$PYTHON" - "$f" <<'PY' || fail "$f: expected pending tasks after the stop"
import sys, h5py
st = [s.decode() for s in h5py.File(sys.argv[1], "r")["tasks"]["status"]]
print(" ", sys.argv[1].rsplit("/", 1)[-1], {s: st.count(s) for s in sorted(set(st))})
assert "pending" in st
PY
  mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" --resume >"$f.resume.log" 2>&1 || { cat "$f.resume.log"; fail "resume of $f"; }
  "$PYTHON" tests/check_results.py "$f" --complete || fail "$f after resume"
  [ ! -e "$f.creating" ] && [ ! -e "$f.lock" ] || fail "$f: a temporary or lock file was left behind"
}

# 1. training
echo "1. SIGTERM to the ranks during training"
f=$tmp/train.h5
start "$f"
wait_for 60 '^sweep: 0/4 done .*, 2 running' "$f.log" || { cat "$f.log"; fail "never saw both workers training"; }
kill -TERM $(ps -o pid= --ppid "$pid")
wait "$pid"; rc=$?; pid=
[ "$rc" -eq 3 ] || { cat "$f.log"; fail "exit $rc, expected 3"; }
grep -q "stopped by SIGTERM; incomplete: resume with" "$f.log" || { cat "$f.log"; fail "no stop message"; }
grep -qE "this run [0-9]+ done, .* [1-9][0-9]* left pending" "$f.log" || { cat "$f.log"; fail "the training tasks were not abandoned"; }
stopped_ok "$f"

# 2. writing, SIGTERM to the ranks: the write completes, the task is done
echo "2. SIGTERM to the ranks while a worker writes a task"
f=$tmp/write.h5
start "$f" -x SWEEP_TEST_WRITE_DELAY_MS=1500
wait_for 60 "test hook: task [0-9]* written" "$f.log" || { cat "$f.log"; fail "the write hook never ran"; }
k=$(hooked_task "$f")
kill -TERM $(ps -o pid= --ppid "$pid")
wait "$pid"; rc=$?; pid=
[ "$rc" -eq 3 ] || { cat "$f.log"; fail "exit $rc, expected 3"; }
grep -q "stopped by SIGTERM" "$f.log" || { cat "$f.log"; fail "no stop message"; }
st=$(status_of "$f" "$k")
echo "  task $k, stopped while being written: $st"
[ "$st" = done ] || fail "task $k: $st, expected done (a clean stop finishes the write)"
stopped_ok "$f"

# 3. writing, SIGTERM to mpirun: the worker is SIGKILLed between data and status
echo "3. SIGTERM to mpirun while a worker writes a task (SIGKILL 1 s later)"
f=$tmp/wkill.h5
start "$f" -x SWEEP_TEST_WRITE_DELAY_MS=6000
wait_for 60 "test hook: task [0-9]* written" "$f.log" || { cat "$f.log"; fail "the write hook never ran"; }
k=$(hooked_task "$f")
ranks=$(ps -o pid= --ppid "$pid")
kill -TERM "$pid"
wait "$pid"; rc=$?; pid=
[ "$rc" -ne 0 ] || { cat "$f.log"; fail "mpirun exited 0"; }
for r in $ranks; do
  for _ in $(seq 100); do kill -0 "$r" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$r" 2>/dev/null || fail "rank $r survived"
done
st=$(status_of "$f" "$k")
echo "  task $k, killed between its data and its status: $st"
[ "$st" = pending ] || fail "task $k: $st, expected pending"
stopped_ok "$f"
echo "stops during training and writing ok"
