#!/usr/bin/env python3
"""replay_ref.py -- recompute the replay metrics (docs/replay.md) in numpy
from the decoded replays and real trajectories that `test_replay --dump DIR`
wrote, and compare them with the C values.

Legend: R replay starts, H horizon steps, G bins per side.

Independent of the C code: the arena masks come from this file's own
polygons (crossing-number test on bin centres), not from arena.c.

Usage: replay_ref.py DIR        (exit status 1 on any mismatch)
"""
import math
import sys

import numpy as np

RTOL = 2e-5  # the C metrics are stored as float32 (%.9g)


def polygon(name, L):
    """Counter-clockwise vertices of the arena (docs/model-task.md)."""
    h = L / 2
    if name == "square":
        return [(-h, -h), (h, -h), (h, h), (-h, h)]
    if name == "triangle":
        k = math.sqrt(3) / 4 * L  # half the height
        return [(-h, -k), (h, -k), (0.0, k)]
    if name == "tmaze":
        w = L / 5
        return [(-w / 2, -h), (w / 2, -h), (w / 2, h - w), (h, h - w), (h, h), (-h, h),
                (-h, h - w), (-w / 2, h - w)]
    raise ValueError(name)


def inside(verts, x, y):
    """Crossing-number point-in-polygon for arrays x, y."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    res = np.zeros(x.shape, bool)
    n = len(verts)
    for i in range(n):
        x1, y1 = verts[i]
        x2, y2 = verts[(i + 1) % n]
        cond = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xc = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        res ^= cond & (x < xc)
    return res


def bins(x, y, box, G):
    """Bin index j * G + i, -1 outside the box (replay_bin's rule)."""
    xmin, xmax, ymin, ymax = box
    x = x.astype(np.float64)
    y = y.astype(np.float64)
    ok = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    with np.errstate(invalid="ignore"):
        i = np.floor((x - xmin) * G / (xmax - xmin))
        j = np.floor((y - ymin) * G / (ymax - ymin))
    i = np.where(ok, np.minimum(i, G - 1), 0).astype(np.int64)
    j = np.where(ok, np.minimum(j, G - 1), 0).astype(np.int64)
    return np.where(ok, j * G + i, -1)


def kl(p, q, mask, smooth):
    """D(P || Q), P = (p / sum p + e) / (1 + n e), e = smooth / n over the mask."""
    p = p[mask].astype(float)
    q = q[mask].astype(float)
    if p.sum() <= 0 or q.sum() <= 0:
        return float("nan")
    n = mask.sum()
    e = smooth / n
    P = (p / p.sum() + e) / (1 + n * e)
    Q = (q / q.sum() + e) / (1 + n * e)
    return float(np.sum(P * np.log(P / Q)))


def check(name, got, want, fails, rtol=RTOL, atol=1e-9):
    ok = (math.isnan(got) and math.isnan(want)) or abs(got - want) <= atol + rtol * abs(want)
    print(f"  {'ok  ' if ok else 'FAIL'} {name:18s} C {got:.9g}  numpy {want:.9g}")
    if not ok:
        fails.append(name)


def one(d, arena, fails):
    meta = {}
    for line in open(f"{d}/{arena}_meta.txt"):
        k, v = line.split()
        meta[k] = v
    R, H, G, burn = (int(meta[k]) for k in ("R", "H", "G", "burn_in"))
    L = float(meta["L"])
    box = tuple(float(meta[k]) for k in ("xmin", "xmax", "ymin", "ymax"))
    smooth = float(meta["smooth"])
    traj = np.fromfile(f"{d}/{arena}_traj.f32", np.float32).reshape(R, H + 1, 2)
    rpos = np.fromfile(f"{d}/{arena}_real_pos.f32", np.float32).reshape(R, H + 1, 2)
    rv = np.fromfile(f"{d}/{arena}_real_v.f32", np.float32).reshape(R, H, 2)
    cmask = np.fromfile(f"{d}/{arena}_mask.u8", np.uint8).reshape(G * G).astype(bool)
    cocc = np.fromfile(f"{d}/{arena}_occ.f32", np.float32).reshape(G * G)
    cocc_real = np.fromfile(f"{d}/{arena}_occ_real.f32", np.float32).reshape(G * G)
    print(f"{arena}: R {R} H {H} G {G} burn-in {burn}")

    # mask from this file's polygons, on bin centres
    xmin, xmax, ymin, ymax = box
    xc = xmin + (np.arange(G) + 0.5) * (xmax - xmin) / G
    yc = ymin + (np.arange(G) + 0.5) * (ymax - ymin) / G
    X, Y = np.meshgrid(xc, yc)  # row = y bin
    mask = inside(polygon(arena, L), X, Y).reshape(G * G)
    if not np.array_equal(mask, cmask):
        print(f"  FAIL mask: {np.sum(mask != cmask)} bins differ")
        fails.append("mask")
    check("n_in", float(meta["n_in"]), float(mask.sum()), fails, 0)

    # real trajectories: occupancy of t = 0..H, mean |v_t|
    rb = bins(rpos[..., 0], rpos[..., 1], box, G).ravel()
    real = np.bincount(rb[rb >= 0], minlength=G * G).astype(float)
    pr = real[mask] / real[mask].sum()
    err = np.max(np.abs(cocc_real[mask] - pr))
    ok = err <= 1e-6 and np.all(np.isnan(cocc_real[~mask]))
    print(f"  {'ok  ' if ok else 'FAIL'} occ_real           max |diff| {err:.3g}")
    if not ok:
        fails.append("occ_real")
    step_cm = 100 * np.mean(np.hypot(rv[..., 0].astype(float), rv[..., 1].astype(float)))
    check("real_step_cm", float(meta["real_step_cm"]), step_cm, fails)

    x = traj.astype(float)
    # speed = mean_{r, t < H} |x_{t+1} - x_t|, cm
    speed = 100 * np.mean(np.hypot(*np.moveaxis(np.diff(x, axis=1), -1, 0)))
    check("speed_cm", float(meta["speed_cm"]), speed, fails)
    check("speed_ratio", float(meta["speed_ratio"]), speed / step_cm, fails)
    # spread = mean_{t >= burn} tr Cov_r(x_t), ddof 1, cm^2
    xs = x[:, burn:, :]
    spread = 1e4 * np.mean(np.var(xs[..., 0], axis=0, ddof=1) + np.var(xs[..., 1], axis=0, ddof=1))
    check("spread_cm2", float(meta["spread_cm2"]), spread, fails)

    # exploration and occupancy
    b = bins(traj[..., 0], traj[..., 1], box, G)  # (R, H+1)
    inb = (b >= 0) & mask[np.maximum(b, 0)]
    outside = 1 - inb.mean()
    n_in = mask.sum()
    covs, taus = [], []
    for r in range(R):
        seen = {}
        for t in range(H + 1):
            if inb[r, t] and b[r, t] not in seen:
                seen[b[r, t]] = t
        covs.append(len(seen) / n_in)
        taus.extend(seen.values())
    check("coverage", float(meta["coverage"]), float(np.mean(covs)), fails)
    check("mean_first_visit", float(meta["mean_first_visit"]), float(np.mean(taus)), fails)
    check("outside", float(meta["outside"]), float(outside), fails)
    bs = b[:, burn:].ravel()
    occ = np.bincount(bs[bs >= 0], minlength=G * G).astype(float)
    po = occ[mask] / occ[mask].sum()
    err = np.max(np.abs(cocc[mask] - po))
    ok = err <= 1e-6 and np.all(np.isnan(cocc[~mask]))
    print(f"  {'ok  ' if ok else 'FAIL'} occ                max |diff| {err:.3g}")
    if not ok:
        fails.append("occ")
    check("kl", float(meta["kl"]), kl(occ, real, mask, smooth), fails)
    check("kl_uniform", float(meta["kl_uniform"]), kl(mask.astype(float), real, mask, smooth), fails)
    # scipy's entropy as a second opinion on the KL formula
    from scipy.stats import entropy
    e = smooth / n_in
    P = (occ[mask] / occ[mask].sum() + e)
    Q = (real[mask] / real[mask].sum() + e)
    check("kl (scipy)", float(meta["kl"]), float(entropy(P, Q)), fails)


def main():
    d = sys.argv[1]
    fails = []
    for arena in ("square", "triangle", "tmaze"):
        mine = []
        one(d, arena, mine)
        fails += [f"{arena}:{x}" for x in mine]
    if fails:
        print(f"replay_ref: {len(fails)} mismatches: {', '.join(fails)}")
        return 1
    print("replay_ref: all metrics agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
