#!/usr/bin/python3
"""study_grid_positive_control.py -- the grid positive control's own tables
and figures (docs/studies.md section 7), on top of report.py.

    python3 analysis/study_grid_positive_control.py RESULTS.h5 [MORE.h5 ...] -o DIR
            [--plateau-frac 0.5] [--min-grid-frac 0.1] [--max-orient-sd 10]

A positive control answers one question per network: did it grow grid
cells?  Per done task:

  n_units, n_grid     units, and units classed GRID (score60 above the
                      network's shuffle-null threshold, six SAC peaks, not a
                      band, not a ramp, a spacing that fits; docs/spatial.md)
  frac_grid           n_grid / n_units
  spacing_cm, spacing_cv, orient_sd_deg
                      median spacing of the GRID units, its coefficient of
                      variation, and the circular s.d. of their orientation
                      (mod 60 deg): one lattice shared by the units gives a
                      small CV and a small s.d.
  spacing_pred_cm     the spacing the target code predicts: the place-cell
                      code's power spectrum (difference of two unit-mass
                      Gaussians, sigma^2 and s sigma^2) peaks at
                          k* = sqrt(2 ln s / ((s - 1) sigma^2))   (rad/m)
                      and a hexagonal lattice of wave number k* has the
                      spacing 4 pi / (sqrt(3) k*) (Sorscher et al. 2019,
                      the pattern-forming account); NaN for other targets
  plateau_exit_step   first logged step at which the training error falls
                      below --plateau-frac x its value at step 0 (chance):
                      the step at which the network leaves its initial
                      plateau; NaN if it never does
  grid_step           first snapshot step (eval.snapshot_every) whose GRID
                      fraction (snapshot classes: fixed score60 threshold,
                      no null) reaches --min-grid-frac; NaN if none
  grown               frac_grid >= --min-grid-frac and orient_sd_deg <=
                      --max-orient-sd: GRID units well above the null's
                      false-positive rate (at most 1 - null_percentile, 5 %)
                      that share one orientation

Writes into DIR:
  gpc_tasks.csv      the above per task, with the sweep's axes
  gpc_groups.csv     mean, s.e.m. and n over seeds per group (axes but seed)
  gpc_units.png      per task (at most 8), its best GRID units: rate map
                     and autocorrelogram with the six fitted peaks
  gpc_training.png   training error and GRID fraction against the step,
                     one line per task
  gpc_summary.txt    the verdict per group in words

Only numpy, pandas, matplotlib (Agg) and analysis/sweep_results.py.
"""
import math
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep_results as sr  # noqa: E402

METRICS = ["final_err_cm", "frac_grid", "n_grid", "max_score60", "spacing_cm", "spacing_cv", "orient_sd_deg",
           "plateau_exit_step", "grid_step"]


def predicted_spacing_cm(sigma, s):
    """Spacing (cm) of the hexagonal lattice at the DoG code's spectral peak."""
    if not (sigma > 0 and s > 1):
        return float("nan")
    k = math.sqrt(2.0 * math.log(s) / ((s - 1.0) * sigma * sigma))
    return 100.0 * 4.0 * math.pi / (math.sqrt(3.0) * k)


def circ_sd_60(deg):
    """Circular s.d. (deg) of orientations taken mod 60 deg."""
    a = np.deg2rad(np.asarray(deg, float)) * 6.0        # 60 deg -> a full turn
    if a.size == 0:
        return float("nan")
    r = np.hypot(np.cos(a).mean(), np.sin(a).mean())
    r = min(max(r, 1e-12), 1.0)
    return float(np.rad2deg(math.sqrt(-2.0 * math.log(r))) / 6.0)


def plateau_exit(steps, err, frac):
    """First step whose error is below frac x the error at the first point."""
    ok = (steps >= 0) & np.isfinite(err)
    steps, err = steps[ok], err[ok]
    if len(err) < 2:
        return float("nan")
    hit = np.flatnonzero(err < frac * err[0])
    return float(steps[hit[0]]) if len(hit) else float("nan")


def task_table(res, df, a):
    names = res.class_names
    gi = names.index("GRID") if "GRID" in names else -1
    cls = res.units("grid_class", df)
    spc = res.units("spacing_cm", df)
    ori = res.units("orientation_deg", df)
    tstep = res.curve("train_step", df)
    terr = res.curve("train_err_cm", df)
    sstep = res.snapshot("step", df)
    sgrid = res.snapshot("frac_grid", df)
    axes = [x for x in sr.varying(df, res.axes)]
    keep = ["id"] + axes + [c for c in ("hidden", "cell", "tau", "noise", "target", "n_place", "lr", "batch",
                                         "steps", "place_sigma", "surround_scale", "seed")
                            if c in df and c not in axes]
    out = df[keep + ["final_err_cm", "max_score60", "null_threshold"]].copy().reset_index(drop=True)
    rows = []
    for r in range(len(df)):
        t = df.iloc[r]
        hidden = int(t["hidden"])
        c = cls[r, :hidden] if cls is not None else np.full(hidden, -1)
        g = (c == gi) if gi >= 0 else np.zeros(hidden, bool)
        sp = spc[r, :hidden][g] if spc is not None else np.array([])
        sp = sp[np.isfinite(sp)]
        orr = ori[r, :hidden][g] if ori is not None else np.array([])
        orr = orr[np.isfinite(orr)]
        pred = (predicted_spacing_cm(float(t["place_sigma"]), float(t["surround_scale"]))
                if str(t.get("target", "")) == "dog" else float("nan"))
        gstep = float("nan")
        if sstep is not None and sgrid is not None:
            ok = (sstep[r] >= 0) & np.isfinite(sgrid[r])
            hit = np.flatnonzero(ok & (sgrid[r] >= a.min_grid_frac))
            gstep = float(sstep[r][hit[0]]) if len(hit) else float("nan")
        rows.append({
            "n_units": hidden, "n_grid": int(g.sum()), "frac_grid": g.mean() if hidden else float("nan"),
            "spacing_cm": float(np.median(sp)) if len(sp) else float("nan"),
            "spacing_cv": float(sp.std() / sp.mean()) if len(sp) > 1 else float("nan"),
            "orient_sd_deg": circ_sd_60(orr) if len(orr) > 1 else float("nan"),
            "spacing_pred_cm": pred,
            "plateau_exit_step": (plateau_exit(tstep[r], terr[r], a.plateau_frac)
                                  if tstep is not None and terr is not None else float("nan")),
            "grid_step": gstep,
        })
    out = pd.concat([out, pd.DataFrame(rows)], axis=1)
    out["grown"] = (out["frac_grid"] >= a.min_grid_frac) & (out["orient_sd_deg"] <= a.max_orient_sd)
    return out, axes


def group_stats(tab, keys, metrics):
    """sweep_results.group_mean_sem plus n_grown, the networks that grew grid cells."""
    grp = sr.group_mean_sem(tab, keys, metrics + ["grown"])
    grp.insert(grp.columns.get_loc("n") + 1, "n_grown", (grp["grown_mean"] * grp["n"]).round().astype(int))
    return grp


def plot_units(res, df, tab, path, per_task=6, max_tasks=8):
    names = res.class_names
    if "GRID" not in names:
        return False
    gi = names.index("GRID")
    cls = res.units("grid_class", df)
    s60 = res.units("score60", df)
    spc = res.units("spacing_cm", df)
    order = tab.sort_values("frac_grid", ascending=False).index[:max_tasks]
    panels = []
    for r in order:
        tid = int(df.iloc[r]["id"])
        maps = res.ratemaps(tid)
        peaks = res.ratemap_peaks(tid)
        us = [u for u in maps if u < cls.shape[1] and cls[r, u] == gi]
        us = sorted(us, key=lambda u: -float(s60[r, u]))[:per_task]
        if us:
            panels.append((r, tid, [(u, maps[u], peaks.get(u)) for u in us]))
    if not panels:
        return False
    fig, axs = plt.subplots(len(panels), 2 * per_task, figsize=(1.45 * 2 * per_task, 1.7 * len(panels) + 0.6),
                            squeeze=False)
    for i, (r, tid, units) in enumerate(panels):
        for j in range(per_task):
            a0, a1 = axs[i, 2 * j], axs[i, 2 * j + 1]
            for ax in (a0, a1):
                ax.set_xticks([])
                ax.set_yticks([])
            if j >= len(units):
                a0.axis("off")
                a1.axis("off")
                continue
            u, m, pk = units[j]
            sr.draw_map_sac(a0, a1, m, pk)
            a0.set_title(f"u{u} s60 {float(s60[r, u]):.2f}\n{float(spc[r, u]):.0f} cm", fontsize=6)
        t = tab.loc[r]
        axs[i, 0].set_ylabel(f"task {tid}\nGRID {100 * t['frac_grid']:.0f} %", fontsize=7)
    fig.suptitle("Best GRID units per task: rate map and autocorrelogram with the six fitted peaks", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def plot_training(res, df, tab, path):
    tstep = res.curve("train_step", df)
    terr = res.curve("train_err_cm", df)
    sstep = res.snapshot("step", df)
    sgrid = res.snapshot("frac_grid", df)
    if tstep is None or terr is None:
        return False
    fig, axs = plt.subplots(1, 2, figsize=(10, 3.4))
    cm = plt.get_cmap("tab10")
    for r in range(len(df)):
        lab = f"task {int(df.iloc[r]['id'])}"
        ok = tstep[r] >= 0
        axs[0].plot(tstep[r][ok], terr[r][ok], color=cm(r % 10), lw=1, label=lab)
        if sstep is not None and sgrid is not None:
            ok = sstep[r] >= 0
            axs[1].plot(sstep[r][ok], sgrid[r][ok], color=cm(r % 10), lw=1.2, marker=".", label=lab)
    axs[0].set_yscale("log")
    axs[0].set_xlabel("optimiser step")
    axs[0].set_ylabel("training decoding error (cm)")
    axs[1].set_xlabel("optimiser step")
    axs[1].set_ylabel("fraction GRID (snapshots)")
    if len(df) <= 12:
        axs[1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return True


def main(argv=None):
    def extra(ap):
        ap.add_argument("--plateau-frac", type=float, default=0.5,
                        help="the plateau ends when the training error falls below this x its step-0 value")
        ap.add_argument("--min-grid-frac", type=float, default=0.1,
                        help="a network grew grid cells when at least this fraction of its units is GRID")
        ap.add_argument("--max-orient-sd", type=float, default=10.0,
                        help="... and its GRID units' orientation s.d. (mod 60 deg) is at most this")
    a, res = sr.study_cli("Grid positive control: did each network grow grid cells?", argv, extra)
    df = res.tasks[res.tasks["status"] == "done"].reset_index(drop=True)
    if df.empty:
        print("study_grid_positive_control: no done tasks; nothing to do")
        return 0
    tab, axes = task_table(res, df, a)
    tab.to_csv(os.path.join(a.outdir, "gpc_tasks.csv"), index=False)
    keys = [x for x in axes if x != "seed"]
    grp = group_stats(tab, keys, METRICS)
    grp.to_csv(os.path.join(a.outdir, "gpc_groups.csv"), index=False)
    plot_units(res, df, tab, os.path.join(a.outdir, "gpc_units.png"))
    plot_training(res, df, tab, os.path.join(a.outdir, "gpc_training.png"))

    lines = [f"grid positive control: {len(df)} done tasks; a network grew grid cells when >= "
             f"{100 * a.min_grid_frac:g} % of its units are GRID and their orientation s.d. is <= {a.max_orient_sd:g} deg",
             f"plateau exit: first logged step with training error < {a.plateau_frac:g} x its step-0 value"]
    pred = tab["spacing_pred_cm"].dropna()
    if len(pred):
        lines.append(f"spacing predicted by the DoG code's spectral peak: {pred.iloc[0]:.1f} cm")
    for _, t in tab.iterrows():
        lab = ", ".join(f"{k}={sr._str(t[k]) if not isinstance(t[k], float) else f'{t[k]:g}'}" for k in axes) or "all"
        lines.append(f"  task {int(t['id'])} ({lab}): error {t['final_err_cm']:.1f} cm, GRID {t['n_grid']}/{t['n_units']} "
                     f"({100 * t['frac_grid']:.1f} %), max score60 {t['max_score60']:.2f} (null {t['null_threshold']:.2f}), "
                     f"spacing {t['spacing_cm']:.0f} cm (cv {t['spacing_cv']:.2f}), orientation s.d. "
                     f"{t['orient_sd_deg']:.1f} deg, plateau exit {t['plateau_exit_step']:.0f}, "
                     f"grid from {t['grid_step']:.0f}: {'GROWN' if t['grown'] else 'not grown'}")
    for _, g in grp.iterrows():
        lab = ", ".join(f"{k}={g[k]}" for k in keys) or "all"
        lines.append(f"group {lab}: {int(g['n_grown'])}/{int(g['n'])} networks grew grid cells; GRID "
                     f"{100 * g['frac_grid_mean']:.1f} % (mean), error {g['final_err_cm_mean']:.1f} cm, "
                     f"plateau exit {g['plateau_exit_step_mean']:.0f}")
    sr.write_summary(a.outdir, "gpc_summary.txt", lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
