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
    res.units("grid_class")                   # (tasks, N) class codes; res.class_names
    res.ratemap_peaks(task_id)                # {unit: (6, 2) SAC peak lags (x, y), bins}
    res.snapshot("max_score60")               # /snapshots/NAME (tasks, K); res.has_snapshots

Format: docs/results-format.md (written by the C program, src/io/).
`load` merges files of the same spec (same root attribute spec_hash): shards
of one sweep and separate runs of it.  Rows are keyed by the global task id;
when a task appears in several files the best status wins (the file's
status_order attribute: done > diverged > failed > pending, as `sweep
merge`), ties going to the file started last.
Files of different specs are refused (ValueError) unless allow_mixed=True.

Columns of `tasks`: id, every setting (enum byte strings decoded to str;
settings a task's cell ignores are NaN / -1 as stored), the result columns
of /tasks (status as str, rank, timings, summaries, message: the file names
them in the /tasks attributes result_columns / result_units / result_roles,
written from src/io/columns.def; docs/results-format.md), every /replay
per-task metric as a `replay_<name>` column when a file has /replay
(replay_sigma, replay_speed_ratio, replay_spread_cm2, ...), `file` (path it
came from) and `row` (its row in that file).  Only numpy, pandas and h5py
are needed.
"""
import os

import h5py
import numpy as np
import pandas as pd

# What the loaded files say about their columns (read_tasks fills these):
# name -> role ("key", "info", "metric", as result_roles) of every column
# that is not a setting, and name -> unit.  Columns of /replay join as
# replay_<name>, role "metric".
COLUMN_ROLES = {}
COLUMN_UNITS = {}
# status -> preference when a task is in several files (higher wins), from
# the /tasks attribute status_order (the merge rule of `sweep merge`)
STATUS_RANK = {}
_LOADER_COLUMNS = {"file", "row"}


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


def _layout(ds, names):
    """(result columns, units, roles, status order) of a /tasks dataset.
    Files written before the attributes existed: the format-1 structure
    (id, the settings, then from status on the results), roles unknown
    (every numeric result but id and rank taken as a metric), and the
    status order of their enum (pending, done, diverged, failed) as
    written by `sweep merge` then: done > diverged > failed > pending."""
    if "result_columns" in ds.attrs:
        cols = _strlist(ds.attrs["result_columns"])
        units = _strlist(ds.attrs.get("result_units"))
        roles = _strlist(ds.attrs.get("result_roles"))
        order = _strlist(ds.attrs.get("status_order"))
        return cols, units, roles, order
    names = list(names)
    cols = names[:1] + names[names.index("status"):] if "status" in names else names[:1]
    kinds = {n: ds.dtype[n].kind for n in cols}
    roles = ["key" if i == 0 else "metric" if kinds[n] in "iuf" and n != "rank" else "info"
             for i, n in enumerate(cols)]
    return cols, [""] * len(cols), roles, ["pending", "failed", "diverged", "done"]


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
        cols, units, roles, order = _layout(ds, rec.dtype.names)
        replay = {}
        if "replay" in f:
            for m, d in f["replay"].items():
                if isinstance(d, h5py.Dataset) and d.ndim == 1:   # one value per task
                    replay["replay_" + m] = (d[...], _str(d.attrs.get("units", "")))
    for i, name in enumerate(cols):
        COLUMN_ROLES.setdefault(name, roles[i] if i < len(roles) else "info")
        COLUMN_UNITS.setdefault(name, units[i] if i < len(units) else "")
    for name, (_v, unit) in replay.items():
        COLUMN_ROLES.setdefault(name, "metric")
        COLUMN_UNITS.setdefault(name, unit)
    for k, st in enumerate(order):
        STATUS_RANK.setdefault(st, k)
    data = {}
    for name in rec.dtype.names:
        col = rec[name]
        if col.dtype.kind == "S":
            col = np.char.decode(np.char.rstrip(col, b"\0"), "utf-8", "replace")
            col = np.char.strip(col)
        elif col.dtype.kind == "O":
            col = np.array([_str(x) for x in col])
        data[name] = col
    for name, (col, _unit) in replay.items():
        data[name] = col      # /replay's values (equal to the /tasks summaries of the same name)
    df = pd.DataFrame(data)
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

    def snapshot(self, name, df=None):
        """/snapshots/NAME rows (step, max_score60, mean_score60, grid_frac,
        frac_<class>) for df's tasks, (tasks, K); None when no file has
        /snapshots.  Rows of tasks without snapshots are -1 / NaN."""
        return self._gather("snapshots/" + name, df)

    @property
    def has_snapshots(self):
        for p in self.files:
            with h5py.File(p, "r") as f:
                if "snapshots" in f:
                    return True
        return False

    @property
    def class_names(self):
        """Names of the /units/grid_class codes, in code order (its attribute
        classes; src/base/gridclass.h); [] for files without classes."""
        for p in reversed(self.files):
            with h5py.File(p, "r") as f:
                if "units/grid_class" in f:
                    return _strlist(f["units/grid_class"].attrs.get("classes"))
        return []

    def ratemap_peaks(self, task_id):
        """{unit: (6, 2) lags (x, y) in bins of the six nearest SAC peaks}
        of the stored maps of one task (NaN rows: fewer than six peaks);
        {} when the file stores none."""
        row = self.tasks.loc[self.tasks["id"] == task_id]
        if row.empty:
            raise KeyError(task_id)
        path, r = row["file"].iloc[0], int(row["row"].iloc[0])
        with h5py.File(path, "r") as f:
            if "units/ratemap_peaks" not in f:
                return {}
            peaks = f["units/ratemap_peaks"][r]
            units = f["units/ratemap_unit"][r]
        return {int(u): p for u, p in zip(units, peaks) if u >= 0}

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
    """The settings columns of df: every column the files do not name as a
    result (and not the loader's own file / row)."""
    return [c for c in df.columns if c not in COLUMN_ROLES and c not in _LOADER_COLUMNS and not c.startswith("_")]


def metric_columns(df):
    """The per-task results worth summarising (role "metric"), in file order."""
    return [c for c, r in COLUMN_ROLES.items() if r == "metric" and c in df.columns]


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
    metrics: columns to summarise (default: the columns the files call
    "metric", metric_columns(df)).
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
        metrics = metric_columns(df)
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
    for s in sorted(STATUS_RANK, key=STATUS_RANK.get, reverse=True):
        counts["n_" + s] = cg["status"].agg(lambda x, s=s: int((x == s).sum()))
    out = counts.join(out, how="left")
    out = out.reset_index()
    if "_all" in out.columns:
        out = out.drop(columns=["_all"])
    return out


def status_counts(df):
    """Counts by status, in the order done, diverged, failed, pending (+ others)."""
    c = df["status"].value_counts()
    best_first = sorted(STATUS_RANK, key=STATUS_RANK.get, reverse=True)
    order = [s for s in best_first if s in c.index] + [s for s in c.index if s not in STATUS_RANK]
    return c.reindex(order)


def group_mean_sem(tab, keys, metrics):
    """One row per group of tab by keys (all of tab when keys is empty):
    the keys, n, and per metric its mean and s.e.m. over the group's finite
    values (NaN when there are none; s.e.m. NaN below two)."""
    by = keys if len(keys) != 1 else keys[0]
    items = tab.groupby(by, dropna=False, sort=True) if keys else [((), tab)]
    rows = []
    for k, sub in items:
        row = dict(zip(keys, k if isinstance(k, tuple) else (k,)))
        row["n"] = int(len(sub))
        for m in metrics:
            v = sub[m].to_numpy(float)
            v = v[np.isfinite(v)]
            row[m + "_mean"] = v.mean() if len(v) else np.nan
            row[m + "_sem"] = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


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


def draw_map_sac(ax_map, ax_sac, ratemap, peaks=None):
    """Draw a rate map (G, G) on ax_map and its autocorrelogram on ax_sac,
    with the six fitted SAC peaks (6, 2 lags in bins, as /units/ratemap_peaks)
    as white rings when they are all finite.  Axes are matplotlib's."""
    ax_map.imshow(np.ma.masked_invalid(ratemap), cmap="jet", origin="lower", interpolation="nearest")
    g = ratemap.shape[0]
    ax_sac.imshow(np.ma.masked_invalid(sac(ratemap)), cmap="jet", origin="lower", vmin=-1, vmax=1,
                  interpolation="nearest")
    if peaks is not None and np.isfinite(peaks).all():
        ax_sac.plot(peaks[:, 0] + g - 1, peaks[:, 1] + g - 1, "o", mfc="none", mec="w", mew=1.2, ms=5)


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
