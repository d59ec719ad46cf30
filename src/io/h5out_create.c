/* h5out_create.c -- a new result file: every object created at start-up.
 *
 * Dimensions as in h5out.h.  The file is built as PATH.creating: its
 * attributes, /tasks (settings filled in, status pending), /curves,
 * /units and /replay with fill values, flushed, fsynced and renamed into
 * place, so a kill during start-up leaves no half-made result file.
 */
#include "io/h5out_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/sweep.h"
#include "io/check.h"
#include "io/h5attr.h"
#include "io/rows.h"

static long create_delay_cache = -1;

static int n_maps_of(const TaskConfig *c)
{
    if (c->save_ratemaps == SAVE_ALL) return c->hidden;
    if (c->save_ratemaps == SAVE_TOP) return c->save_top_k < c->hidden ? c->save_top_k : c->hidden;
    return 0;
}

/* The dimensions: each the largest over the rows (at least 1). */
static void dims_from_rows(H5Out *o, const H5OutMeta *meta, const TaskConfig *tasks, const int *task_ids, int n)
{
    o->n_rows = n;
    o->S = meta->n_eval_noise;
    o->L = o->E = o->nmax = 1;
    o->M = 0;
    o->G = 1;
    o->has_snap = o->KS = 0;
    for (int r = 0; r < n; r++) {
        const TaskConfig *c = &tasks[task_ids[r]];
        int L = config_n_logged(c), E = config_eval_len(c), M = n_maps_of(c);
        if (L > o->L) o->L = L;
        if (E > o->E) o->E = E;
        if (c->hidden > o->nmax) o->nmax = c->hidden;
        if (M > o->M) o->M = M;
        if (M > 0 && c->ratemap_bins > o->G) o->G = c->ratemap_bins;
        if (c->n_eval_noise > o->S) o->S = c->n_eval_noise;
        int KS = config_n_snapshots(c);
        if (KS > 0) {
            o->has_snap = 1;
            if (KS > o->KS) o->KS = KS;
        }
        if (c->replay) {
            int K = c->replay_keep < c->replay_starts ? c->replay_keep : c->replay_starts;
            if (!o->has_replay) o->RK = o->RH = o->RG = 1;
            o->has_replay = 1;
            if (K > o->RK) o->RK = K;
            if (c->replay_steps + 1 > o->RH) o->RH = c->replay_steps + 1;
            if (c->ratemap_bins > o->RG) o->RG = c->ratemap_bins;
        }
    }
}

/* A contiguous, early-allocated dataset filled with fill (of memory type
 * mtype), with "units" and "dims" attributes; -1 on failure. */
static hid_t dset_create(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *fill, int ndim,
                         const hsize_t *dims, const char *units, const char *dimnames)
{
    hid_t s = -1, dcpl = -1, d = -1;
    if ((s = H5Screate_simple(ndim, dims, NULL)) < 0) goto fail;
    if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0) goto fail;
    if (H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 || H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) < 0 || H5Pset_fill_value(dcpl, mtype, fill) < 0)
        goto fail;
    if ((d = H5Dcreate2(loc, name, ftype, s, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) goto fail;
    if (units && h5attr_write_str(d, "units", units) < 0) goto fail;
    if (dimnames && h5attr_write_str(d, "dims", dimnames) < 0) goto fail;
    H5Pclose(dcpl);
    H5Sclose(s);
    return d;
fail:
    if (d >= 0) H5Dclose(d);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (s >= 0) H5Sclose(s);
    return -1;
}

static const float fnan = NAN;
static const int ineg = -1;
static const signed char cneg = -1;

static int root_attrs(H5Out *o, const H5OutMeta *meta, const char *start_time, int n_ranks)
{
    if (h5attr_write_str(o->file, "sweep_version", SWEEP_VERSION) < 0 ||
        h5attr_write_str(o->file, "spec_text", meta->spec_text) < 0 ||
        h5attr_write_str(o->file, "spec_canonical", meta->spec_canonical) < 0 ||
        h5attr_write_str(o->file, "spec_hash", meta->spec_hash) < 0 ||
        h5attr_write_str(o->file, "command_line", meta->command_line) < 0 ||
        h5attr_write_str(o->file, "start_time", start_time) < 0 ||
        h5attr_write_int(o->file, "n_ranks", n_ranks) < 0 ||
        h5attr_write_int(o->file, "n_tasks", meta->n_tasks) < 0 ||
        h5attr_write_int(o->file, "format_version", H5OUT_FORMAT_VERSION) < 0)
        return -1;
    if (meta->shard && h5attr_write_str(o->file, "shard", meta->shard) < 0) return -1;
    return 0;
}

/* /tasks: fill rows, its axes and the attributes that name its columns. */
static int create_tasks(H5Out *o, const RowLayout *l, const H5OutMeta *meta)
{
    unsigned char *fill = malloc(l->size);
    hsize_t dim = (hsize_t)o->n_rows;
    int rc = -1;
    if (!fill || (o->row_type = rows_type_create(l)) < 0) goto fail;
    rows_fill(l, fill);
    if ((o->d_tasks = dset_create(o->file, "tasks", o->row_type, o->row_type, fill, 1, &dim, NULL, "task")) < 0)
        goto fail;
    if (h5attr_write_strs(o->d_tasks, "axes", meta->axes, meta->n_axes) < 0) goto fail;
    if (rows_write_attrs(o->d_tasks) < 0) goto fail;
    rc = 0;
fail:
    free(fill);
    return rc;
}

/* /curves; *d_levels gets the eval_noise dataset (the caller writes and
 * closes it). */
static int create_curves(H5Out *o, hid_t *d_levels)
{
    hid_t g = H5Gcreate2(o->file, "curves", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[3] = {(hsize_t)o->n_rows, (hsize_t)o->L, 0};
    double dnan = NAN;
    int rc = -1;
    if (g < 0) return -1;
    if ((o->d_train_step = dset_create(g, "train_step", H5T_STD_I32LE, H5T_NATIVE_INT, &ineg, 2, dims, "steps",
                                       "task, logged point")) < 0 ||
        (o->d_train_loss = dset_create(g, "train_loss", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2, dims, "",
                                       "task, logged point")) < 0 ||
        (o->d_train_err = dset_create(g, "train_err_cm", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2, dims, "cm",
                                      "task, logged point")) < 0)
        goto fail;
    dims[1] = (hsize_t)o->S;
    dims[2] = (hsize_t)o->E;
    if ((o->d_eval_err = dset_create(g, "eval_err_cm", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 3, dims, "cm",
                                     "task, noise level, step")) < 0)
        goto fail;
    hsize_t sdim = (hsize_t)o->S;
    if ((*d_levels = dset_create(g, "eval_noise", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &dnan, 1, &sdim, "",
                                 "noise level")) < 0)
        goto fail;
    rc = 0;
fail:
    H5Gclose(g);
    return rc;
}

static int create_units(H5Out *o)
{
    hid_t g = H5Gcreate2(o->file, "units", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[4] = {(hsize_t)o->n_rows, (hsize_t)o->nmax, 0, 0};
    int rc = -1;
    if (g < 0) return -1;
    if ((o->d_score60 = dset_create(g, "score60", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2, dims, "",
                                    "task, unit")) < 0 ||
        (o->d_score90 = dset_create(g, "score90", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2, dims, "",
                                    "task, unit")) < 0 ||
        (o->d_border = dset_create(g, "border", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2, dims, "",
                                   "task, unit")) < 0 ||
        (o->d_mask60 = dset_create(g, "mask60", H5T_STD_I8LE, H5T_NATIVE_SCHAR, &cneg, 2, dims, "",
                                   "task, unit")) < 0 ||
        (o->d_grid_p = dset_create(g, "grid_p", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2, dims, "",
                                   "task, unit")) < 0 ||
        (o->d_grid_null = dset_create(g, "grid_null", H5T_STD_I8LE, H5T_NATIVE_SCHAR, &cneg, 2, dims, "",
                                      "task, unit")) < 0 ||
        (o->d_grid_class = dset_create(g, "grid_class", H5T_STD_I8LE, H5T_NATIVE_SCHAR, &cneg, 2, dims, "",
                                       "task, unit")) < 0 ||
        h5attr_write_strs(o->d_grid_class, "classes", h5out_class_names, GRIDCLASS_N) < 0 ||
        (o->d_n_peaks = dset_create(g, "n_peaks", H5T_STD_I8LE, H5T_NATIVE_SCHAR, &cneg, 2, dims, "",
                                    "task, unit")) < 0)
        goto fail;
    for (int i = 0; i < H5OUT_N_UNIT_F; i++)
        if ((o->d_unit[i] = dset_create(g, h5out_unit_fields[i].name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2,
                                        dims, h5out_unit_fields[i].units, "task, unit")) < 0)
            goto fail;
    if (o->M > 0) {
        dims[1] = (hsize_t)o->M;
        dims[2] = dims[3] = (hsize_t)o->G;
        if ((o->d_ratemap_unit = dset_create(g, "ratemap_unit", H5T_STD_I32LE, H5T_NATIVE_INT, &ineg, 2, dims, "",
                                             "task, map")) < 0 ||
            (o->d_ratemaps = dset_create(g, "ratemaps", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 4, dims, "",
                                         "task, map, y bin, x bin")) < 0)
            goto fail;
        dims[2] = RESULT_PEAK_FLOATS / 2;
        dims[3] = 2;
        if ((o->d_ratemap_peaks = dset_create(g, "ratemap_peaks", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 4, dims,
                                              "bins", "task, map, peak, lag x y")) < 0)
            goto fail;
    }
    rc = 0;
fail:
    H5Gclose(g);
    return rc;
}

/* /snapshots, only when some row has snapshot_every > 0. */
static int create_snapshots(H5Out *o)
{
    if (!o->has_snap) return 0;
    hid_t g = H5Gcreate2(o->file, "snapshots", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {(hsize_t)o->n_rows, (hsize_t)o->KS};
    int rc = -1;
    if (g < 0) return -1;
    if ((o->d_snap_step = dset_create(g, "step", H5T_STD_I32LE, H5T_NATIVE_INT, &ineg, 2, dims, "steps",
                                      "task, snapshot")) < 0 ||
        h5attr_write_strs(g, "classes", h5out_class_names, GRIDCLASS_N) < 0)
        goto fail;
    for (int i = 0; i < H5OUT_N_SNAP_F; i++)
        if ((o->d_snap[i] = dset_create(g, h5out_snap_fields[i].name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2,
                                        dims, h5out_snap_fields[i].units, "task, snapshot")) < 0)
            goto fail;
    for (int c = 0; c < GRIDCLASS_N; c++)
        if ((o->d_snap_frac[c] = dset_create(g, h5out_snap_frac_names[c], H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan,
                                             2, dims, "", "task, snapshot")) < 0)
            goto fail;
    rc = 0;
fail:
    H5Gclose(g);
    return rc;
}

/* /replay, only when some row has replay on. */
static int create_replay(H5Out *o)
{
    if (!o->has_replay) return 0;
    hid_t g = H5Gcreate2(o->file, "replay", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[4] = {(hsize_t)o->n_rows, (hsize_t)o->RK, (hsize_t)o->RH, 2};
    int rc = -1;
    if (g < 0) return -1;
    for (int i = 0; i < H5OUT_N_REPLAY_F; i++)
        if ((o->d_replay[i] = dset_create(g, h5out_replay_fields[i].name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan,
                                          1, dims, h5out_replay_fields[i].units, "task")) < 0)
            goto fail;
    if ((o->d_replay_n_in = dset_create(g, "n_in", H5T_STD_I32LE, H5T_NATIVE_INT, &ineg, 1, dims, "bins",
                                        "task")) < 0 ||
        (o->d_replay_traj = dset_create(g, "traj", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 4, dims, "m",
                                        "task, replay, step, xy")) < 0)
        goto fail;
    dims[1] = dims[2] = (hsize_t)o->RG;
    if ((o->d_replay_occ = dset_create(g, "occ", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 3, dims, "",
                                       "task, y bin, x bin")) < 0 ||
        (o->d_replay_occ_real = dset_create(g, "occ_real", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 3, dims, "",
                                            "task, y bin, x bin")) < 0)
        goto fail;
    rc = 0;
fail:
    H5Gclose(g);
    return rc;
}

/* Rank 0: the settings of every row and the noise levels. */
static int write_settings(H5Out *o, const RowLayout *l, const H5OutMeta *meta, const TaskConfig *tasks,
                          hid_t d_levels)
{
    int n = o->n_rows, rc = -1;
    unsigned char *rows = n > 0 ? malloc((size_t)n * l->size) : NULL;
    if (n > 0 && !rows) return -1;
    for (int r = 0; r < n; r++)
        rows_pack(l, rows + (size_t)r * l->size, o->task_ids[r], &tasks[o->task_ids[r]], NULL, 0, -1);
    if (n > 0 && h5out_rows_io(o, o->row_type, 0, n, rows, 1) < 0) goto fail;
    hsize_t z = 0, sdim = (hsize_t)o->S;
    double levels[SWEEP_MAX_EVAL_NOISE];
    for (int i = 0; i < o->S; i++) levels[i] = i < meta->n_eval_noise ? meta->eval_noise[i] : NAN;
    if (h5out_block_io(o, d_levels, H5T_NATIVE_DOUBLE, 1, &z, &sdim, levels, 1) < 0) goto fail;
    rc = 0;
fail:
    free(rows);
    return rc;
}

/* Every object of the open o->file, and the settings rows.  Collective;
 * returns 0 or -1 (err set when the reason is known). */
static int build(H5Out *o, const H5OutMeta *meta, const TaskConfig *tasks, const char *start_time, int rank,
                 int size, const char *path, char *err, size_t errlen)
{
    RowLayout l;
    hid_t d_levels = -1;
    int rc = -1;
    rows_layout(&l);
    if (root_attrs(o, meta, start_time, size) < 0 || create_tasks(o, &l, meta) < 0 ||
        create_curves(o, &d_levels) < 0 || create_units(o) < 0 || create_replay(o) < 0 ||
        create_snapshots(o) < 0)
        goto fail;
    if (h5out_dxpl_and_fd(o) < 0) {
        snprintf(err, errlen, "%s: cannot reopen for fsync: %s", path, strerror(errno));
        goto fail;
    }
    /* every rank has finished creating (fill values written) before rank 0
     * writes the settings rows and the levels */
    CHECK_MPI(MPI_Barrier(o->comm));
    int wrc = rank == 0 ? write_settings(o, &l, meta, tasks, d_levels) : 0;
    CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &wrc, 1, MPI_INT, MPI_MIN, o->comm));
    if (wrc < 0) goto fail;
    rc = 0;
fail:
    if (d_levels >= 0) H5Dclose(d_levels);
    return rc;
}

int h5out_create(H5Out **out, const char *path, const H5OutMeta *meta, const TaskConfig *tasks,
                 const int *task_ids, int n, MPI_Comm comm, char *err, size_t errlen)
{
    hid_t fapl = -1;
    int rank = 0, size = 1, ok = 0;
    H5Out *o = NULL;
    *out = NULL;
    if (errlen > 0) err[0] = '\0';
    CHECK_MPI(MPI_Comm_rank(comm, &rank));
    CHECK_MPI(MPI_Comm_size(comm, &size));

    /* refuse an existing file: rank 0 decides for everyone */
    int exists = 0;
    if (rank == 0) exists = access(path, F_OK) == 0;
    CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
    if (exists) {
        snprintf(err, errlen, "%s: output file exists (use --resume to continue it, --force to replace it)", path);
        return -1;
    }
    if (!(o = h5out_new(comm))) sweep_fatal(__FILE__, __LINE__, "out of memory");
    snprintf(o->path, sizeof o->path, "%s", path);
    if (lock_acquire(&o->lock, path, comm, err, errlen) < 0) goto fail;

    dims_from_rows(o, meta, tasks, task_ids, n);
    if (!(o->task_ids = malloc((n ? (size_t)n : 1) * sizeof *o->task_ids))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    memcpy(o->task_ids, task_ids, (size_t)n * sizeof *task_ids);

    /* start time and n_ranks: rank 0's view for everyone */
    char start_time[32] = "";
    if (rank == 0) {
        time_t now = time(NULL);
        struct tm tmv;
        gmtime_r(&now, &tmv);
        strftime(start_time, sizeof start_time, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    }
    CHECK_MPI(MPI_Bcast(start_time, sizeof start_time, MPI_CHAR, 0, comm));

    /* build the file under a temporary name and rename it into place once
     * complete: a kill during start-up leaves no half-made result file */
    snprintf(o->path, sizeof o->path, "%s.creating", path);
    if (rank == 0) unlink(o->path);
    CHECK_MPI(MPI_Barrier(comm));
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) goto fail;
    if ((o->file = H5Fcreate(o->path, H5F_ACC_EXCL, H5P_DEFAULT, fapl)) < 0) {
        snprintf(err, errlen, "%s: cannot create the result file (directory missing or not writable?)", path);
        goto fail;
    }
    if (build(o, meta, tasks, start_time, rank, size, path, err, errlen) < 0) goto fail;
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) goto fail;
    if (rank == 0 && fsync(o->sync_fd) != 0) sweep_log("%s: fsync: %s", path, strerror(errno));
    long cdelay = rank == 0 ? h5out_test_delay_ms("SWEEP_TEST_CREATE_DELAY_MS", &create_delay_cache) : 0;
    if (cdelay > 0) {
        sweep_log("test hook: %s built, sleeping %ld ms before renaming it into place (SWEEP_TEST_CREATE_DELAY_MS)",
                  o->path, cdelay);
        h5out_test_sleep_ms(cdelay);
    }
    int mv = 0;
    if (rank == 0 && rename(o->path, path) != 0) {
        mv = -1;
        snprintf(err, errlen, "%s: cannot rename %s into place: %s", path, o->path, strerror(errno));
    }
    CHECK_MPI(MPI_Bcast(&mv, 1, MPI_INT, 0, comm));
    if (mv < 0) {
        if (!err[0]) snprintf(err, errlen, "%s: cannot rename the new file into place", path);
        goto fail;
    }
    snprintf(o->path, sizeof o->path, "%s", path);
    ok = 1;
fail:
    if (fapl >= 0) H5Pclose(fapl);
    if (ok) {
        *out = o;
        return 0;
    }
    if (!err[0]) snprintf(err, errlen, "%s: HDF5 error while creating the result file", path);
    int was_open = o->file >= 0;
    char tmp_path[sizeof o->path];
    snprintf(tmp_path, sizeof tmp_path, "%s", o->path);
    int crc = h5out_close(o);
    if (rank == 0 && was_open && strcmp(tmp_path, path) != 0) unlink(tmp_path);
    if (crc < 0) {
        /* HDF5 could not close the file (a write failed: disk full); its
         * library shutdown in MPI_Finalize would touch the half-closed
         * file and crash: stop here with the I/O status */
        if (rank == 0) fprintf(stderr, "sweep: %s (the result file could not be closed)\n", err);
        fflush(stderr);
        MPI_Abort(comm, SWEEP_EXIT_IO);
    }
    return -1;
}
