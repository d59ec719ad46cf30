#!/usr/bin/env bash
# tests/t_analysis.sh -- analysis/sweep_results.py and analysis/report.py.
#
# A. On fixture files (tests/make_fake_results.py: the documented layout,
#    synthetic numbers): the report writes every table and plot, non-empty,
#    with the right row counts; shards and an interrupted + completed run
#    merge to exactly the unsharded table and arrays; files of another spec
#    are refused; the report degrades without rate maps, without a tau/cell
#    axis, with a single task and with nothing done; the SAC matches a
#    brute-force Pearson correlation.  The fixture carries the shuffle-null
#    columns and /replay: the tables and summary report grid_frac_null next
#    to grid_frac, the replay plots are drawn (and not without /replay).
#    It carries the unit classes and /snapshots too: the class bar, the class
#    gallery (with stored maps), the grid geometry and the snapshot curves
#    are drawn, the summary lists the classes.
# B. On real files: `mpirun -n 2 $SWEEP sweeps/smoke.yaml`, the report on it
#    (every table and plot, the gallery when rate maps are stored), and the
#    smoke sweep run as two shards: their merge (Python side, and
#    `sweep merge`) equals the unsharded run.  A failing real run, shard or
#    merge is a failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. tests/lib.sh   # SWEEP, PYTHON, MPI env, tmp removed at exit, fail
fake() { "$PYTHON" tests/make_fake_results.py "$@" || fail "make_fake_results.py $*"; }
report() { "$PYTHON" analysis/report.py "$@" > "$tmp/report.out" 2>&1 || { cat "$tmp/report.out"; fail "report.py $*"; }; }

# check_outputs DIR FILE... : each exists and is non-empty; PNGs are real PNGs
check_outputs() {
    local d=$1 f; shift
    for f in "$@"; do
        [ -s "$d/$f" ] || fail "$d/$f missing or empty"
        case $f in *.png)
            [ "$(head -c 8 "$d/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$d/$f is not a PNG"
            [ "$(stat -c %s "$d/$f")" -gt 10000 ] || fail "$d/$f is suspiciously small" ;;
        esac
    done
}
ALL="tasks.csv aggregate.csv status.csv final_error.png error_vs_time.png grid_scores.png training.png summary.txt"

echo "== A1. report on the full fixture (48 tasks, rate maps top-4)"
fake -o "$tmp/full.h5"
# the fixture must stay in the documented format: h5out's own checker
if [ -f tests/check_results.py ]; then
    "$PYTHON" tests/check_results.py "$tmp/full.h5" || fail "the fixture does not pass tests/check_results.py"
fi
report "$tmp/full.h5" -o "$tmp/rep"
REPLAY="replay_trajectories.png replay_metrics.png replay_kl.png"
CLASSES="classes.png class_gallery.png grid_geometry.png snapshots.png"
check_outputs "$tmp/rep" $ALL gallery.png $REPLAY $CLASSES
grep -q "^unit classes" "$tmp/rep/summary.txt" || fail "summary without the unit classes"
"$PYTHON" - "$tmp/full.h5" <<'EOF' || fail "sweep_results: classes and snapshots"
import sys
import numpy as np
sys.path.insert(0, "analysis")
import sweep_results as sr
r = sr.load(sys.argv[1])
names = r.class_names
assert names == ["NON_SPATIAL", "OTHER_SPATIAL", "BORDER", "BAND", "RAMP", "GRID"], names
t = r.tasks
cls = r.units("grid_class")
done = (t["status"] == "done").to_numpy()
for i, c in enumerate(names):
    got = t.loc[done, f"frac_{c.lower()}"].to_numpy()
    want = (cls[done] == i).mean(axis=1)
    assert np.allclose(got, want, atol=1e-6), c
assert r.has_snapshots and r.snapshot("step").shape == (len(t), 5)
assert (r.snapshot("step")[done] == np.arange(5) * 250).all()
tid = int(t.loc[done, "id"].iloc[0])
pk = r.ratemap_peaks(tid)
assert pk and all(p.shape == (6, 2) for p in pk.values()) and set(pk) == set(r.ratemaps(tid))
print("sweep_results classes and snapshots ok")
EOF
"$PYTHON" - "$tmp/rep" <<'EOF' || fail "report tables"
import sys, pandas as pd
d = sys.argv[1]
t = pd.read_csv(f"{d}/tasks.csv")
assert len(t) == 48, len(t)
for c in ["id", "cell", "tau", "noise", "seed", "status", "final_err_cm", "grid_frac", "max_score60", "hidden",
          "grid_frac_null", "null_threshold", "replay_speed_cm", "replay_kl", "replay_spread_cm2",
          "replay_coverage", "replay_kl_untrained", "replay_kl_uniform"]:
    assert c in t.columns, c
done = t[t["status"] == "done"]
assert done["grid_frac_null"].notna().all() and (done["grid_frac_null"] <= done["grid_frac"] + 1e-6).all()
assert done["replay_speed_cm"].notna().all() and t.loc[t["status"] != "done", "replay_speed_cm"].isna().all()
assert set(t["cell"]) == {"vanilla", "leaky"}, set(t["cell"])          # decoded, no b'...'
assert t.loc[t["cell"] == "vanilla", "tau"].isna().all()               # ignored setting: NaN
a = pd.read_csv(f"{d}/aggregate.csv")
assert len(a) == 4 + 3 * 4, len(a)                                      # vanilla x noise + leaky x tau x noise
assert {"final_err_cm_mean", "final_err_cm_std", "final_err_cm_sem", "final_err_cm_n", "n_tasks",
        "grid_frac_null_mean", "replay_speed_cm_mean", "replay_kl_mean"} <= set(a.columns)
assert a["n_tasks"].sum() == 48 and (a["n_tasks"] == 3).all()
# the failed task (leaky, tau 0.04, noise 0.01) leaves n=2 in its group
g = a[(a["cell"] == "leaky") & (a["tau"] == 0.04) & (a["noise"] == 0.01)]
assert int(g["final_err_cm_n"].iloc[0]) == 2 and int(g["n_failed"].iloc[0]) == 1, g
s = pd.read_csv(f"{d}/status.csv")
assert dict(zip(s["status"], s["count"])) == {"done": 46, "diverged": 1, "failed": 1}, s
txt = open(f"{d}/summary.txt").read()
for needle in ["tasks: 48", "done      46", "diverged  1", "failed    1", "best 5 tasks",
               "worst 5 tasks", "headline: vanilla vs leaky", "leaky/vanilla", "best leaky tau",
               "grid_frac_null", "null-based grid_frac_null", "null threshold", "replay (done tasks",
               "cell=vanilla, noise=0.03: speed"]:
    assert needle in txt, needle
print("tables ok")
EOF

echo "== A2. shards and interrupted runs merge to the unsharded result"
for i in 0 1 2; do fake -o "$tmp/shard$i.h5" --shard "$i/3"; done
fake -o "$tmp/partial.h5" --pending-from 20
"$PYTHON" - "$tmp" <<'EOF' || fail "merge"
import sys, numpy as np, pandas as pd
sys.path.insert(0, "analysis")
import sweep_results as sr
T = sys.argv[1]
full = sr.load(f"{T}/full.h5")
def same(a, b, what):
    ta = a.tasks.drop(columns=["file", "row"]).reset_index(drop=True)
    tb = b.tasks.drop(columns=["file", "row"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ta, tb, check_exact=True, obj=what)
    for n in ["train_step", "train_loss", "train_err_cm", "eval_err_cm"]:
        assert np.array_equal(a.curve(n), b.curve(n), equal_nan=True), (what, n)
    for n in ["score60", "score90", "border", "mask60", "ratemap_unit", "ratemaps", "grid_p", "grid_null"]:
        assert np.array_equal(a.units(n), b.units(n), equal_nan=True), (what, n)
    for n in ["traj", "occ", "occ_real", "kl"]:
        assert np.array_equal(a.replay(n), b.replay(n), equal_nan=True), (what, n)
    assert a.axes == b.axes
shards = sr.load([f"{T}/shard2.h5", f"{T}/shard0.h5", f"{T}/shard1.h5"])
assert len(shards.tasks) == 48
same(full, shards, "3 shards")
# an interrupted run (tasks >= 20 pending) and its completion, in either order
same(full, sr.load([f"{T}/partial.h5", f"{T}/full.h5"]), "partial+full")
same(full, sr.load([f"{T}/full.h5", f"{T}/partial.h5"]), "full+partial")
p = sr.load(f"{T}/partial.h5").tasks
assert (p["status"] == "pending").sum() == 28 and p.loc[p["id"] < 20, "status"].isin(["done", "failed", "diverged"]).all()
# a missing shard leaves a hole, not a wrong row
two = sr.load([f"{T}/shard0.h5", f"{T}/shard1.h5"]).tasks
assert sorted(two["id"]) == [i for i in range(48) if i % 3 != 2]
print("merge ok")
EOF
fake -o "$tmp/h32.h5" --shard 1/2 --hidden 32
"$PYTHON" - "$tmp" <<'EOF' || fail "padding of files with different sizes"
import sys, numpy as np
sys.path.insert(0, "analysis")
import sweep_results as sr
T = sys.argv[1]
# shard0 of 3 has hidden 64; h32.h5 (odd ids) hidden 32: arrays padded to 64
r = sr.load([f"{T}/shard0.h5", f"{T}/h32.h5"], allow_mixed=True)
s60, m60 = r.units("score60"), r.units("mask60")
odd = (r.tasks["id"] % 2 == 1).to_numpy()
assert s60.shape[1] == 64 and np.isnan(s60[odd, 32:]).all() and (m60[odd, 32:] == -1).all()
done = (r.tasks["status"] == "done").to_numpy()
assert np.isfinite(s60[~odd & done, 40]).all()
print("padding ok")
EOF
fake -o "$tmp/other.h5" --noise-only
"$PYTHON" - "$tmp" <<'EOF' || fail "files of different specs were not refused"
import sys
sys.path.insert(0, "analysis")
import sweep_results as sr
try:
    sr.load([f"{sys.argv[1]}/full.h5", f"{sys.argv[1]}/other.h5"])
except ValueError as e:
    assert "spec_hash" in str(e), e
    print("refused:", str(e)[:80], "...")
else:
    raise SystemExit("loaded two specs into one table")
EOF
report "$tmp/shard0.h5" "$tmp/shard1.h5" "$tmp/shard2.h5" -o "$tmp/rep-shards"
check_outputs "$tmp/rep-shards" $ALL gallery.png $REPLAY $CLASSES
"$PYTHON" -c '
import sys, pandas as pd
a, b = (pd.read_csv(p).drop(columns=["file"]) for p in sys.argv[1:3])
pd.testing.assert_frame_equal(a, b)' "$tmp/rep/tasks.csv" "$tmp/rep-shards/tasks.csv" ||
    fail "tasks.csv of the shards differs from the unsharded one"

echo "== A3. graceful degradation"
fake -o "$tmp/nomaps.h5" --ratemaps none --no-replay
"$PYTHON" tests/check_results.py "$tmp/nomaps.h5" || fail "the fixture without replay does not pass check_results.py"
report "$tmp/nomaps.h5" -o "$tmp/rep-nomaps"
check_outputs "$tmp/rep-nomaps" $ALL
[ ! -e "$tmp/rep-nomaps/gallery.png" ] || fail "gallery.png written without rate maps"
[ ! -e "$tmp/rep-nomaps/class_gallery.png" ] || fail "class_gallery.png written without rate maps"
check_outputs "$tmp/rep-nomaps" classes.png snapshots.png
for f in $REPLAY; do [ ! -e "$tmp/rep-nomaps/$f" ] || fail "$f written without /replay"; done
grep -q "replay (done" "$tmp/rep-nomaps/summary.txt" && fail "replay summary without /replay"
report "$tmp/other.h5" -o "$tmp/rep-noise"          # axes: noise, seed only
check_outputs "$tmp/rep-noise" $ALL gallery.png
grep -q "headline: per cell type" "$tmp/rep-noise/summary.txt" || fail "summary without a cell axis"
fake -o "$tmp/one.h5" --shard 5/48                  # a single task: nothing varies
report "$tmp/one.h5" -o "$tmp/rep-one"
check_outputs "$tmp/rep-one" $ALL
fake -o "$tmp/none.h5" --pending-from 0             # nothing done yet
report "$tmp/none.h5" -o "$tmp/rep-none"
check_outputs "$tmp/rep-none" tasks.csv aggregate.csv status.csv summary.txt
grep -q "no task done yet" "$tmp/rep-none/summary.txt" || fail "summary of an empty run"

echo "== A4. autocorrelogram against brute force"
"$PYTHON" - <<'EOF' || fail "sac"
import sys, numpy as np
sys.path.insert(0, "analysis")
import sweep_results as sr
rng = np.random.default_rng(7)
G = 9
m = rng.random((G, G)); m[2, 3] = np.nan; m[0, 0] = np.nan
s = sr.sac(m)
assert s.shape == (2 * G - 1, 2 * G - 1)
x = np.nan_to_num(m)
worst = 0.0
for dy in range(-(G - 2), G - 1):
    for dx in range(-(G - 2), G - 1):
        a = x[max(dy, 0):G + min(dy, 0), max(dx, 0):G + min(dx, 0)]
        b = x[max(-dy, 0):G + min(-dy, 0), max(-dx, 0):G + min(-dx, 0)]
        if a.size < 3:
            continue
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        worst = max(worst, abs(r - s[G - 1 + dy, G - 1 + dx]))
assert worst < 1e-9, worst
assert abs(s[G - 1, G - 1] - 1) < 1e-12
print(f"sac ok (max deviation {worst:.1e})")
EOF

echo "== B. real result files from $SWEEP"
if [ ! -x "$SWEEP" ]; then
    fail "no sweep binary at $SWEEP"
fi
"$SWEEP" --dry-run sweeps/smoke.yaml > "$tmp/dry.txt" 2>&1 || { cat "$tmp/dry.txt"; fail "sweep --dry-run sweeps/smoke.yaml"; }
mpirun -n 2 "$SWEEP" sweeps/smoke.yaml -o "$tmp/smoke.h5" > "$tmp/run.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { tail -n 30 "$tmp/run.log"; fail "mpirun -n 2 sweep sweeps/smoke.yaml exited $rc"; }
report "$tmp/smoke.h5" -o "$tmp/rep-smoke"
maps=$("$PYTHON" -c "import h5py,sys; f=h5py.File(sys.argv[1],'r'); print(int('units/ratemaps' in f and f['units/ratemaps'].shape[1] > 0))" "$tmp/smoke.h5")
if [ "$maps" = 1 ]; then check_outputs "$tmp/rep-smoke" $ALL gallery.png; else check_outputs "$tmp/rep-smoke" $ALL; fi
check_outputs "$tmp/rep-smoke" classes.png
"$PYTHON" tests/check_results.py "$tmp/smoke.h5" --complete || fail "the smoke file does not pass check_results.py"
"$PYTHON" - "$tmp/smoke.h5" "$tmp/dry.txt" <<'EOF' || fail "real smoke file"
import re, sys
sys.path.insert(0, "analysis")
import sweep_results as sr
r = sr.load(sys.argv[1])
n = int(re.search(r"(\d+) tasks", open(sys.argv[2]).read().splitlines()[-1]).group(1))
t = r.tasks
assert len(t) == n, (len(t), n)
assert (t["status"] == "done").all(), t["status"].value_counts()
assert t["final_err_cm"].notna().all()
assert set(t["cell"]) == {"vanilla", "leaky"}
c = r.curve("eval_err_cm")
assert c.shape[0] == n and c.shape[1] == len(r.eval_noise)
print(f"real file ok: {n} tasks done, axes {r.axes}")
EOF
grep -q "headline: vanilla vs leaky" "$tmp/rep-smoke/summary.txt" || fail "smoke summary lacks the headline"

echo "== B2. the smoke sweep as 2 shards == unsharded"
for i in 0 1; do
    mpirun -n 2 "$SWEEP" sweeps/smoke.yaml --shard "$i/2" -o "$tmp/smoke.s$i.h5" > "$tmp/shard$i.log" 2>&1 ||
        { tail -n 30 "$tmp/shard$i.log"; fail "shard $i/2"; }
done
"$PYTHON" - "$tmp" <<'EOF' || fail "real shards differ from the unsharded run"
import sys, numpy as np, pandas as pd
sys.path.insert(0, "analysis")
import sweep_results as sr
T = sys.argv[1]
a = sr.load(f"{T}/smoke.h5")
b = sr.load([f"{T}/smoke.s0.h5", f"{T}/smoke.s1.h5"])
drop = ["file", "row", "rank", "wall_s", "train_s", "eval_s"]
pd.testing.assert_frame_equal(a.tasks.drop(columns=drop), b.tasks.drop(columns=drop), check_exact=True)
for n in ["train_step", "train_loss", "train_err_cm", "eval_err_cm"]:
    assert np.array_equal(a.curve(n), b.curve(n), equal_nan=True), n
for n in ["score60", "score90", "border", "mask60"]:
    assert np.array_equal(a.units(n), b.units(n), equal_nan=True), n
print("2 shards == unsharded (Python-side merge)")
EOF
"$SWEEP" merge -o "$tmp/smoke.merged.h5" "$tmp/smoke.s0.h5" "$tmp/smoke.s1.h5" > "$tmp/merge.log" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$tmp/merge.log"; fail "sweep merge exited $rc"; }
"$PYTHON" - "$tmp" <<'EOF' || fail "sweep merge output differs from the unsharded run"
import sys, numpy as np, pandas as pd
sys.path.insert(0, "analysis")
import sweep_results as sr
T = sys.argv[1]
a, m = sr.load(f"{T}/smoke.h5"), sr.load(f"{T}/smoke.merged.h5")
drop = ["file", "row", "rank", "wall_s", "train_s", "eval_s"]
pd.testing.assert_frame_equal(a.tasks.drop(columns=drop), m.tasks.drop(columns=drop), check_exact=True)
for n in ["train_step", "train_loss", "train_err_cm", "eval_err_cm"]:
    assert np.array_equal(a.curve(n), m.curve(n), equal_nan=True), n
for n in ["score60", "score90", "border", "mask60"]:
    assert np.array_equal(a.units(n), m.units(n), equal_nan=True), n
print("sweep merge of 2 shards == unsharded")
EOF
echo "t_analysis: all checks passed"
