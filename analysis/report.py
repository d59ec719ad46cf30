#!/usr/bin/python3
"""report.py -- tables, plots and a text summary of sweep result files.

    python3 analysis/report.py RESULTS.h5 [MORE.h5 ...] -o DIR [--by cell,tau,noise]

Several files of one spec (shards, resumed runs) are merged first
(sweep_results.load).  Writes into DIR:

  tasks.csv            one row per task: axes, status, summaries
  aggregate.csv        mean / std / sem / n over seeds per group (--by)
  status.csv           counts by status
  final_error.png      final error (cm), heat map per cell type (tau x noise),
                       or lines/bars when fewer axes vary
  error_vs_time.png    evaluation error along held-out trajectories, one panel
                       per evaluation noise level, one line per group
  grid_scores.png      grid-unit fractions against the axes: plain (score60 >
                       grid_threshold) and null-based (score60 above the
                       shuffle-null percentile), and max score60
  training.png         training loss and decoding error vs optimiser step
  gallery.png          best grid units' rate maps and autocorrelograms
                       (only when the file stores rate maps)
  classes.png          (files with /units/grid_class) stacked bar of the unit
                       classes (GRID, RAMP, BAND, BORDER, OTHER_SPATIAL,
                       NON_SPATIAL) per group, mean over seeds
  class_gallery.png    (stored rate maps) a row per class: rate maps and
                       autocorrelograms with the six fitted SAC peaks drawn
  grid_geometry.png    (files with GRID units) spacing, orientation and
                       ellipticity of the GRID units, per group
  snapshots.png        (files with /snapshots) gridness over training: best
                       score60, fraction GRID and RAMP vs optimiser step
  replay_trajectories.png  (files with /replay) decoded replays over the
                       real-trajectory occupancy, a few per task, one task
                       per group
  replay_metrics.png   (files with /replay) replay speed, spread, coverage
                       and KL against tau / noise, one line per cell type
  replay_kl.png        (files with /replay) KL of the replay occupancy to the
                       real one, with the untrained and uniform baselines
  summary.txt          counts, best / worst tasks, vanilla vs leaky, grid
                       classification (plain and null-based), replay

Only Debian's numpy, scipy, pandas, h5py, matplotlib (Agg backend).
"""
import argparse
import os
import sys
import warnings

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sweep_results as sr  # noqa: E402

plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "axes.titlesize": 10,
                     "axes.grid": True, "grid.alpha": 0.3})


def fmt(v):
    """An axis value for labels: NaN (ignored setting) as a dash."""
    if isinstance(v, float):
        if np.isnan(v):
            return "n/a"
        return f"{v:g}"
    return str(v)


def group_label(keys, names):
    if not names:
        return "all"
    if not isinstance(keys, tuple):
        keys = (keys,)
    return ", ".join(f"{n}={fmt(k)}" for n, k in zip(names, keys) if not
                     (isinstance(k, float) and np.isnan(k)))


def sort_values(vals):
    """Unique values of a column, NaN last."""
    vals = pd.Series(list(vals), dtype=object).drop_duplicates()
    try:
        return sorted(vals, key=lambda v: (isinstance(v, float) and np.isnan(v), v))
    except TypeError:
        return sorted(vals, key=str)


def choose_axes(df, axes):
    """(panel axis, row axis, column axis) for the heat maps; any may be None."""
    var = [a for a in sr.varying(df, axes) if a != "seed"]
    panel = "cell" if "cell" in var else None
    rest = [a for a in var if a != panel]
    row = "tau" if "tau" in rest else None
    col = "noise" if "noise" in rest else None
    rest = [a for a in rest if a not in (row, col)]
    if col is None and rest:
        col = rest.pop(0)
    if row is None and rest:
        row = rest.pop(0)
    return panel, row, col


def cmap_colors(n, name="viridis"):
    cm = plt.get_cmap(name)
    return [cm(0.1 + 0.8 * i / max(1, n - 1)) for i in range(n)]


# ---------------------------------------------------------------- plots ----
def plot_metric_maps(df, axes, metric, title, path, cmap="viridis_r", unit=""):
    """Mean of metric over seeds: a heat map per panel value (row x col)."""
    done = df[df["status"] == "done"]
    panel, row, col = choose_axes(df, axes)
    one_row = row is not None and panel is not None and len(done) and \
        done.groupby(panel)[row].nunique(dropna=False).max() <= 1
    if (row is None or col is None or one_row) and len(done):
        # fewer than two axes besides cell and seed: a heat map would be one
        # strip; plot the metric against the axis that varies instead
        return plot_vs_axes(df, axes, [metric], path, title)
    panels = sort_values(done[panel]) if panel else [None]
    if not len(done):
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.text(0.5, 0.5, "no task done", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        fig.savefig(path)
        plt.close(fig)
        return
    fig, axs = plt.subplots(1, len(panels), figsize=(1.2 + 4.2 * len(panels), 3.8), squeeze=False)
    vmin, vmax = np.nanpercentile(done[metric], [2, 98]) if done[metric].notna().any() else (0, 1)
    for ax, pv in zip(axs[0], panels):
        sub = done if panel is None else done[done[panel] == pv]
        rows = sort_values(sub[row]) if row else [None]
        cols = sort_values(sub[col]) if col else [None]
        grid = np.full((len(rows), len(cols)), np.nan)
        nseed = np.zeros_like(grid, dtype=int)
        for i, rv in enumerate(rows):
            for j, cv in enumerate(cols):
                m = np.ones(len(sub), bool)
                if row:
                    m &= (sub[row].isna() if isinstance(rv, float) and np.isnan(rv) else sub[row] == rv).to_numpy()
                if col:
                    m &= (sub[col].isna() if isinstance(cv, float) and np.isnan(cv) else sub[col] == cv).to_numpy()
                vals = sub.loc[m, metric].dropna()
                if len(vals):
                    grid[i, j] = vals.mean()
                    nseed[i, j] = len(vals)
        im = ax.imshow(grid, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto", origin="lower")
        ax.grid(False)
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                if np.isfinite(grid[i, j]):
                    frac = (grid[i, j] - vmin) / (vmax - vmin + 1e-12)
                    dark = frac > 0.5 if cmap.endswith("_r") else frac < 0.5
                    ax.text(j, i, f"{grid[i, j]:.3g}\nn={nseed[i, j]}", ha="center", va="center",
                            fontsize=7, color="white" if dark else "black")
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels([fmt(c) for c in cols])
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels([fmt(r) for r in rows])
        ax.set_xlabel(col or "")
        ax.set_ylabel(row or "")
        ax.set_title(f"{panel}={pv}" if panel else "all tasks")
        fig.colorbar(im, ax=ax, label=f"{metric}{unit}", shrink=0.85)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def line_groups(df, axes, exclude=()):
    """Group columns for curves: varying axes other than seed and exclude."""
    return [a for a in sr.varying(df, axes) if a != "seed" and a not in exclude]


def norm_key(k):
    """A group key as a hashable tuple with NaN replaced by None (NaN != NaN)."""
    k = k if isinstance(k, tuple) else (k,)
    return tuple(None if isinstance(v, float) and np.isnan(v) else v for v in k)


def group_ls(k, names):
    """Dashed lines for vanilla cells, so they stand apart from the leaky shades."""
    k = norm_key(k)
    return "--" if "cell" in names and k[names.index("cell")] == "vanilla" else "-"


def group_colors(keys, names):
    """{norm_key: colour}: a hue family per cell type (vanilla grey/black),
    shades within it by the other axes (e.g. tau); else viridis."""
    keys = [norm_key(k) for k in keys]
    families = ["Blues", "Oranges", "Greens", "Purples", "Reds"]
    if "cell" in names:
        ci = names.index("cell")
        cells = sort_values([k[ci] for k in keys])
        out, fi = {}, 0
        for c in cells:
            members = [k for k in keys if k[ci] == c]
            if c == "vanilla":
                shades = plt.get_cmap("Greys")
            else:
                shades = plt.get_cmap(families[fi % len(families)])
                fi += 1
            for j, k in enumerate(members):
                out[k] = shades(0.45 + 0.4 * j / max(1, len(members) - 1)) if len(members) > 1 \
                    else shades(0.85)
        return out
    return dict(zip(keys, cmap_colors(len(keys))))


def plot_error_vs_time(res, df, axes, path):
    curves = res.curve("eval_err_cm", df)
    levels = res.eval_noise
    done = (df["status"] == "done").to_numpy()
    train_noise = "noise" if "noise" in sr.varying(df, axes) else None
    tn_vals = sort_values(df.loc[done, train_noise]) if train_noise else [None]
    # keep the figure readable: at most 4 training-noise rows
    if len(tn_vals) > 4:
        idx = np.linspace(0, len(tn_vals) - 1, 4).round().astype(int)
        tn_vals = [tn_vals[i] for i in idx]
    fig_rows = tn_vals
    S = curves.shape[1] if curves is not None and curves.ndim == 3 else 0
    if curves is None or S == 0 or not done.any():
        fig, ax = plt.subplots(figsize=(5, 3))
        ax.text(0.5, 0.5, "no evaluation curves", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        fig.savefig(path)
        plt.close(fig)
        return
    groups = line_groups(df, axes, exclude=("noise",))
    fig, axs = plt.subplots(len(fig_rows), S, figsize=(3.6 * S + 1.8, 2.7 * len(fig_rows) + 0.6),
                            squeeze=False, sharex=True)
    dfd = df[done]
    cd = curves[done]
    keys_all = list(dfd.groupby(groups, dropna=False).groups.keys()) if groups else [()]
    keys_all = [k if isinstance(k, tuple) else (k,) for k in keys_all]
    colors = group_colors(keys_all, groups)
    t = np.arange(1, curves.shape[2] + 1)
    for i, tn in enumerate(fig_rows):
        sel = np.ones(len(dfd), bool) if tn is None else (dfd[train_noise] == tn).to_numpy()
        for s in range(S):
            ax = axs[i, s]
            if groups:
                for k, idx in dfd[sel].groupby(groups, dropna=False).indices.items():
                    k = k if isinstance(k, tuple) else (k,)
                    rows = np.flatnonzero(sel)[idx]
                    y = cd[rows, s, :]
                    mean = np.nanmean(y, axis=0)
                    ax.plot(t, mean, color=colors.get(norm_key(k)), ls=group_ls(k, groups), lw=1.5,
                            label=group_label(k, groups))
                    if len(rows) > 1:
                        sem = np.nanstd(y, axis=0, ddof=1) / np.sqrt(len(rows))
                        ax.fill_between(t, mean - sem, mean + sem, color=colors.get(norm_key(k)), alpha=0.2, lw=0)
            else:
                y = cd[sel, s, :]
                ax.plot(t, np.nanmean(y, axis=0), color="k", lw=1.5, label="mean")
            if i == 0:
                lv = levels[s] if s < len(levels) else np.nan
                ax.set_title(f"evaluation noise {lv:g}")
            if s == 0:
                ax.set_ylabel(("training noise=" + fmt(tn) + "\n" if tn is not None else "") + "error (cm)")
            if i == len(fig_rows) - 1:
                ax.set_xlabel("time step of the evaluation trajectory")
    if axs[0, 0].get_legend_handles_labels()[0]:
        axs[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Decoding error along held-out trajectories (mean over seeds ± s.e.m.)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_vs_axes(df, axes, metrics, path, title):
    """Each metric (columns) against tau and against noise (rows; whichever
    vary, else the first varying axis), one line per value of the other
    axes, mean ± s.e.m. over seeds."""
    done = df[df["status"] == "done"]
    var = [a for a in sr.varying(df, axes) if a != "seed"]
    # an x axis needs two real values (tau = 0.1 vs NaN for vanilla is not enough)
    multi = [a for a in var if a != "cell" and df[a].nunique(dropna=True) > 1]
    xaxes = [a for a in ("tau", "noise") if a in multi] or [next(iter(multi), None)]
    fig, axs = plt.subplots(len(xaxes), len(metrics), squeeze=False,
                            figsize=(4.4 * len(metrics) + 2.6, 3.4 * len(xaxes) + 0.5))
    for r, xaxis in enumerate(xaxes):
        others = [a for a in var if a != xaxis]
        agg = sr.aggregate(done, by=[a for a in [xaxis] + others if a], metrics=metrics)
        keys = list(agg.groupby(others, dropna=False).groups.keys()) if others else [()]
        colors = group_colors(keys, others) if others else {(): "k"}
        numeric_x = xaxis is not None and pd.api.types.is_numeric_dtype(done[xaxis])
        xcats = sort_values(done[xaxis]) if xaxis and not numeric_x else None
        for ax, m in zip(axs[r], metrics):
            groups = (agg.groupby(others if len(others) > 1 else others[0], dropna=False)
                      if others else [((), agg)])
            for k, g in groups:
                k = k if isinstance(k, tuple) else (k,)
                g = g.sort_values(xaxis) if xaxis else g
                if xaxis is None:
                    x = np.zeros(len(g))
                elif numeric_x:
                    x = g[xaxis].to_numpy(float)
                else:
                    x = np.array([xcats.index(v) for v in g[xaxis]], float)
                y, e = g[m + "_mean"].to_numpy(float), g[m + "_sem"].to_numpy(float)
                c = colors.get(norm_key(k), "k")
                if numeric_x and np.all(np.isnan(x)):
                    # this group ignores the x setting (tau of a vanilla cell): a level line
                    ax.axhline(y[0], color=c, ls="--", lw=1.2,
                               label=group_label(k, others) + f" (no {xaxis})")
                    continue
                ax.errorbar(x, y, yerr=np.nan_to_num(e), color=c, marker="o", ms=4,
                            capsize=2, lw=1.4, label=group_label(k, others))
            vals = done[xaxis].dropna() if numeric_x else pd.Series([], dtype=float)
            if len(vals) and (vals > 0).all() and vals.max() / vals.min() > 10:
                ax.set_xscale("log")
            elif numeric_x and xaxis == "noise" and (vals >= 0).all() and (vals > 0).sum() > 2:
                ax.set_xscale("symlog", linthresh=max(vals[vals > 0].min(), 1e-12))
            if xcats is not None:
                ax.set_xticks(range(len(xcats)))
                ax.set_xticklabels([fmt(c) for c in xcats])
            if xaxis is None:
                ax.set_xticks([])   # nothing varies: one point per group
            ax.set_xlabel(xaxis or "")
            ax.set_ylabel(m)
            ax.set_title(f"{m} vs {xaxis}" if xaxis else m)
        if axs[r, -1].get_legend_handles_labels()[0]:
            axs[r, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_training(res, df, axes, path):
    """Loss and training-batch error vs step: one column per training noise
    value (when noise varies; at most 4), one line per other group."""
    step = res.curve("train_step", df)
    loss = res.curve("train_loss", df)
    err = res.curve("train_err_cm", df)
    ok = df["status"].isin(["done", "diverged"]).to_numpy()
    var = sr.varying(df, axes)
    split = "noise" if "noise" in var else None
    cols = sort_values(df.loc[ok, split]) if split and ok.any() else [None]
    if len(cols) > 4:
        cols = [cols[i] for i in np.linspace(0, len(cols) - 1, 4).round().astype(int)]
    groups = line_groups(df, axes, exclude=(split,) if split else ())
    fig, axs = plt.subplots(2, len(cols), figsize=(3.4 * len(cols) + 2.4, 6.2), squeeze=False,
                            sharex=True, sharey="row")
    if step is None or not ok.any():
        for ax in axs.ravel():
            ax.text(0.5, 0.5, "no training curves", ha="center", va="center", transform=ax.transAxes)
        fig.savefig(path)
        plt.close(fig)
        return
    dfo = df[ok]
    idx_all = np.flatnonzero(ok)
    keys = list(dfo.groupby(groups, dropna=False).groups.keys()) if groups else [()]
    colors = group_colors(keys, groups) if groups else {(): "k"}
    for j, cv in enumerate(cols):
        sel = np.ones(len(dfo), bool) if split is None else (dfo[split] == cv).to_numpy()
        sub = dfo[sel]
        base = idx_all[sel]
        items = sub.groupby(groups, dropna=False).indices.items() if groups else [((), np.arange(len(sub)))]
        for k, idx in items:
            rows = base[idx]
            x = step[rows[0]].astype(float)
            x[x < 0] = np.nan
            for i, y in enumerate((loss, err)):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN after a divergence
                    mean = np.nanmean(y[rows], axis=0)
                axs[i, j].plot(x, mean, color=colors.get(norm_key(k), "k"), ls=group_ls(k, groups), lw=1.4,
                               label=group_label(k, groups))
        axs[0, j].set_title(f"training noise={fmt(cv)}" if split else "all tasks")
        axs[1, j].set_xlabel("optimiser step")
        axs[1, j].set_yscale("log")
    axs[0, 0].set_ylabel("training loss")
    axs[1, 0].set_ylabel("decoding error, training batch (cm)")
    if axs[0, -1].get_legend_handles_labels()[0]:
        axs[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle("Training curves (mean over seeds; diverged tasks up to the divergence)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def grid_metrics(df):
    """The grid-fraction panels: plain, null-based (when any task has a null), best score."""
    null = "grid_frac_null" in df.columns and df["grid_frac_null"].notna().any()
    return ["grid_frac"] + (["grid_frac_null"] if null else []) + ["max_score60"]


# ------------------------------------------------------------- replay ----
def replay_groups(df, axes):
    """Done tasks with replay results, and the grouping axes (varying, no seed)."""
    if "replay_speed_cm" not in df.columns:
        return df.iloc[0:0], []
    d = df[(df["status"] == "done") & df["replay_speed_cm"].notna()]
    return d, [a for a in sr.varying(d, axes) if a != "seed"]


def plot_replay_trajectories(res, df, axes, path, max_panels=8, per_task=3):
    """One panel per group (first seed): the real-trajectory occupancy of the
    arena as a grey background, and up to per_task decoded replays on top
    (start o, end x).  False when no task has stored replays."""
    d, groups = replay_groups(df, axes)
    if not len(d):
        return False
    picks = []
    items = d.groupby(groups, dropna=False, sort=True) if groups else [((), d)]
    for k, g in items:
        picks.append((k if isinstance(k, tuple) else (k,), g.sort_values("id").iloc[0]))
    if len(picks) > max_panels:
        picks = [picks[i] for i in np.linspace(0, len(picks) - 1, max_panels).round().astype(int)]
    ncol = min(4, len(picks))
    nrow = (len(picks) + ncol - 1) // ncol
    fig, axs = plt.subplots(nrow, ncol, figsize=(3.0 * ncol + 0.4, 3.1 * nrow + 0.6), squeeze=False)
    colors = ["tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple"]
    drew = False
    for ax, (k, t) in zip(axs.ravel(), picks):
        traj, occ = res.replay_trajectories(int(t["id"]))
        half = float(t["arena_size"]) / 2 if np.isfinite(t.get("arena_size", np.nan)) else 1.1
        if occ is not None and np.isfinite(occ).any():
            ax.imshow(np.ma.masked_invalid(occ), cmap="Greys", origin="lower", extent=(-half, half, -half, half),
                      interpolation="nearest", vmin=0, vmax=np.nanmax(occ) * 1.5)
        for j, tr in enumerate(traj[:per_task]):
            c = colors[j % len(colors)]
            ax.plot(tr[:, 0], tr[:, 1], color=c, lw=0.8, alpha=0.85)
            ax.plot(tr[0, 0], tr[0, 1], "o", color=c, ms=4)
            ax.plot(tr[-1, 0], tr[-1, 1], "x", color=c, ms=5)
            drew = True
        ax.set_xlim(-half, half)
        ax.set_ylim(-half, half)
        ax.set_aspect("equal")
        ax.grid(False)
        ax.set_xticks([])
        ax.set_yticks([])
        sp = t.get("replay_speed_cm", np.nan)
        ax.set_title((group_label(k, groups) if groups else "all") + f"\ntask {int(t['id'])}, "
                     f"{sp:.2g} cm/step", fontsize=7)
    for ax in axs.ravel()[len(picks):]:
        ax.set_axis_off()
    fig.suptitle("Replays (no input, noise kept): decoded trajectories (o start, x end) over the "
                 "occupancy of real trajectories (grey)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return drew


def plot_replay_kl(df, axes, path):
    """Per group: KL(replay || real) of the trained network, of the untrained
    network and of a uniform occupancy (mean ± s.e.m. over seeds), nats."""
    d, groups = replay_groups(df, axes)
    if not len(d):
        return False
    cols = [("replay_kl", "trained network", "tab:blue"), ("replay_kl_untrained", "untrained network", "tab:grey"),
            ("replay_kl_uniform", "uniform occupancy", "tab:orange")]
    cols = [c for c in cols if c[0] in d.columns]
    agg = sr.aggregate(d, by=groups, metrics=[c[0] for c in cols])
    n = len(agg)
    # horizontal bars: one row of three bars per group, readable for many groups
    fig, ax = plt.subplots(figsize=(7.5, 0.32 * n * len(cols) + 1.6))
    h = 0.8 / len(cols)
    y = np.arange(n)[::-1]
    for j, (m, label, c) in enumerate(cols):
        ax.barh(y - (j - (len(cols) - 1) / 2) * h, agg[m + "_mean"], h, xerr=np.nan_to_num(agg[m + "_sem"]),
                color=c, label=label, capsize=2)
    labels = [group_label(tuple(r[g] for g in groups), groups) if groups else "all" for _, r in agg.iterrows()]
    ax.set_yticks(y)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("KL of the replay occupancy to the real occupancy (nats)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Replay fidelity: lower = the replay visits places as real trajectories do\n"
                 "(mean ± s.e.m. over seeds; untrained network and uniform occupancy as baselines)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def best_units(res, df, k=8):
    """[(score60, task row, unit, map)] of the k best-scoring units with a stored map."""
    s60 = res.units("score60", df)
    cands = []
    for r, (_, t) in enumerate(df.iterrows()):
        if t["status"] != "done":
            continue
        maps = res.ratemaps(int(t["id"]))
        for u, m in maps.items():
            sc = s60[r, u] if s60 is not None and u < s60.shape[1] else np.nan
            if np.isfinite(sc) and np.isfinite(m).any():
                cands.append((float(sc), r, u, m))
    cands.sort(key=lambda c: -c[0])
    return cands[:k]


def plot_gallery(res, df, axes, path, k=8):
    best = best_units(res, df, k)
    if not best:
        return False
    n = len(best)
    fig, axs = plt.subplots(2, n, figsize=(1.9 * n, 4.4), squeeze=False)
    var = [a for a in sr.varying(df, axes) if a != "seed"]
    for j, (sc, r, u, m) in enumerate(best):
        t = df.iloc[r]
        a0, a1 = axs[0, j], axs[1, j]
        a0.imshow(np.ma.masked_invalid(m), cmap="jet", origin="lower", interpolation="nearest")
        a1.imshow(np.ma.masked_invalid(sr.sac(m)), cmap="jet", origin="lower", vmin=-1, vmax=1,
                  interpolation="nearest")
        desc = "\n".join(f"{a}={fmt(t[a])}" for a in var[:3])
        a0.set_title(f"task {int(t['id'])} unit {u}\nscore60 {sc:.2f}\n{desc}", fontsize=7)
        for a in (a0, a1):
            a.set_xticks([])
            a.set_yticks([])
            a.grid(False)
    axs[0, 0].set_ylabel("rate map")
    axs[1, 0].set_ylabel("autocorrelogram")
    fig.suptitle("Best grid units (stored rate maps) and their spatial autocorrelograms")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


# ------------------------------------------------------------- classes ----
CLASS_COLORS = {"GRID": "#d62728", "RAMP": "#ff7f0e", "BAND": "#9467bd", "BORDER": "#2ca02c",
                "OTHER_SPATIAL": "#1f77b4", "NON_SPATIAL": "#c7c7c7"}


def class_columns(res, df):
    """[(class name, /tasks column frac_<name>)] present in df, GRID first."""
    names = [c for c in res.class_names if f"frac_{c.lower()}" in df.columns]
    return [(c, f"frac_{c.lower()}") for c in sorted(names, key=lambda c: c != "GRID")]


def class_groups(df, axes):
    """Done tasks with classes, their grouping axes and the groups (sorted)."""
    cols = [c for c in df.columns if c.startswith("frac_")]
    d = df[(df["status"] == "done") & df[cols].notna().all(axis=1)] if cols else df.iloc[0:0]
    groups = [a for a in sr.varying(df, axes) if a != "seed"]
    return d, groups


def plot_classes(res, df, axes, path):
    """Stacked bar of the class fractions per group (mean over seeds)."""
    cc = class_columns(res, df)
    d, groups = class_groups(df, axes)
    if not cc or not len(d):
        return False
    items = list(d.groupby(groups, dropna=False, sort=True)) if groups else [((), d)]
    fig, ax = plt.subplots(figsize=(max(4.5, 0.55 * len(items) + 3.2), 4.2))
    x = np.arange(len(items))
    bottom = np.zeros(len(items))
    for c, col in cc:
        v = np.array([g[col].mean() for _, g in items])
        ax.bar(x, v, bottom=bottom, color=CLASS_COLORS.get(c, None), label=c, width=0.8)
        bottom += v
    labels = [group_label(k if isinstance(k, tuple) else (k,), groups) if groups else "all" for k, _ in items]
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=60 if len(items) > 4 else 0, ha="right" if len(items) > 4 else "center",
                       fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("fraction of units")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    ax.set_title("Unit classes per group (mean over seeds; docs/spatial.md, Classification)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_class_gallery(res, df, path, k=4):
    """A row per class: its k best-scoring units with a stored map, rate
    map and autocorrelogram with the six fitted peaks."""
    names = res.class_names
    cls = res.units("grid_class", df)
    s60 = res.units("score60", df)
    if not names or cls is None:
        return False
    cands = {c: [] for c in range(len(names))}
    for r, (_, t) in enumerate(df.iterrows()):
        if t["status"] != "done":
            continue
        maps = res.ratemaps(int(t["id"]))
        if not maps:
            continue
        peaks = res.ratemap_peaks(int(t["id"]))
        for u, m in maps.items():
            c = int(cls[r, u]) if u < cls.shape[1] else -1
            if c in cands and np.isfinite(m).any():
                sc = float(s60[r, u]) if s60 is not None and np.isfinite(s60[r, u]) else -9.0
                cands[c].append((sc, r, u, m, peaks.get(u)))
    rows = [c for c in sorted(cands, key=lambda c: -c) if cands[c]]
    if not rows:
        return False
    fig, axs = plt.subplots(len(rows), 2 * k, figsize=(1.5 * 2 * k, 1.75 * len(rows) + 0.6), squeeze=False)
    for i, c in enumerate(rows):
        best = sorted(cands[c], key=lambda z: -z[0])[:k]
        for j in range(k):
            a0, a1 = axs[i, 2 * j], axs[i, 2 * j + 1]
            for a in (a0, a1):
                a.set_xticks([])
                a.set_yticks([])
                a.grid(False)
            if j >= len(best):
                a0.axis("off")
                a1.axis("off")
                continue
            sc, r, u, m, pk = best[j]
            sr.draw_map_sac(a0, a1, m, pk)
            a0.set_title(f"task {int(df.iloc[r]['id'])} u{u}\ns60 {sc:.2f}" if sc > -9 else
                         f"task {int(df.iloc[r]['id'])} u{u}", fontsize=6)
        axs[i, 0].set_ylabel(names[c], fontsize=7)
    fig.suptitle("Units per class: rate map and autocorrelogram with the six fitted SAC peaks (white)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_grid_geometry(res, df, axes, path):
    """Histograms of spacing, orientation and ellipticity of the GRID units,
    one step histogram per group (every seed pooled)."""
    names = res.class_names
    if "GRID" not in names:
        return False
    cls = res.units("grid_class", df)
    geo = {k: res.units(k, df) for k in ("spacing_cm", "orientation_deg", "ellipticity")}
    if cls is None or any(v is None for v in geo.values()):
        return False
    gi = names.index("GRID")
    d, groups = class_groups(df, axes)
    pos = df.index.get_indexer(d.index)
    items = list(d.groupby(groups, dropna=False, sort=True).indices.items()) if groups else [((), np.arange(len(d)))]
    if not (cls[pos] == gi).any():
        return False
    fig, axs = plt.subplots(1, 3, figsize=(11, 3.4))
    bins = {"spacing_cm": 20, "orientation_deg": np.linspace(-90, 90, 37), "ellipticity": np.linspace(0, 1, 21)}
    for n, (k, idx) in enumerate(items):
        rows = pos[idx]
        sel = cls[rows] == gi
        if not sel.any():
            continue
        lab = group_label(k if isinstance(k, tuple) else (k,), groups) if groups else "all"
        for a, (name, v) in zip(axs, geo.items()):
            x = v[rows][sel]
            x = x[np.isfinite(x)]
            if len(x):
                a.hist(x, bins=bins[name], histtype="step", lw=1.3, label=f"{lab} (n={len(x)})",
                       color=plt.get_cmap("tab10")(n % 10))
    for a, t in zip(axs, ("spacing (cm)", "orientation (deg, axis nearest 0)", "ellipticity (minor / major)")):
        a.set_xlabel(t)
    axs[0].set_ylabel("GRID units")
    if axs[0].get_legend_handles_labels()[0]:
        axs[-1].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle("Geometry of the GRID units (six SAC peaks)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def plot_snapshots(res, df, axes, path):
    """Gridness over training: best score60, fraction GRID and fraction
    RAMP vs optimiser step, one line per group (mean over seeds)."""
    step = res.snapshot("step", df)
    if step is None:
        return False
    ok = (df["status"] == "done").to_numpy() & (step >= 0).any(axis=1)
    if not ok.any():
        return False
    panels = [("max_score60", "best score60"), ("frac_grid", "fraction GRID"), ("frac_ramp", "fraction RAMP"),
              ("grid_frac", "fraction score60 > grid_threshold")]
    data = {k: res.snapshot(k, df) for k, _ in panels}
    panels = [(k, t) for k, t in panels if data[k] is not None]
    groups = [a for a in sr.varying(df, axes) if a != "seed"]
    dfo = df[ok]
    pos = np.flatnonzero(ok)
    items = list(dfo.groupby(groups, dropna=False, sort=True).indices.items()) if groups else [((), np.arange(len(dfo)))]
    keys = [k for k, _ in items]
    colors = group_colors(keys, groups) if groups else {(): "k"}
    fig, axs = plt.subplots(1, len(panels), figsize=(3.3 * len(panels) + 2.2, 3.4), squeeze=False)
    for k, idx in items:
        rows = pos[idx]
        x = step[rows[0]].astype(float)
        x[x < 0] = np.nan
        for a, (name, _t) in zip(axs[0], panels):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                y = np.nanmean(data[name][rows], axis=0)
            a.plot(x, y, color=colors.get(norm_key(k), "k"), ls=group_ls(k, groups), lw=1.4, marker=".",
                   label=group_label(k if isinstance(k, tuple) else (k,), groups) if groups else "all")
    for a, (_n, t) in zip(axs[0], panels):
        a.set_title(t)
        a.set_xlabel("optimiser step")
    if axs[0, -1].get_legend_handles_labels()[0]:
        axs[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle("Gridness over training (snapshots; classes with class_score60_min, no null)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def class_summary(res, df, axes):
    """Lines of the summary: class fractions and grid geometry per group."""
    cc = class_columns(res, df)
    d, groups = class_groups(df, axes)
    if not cc or not len(d):
        return []
    lines = ["", "unit classes (done tasks, mean over seeds; GRID = score60 above the null threshold, six peaks, "
             "no band, no ramp, spacing fits):",
             "  " + " ".join(f"{c:>13s}" for c, _ in cc) + "  grid spacing cm / orient sd deg / ellipticity  group"]
    items = list(d.groupby(groups, dropna=False, sort=True)) if groups else [((), d)]
    for k, g in items:
        lab = group_label(k if isinstance(k, tuple) else (k,), groups) if groups else "all"
        fr = " ".join(f"{g[col].mean():13.3f}" for _, col in cc)
        geo = " / ".join(f"{g[c].mean():.3g}" if g[c].notna().any() else "-"
                         for c in ("grid_spacing_cm", "grid_orient_sd_deg", "grid_ellipticity"))
        lines.append(f"  {fr}  {geo}  {lab} (n={len(g)})")
    return lines


# ------------------------------------------------------------- summary ----
def describe(t, var):
    return ", ".join(f"{a}={fmt(t[a])}" for a in var)


def write_summary(res, df, axes, path):
    var = sr.varying(df, axes)
    lines = [f"sweep report: {len(res.files)} file(s): " + ", ".join(os.path.basename(p) for p in res.files),
             f"spec_hash {res.attrs.get('spec_hash', '?')}, sweep {res.attrs.get('sweep_version', '?')}, "
             f"started {res.attrs.get('start_time', '?')}",
             f"axes: {', '.join(axes) if axes else '(none)'}", "",
             f"tasks: {len(df)}"]
    for s, c in sr.status_counts(df).items():
        lines.append(f"  {s:9s} {c}")
    bad = df[df["status"].isin(["diverged", "failed"])]
    for _, t in bad.head(10).iterrows():
        lines.append(f"  task {int(t['id'])} {t['status']}: {t['message']} ({describe(t, var)})")
    done = df[(df["status"] == "done") & df["final_err_cm"].notna()].sort_values("final_err_cm")
    lines.append("")
    if len(done):
        k = min(5, len(done))
        lines.append(f"best {k} tasks by final error (cm):")
        for _, t in done.head(k).iterrows():
            lines.append(f"  task {int(t['id']):5d} {t['final_err_cm']:8.2f} cm  grid_frac "
                         f"{t['grid_frac']:.3f}  grid_frac_null {t.get('grid_frac_null', np.nan):.3f}  "
                         f"max_score60 {t['max_score60']:.2f}  {describe(t, var)}")
        lines.append(f"worst {k} tasks by final error (cm):")
        for _, t in done.tail(k).iloc[::-1].iterrows():
            lines.append(f"  task {int(t['id']):5d} {t['final_err_cm']:8.2f} cm  grid_frac "
                         f"{t['grid_frac']:.3f}  grid_frac_null {t.get('grid_frac_null', np.nan):.3f}  "
                         f"max_score60 {t['max_score60']:.2f}  {describe(t, var)}")
    else:
        lines.append("no task done yet")
    lines.append("")
    cells = set(df["cell"]) if "cell" in df.columns else set()
    if {"vanilla", "leaky"} <= cells and len(done):
        lines.append("headline: vanilla vs leaky (done tasks; mean ± s.e.m. over tasks):")
        d = done[done["cell"].isin(["vanilla", "leaky"])]
        by = "noise" if "noise" in var else None
        for key, g in (d.groupby(by) if by else [("all", d)]):
            parts = []
            stats = {}
            for c in ("vanilla", "leaky"):
                x = g.loc[g["cell"] == c, "final_err_cm"]
                gf = g.loc[g["cell"] == c, "grid_frac"]
                gn = g.loc[g["cell"] == c, "grid_frac_null"] if "grid_frac_null" in g else gf * np.nan
                if len(x):
                    sem = x.std(ddof=1) / np.sqrt(len(x)) if len(x) > 1 else float("nan")
                    stats[c] = x.mean()
                    parts.append(f"{c} {x.mean():.2f} ± {sem:.2f} cm (n={len(x)}, grid_frac {gf.mean():.3f}, "
                                 f"null-based {gn.mean():.3f})")
            ratio = (f"; leaky/vanilla = {stats['leaky'] / stats['vanilla']:.2f}"
                     if len(stats) == 2 and stats["vanilla"] > 0 else "")
            label = f"noise={fmt(key if not isinstance(key, tuple) else key[0])}" if by else "all"
            lines.append(f"  {label}: " + "; ".join(parts) + ratio)
        if "tau" in var:
            lk = done[done["cell"] == "leaky"]
            if len(lk):
                bt = lk.groupby("tau")["final_err_cm"].mean()
                lines.append(f"  best leaky tau (mean over noise and seeds): {fmt(bt.idxmin())} s "
                             f"({bt.min():.2f} cm)")
    elif cells and len(done):
        lines.append("headline: per cell type (done tasks):")
        for c, g in done.groupby("cell"):
            gn = g["grid_frac_null"].mean() if "grid_frac_null" in g else np.nan
            lines.append(f"  {c}: final error {g['final_err_cm'].mean():.2f} cm (n={len(g)}), "
                         f"grid_frac {g['grid_frac'].mean():.3f}, null-based {gn:.3f}")
    if len(done):
        lines.append("")
        lines.append("grid units (done tasks, mean over tasks): plain = score60 > grid_threshold; "
                     "null-based = score60 above the shuffle null's percentile")
        has_null = "grid_frac_null" in done.columns and done["grid_frac_null"].notna().any()
        if has_null:
            dn = done[done["grid_frac_null"].notna()]
            lines.append(f"  plain grid_frac {done['grid_frac'].mean():.3f}; null-based grid_frac_null "
                         f"{dn['grid_frac_null'].mean():.3f} (n={len(dn)}); null threshold "
                         f"{dn['null_threshold'].mean():.3f} (range {dn['null_threshold'].min():.3f} .. "
                         f"{dn['null_threshold'].max():.3f})")
        else:
            lines.append(f"  plain grid_frac {done['grid_frac'].mean():.3f}; null-based: no shuffle null "
                         "(null_shuffles = 0)")
    lines += class_summary(res, df, axes)
    rd, rgroups = replay_groups(df, axes)
    if len(rd):
        lines.append("")
        lines.append("replay (done tasks with replay on; mean over seeds): speed cm/step (ratio to real), "
                     "spread cm^2, coverage, KL nats (untrained, uniform)")
        items = rd.groupby(rgroups, dropna=False, sort=True) if rgroups else [((), rd)]
        for k, g in items:
            k = k if isinstance(k, tuple) else (k,)
            lines.append(f"  {group_label(k, rgroups) if rgroups else 'all'}: "
                         f"speed {g['replay_speed_cm'].mean():.3g} ({g['replay_speed_ratio'].mean():.3g}x), "
                         f"spread {g['replay_spread_cm2'].mean():.4g}, coverage {g['replay_coverage'].mean():.3f}, "
                         f"KL {g['replay_kl'].mean():.3f} ({g['replay_kl_untrained'].mean():.3f}, "
                         f"{g['replay_kl_uniform'].mean():.3f}) n={len(g)}")
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description="Tables, plots and a summary of sweep result files.")
    ap.add_argument("files", nargs="+", help="result files (several: shards / runs of one spec)")
    ap.add_argument("-o", "--outdir", required=True)
    ap.add_argument("--by", default=None,
                    help="comma-separated grouping axes for aggregate.csv (default: every axis but seed)")
    ap.add_argument("--allow-mixed", action="store_true", help="merge files of different specs")
    ap.add_argument("--top", type=int, default=8, help="units in the rate-map gallery")
    a = ap.parse_args(argv)

    missing = [p for p in a.files if not os.path.isfile(p)]
    if missing:
        ap.error("no such file: " + ", ".join(missing))
    try:
        res = sr.load(a.files, allow_mixed=a.allow_mixed)
    except (ValueError, OSError) as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 2
    df = res.tasks
    axes = res.axes
    os.makedirs(a.outdir, exist_ok=True)
    out = lambda name: os.path.join(a.outdir, name)  # noqa: E731

    written = []
    df.drop(columns=["row"]).to_csv(out("tasks.csv"), index=False)
    written.append("tasks.csv")
    by = a.by.split(",") if a.by else [x for x in sr.varying(df, axes) if x != "seed"]
    sr.aggregate(df, by=by).to_csv(out("aggregate.csv"), index=False, float_format="%.6g")
    written.append("aggregate.csv")
    sr.status_counts(df).rename_axis("status").rename("count").to_csv(out("status.csv"))
    written.append("status.csv")

    plot_metric_maps(df, axes, "final_err_cm", "Final decoding error (cm), mean over seeds",
                     out("final_error.png"), unit=" (cm)")
    written.append("final_error.png")
    plot_error_vs_time(res, df, axes, out("error_vs_time.png"))
    written.append("error_vs_time.png")
    plot_vs_axes(df, axes, grid_metrics(df), out("grid_scores.png"),
                 "Grid units: fraction above the fixed threshold (grid_frac), above the shuffle null "
                 "(grid_frac_null), best score60 (mean ± s.e.m. over seeds)")
    written.append("grid_scores.png")
    plot_training(res, df, axes, out("training.png"))
    written.append("training.png")
    if res.has_replay and len(replay_groups(df, axes)[0]):
        if plot_replay_trajectories(res, df, axes, out("replay_trajectories.png")):
            written.append("replay_trajectories.png")
        plot_vs_axes(df, axes, ["replay_speed_cm", "replay_spread_cm2", "replay_coverage", "replay_kl"],
                     out("replay_metrics.png"), "Replay: speed (cm/step), steady-state spread (cm^2), "
                     "coverage of the arena, KL to real occupancy (nats); mean ± s.e.m. over seeds")
        written.append("replay_metrics.png")
        if plot_replay_kl(df, axes, out("replay_kl.png")):
            written.append("replay_kl.png")
    if res.has_ratemaps and plot_gallery(res, df, axes, out("gallery.png"), a.top):
        written.append("gallery.png")
    if plot_classes(res, df, axes, out("classes.png")):
        written.append("classes.png")
    if res.has_ratemaps and plot_class_gallery(res, df, out("class_gallery.png")):
        written.append("class_gallery.png")
    if plot_grid_geometry(res, df, axes, out("grid_geometry.png")):
        written.append("grid_geometry.png")
    if res.has_snapshots and plot_snapshots(res, df, axes, out("snapshots.png")):
        written.append("snapshots.png")
    lines = write_summary(res, df, axes, out("summary.txt"))
    written.append("summary.txt")
    print("\n".join(lines))
    print(f"wrote {len(written)} files to {a.outdir}: {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
