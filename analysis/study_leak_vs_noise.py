#!/usr/bin/python3
"""study_leak_vs_noise.py -- the leak-vs-noise study's own tables and plot
(Zhang et al. 2026; docs/studies.md), on top of report.py.

    python3 analysis/study_leak_vs_noise.py RESULTS.h5 [MORE.h5 ...] -o DIR

Per done task, from the evaluation error curves (/curves/eval_err_cm, error
in cm at every step of the held-out trajectories, one row per evaluation
noise level):

  err_train_len   mean error over the first seq_len steps (the training
                  length), evaluation noise 0
  err_end         error at the last evaluation step, evaluation noise 0
  growth_cm_step  least-squares slope of the error against the step over the
                  whole evaluation trajectory (cm per step), evaluation noise 0
  err_evalN       mean error over the trajectory at evaluation noise N
  robust_N        err_evalN / err_eval0: how much evaluation noise N hurts
                  (1 = not at all)

Writes into DIR:
  lvn_tasks.csv     the above per task, with cell, tau, noise, seed
  lvn_groups.csv    mean, s.e.m. and n over seeds per (cell, tau, noise)
  lvn_headline.csv  per training noise: vanilla, every leaky tau and the
                    best leaky tau (by mean final error), with the ratio
                    leaky / vanilla for each metric
  robustness.png    mean error against evaluation noise, one panel per
                    training noise, one line per cell / tau (mean +- s.e.m.)
  lvn_summary.txt   the headline in words

Only numpy, pandas, matplotlib (Agg) and analysis/sweep_results.py.
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

METRICS = ["final_err_cm", "err_train_len", "err_end", "growth_cm_step", "grid_frac", "grid_frac_null"]


def task_metrics(res, df):
    err = res.curve("eval_err_cm", df)              # (n, S, E)
    levels = np.asarray(res.eval_noise, float)
    out = df[["id", "cell", "tau", "noise", "seed", "seq_len", "final_err_cm",
              "grid_frac", "grid_frac_null", "max_score60"]].copy().reset_index(drop=True)
    E = err.shape[2]
    t = np.arange(1, E + 1, dtype=float)
    e0 = err[:, 0, :]
    T = int(df["seq_len"].iloc[0])
    out["err_train_len"] = np.nanmean(e0[:, :min(T, E)], axis=1)
    out["err_end"] = e0[:, -1]
    tc = t - t.mean()
    out["growth_cm_step"] = ((e0 - np.nanmean(e0, axis=1, keepdims=True)) * tc).sum(axis=1) / (tc ** 2).sum()
    base = np.nanmean(err[:, 0, :], axis=1)
    for s, lv in enumerate(levels):
        m = np.nanmean(err[:, s, :], axis=1)
        out[f"err_eval{lv:g}"] = m
        out[f"robust_{lv:g}"] = m / base
    return out, levels


def main(argv=None):
    a, res = sr.study_cli("Leak-vs-noise study tables (Zhang et al. 2026).", argv)
    df = res.tasks[res.tasks["status"] == "done"].reset_index(drop=True)
    if df.empty or "cell" not in df:
        print("study_leak_vs_noise: no done tasks with a cell column; nothing to do")
        return 0
    tab, levels = task_metrics(res, df)
    tab["tau_key"] = np.where(tab["cell"] == "vanilla", "n/a", tab["tau"].map(lambda v: f"{v:g}"))
    tab.to_csv(os.path.join(a.outdir, "lvn_tasks.csv"), index=False)
    rob = [f"robust_{lv:g}" for lv in levels] + [f"err_eval{lv:g}" for lv in levels]
    metrics = METRICS + rob
    grp = sr.group_mean_sem(tab, ["cell", "tau_key", "noise"], metrics)
    grp.to_csv(os.path.join(a.outdir, "lvn_groups.csv"), index=False)

    # headline per training noise: vanilla vs each leaky tau and the best tau
    head, lines = [], []
    best_tau = None
    leaky = grp[grp["cell"] == "leaky"]
    if not leaky.empty:
        best_tau = leaky.groupby("tau_key")["final_err_cm_mean"].mean().idxmin()
    top = f"robust_{levels[-1]:g}"
    for nz in sorted(grp["noise"].unique()):
        van = grp[(grp["cell"] == "vanilla") & (grp["noise"] == nz)]
        for _, r in grp[(grp["cell"] == "leaky") & (grp["noise"] == nz)].iterrows():
            row = {"noise": nz, "tau": r["tau_key"], "best_tau": r["tau_key"] == best_tau, "n_leaky": r["n"]}
            for m in METRICS + [top]:
                row["leaky_" + m] = r[m + "_mean"]
                row["leaky_" + m + "_sem"] = r[m + "_sem"]
                if not van.empty:
                    v = van.iloc[0]
                    row["vanilla_" + m] = v[m + "_mean"]
                    row["vanilla_" + m + "_sem"] = v[m + "_sem"]
                    row["ratio_" + m] = r[m + "_mean"] / v[m + "_mean"] if v[m + "_mean"] else np.nan
            row["n_vanilla"] = van.iloc[0]["n"] if not van.empty else 0
            head.append(row)
    hd = pd.DataFrame(head)
    hd.to_csv(os.path.join(a.outdir, "lvn_headline.csv"), index=False)
    lines.append(f"leak_vs_noise: {len(df)} done tasks; best leaky tau (mean final error over noise): {best_tau}")
    lines.append(f"per training noise: mean final error (cm, eval noise 0, whole {res.curve('eval_err_cm', df).shape[2]}-step "
                 f"trajectory), error over the training length, growth (cm/step), "
                 f"error ratio at eval noise {levels[-1]:g} vs 0, plain / null grid fraction; mean +- s.e.m. over seeds")
    for nz in sorted(grp["noise"].unique()):
        for _, r in grp[grp["noise"] == nz].sort_values(["cell", "tau_key"], ascending=[False, True]).iterrows():
            lines.append(f"  noise={nz:g} {r['cell']:8s} tau={r['tau_key']:>4s} n={r['n']}: "
                         f"final {r['final_err_cm_mean']:6.2f} +- {r['final_err_cm_sem']:.2f}  "
                         f"train-len {r['err_train_len_mean']:6.2f} +- {r['err_train_len_sem']:.2f}  "
                         f"growth {r['growth_cm_step_mean']:.3f}  "
                         f"robust {r[top + '_mean']:.2f}  "
                         f"grid {r['grid_frac_mean']:.3f}/{r['grid_frac_null_mean']:.3f}")
    sr.write_summary(a.outdir, "lvn_summary.txt", lines)

    # robustness plot
    noises = sorted(grp["noise"].unique())
    fig, axs = plt.subplots(1, len(noises), figsize=(2.9 * len(noises) + 1.8, 3.2), sharey=True, squeeze=False)
    keys = grp[["cell", "tau_key"]].drop_duplicates().sort_values(["cell", "tau_key"], ascending=[False, True])
    cmap = plt.get_cmap("viridis")
    leaky_taus = [k for c, k in keys.itertuples(index=False) if c == "leaky"]
    xs = np.arange(len(levels))
    for j, nz in enumerate(noises):
        ax = axs[0, j]
        for c, tk in keys.itertuples(index=False):
            r = grp[(grp["cell"] == c) & (grp["tau_key"] == tk) & (grp["noise"] == nz)]
            if r.empty:
                continue
            r = r.iloc[0]
            y = np.array([r[f"err_eval{lv:g}_mean"] for lv in levels])
            e = np.array([r[f"err_eval{lv:g}_sem"] for lv in levels])
            if c == "vanilla":
                ax.errorbar(xs, y, yerr=e, color="k", ls="--", lw=1.4, capsize=2, label="vanilla")
            else:
                col = cmap(leaky_taus.index(tk) / max(1, len(leaky_taus) - 1) * 0.85)
                ax.errorbar(xs, y, yerr=e, color=col, lw=1.4, capsize=2, label=f"leaky tau={tk}")
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{lv:g}" for lv in levels], rotation=45, fontsize=7)
        ax.set_title(f"training noise={nz:g}", fontsize=9)
        ax.set_xlabel("evaluation noise")
    axs[0, 0].set_ylabel("mean decoding error (cm)")
    axs[0, -1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    fig.suptitle("Robustness to evaluation noise (mean +- s.e.m. over seeds)", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(a.outdir, "robustness.png"), dpi=80)
    plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
