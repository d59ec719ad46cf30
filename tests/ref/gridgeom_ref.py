#!/usr/bin/python3
"""gridgeom_ref.py -- an independent numpy/scipy implementation of the grid
geometry, the not-a-grid scores and the per-unit classification of
docs/spatial.md ("Grid geometry and classification"), written from the
definitions, and a known-answer test of `sweep score` against it
(tests/t_gridgeom_ref.sh).

Dimensions: U maps (units), G bins per side, K = 2G-1 SAC side.

Usage: gridgeom_ref.py make MAPS.h5       write the known-answer maps
       gridgeom_ref.py check MAPS.h5 OUT.h5 [CSV]
                                          compare `sweep score` output with
                                          this reference and the known answers
Exit status 0 when every check passes.

Definitions (the same as the C side's, written independently):
  SAC, score60: tests/ref/gridscore_ref.py (sac_of, scores_of).
  peaks: SAC pixels with a full 3 x 3 neighbourhood, strictly above their 8
         neighbours and above PEAK_MIN_R, centre excluded; greedy, highest
         first (ties: raster order), a peak is kept when it lies >= MIN_SEP
         bins (integer lags) from the centre and every kept peak.
         Position: least-squares quadratic on the 3 x 3 neighbourhood,
         stationary point (kept at the pixel unless the Hessian is negative
         definite; each offset clipped to [-1, 1]).
  six:   the six kept peaks nearest the centre (refined distance).
  n_peaks = #kept peaks with distance <= RING_RATIO * nearest distance.
  spacing = median distance of the six, x bin_cm.
  orientation = of the six peak directions mod 180 in [-90, 90), the one
         nearest 0 (ties: the negative one), degrees counter-clockwise from
         +x (column) towards +y (row).
  ellipticity: centred conic c0 x^2 + c1 xy + c2 y^2 = 1 fitted to the six
         by least squares; sqrt(eig_min / eig_max) of [[c0, c1/2],
         [c1/2, c2]], NaN unless positive definite.
  angular_sd = population s.d. of the six gaps between consecutive peak
         angles around the circle (degrees).
  band:  v = map - mean(visited), 0 where unvisited, P = |fft2(v)|^2,
         frequency orientation atan2(fy, fx) mod 180 (numpy fftfreq),
         band = max over theta = 0..179 deg of the power within
         +-BAND_HALF_WIDTH deg (circularly, mod 180) / all non-DC power.
  ramp_r2: R^2 of the least-squares plane a + b ix + c iy over the
         visited bins.
  coherence: Pearson correlation of the (symmetrised) pairs of
         4-adjacent visited bins.
  spatial_info (Skaggs et al. 1993) = sum_i p_i (r_i / rbar) log2(r_i /
         rbar) over bins with occupancy > 0 and a rate, p_i = occ_i /
         sum occ, rbar = sum p_i r_i; rates minus their minimum when it is
         negative.
"""
import os
import sys

import numpy as np
import scipy.ndimage
import scipy.signal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gridscore_ref  # noqa: E402  (SAC and score60: an independent scorer)

# defaults of docs/spatial.md
PEAK_MIN_R = 0.0
MIN_SEP = 3.0
RING_RATIO = 1.35
BAND_HALF_WIDTH = 15.0
SCORE60_MIN = 0.3
BAND_MIN = 0.6
RAMP_MIN = 0.5
BORDER_MIN = 0.6
MIN_PERIODS = 1.5
COHERENCE_MIN = 0.5
SI_MIN = 1.0
FIELD_FRAC = 0.3
MIN_BINS = 5
CLASSES = ["NON_SPATIAL", "OTHER_SPATIAL", "BORDER", "BAND", "RAMP", "GRID"]
C = {name: i for i, name in enumerate(CLASSES)}


# ---- reference measures ------------------------------------------------------

def sac_project(rate_map):
    """The SAC of docs/spatial.md: gridscore_ref's Pearson sums, with the
    project's rule for an overlap side that is constant up to rounding
    (variance <= 64 eps * mean square -> 0) instead of numpy's residues."""
    x = np.nan_to_num(np.asarray(rate_map, dtype=np.float64))
    one = np.ones_like(x)
    corr = lambda a, b: scipy.signal.correlate2d(a, b, mode="full")
    n = corr(one, one)
    s_a, s_b = corr(x, one), corr(one, x)
    s_aa, s_bb = corr(x * x, one), corr(one, x * x)
    var_a = s_aa / n - s_a ** 2 / n ** 2
    var_b = s_bb / n - s_b ** 2 / n ** 2
    cov = corr(x, x) / n - s_a * s_b / n ** 2
    eps = 64 * np.finfo(float).eps
    ok = (var_a > eps * s_aa / n) & (var_b > eps * s_bb / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(ok, cov / np.sqrt(np.where(ok, var_a * var_b, 1.0)), 0.0)
    return np.where(np.isfinite(r), r, 0.0)


# score60 of gridscore_ref, on this SAC
gridscore_ref.sac_of = sac_project


def refine(sac, i, j):
    """Stationary point of the least-squares quadratic through the 3 x 3
    neighbourhood of (i, j): -> (di, dj) row and column offsets."""
    yy, xx = np.mgrid[-1:2, -1:2]
    x, y = xx.ravel().astype(float), yy.ravel().astype(float)
    A = np.stack([np.ones(9), x, y, x * x, x * y, y * y], axis=1)
    f = sac[i - 1:i + 2, j - 1:j + 2].ravel()
    c = np.linalg.lstsq(A, f, rcond=None)[0]
    H = np.array([[2 * c[3], c[4]], [c[4], 2 * c[5]]])
    if not np.all(np.linalg.eigvalsh(H) < 0):
        return 0.0, 0.0
    dx, dy = np.linalg.solve(H, -c[1:3])
    return float(np.clip(dy, -1, 1)), float(np.clip(dx, -1, 1))


def peaks_of(sac):
    """-> list of (dy, dx) refined lags of the kept peaks."""
    K = sac.shape[0]
    G = (K + 1) // 2
    foot = np.ones((3, 3), bool)
    foot[1, 1] = False
    nbmax = scipy.ndimage.maximum_filter(sac, footprint=foot, mode="constant",
                                         cval=-np.inf)
    cand = (sac > nbmax) & (sac > PEAK_MIN_R)
    cand[0, :] = cand[-1, :] = cand[:, 0] = cand[:, -1] = False
    cand[G - 1, G - 1] = False
    ii, jj = np.nonzero(cand)
    order = np.lexsort((ii * K + jj, -sac[ii, jj]))
    kept = [(0, 0)]
    for o in order:
        dy, dx = ii[o] - (G - 1), jj[o] - (G - 1)
        if all(np.hypot(dy - ky, dx - kx) >= MIN_SEP for ky, kx in kept):
            kept.append((dy, dx))
    out = []
    for dy, dx in kept[1:]:
        oy, ox = refine(sac, dy + G - 1, dx + G - 1)
        out.append((dy + oy, dx + ox, (dy + G - 1) * K + dx + G - 1))
    return out


def geometry_of(rate_map, bin_cm):
    """-> dict n_peaks, spacing_cm, orientation_deg, ellipticity,
    angular_sd_deg (NaN when fewer than six peaks)."""
    nan = dict(n_peaks=0, spacing_cm=np.nan, orientation_deg=np.nan,
               ellipticity=np.nan, angular_sd_deg=np.nan)
    v = rate_map[~np.isnan(rate_map)]
    if v.size == 0 or v.max() == v.min():
        return nan
    pk = peaks_of(gridscore_ref.sac_of(rate_map))
    if not pk:
        return nan
    pos = np.array([(p[0], p[1]) for p in pk])
    d = np.hypot(pos[:, 0], pos[:, 1])
    order = np.lexsort((np.array([p[2] for p in pk]), d))
    n_peaks = int(np.sum(d <= RING_RATIO * d.min()))
    res = dict(nan, n_peaks=n_peaks)
    if len(pk) < 6:
        return res
    six = pos[order[:6]]
    y, x = six[:, 0], six[:, 1]
    dist = np.hypot(y, x)
    res["spacing_cm"] = float(np.median(dist)) * bin_cm
    ang = np.degrees(np.arctan2(y, x))
    axis = np.mod(ang + 90.0, 180.0) - 90.0
    best = min(axis, key=lambda a: (abs(a), a))
    res["orientation_deg"] = float(best)
    A = np.stack([x * x, x * y, y * y], axis=1)
    c = np.linalg.lstsq(A, np.ones(6), rcond=None)[0]
    ev = np.linalg.eigvalsh(np.array([[c[0], c[1] / 2], [c[1] / 2, c[2]]]))
    res["ellipticity"] = float(np.sqrt(ev[0] / ev[1])) if ev[0] > 0 else np.nan
    a = np.sort(np.mod(ang, 360.0))
    gaps = np.diff(np.append(a, a[0] + 360.0))
    res["angular_sd_deg"] = float(np.std(gaps))
    return res


def band_of(rate_map):
    G = rate_map.shape[0]
    vis = ~np.isnan(rate_map)
    if not vis.any():
        return np.nan
    v = np.where(vis, rate_map - rate_map[vis].mean(), 0.0)
    P = np.abs(np.fft.fft2(v)) ** 2
    f = np.fft.fftfreq(G)
    fy, fx = np.meshgrid(f, f, indexing="ij")
    phi = np.mod(np.degrees(np.arctan2(fy, fx)), 180.0)
    nondc = ~((fy == 0) & (fx == 0))
    total = P[nondc].sum()
    if not total > 0:
        return np.nan
    best = 0.0
    for theta in range(180):
        dd = np.abs(phi - theta)
        dd = np.minimum(dd, 180.0 - dd)
        best = max(best, P[nondc & (dd <= BAND_HALF_WIDTH + 1e-9)].sum() / total)
    return best


def ramp_of(rate_map):
    vis = ~np.isnan(rate_map)
    iy, ix = np.nonzero(vis)
    z = rate_map[vis].astype(float)
    if z.size < 3:
        return np.nan
    A = np.stack([np.ones(z.size), ix, iy], axis=1).astype(float)
    if np.linalg.matrix_rank(A) < 3:
        return np.nan
    coef = np.linalg.lstsq(A, z, rcond=None)[0]
    ss_tot = np.sum((z - z.mean()) ** 2)
    if not ss_tot > 0:
        return np.nan
    return 1.0 - np.sum((z - A @ coef) ** 2) / ss_tot


def coherence_of(rate_map):
    a = np.concatenate([rate_map[:, :-1].ravel(), rate_map[:-1, :].ravel()])
    b = np.concatenate([rate_map[:, 1:].ravel(), rate_map[1:, :].ravel()])
    ok = ~np.isnan(a) & ~np.isnan(b)
    if not ok.any():
        return np.nan
    x = np.concatenate([a[ok], b[ok]])
    y = np.concatenate([b[ok], a[ok]])
    r = np.corrcoef(x, y)[0, 1] if x.std() > 0 else np.nan
    return r


def spatial_info_of(rate_map, occ):
    ok = ~np.isnan(rate_map) & (occ > 0)
    if not ok.any():
        return np.nan
    r = rate_map[ok].astype(float)
    if r.min() < 0:
        r = r - r.min()
    p = occ[ok] / occ[ok].sum()
    rbar = np.sum(p * r)
    if not rbar > 0:
        return np.nan
    q = r / rbar
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(q > 0, q * np.log2(q), 0.0)
    return float(np.sum(p * t))


def measures_of(rate_map, bin_cm, occ):
    masks = gridscore_ref.ring_masks(rate_map.shape[0])
    s60, s90 = gridscore_ref.scores_of(rate_map, masks, "mean_diff")[:2]
    v = rate_map[~np.isnan(rate_map)]
    m = dict(score60=s60, score90=s90, flat=v.size == 0 or v.max() == v.min())
    m.update(geometry_of(rate_map, bin_cm))
    m["band"] = band_of(rate_map)
    m["ramp_r2"] = ramp_of(rate_map)
    m["border"] = gridscore_ref.border_of(rate_map, FIELD_FRAC, MIN_BINS)
    m["coherence"] = coherence_of(rate_map)
    m["spatial_info"] = spatial_info_of(rate_map, occ) if occ is not None else np.nan
    return m


def class_of(m, G, bin_cm, thr=SCORE60_MIN):
    """The rule of docs/spatial.md, comparisons written out again."""
    if np.isnan(m["score60"]) or m["flat"]:
        return C["NON_SPATIAL"]
    ramp = m["ramp_r2"] >= RAMP_MIN
    band = m["band"] >= BAND_MIN
    fits = m["spacing_cm"] * MIN_PERIODS <= G * bin_cm
    if m["score60"] > thr and m["n_peaks"] == 6 and fits and not ramp and not band:
        return C["GRID"]
    if ramp:
        return C["RAMP"]
    if m["border"] > BORDER_MIN:
        return C["BORDER"]
    if band:
        return C["BAND"]
    if m["coherence"] >= COHERENCE_MIN or m["spatial_info"] >= SI_MIN:
        return C["OTHER_SPATIAL"]
    return C["NON_SPATIAL"]


# ---- known-answer maps -------------------------------------------------------

def lattice_vectors(spacing, orient_deg, stretch=1.0, stretch_deg=0.0):
    """The six nearest lattice vectors (x, y) in bins of a hexagonal lattice
    with the given spacing and orientation, then stretched by T =
    R(stretch_deg) diag(1, stretch) R(-stretch_deg)."""
    ang = np.radians(orient_deg + 60.0 * np.arange(6))
    a = spacing * np.stack([np.cos(ang), np.sin(ang)], axis=1)
    return a @ stretch_matrix(stretch, stretch_deg).T


def stretch_matrix(stretch, stretch_deg):
    c, s = np.cos(np.radians(stretch_deg)), np.sin(np.radians(stretch_deg))
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag([1.0, stretch]) @ R.T


def hex_map(G, spacing, orient_deg, phase, stretch=1.0, stretch_deg=0.0):
    """Rectified sum of three cosines; wave vectors at orient + 30 + 60 j,
    |k| = 4 pi / (sqrt(3) spacing); the map is evaluated at T^-1 r so its
    lattice is the stretched one."""
    iy, ix = np.indices((G, G), dtype=float)
    r = np.stack([ix + 0.5 - phase[0], iy + 0.5 - phase[1]], axis=-1)
    r = r @ np.linalg.inv(stretch_matrix(stretch, stretch_deg)).T
    k = 4 * np.pi / (np.sqrt(3) * spacing)
    f = np.zeros((G, G))
    for j in range(3):
        t = np.radians(orient_deg + 30.0 + 60.0 * j)
        f += np.cos(k * (np.cos(t) * r[..., 0] + np.sin(t) * r[..., 1]))
    return np.maximum(f, 0.0)


def square_map(G, spacing, orient_deg, phase):
    iy, ix = np.indices((G, G), dtype=float)
    x, y = ix + 0.5 - phase[0], iy + 0.5 - phase[1]
    k = 2 * np.pi / spacing
    t = np.radians(orient_deg)
    u, w = np.cos(t) * x + np.sin(t) * y, -np.sin(t) * x + np.cos(t) * y
    return np.maximum(np.cos(k * u) + np.cos(k * w), 0.0)


def band_map(G, period, angle_deg, phase):
    iy, ix = np.indices((G, G), dtype=float)
    t = np.radians(angle_deg)
    u = np.cos(t) * (ix + 0.5) + np.sin(t) * (iy + 0.5)
    return np.maximum(np.cos(2 * np.pi * (u - phase) / period), 0.0)


def ramp_map(G, angle_deg, offset):
    iy, ix = np.indices((G, G), dtype=float)
    t = np.radians(angle_deg)
    return offset + np.cos(t) * ix + np.sin(t) * iy


def border_map(G, wall, width):
    iy, ix = np.indices((G, G), dtype=float)
    d = [ix, G - 1 - ix, iy, G - 1 - iy][wall]
    return np.exp(-d / width)


def make(path, seed=12345):
    import h5py
    rng = np.random.default_rng(seed)
    G, bin_cm = 40, 2.5
    maps, kind, truth = [], [], []

    def add(m, k, t=None):
        maps.append(m)
        kind.append(k)
        truth.append(t if t is not None else [np.nan] * 3)

    for spacing in (6.0, 8.0, 10.0, 12.0):
        for orient in (-25.0, -10.0, 0.0, 7.0, 20.0):
            ph = rng.uniform(0, spacing, 2)
            add(hex_map(G, spacing, orient, ph), "hex", [spacing, orient, 1.0])
    for stretch in (0.9, 0.8):
        for sdeg in (0.0, 35.0, 70.0):
            spacing = 9.0
            orient = rng.uniform(-20, 20)
            add(hex_map(G, spacing, orient, rng.uniform(0, 9, 2), stretch, sdeg),
                "hex_stretch", [spacing, orient, stretch, sdeg])
    for spacing in (7.0, 10.0):
        for orient in (0.0, 20.0):
            add(square_map(G, spacing, orient, rng.uniform(0, spacing, 2)), "square")
    for period in (6.0, 9.0, 12.0):
        for ang in (0.0, 25.0, 45.0, 80.0, 120.0, 160.0):
            add(band_map(G, period, ang, rng.uniform(0, period)), "band")
    for ang in range(0, 181, 5):
        add(ramp_map(G, float(ang), rng.uniform(-3, 3)), "ramp")
    for wall in range(4):
        for width in (1.5, 3.0):
            add(border_map(G, wall, width), "border")
    for _ in range(40):
        add(rng.standard_normal((G, G)), "noise")
    # unvisited bins: a hexagonal lattice and a ramp with holes
    for spacing, orient in ((8.0, 5.0), (10.0, -15.0)):
        m = hex_map(G, spacing, orient, rng.uniform(0, spacing, 2))
        m[rng.uniform(size=(G, G)) < 0.08] = np.nan
        add(m, "hex_holes", [spacing, orient, 1.0])
    m = hex_map(G, 9.0, 12.0, rng.uniform(0, 9, 2))
    m[30:, 30:] = np.nan
    add(m, "hex_holes", [9.0, 12.0, 1.0])
    for ang in (30.0, 60.0):
        m = ramp_map(G, ang, 0.0)
        m[rng.uniform(size=(G, G)) < 0.1] = np.nan
        add(m, "ramp_holes")
    # degenerate: flat and empty
    add(np.full((G, G), 2.0), "flat")
    add(np.full((G, G), np.nan), "empty")

    maps = np.array(maps)
    occ = rng.uniform(0.5, 2.0, (G, G))
    with h5py.File(path, "w") as f:
        d = f.create_dataset("ratemaps", data=maps.astype(np.float32))
        d.attrs["bin_cm"] = bin_cm
        f.create_dataset("occupancy", data=occ)
        f.create_dataset("kind", data=np.array(kind, dtype="S"))
        tr = np.full((len(truth), 4), np.nan)
        for i, t in enumerate(truth):
            tr[i, :len(t)] = t
        f.create_dataset("truth", data=tr)
    print(f"wrote {len(maps)} maps (G = {G}) to {path}")


# ---- check -------------------------------------------------------------------

def angdiff(a, b, period):
    d = np.mod(a - b + period / 2, period) - period / 2
    return abs(d)


def check(maps_path, out_path, csv_path=None):
    import h5py
    with h5py.File(maps_path, "r") as f:
        maps = f["ratemaps"][...].astype(np.float64)
        bin_cm = float(f["ratemaps"].attrs["bin_cm"])
        occ = f["occupancy"][...]
        kind = [k.decode() for k in f["kind"][...]]
        truth = f["truth"][...]
    with h5py.File(out_path, "r") as f:
        u = f["units"]
        c = {k: u[k][...] for k in u}
        names = [s.decode() if isinstance(s, bytes) else s
                 for s in u["grid_class"].attrs["classes"]]
    if names != CLASSES:
        print(f"FAIL class names {names} != {CLASSES}")
        return 1
    U, G = maps.shape[0], maps.shape[1]
    fails = 0
    worst = {}

    def bad(msg):
        nonlocal fails
        fails += 1
        if fails <= 40:
            print("FAIL", msg)

    def diff(key, i, a, b, tol):
        if np.isnan(a) and np.isnan(b):
            return
        e = abs(a - b) if not (np.isnan(a) or np.isnan(b)) else np.inf
        worst[key] = max(worst.get(key, 0.0), e)
        if not e <= tol:
            bad(f"unit {i} ({kind[i]}): {key} C {a} ref {b}")

    cls_ref = np.zeros(U, int)
    for i in range(U):
        m = measures_of(maps[i], bin_cm, occ)
        cls_ref[i] = class_of(m, G, bin_cm)
        for key, tol in (("score60", 1e-4), ("score90", 1e-4), ("band", 1e-4),
                         ("ramp_r2", 1e-5), ("border", 1e-5), ("coherence", 1e-5),
                         ("spatial_info", 1e-5)):
            diff(key, i, float(c[key][i]), float(m[key]), tol)
        # geometry: where the SAC has exact ridges (ramps, wall fields: maps
        # constant along a line) its maxima are rounding noise, and noise
        # maps have near-ties; compare it where the peaks are real
        if kind[i] in ("hex", "hex_stretch", "hex_holes", "square", "band"):
            if int(c["n_peaks"][i]) != m["n_peaks"]:
                bad(f"unit {i} ({kind[i]}): n_peaks C {c['n_peaks'][i]} ref {m['n_peaks']}")
            diff("spacing_cm", i, float(c["spacing_cm"][i]), m["spacing_cm"], 1e-4)
            if not m["ellipticity"] < 0.05:   # (nearly) collinear peaks: ill-posed
                diff("ellipticity", i, float(c["ellipticity"][i]), m["ellipticity"], 1e-4)
            diff("angular_sd_deg", i, float(c["angular_sd_deg"][i]), m["angular_sd_deg"], 1e-3)
            a, b = float(c["orientation_deg"][i]), m["orientation_deg"]
            if not (np.isnan(a) and np.isnan(b)):
                e = angdiff(a, b, 180.0) if not (np.isnan(a) or np.isnan(b)) else np.inf
                worst["orientation_deg"] = max(worst.get("orientation_deg", 0), e)
                if not e <= 1e-3:
                    bad(f"unit {i} ({kind[i]}): orientation C {a} ref {b}")
        if int(c["grid_class"][i]) != cls_ref[i]:
            bad(f"unit {i} ({kind[i]}): class C {names[c['grid_class'][i]]} "
                f"ref {names[cls_ref[i]]}")

    # known answers, on the C output (which equals the reference above)
    cls = c["grid_class"].astype(int)
    kw = {}
    for i in range(U):
        k = kind[i]
        if k in ("hex", "hex_stretch", "hex_holes"):
            spacing, orient = truth[i, 0], truth[i, 1]
            stretch = truth[i, 2]
            sdeg = truth[i, 3] if k == "hex_stretch" else 0.0
            vec = lattice_vectors(spacing, orient, stretch, sdeg)
            d = np.hypot(vec[:, 0], vec[:, 1])
            axis = np.mod(np.degrees(np.arctan2(vec[:, 1], vec[:, 0])) + 90, 180) - 90
            want_sp = np.median(d) * bin_cm
            want_or = min(axis, key=lambda a: (abs(a), a))
            e_sp = abs(c["spacing_cm"][i] - want_sp) / bin_cm
            e_or = angdiff(c["orientation_deg"][i], want_or, 60.0 if stretch == 1 else 180.0)
            e_el = abs(c["ellipticity"][i] - stretch)
            for key, e, tol in (("spacing_bins", e_sp, 1.0), ("orientation", e_or, 3.0),
                                ("ellipticity", e_el, 0.05)):
                kw[key] = max(kw.get(key, 0.0), e)
                if not e <= tol:
                    bad(f"unit {i} ({k}, truth {truth[i]}): {key} error {e} > {tol}")
            if stretch == 1.0:
                kw["angular_sd"] = max(kw.get("angular_sd", 0.0), c["angular_sd_deg"][i])
                if not c["angular_sd_deg"][i] <= 3.0:
                    bad(f"unit {i} ({k}): angular_sd {c['angular_sd_deg'][i]} > 3")
            if c["n_peaks"][i] != 6:
                bad(f"unit {i} ({k}): n_peaks {c['n_peaks'][i]} != 6")
            # score60 itself drops below 0.3 at ellipticity 0.8 (about 0.15)
            if stretch >= 0.9 and cls[i] != C["GRID"]:
                bad(f"unit {i} ({k}, truth {truth[i]}): class {names[cls[i]]}, want GRID")
        elif k == "square":
            if c["n_peaks"][i] == 6 or cls[i] == C["GRID"]:
                bad(f"unit {i} (square): n_peaks {c['n_peaks'][i]} class {names[cls[i]]}")
        elif k == "band":
            if cls[i] != C["BAND"]:
                bad(f"unit {i} (band): class {names[cls[i]]}, want BAND (band {c['band'][i]})")
        elif k in ("ramp", "ramp_holes"):
            if cls[i] == C["GRID"]:
                bad(f"unit {i} ({k}): a ramp classified GRID")
            if cls[i] != C["RAMP"]:
                bad(f"unit {i} ({k}): class {names[cls[i]]}, want RAMP")
        elif k == "border":
            if cls[i] != C["BORDER"]:
                bad(f"unit {i} (border): class {names[cls[i]]}, want BORDER")
        elif k in ("flat", "empty"):
            if cls[i] != C["NON_SPATIAL"] or not np.isnan(c["score60"][i]):
                bad(f"unit {i} ({k}): class {names[cls[i]]}")
    noise = [i for i in range(U) if kind[i] == "noise"]
    frac_ns = np.mean([cls[i] == C["NON_SPATIAL"] for i in noise])
    frac_grid = np.mean([cls[i] == C["GRID"] for i in noise])
    if not (frac_ns >= 0.9 and frac_grid <= 0.05):
        bad(f"noise: {frac_ns:.2f} NON_SPATIAL (want >= 0.9), {frac_grid:.2f} GRID (want <= 0.05)")
    # the threshold attributes
    with h5py.File(out_path, "r") as f:
        a = f["units"]["grid_class"].attrs
        for key, want in (("score60_min", SCORE60_MIN), ("band_min", BAND_MIN),
                          ("ramp_min", RAMP_MIN), ("border_min", BORDER_MIN)):
            if key not in a or abs(float(a[key]) - want) > 1e-12:
                bad(f"attribute {key} missing or not {want}")
    if csv_path:
        lines = open(csv_path).read().splitlines()
        if len(lines) != U + 1 or not lines[0].startswith("unit,"):
            bad(f"csv: {len(lines)} lines, header {lines[0][:40]!r}")
        else:
            hdr = lines[0].split(",")
            for i in (0, U // 2, U - 1):
                row = dict(zip(hdr, lines[i + 1].split(",")))
                if row["grid_class"] != names[cls[i]] or int(row["unit"]) != i:
                    bad(f"csv row {i}: {row}")
    counts = {n: int(np.sum(cls == C[n])) for n in CLASSES}
    print(f"{U} maps; classes {counts}; noise {frac_ns:.2f} NON_SPATIAL, "
          f"{frac_grid:.2f} GRID")
    print("worst |C - ref|: " + ", ".join(f"{k} {v:.2g}" for k, v in worst.items()))
    print("worst known-answer error: " + ", ".join(f"{k} {v:.3g}" for k, v in kw.items()))
    print("FAIL" if fails else "ok", f"({fails} failures)")
    return 1 if fails else 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "make":
        make(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) in (4, 5) and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
