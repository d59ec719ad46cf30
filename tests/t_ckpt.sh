#!/usr/bin/env bash
# t_ckpt.sh -- checkpoints inside a task (docs/running.md, "Checkpoints").
# A task stopped and resumed, any number of times and however it was
# stopped, ends bit-identical to an uninterrupted run (check_results.py
# --compare: every dataset but the rank and timing columns):
#   run-one: SIGTERM, then --resume killed -9 after a checkpoint, then
#     --resume to the end; `sweep status` lists the checkpoint meanwhile;
#   mpirun -n 3: SIGUSR1 (drain) with stop_grace 0 (the running tasks are
#     checkpointed and stopped) and with a large stop_grace (they finish);
#     --time-limit; SIGTERM to the ranks; each resumed to the end;
# and the faults of docs/faults.md: a corrupt, a truncated checkpoint, one
# of another task and one of another sweep are discarded with a warning
# (the task restarts from step 0, same result); a checkpoint directory that
# cannot be made refuses the run (exit 4, the result file kept); a second
# sweep on the same file is refused and the first one's checkpoints
# survive.  (A full disk: tests/t_ckpt_full_disk.sh.)
# Signals are sent once a checkpoint exists (polling for its file), never
# after a fixed sleep, so the script holds on a slow or loaded machine.
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh

# two long tasks (about 5 s each on one core), two short ones
cat >"$tmp/long.yaml" <<'YAML'
name: ckpt
model: {hidden: 64, activation: relu, cell: leaky, tau: 0.1, noise: 0.01}
task: {seq_len: 10}
place: {n_place: 32}
train: {batch: 16, lr: 1.0e-3, log_every: 500, checkpoint_every: 0.3, stop_grace: 0}
eval: {eval_batch: 32, ratemap_trajectories: 200, ratemap_bins: 10, eval_noise: [0.0, 0.03], null_shuffles: 20}
output: {progress_every: 1}
sweep:
  steps: [400, 12000]
  seed: [0, 1]
YAML
SPEC=$tmp/long.yaml
sed 's/stop_grace: 0}/stop_grace: 100000}/' "$SPEC" >"$tmp/grace.yaml"
ids=$("$SWEEP" --dry-run "$SPEC" | awk '$2 == 12000 {print $1}' | tr '\n' ' ')
[ "$(echo $ids | wc -w)" = 2 ] || { "$SWEEP" --dry-run "$SPEC"; fail "expected two long tasks, got '$ids'"; }
LONG=${ids%% *}

compare() {  # reference, file: bit-identical results
  "$PYTHON" tests/check_results.py "$2" --complete --compare "$1" >"$tmp/cmp.log" 2>&1 ||
    { cat "$tmp/cmp.log"; fail "$2 differs from the uninterrupted run $1"; }
}
wait_file() {  # seconds, path: poll for it while $pid lives
  local i
  for ((i = 0; i < $1 * 20; i++)); do
    [ -e "$2" ] && return 0
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.05
  done
  [ -e "$2" ]
}
finish() {  # expected status, log
  wait "$pid"; local rc=$?; pid=
  [ "$rc" -eq "$1" ] || { tail -20 "$2"; fail "exit $rc, expected $1 ($2)"; }
}
ckpts() { ls "$1.ckpt" 2>/dev/null | grep -c '^task-.*\.h5$'; }

# ---- the references ---------------------------------------------------------
"$SWEEP" run-one "$SPEC" --task "$LONG" -o "$tmp/one-ref.h5" >"$tmp/one-ref.log" 2>&1 ||
  { cat "$tmp/one-ref.log"; fail "run-one reference"; }
[ "$(ckpts "$tmp/one-ref.h5")" = 0 ] || fail "a finished task left its checkpoint"
mpirun -n 3 "$SWEEP" "$SPEC" -o "$tmp/ref.h5" >"$tmp/ref.log" 2>&1 || { cat "$tmp/ref.log"; fail "sweep reference"; }
grep -qE 'work [0-9.]+% \([0-9.]+%/min\)' "$tmp/ref.log" || { cat "$tmp/ref.log"; fail "no work / rate on the progress line"; }
echo "ok: references"

# ---- run-one: SIGTERM, kill -9 after a checkpoint, resume ---------------------
f=$tmp/one.h5
"$SWEEP" run-one "$SPEC" --task "$LONG" -o "$f" >"$tmp/one1.log" 2>&1 &
pid=$!
wait_file 120 "$f.ckpt/task-$LONG.h5" || fail "no checkpoint appeared"
kill -TERM "$pid"
finish 3 "$tmp/one1.log"
grep -q "left pending with a checkpoint; continue it with --resume" "$tmp/one1.log" ||
  { cat "$tmp/one1.log"; fail "run-one did not say it left a checkpoint"; }
"$SWEEP" status "$f" >"$tmp/status.log" 2>&1
grep -qE "^  $LONG \(.*\): step [0-9]+/12000" "$tmp/status.log" || { cat "$tmp/status.log"; fail "status shows no checkpoint"; }
step1=$(sed -n "s/^  $LONG (.*): step \([0-9]*\)\/.*/\1/p" "$tmp/status.log")
# resume, then kill -9 once a newer checkpoint has replaced that one
"$SWEEP" run-one "$SPEC" --task "$LONG" -o "$f" --resume >"$tmp/one2.log" 2>&1 &
pid=$!
wait_for 60 "resumes from its checkpoint at step $step1/" "$tmp/one2.log" || { cat "$tmp/one2.log"; fail "no resume at step $step1"; }
before=$(stat -c %Y.%N "$f.ckpt/task-$LONG.h5" 2>/dev/null)
for i in $(seq 400); do
  [ "$(stat -c %Y.%N "$f.ckpt/task-$LONG.h5" 2>/dev/null)" != "$before" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$pid"; wait "$pid" 2>/dev/null; pid=
"$SWEEP" status "$f" >"$tmp/status2.log" 2>&1
step2=$(sed -n "s/^  $LONG (.*): step \([0-9]*\)\/.*/\1/p" "$tmp/status2.log")
[ -n "$step2" ] && [ "$step2" -gt "$step1" ] || { cat "$tmp/status2.log"; fail "kill -9: checkpoint at '$step2', not past $step1"; }
"$SWEEP" run-one "$SPEC" --task "$LONG" -o "$f" --resume >"$tmp/one3.log" 2>&1 || { cat "$tmp/one3.log"; fail "final resume"; }
grep -q "resumes from its checkpoint at step $step2/" "$tmp/one3.log" || { cat "$tmp/one3.log"; fail "did not resume at $step2"; }
compare "$tmp/one-ref.h5" "$f"
[ "$(ckpts "$f")" = 0 ] || fail "checkpoint left after the task was written"
"$SWEEP" run-one "$SPEC" --task "$LONG" -o "$f" --resume >"$tmp/one4.log" 2>&1 || fail "resume of a done task"
grep -q "already done" "$tmp/one4.log" || { cat "$tmp/one4.log"; fail "resume of a done task did not say so"; }
echo "ok: run-one SIGTERM (step $step1), kill -9 (step $step2), resumes: bit-identical"

# ---- mpirun: drains, time limit, SIGTERM ------------------------------------
run_stop() {  # name, spec, reference, how (usr1|term|limit), expected "stop" or "finish" of the long tasks
  local name=$1 spec=$2 ref=$3 how=$4 want=$5 f=$tmp/$1.h5 extra=()
  [ "$how" = limit ] && extra=(--time-limit 1)
  mpirun -n 3 "$SWEEP" "$spec" -o "$f" "${extra[@]}" >"$tmp/$name.log" 2>&1 &
  pid=$!
  if [ "$how" != limit ]; then
    for id in $ids; do wait_file 120 "$f.ckpt/task-$id.h5" || fail "$name: no checkpoint of task $id"; done
    if [ "$how" = usr1 ]; then
      kill -USR1 "$pid"
    else
      ranks=$(pgrep -P "$pid" -d ' ' sweep)
      kill -TERM $ranks
    fi
  fi
  wait "$pid"; rc=$?; pid=; ranks=
  if [ "$want" = stop ]; then
    [ "$rc" -eq 3 ] || { tail -20 "$tmp/$name.log"; fail "$name: exit $rc, expected 3"; }
    grep -qE "[12] stopped tasks? continues? from (its|their) checkpoints?" "$tmp/$name.log" ||
      { cat "$tmp/$name.log"; fail "$name: no checkpointed task reported"; }
    [ "$how" = term ] || grep -q "drain: about .* left (stop_grace 0:00): checkpointing it" "$tmp/$name.log" ||
      { cat "$tmp/$name.log"; fail "$name: no drain decision logged"; }
    [ "$(ckpts "$f")" -ge 1 ] || fail "$name: no checkpoint left"
  else
    grep -q "drain: finishing it" "$tmp/$name.log" || { cat "$tmp/$name.log"; fail "$name: long tasks did not finish"; }
  fi
  "$PYTHON" tests/check_results.py "$f" >"$tmp/chk.log" 2>&1 || { cat "$tmp/chk.log"; fail "$name: file after the stop"; }
  mpirun -n 3 "$SWEEP" "$spec" -o "$f" --resume >"$tmp/$name.resume.log" 2>&1 ||
    { cat "$tmp/$name.resume.log"; fail "$name: resume"; }
  [ "$want" = finish ] || grep -q "resumes from its checkpoint" "$tmp/$name.resume.log" ||
    { cat "$tmp/$name.resume.log"; fail "$name: nothing resumed from a checkpoint"; }
  compare "$ref" "$f"
  [ "$(ckpts "$f")" = 0 ] || fail "$name: checkpoints left after the sweep finished"
  echo "ok: $name (exit $rc, resumed, bit-identical)"
}
# (the stop_grace spec stores another spec text: its own reference)
mpirun -n 3 "$SWEEP" "$tmp/grace.yaml" -o "$tmp/grace-ref.h5" >"$tmp/grace-ref.log" 2>&1 ||
  { cat "$tmp/grace-ref.log"; fail "grace reference"; }
run_stop usr1 "$SPEC" "$tmp/ref.h5" usr1 stop
run_stop grace "$tmp/grace.yaml" "$tmp/grace-ref.h5" usr1 finish
run_stop limit "$SPEC" "$tmp/ref.h5" limit stop
run_stop term "$SPEC" "$tmp/ref.h5" term stop

# ---- faults -------------------------------------------------------------------
# a stopped sweep whose checkpoints we spoil, one way per long task
f=$tmp/fault.h5
mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" >"$tmp/fault.log" 2>&1 &
pid=$!
for id in $ids; do wait_file 120 "$f.ckpt/task-$id.h5" || fail "fault: no checkpoint of task $id"; done
kill -USR1 "$pid"; finish 3 "$tmp/fault.log"
set -- $ids; a=$1; b=$2
# task a: a flipped byte in the middle (the parameters); task b: truncated
"$PYTHON" - "$f.ckpt/task-$a.h5" "$f.ckpt/task-$b.h5" <<'PY'
import sys, os
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[len(d) // 2] ^= 0x40; open(p, "wb").write(d)
q = sys.argv[2]; os.truncate(q, os.path.getsize(q) // 3)
PY
mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" --resume >"$tmp/fault2.log" 2>&1 || { cat "$tmp/fault2.log"; fail "resume over bad checkpoints"; }
grep -qE "task $a: .*task-$a.h5: checkpoint .*: discarded, the task starts from step 0" "$tmp/fault2.log" ||
  { cat "$tmp/fault2.log"; fail "corrupt checkpoint not discarded with a warning"; }
grep -qE "task $b: .*task-$b.h5: checkpoint not a readable HDF5 file.*: discarded" "$tmp/fault2.log" ||
  { cat "$tmp/fault2.log"; fail "truncated checkpoint not discarded with a warning"; }
compare "$tmp/ref.h5" "$f"
echo "ok: corrupt and truncated checkpoints discarded, tasks restarted from 0, same results"

# another task's checkpoint, another sweep's checkpoint
f=$tmp/other.h5
mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" >"$tmp/other.log" 2>&1 &
pid=$!
for id in $ids; do wait_file 120 "$f.ckpt/task-$id.h5" || fail "other: no checkpoint of task $id"; done
kill -USR1 "$pid"; finish 3 "$tmp/other.log"
cp "$f.ckpt/task-$a.h5" "$f.ckpt/task-$b.h5"
sed 's/lr: 1.0e-3/lr: 2.0e-3/' "$SPEC" >"$tmp/other-spec.yaml"
"$SWEEP" run-one "$tmp/other-spec.yaml" --task "$a" -o "$tmp/x.h5" --force >/dev/null 2>&1 &
pid=$!
wait_file 120 "$tmp/x.h5.ckpt/task-$a.h5" || fail "no checkpoint of the other sweep"
kill -TERM "$pid"; finish 3 /dev/null
cp "$tmp/x.h5.ckpt/task-$a.h5" "$f.ckpt/task-$a.h5"
mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" --resume >"$tmp/other2.log" 2>&1 || { cat "$tmp/other2.log"; fail "resume over foreign checkpoints"; }
grep -q "task $b: .*checkpoint of another task: discarded" "$tmp/other2.log" ||
  { cat "$tmp/other2.log"; fail "another task's checkpoint not discarded"; }
grep -q "task $a: .*checkpoint of another sweep (spec hash differs): discarded" "$tmp/other2.log" ||
  { cat "$tmp/other2.log"; fail "another sweep's checkpoint not discarded"; }
compare "$tmp/ref.h5" "$f"
echo "ok: checkpoints of another task and of another sweep discarded"

# a checkpoint directory that cannot be made: refused, exit 4, file kept
f=$tmp/nodir.h5
: >"$f.ckpt"
mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" >"$tmp/nodir.log" 2>&1
rc=$?
[ "$rc" -eq 4 ] || { cat "$tmp/nodir.log"; fail "unusable checkpoint directory: exit $rc, expected 4"; }
grep -q "nodir.h5.ckpt: not a directory.*checkpoint_every: 0 runs without checkpoints" "$tmp/nodir.log" ||
  { cat "$tmp/nodir.log"; fail "no clear message for the checkpoint directory"; }
[ -f "$f" ] || fail "the result file was not kept"
rm -f "$f.ckpt"
mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" --resume >"$tmp/nodir2.log" 2>&1 || { cat "$tmp/nodir2.log"; fail "resume once the directory is fixed"; }
compare "$tmp/ref.h5" "$f"
echo "ok: an unusable checkpoint directory refuses the run (exit 4), the file resumes once it is fixed"

# two sweeps on the same file (and so the same checkpoint directory)
f=$tmp/two.h5
mpirun -n 3 "$SWEEP" "$SPEC" -o "$f" >"$tmp/two1.log" 2>&1 &
pid=$!
for id in $ids; do wait_file 120 "$f.ckpt/task-$id.h5" || fail "two: no checkpoint of task $id"; done
"$SWEEP" run-one "$SPEC" --task "$a" -o "$f" --resume >"$tmp/two2.log" 2>&1
rc=$?
[ "$rc" -eq 4 ] || { cat "$tmp/two2.log"; fail "a second writer on the same file: exit $rc, expected 4"; }
grep -qi "lock\|in use" "$tmp/two2.log" || { cat "$tmp/two2.log"; fail "no lock message for the second writer"; }
finish 0 "$tmp/two1.log"
compare "$tmp/ref.h5" "$f"
echo "ok: a second sweep on the same file is refused; the first finishes with its checkpoints"

echo "t_ckpt: all cases passed"
