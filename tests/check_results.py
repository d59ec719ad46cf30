#!/usr/bin/python3
"""check_results.py -- check a sweep result file against docs/results-format.md.

    check_results.py FILE [--complete] [--tasks N] [--compare OTHER]
                          [--status done,diverged] [--min-done K]

Checks with h5py (and pandas for /tasks): every root attribute, every
dataset's shape and dtype, the /tasks columns (one per setting of
src/base/settings.def), the padding conventions, and that every task marked
done or diverged has complete data (curves, evaluation errors, unit scores
up to its own sizes; /replay metrics, trajectories inside the arena's
box and occupancies when the task has replay on).  --complete: no task may be pending or failed.
--compare OTHER: every dataset equal to OTHER's (bit for bit, NaN == NaN)
except the timing and rank columns and the run's own attributes.
Exit status 0 if everything holds, 1 with one line per problem otherwise.
"""
import argparse
import math
import os
import re
import sys

import h5py
import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
SETTINGS_DEF = os.path.join(HERE, "..", "src", "base", "settings.def")
COLUMNS_DEF = os.path.join(HERE, "..", "src", "io", "columns.def")
RUN_FIELDS = {"rank", "wall_s", "train_s", "eval_s"}
RUN_ATTRS = {"command_line", "start_time", "n_ranks", "merged_from"}

problems = []


def bad(msg):
    problems.append(msg)


def gridclasses():
    """Class names of src/base/gridclass.h's GRIDCLASS_TABLE, in code order."""
    with open(os.path.join(HERE, "..", "src", "base", "gridclass.h")) as f:
        return tuple(re.findall(r"^\s*X\((\w+),\s*\w+\)", f.read(), re.M))


CLASSES = gridclasses()
UNIT_F = ("spacing_cm", "orientation_deg", "ellipticity", "band", "ramp_r2", "coherence", "spatial_info")
SNAP_F = ("max_score60", "mean_score60", "grid_frac")


def settings():
    """(key, kind) of every SETTING row, in table order."""
    rows = []
    pat = re.compile(r"^SETTING\(\s*(\w+)\s*,\s*(\w+)\s*,\s*(\w+)\s*,")
    with open(SETTINGS_DEF) as f:
        for line in f:
            m = pat.match(line)
            if m:
                rows.append((m.group(2), m.group(3)))
    return rows


def result_columns():
    """Names of the /tasks result columns (src/io/columns.def), in order;
    the first (id) goes before the settings."""
    with open(COLUMNS_DEF) as f:
        return re.findall(r"^COLUMN\(\s*(\w+)\s*,", f.read(), re.M)


def n_logged(steps, every):
    return steps // every + 1 + (1 if steps % every else 0)


def eval_len(factor, seq_len):
    n = math.floor(factor * seq_len + 0.5)
    return max(1, n)


def s(x):
    return x.decode() if isinstance(x, bytes) else str(x)


def check_file(path, args):
    f = h5py.File(path, "r")
    for a in ("sweep_version", "spec_text", "spec_canonical", "spec_hash", "command_line", "start_time",
              "n_ranks", "n_tasks", "format_version"):
        if a not in f.attrs:
            bad(f"root attribute {a} missing")
    if f.attrs.get("format_version") != 2:
        bad(f"format_version = {f.attrs.get('format_version')}")
    if not re.fullmatch(r"[0-9a-f]{64}", s(f.attrs.get("spec_hash", ""))):
        bad("spec_hash is not 64 hex digits")
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s(f.attrs.get("start_time", ""))):
        bad(f"start_time {f.attrs.get('start_time')!r} is not ISO 8601 UTC")

    t = f["tasks"][:]
    R = t.shape[0]
    df = pd.DataFrame(t)
    if len(df) != R:
        bad("pandas row count")
    if args.tasks is not None and R != args.tasks:
        bad(f"/tasks has {R} rows, expected {args.tasks}")
    names = t.dtype.names
    res_cols = result_columns()
    want = res_cols[:1] + [k for k, _ in settings()] + res_cols[1:]
    if list(names) != want:
        bad(f"/tasks columns differ: {sorted(set(names) ^ set(want))}")
    if "result_columns" in f["tasks"].attrs:
        declared = [s(x) for x in f["tasks"].attrs["result_columns"]]
        if declared != res_cols:
            bad(f"/tasks attribute result_columns {declared} differs from src/io/columns.def")
        for a in ("result_units", "result_roles"):
            if len(f["tasks"].attrs.get(a, [])) != len(declared):
                bad(f"/tasks attribute {a} does not match result_columns")
        if [s(x) for x in f["tasks"].attrs.get("status_order", [])] != ["pending", "failed", "diverged", "done"]:
            bad("/tasks attribute status_order is not pending, failed, diverged, done")
    for k, kind in settings():
        if k not in names:
            continue
        dt = t.dtype[k]
        if kind == "REAL" and dt != np.float64:
            bad(f"/tasks {k}: {dt}, expected float64")
        elif kind in ("INT", "BOOL") and dt != np.int32:
            bad(f"/tasks {k}: {dt}, expected int32")
        elif kind.startswith("ENUM") and dt.kind != "S":
            bad(f"/tasks {k}: {dt}, expected a fixed-length string")
    for k, dt in (("id", np.int32), ("rank", np.int32), ("steps_done", np.int32), ("wall_s", np.float64),
                  ("final_loss", np.float32), ("max_score60", np.float32)):
        if t.dtype[k] != dt:
            bad(f"/tasks {k}: {t.dtype[k]}, expected {dt}")
    if t.dtype["status"].kind != "S" or t.dtype["message"] != np.dtype("S128"):
        bad("status/message are not fixed-length strings")
    axes = [s(a) for a in f["tasks"].attrs.get("axes", [])]
    for a in axes:
        if a not in names:
            bad(f"axis {a} is not a /tasks column")
    status = [s(x) for x in t["status"]]
    for st in status:
        if st not in ("pending", "done", "diverged", "failed"):
            bad(f"unknown status {st!r}")
    if args.complete and any(st in ("pending", "failed") for st in status):
        bad(f"not complete: {sum(st == 'pending' for st in status)} pending, "
            f"{sum(st == 'failed' for st in status)} failed")
    n_done = sum(st in ("done", "diverged") for st in status)
    if args.min_done is not None and n_done < args.min_done:
        bad(f"only {n_done} tasks done/diverged, expected at least {args.min_done}")
    if len(set(t["id"].tolist())) != R or (t["id"] < 0).any():
        bad("task ids are not unique and non-negative")

    L = max(n_logged(int(a), int(b)) for a, b in zip(t["steps"], t["log_every"])) if R else 1
    E = max(eval_len(float(a), int(b)) for a, b in zip(t["eval_len_factor"], t["seq_len"])) if R else 1
    N = int(t["hidden"].max()) if R else 1
    c = f["curves"]
    S = c["eval_noise"].shape[0]
    expect = {
        "curves/train_step": ((R, L), np.int32), "curves/train_loss": ((R, L), np.float32),
        "curves/train_err_cm": ((R, L), np.float32), "curves/eval_err_cm": ((R, S, E), np.float32),
        "curves/eval_noise": ((S,), np.float64), "units/score60": ((R, N), np.float32),
        "units/score90": ((R, N), np.float32), "units/border": ((R, N), np.float32),
        "units/mask60": ((R, N), np.int8), "units/grid_p": ((R, N), np.float32),
        "units/grid_null": ((R, N), np.int8), "units/grid_class": ((R, N), np.int8),
        "units/n_peaks": ((R, N), np.int8)}
    for k in UNIT_F:
        expect[f"units/{k}"] = ((R, N), np.float32)
    saves = [s(x) for x in t["save_ratemaps"]]
    if any(x != "none" for x in saves):
        M = max(int(h) if sv == "all" else min(int(k), int(h)) if sv == "top" else 0
                for sv, h, k in zip(saves, t["hidden"], t["save_top_k"]))
        G = max(int(g) for g, sv in zip(t["ratemap_bins"], saves) if sv != "none")
        expect["units/ratemaps"] = ((R, M, G, G), np.float32)
        expect["units/ratemap_unit"] = ((R, M), np.int32)
        expect["units/ratemap_peaks"] = ((R, M, 6, 2), np.float32)
    elif "units/ratemaps" in f:
        bad("/units/ratemaps present although no task saves rate maps")
    K = [int(st) // int(ev) + 1 if int(ev) > 0 else 0 for st, ev in zip(t["steps"], t["snapshot_every"])]
    if max(K, default=0) > 0:
        KS = max(K)
        expect["snapshots/step"] = ((R, KS), np.int32)
        for k in SNAP_F + tuple(f"frac_{c.lower()}" for c in CLASSES):
            expect[f"snapshots/{k}"] = ((R, KS), np.float32)
    elif "snapshots" in f:
        bad("/snapshots present although no task has snapshot_every > 0")
    rep = t["replay"] == 1
    REPLAY_F = ("sigma", "speed_cm", "real_step_cm", "speed_ratio", "spread_cm2", "coverage",
                "mean_first_visit", "outside", "kl", "kl_uniform", "kl_untrained")
    if rep.any():
        RK = max(1, max(min(int(k), int(n)) for k, n in zip(t["replay_keep"][rep], t["replay_starts"][rep])))
        RH = int(t["replay_steps"][rep].max()) + 1
        RG = max(1, int(t["ratemap_bins"][rep].max()))
        for k in REPLAY_F:
            expect[f"replay/{k}"] = ((R,), np.float32)
        expect["replay/n_in"] = ((R,), np.int32)
        expect["replay/traj"] = ((R, RK, RH, 2), np.float32)
        expect["replay/occ"] = ((R, RG, RG), np.float32)
        expect["replay/occ_real"] = ((R, RG, RG), np.float32)
    elif "replay" in f:
        bad("/replay present although no task has replay on")
    for name, (shape, dt) in expect.items():
        if name not in f:
            bad(f"{name} missing")
            continue
        d = f[name]
        if d.shape != shape or d.dtype != dt:
            bad(f"{name}: {d.shape} {d.dtype}, expected {shape} {np.dtype(dt)}")

    # every finished task is complete, and padded past its own sizes
    step = f["curves/train_step"][:]
    loss = f["curves/train_loss"][:]
    evale = f["curves/eval_err_cm"][:]
    sc60 = f["units/score60"][:]
    mask = f["units/mask60"][:]
    gnull = f["units/grid_null"][:]
    for r in range(R):
        Lr = n_logged(int(t["steps"][r]), int(t["log_every"][r]))
        Er = eval_len(float(t["eval_len_factor"][r]), int(t["seq_len"][r]))
        Nr = int(t["hidden"][r])
        tid = int(t["id"][r])
        if (step[r, Lr:] != -1).any() or not np.isnan(loss[r, Lr:]).all() or not np.isnan(evale[r, :, Er:]).all() \
                or not np.isnan(sc60[r, Nr:]).all() or (mask[r, Nr:] != -1).any() \
                or (gnull[r, Nr:] != -1).any():
            bad(f"task {tid}: padding past its sizes is not NaN / -1")
        if status[r] == "done":
            if (step[r, :Lr] < 0).any() or not np.isfinite(loss[r, :Lr]).all():
                bad(f"task {tid} is done but its training curve is incomplete")
            if not np.isfinite(evale[r, :, :Er]).all():
                bad(f"task {tid} is done but eval_err_cm is incomplete")
            if int(t["steps_done"][r]) != int(t["steps"][r]):
                bad(f"task {tid} is done after {t['steps_done'][r]} of {t['steps'][r]} steps")
            if not math.isfinite(float(t["final_err_cm"][r])) or not math.isfinite(float(t["wall_s"][r])):
                bad(f"task {tid} is done but its summary is missing")
            if not ((mask[r, :Nr] >= -1) & (mask[r, :Nr] <= 9)).all():
                bad(f"task {tid}: mask60 out of range")
        check_classes_row(f, t, r, tid, Nr, K[r], status[r])
        if rep.any() and "replay/traj" in f and f["replay/traj"].ndim == 4:
            check_replay_row(f, t, r, tid, bool(rep[r]), status[r], REPLAY_F)
        if status[r] in ("done", "diverged", "failed") and int(t["rank"][r]) < 0:
            bad(f"task {tid} finished but has no rank")
    return f


def check_classes_row(f, t, r, tid, Nr, Kr, status):
    """Row r's classes and snapshots: padding -1 / NaN past its N units and
    K snapshots; when done, codes in range, the /tasks frac_<class> equal to
    the code counts / N (summing to 1), grid geometry NaN exactly without a
    GRID unit; snapshots at k * snapshot_every with fractions summing to 1."""
    u = f["units"]
    cls = u["grid_class"][r]
    if list(map(s, u["grid_class"].attrs.get("classes", []))) != list(CLASSES):
        bad(f"/units/grid_class attribute classes is not {list(CLASSES)}")
    if (cls[Nr:] != -1).any() or (u["n_peaks"][r, Nr:] != -1).any() or \
            any(not np.isnan(u[k][r, Nr:]).all() for k in UNIT_F):
        bad(f"task {tid}: /units class and geometry padding is not -1 / NaN")
    if status == "done":
        c = cls[:Nr]
        if ((c < 0) | (c >= len(CLASSES))).any():
            bad(f"task {tid}: grid_class out of range")
        fr = [float(t[f"frac_{k.lower()}"][r]) for k in CLASSES]
        if any(abs(fr[i] - np.mean(c == i)) > 1e-6 for i in range(len(CLASSES))) or abs(sum(fr) - 1) > 1e-5:
            bad(f"task {tid}: frac_<class> columns {fr} do not match /units/grid_class")
        grid = c == CLASSES.index("GRID")
        if grid.any() != math.isfinite(float(t["grid_spacing_cm"][r])):
            bad(f"task {tid}: grid_spacing_cm {t['grid_spacing_cm'][r]} with {int(grid.sum())} GRID units")
        if grid.any() and (u["n_peaks"][r, :Nr][grid] != 6).any():
            bad(f"task {tid}: a GRID unit without six peaks")
    if "snapshots" not in f:
        return
    g = f["snapshots"]
    step = g["step"][r]
    if (step[Kr:] != -1).any() or any(not np.isnan(g[k][r, Kr:]).all() for k in SNAP_F):
        bad(f"task {tid}: /snapshots padding is not -1 / NaN")
    if status == "done" and Kr > 0:
        every = int(t["snapshot_every"][r])
        if (step[:Kr] != every * np.arange(Kr)).any():
            bad(f"task {tid}: snapshot steps {step[:Kr].tolist()}")
        tot = sum(g[f"frac_{k.lower()}"][r, :Kr] for k in CLASSES)
        if (np.abs(tot - 1) > 1e-5).any() or not np.isfinite(g["max_score60"][r, :Kr]).all():
            bad(f"task {tid}: snapshot class fractions do not sum to 1 or scores missing")


def check_replay_row(f, t, r, tid, on, status, fields):
    """Row r of /replay: NaN / -1 when replay is off or the task is not done;
    when done with replay on, finite metrics in range, K = min(keep, starts)
    finite trajectories of replay_steps + 1 points inside the arena's box
    (half-width arena_size / 2), padding NaN, occupancies summing to 1."""
    g = f["replay"]
    vals = {k: float(g[k][r]) for k in fields}
    traj = g["traj"][r]
    if not on or status != "done":
        if status == "done" and not on and (any(not math.isnan(v) for v in vals.values())
                                            or int(g["n_in"][r]) != -1 or not np.isnan(traj).all()):
            bad(f"task {tid} has replay off but /replay data")
        return
    # always defined: sigma, speeds, coverage, outside, kl_uniform; spread
    # needs 2 starts; kl and mean_first_visit need a visited in-arena bin;
    # kl_untrained likewise for the untrained network (docs/replay.md)
    need = set(fields) - {"spread_cm2", "kl", "mean_first_visit", "kl_untrained"}
    if int(t["replay_starts"][r]) >= 2 and int(t["replay_burn_in"][r]) <= int(t["replay_steps"][r]):
        need.add("spread_cm2")
    if vals["outside"] < 1:
        need |= {"kl", "mean_first_visit"}
    bad_m = [k for k in sorted(need) if not math.isfinite(vals[k])]
    if bad_m:
        bad(f"task {tid}: replay metrics not finite: {bad_m}")
    for k in ("coverage", "outside"):
        if not 0 <= vals[k] <= 1:
            bad(f"task {tid}: replay {k} = {vals[k]} outside [0, 1]")
    if int(g["n_in"][r]) < 1:
        bad(f"task {tid}: replay n_in = {int(g['n_in'][r])}")
    K = min(int(t["replay_keep"][r]), int(t["replay_starts"][r]))
    H1 = int(t["replay_steps"][r]) + 1
    half = float(t["arena_size"][r]) / 2 + 1e-5
    kept = traj[:K, :H1]
    if not np.isfinite(kept).all() or (np.abs(kept) > half).any():
        bad(f"task {tid}: stored replay trajectories not finite or outside the arena's box")
    pad = np.ones(traj.shape[:2], bool)
    pad[:K, :H1] = False
    if not np.isnan(traj[pad]).all():
        bad(f"task {tid}: /replay/traj padding is not NaN")
    G = int(t["ratemap_bins"][r])
    for k in ("occ", "occ_real"):
        o = g[k][r]
        if not np.isnan(o[G:, :]).all() or not np.isnan(o[:, G:]).all():
            bad(f"task {tid}: /replay/{k} padding is not NaN")
        tot = np.nansum(o[:G, :G])
        if not abs(tot - 1) < 1e-3 and not (k == "occ" and tot == 0):
            bad(f"task {tid}: /replay/{k} sums to {tot}")


def same(a, b):
    if a.dtype.names:
        return all(same(a[n], b[n]) for n in a.dtype.names)
    if a.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a.shape == b.shape and np.array_equal(a, b)


def compare(f, g):
    for a in f.attrs:
        if a not in RUN_ATTRS and s(f.attrs[a]) != s(g.attrs.get(a)):
            bad(f"attribute {a} differs")
    names = []
    f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)
    other = []
    g.visit(lambda n: other.append(n) if isinstance(g[n], h5py.Dataset) else None)
    if sorted(names) != sorted(other):
        bad(f"dataset lists differ: {sorted(set(names) ^ set(other))}")
    for n in names:
        if n not in g:
            continue
        a, b = f[n][()], g[n][()]
        if n == "tasks":
            keep = [k for k in a.dtype.names if k not in RUN_FIELDS]
            for k in keep:
                if not same(a[k], b[k]):
                    rows = np.nonzero(~((a[k] == b[k]) | (np.isnan(a[k]) & np.isnan(b[k]))
                                        if a[k].dtype.kind == "f" else a[k] == b[k]))[0]
                    bad(f"/tasks column {k} differs (rows {rows[:8].tolist()})")
        elif not same(a, b):
            bad(f"/{n} differs")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--complete", action="store_true")
    ap.add_argument("--tasks", type=int)
    ap.add_argument("--min-done", type=int)
    ap.add_argument("--compare")
    args = ap.parse_args()
    try:
        f = check_file(args.file, args)
        if args.compare:
            compare(f, h5py.File(args.compare, "r"))
    except (OSError, KeyError, ValueError) as e:
        bad(f"{type(e).__name__}: {e}")
    for p in problems:
        print(f"{args.file}: {p}")
    if not problems:
        print(f"{args.file}: ok")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
