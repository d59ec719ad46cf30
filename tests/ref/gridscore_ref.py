#!/usr/bin/python3
"""gridscore_ref.py -- an independent numpy/scipy implementation of the 2018
DeepMind grid scorer (Banino et al. 2018, scores.py; Sorscher et al. 2019)
and of binned_statistic_2d rate maps, checked against the C side's dump
(tests/test_spatial --dump DIR; see tests/t_gridscore_ref.sh).

Dimensions: M maps, G bins per side, K = 2G-1 SAC side, n samples, N units.

Usage: gridscore_ref.py DIR        (reads DIR/maps_G*.bin and DIR/ratemap.bin)
       gridscore_ref.py --h5 FILE  (a sweep result file: the stored /units
                                    scores of every task that saved rate maps)
Exit status 0 when every check passes.

The algorithm (as published):
  SAC: NaN -> 0; at every lag, Pearson correlation over the overlapping
       bins (every bin counts, unvisited ones as 0), from sums computed by
       correlate2d; 0/0 -> 0 (numpy.nan_to_num).
  rotations: scipy.ndimage.rotate(sac, a, reshape=False), defaults order=3,
       mode='constant', cval=0, for a in 30, 45, 60, 90, 120, 135, 150.
  masks: integer lags, sqrt(dx^2+dy^2); ring k: 0.2 G < r <= ends[k] G,
       ends = linspace(0.4, 1.0, 10).
  per mask: m = mean(sac), var = mean((sac-m)^2) + 1e-5,
       c_a = mean((sac-m)(rot_a-m)) / var;  score60 mean_diff
       (c60+c120)/2 - (c30+c90+c150)/3, or min_max min(c60,c120) -
       max(c30,c90,c150); score90 = c90 - (c45+c135)/2; max over masks.
  Project rule: a map whose visited bins are all equal (or none) -> NaN.
Border score: border_of (Solstad et al. 2008 with docs/spatial.md's
conventions), labelled with scipy.ndimage.label.
"""
import glob
import os
import sys

import numpy as np
import scipy.ndimage
import scipy.signal
import scipy.stats

ANGLES = (30, 45, 60, 90, 120, 135, 150)
TOL_SCORE = 1e-3
TOL_SAC = 1e-6


def sac_of(rate_map):
    """(G, G) -> (2G-1, 2G-1) autocorrelogram."""
    x = np.nan_to_num(np.asarray(rate_map, dtype=np.float64))
    one = np.ones_like(x)
    corr = lambda a, b: scipy.signal.correlate2d(a, b, mode="full")
    n = corr(one, one)
    s_xy = corr(x, x)
    s_a = corr(x, one)          # sum over the first member of each pair
    s_b = corr(one, x)          # over the second
    s_aa = corr(x * x, one)
    s_bb = corr(one, x * x)
    with np.errstate(divide="ignore", invalid="ignore"):
        sd_a = np.sqrt(s_aa / n - s_a ** 2 / n ** 2)
        sd_b = np.sqrt(s_bb / n - s_b ** 2 / n ** 2)
        cov = s_xy / n - s_a * s_b / n ** 2
        r = cov / (sd_a * sd_b)
    return np.nan_to_num(r)


def ring_masks(G):
    K = 2 * G - 1
    lag = np.arange(K, dtype=np.float64) - (G - 1)
    dist = np.sqrt(lag[None, :] ** 2 + lag[:, None] ** 2)
    outer = np.linspace(0.4, 1.0, 10) * G
    inner = 0.2 * G
    return [(dist <= r) & ~(dist <= inner) for r in outer]


def scores_of(rate_map, masks, variant):
    """-> score60, score90, index of the mask that won score60."""
    v = rate_map[~np.isnan(rate_map)]
    if v.size == 0 or v.max() == v.min():
        return np.nan, np.nan, -1
    sac = sac_of(rate_map)
    rots = {a: scipy.ndimage.rotate(sac, a, reshape=False) for a in ANGLES}
    s60s, s90s = [], []
    for mask in masks:
        ring = sac[mask]
        m = ring.mean()
        var = np.mean((ring - m) ** 2) + 1e-5
        c = {a: np.mean((ring - m) * (rots[a][mask] - m)) / var for a in ANGLES}
        if variant == "min_max":
            s60 = min(c[60], c[120]) - max(c[30], c[90], c[150])
        else:
            s60 = (c[60] + c[120]) / 2 - (c[30] + c[90] + c[150]) / 3
        s60s.append(s60)
        s90s.append(c[90] - (c[45] + c[135]) / 2)
    s60s = np.array(s60s)
    k = int(np.argmax(s60s))
    return s60s[k], max(s90s), k, s60s


def border_of(rate_map, field_frac=0.3, min_bins=5):
    """Solstad et al. 2008 border score, the project's conventions
    (docs/spatial.md): rates minus the map minimum, fields = 4-connected
    visited bins above field_frac * peak with >= min_bins bins, c_M over
    walls (coverage / visited wall bins), d_M rate-weighted bin-centre
    distance to the nearest wall over G/2."""
    G = rate_map.shape[0]
    vis = ~np.isnan(rate_map)
    if not vis.any():
        return np.nan
    lo, hi = rate_map[vis].min(), rate_map[vis].max()
    if not hi > lo:
        return np.nan
    r = np.where(vis, rate_map - lo, 0.0)
    above = vis & (r > field_frac * (hi - lo))
    lab, nlab = scipy.ndimage.label(above)          # 4-connectivity in 2-D
    iy, ix = np.indices((G, G))
    dist = np.minimum.reduce([ix + 0.5, G - 0.5 - ix, iy + 0.5, G - 0.5 - iy])
    walls = [iy == 0, iy == G - 1, ix == 0, ix == G - 1]
    c_m, keep = 0.0, np.zeros((G, G), bool)
    for k in range(1, nlab + 1):
        field = lab == k
        if field.sum() < min_bins:
            continue
        keep |= field
        for w in walls:
            nw = np.sum(vis & w)
            if nw > 0:
                c_m = max(c_m, np.sum(field & w) / nw)
    if not keep.any():
        return np.nan
    d_m = np.sum(r[keep] * dist[keep]) / np.sum(r[keep]) / (G / 2)
    return (c_m - d_m) / (c_m + d_m)


def check_h5(path):
    """Scores stored by a sweep run (/units) against the reference, for
    every done task that saved its rate maps."""
    import h5py
    fails, n = 0, 0
    worst = [0.0, 0.0, 0.0]
    with h5py.File(path, "r") as f:
        tasks = f["tasks"][:]
        for t, row in enumerate(tasks):
            status = row["status"]
            status = status.decode() if isinstance(status, bytes) else int(status)
            if status not in ("done", 1) or row["save_ratemaps"] in (b"none", 0):
                continue
            variant = row["score_variant"]
            variant = variant.decode() if isinstance(variant, bytes) else ("mean_diff", "min_max")[int(variant)]
            G = int(row["ratemap_bins"])
            masks = ring_masks(G)
            units = f["units/ratemap_unit"][t]
            maps = f["units/ratemaps"][t]
            for m, u in enumerate(units):
                if u < 0:
                    continue
                rm = maps[m].astype(np.float64)
                r = scores_of(rm, masks, variant)
                b = border_of(rm, float(row["border_field_frac"]), int(row["border_min_bins"]))
                c60, c90 = f["units/score60"][t, u], f["units/score90"][t, u]
                cm, cb = f["units/mask60"][t, u], f["units/border"][t, u]
                ok = (close_or_both_nan(r[0], c60, TOL_SCORE) and close_or_both_nan(r[1], c90, TOL_SCORE)
                      and close_or_both_nan(b, cb, 1e-5))
                if r[2] == -1:
                    ok = ok and cm == -1
                else:
                    worst[0] = max(worst[0], abs(r[0] - c60))
                    worst[1] = max(worst[1], abs(r[1] - c90))
                    ok = ok and (cm == r[2] or r[3][cm] >= r[0] - 1e-6)
                if not np.isnan(b):
                    worst[2] = max(worst[2], abs(b - cb))
                n += 1
                if not ok:
                    fails += 1
                    print(f"{path} task {t} unit {u}: C {c60} {c90} {cm} {cb}; ref {r[0]} {r[1]} {r[2]} {b}")
    print(f"{os.path.basename(path)}: {n} stored maps, worst |C - ref| score60 {worst[0]:.2e}, "
          f"score90 {worst[1]:.2e}, border {worst[2]:.2e}")
    if n == 0:
        print("no stored rate maps to check")
        fails += 1
    return fails, n


def read_maps(path):
    with open(path, "rb") as f:
        G, M = np.fromfile(f, np.int32, 2)
        K = 2 * G - 1
        d = {"G": int(G), "M": int(M)}
        d["maps"] = np.fromfile(f, np.float32, M * G * G).reshape(M, G, G)
        for key, dt in (("s60", np.float32), ("s90", np.float32), ("m60", np.int32),
                        ("t60", np.float32), ("t90", np.float32), ("n60", np.int32),
                        ("border", np.float32)):
            d[key] = np.fromfile(f, dt, M)
        d["sac"] = np.fromfile(f, np.float64, M * K * K).reshape(M, K, K)
        if f.read(1):
            raise ValueError(path + ": trailing bytes")
    return d


def close_or_both_nan(a, b, tol):
    if np.isnan(a) or np.isnan(b):
        return np.isnan(a) and np.isnan(b)
    return abs(a - b) <= tol


def check_maps(path):
    d = read_maps(path)
    G, M = d["G"], d["M"]
    masks = ring_masks(G)
    fails = 0
    worst = {"s60": 0.0, "s90": 0.0, "t60": 0.0, "t90": 0.0, "sac": 0.0}
    scored = 0
    worst_b = 0.0
    for i in range(M):
        rm = d["maps"][i].astype(np.float64)
        b = border_of(rm)
        if not close_or_both_nan(b, d["border"][i], 1e-5):
            fails += 1
            print(f"{path} map {i}: border C {d['border'][i]} ref {b}")
        elif not np.isnan(b):
            worst_b = max(worst_b, abs(b - d["border"][i]))
        sac = sac_of(rm)
        dsac = np.max(np.abs(sac - d["sac"][i]))
        worst["sac"] = max(worst["sac"], dsac)
        if dsac > TOL_SAC:
            fails += 1
            print(f"{path} map {i}: SAC differs by {dsac:.3g}")
        for variant, k60, k90, km in (("mean_diff", "s60", "s90", "m60"),
                                      ("min_max", "t60", "t90", "n60")):
            r = scores_of(rm, masks, variant)
            c60, c90, cm = d[k60][i], d[k90][i], d[km][i]
            ok = close_or_both_nan(r[0], c60, TOL_SCORE) and close_or_both_nan(r[1], c90, TOL_SCORE)
            if r[2] == -1:
                ok = ok and cm == -1
            else:
                scored += 1
                worst[k60] = max(worst[k60], abs(r[0] - c60))
                worst[k90] = max(worst[k90], abs(r[1] - c90))
                # the winning mask must agree unless two masks tie within 1e-6
                ok = ok and 0 <= cm < 10 and (cm == r[2] or r[3][cm] >= r[0] - 1e-6)
            if not ok:
                fails += 1
                print(f"{path} map {i} {variant}: C {c60:.6f} {c90:.6f} mask {cm}; "
                      f"ref {r[0]:.6f} {r[1]:.6f} mask {r[2]}")
    print(f"{os.path.basename(path)}: G={G}, {M} maps ({scored} scored pairs), worst |C - ref|: "
          f"score60 {worst['s60']:.2e}, score90 {worst['s90']:.2e}, "
          f"min_max score60 {worst['t60']:.2e}, score90 {worst['t90']:.2e}, SAC {worst['sac']:.2e}, "
          f"border {worst_b:.2e}")
    return fails, M


def check_ratemap(path):
    with open(path, "rb") as f:
        n, N, G = (int(v) for v in np.fromfile(f, np.int32, 3))
        xmin, xmax, ymin, ymax = np.fromfile(f, np.float64, 4)
        pos = np.fromfile(f, np.float32, n * 2).reshape(n, 2).astype(np.float64)
        act = np.fromfile(f, np.float32, n * N).reshape(n, N).astype(np.float64)
        maps = np.fromfile(f, np.float32, N * G * G).reshape(N, G, G)
        counts = np.fromfile(f, np.int32, G * G).reshape(G, G)
    fails = 0
    rng = [[xmin, xmax], [ymin, ymax]]
    cnt = scipy.stats.binned_statistic_2d(pos[:, 0], pos[:, 1], None, "count",
                                          bins=G, range=rng)[0].T
    if not np.array_equal(cnt, counts):
        fails += 1
        print(f"ratemap counts differ in {np.sum(cnt != counts)} bins")
    worst = 0.0
    for u in range(N):
        ref = scipy.stats.binned_statistic_2d(pos[:, 0], pos[:, 1], act[:, u], "mean",
                                              bins=G, range=rng)[0].T   # (y, x)
        if not np.array_equal(np.isnan(ref), np.isnan(maps[u])):
            fails += 1
            print(f"ratemap unit {u}: unvisited bins differ")
            continue
        ok = ~np.isnan(ref)
        worst = max(worst, float(np.max(np.abs(ref[ok] - maps[u][ok]))))
    if worst > 1e-5:
        fails += 1
    print(f"ratemap.bin: n={n}, N={N}, G={G}, {int(np.sum(counts == 0))} unvisited bins, "
          f"worst |C - binned_statistic_2d| {worst:.2e}")
    return fails


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--h5":
        fails, n = check_h5(sys.argv[2])
        print(f"gridscore_ref --h5: {n} maps, {fails} failures")
        return 1 if fails else 0
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    fails, total = 0, 0
    files = sorted(glob.glob(os.path.join(sys.argv[1], "maps_G*.bin")))
    if not files:
        print("no maps_G*.bin in", sys.argv[1])
        return 1
    for p in files:
        f, m = check_maps(p)
        fails += f
        total += m
    fails += check_ratemap(os.path.join(sys.argv[1], "ratemap.bin"))
    if total < 100:
        print(f"only {total} maps compared (want >= 100)")
        fails += 1
    print(f"gridscore_ref: {total} maps, {fails} failures")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
