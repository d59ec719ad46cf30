#!/usr/bin/python3
"""TEST FIXTURE: write a synthetic sweep result file in the documented format.

This is not a simulator and its numbers mean nothing scientifically.  It
exists so that analysis/ can be tested independently of the C program: the
file has the layout of docs/results-format.md (root attributes, one compound
/tasks dataset with every setting of src/base/settings.def as a column,
/curves/*, /units/* with the shuffle-null grid_p / grid_null, optional
/units/ratemaps, optional /replay) with realistic shapes and a plausible
structure (leaky beats vanilla, noise hurts, a few grid-like rate maps, a
null threshold above the plain 0.3, replays that wander more with noise, one
diverged and one failed task).  The settings columns and enum names are
read from src/base/settings.def, src/base/config.c and src/base/cells.def,
the result columns from src/io/columns.def and the status order from
src/io/rows.c, so the fixture follows the real tables.  tests/t_analysis.sh
also runs the report on a file written by the real program whenever the
binary can run a sweep.

    make_fake_results.py -o FILE [--shard i/N] [--pending-from K]
                         [--ratemaps top|all|none] [--seeds S] [--hidden N]
                         [--no-replay]

--shard i/N      keep only the tasks with id % N == i (root attribute shard)
--pending-from K tasks with id >= K are left pending (an interrupted run)
"""
import argparse
import hashlib
import os
import re
import sys

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INT_KINDS = {"INT": np.int32, "BOOL": np.int32}


def read_cells():
    """{cell name: {"adapts", "momentum", "uses_tau": bool}} from the rows of
    src/base/cells.def, in enum order (dicts keep insertion order)."""
    text = open(os.path.join(ROOT, "src", "base", "cells.def")).read()
    rows = re.findall(r"^CELL\(\s*(\w+),\s*(\w+),\s*([01]),\s*([01]),\s*([01]),\s*(\d+)\s*\)", text, re.M)
    return {name: {"adapts": a == "1", "momentum": m == "1", "uses_tau": t == "1", "gates": int(g)}
            for _id, name, a, m, t, g in rows}


CELLS = read_cells()


def read_settings():
    """([(key, kind, default)], {enum key: string width}) from src/base/settings.def,
    the enum name lists of src/base/config.c and the cell names of src/base/cells.def."""
    text = open(os.path.join(ROOT, "src", "base", "settings.def")).read()
    rows = re.findall(r"^SETTING\(\s*(\w+),\s*(\w+),\s*(\w+),\s*([^,]+),", text, re.M)
    csrc = open(os.path.join(ROOT, "src", "base", "config.c")).read()
    enums = {}
    for name, body in re.findall(r"config_enum_(\w+)\[\]\s*=\s*\{([^}]*)\}", csrc, re.S):
        enums[name] = re.findall(r'"([^"]*)"', body)
    enums["CELL"] = list(CELLS)   # config_enum_CELL is generated from cells.def
    out, width = [], {}
    for _section, key, kind, default in rows:
        if kind.startswith("ENUM_"):
            names = enums[kind[5:]]
            out.append((key, "ENUM", names[int(float(default))]))
            width[key] = max(1, max(len(n) for n in names))   # fixed-length, NUL padded (h5out.c)
        else:
            out.append((key, kind, float(default)))
    return out, width


COLUMN_TYPES = {"I32": np.int32, "F32": np.float32, "F64": np.float64}


def read_columns():
    """[(name, numpy dtype, unit, role)] of the /tasks result columns, from
    src/io/columns.def (the first one, id, goes before the settings)."""
    text = open(os.path.join(ROOT, "src", "io", "columns.def")).read()
    rows = re.findall(r'^COLUMN\(\s*(\w+),\s*(\w+),\s*(\d+),\s*"([^"]*)",\s*\w+,\s*[\w.]+,\s*(\w+),',
                      text, re.M)
    return [(name, f"S{width}" if t == "STR" else COLUMN_TYPES[t], unit, role.lower())
            for name, t, width, unit, role in rows]


def read_status_order():
    """Status names, least to most preferred (the merge rule of src/io/rows.c)."""
    text = open(os.path.join(ROOT, "src", "io", "rows.c")).read()
    body = re.search(r"status_order\[\]\s*=\s*\{([^}]*)\}", text).group(1)
    return [t[len("TASK_"):].lower() for t in re.findall(r"TASK_\w+", body)]


def ignored(key, cfg):
    """Mirror of config_ignored() in src/base/config.c (the cell's settings by
    the properties of its row of src/base/cells.def)."""
    cell = CELLS[cfg["cell"]]
    if key == "tau":
        return not cell["uses_tau"]
    if key in ("lambda_a", "b_a"):
        return not cell["adapts"]
    if key == "lambda_v":
        return not cell["momentum"]
    if key == "activation":
        return cell["gates"] > 0
    if key == "surround_scale":
        return cfg["target"] != "dog"
    if key in ("place_sigma", "decode_k"):
        return cfg["target"] == "cartesian"
    if key == "save_top_k":
        return cfg["save_ratemaps"] != "top"
    if key in ("null_percentile", "null_units", "null_min_shift"):
        return cfg["null_shuffles"] == 0
    if key.startswith("replay_"):
        return not cfg["replay"]
    return False


def read_classes():
    """Class names of GRIDCLASS_TABLE (src/base/gridclass.h), in code order."""
    text = open(os.path.join(ROOT, "src", "base", "gridclass.h")).read()
    return re.findall(r"^\s*X\((\w+),\s*\w+\)", text, re.M)


CLASSES = read_classes()
UNIT_F = ("spacing_cm", "orientation_deg", "ellipticity", "band", "ramp_r2", "coherence", "spatial_info")
SNAP_F = ("max_score60", "mean_score60", "grid_frac")


def hex_peaks(spacing, angle):
    """The six SAC peaks (x, y lags in bins) of a hexagonal lattice."""
    a = angle + np.arange(6) * np.pi / 3
    return np.stack([spacing * np.cos(a), spacing * np.sin(a)], axis=1)


def grid_map(G, spacing, phase, angle, rng):
    """A hexagonal firing pattern (three plane waves at 60 degrees) on a G x G map."""
    y, x = np.mgrid[0:G, 0:G].astype(float)
    k = 2 * np.pi / spacing
    m = np.zeros((G, G))
    for j in range(3):
        a = angle + j * np.pi / 3
        m += np.cos(k * (np.cos(a) * (x - phase[0]) + np.sin(a) * (y - phase[1])))
    m = np.maximum(m, 0) + 0.1 * rng.random((G, G))
    return m / m.max()


def smooth_map(G, rng):
    f = rng.standard_normal((G, G))
    for _ in range(3):
        f = (f + np.roll(f, 1, 0) + np.roll(f, -1, 0) + np.roll(f, 1, 1) + np.roll(f, -1, 1)) / 5
    return np.maximum(f - f.mean(), 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--shard", default=None)
    ap.add_argument("--pending-from", type=int, default=None)
    ap.add_argument("--ratemaps", choices=["none", "top", "all"], default="top")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--noise-only", action="store_true",
                    help="a sweep over noise and seed only (leaky, tau fixed): no tau or cell axis")
    ap.add_argument("--no-replay", action="store_true", help="replay off: no /replay group")
    a = ap.parse_args()

    settings, enum_width = read_settings()
    base = {k: d for k, _kind, d in settings}
    base.update(hidden=a.hidden, seq_len=20, steps=1000, log_every=100, batch=50,
                n_place=128, ratemap_bins=20, save_ratemaps=a.ratemaps, save_top_k=4,
                eval_len_factor=2.0, null_shuffles=200,
                replay=0 if a.no_replay else 1, replay_steps=200, replay_starts=50, replay_keep=3,
                replay_burn_in=20, snapshot_every=250)
    eval_noise = np.array([0.0, 0.01, 0.03])
    spec_text = (
        "name: fake_fixture\n"
        f"model: {{hidden: {a.hidden}}}\n"
        f"train: {{steps: 1000, log_every: 100, batch: 50}}\n"
        f"eval: {{eval_noise: [0.0, 0.01, 0.03], save_ratemaps: {a.ratemaps}, null_shuffles: 200, "
        "snapshot_every: 250}\n"
        + ("" if a.no_replay else "replay: {replay: true, replay_steps: 200, replay_starts: 50, replay_keep: 3}\n")
        + ("sweep:\n" if a.noise_only else "sweep:\n  cell: [vanilla, leaky]\n  tau: [0.04, 0.1, 0.2]\n")
        + f"  noise: [0.0, 0.003, 0.01, 0.03]\n  seed: {{range: [0, {a.seeds}]}}\n")

    # expand the axes; vanilla ignores tau, so its tasks are de-duplicated
    tasks = []
    cells = ["leaky"] if a.noise_only else ["vanilla", "leaky"]
    taus = [0.1] if a.noise_only else [0.04, 0.1, 0.2]
    axes = [b"noise", b"seed"] if a.noise_only else [b"cell", b"tau", b"noise", b"seed"]
    for cell in cells:
        for tau in (taus if CELLS[cell]["uses_tau"] else [0.1]):
            for noise in [0.0, 0.003, 0.01, 0.03]:
                for seed in range(a.seeds):
                    cfg = dict(base, cell=cell, tau=tau, noise=noise, seed=seed)
                    tasks.append(cfg)
    n_all = len(tasks)
    ids = np.arange(n_all)
    if a.shard:
        i, n = (int(v) for v in a.shard.split("/"))
        ids = ids[ids % n == i]

    N, G = a.hidden, 20
    steps, log_every = 1000, 100
    L = steps // log_every + 1
    S, E = len(eval_noise), int(round(2.0 * 20))
    M = {"none": 0, "top": 4, "all": N}[a.ratemaps]

    result_cols = read_columns()
    cols = [(result_cols[0][0], result_cols[0][1])]
    for key, kind, _d in settings:
        cols.append((key, f"S{enum_width[key]}" if kind == "ENUM" else INT_KINDS.get(kind, np.float64)))
    cols += [(name, dt) for name, dt, _u, _r in result_cols[1:]]
    # the float32 results: NaN for a task that has none
    SUMMARY_F = tuple(name for name, dt, _u, _r in result_cols if dt is np.float32)
    rows = np.zeros(len(ids), dtype=cols)
    train_step = np.full((len(ids), L), -1, np.int32)
    train_loss = np.full((len(ids), L), np.nan, np.float32)
    train_err = np.full((len(ids), L), np.nan, np.float32)
    eval_err = np.full((len(ids), S, E), np.nan, np.float32)
    score60 = np.full((len(ids), N), np.nan, np.float32)
    score90 = np.full((len(ids), N), np.nan, np.float32)
    border = np.full((len(ids), N), np.nan, np.float32)
    mask60 = np.full((len(ids), N), -1, np.int8)
    maps = np.full((len(ids), M, G, G), np.nan, np.float32)
    map_unit = np.full((len(ids), M), -1, np.int32)
    grid_p = np.full((len(ids), N), np.nan, np.float32)
    grid_null = np.full((len(ids), N), -1, np.int8)
    grid_class = np.full((len(ids), N), -1, np.int8)
    n_peaks = np.full((len(ids), N), -1, np.int8)
    unit_f = {k: np.full((len(ids), N), np.nan, np.float32) for k in UNIT_F}
    map_peaks = np.full((len(ids), M, 6, 2), np.nan, np.float32)
    K = steps // 250 + 1
    snap_step = np.full((len(ids), K), -1, np.int32)
    snap = {k: np.full((len(ids), K), np.nan, np.float32)
            for k in SNAP_F + tuple(f"frac_{c.lower()}" for c in CLASSES)}
    # /replay: K = 3 kept replays of H = 200 steps, G x G occupancies
    RK, RH = 3, 201
    REPLAY_F = ("sigma", "speed_cm", "real_step_cm", "speed_ratio", "spread_cm2", "coverage",
                "mean_first_visit", "outside", "kl", "kl_uniform", "kl_untrained")
    rp = {k: np.full(len(ids), np.nan, np.float32) for k in REPLAY_F}
    rp_n_in = np.full(len(ids), -1, np.int32)
    rp_traj = np.full((len(ids), RK, RH, 2), np.nan, np.float32)
    rp_occ = np.full((len(ids), G, G), np.nan, np.float32)
    rp_occ_real = np.full((len(ids), G, G), np.nan, np.float32)

    diverged_id = [k for k, t in enumerate(tasks) if t["cell"] == cells[0] and t["noise"] == 0.03][-1]
    failed_id = [k for k, t in enumerate(tasks) if t["cell"] == "leaky" and t["noise"] == 0.01][0]
    for r, tid in enumerate(ids):
        cfg = tasks[tid]
        rng = np.random.default_rng(1000 + tid)
        row = rows[r]
        row["id"] = tid
        for key, kind, _d in settings:
            v = cfg[key]
            if kind == "ENUM":
                row[key] = str(v).encode()
            elif ignored(key, cfg):
                row[key] = -1 if kind in INT_KINDS else np.nan
            else:
                row[key] = v
        row["rank"] = 1 + tid % 3
        pending = a.pending_from is not None and tid >= a.pending_from
        if pending:
            row["status"] = b"pending"
            row["steps_done"] = 0
            for f in ("wall_s", "train_s", "eval_s"):
                row[f] = np.nan
            for f in SUMMARY_F:
                row[f] = np.nan
            continue
        if tid == failed_id:
            row["status"] = b"failed"
            row["message"] = b"cannot allocate 1.2 GB for the rate-map accumulators"
            row["steps_done"] = 0
            row["wall_s"], row["train_s"], row["eval_s"] = 0.01, 0.0, 0.0
            for f in SUMMARY_F:
                row[f] = np.nan
            continue
        leaky = cfg["cell"] == "leaky"
        tau, noise = cfg["tau"], cfg["noise"]
        # synthetic "truth": leaky better, best tau 0.1, noise hurts
        err_inf = (5.0 + 12 * (np.log(tau / 0.1)) ** 2 if leaky else 11.0) + 350 * noise
        err_inf *= 1 + 0.05 * rng.standard_normal()
        t_steps = np.arange(L) * log_every
        curve = err_inf + (60 - err_inf) * np.exp(-t_steps / 250.0)
        loss = 6.0 + (curve / 60.0) * 1.5 + 0.02 * rng.standard_normal(L)
        stop = L
        if tid == diverged_id:
            stop = 6
            row["status"] = b"diverged"
            row["message"] = b"loss is nan at step 537"
            row["steps_done"] = 537
        else:
            row["status"] = b"done"
            row["steps_done"] = steps
        train_step[r, :] = t_steps
        train_loss[r, :stop] = loss[:stop]
        train_err[r, :stop] = (curve * (1 + 0.03 * rng.standard_normal(L)))[:stop]
        wall = 30 + 20 * rng.random()
        row["wall_s"], row["train_s"], row["eval_s"] = wall, 0.8 * wall, 0.2 * wall
        if tid == diverged_id:
            for f in SUMMARY_F:
                row[f] = np.nan
            continue
        tt = np.arange(1, E + 1)
        for s, en in enumerate(eval_noise):
            growth = (0.15 if leaky else 0.3) + 40 * en
            eval_err[r, s] = err_inf * (0.6 + 0.4 * np.sqrt(tt / 20)) + growth * tt * (1 + en * 30)
        n_grid = int(round(N * (0.25 if leaky else 0.08) * np.exp(-noise / 0.01)))
        sc = rng.normal(-0.1, 0.2, N)
        sc[:n_grid] = rng.uniform(0.35, 1.2, n_grid)
        perm = rng.permutation(N)
        sc = sc[perm]
        score60[r] = sc
        score90[r] = rng.normal(0.0, 0.25, N)
        border[r] = rng.uniform(-0.6, 0.6, N)
        mask60[r] = rng.integers(0, 10, N)
        row["final_loss"] = loss[-1]
        row["final_err_cm"] = eval_err[r, 0].mean()
        row["grid_frac"] = np.mean(sc > 0.3)
        row["max_score60"] = sc.max()
        row["mean_score60"] = sc.mean()
        # shuffle null: a threshold above 0.3, p-values falling with score60
        thr = np.float32(0.45 + 0.05 * rng.random())
        grid_null[r] = (sc > thr).astype(np.int8)
        grid_p[r] = np.clip(1.0 / (1.0 + np.exp(8 * (sc - thr))), 1.0 / 201, 1.0).astype(np.float32)
        row["null_threshold"] = thr
        row["grid_frac_null"] = np.mean(sc > thr)
        # classes: above the null a GRID unit, or (one in three) a RAMP;
        # below it one of the other classes
        ci = {c: i for i, c in enumerate(CLASSES)}
        cls = rng.choice([ci["NON_SPATIAL"], ci["OTHER_SPATIAL"], ci["BORDER"], ci["BAND"], ci["RAMP"]], N,
                         p=[0.3, 0.4, 0.1, 0.1, 0.1])
        above = np.nonzero(sc > thr)[0]
        cls[above] = np.where(rng.random(len(above)) < 1 / 3, ci["RAMP"], ci["GRID"])
        grid_class[r] = cls
        isg = cls == ci["GRID"]
        npk = rng.integers(0, 9, N)
        npk[isg] = 6
        n_peaks[r] = npk
        six = npk >= 6
        unit_f["spacing_cm"][r] = np.where(six, rng.uniform(40, 80, N), np.nan)
        unit_f["orientation_deg"][r] = np.where(six, rng.uniform(-30, 30, N), np.nan)
        unit_f["ellipticity"][r] = np.where(six, rng.uniform(0.75, 1.0, N), np.nan)
        unit_f["band"][r] = np.where(isg, rng.uniform(0.25, 0.4, N), rng.uniform(0.2, 1.0, N))
        unit_f["ramp_r2"][r] = np.where(cls == ci["RAMP"], rng.uniform(0.5, 1.0, N), rng.uniform(0, 0.4, N))
        unit_f["coherence"][r] = rng.uniform(0, 1, N)
        unit_f["spatial_info"][r] = rng.uniform(0, 2, N)
        for c, i in ci.items():
            row[f"frac_{c.lower()}"] = np.mean(cls == i)
        if isg.any():
            row["grid_spacing_cm"] = unit_f["spacing_cm"][r][isg].mean()
            z = np.exp(6j * np.deg2rad(unit_f["orientation_deg"][r][isg].astype(float)))
            row["grid_orient_sd_deg"] = np.rad2deg(np.sqrt(-2 * np.log(min(1.0, abs(z.mean()))))) / 6
            row["grid_ellipticity"] = unit_f["ellipticity"][r][isg].mean()
        else:
            row["grid_spacing_cm"] = row["grid_orient_sd_deg"] = row["grid_ellipticity"] = np.nan
        # snapshots: gridness and GRID units emerging over training
        kk = np.arange(K)
        grow = 1 - np.exp(-kk / 1.5)
        snap_step[r] = kk * 250
        snap["max_score60"][r] = 0.2 + (sc.max() - 0.2) * grow
        snap["mean_score60"][r] = -0.2 + (sc.mean() + 0.2) * grow
        snap["grid_frac"][r] = np.mean(sc > 0.3) * grow
        fr0 = np.full(len(CLASSES), 0.0)
        fr0[ci["NON_SPATIAL"]] = 1.0
        fr1 = np.array([np.mean(cls == i) for i in range(len(CLASSES))])
        for i, c in enumerate(CLASSES):
            snap[f"frac_{c.lower()}"][r] = fr0[i] + (fr1[i] - fr0[i]) * grow
        if cfg["replay"]:
            # replays: a random walk from a random start, step ~ noise, kept in the box
            half = cfg["arena_size"] / 2
            step = 0.004 + 0.6 * noise * (1.5 if leaky else 1.0)
            x = np.zeros((RK, RH, 2))
            x[:, 0] = rng.uniform(-0.8 * half, 0.8 * half, (RK, 2))
            for k in range(1, RH):
                x[:, k] = np.clip(x[:, k - 1] + step * rng.standard_normal((RK, 2)), -half, half)
            rp_traj[r] = x
            yy, xx = (np.mgrid[0:G, 0:G] + 0.5) / G * 2 - 1
            real = 1.0 + 0.5 * (np.abs(xx) + np.abs(yy))     # real trajectories: more time near walls
            real /= real.sum()
            rp_occ_real[r] = real
            occ = np.exp(-(xx ** 2 + yy ** 2) / (0.2 + 20 * noise))
            rp_occ[r] = occ / occ.sum()
            pr = rp_occ[r] + 1e-3 / G ** 2
            qr = real + 1e-3 / G ** 2
            speed = 100 * step * 1.25
            vals = dict(sigma=np.sqrt(2) * noise, speed_cm=speed, real_step_cm=1.6,
                        speed_ratio=speed / 1.6, spread_cm2=2e4 * (0.05 + noise) * (1.3 if leaky else 1.0),
                        coverage=min(1.0, 0.1 + 15 * noise), mean_first_visit=120 - 1000 * noise,
                        outside=0.0, kl=float(np.sum(pr * np.log(pr / qr))),
                        kl_uniform=float(np.sum(np.log(1 / (G * G) / real)) / (G * G)),
                        kl_untrained=2.5 + 0.3 * rng.random())
            for k, v in vals.items():
                rp[k][r] = v
            rp_n_in[r] = G * G
            row["replay_speed_cm"] = rp["speed_cm"][r]
            row["replay_kl"] = rp["kl"][r]
        else:
            row["replay_speed_cm"] = row["replay_kl"] = np.nan
        if M:
            units = np.argsort(-sc)[:M] if a.ratemaps == "top" else np.arange(N)
            map_unit[r] = units
            for j, u in enumerate(units):
                if sc[u] > 0.3:
                    sp, ang = rng.uniform(5, 9), rng.uniform(0, np.pi / 3)
                    m = grid_map(G, sp, rng.uniform(0, 5, 2), ang, rng)
                    map_peaks[r, j] = hex_peaks(sp * 2 / np.sqrt(3), ang + np.pi / 6)
                else:
                    m = smooth_map(G, rng)
                m[0, 0] = np.nan  # an unvisited corner bin
                maps[r, j] = m

    with h5py.File(a.output, "w") as f:
        f.attrs["sweep_version"] = "0.1.0-fixture"
        f.attrs["spec_text"] = spec_text
        f.attrs["spec_canonical"] = spec_text
        # files written with the same options are "the same spec" (shards,
        # --pending-from): same hash; other options give another hash
        f.attrs["spec_hash"] = hashlib.sha256(spec_text.encode()).hexdigest()
        f.attrs["command_line"] = "tests/make_fake_results.py " + " ".join(sys.argv[1:])
        f.attrs["start_time"] = "2026-11-24T12:00:00Z"
        f.attrs["n_ranks"] = np.int32(4)
        f.attrs["n_tasks"] = np.int32(len(ids))
        f.attrs["format_version"] = np.int32(2)
        if a.shard:
            f.attrs["shard"] = a.shard
        d = f.create_dataset("tasks", data=rows)
        d.attrs["axes"] = np.array(axes)
        vstr = h5py.string_dtype("utf-8")
        d.attrs.create("result_columns", [c[0] for c in result_cols], dtype=vstr)
        d.attrs.create("result_units", [c[2] for c in result_cols], dtype=vstr)
        d.attrs.create("result_roles", [c[3] for c in result_cols], dtype=vstr)
        d.attrs.create("status_order", read_status_order(), dtype=vstr)
        c = f.create_group("curves")
        c["train_step"] = train_step
        c["train_loss"] = train_loss
        c["train_err_cm"] = train_err
        c["eval_err_cm"] = eval_err
        c["eval_noise"] = eval_noise
        u = f.create_group("units")
        u["score60"] = score60
        u["score90"] = score90
        u["border"] = border
        u["mask60"] = mask60
        u["grid_p"] = grid_p
        u["grid_null"] = grid_null
        u["grid_class"] = grid_class
        u["grid_class"].attrs.create("classes", CLASSES, dtype=vstr)
        u["n_peaks"] = n_peaks
        for k in UNIT_F:
            u[k] = unit_f[k]
        if M:
            u["ratemaps"] = maps
            u["ratemap_unit"] = map_unit
            u["ratemap_peaks"] = map_peaks
        g = f.create_group("snapshots")
        g.attrs.create("classes", CLASSES, dtype=vstr)
        g["step"] = snap_step
        for k, v in snap.items():
            g[k] = v
        if not a.no_replay:
            g = f.create_group("replay")
            for k in REPLAY_F:
                g[k] = rp[k]
            g["n_in"] = rp_n_in
            g["traj"] = rp_traj
            g["occ"] = rp_occ
            g["occ_real"] = rp_occ_real


if __name__ == "__main__":
    main()
