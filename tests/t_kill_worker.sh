#!/usr/bin/env bash
# t_kill_worker.sh -- kill -9 of ONE worker rank (not rank 0, not mpirun)
# while tasks run.  What Open MPI 4.1.4 does (observed, docs/faults.md):
# mpirun notices the dead rank ("mpirun noticed that process rank 2 ...
# exited on signal 9 (Killed)"), sends SIGCONT + SIGTERM to the other ranks
# (sweep's handler starts a clean stop, but rank 0 waits for the dead
# worker's report and the collective close cannot complete), SIGKILLs them
# 1 s later (odls_base_sigkill_timeout) and exits 137.  The test checks
# that:
#   - mpirun exits non-zero and every rank is gone;
#   - the file opens (h5dump -H) and every task marked done is complete
#     (check_results.py), with some done and some pending;
#   - the same kill while the worker sits between writing a task's data
#     and its status (SWEEP_TEST_WRITE_DELAY_MS, src/io/h5out.c) leaves that
#     task pending, and the file still checks;
#   - --resume finishes the sweep, and the result equals an uninterrupted
#     run in every dataset except timings and ranks.
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp, pid/ranks killed at exit, fail, wait_for, status_of
cat > "$tmp/k.yaml" <<'YAML'
name: killworker
model: {hidden: 64, activation: relu}
task: {seq_len: 10}
place: {n_place: 32}
train: {steps: 3000, batch: 16, lr: 1.0e-3, log_every: 100}
eval: {eval_batch: 32, ratemap_trajectories: 200, ratemap_bins: 10, eval_noise: [0.0, 0.03],
       save_ratemaps: top, save_top_k: 4}
output: {progress_every: 0.1}
sweep:
  cell: [vanilla, leaky]
  tau: [0.05, 0.2]
  seed: [0, 1, 2]
YAML
SPEC=$tmp/k.yaml
out=$tmp/k.h5
log=$tmp/k.log

rank_pid() {  # mpirun-pid rank: pid of that rank (a child of mpirun)
  local p
  for p in $(ps -o pid= --ppid "$1"); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && { echo "$p"; return 0; }
  done
  return 1
}

: > "$log"
mpirun -n 3 "$SWEEP" "$SPEC" -o "$out" >"$log" 2>&1 &
pid=$!
# wait until a task is done and both workers are busy: the next kill lands
# in the middle of a task (training, or at worst writing)
wait_for 60 '^sweep: [1-9][0-9]*/9 done .*, 2 running' "$log" || { cat "$log"; fail "never saw a finished task with both workers busy"; }
victim=$(rank_pid "$pid" 2) || { cat "$log"; fail "rank 2 not found"; }
ranks=$(ps -o pid= --ppid "$pid")
echo "kill -9 rank 2 (pid $victim) after: $(grep -E '^sweep: [0-9]+/9 done' "$log" | tail -1)"
kill -9 "$victim"
# mpirun must end by itself (it kills the other ranks 1 s after SIGTERM)
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && { cat "$log"; fail "mpirun still runs 30 s after a rank was killed"; }
wait "$pid"; rc=$?; pid=
echo "mpirun exit status $rc"
[ "$rc" -ne 0 ] || { cat "$log"; fail "mpirun exited 0 after a rank was killed"; }
grep -q "exited on signal 9" "$log" || { cat "$log"; fail "mpirun did not report the killed rank"; }
for r in $ranks; do
  for _ in $(seq 100); do kill -0 "$r" 2>/dev/null || break; sleep 0.05; done
  ! kill -0 "$r" 2>/dev/null || fail "rank process $r survived the job"
done
ranks=

h5dump -H "$out" >/dev/null || fail "h5dump cannot read the file"
"$PYTHON" tests/check_results.py "$out" --min-done 1 || fail "the file after the kill"
"$PYTHON" - "$out" <<'PY' || fail "expected pending tasks after the kill"
import sys, h5py
st = [s.decode() for s in h5py.File(sys.argv[1], "r")["tasks"]["status"]]
print("after the kill:", {s: st.count(s) for s in sorted(set(st))})
assert "pending" in st
PY

# the same kill while the worker sits between writing a task's data and its
# status (the SWEEP_TEST_WRITE_DELAY_MS hook of src/io/h5out.c): that task
# must stay pending, never done with incomplete data
: > "$tmp/w.log"
mpirun -n 3 -x SWEEP_TEST_WRITE_DELAY_MS=4000 "$SWEEP" "$SPEC" -o "$out" --resume >"$tmp/w.log" 2>&1 &
pid=$!
wait_for 60 '^sweep\[2\]: test hook: task [0-9]* written' "$tmp/w.log"
hooked=$(sed -n 's/^sweep\[2\]: test hook: task \([0-9]*\) written.*/\1/p' "$tmp/w.log" | head -1)
[ -n "$hooked" ] || { cat "$tmp/w.log"; fail "rank 2 never reached the write hook"; }
victim=$(rank_pid "$pid" 2) || { cat "$tmp/w.log"; fail "rank 2 not found"; }
ranks=$(ps -o pid= --ppid "$pid")
echo "kill -9 rank 2 (pid $victim) between the data and the status of task $hooked"
kill -9 "$victim"
for _ in $(seq 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$pid" 2>/dev/null && { cat "$tmp/w.log"; fail "mpirun still runs 30 s after a rank was killed"; }
wait "$pid"; rc=$?; pid=
[ "$rc" -ne 0 ] || { cat "$tmp/w.log"; fail "mpirun exited 0 after a rank was killed"; }
for r in $ranks; do
  for _ in $(seq 100); do kill -0 "$r" 2>/dev/null || break; sleep 0.05; done
done
ranks=
h5dump -H "$out" >/dev/null || fail "h5dump cannot read the file killed in the write window"
"$PYTHON" tests/check_results.py "$out" || fail "the file killed in the write window"
"$PYTHON" - "$out" "$hooked" <<'PY' || fail "task $hooked was killed before its status was written but is not pending"
import sys, h5py
t = h5py.File(sys.argv[1], "r")["tasks"]
row = list(t["id"]).index(int(sys.argv[2]))
st = t["status"][row].decode()
print(f"task {sys.argv[2]} killed in the write window: {st}")
assert st == "pending"
PY

mpirun -n 3 "$SWEEP" "$SPEC" -o "$out" --resume >"$tmp/resume.log" 2>&1 || { cat "$tmp/resume.log"; fail "resume"; }
"$PYTHON" tests/check_results.py "$out" --complete || fail "resumed file incomplete"
"$SWEEP" "$SPEC" -o "$tmp/ref.h5" >"$tmp/ref.log" 2>&1 || { cat "$tmp/ref.log"; fail "reference run"; }
"$PYTHON" tests/check_results.py "$out" --compare "$tmp/ref.h5" || fail "resumed file differs from an uninterrupted run"
[ ! -e "$out.creating" ] && [ ! -e "$out.lock" ] || fail "a temporary or lock file was left behind"
echo "kill -9 of a worker / resume ok"
