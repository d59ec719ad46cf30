#!/usr/bin/env bash
# tests/t_slurm.sh -- slurm/sweep.sbatch on a real (throw-away, one-node) SLURM.
#
#  1. sbatch slurm/sweep.sbatch sweeps/smoke.yaml on 2 ranks: COMPLETED 0:0,
#     every task of the file done (h5py); --time-limit was derived from the
#     job's remaining time.
#  1b. --cpus-per-task=2 on one rank: sweep.sbatch maps 2 cores per rank,
#     sweep takes 2 threads per task from SLURM_CPUS_PER_TASK (/tasks threads).
#  2. the same sweep again, to a new file; `scancel --batch --signal=USR1`
#     as soon as the result file exists: the batch shell forwards USR1 to
#     mpirun, sweep stops cleanly with status 3, the script requeues the job;
#     while it waits to restart, the file holds some but not all tasks done;
#     the rerun resumes (--resume) and completes; the appended log shows both
#     runs; scontrol says Restarts=1.
#  2b. one long task (checkpoint_every 0.5 s, stop_grace 0): the warning
#     signal checkpoints it, the job requeues, run 2 resumes it from its
#     checkpoint, and the result equals an uninterrupted run bit for bit.
#  3. a 2-element job array (slurm/submit-shards.sh: shard i/2 each), then
#     the merge job (`sweep merge`): the merged file has every task done and
#     the same task table as run 1.
# Skips (SKIP: ..., exit 77) only when the SLURM packages cannot be
# installed.
# Environment (tests/run.sh): SWEEP, PYTHON, BUILD.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp (the cluster's state) removed at exit, fail, skip
ROOT=$PWD
SPEC=$ROOT/sweeps/smoke.yaml
PATH=$PATH:/usr/sbin:/sbin

step() { echo "== $*"; }

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    if ! bash scripts/install-deps --with-slurm >/dev/null 2>&1 ||
       ! command -v slurmctld >/dev/null 2>&1; then
        skip "the SLURM packages (slurmctld slurmd slurm-client munge) cannot be installed"
    fi
fi
[ "$(id -u)" -eq 0 ] || fail "needs root (the test cluster's daemons run as root)"
[ -x "$SWEEP" ] || fail "no sweep binary at $SWEEP (build it: make)"
[ -r "$SPEC" ] || fail "missing $SPEC"

ST=$tmp
at_exit 'bash "$ROOT/tests/slurm/down.sh" "$ST"'
eval "$(bash tests/slurm/up.sh "$ST")" || fail "could not start the test cluster"
W=$ST/work; mkdir -p "$W"; chmod 755 "$W"

# field JOBID NAME: NAME=value from `scontrol show job -o`
field() { scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n1; }
# wait_final JOBID SECONDS: echo the final state (or the last seen one)
wait_final() {
    local end=$(( $(date +%s) + $2 )) st=""
    while [ "$(date +%s)" -lt "$end" ]; do
        st=$(field "$1" JobState)
        case $st in COMPLETED|FAILED|TIMEOUT|CANCELLED|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)
            echo "$st"; return 0 ;; esac
        sleep 0.3
    done
    echo "${st:-UNKNOWN}"; return 1
}
# poll_until SECONDS COMMAND...: poll until COMMAND succeeds
poll_until() {
    local end=$(( $(date +%s) + $1 )); shift
    while [ "$(date +%s)" -lt "$end" ]; do "$@" && return 0; sleep 0.2; done
    return 1
}
show_log() { echo "---- $1"; sed 's/^/    /' "$1" 2>/dev/null | tail -n 60; }

# tasks_summary FILE -> "n_tasks rows done" (HDF5 file locking off: the file
# may be between runs, but never read while a writer has it open here)
tasks_summary() {
    HDF5_USE_FILE_LOCKING=FALSE "$PYTHON" - "$1" <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f:
    t = f["tasks"][...]
    st = np.char.strip(t["status"].astype("S")).astype(str)
    print(int(f.attrs["n_tasks"]), len(t), int((st == "done").sum()))
EOF
}

# Every job below gets these (sbatch exports the submitting environment).
export SWEEP SWEEP_TIME_MARGIN=0

# ---- 1. a plain run ---------------------------------------------------------
step "1. sbatch slurm/sweep.sbatch sweeps/smoke.yaml (2 ranks)"
t0=$SECONDS
jid=$(cd "$W" && SWEEP_OUT=$W/plain.h5 SWEEP_TIME_MARGIN=60 sbatch --parsable -J plain --ntasks=2 --time=5 \
      "$ROOT/slurm/sweep.sbatch" "$SPEC") || fail "sbatch refused the job"
st=$(wait_final "$jid" 110); ec=$(field "$jid" ExitCode)
log=$W/sweep-plain-$jid.log
[ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] || { show_log "$log"; fail "job $jid: $st $ec"; }
# --time=5 and a 60 s margin: the script passes --time-limit (300 - 60 - the seconds already used)
grep "command:" "$log" | grep -Eq -- '--time-limit (2[0-3][0-9]|240)( |$)' ||
    { show_log "$log"; fail "no --time-limit derived from the job's time left"; }
read -r n rows ndone < <(tasks_summary "$W/plain.h5") || fail "cannot read $W/plain.h5"
[ "$rows" = "$n" ] && [ "$ndone" = "$n" ] && [ "$n" -gt 0 ] ||
    { show_log "$log"; fail "plain.h5: n_tasks=$n rows=$rows done=$ndone"; }
echo "ok: job $jid COMPLETED 0:0 in $((SECONDS - t0)) s, $ndone/$n tasks done"

# ---- 1b. --cpus-per-task=2: two OpenBLAS threads per task, two cores per rank --
step "1b. sbatch --cpus-per-task=2 (1 rank): 2 threads per task from SLURM_CPUS_PER_TASK"
ncpu=$(scontrol show node 2>/dev/null | sed -n 's/.*CPUTot=\([0-9]*\).*/\1/p' | head -n1)
if [ "${ncpu:-0}" -ge 2 ]; then
    jid=$(cd "$W" && SWEEP_OUT=$W/threads.h5 sbatch --parsable -J threads --ntasks=1 --cpus-per-task=2 --time=5 \
          "$ROOT/slurm/sweep.sbatch" "$SPEC") || fail "sbatch refused the job"
    st=$(wait_final "$jid" 110); ec=$(field "$jid" ExitCode)
    log=$W/sweep-threads-$jid.log
    [ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] || { show_log "$log"; fail "job $jid: $st $ec"; }
    grep "command:" "$log" | grep -q -- '--map-by slot:PE=2' || { show_log "$log"; fail "mpirun not given 2 cores per rank"; }
    grep -q "2 threads per task (SLURM_CPUS_PER_TASK" "$log" || { show_log "$log"; fail "sweep did not take 2 threads from SLURM"; }
    "$PYTHON" - "$W/threads.h5" <<'EOF' || { show_log "$log"; fail "threads.h5: /tasks threads is not 2 everywhere"; }
import sys, h5py
t = h5py.File(sys.argv[1], "r")["tasks"]
assert set(t["threads"].tolist()) == {2}, t["threads"]
assert all(s.strip() == b"done" for s in t["status"]), t["status"]
EOF
    echo "ok: job $jid ran every task with 2 threads (--map-by slot:PE=2)"
else
    echo "note: the node has ${ncpu:-?} CPU(s): part 1b needs 2 and did not run"
fi

# ---- 2. signal, requeue, resume --------------------------------------------
step "2. USR1 mid-run -> clean stop (exit 3) -> requeue -> resume"
# smoke.yaml with 50x the steps and twice the seeds (12 tasks, ~1 s each), so that the
# signal surely arrives while tasks are left.  --signal=B:USR1@30: SLURM's own
# warning (default @300 > the 5-minute limit) would otherwise come at once, in
# both runs; the test sends USR1 itself.  Part 3 keeps the immediate warning:
# sweep.sbatch must hold it until the ranks have their handlers.
sed -e 's/^\(  *steps:\) 60$/\1 3000/' -e 's/^\(  *seed:\) \[0, 1\]$/\1 [0, 1, 2, 3]/' "$SPEC" > "$W/requeue.yaml"
grep -q '^ *steps: 3000$' "$W/requeue.yaml" && grep -q '^ *seed: \[0, 1, 2, 3\]$' "$W/requeue.yaml" ||
    fail "sweeps/smoke.yaml changed: update the steps/seed rewrite in t_slurm.sh"
t0=$SECONDS
jid=$(cd "$W" && SWEEP_OUT=$W/requeue.h5 sbatch --parsable -J requeue --ntasks=2 --time=5 --signal=B:USR1@30 \
      "$ROOT/slurm/sweep.sbatch" "$W/requeue.yaml") || fail "sbatch refused the job"
log=$W/sweep-requeue-$jid.log
poll_until 60 test -e "$W/requeue.h5" || { show_log "$log"; fail "job $jid never created its file"; }
scancel --batch --signal=USR1 "$jid" || fail "scancel --batch --signal=USR1 $jid"
echo "signalled job $jid at +$((SECONDS - t0)) s"
requeued_or_ended() {
    grep -q 'requeued job' "$log" 2>/dev/null && return 0
    case $(field "$jid" JobState) in COMPLETED|FAILED|TIMEOUT|CANCELLED) return 0 ;; esac
    return 1
}
poll_until 90 requeued_or_ended
grep -q 'requeued job' "$log" ||
    { show_log "$log"; fail "job $jid did not requeue itself after USR1 (did sweep exit 3? state $(field "$jid" JobState))"; }
# Between the runs (restart hold = cred_expire): the file is closed; some
# tasks may be done, not all.
read -r n rows ndone < <(tasks_summary "$W/requeue.h5") || fail "cannot read requeue.h5 between runs"
echo "between runs: $ndone/$n tasks done"
[ "$rows" = "$n" ] && [ "$ndone" -lt "$n" ] ||
    { show_log "$log"; fail "after the stop: rows=$rows done=$ndone of $n (expected some left)"; }
st=$(wait_final "$jid" 120); ec=$(field "$jid" ExitCode); rs=$(field "$jid" Restarts)
[ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] && [ "$rs" = 1 ] ||
    { show_log "$log"; fail "job $jid: $st $ec Restarts=$rs"; }
grep -q 'got SIGUSR1' "$log" || { show_log "$log"; fail "the batch shell never saw USR1"; }
grep -q 'sweep exited with status 3' "$log" || { show_log "$log"; fail "run 1 did not exit 3"; }
grep -q "run 1 of job $jid" "$log" && grep -q "run 2 of job $jid" "$log" ||
    { show_log "$log"; fail "the log does not show both runs"; }
grep "command:" "$log" | tail -n1 | grep -q -- '--resume' ||
    { show_log "$log"; fail "run 2 was not started with --resume"; }
[ "$(grep -c 'sweep exited with status 0' "$log")" = 1 ] || { show_log "$log"; fail "run 2 did not exit 0"; }
read -r n rows ndone < <(tasks_summary "$W/requeue.h5") || fail "cannot read requeue.h5"
[ "$rows" = "$n" ] && [ "$ndone" = "$n" ] || fail "requeue.h5 after resume: $ndone/$n done"
grep '^\[sweep.sbatch' "$log" | sed 's/^/    /'
echo "ok: job $jid stopped, requeued, resumed: COMPLETED 0:0, Restarts=1, $ndone/$n done in $((SECONDS - t0)) s"

# ---- 2b. a long task checkpointed by the warning, resumed after the requeue ---
step "2b. USR1 while one long task trains -> checkpoint -> requeue -> resume from it -> bit-identical"
cat > "$W/long.yaml" <<'YAML'
name: long
model: {hidden: 64, activation: relu, cell: leaky, tau: 0.1}
task: {seq_len: 10}
place: {n_place: 32}
train: {steps: 30000, batch: 16, lr: 1.0e-3, log_every: 1000, checkpoint_every: 0.5, stop_grace: 0}
eval: {eval_batch: 32, ratemap_trajectories: 200, ratemap_bins: 10, eval_noise: [0.0]}
YAML
mpirun -n 2 "$SWEEP" "$W/long.yaml" -o "$W/long-ref.h5" > "$W/long-ref.log" 2>&1 ||
    { cat "$W/long-ref.log"; fail "the reference run of long.yaml"; }
t0=$SECONDS
jid=$(cd "$W" && SWEEP_OUT=$W/long.h5 sbatch --parsable -J long --ntasks=2 --time=5 --signal=B:USR1@30       "$ROOT/slurm/sweep.sbatch" "$W/long.yaml") || fail "sbatch refused the job"
log=$W/sweep-long-$jid.log
poll_until 90 test -e "$W/long.h5.ckpt/task-0.h5" || { show_log "$log"; fail "job $jid wrote no checkpoint"; }
scancel --batch --signal=USR1 "$jid" || fail "scancel --batch --signal=USR1 $jid"
st=$(wait_final "$jid" 180); ec=$(field "$jid" ExitCode); rs=$(field "$jid" Restarts)
[ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] && [ "$rs" = 1 ] ||
    { show_log "$log"; fail "job $jid: $st $ec Restarts=$rs"; }
grep -q 'task 0: drain: about .* checkpointing it at step' "$log" ||
    { show_log "$log"; fail "run 1 did not checkpoint the running task on the warning"; }
grep -q 'task 0 resumes from its checkpoint at step' "$log" ||
    { show_log "$log"; fail "run 2 did not resume the task from its checkpoint"; }
"$PYTHON" "$ROOT/tests/check_results.py" "$W/long.h5" --complete --compare "$W/long-ref.h5" ||
    fail "the requeued task differs from an uninterrupted run"
[ ! -e "$W/long.h5.ckpt/task-0.h5" ] || fail "the checkpoint was left after the task finished"
grep -E 'drain: about|resumes from its checkpoint' "$log" | sed 's/^/    /'
echo "ok: job $jid: checkpointed by the warning, requeued, resumed from the checkpoint, bit-identical in $((SECONDS - t0)) s"

# ---- 3. shards as a job array, then the merge job ----------------------------
step "3. job array of 2 shards (slurm/submit-shards.sh) + merge job"
t0=$SECONDS
out=$(cd "$W" && SWEEP_OUT=$W/sharded.h5 bash "$ROOT/slurm/submit-shards.sh" "$SPEC" 2 \
      --ntasks=2 --time=5) || fail "submit-shards.sh failed"
echo "$out"
ajid=$(echo "$out" | sed -n 's/^array job \([0-9]*\).*/\1/p')
mjid=$(echo "$out" | sed -n 's/.*merge job \([0-9]*\).*/\1/p')
for i in 0 1; do
    st=$(wait_final "${ajid}_$i" 110); ec=$(field "${ajid}_$i" ExitCode)
    [ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] ||
        { for l in "$W"/sweep-sweep-*.log; do show_log "$l"; done; fail "array element ${ajid}_$i: $st $ec"; }
    read -r n rows ndone < <(tasks_summary "$W/sharded.shard$i-of-2.h5") || fail "cannot read shard $i"
    [ "$rows" -gt 0 ] && [ "$ndone" = "$rows" ] || fail "shard $i: $ndone/$rows done"
done
st=$(wait_final "$mjid" 60); ec=$(field "$mjid" ExitCode)
mlog=$W/sweep-sweep-merge-$mjid.log
[ "$st" = COMPLETED ] && [ "$ec" = 0:0 ] || { show_log "$mlog"; fail "merge job $mjid: $st $ec"; }
read -r n rows ndone < <(tasks_summary "$W/sharded.h5") || fail "cannot read sharded.h5"
[ "$rows" = "$n" ] && [ "$ndone" = "$n" ] || fail "sharded.h5: $ndone/$n done"
"$PYTHON" - "$W/plain.h5" "$W/sharded.h5" <<'EOF' || fail "merged shards differ from the plain run"
import sys, h5py, numpy as np
skip = {"rank", "wall_s", "train_s", "eval_s"}
a, b = (h5py.File(p, "r")["tasks"][...] for p in sys.argv[1:3])
a, b = a[np.argsort(a["id"])], b[np.argsort(b["id"])]
for name in a.dtype.names:
    if name not in skip:
        x, y = a[name], b[name]
        ok = np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)
        assert ok, f"/tasks column {name} differs"
print("merged /tasks == plain /tasks (except timings and ranks)")
EOF
echo "ok: 2 shards + merge in $((SECONDS - t0)) s"
echo "t_slurm: all checks passed"
