"""sweep_results -- load sweep result files (HDF5) into pandas.

    import sys; sys.path.insert(0, "analysis")
    import sweep_results as sr

    res = sr.load(["run.h5"])                 # or several: shards, resumed runs
    df = res.tasks                            # one row per task (pandas)
    sr.aggregate(df, by=["cell", "tau", "noise"])   # mean/std/sem/n over seeds
    curves = res.curve("eval_err_cm")         # (tasks, S, E), rows as in df
    res.ratemaps(task_id)                     # {unit: (G, G) map} if stored
    res.replay("speed_cm")                    # /replay/NAME rows (tasks with replay on)
    res.replay_trajectories(task_id)          # (K, H+1, 2) decoded replays, m

Format: docs/results-format.md (written by the C program, src/h5out.c).
`load` merges files of the same spec (same root attribute spec_hash): shards
of one sweep and separate runs of it.  Rows are keyed by the global task id;
when a task appears in several files the best status wins
(done > diverged > failed > pending), ties going to the file started last.
Files of different specs are refused (ValueError) unless allow_mixed=True.

Columns of `tasks`: id, every setting (enum byte strings decoded to str;
settings a task's cell ignores are NaN / -1 as stored), status (str), rank,
wall_s, train_s, eval_s, steps_done, final_loss, final_err_cm, grid_frac,
max_score60, mean_score60, null_threshold, grid_frac_null (the shuffle-null
grid classification next to the plain grid_frac; NaN without a null),
replay_speed_cm, replay_kl (NaN without replay), message, plus every
/replay per-task metric as a `replay_<name>` column when a file has
/replay (replay_sigma, replay_speed_ratio, replay_spread_cm2, ...), `file`
(path it came from) and `row` (its row in that file).  Only numpy, pandas
and h5py are needed.
"""
import os

import h5py
import numpy as np
import pandas as pd

STATUS_RANK = {"done": 3, "diverged": 2, "failed": 1, "pending": 0}
# per-task metrics of /replay (docs/results-format.md); loaded as replay_<name>
REPLAY_METRICS = ["sigma", "speed_cm", "real_step_cm", "speed_ratio", "spread_cm2", "coverage",
                  "mean_first_visit", "outside", "kl", "kl_uniform", "kl_untrained", "n_in"]
REPLAY_COLUMNS = ["replay_" + m for m in REPLAY_METRICS]
SUMMARY_COLUMNS = ["final_err_cm", "final_loss", "grid_frac", "grid_frac_null", "null_threshold",
                   "max_score60", "mean_score60", "wall_s", "steps_done",
                   "replay_speed_cm", "replay_speed_ratio", "replay_spread_cm2", "replay_coverage",
                   "replay_kl", "replay_kl_uniform", "replay_kl_untrained"]
BOOKKEEPING = {"id", "status", "rank", "wall_s", "train_s", "eval_s", "steps_done",
               "final_loss", "final_err_cm", "grid_frac", "max_score60", "mean_score60",
               "null_threshold", "grid_frac_null", "message", "file", "row"} | set(REPLAY_COLUMNS)


def _str(v):
    """An HDF5 attribute / element as a Python str."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace").rstrip("\0")
    if isinstance(v, np.ndarray) and v.shape == ():
        return _str(v[()])
    return str(v)


def _strlist(v):
    if v is None:
        return []
    if isinstance(v, (str, bytes)):
        return [s for s in _str(v).replace(",", " ").split() if s]
    return [_str(x) for x in np.asarray(v).ravel()]


def read_tasks(path):
    """(DataFrame of /tasks, root attributes dict, axes list) of one file."""
    with h5py.File(path, "r") as f:
        if "tasks" not in f:
            raise ValueError(f"{path}: no /tasks dataset: not a sweep result file")
        ds = f["tasks"]
        rec = ds[...]
        attrs = {k: (_str(v) if isinstance(v, (bytes, str)) or
                     (isinstance(v, np.ndarray) and v.dtype.kind in "SUO" and v.shape == ())
                     else v) for k, v in f.attrs.items()}
        axes = _strlist(ds.attrs.get("axes"))
        replay = {}
        if "replay" in f:
            for m in REPLAY_METRICS:
                if m in f["replay"]:
                    replay["replay_" + m] = f["replay"][m][...]
    cols = {}
    for name in rec.dtype.names:
        col = rec[name]
        if col.dtype.kind == "S":
            col = np.char.decode(np.char.rstrip(col, b"\0"), "utf-8", "replace")
            col = np.char.strip(col)
        elif col.dtype.kind == "O":
            col = np.array([_str(x) for x in col])
        cols[name] = col
    for name, col in replay.items():
        if name not in cols or name == "replay_speed_cm" or name == "replay_kl":
            cols[name] = col      # /replay's values (equal to the /tasks summaries)
    df = pd.DataFrame(cols)
    df["file"] = os.path.abspath(path)
    df["row"] = np.arange(len(df))
    return df, attrs, axes


class Results:
    """Tasks of one or more result files, merged; lazy access to the arrays."""

    def __init__(self, tasks, attrs, axes, files):
        self.tasks = tasks          # DataFrame, one row per task id, sorted by id
        self.attrs = attrs          # root attributes of the newest file
        self.axes = axes            # sweep axes (from /tasks attribute "axes")
        self.files = files          # paths, in load order

    # -- arrays, aligned with self.tasks rows --------------------------------
    def _gather(self, dsname, df=None):
        """Rows of dataset dsname for df's tasks, in df's order.  Files may be
        padded to different sizes (each file is sized from its own tasks, e.g.
        shards with different largest hidden size): the result has the largest
        shape, padded with NaN (floats) or -1 (integers), as in the file.
        None if no file has the dataset."""
        df = self.tasks if df is None else df
        parts = []
        for path, grp in df.groupby("file", sort=False):
            with h5py.File(path, "r") as f:
                if dsname not in f:
                    continue
                ds = f[dsname]
                rows = grp["row"].to_numpy()
                order = np.argsort(rows)
                data = ds[np.sort(rows).tolist()] if len(rows) else ds[0:0]
                part = np.empty_like(data)
                part[order] = data
            parts.append((df.index.get_indexer(grp.index), part))
        if not parts:
            return None
        tail = tuple(max(p.shape[d] for _, p in parts) for d in range(1, parts[0][1].ndim))
        dtype = np.result_type(*[p.dtype for _, p in parts])
        out = np.full((len(df),) + tail, -1 if dtype.kind in "iu" else np.nan, dtype=dtype)
        for pos, part in parts:
            out[(pos,) + tuple(slice(0, n) for n in part.shape[1:])] = part
        return out

    def curve(self, name, df=None):
        """/curves/NAME rows for the tasks of df (default: all), in df's order."""
        return self._gather("curves/" + name, df)

    def units(self, name, df=None):
        """/units/NAME rows (score60, score90, border, mask60, ...) for df's tasks."""
        return self._gather("units/" + name, df)

    def replay(self, name, df=None):
        """/replay/NAME rows (speed_cm, traj, occ, occ_real, ...) for df's
        tasks; None when no file has /replay.  Rows of tasks without replay
        are NaN / -1."""
        return self._gather("replay/" + name, df)

    @property
    def has_replay(self):
        for p in self.files:
            with h5py.File(p, "r") as f:
                if "replay" in f:
                    return True
        return False

    def replay_trajectories(self, task_id):
        """(K, H+1, 2) decoded replay trajectories of one task, m (padding
        cropped; K = 0 when the task has no replay), and its real occupancy
        (G, G) (probability per in-arena bin, NaN outside; None if absent)."""
        row = self.tasks.loc[self.tasks["id"] == task_id]
        if row.empty:
            raise KeyError(task_id)
        path, r = row["file"].iloc[0], int(row["row"].iloc[0])
        with h5py.File(path, "r") as f:
            if "replay" not in f:
                return np.zeros((0, 0, 2), np.float32), None
            traj = f["replay/traj"][r]
            occ = f["replay/occ_real"][r]
        keep = np.isfinite(traj[:, :, 0]).any(axis=1)
        traj = traj[keep]
        h = int(np.isfinite(traj[:, :, 0]).any(axis=0).sum()) if len(traj) else 0
        g = int(row["ratemap_bins"].iloc[0]) if "ratemap_bins" in row else occ.shape[-1]
        g = g if 0 < g <= occ.shape[-1] else occ.shape[-1]
        return traj[:, :h], occ[:g, :g]

    @property
    def eval_noise(self):
        with h5py.File(self.files[-1], "r") as f:
            return f["curves/eval_noise"][...] if "curves/eval_noise" in f else np.array([])

    @property
    def has_ratemaps(self):
        for p in self.files:
            with h5py.File(p, "r") as f:
                if "units/ratemaps" in f and f["units/ratemaps"].shape[1] > 0:
                    return True
        return False

    def ratemaps(self, task_id):
        """{unit index: (G, G) map} stored for one task ({} if none); G is the
        task's ratemap_bins, row = y bin, column = x bin, NaN = unvisited."""
        row = self.tasks.loc[self.tasks["id"] == task_id]
        if row.empty:
            raise KeyError(task_id)
        path, r = row["file"].iloc[0], int(row["row"].iloc[0])
        with h5py.File(path, "r") as f:
            if "units/ratemaps" not in f:
                return {}
            maps = f["units/ratemaps"][r]
            units = f["units/ratemap_unit"][r]
        # maps are padded (NaN) to the largest bins of the sweep: crop to this task's
        g = int(row["ratemap_bins"].iloc[0]) if "ratemap_bins" in row else maps.shape[-1]
        g = g if 0 < g <= maps.shape[-1] else maps.shape[-1]
        return {int(u): m[:g, :g] for u, m in zip(units, maps) if u >= 0}


def load(paths, allow_mixed=False):
    """Load and merge result files; returns a Results (see module doc)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise ValueError("no result files given")
    parts, metas = [], []
    for p in paths:
        df, attrs, axes = read_tasks(p)
        parts.append(df)
        metas.append((attrs, axes, p))
    hashes = {m[0].get("spec_hash") for m in metas}
    if len(hashes) > 1 and not allow_mixed:
        desc = ", ".join(f"{m[2]}: {m[0].get('spec_hash')}" for m in metas)
        raise ValueError(f"files of different specs (spec_hash differs): {desc}")
    # later start_time wins ties: order the files by it (stable for equal times)
    order = sorted(range(len(paths)), key=lambda i: str(metas[i][0].get("start_time", "")))
    for k, i in enumerate(order):
        parts[i]["_file_order"] = k
    all_rows = pd.concat(parts, ignore_index=True)
    all_rows["_status_rank"] = all_rows["status"].map(STATUS_RANK).fillna(-1)
    all_rows = all_rows.sort_values(["id", "_status_rank", "_file_order"])
    merged = all_rows.drop_duplicates("id", keep="last")
    merged = merged.drop(columns=["_status_rank", "_file_order"]).sort_values("id")
    merged = merged.reset_index(drop=True)
    newest = metas[order[-1]]
    axes = newest[1] or infer_axes(merged)
    return Results(merged, newest[0], axes, [os.path.abspath(p) for p in paths])


def load_tasks(paths, allow_mixed=False):
    """Just the merged task table (pandas DataFrame)."""
    return load(paths, allow_mixed).tasks


def setting_columns(df):
    return [c for c in df.columns if c not in BOOKKEEPING and not c.startswith("_")]


def infer_axes(df):
    """Settings that take more than one value (NaN counts as a value)."""
    out = []
    for c in setting_columns(df):
        if df[c].nunique(dropna=False) > 1:
            out.append(c)
    return out


def varying(df, axes):
    """The axes that actually take more than one value in df."""
    return [a for a in axes if a in df.columns and df[a].nunique(dropna=False) > 1]


def aggregate(df, by=None, metrics=None, status="done"):
    """Mean and spread over the remaining axes (by default: over seeds).

    by: grouping columns (default: every varying axis except seed).
    metrics: columns to summarise (default: the summary columns present).
    status: keep only rows with this status (None: keep all; NaN values are
    skipped either way).  Returns one row per group with <m>_mean, <m>_std,
    <m>_sem, <m>_n for each metric, plus n_tasks and n_<status> counts.
    NaN group keys (an ignored setting, e.g. tau of a vanilla cell) form
    their own group.
    """
    if by is None:
        by = [a for a in infer_axes(df) if a != "seed"]
    by = [b for b in by if b in df.columns]
    if metrics is None:
        metrics = [m for m in SUMMARY_COLUMNS if m in df.columns]
    counts_src = df.copy()
    rows = df if status is None else df[df["status"] == status]
    if not by:
        rows = rows.assign(_all="all")
        counts_src = counts_src.assign(_all="all")
        by = ["_all"]
    g = rows.groupby(by, dropna=False, sort=True)
    out = pd.DataFrame(index=g.size().index)
    for m in metrics:
        vals = g[m]
        n = vals.count()
        out[m + "_mean"] = vals.mean()
        out[m + "_std"] = vals.std(ddof=1)
        out[m + "_sem"] = out[m + "_std"] / np.sqrt(n.where(n > 0))
        out[m + "_n"] = n
    cg = counts_src.groupby(by, dropna=False, sort=True)
    counts = cg.size().rename("n_tasks").to_frame()
    for s in STATUS_RANK:
        counts["n_" + s] = cg["status"].agg(lambda x, s=s: int((x == s).sum()))
    out = counts.join(out, how="left")
    out = out.reset_index()
    if "_all" in out.columns:
        out = out.drop(columns=["_all"])
    return out


def status_counts(df):
    """Counts by status, in the order done, diverged, failed, pending (+ others)."""
    c = df["status"].value_counts()
    order = [s for s in STATUS_RANK if s in c.index] + [s for s in c.index if s not in STATUS_RANK]
    return c.reindex(order)


def sac(ratemap):
    """Spatial autocorrelogram, (2G-1, 2G-1): Pearson correlation of the
    overlapping bins at every lag, unvisited (NaN) bins counted as 0
    (docs/science.md section 5, gridness step 1).  Lags with a constant overlap are NaN."""
    from scipy.signal import correlate2d
    x = np.nan_to_num(np.asarray(ratemap, dtype=float), nan=0.0)
    ones = np.ones_like(x)
    n = correlate2d(ones, ones)
    sx = correlate2d(x, ones)          # sum of x over the overlap at each lag
    sy = correlate2d(ones, x)          # sum of the shifted copy over the overlap
    sxx = correlate2d(x * x, ones)
    syy = correlate2d(ones, x * x)
    sxy = correlate2d(x, x)
    num = n * sxy - sx * sy
    den = np.sqrt(np.clip(n * sxx - sx ** 2, 0, None) * np.clip(n * syy - sy ** 2, 0, None))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    r[den <= 1e-12 * max(1.0, float(np.max(den)))] = np.nan
    return r


def study_cli(description, argv=None, extra=None):
    """The command line of the study scripts (analysis/study_*.py):
    `FILES... -o OUTDIR` plus the options extra(parser) adds.  Creates
    OUTDIR and loads the files; returns (args, Results)."""
    import argparse
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("files", nargs="+")
    ap.add_argument("-o", "--outdir", required=True)
    if extra:
        extra(ap)
    a = ap.parse_args(argv)
    os.makedirs(a.outdir, exist_ok=True)
    return a, load(a.files)


def write_summary(outdir, name, lines):
    """Write lines to OUTDIR/NAME (one per line) and print them."""
    text = "\n".join(lines)
    with open(os.path.join(outdir, name), "w") as f:
        f.write(text + "\n")
    print(text)
