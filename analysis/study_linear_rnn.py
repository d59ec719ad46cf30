#!/usr/bin/python3
"""study_linear_rnn.py -- the linear-RNN study's loss curves and stage table
(Proca et al. 2025; docs/studies.md), on top of report.py.

    python3 analysis/study_linear_rnn.py RESULTS.h5 [MORE.h5 ...] -o DIR

Writes into DIR:
  loss_curves.png   training loss against the optimiser step, log-log axes:
                    one panel per hidden size, one line per tau (mean over
                    seeds, thin lines: each seed)
  loss_by_tau.png   the same curves, one panel per tau, one line per hidden
                    size
  linear_stages.csv per done task: tau, hidden, seed, final loss and error,
                    L0 (first logged loss), the steps at which the loss has
                    fallen by 10 %, 50 % and 90 % of its total drop (t10, t50,
                    t90), the drop's width in decades log10(t90 / t10), and
                    n_drops, the number of separate drops (below)
  linear_groups.csv mean, s.e.m. and n over seeds per (tau, hidden)
  linear_summary.txt the table in words

Stage detection (n_drops): the loss is averaged in bins of 0.1 decade of
the step (log10), the drop between neighbouring bins d_k = L_{k-1} - L_k is
divided by their distance in decades, and a "drop" is a maximal run of bins
whose rate exceeds 25 % of the largest rate; two such runs count as two
drops only when a plateau separates them (at least 3 bins, 0.3 decade,
whose mean rate is below 10 % of the largest), and a drop must hold at
least 10 % of the total drop (first bin to lowest bin).  A stage-like curve (plateau, fast drop,
plateau, fast drop) has n_drops >= 2; a single smooth descent has 1.
This is a simple heuristic, stated so that the number can be checked
against the plot, not a fit of Proca et al.'s analytical solution.
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


def crossing(step, loss, frac):
    """First step at which loss has fallen by frac of (L0 - Lmin)."""
    L0, Lm = loss[0], np.nanmin(loss)
    if not np.isfinite(L0) or L0 <= Lm:
        return np.nan
    target = L0 - frac * (L0 - Lm)
    i = np.flatnonzero(loss <= target)
    return float(step[i[0]]) if len(i) else np.nan


def count_drops(step, loss, rel=0.25, min_share=0.10, bin_dec=0.1, plateau_bins=3, plateau_rel=0.10):
    ok = np.isfinite(loss) & np.isfinite(step) & (step > 0)
    s, L = step[ok].astype(float), loss[ok].astype(float)
    if len(L) < 5:
        return 0
    lx = np.log10(s)
    nb = int(np.ceil((lx.max() - lx.min()) / bin_dec)) + 1
    b = np.minimum(((lx - lx.min()) / bin_dec).astype(int), nb - 1)
    xb = np.array([lx[b == k].mean() for k in range(nb) if (b == k).any()])
    Lb = np.array([L[b == k].mean() for k in range(nb) if (b == k).any()])
    if len(Lb) < 4:
        return 0
    d = Lb[:-1] - Lb[1:]
    rate = d / (xb[1:] - xb[:-1])
    total = Lb[0] - Lb.min()
    if not np.isfinite(total) or total <= 0 or not np.isfinite(rate).any() or np.nanmax(rate) <= 0:
        return 0
    r = np.nan_to_num(rate)
    hot = r > rel * r.max()
    runs, i = [], 0
    while i < len(hot):
        if hot[i]:
            j = i
            while j < len(hot) and hot[j]:
                j += 1
            runs.append([i, j])
            i = j
        else:
            i += 1
    # a plateau separates two drops: >= plateau_bins bins whose mean rate is
    # below plateau_rel of the largest; otherwise the runs are one drop
    merged = []
    for a, b in runs:
        if merged:
            gap = r[merged[-1][1]:a]
            if len(gap) < plateau_bins or gap.mean() >= plateau_rel * r.max():
                merged[-1][1] = b
                continue
        merged.append([a, b])
    return sum(1 for a, b in merged if d[a:b].sum() >= min_share * total)


def main(argv=None):
    a, res = sr.study_cli("Linear-RNN study: loss curves and stages (Proca et al. 2025).", argv)
    df = res.tasks[res.tasks["status"].isin(["done", "diverged"])].reset_index(drop=True)
    if df.empty:
        print("study_linear_rnn: no done tasks; nothing to do")
        return 0
    step = res.curve("train_step", df).astype(float)
    loss = res.curve("train_loss", df).astype(float)
    step[step < 0] = np.nan
    rows = []
    for i, r in df.iterrows():
        s, L = step[i], loss[i]
        ok = np.isfinite(s) & np.isfinite(L)
        s, L = s[ok], L[ok]
        t10, t50, t90 = (crossing(s, L, f) for f in (0.1, 0.5, 0.9))
        rows.append({"id": r["id"], "tau": r["tau"], "hidden": r["hidden"], "seed": r["seed"],
                     "status": r["status"], "final_loss": r["final_loss"], "final_err_cm": r["final_err_cm"],
                     "L0": L[0] if len(L) else np.nan, "Lmin": L.min() if len(L) else np.nan,
                     "t10": t10, "t50": t50, "t90": t90,
                     "width_decades": np.log10(t90 / t10) if t10 and t10 > 0 and np.isfinite(t90) else np.nan,
                     "n_drops": count_drops(s, L)})
    tab = pd.DataFrame(rows)
    tab.to_csv(os.path.join(a.outdir, "linear_stages.csv"), index=False)
    mets = ["final_loss", "final_err_cm", "t10", "t50", "t90", "width_decades", "n_drops"]
    g = []
    for (tau, hid), sub in tab[tab["status"] == "done"].groupby(["tau", "hidden"]):
        row = {"tau": tau, "hidden": hid, "n": len(sub),
               "n_diverged": int(((tab["tau"] == tau) & (tab["hidden"] == hid) & (tab["status"] == "diverged")).sum())}
        for m in mets:
            v = sub[m].to_numpy(float)
            v = v[np.isfinite(v)]
            row[m + "_mean"] = v.mean() if len(v) else np.nan
            row[m + "_sem"] = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
        row["frac_multi_stage"] = float((sub["n_drops"] >= 2).mean())
        g.append(row)
    grp = pd.DataFrame(g)
    grp.to_csv(os.path.join(a.outdir, "linear_groups.csv"), index=False)
    lines = [f"linear_rnn: {len(tab)} tasks ({(tab.status == 'done').sum()} done, "
             f"{(tab.status == 'diverged').sum()} diverged); per (tau, hidden), mean +- s.e.m. over seeds:"]
    for _, r in grp.iterrows():
        lines.append(f"  tau={r['tau']:g} N={int(r['hidden'])} n={int(r['n'])}: final loss {r['final_loss_mean']:.3f} "
                     f"+- {r['final_loss_sem']:.3f}, error {r['final_err_cm_mean']:.1f} +- {r['final_err_cm_sem']:.1f} cm, "
                     f"t50 {r['t50_mean']:.0f} steps, drop width {r['width_decades_mean']:.2f} decades, "
                     f"drops {r['n_drops_mean']:.1f} (multi-stage in {r['frac_multi_stage']:.0%})")
    sr.write_summary(a.outdir, "linear_summary.txt", lines)

    def panel_plot(split, line, path, title):
        svals = sorted(df[split].unique())
        lvals = sorted(df[line].unique())
        nc = min(len(svals), 5)
        nr = int(np.ceil(len(svals) / nc))
        fig, axs = plt.subplots(nr, nc, figsize=(2.7 * nc + 1.6, 2.6 * nr + 0.5), sharex=True, sharey=True,
                                squeeze=False)
        cmap = plt.get_cmap("viridis")
        for j, sv in enumerate(svals):
            ax = axs.ravel()[j]
            for k, lv in enumerate(lvals):
                idx = np.flatnonzero(((df[split] == sv) & (df[line] == lv)).to_numpy())
                if not len(idx):
                    continue
                col = cmap(k / max(1, len(lvals) - 1) * 0.9)
                for i in idx:
                    ax.plot(step[i], loss[i], color=col, lw=0.4, alpha=0.5)
                with np.errstate(all="ignore"):
                    ax.plot(step[idx[0]], np.nanmean(loss[idx], axis=0), color=col, lw=1.5, label=f"{line}={lv:g}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{split}={sv:g}", fontsize=9)
        for ax in axs.ravel()[len(svals):]:
            ax.axis("off")
        for ax in axs[-1]:
            ax.set_xlabel("optimiser step")
        for ax in axs[:, 0]:
            ax.set_ylabel("training loss")
        axs.ravel()[len(svals) - 1].legend(fontsize=7, loc="lower left", frameon=False)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)

    panel_plot("hidden", "tau", os.path.join(a.outdir, "loss_curves.png"),
               "Linear RNN training loss (log-log; thick: mean over seeds)")
    panel_plot("tau", "hidden", os.path.join(a.outdir, "loss_by_tau.png"),
               "Linear RNN training loss by tau (log-log; thick: mean over seeds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
