#!/usr/bin/python3
"""study_cueva_wei.py -- the Cueva & Wei 2018 study's unit table and
gallery (docs/studies.md), on top of report.py.

    python3 analysis/study_cueva_wei.py RESULTS.h5 [MORE.h5 ...] -o DIR

Per done task, from /units (score60, grid_p-based classification, border):
  grid_frac, grid_frac_null   as in report.py (plain score60 > threshold;
                              above the network's own shuffle null)
  border_frac                 fraction of units with border score > 0.5
                              (Solstad et al. 2008; docs/spatial.md)
  max_border                  the best unit's border score
  frac_<class>                the unit classes (/tasks; docs/spatial.md,
                              "Classification in a task"): GRID, RAMP, BAND,
                              BORDER, OTHER_SPATIAL, NON_SPATIAL
  null_as_grid, null_as_ramp  of the units above the network's shuffle null
                              (grid_null = 1), the fraction classed GRID and
                              RAMP: what the null alone would have called
                              grid cells
Writes into DIR:
  cw_tasks.csv     the above per task (arena, seed, final_err_cm too)
  cw_groups.csv    mean, s.e.m. and n over seeds per arena
  cw_units.png     per arena (first seed): the 4 best units by score60 and
                   the 4 best by border score, rate maps with their scores
                   (band-like units have no score in the program: judge
                   them by eye here)
  cw_summary.txt   the table in words
"""
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep_results as sr  # noqa: E402

BORDER = 0.5


def main(argv=None):
    a, res = sr.study_cli("Cueva & Wei 2018 study: grid and border units per arena.", argv,
                          lambda ap: ap.add_argument("-k", type=int, default=4, help="units per kind in the gallery"))
    df = res.tasks[res.tasks["status"] == "done"].reset_index(drop=True)
    if df.empty:
        print("study_cueva_wei: no done tasks; nothing to do")
        return 0
    s60 = res.units("score60", df)
    border = res.units("border", df)
    tab = df[["id", "arena", "seed", "hidden", "final_err_cm", "grid_frac", "grid_frac_null",
              "max_score60"]].copy()
    with np.errstate(invalid="ignore"):
        nb = np.isfinite(border).sum(axis=1)
        tab["border_frac"] = np.where(nb > 0, (border > BORDER).sum(axis=1) / np.maximum(nb, 1), np.nan)
    tab["max_border"] = np.nanmax(np.where(np.isfinite(border), border, -np.inf), axis=1)
    names = res.class_names
    cls = res.units("grid_class", df)
    gnull = res.units("grid_null", df)
    for c in names:
        if f"frac_{c.lower()}" in df.columns:
            tab[f"frac_{c.lower()}"] = df[f"frac_{c.lower()}"].to_numpy()
    if cls is not None and gnull is not None and "GRID" in names and "RAMP" in names:
        above = gnull == 1
        n_above = above.sum(axis=1)
        for c in ("GRID", "RAMP"):
            hit = (above & (cls == names.index(c))).sum(axis=1)
            tab[f"null_as_{c.lower()}"] = np.where(n_above > 0, hit / np.maximum(n_above, 1), np.nan)
    for c in ("grid_spacing_cm", "grid_orient_sd_deg", "grid_ellipticity"):
        if c in df.columns:
            tab[c] = df[c].to_numpy()
    tab.to_csv(os.path.join(a.outdir, "cw_tasks.csv"), index=False)
    mets = ["final_err_cm", "grid_frac", "grid_frac_null", "max_score60", "border_frac", "max_border"]
    mets += [c for c in tab.columns if c.startswith(("frac_", "null_as_", "grid_spacing", "grid_orient",
                                                     "grid_ellip"))]
    rows = []
    for ar, sub in tab.groupby("arena"):
        row = {"arena": ar, "n": len(sub)}
        for m in mets:
            v = sub[m].to_numpy(float)
            v = v[np.isfinite(v)]
            row[m + "_mean"] = v.mean() if len(v) else np.nan
            row[m + "_sem"] = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
        rows.append(row)
    grp = pd.DataFrame(rows)
    grp.to_csv(os.path.join(a.outdir, "cw_groups.csv"), index=False)
    lines = [f"cueva_wei: {len(df)} done tasks; per arena, mean over seeds (border unit: border score > {BORDER}):"]
    for _, r in grp.iterrows():
        lines.append(f"  {r['arena']:8s} n={int(r['n'])}: error {r['final_err_cm_mean']:.1f} cm, "
                     f"grid_frac {r['grid_frac_mean']:.3f} / null-based {r['grid_frac_null_mean']:.3f}, "
                     f"max score60 {r['max_score60_mean']:.2f}, border_frac {r['border_frac_mean']:.3f}, "
                     f"max border {r['max_border_mean']:.2f}")
        fr = [f"{c[5:].upper()} {r[c + '_mean']:.3f}" for c in mets if c.startswith("frac_")]
        if fr:
            lines.append("           classes: " + ", ".join(fr))
        if "null_as_grid_mean" in r:
            lines.append(f"           above the null: {r['null_as_grid_mean']:.3f} GRID, "
                         f"{r['null_as_ramp_mean']:.3f} RAMP; GRID units: spacing "
                         f"{r.get('grid_spacing_cm_mean', np.nan):.1f} cm, orientation s.d. "
                         f"{r.get('grid_orient_sd_deg_mean', np.nan):.1f} deg, ellipticity "
                         f"{r.get('grid_ellipticity_mean', np.nan):.2f}")
    sr.write_summary(a.outdir, "cw_summary.txt", lines)

    # gallery: first seed per arena, best k by score60 and best k by border
    arenas = sorted(df["arena"].unique())
    k = a.k
    fig, axs = plt.subplots(len(arenas), 2 * k, figsize=(1.35 * 2 * k + 0.6, 1.55 * len(arenas) + 0.5),
                            squeeze=False)
    for i, ar in enumerate(arenas):
        idx = np.flatnonzero((df["arena"] == ar).to_numpy())
        j = idx[np.argmin(df["seed"].to_numpy()[idx])]
        maps = res.ratemaps(int(df["id"].iloc[j]))
        sc, bo = s60[j], border[j]
        have = np.array(sorted(maps.keys()), dtype=int)
        picks = []
        for vals, name in ((sc, "g"), (bo, "b")):
            if len(have):
                v = np.where(np.isfinite(vals[have]), vals[have], -np.inf)
                best = have[np.argsort(-v)[:k]]
            else:
                best = []
            picks += [(u, name) for u in best] + [(None, name)] * (k - len(best))
        for c, (u, name) in enumerate(picks):
            ax = axs[i, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if u is None:
                ax.axis("off")
                continue
            ax.imshow(np.asarray(maps[u], float).T, origin="lower", cmap="jet")
            ax.set_title(f"u{u} g{sc[u]:.2f} b{bo[u]:.2f}", fontsize=6)
        axs[i, 0].set_ylabel(ar, fontsize=8)
    fig.suptitle(f"Best {k} units by score60 (left) and by border score (right), first seed per arena",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(a.outdir, "cw_units.png"), dpi=80)
    plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
