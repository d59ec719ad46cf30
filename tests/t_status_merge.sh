#!/usr/bin/env bash
# tests/t_status_merge.sh -- `sweep status` and `sweep merge` on real files.
#
#  1. status on a complete smoke run: exit 0, counts by status, the best and
#     worst tasks are the arg-min / arg-max of final_err_cm (h5py), no mpirun;
#     on a text file, a missing file and an HDF5 file that is not a result
#     file: exit 4 and a message naming the file.
#  2. merge of the shards 0/2 and 1/2 (in either order) equals the
#     unsharded run in every dataset, dataset attribute and /tasks column
#     except the timings and ranks; root attributes as documented
#     (merged_from, no shard, n_ranks = max, start_time = earliest);
#     tests/check_results.py --complete passes on it.
#  3. refusals: inputs of different specs (message names both files, no
#     output left), an existing output (left untouched).
#  4. a real partial run (--time-limit) plus its resumption merge to the
#     complete result; the partial file alone merges to a file that exits 3
#     and that `sweep SPEC --resume` completes like an unsharded run; a
#     failed row loses to a done one; a failed-only merge exits 1 and
#     status lists the failure's message; between two done copies the
#     later start_time wins.
#  5. shards whose dimensions differ (hidden, evaluation length; rate maps
#     stored) merge to the unsharded run.
# Environment (tests/run.sh): SWEEP, PYTHON, BUILD.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp removed at exit, fail
[ -x "$SWEEP" ] || fail "no sweep binary at $SWEEP"

# run LOG ARGS...: mpirun -n 2 sweep ARGS, must exit 0
run() {
    local log=$1; shift
    mpirun -n 2 "$SWEEP" "$@" > "$log" 2>&1 || { tail -n 30 "$log"; fail "mpirun -n 2 sweep $* exited $?"; }
}
# expect_rc RC LOG CMD...: CMD (no mpirun) exits RC
expect_rc() {
    local want=$1 log=$2; shift 2
    "$@" > "$log" 2>&1
    local rc=$?
    [ $rc -eq "$want" ] || { cat "$log"; fail "$* exited $rc, expected $want"; }
}

# same_as_run RUN OTHER: OTHER has the layout and data of RUN (an unsharded
# run) except timings, ranks and the attributes that describe the run.
same_as_run() {
    "$PYTHON" - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:3])
RUN_ATTRS = {"command_line", "start_time", "n_ranks", "merged_from"}
RUN_FIELDS = {"rank", "wall_s", "train_s", "eval_s"}
def val(x):
    return x.decode() if isinstance(x, bytes) else x
def eq(x, y):
    x, y = np.asarray(x), np.asarray(y)
    if x.dtype.names:
        return x.dtype == y.dtype and all(eq(x[n], y[n]) for n in x.dtype.names)
    if x.dtype.kind == "f":
        return x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
    if x.dtype.kind == "O":
        return x.shape == y.shape and all(val(p) == val(q) for p, q in zip(x.ravel(), y.ravel()))
    return x.shape == y.shape and np.array_equal(x, y)
bad = []
ka, kb = set(a.attrs) - RUN_ATTRS, set(b.attrs) - RUN_ATTRS
if ka != kb:
    bad.append(f"root attributes differ: {sorted(ka ^ kb)}")
for k in ka & kb:
    if not eq(a.attrs[k], b.attrs[k]):
        bad.append(f"root attribute {k} differs")
def objects(f):
    out = []
    f.visit(out.append)
    return sorted(out)
if objects(a) != objects(b):
    bad.append(f"objects differ: {sorted(set(objects(a)) ^ set(objects(b)))}")
n_checked = 0
for n in objects(a):
    if n not in b or not isinstance(a[n], h5py.Dataset):
        continue
    x, y = a[n], b[n]
    if x.dtype != y.dtype or x.shape != y.shape:
        bad.append(f"/{n}: {x.shape} {x.dtype} vs {y.shape} {y.dtype}")
        continue
    if set(x.attrs) != set(y.attrs) or not all(eq(x.attrs[k], y.attrs[k]) for k in x.attrs):
        bad.append(f"/{n}: dataset attributes differ")
    xv, yv = x[()], y[()]
    if n == "tasks":
        for c in xv.dtype.names:
            if c not in RUN_FIELDS and not eq(xv[c], yv[c]):
                bad.append(f"/tasks column {c} differs")
        if not (np.asarray(yv["rank"]) >= 0).all() and (np.asarray(xv["rank"]) >= 0).all():
            bad.append("/tasks rank lost")
    elif not eq(xv, yv):
        bad.append(f"/{n} differs")
    n_checked += 1
if n_checked < 10:
    bad.append(f"only {n_checked} datasets compared")
for m in bad:
    print(f"{sys.argv[2]} vs {sys.argv[1]}: {m}")
sys.exit(1 if bad else 0)
EOF
}

SMOKE=sweeps/smoke.yaml
N=$("$SWEEP" --dry-run $SMOKE | tail -n 1 | sed -n 's/.* \([0-9][0-9]*\) tasks.*/\1/p')
[ -n "$N" ] && [ "$N" -gt 2 ] || fail "cannot read the task count of $SMOKE"

echo "== 1. status"
run "$tmp/full.log" $SMOKE -o "$tmp/full.h5"
expect_rc 0 "$tmp/status.out" "$SWEEP" status "$tmp/full.h5"
grep -q "^  done      $N\$" "$tmp/status.out" && grep -q '^  pending   0$' "$tmp/status.out" &&
    grep -q '^  failed    0$' "$tmp/status.out" && grep -q '^  diverged  0$' "$tmp/status.out" ||
    { cat "$tmp/status.out"; fail "status counts"; }
grep -q "hash $("$PYTHON" -c 'import h5py,sys; print(h5py.File(sys.argv[1],"r").attrs["spec_hash"])' "$tmp/full.h5")" \
    "$tmp/status.out" || fail "status does not show the spec hash"
grep -q '^spec: *smoke, ' "$tmp/status.out" && grep -q '^written: .*started 20..-..-..T..:..:..Z on 2 ranks' \
    "$tmp/status.out" || { cat "$tmp/status.out"; fail "status: name / start time / ranks"; }
"$PYTHON" - "$tmp/full.h5" "$tmp/status.out" <<'EOF' || { cat "$tmp/status.out"; fail "status best/worst tables"; }
import sys, re, h5py, numpy as np
t = h5py.File(sys.argv[1], "r")["tasks"][:]
lines = open(sys.argv[2]).read().splitlines()
def table(title):
    i = next(k for k, l in enumerate(lines) if l.startswith(title))
    head = lines[i + 1].split()
    rows = []
    for l in lines[i + 2:]:
        if not l.startswith("  ") or not l.strip():
            break
        rows.append(dict(zip(head, l.split())))
    return head, rows
err = t["final_err_cm"].astype(float)
order = np.argsort(err, kind="stable")
k = min(5, len(t))
head, best = table("best ")
assert head[:4] == ["id", "cell", "tau", "seed"], head
assert [int(r["id"]) for r in best] == [int(t["id"][i]) for i in order[:k]], (best, order)
_, worst = table("worst ")
assert [int(r["id"]) for r in worst] == [int(t["id"][i]) for i in order[::-1][:k]], worst
for r in best + worst:
    row = t[t["id"] == int(r["id"])][0]
    assert abs(float(r["final_err_cm"]) - row["final_err_cm"]) <= 1e-3 * abs(row["final_err_cm"]), r
    assert r["cell"] == row["cell"].decode()
    assert (r["tau"] == "-") == (row["cell"] == b"vanilla"), r
print(f"status tables ok: best {best[0]['id']}, worst {worst[0]['id']}")
EOF
echo "not HDF5" > "$tmp/text.h5"
expect_rc 4 "$tmp/st-text.out" "$SWEEP" status "$tmp/text.h5"
grep -q "$tmp/text.h5: not an HDF5 file" "$tmp/st-text.out" || { cat "$tmp/st-text.out"; fail "status on a text file: message"; }
expect_rc 4 "$tmp/st-missing.out" "$SWEEP" status "$tmp/missing.h5"
grep -q "$tmp/missing.h5: no such file" "$tmp/st-missing.out" || { cat "$tmp/st-missing.out"; fail "status on a missing file: message"; }
"$PYTHON" -c 'import h5py,sys; h5py.File(sys.argv[1], "w")["x"] = [1, 2]' "$tmp/other.h5" || fail "h5py"
expect_rc 4 "$tmp/st-other.out" "$SWEEP" status "$tmp/other.h5"
grep -q "$tmp/other.h5: not a sweep result file" "$tmp/st-other.out" || { cat "$tmp/st-other.out"; fail "status on a foreign HDF5 file: message"; }
echo "ok: status"

echo "== 2. merge of two shards == the unsharded run"
for i in 0 1; do run "$tmp/shard$i.log" $SMOKE --shard "$i/2" -o "$tmp/s$i.h5"; done
expect_rc 0 "$tmp/merge.log" "$SWEEP" merge -o "$tmp/merged.h5" "$tmp/s0.h5" "$tmp/s1.h5"
grep -q "$N done, 0 diverged, 0 failed, 0 pending" "$tmp/merge.log" || { cat "$tmp/merge.log"; fail "merge report"; }
same_as_run "$tmp/full.h5" "$tmp/merged.h5" || fail "merged shards differ from the unsharded run"
"$PYTHON" tests/check_results.py "$tmp/merged.h5" --complete --tasks "$N" || fail "check_results.py on the merged file"
expect_rc 0 "$tmp/merge-rev.log" "$SWEEP" merge -o "$tmp/merged-rev.h5" "$tmp/s1.h5" "$tmp/s0.h5"
same_as_run "$tmp/full.h5" "$tmp/merged-rev.h5" || fail "merge in the other order differs"
"$PYTHON" - "$tmp" <<'EOF' || fail "root attributes of the merged file"
import sys, h5py
T = sys.argv[1]
m = h5py.File(f"{T}/merged.h5", "r")
s = [h5py.File(f"{T}/s{i}.h5", "r") for i in (0, 1)]
assert "shard" not in m.attrs and all("shard" in x.attrs for x in s)
assert list(m.attrs["merged_from"]) == [f"{T}/s0.h5", f"{T}/s1.h5"], m.attrs["merged_from"]
assert m.attrs["n_ranks"] == max(x.attrs["n_ranks"] for x in s)
assert m.attrs["start_time"] == min(x.attrs["start_time"] for x in s)
assert m.attrs["command_line"].startswith("sweep merge -o ")
assert len(m["tasks"]) == m.attrs["n_tasks"] and list(m["tasks"]["id"]) == list(range(len(m["tasks"])))
print("root attributes ok")
EOF
expect_rc 0 "$tmp/st-merged.out" "$SWEEP" status "$tmp/merged.h5"
grep -q 'merged: *from 2 files' "$tmp/st-merged.out" || { cat "$tmp/st-merged.out"; fail "status of a merged file"; }
echo "ok: merge of shards"

echo "== 3. refusals"
sed -e 's/^\(  *steps:\) 60$/\1 40/' $SMOKE > "$tmp/other.yaml"
grep -q '^ *steps: 40$' "$tmp/other.yaml" || fail "sweeps/smoke.yaml changed: update the steps rewrite"
expect_rc 0 "$tmp/one.log" "$SWEEP" run-one "$tmp/other.yaml" --task 1 -o "$tmp/otherspec.h5"
expect_rc 4 "$tmp/refuse.log" "$SWEEP" merge -o "$tmp/mixed.h5" "$tmp/s0.h5" "$tmp/otherspec.h5"
grep -q 'different specs' "$tmp/refuse.log" && grep -q "$tmp/s0.h5" "$tmp/refuse.log" &&
    grep -q "$tmp/otherspec.h5: spec_hash .*differs" "$tmp/refuse.log" || { cat "$tmp/refuse.log"; fail "refusal message"; }
[ ! -e "$tmp/mixed.h5" ] && [ ! -e "$tmp/mixed.h5.merging" ] || fail "a refused merge left an output"
cp "$tmp/s0.h5" "$tmp/exists.h5"
expect_rc 4 "$tmp/exists.log" "$SWEEP" merge -o "$tmp/exists.h5" "$tmp/s0.h5" "$tmp/s1.h5"
grep -q "$tmp/exists.h5 exists" "$tmp/exists.log" || { cat "$tmp/exists.log"; fail "existing output: message"; }
cmp -s "$tmp/s0.h5" "$tmp/exists.h5" || fail "an existing output was modified"
expect_rc 4 "$tmp/bad-in.log" "$SWEEP" merge -o "$tmp/x.h5" "$tmp/s0.h5" "$tmp/text.h5"
grep -q "$tmp/text.h5: not an HDF5 file" "$tmp/bad-in.log" && [ ! -e "$tmp/x.h5" ] || { cat "$tmp/bad-in.log"; fail "bad input"; }
echo "ok: refusals"

echo "== 4. partial run + its resumption; merged partial files resume"
# 25x the steps: a task takes a few tenths of a second, so a 0.3 s time
# limit leaves tasks pending
sed -e 's/^\(  *steps:\) 60$/\1 1500/' $SMOKE > "$tmp/slow.yaml"
grep -q '^ *steps: 1500$' "$tmp/slow.yaml" || fail "sweeps/smoke.yaml changed: update the steps rewrite"
run "$tmp/slowfull.log" "$tmp/slow.yaml" -o "$tmp/slowfull.h5"
mpirun -n 2 "$SWEEP" "$tmp/slow.yaml" --time-limit 0.3 -o "$tmp/part.h5" > "$tmp/part.log" 2>&1
rc=$?
[ $rc -eq 3 ] || { tail -n 20 "$tmp/part.log"; fail "the time-limited run exited $rc, expected 3"; }
expect_rc 0 "$tmp/st-part.out" "$SWEEP" status "$tmp/part.h5"
pend=$(sed -n 's/^  pending   \([0-9]*\)$/\1/p' "$tmp/st-part.out")
[ -n "$pend" ] && [ "$pend" -ge 1 ] || { cat "$tmp/st-part.out"; fail "the partial file has no pending task"; }
grep -q '^incomplete: ' "$tmp/st-part.out" || fail "status of a partial file does not say incomplete"
echo "partial run: $pend of $N pending"
cp "$tmp/part.h5" "$tmp/part-snapshot.h5"
run "$tmp/resume.log" "$tmp/slow.yaml" --resume -o "$tmp/part.h5"
expect_rc 0 "$tmp/merge-pr.log" "$SWEEP" merge -o "$tmp/pr.h5" "$tmp/part-snapshot.h5" "$tmp/part.h5"
same_as_run "$tmp/slowfull.h5" "$tmp/pr.h5" || fail "partial + resumed differs from the complete run"
expect_rc 3 "$tmp/merge-p.log" "$SWEEP" merge -o "$tmp/p-only.h5" "$tmp/part-snapshot.h5"
grep -q "$pend pending" "$tmp/merge-p.log" || { cat "$tmp/merge-p.log"; fail "merge of the partial file: report"; }
run "$tmp/resume2.log" "$tmp/slow.yaml" --resume -o "$tmp/p-only.h5"
same_as_run "$tmp/slowfull.h5" "$tmp/p-only.h5" || fail "a merged partial file resumed differs from the complete run"

# a failed row (and garbage in a pending row) against the done rows of the run
cp "$tmp/full.h5" "$tmp/failed.h5"
"$PYTHON" - "$tmp/failed.h5" <<'EOF' || fail "h5py edit"
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
t = f["tasks"]
r = t[2]; r["status"] = b"failed"; r["message"] = b"injected: out of memory"; t[2] = r
r = t[3]; r["status"] = b"pending"; t[3] = r
f["curves/train_loss"][3, :] = 999.0            # an abandoned task's partial data
EOF
expect_rc 0 "$tmp/merge-f.log" "$SWEEP" merge -o "$tmp/f-full.h5" "$tmp/failed.h5" "$tmp/full.h5"
same_as_run "$tmp/full.h5" "$tmp/f-full.h5" || fail "done did not win over failed / pending"
expect_rc 3 "$tmp/merge-f1.log" "$SWEEP" merge -o "$tmp/f-alone.h5" "$tmp/failed.h5"
grep -q "1 failed, 1 pending" "$tmp/merge-f1.log" || { cat "$tmp/merge-f1.log"; fail "merge of a file with a failed task: report"; }
expect_rc 0 "$tmp/st-f.out" "$SWEEP" status "$tmp/f-alone.h5"
grep -q '^  failed    1$' "$tmp/st-f.out" && grep -q '^failed tasks (message):' "$tmp/st-f.out" &&
    grep -q '^  2 (cell=.*): injected: out of memory$' "$tmp/st-f.out" || { cat "$tmp/st-f.out"; fail "status: failed message"; }
"$PYTHON" - "$tmp/f-alone.h5" <<'EOF2' || fail "a pending row was copied"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f["tasks"]["status"][3] == b"pending" and f["tasks"]["rank"][3] == -1
assert np.isnan(f["curves/train_loss"][3]).all() and (f["curves/train_step"][3] == -1).all()
assert f["tasks"]["status"][2] == b"failed" and f["tasks"]["message"][2] == b"injected: out of memory"
EOF2
"$PYTHON" - "$tmp/failed.h5" <<'EOF2' || fail "h5py edit"
import sys, h5py
t = h5py.File(sys.argv[1], "r+")["tasks"]
r = t[3]; r["status"] = b"done"; t[3] = r
EOF2
expect_rc 1 "$tmp/merge-f2.log" "$SWEEP" merge -o "$tmp/f-only.h5" "$tmp/failed.h5"
grep -q "1 failed, 0 pending" "$tmp/merge-f2.log" || { cat "$tmp/merge-f2.log"; fail "merge with a failed task: report"; }

# the same id done in two files: the later start_time wins, whatever the order
cp "$tmp/full.h5" "$tmp/newer.h5"
"$PYTHON" - "$tmp/newer.h5" <<'EOF2' || fail "h5py edit"
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
f.attrs["start_time"] = "2099-01-01T00:00:00Z"
t = f["tasks"]; r = t[0]; r["final_loss"] = 123.0; t[0] = r
f["curves/train_loss"][0, 0] = 123.0
EOF2
for order in "full newer" "newer full"; do
    set -- $order
    rm -f "$tmp/tie.h5"
    expect_rc 0 "$tmp/merge-tie.log" "$SWEEP" merge -o "$tmp/tie.h5" "$tmp/$1.h5" "$tmp/$2.h5"
    "$PYTHON" - "$tmp/tie.h5" <<'EOF2' || fail "merge $order: the later start_time did not win"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert f["tasks"]["final_loss"][0] == 123.0 and f["curves/train_loss"][0, 0] == 123.0
assert f["tasks"]["final_loss"][1] != 123.0
assert f.attrs["start_time"] != "2099-01-01T00:00:00Z"      # the earliest of the inputs
EOF2
done
echo "ok: partial runs"
echo "== 5. shards of different sizes (hidden, evaluation length, rate maps)"
cat > "$tmp/sizes.yaml" <<'YAML'
name: sizes
model: {activation: relu}
place: {n_place: 24}
train: {steps: 40, batch: 8, lr: 1.0e-3, log_every: 15}
eval: {eval_batch: 16, ratemap_trajectories: 100, ratemap_bins: 8, eval_noise: [0.0, 0.02],
       save_ratemaps: top, save_top_k: 5}
sweep:
  hidden: [16, 40]
  seq_len: [6, 10]
YAML
run "$tmp/sizes.log" "$tmp/sizes.yaml" -o "$tmp/sizes.h5"
for i in 0 1 2; do run "$tmp/sz$i.log" "$tmp/sizes.yaml" --shard "$i/3" -o "$tmp/sz$i.h5"; done
"$PYTHON" - "$tmp" <<'EOF' || fail "the shards do not differ in size: the test lost its point"
import sys, h5py
T = sys.argv[1]
shapes = {h5py.File(f"{T}/sz{i}.h5", "r")["units/score60"].shape[1] for i in range(3)}
evals = {h5py.File(f"{T}/sz{i}.h5", "r")["curves/eval_err_cm"].shape[2] for i in range(3)}
assert len(shapes) > 1 and len(evals) > 1, (shapes, evals)
assert "units/ratemaps" in h5py.File(f"{T}/sizes.h5", "r")
EOF
expect_rc 0 "$tmp/merge-sz.log" "$SWEEP" merge -o "$tmp/sz-merged.h5" "$tmp/sz2.h5" "$tmp/sz0.h5" "$tmp/sz1.h5"
same_as_run "$tmp/sizes.h5" "$tmp/sz-merged.h5" || fail "merged shards of different sizes differ from the unsharded run"
"$PYTHON" tests/check_results.py "$tmp/sz-merged.h5" --complete || fail "check_results.py on the merged sizes file"
echo "ok: shards of different sizes"
echo "t_status_merge: all checks passed"
