#!/usr/bin/env bash
# t_resume.sh -- kill -9 of the whole job (mpirun and every rank, by pid:
# Open MPI gives each rank its own process group) at several moments: start-up, while the first tasks run,
# later.  After every kill the file (if it exists yet) opens with h5dump and
# h5py, every task marked done is complete (check_results.py), and
# --resume carries on from it; the last --resume finishes the sweep, and
# the result equals an uninterrupted run in every dataset except timings
# and ranks.  SYNC=task (default) or none: the spec's output.sync
# (tests/t_resume_nosync.sh runs this with none).
set -u
cd "$(dirname "$0")/.."
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp, pid killed at exit, fail
# Open MPI 4.1 puts every rank in its own process group: the whole job is
# mpirun plus its children, which we kill by pid.
job_pids() { echo "$1" $(ps -o pid= --ppid "$1"); }
killjob() { kill -9 $(job_pids "$1") 2>/dev/null; }
cat > "$tmp/slow.yaml" <<'YAML'
name: resume
model: {hidden: 64, activation: relu}
task: {seq_len: 10}
place: {n_place: 32}
train: {steps: 1500, batch: 16, lr: 1.0e-3, log_every: 100}
eval: {eval_batch: 32, ratemap_trajectories: 200, ratemap_bins: 10, eval_noise: [0.0, 0.03],
       save_ratemaps: top, save_top_k: 4}
output: {progress_every: 1}
sweep:
  cell: [vanilla, leaky]
  tau: [0.05, 0.2]
  seed: [0, 1, 2, 3, 4, 5]
YAML
SYNC=${SYNC:-task}
sed -i "s/^output: {progress_every: 1}$/output: {progress_every: 1, sync: $SYNC}/" "$tmp/slow.yaml"
grep -q "sync: $SYNC}" "$tmp/slow.yaml" || fail "could not set output.sync"
SPEC=$tmp/slow.yaml
out=$tmp/r.h5
killed_with_pending=0
for t in 0.5 1.5 3; do
  mpirun -n 3 "$SWEEP" "$SPEC" -o "$out" --resume >"$tmp/run-$t.log" 2>&1 &
  pid=$!
  sleep "$t"
  victims=$(job_pids "$pid")
  kill -9 $victims 2>/dev/null
  wait "$pid" 2>/dev/null; pid=
  for v in $victims; do   # every rank is gone before anything reads the file
    for _ in $(seq 100); do kill -0 "$v" 2>/dev/null || break; sleep 0.05; done
    ! kill -0 "$v" 2>/dev/null || fail "process $v survived kill -9"
  done
  if [ ! -e "$out" ]; then echo "kill at $t s: no result file yet (killed during start-up)"; continue; fi
  h5dump "$out" >/dev/null || fail "h5dump cannot read the file killed at $t s"
  "$PYTHON" tests/check_results.py "$out" || fail "file killed at $t s"
  "$PYTHON" - "$out" "$t" <<'PY' && killed_with_pending=$((killed_with_pending + 1))
import sys, h5py
st = [s.decode() for s in h5py.File(sys.argv[1], "r")["tasks"]["status"]]
print(f"kill -9 at {sys.argv[2]} s:", {s: st.count(s) for s in sorted(set(st))})
sys.exit(0 if "pending" in st else 1)
PY
done
[ "$killed_with_pending" -ge 1 ] || fail "no kill landed while tasks were left: the test did not test anything"
mpirun -n 3 "$SWEEP" "$SPEC" -o "$out" --resume >"$tmp/final.log" 2>&1 || { cat "$tmp/final.log"; fail "final resume"; }
cat "$tmp/final.log"
"$PYTHON" tests/check_results.py "$out" --complete || fail "resumed file incomplete"
"$SWEEP" "$SPEC" -o "$tmp/ref.h5" >"$tmp/ref.log" 2>&1 || { cat "$tmp/ref.log"; fail "reference run"; }
"$PYTHON" tests/check_results.py "$out" --compare "$tmp/ref.h5" || fail "resumed file differs from an uninterrupted run"
[ ! -e "$out.creating" ] && [ ! -e "$out.lock" ] || fail "a temporary or lock file was left behind"
echo "kill -9 / resume cycle ok (sync: $SYNC)"
