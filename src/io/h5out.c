/* h5out.c -- the shared parallel HDF5 result file (docs/results-format.md).
 *
 * Dimensions: R rows, L logged points, S noise levels, E evaluation steps,
 * NMAX hidden units (largest over rows), M stored rate maps, G bins per side.
 *
 * Layout decisions (why the file survives kill -9):
 *  - default (oldest compatible) file format, every object created at
 *    start-up, contiguous storage allocated early with fill values, then a
 *    collective H5Fflush: afterwards only raw data are written, so the
 *    metadata on disk never change while tasks run;
 *  - a task's rows are written independently by the rank that ran it; its
 *    status is written last, after the data (and, with sync = task, after
 *    an fsync of them).
 */
#include "io/h5out.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/check.h"
#include "base/sweep.h"

/* ---- the /tasks row layout ------------------------------------------- */

enum {
    N_SETTINGS = 0
#define SETTING(section, key, kind, def, lo, hi, unit, doc) +1
#include "base/settings.def"
#undef SETTING
};

typedef struct RowLayout {
    size_t size;
    size_t off_id;
    size_t off_set[N_SETTINGS];
    size_t width_set[N_SETTINGS];        /* string width of enum columns */
    size_t off_status, off_rank, off_wall, off_train, off_eval, off_steps;
    size_t off_floss, off_ferr, off_gfrac, off_max, off_mean, off_nthr, off_gfnull, off_rspeed, off_rkl, off_msg;
} RowLayout;

static size_t enum_width(const SettingDesc *d)
{
    size_t w = 1;
    for (int i = 0; d->names[i]; i++)
        if (strlen(d->names[i]) > w) w = strlen(d->names[i]);
    return w;
}

static void row_layout(RowLayout *l)
{
    size_t off = 0;
    l->off_id = off; off += 4;
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        l->off_set[i] = off;
        l->width_set[i] = 0;
        if (d->kind == KIND_REAL) off += 8;
        else if (d->kind == KIND_ENUM) off += (l->width_set[i] = enum_width(d));
        else off += 4;
    }
    l->off_status = off; off += H5OUT_STATUS_LEN;
    l->off_rank = off; off += 4;
    l->off_wall = off; off += 8;
    l->off_train = off; off += 8;
    l->off_eval = off; off += 8;
    l->off_steps = off; off += 4;
    l->off_floss = off; off += 4;
    l->off_ferr = off; off += 4;
    l->off_gfrac = off; off += 4;
    l->off_max = off; off += 4;
    l->off_mean = off; off += 4;
    l->off_nthr = off; off += 4;
    l->off_gfnull = off; off += 4;
    l->off_rspeed = off; off += 4;
    l->off_rkl = off; off += 4;
    l->off_msg = off; off += H5OUT_MESSAGE_LEN;
    l->size = off;
}

static hid_t str_type(size_t width)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, width) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

static int insert_str(hid_t ct, const char *name, size_t off, size_t width)
{
    hid_t t = str_type(width);
    if (t < 0) return -1;
    int rc = H5Tinsert(ct, name, off, t) < 0 ? -1 : 0;
    H5Tclose(t);
    return rc;
}

/* The compound type of a /tasks row, packed, little-endian standard types
 * (memory and file use the same type: no conversion on x86). */
static hid_t row_type_create(const RowLayout *l)
{
    hid_t ct = H5Tcreate(H5T_COMPOUND, l->size);
    if (ct < 0) return -1;
    int bad = 0;
    bad |= H5Tinsert(ct, "id", l->off_id, H5T_STD_I32LE) < 0;
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        if (d->kind == KIND_REAL) bad |= H5Tinsert(ct, d->key, l->off_set[i], H5T_IEEE_F64LE) < 0;
        else if (d->kind == KIND_ENUM) bad |= insert_str(ct, d->key, l->off_set[i], l->width_set[i]) < 0;
        else bad |= H5Tinsert(ct, d->key, l->off_set[i], H5T_STD_I32LE) < 0;
    }
    bad |= insert_str(ct, "status", l->off_status, H5OUT_STATUS_LEN) < 0;
    bad |= H5Tinsert(ct, "rank", l->off_rank, H5T_STD_I32LE) < 0;
    bad |= H5Tinsert(ct, "wall_s", l->off_wall, H5T_IEEE_F64LE) < 0;
    bad |= H5Tinsert(ct, "train_s", l->off_train, H5T_IEEE_F64LE) < 0;
    bad |= H5Tinsert(ct, "eval_s", l->off_eval, H5T_IEEE_F64LE) < 0;
    bad |= H5Tinsert(ct, "steps_done", l->off_steps, H5T_STD_I32LE) < 0;
    bad |= H5Tinsert(ct, "final_loss", l->off_floss, H5T_IEEE_F32LE) < 0;
    bad |= H5Tinsert(ct, "final_err_cm", l->off_ferr, H5T_IEEE_F32LE) < 0;
    bad |= H5Tinsert(ct, "grid_frac", l->off_gfrac, H5T_IEEE_F32LE) < 0;
    bad |= H5Tinsert(ct, "max_score60", l->off_max, H5T_IEEE_F32LE) < 0;
    bad |= H5Tinsert(ct, "mean_score60", l->off_mean, H5T_IEEE_F32LE) < 0;
    bad |= H5Tinsert(ct, "null_threshold", l->off_nthr, H5T_IEEE_F32LE) < 0;
    bad |= H5Tinsert(ct, "grid_frac_null", l->off_gfnull, H5T_IEEE_F32LE) < 0;
    bad |= H5Tinsert(ct, "replay_speed_cm", l->off_rspeed, H5T_IEEE_F32LE) < 0;
    bad |= H5Tinsert(ct, "replay_kl", l->off_rkl, H5T_IEEE_F32LE) < 0;
    bad |= insert_str(ct, "message", l->off_msg, H5OUT_MESSAGE_LEN) < 0;
    if (bad) {
        H5Tclose(ct);
        return -1;
    }
    return ct;
}

static void put_i32(unsigned char *p, int32_t v) { memcpy(p, &v, 4); }
static void put_f64(unsigned char *p, double v) { memcpy(p, &v, 8); }
static void put_f32(unsigned char *p, float v) { memcpy(p, &v, 4); }
static void put_str(unsigned char *p, size_t width, const char *s)
{
    size_t n = strlen(s);
    if (n > width) n = width;
    memset(p, 0, width);
    memcpy(p, s, n);
}
static int32_t get_i32(const unsigned char *p) { int32_t v; memcpy(&v, p, 4); return v; }
static double get_f64(const unsigned char *p) { double v; memcpy(&v, p, 8); return v; }
static float get_f32(const unsigned char *p) { float v; memcpy(&v, p, 4); return v; }
static void get_str(const unsigned char *p, size_t width, char *out, size_t outlen)
{
    size_t n = 0;
    while (n < width && p[n]) n++;
    if (n >= outlen) n = outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* The fill row: no task, every number missing, status pending. */
static void row_fill(const RowLayout *l, unsigned char *row)
{
    memset(row, 0, l->size);
    put_i32(row + l->off_id, -1);
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        if (d->kind == KIND_REAL) put_f64(row + l->off_set[i], NAN);
        else if (d->kind != KIND_ENUM) put_i32(row + l->off_set[i], -1);
    }
    put_str(row + l->off_status, H5OUT_STATUS_LEN, result_status_names[TASK_PENDING]);
    put_i32(row + l->off_rank, -1);
    put_f64(row + l->off_wall, NAN);
    put_f64(row + l->off_train, NAN);
    put_f64(row + l->off_eval, NAN);
    put_i32(row + l->off_steps, -1);
    put_f32(row + l->off_floss, NAN);
    put_f32(row + l->off_ferr, NAN);
    put_f32(row + l->off_gfrac, NAN);
    put_f32(row + l->off_max, NAN);
    put_f32(row + l->off_mean, NAN);
    put_f32(row + l->off_nthr, NAN);
    put_f32(row + l->off_gfnull, NAN);
    put_f32(row + l->off_rspeed, NAN);
    put_f32(row + l->off_rkl, NAN);
}

/* A row holding task id's settings (ignored settings as NaN / -1 / "") and,
 * when res != NULL, its results with the given status. */
static void row_pack(const RowLayout *l, unsigned char *row, int id, const TaskConfig *cfg,
                     const TaskResult *res, int status, int rank)
{
    row_fill(l, row);
    put_i32(row + l->off_id, id);
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        unsigned char *p = row + l->off_set[i];
        int ign = config_ignored(cfg, d);
        double v = config_get(cfg, d);
        if (d->kind == KIND_REAL) put_f64(p, ign ? NAN : v);
        else if (d->kind == KIND_ENUM) put_str(p, l->width_set[i], ign ? "" : d->names[(int)v]);
        else put_i32(p, ign ? -1 : (int32_t)v);
    }
    if (!res) return;
    put_str(row + l->off_status, H5OUT_STATUS_LEN, result_status_names[status]);
    put_i32(row + l->off_rank, rank);
    put_f64(row + l->off_wall, res->wall_s);
    put_f64(row + l->off_train, res->train_s);
    put_f64(row + l->off_eval, res->eval_s);
    put_i32(row + l->off_steps, res->steps_done);
    put_f32(row + l->off_floss, res->final_loss);
    put_f32(row + l->off_ferr, res->final_err_cm);
    put_f32(row + l->off_gfrac, res->grid_frac);
    put_f32(row + l->off_max, res->max_score60);
    put_f32(row + l->off_mean, res->mean_score60);
    put_f32(row + l->off_nthr, res->null_threshold);
    put_f32(row + l->off_gfnull, res->grid_frac_null);
    if (res->replay.traj) { /* replay on: its two headline numbers (the rest in /replay) */
        put_f32(row + l->off_rspeed, res->replay.speed_cm);
        put_f32(row + l->off_rkl, res->replay.kl);
    }
    put_str(row + l->off_msg, H5OUT_MESSAGE_LEN, res->message);
}

int h5out_status_index(const char *name)
{
    for (int i = 0; result_status_names[i]; i++)
        if (strcmp(result_status_names[i], name) == 0) return i;
    return -1;
}

/* ---- the /replay metrics ---------------------------------------------- */

/* The float metrics of a ReplayResult stored in /replay, one value per task
 * (rows); docs/results-format.md and docs/replay.md define them. */
typedef struct ReplayField { const char *name, *units; size_t off; } ReplayField;
static const ReplayField replay_fields[H5OUT_N_REPLAY_F] = {
    {"sigma", "", offsetof(ReplayResult, sigma)},
    {"speed_cm", "cm/step", offsetof(ReplayResult, speed_cm)},
    {"real_step_cm", "cm/step", offsetof(ReplayResult, real_step_cm)},
    {"speed_ratio", "", offsetof(ReplayResult, speed_ratio)},
    {"spread_cm2", "cm^2", offsetof(ReplayResult, spread_cm2)},
    {"coverage", "", offsetof(ReplayResult, coverage)},
    {"mean_first_visit", "steps", offsetof(ReplayResult, mean_first_visit)},
    {"outside", "", offsetof(ReplayResult, outside)},
    {"kl", "nats", offsetof(ReplayResult, kl)},
    {"kl_uniform", "nats", offsetof(ReplayResult, kl_uniform)},
    {"kl_untrained", "nats", offsetof(ReplayResult, kl_untrained)},
};

static float *replay_field(ReplayResult *rp, int i) { return (float *)((char *)rp + replay_fields[i].off); }

/* ---- small helpers ---------------------------------------------------- */

static void h5out_init(H5Out *o, MPI_Comm comm)
{
    memset(o, 0, sizeof *o);
    o->comm = comm;
    o->file = o->row_type = o->dxpl = o->d_tasks = -1;
    o->d_train_step = o->d_train_loss = o->d_train_err = o->d_eval_err = -1;
    o->d_score60 = o->d_score90 = o->d_border = o->d_mask60 = o->d_grid_p = o->d_grid_null = -1;
    o->d_ratemaps = o->d_ratemap_unit = -1;
    for (int i = 0; i < H5OUT_N_REPLAY_F; i++) o->d_replay[i] = -1;
    o->d_replay_n_in = o->d_replay_traj = o->d_replay_occ = o->d_replay_occ_real = -1;
    o->sync_fd = -1;
    o->sync = H5OUT_SYNC_TASK;
    o->lock_fd = -1;
}

static int attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = H5Tcopy(H5T_C_S1), s = -1, a = -1;
    int rc = -1;
    if (t < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) goto fail;
    if ((s = H5Screate(H5S_SCALAR)) < 0) goto fail;
    if ((a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto fail;
    const char *v = value ? value : "";
    if (H5Awrite(a, t, &v) < 0) goto fail;
    rc = 0;
fail:
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    return rc;
}

static int attr_strs(hid_t obj, const char *name, const char *const *values, int n)
{
    hid_t t = H5Tcopy(H5T_C_S1), s = -1, a = -1;
    int rc = -1;
    hsize_t dim = (hsize_t)n;
    if (t < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) goto fail;
    if ((s = H5Screate_simple(1, &dim, NULL)) < 0) goto fail;
    if ((a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto fail;
    if (n > 0 && H5Awrite(a, t, values) < 0) goto fail;
    rc = 0;
fail:
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    return rc;
}

static int attr_int(hid_t obj, const char *name, int value)
{
    hid_t s = H5Screate(H5S_SCALAR), a = -1;
    int rc = -1;
    if (s < 0) goto fail;
    if ((a = H5Acreate2(obj, name, H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto fail;
    if (H5Awrite(a, H5T_NATIVE_INT, &value) < 0) goto fail;
    rc = 0;
fail:
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    return rc;
}

char *h5out_attr_str(hid_t obj, const char *name)
{
    hid_t a = -1, ft = -1, mt = -1;
    char *out = NULL;
    if (H5Aexists(obj, name) <= 0) return NULL;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) goto fail;
    if ((ft = H5Aget_type(a)) < 0 || H5Tget_class(ft) != H5T_STRING) goto fail;
    if (H5Tis_variable_str(ft) > 0) {
        char *v = NULL;
        if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(ft)) < 0)
            goto fail;
        if (H5Aread(a, mt, &v) < 0) goto fail;
        out = strdup(v ? v : "");
        H5free_memory(v);
    } else {
        size_t n = H5Tget_size(ft);
        if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, n + 1) < 0 ||
            H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0)
            goto fail;
        if (!(out = calloc(n + 2, 1))) goto fail;
        if (H5Aread(a, mt, out) < 0) {
            free(out);
            out = NULL;
        }
    }
fail:
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return out;
}

static int attr_read_int(hid_t obj, const char *name, int *v)
{
    hid_t a = -1;
    int rc = -1;
    if (H5Aexists(obj, name) <= 0) return -1;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) goto fail;
    if (H5Aread(a, H5T_NATIVE_INT, v) < 0) goto fail;
    rc = 0;
fail:
    if (a >= 0) H5Aclose(a);
    return rc;
}

/* Create a contiguous, early-allocated dataset filled with fill (of
 * memory type mtype), with "units" and "dims" attributes. */
static hid_t dset_create(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *fill,
                         int ndim, const hsize_t *dims, const char *units, const char *dimnames)
{
    hid_t s = -1, dcpl = -1, d = -1;
    if ((s = H5Screate_simple(ndim, dims, NULL)) < 0) goto fail;
    if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0) goto fail;
    if (H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 || H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 ||
        H5Pset_fill_time(dcpl, H5D_FILL_TIME_ALLOC) < 0 || H5Pset_fill_value(dcpl, mtype, fill) < 0)
        goto fail;
    if ((d = H5Dcreate2(loc, name, ftype, s, H5P_DEFAULT, dcpl, H5P_DEFAULT)) < 0) goto fail;
    if (units && attr_str(d, "units", units) < 0) goto fail;
    if (dimnames && attr_str(d, "dims", dimnames) < 0) goto fail;
    H5Pclose(dcpl);
    H5Sclose(s);
    return d;
fail:
    if (d >= 0) H5Dclose(d);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (s >= 0) H5Sclose(s);
    return -1;
}

/* Write / read the block start[0..nd) + count of dataset d from/to a
 * contiguous buffer.  Independent transfer (o->dxpl). */
static int block_io(const H5Out *o, hid_t d, hid_t mtype, int nd, const hsize_t *start,
                    const hsize_t *count, void *buf, int write)
{
    hid_t fs = -1, ms = -1;
    int rc = -1;
    hsize_t total = 1;
    for (int i = 0; i < nd; i++) total *= count[i];
    if (total == 0) return 0;
    if ((fs = H5Dget_space(d)) < 0) goto fail;
    if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0) goto fail;
    if ((ms = H5Screate_simple(1, &total, NULL)) < 0) goto fail;
    if (write) {
        if (H5Dwrite(d, mtype, ms, fs, o->dxpl, buf) < 0) goto fail;
    } else {
        if (H5Dread(d, mtype, ms, fs, o->dxpl, buf) < 0) goto fail;
    }
    rc = 0;
fail:
    if (ms >= 0) H5Sclose(ms);
    if (fs >= 0) H5Sclose(fs);
    return rc;
}

static int rows_io(const H5Out *o, hid_t mtype, int row, int n, void *buf, int write)
{
    hsize_t start = (hsize_t)row, count = (hsize_t)n;
    return block_io(o, o->d_tasks, mtype, 1, &start, &count, buf, write);
}

static int n_maps_of(const TaskConfig *c)
{
    if (c->save_ratemaps == SAVE_ALL) return c->hidden;
    if (c->save_ratemaps == SAVE_TOP) return c->save_top_k < c->hidden ? c->save_top_k : c->hidden;
    return 0;
}

/* A writer holds an exclusive flock on the side file PATH.lock (rank 0),
 * so that a second sweep writing the same result file is refused.  Not on
 * the result file itself: HDF5 readers (h5py, h5dump) flock that one, and
 * must be able to read it while the sweep runs (parallel HDF5's MPI-IO
 * driver takes no lock of its own).  The lock goes with the process
 * (kill -9 included); a clean close also removes the side file.
 *
 * A file system that cannot lock (flock fails with ENOSYS, ENOLCK,
 * EOPNOTSUPP, ...: Lustre without -o flock, NFS without a lock daemon) is
 * refused with a message that names the file, the reason and the ways
 * out: with no lock nothing would stop a second sweep from writing the
 * same file and corrupting it.  SWEEP_NO_LOCK=1 in rank 0's environment
 * skips the lock altogether (no open, no flock: a hung NFS lock daemon
 * cannot block the start) after a loud warning.  docs/running.md, "File
 * locking on shared file systems".
 *
 * Collective; returns 0, or -1 with the same message in err on every rank
 * (in use, or cannot lock). */
enum { LOCK_HELD = 0, LOCK_SKIPPED = 1, LOCK_BUSY = 2, LOCK_NO_OPEN = 3, LOCK_NO_FLOCK = 4 };

/* Rank 0: open and flock PATH.lock into o->lock_fd.  Returns a LOCK_*
 * state; *eno gets errno for LOCK_NO_OPEN / LOCK_NO_FLOCK. */
static int lock_take(H5Out *o, int *eno)
{
    const char *nl = getenv("SWEEP_NO_LOCK");
    if (nl && strcmp(nl, "1") == 0) return LOCK_SKIPPED;
    /* a clean close unlinks PATH.lock: if it was unlinked between our open
     * and our flock, the lock we hold is on a file nobody else will see;
     * check the path still names our file, and retry a few times if not */
    for (int attempt = 0; attempt < 5; attempt++) {
        int created = 1;
        int fd = open(o->lock_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
            created = 0;
            fd = open(o->lock_path, O_RDWR | O_CLOEXEC);
            if (fd < 0 && errno == EACCES) fd = open(o->lock_path, O_RDONLY | O_CLOEXEC);   /* another user's */
            if (fd < 0 && errno == ENOENT) continue;   /* removed meanwhile: try again */
        }
        if (fd < 0) {
            *eno = errno;
            return LOCK_NO_OPEN;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            *eno = errno;
            /* not ours: never unlink it, unless we just made it for nothing */
            if (created && *eno != EWOULDBLOCK) unlink(o->lock_path);
            close(fd);
            return *eno == EWOULDBLOCK ? LOCK_BUSY : LOCK_NO_FLOCK;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(o->lock_path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            o->lock_fd = fd;
            return LOCK_HELD;
        }
        close(fd);
    }
    *eno = EWOULDBLOCK;   /* another sweep keeps making and removing it */
    return LOCK_BUSY;
}

static int lock_file(H5Out *o, const char *path, char *err, size_t errlen)
{
    int rank, st[2] = {LOCK_HELD, 0};
    CHECK_MPI(MPI_Comm_rank(o->comm, &rank));
    snprintf(o->lock_path, sizeof o->lock_path, "%s.lock", path);
    if (rank == 0) {
        st[0] = lock_take(o, &st[1]);
        if (st[0] == LOCK_SKIPPED) {
            fprintf(stderr,
                    "sweep: WARNING: SWEEP_NO_LOCK=1: %s is NOT locked; nothing stops a second sweep from "
                    "writing it at the same time and corrupting it: make sure none does\n",
                    path);
            fflush(stderr);
        }
    }
    CHECK_MPI(MPI_Bcast(st, 2, MPI_INT, 0, o->comm));
    const char *why = strerror(st[1]);
    switch (st[0]) {
    case LOCK_BUSY:
        snprintf(err, errlen, "%s is in use by another running sweep (%s is locked)", path, o->lock_path);
        return -1;
    case LOCK_NO_OPEN:
        snprintf(err, errlen,
                 "cannot create the lock file %s (%s), which keeps a second sweep from writing %s at the "
                 "same time; fix its permissions or remove it, or set SWEEP_NO_LOCK=1 to run without the "
                 "lock (then make sure no other sweep writes %s)",
                 o->lock_path, why, path, path);
        return -1;
    case LOCK_NO_FLOCK:
        snprintf(err, errlen,
                 "cannot lock %s (%s): the file system of %s does not support flock(2), so a second sweep "
                 "writing the same file could not be stopped. Mount it with locking (Lustre: -o flock; "
                 "NFS: a running lock daemon, no -o nolock), or write the result to a file system that "
                 "locks (and copy it afterwards), or set SWEEP_NO_LOCK=1 to run without the lock (then "
                 "make sure no other sweep writes %s; docs/running.md)",
                 o->lock_path, why, path, path);
        return -1;
    default:
        return 0;
    }
}

/* ---- test hooks ----------------------------------------------------------
 * Fault injection for the tests (docs/faults.md, "Test hooks"): an
 * environment variable, read once per process, makes a rank sleep inside a
 * window that is otherwise too short to hit with a signal:
 *   SWEEP_TEST_WRITE_DELAY_MS   a worker, between writing a task's data
 *                               (and fsync) and writing its final status;
 *   SWEEP_TEST_CREATE_DELAY_MS  rank 0, between building NAME.creating and
 *                               renaming it into place.
 * Each announces itself on stderr ("test hook: ...") so a test can wait
 * for it.  Unset (the normal case) costs one getenv per process. */
static long test_delay_ms(const char *name, long *cache)
{
    if (*cache < 0) {
        const char *v = getenv(name);
        char *end = NULL;
        long ms = v && *v ? strtol(v, &end, 10) : 0;
        *cache = end && *end == '\0' && ms > 0 ? ms : 0;
    }
    return *cache;
}

/* Sleep ms milliseconds, through signals (a stop request must not cut the
 * simulated slow write short). */
static void test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static long write_delay_cache = -1, create_delay_cache = -1;

static int dxpl_and_fd(H5Out *o)
{
    if ((o->dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0) return -1;
    if (H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_INDEPENDENT) < 0) return -1;
    o->sync_fd = open(o->path, O_RDONLY | O_CLOEXEC);
    return o->sync_fd < 0 ? -1 : 0;
}

/* ---- create ------------------------------------------------------------ */

int h5out_create(H5Out *o, const char *path, const H5OutMeta *meta, const TaskConfig *tasks,
                 const int *task_ids, int n, MPI_Comm comm, char *err, size_t errlen)
{
    hid_t fapl = -1, g = -1, s = -1;
    unsigned char *rows = NULL, *fill = NULL;
    int rank = 0, size = 1, ok = 0;
    RowLayout l;
    h5out_init(o, comm);
    if (errlen > 0) err[0] = '\0';
    snprintf(o->path, sizeof o->path, "%s", path);
    CHECK_MPI(MPI_Comm_rank(comm, &rank));
    CHECK_MPI(MPI_Comm_size(comm, &size));
    row_layout(&l);

    /* refuse an existing file: rank 0 decides for everyone */
    int exists = 0;
    if (rank == 0) exists = access(path, F_OK) == 0;
    CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
    if (exists) {
        snprintf(err, errlen, "%s: output file exists (use --resume to continue it, --force to replace it)", path);
        return -1;
    }

    if (lock_file(o, path, err, errlen) < 0) return -1;

    /* dimensions from the rows */
    o->n_rows = n;
    o->S = meta->n_eval_noise;
    o->L = o->E = o->nmax = 1;
    o->M = 0;
    o->G = 1;
    for (int r = 0; r < n; r++) {
        const TaskConfig *c = &tasks[task_ids[r]];
        int L = config_n_logged(c), E = config_eval_len(c), M = n_maps_of(c);
        if (L > o->L) o->L = L;
        if (E > o->E) o->E = E;
        if (c->hidden > o->nmax) o->nmax = c->hidden;
        if (M > o->M) o->M = M;
        if (M > 0 && c->ratemap_bins > o->G) o->G = c->ratemap_bins;
        if (c->n_eval_noise > o->S) o->S = c->n_eval_noise;
        if (c->replay) {
            int K = c->replay_keep < c->replay_starts ? c->replay_keep : c->replay_starts;
            if (!o->has_replay) o->RK = o->RH = o->RG = 1;
            o->has_replay = 1;
            if (K > o->RK) o->RK = K;
            if (c->replay_steps + 1 > o->RH) o->RH = c->replay_steps + 1;
            if (c->ratemap_bins > o->RG) o->RG = c->ratemap_bins;
        }
    }
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
    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0) goto h5fail;
    if (H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) goto h5fail;
    if ((o->file = H5Fcreate(o->path, H5F_ACC_EXCL, H5P_DEFAULT, fapl)) < 0) {
        snprintf(err, errlen, "%s: cannot create the result file (directory missing or not writable?)", path);
        goto fail;
    }

    /* root attributes */
    if (attr_str(o->file, "sweep_version", SWEEP_VERSION) < 0 ||
        attr_str(o->file, "spec_text", meta->spec_text) < 0 ||
        attr_str(o->file, "spec_canonical", meta->spec_canonical) < 0 ||
        attr_str(o->file, "spec_hash", meta->spec_hash) < 0 ||
        attr_str(o->file, "command_line", meta->command_line) < 0 ||
        attr_str(o->file, "start_time", start_time) < 0 ||
        attr_int(o->file, "n_ranks", size) < 0 || attr_int(o->file, "n_tasks", meta->n_tasks) < 0 ||
        attr_int(o->file, "format_version", H5OUT_FORMAT_VERSION) < 0)
        goto h5fail;
    if (meta->shard && attr_str(o->file, "shard", meta->shard) < 0) goto h5fail;

    /* /tasks */
    if ((o->row_type = row_type_create(&l)) < 0) goto h5fail;
    if (!(fill = malloc(l.size))) goto h5fail;
    row_fill(&l, fill);
    hsize_t dims[4];
    dims[0] = (hsize_t)n;
    if ((o->d_tasks = dset_create(o->file, "tasks", o->row_type, o->row_type, fill, 1, dims, NULL,
                                  "task")) < 0)
        goto h5fail;
    if (attr_strs(o->d_tasks, "axes", meta->axes, meta->n_axes) < 0) goto h5fail;

    float fnan = NAN;
    int ineg = -1;
    signed char cneg = -1;
    /* /curves */
    if ((g = H5Gcreate2(o->file, "curves", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto h5fail;
    dims[1] = (hsize_t)o->L;
    if ((o->d_train_step = dset_create(g, "train_step", H5T_STD_I32LE, H5T_NATIVE_INT, &ineg, 2, dims,
                                       "steps", "task, logged point")) < 0 ||
        (o->d_train_loss = dset_create(g, "train_loss", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2, dims,
                                       "", "task, logged point")) < 0 ||
        (o->d_train_err = dset_create(g, "train_err_cm", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 2, dims,
                                      "cm", "task, logged point")) < 0)
        goto h5fail;
    dims[1] = (hsize_t)o->S;
    dims[2] = (hsize_t)o->E;
    if ((o->d_eval_err = dset_create(g, "eval_err_cm", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 3, dims,
                                     "cm", "task, noise level, step")) < 0)
        goto h5fail;
    double dnan = NAN;
    hsize_t sdim = (hsize_t)o->S;
    hid_t d_levels = dset_create(g, "eval_noise", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &dnan, 1, &sdim, "",
                                 "noise level");
    if (d_levels < 0) goto h5fail;
    H5Gclose(g);
    g = -1;

    /* /units */
    if ((g = H5Gcreate2(o->file, "units", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        H5Dclose(d_levels);
        goto h5fail;
    }
    dims[1] = (hsize_t)o->nmax;
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
                                      "task, unit")) < 0) {
        H5Dclose(d_levels);
        goto h5fail;
    }
    if (o->M > 0) {
        dims[1] = (hsize_t)o->M;
        dims[2] = dims[3] = (hsize_t)o->G;
        if ((o->d_ratemap_unit = dset_create(g, "ratemap_unit", H5T_STD_I32LE, H5T_NATIVE_INT, &ineg, 2,
                                             dims, "", "task, map")) < 0 ||
            (o->d_ratemaps = dset_create(g, "ratemaps", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 4, dims,
                                         "", "task, map, y bin, x bin")) < 0) {
            H5Dclose(d_levels);
            goto h5fail;
        }
    }
    H5Gclose(g);
    g = -1;

    /* /replay (only when some row has replay on) */
    if (o->has_replay) {
        int bad = (g = H5Gcreate2(o->file, "replay", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0;
        for (int i = 0; !bad && i < H5OUT_N_REPLAY_F; i++)
            bad = (o->d_replay[i] = dset_create(g, replay_fields[i].name, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan,
                                                1, dims, replay_fields[i].units, "task")) < 0;
        if (!bad)
            bad = (o->d_replay_n_in = dset_create(g, "n_in", H5T_STD_I32LE, H5T_NATIVE_INT, &ineg, 1, dims, "bins",
                                                  "task")) < 0;
        dims[1] = (hsize_t)o->RK;
        dims[2] = (hsize_t)o->RH;
        dims[3] = 2;
        if (!bad)
            bad = (o->d_replay_traj = dset_create(g, "traj", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 4, dims, "m",
                                                  "task, replay, step, xy")) < 0;
        dims[1] = dims[2] = (hsize_t)o->RG;
        if (!bad)
            bad = (o->d_replay_occ = dset_create(g, "occ", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 3, dims, "",
                                                 "task, y bin, x bin")) < 0 ||
                  (o->d_replay_occ_real = dset_create(g, "occ_real", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &fnan, 3,
                                                      dims, "", "task, y bin, x bin")) < 0;
        if (bad) {
            H5Dclose(d_levels);
            goto h5fail;
        }
        H5Gclose(g);
        g = -1;
    }

    if (dxpl_and_fd(o) < 0) {
        H5Dclose(d_levels);
        snprintf(err, errlen, "%s: cannot reopen for fsync: %s", path, strerror(errno));
        goto fail;
    }
    /* every rank has finished creating (fill values written) before rank 0
     * writes the settings rows and the levels */
    CHECK_MPI(MPI_Barrier(comm));
    int wrc = 0;
    if (rank == 0) {
        if (n > 0 && !(rows = malloc((size_t)n * l.size))) {
            wrc = -1;
        } else {
            for (int r = 0; r < n; r++)
                row_pack(&l, rows + (size_t)r * l.size, task_ids[r], &tasks[task_ids[r]], NULL, 0, -1);
            if (n > 0 && rows_io(o, o->row_type, 0, n, rows, 1) < 0) wrc = -1;
            hsize_t z = 0;
            double levels[SWEEP_MAX_EVAL_NOISE];
            for (int i = 0; i < o->S; i++) levels[i] = i < meta->n_eval_noise ? meta->eval_noise[i] : NAN;
            if (block_io(o, d_levels, H5T_NATIVE_DOUBLE, 1, &z, &sdim, levels, 1) < 0) wrc = -1;
        }
    }
    H5Dclose(d_levels);
    CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &wrc, 1, MPI_INT, MPI_MIN, comm));
    if (wrc < 0) goto h5fail;
    if (H5Fflush(o->file, H5F_SCOPE_GLOBAL) < 0) goto h5fail;
    if (rank == 0 && fsync(o->sync_fd) != 0) sweep_log("%s: fsync: %s", path, strerror(errno));
    long cdelay = rank == 0 ? test_delay_ms("SWEEP_TEST_CREATE_DELAY_MS", &create_delay_cache) : 0;
    if (cdelay > 0) {
        sweep_log("test hook: %s built, sleeping %ld ms before renaming it into place (SWEEP_TEST_CREATE_DELAY_MS)",
                  o->path, cdelay);
        test_sleep_ms(cdelay);
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
h5fail:
    if (!ok && !err[0]) snprintf(err, errlen, "%s: HDF5 error while creating the result file", path);
fail:
    free(rows);
    free(fill);
    if (g >= 0) H5Gclose(g);
    if (s >= 0) H5Sclose(s);
    if (fapl >= 0) H5Pclose(fapl);
    if (!ok) {
        int was_open = o->file >= 0;
        char tmp_path[sizeof o->path];
        snprintf(tmp_path, sizeof tmp_path, "%s", o->path);
        int crc = h5out_close(o);
        if (rank == 0 && was_open && strcmp(tmp_path, path) != 0) unlink(tmp_path);
        if (crc < 0) {
            /* HDF5 could not close the file (a write failed: disk full);
             * its library shutdown in MPI_Finalize would touch the
             * half-closed file and crash: stop here with the I/O status */
            if (rank == 0) fprintf(stderr, "sweep: %s (the result file could not be closed)\n", err);
            fflush(stderr);
            MPI_Abort(comm, SWEEP_EXIT_IO);
        }
        return -1;
    }
    return 0;
}

/* ---- open -------------------------------------------------------------- */

static hid_t open_dset(hid_t file, const char *name, int ndim_want, hsize_t *dims)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t s = H5Dget_space(d);
    int nd = s >= 0 ? H5Sget_simple_extent_ndims(s) : -1;
    if (nd != ndim_want || H5Sget_simple_extent_dims(s, dims, NULL) < 0) {
        if (s >= 0) H5Sclose(s);
        H5Dclose(d);
        return -1;
    }
    H5Sclose(s);
    return d;
}

int h5out_open(H5Out *o, const char *path, int writable, MPI_Comm comm, char *err, size_t errlen)
{
    hid_t fapl = -1, idt = -1;
    H5E_auto2_t efunc = NULL;
    void *edata = NULL;
    RowLayout l;
    int ok = 0;
    h5out_init(o, comm);
    snprintf(o->path, sizeof o->path, "%s", path);
    row_layout(&l);
    H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    if ((fapl = H5Pcreate(H5P_FILE_ACCESS)) < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) {
        snprintf(err, errlen, "%s: HDF5 error", path);
        goto fail;
    }
    if (access(path, F_OK) != 0) {
        snprintf(err, errlen, "%s: no such file", path);
        goto fail;
    }
    if (H5Fis_hdf5(path) <= 0) {
        snprintf(err, errlen, "%s: not an HDF5 file", path);
        goto fail;
    }
    if (writable && lock_file(o, path, err, errlen) < 0) goto fail;
    if ((o->file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl)) < 0) {
        snprintf(err, errlen, "%s: cannot open the HDF5 file%s", path,
                 writable ? " for writing (read-only, or in use by another sweep?)" : "");
        goto fail;
    }
    int fv = 0;
    if (attr_read_int(o->file, "format_version", &fv) < 0) {
        snprintf(err, errlen, "%s: not a sweep result file (no format_version attribute)", path);
        goto fail;
    }
    if (fv != H5OUT_FORMAT_VERSION) {
        snprintf(err, errlen, "%s: result format %d, this sweep writes format %d", path, fv,
                 H5OUT_FORMAT_VERSION);
        goto fail;
    }
    hsize_t dims[4];
    if ((o->d_tasks = open_dset(o->file, "tasks", 1, dims)) < 0) goto bad;
    o->n_rows = (int)dims[0];
    if ((o->d_train_step = open_dset(o->file, "curves/train_step", 2, dims)) < 0) goto bad;
    o->L = (int)dims[1];
    if ((o->d_train_loss = open_dset(o->file, "curves/train_loss", 2, dims)) < 0) goto bad;
    if ((o->d_train_err = open_dset(o->file, "curves/train_err_cm", 2, dims)) < 0) goto bad;
    if ((o->d_eval_err = open_dset(o->file, "curves/eval_err_cm", 3, dims)) < 0) goto bad;
    o->S = (int)dims[1];
    o->E = (int)dims[2];
    if ((o->d_score60 = open_dset(o->file, "units/score60", 2, dims)) < 0) goto bad;
    o->nmax = (int)dims[1];
    if ((o->d_score90 = open_dset(o->file, "units/score90", 2, dims)) < 0) goto bad;
    if ((o->d_border = open_dset(o->file, "units/border", 2, dims)) < 0) goto bad;
    if ((o->d_mask60 = open_dset(o->file, "units/mask60", 2, dims)) < 0) goto bad;
    if ((o->d_grid_p = open_dset(o->file, "units/grid_p", 2, dims)) < 0) goto bad;
    if ((o->d_grid_null = open_dset(o->file, "units/grid_null", 2, dims)) < 0) goto bad;
    o->M = 0;
    o->G = 1;
    if (H5Lexists(o->file, "units/ratemaps", H5P_DEFAULT) > 0) {
        if ((o->d_ratemaps = open_dset(o->file, "units/ratemaps", 4, dims)) < 0) goto bad;
        o->M = (int)dims[1];
        o->G = (int)dims[2];
        if ((o->d_ratemap_unit = open_dset(o->file, "units/ratemap_unit", 2, dims)) < 0) goto bad;
    }
    if (H5Lexists(o->file, "replay", H5P_DEFAULT) > 0) {
        char name[64];
        o->has_replay = 1;
        for (int i = 0; i < H5OUT_N_REPLAY_F; i++) {
            snprintf(name, sizeof name, "replay/%s", replay_fields[i].name);
            if ((o->d_replay[i] = open_dset(o->file, name, 1, dims)) < 0) goto bad;
        }
        if ((o->d_replay_n_in = open_dset(o->file, "replay/n_in", 1, dims)) < 0) goto bad;
        if ((o->d_replay_traj = open_dset(o->file, "replay/traj", 4, dims)) < 0 || dims[3] != 2) goto bad;
        o->RK = (int)dims[1];
        o->RH = (int)dims[2];
        if ((o->d_replay_occ = open_dset(o->file, "replay/occ", 3, dims)) < 0) goto bad;
        o->RG = (int)dims[1];
        if ((o->d_replay_occ_real = open_dset(o->file, "replay/occ_real", 3, dims)) < 0) goto bad;
    }
    if ((o->row_type = row_type_create(&l)) < 0) goto bad;
    if (dxpl_and_fd(o) < 0) {
        snprintf(err, errlen, "%s: cannot reopen: %s", path, strerror(errno));
        goto fail;
    }

    if (!(o->task_ids = malloc((o->n_rows ? (size_t)o->n_rows : 1) * sizeof *o->task_ids))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if ((idt = H5Tcreate(H5T_COMPOUND, sizeof(int))) < 0 || H5Tinsert(idt, "id", 0, H5T_NATIVE_INT) < 0)
        goto bad;
    if (rows_io(o, idt, 0, o->n_rows, o->task_ids, 0) < 0) goto bad;
    ok = 1;
    goto fail;
bad:
    snprintf(err, errlen, "%s: not a complete sweep result file (a dataset is missing or malformed)", path);
fail:
    if (idt >= 0) H5Tclose(idt);
    if (fapl >= 0) H5Pclose(fapl);
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
    /* every rank must agree (a collective close follows on failure) */
    int all = ok;
    CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &all, 1, MPI_INT, MPI_MIN, comm));
    if (!all) {
        if (ok) snprintf(err, errlen, "%s: cannot open on every rank", path);
        h5out_close(o);
        return -1;
    }
    return 0;
}

/* ---- check ------------------------------------------------------------- */

/* Is line [p, p+n) one of the lines of text? */
static int has_line(const char *text, const char *p, size_t n)
{
    const char *t = text;
    while (*t) {
        const char *e = strchr(t, '\n');
        size_t m = e ? (size_t)(e - t) : strlen(t);
        if (m == n && memcmp(t, p, n) == 0) return 1;
        if (!e) break;
        t = e + 1;
    }
    return 0;
}

/* Append "  <sign> line" for every line of a that is not in b. */
static void diff_lines(const char *a, const char *b, char sign, char *out, size_t len, int *shown)
{
    const char *t = a;
    while (*t) {
        const char *e = strchr(t, '\n');
        size_t m = e ? (size_t)(e - t) : strlen(t);
        if (m > 0 && !has_line(b, t, m)) {
            size_t used = strlen(out);
            if (*shown >= 12) {
                if (used + 8 < len) strcat(out, "\n  ...");
                return;
            }
            if (used + 6 < len)
                snprintf(out + used, len - used, "\n  %c %.*s", sign, (int)(m > 200 ? 200 : m), t);
            (*shown)++;
        }
        if (!e) break;
        t = e + 1;
    }
}

int h5out_check(const H5Out *o, const H5OutMeta *meta, const int *task_ids, int n, char *err, size_t errlen)
{
    char *hash = h5out_attr_str(o->file, "spec_hash");
    char *canon = NULL, *shard = NULL;
    int rc = -1;
    if (!hash) {
        snprintf(err, errlen, "%s: no spec_hash attribute", o->path);
        goto fail;
    }
    if (strcmp(hash, meta->spec_hash) != 0) {
        canon = h5out_attr_str(o->file, "spec_canonical");
        int shown = 0;
        snprintf(err, errlen, "%s was written by a different spec (hash %.12s..., this spec %.12s...); "
                              "differences (- in the file, + in this spec):",
                 o->path, hash, meta->spec_hash);
        if (canon) {
            diff_lines(canon, meta->spec_canonical, '-', err, errlen, &shown);
            diff_lines(meta->spec_canonical, canon, '+', err, errlen, &shown);
        }
        goto fail;
    }
    shard = h5out_attr_str(o->file, "shard");
    const char *want = meta->shard ? meta->shard : "";
    if (strcmp(shard ? shard : "", want) != 0) {
        snprintf(err, errlen, "%s holds shard '%s', this run is shard '%s'", o->path, shard ? shard : "(none)",
                 meta->shard ? meta->shard : "(none)");
        goto fail;
    }
    if (n != o->n_rows) {
        snprintf(err, errlen, "%s has %d task rows, this run expects %d", o->path, o->n_rows, n);
        goto fail;
    }
    for (int r = 0; r < n; r++) {
        if (o->task_ids[r] != task_ids[r]) {
            snprintf(err, errlen, "%s: row %d holds task %d, expected %d", o->path, r, o->task_ids[r],
                     task_ids[r]);
            goto fail;
        }
    }
    rc = 0;
fail:
    free(hash);
    free(canon);
    free(shard);
    return rc;
}

int h5out_row_of(const H5Out *o, int id)
{
    if (id >= 0 && id < o->n_rows && o->task_ids[id] == id) return id;
    for (int r = 0; r < o->n_rows; r++)
        if (o->task_ids[r] == id) return r;
    return -1;
}

/* ---- write / read a task ----------------------------------------------- */

/* Write (write = 1) or read row `row` of /replay from/to rp (replay_alloc'ed:
 * R, H, G, n_keep set).  Returns 0, or -1 (I/O error, no /replay, or rp
 * larger than the file's dimensions). */
static int replay_io(const H5Out *o, int row, ReplayResult *rp, int write)
{
    if (!o->has_replay || rp->n_keep > o->RK || rp->H + 1 > o->RH || rp->G > o->RG) return -1;
    hsize_t start[4] = {(hsize_t)row, 0, 0, 0}, count[4] = {1, 1, 1, 1};
    for (int i = 0; i < H5OUT_N_REPLAY_F; i++)
        if (block_io(o, o->d_replay[i], H5T_NATIVE_FLOAT, 1, start, count, replay_field(rp, i), write) < 0)
            return -1;
    if (block_io(o, o->d_replay_n_in, H5T_NATIVE_INT, 1, start, count, &rp->n_in, write) < 0) return -1;
    count[1] = (hsize_t)rp->n_keep;
    count[2] = (hsize_t)rp->H + 1;
    count[3] = 2;
    if (block_io(o, o->d_replay_traj, H5T_NATIVE_FLOAT, 4, start, count, rp->traj, write) < 0) return -1;
    count[1] = count[2] = (hsize_t)rp->G;
    if (block_io(o, o->d_replay_occ, H5T_NATIVE_FLOAT, 3, start, count, rp->occ, write) < 0 ||
        block_io(o, o->d_replay_occ_real, H5T_NATIVE_FLOAT, 3, start, count, rp->occ_real, write) < 0)
        return -1;
    return 0;
}

int h5out_write_task(H5Out *o, int row, const TaskConfig *cfg, const TaskResult *res, int rank)
{
    RowLayout l;
    unsigned char *buf = NULL;
    int rc = -1;
    row_layout(&l);
    if (row < 0 || row >= o->n_rows) {
        sweep_log("%s: row %d out of range", o->path, row);
        return -1;
    }
    if (!(buf = malloc(l.size))) goto fail;
    int id = o->task_ids[row];
    /* 1. the row with status pending (a crash before step 3 leaves the task pending) */
    row_pack(&l, buf, id, cfg, res, TASK_PENDING, rank);
    if (rows_io(o, o->row_type, row, 1, buf, 1) < 0) goto fail;
    /* 2. the data */
    hsize_t start[4] = {(hsize_t)row, 0, 0, 0}, count[4];
    count[0] = 1;
    if (res->log_step) {
        count[1] = (hsize_t)(res->n_log < o->L ? res->n_log : o->L);
        if (block_io(o, o->d_train_step, H5T_NATIVE_INT, 2, start, count, res->log_step, 1) < 0 ||
            block_io(o, o->d_train_loss, H5T_NATIVE_FLOAT, 2, start, count, res->train_loss, 1) < 0 ||
            block_io(o, o->d_train_err, H5T_NATIVE_FLOAT, 2, start, count, res->train_err_cm, 1) < 0)
            goto fail;
    }
    if (res->eval_err_cm) {
        if (res->n_levels > o->S || res->eval_len > o->E) goto toobig;
        count[1] = (hsize_t)res->n_levels;
        count[2] = (hsize_t)res->eval_len;
        if (block_io(o, o->d_eval_err, H5T_NATIVE_FLOAT, 3, start, count, res->eval_err_cm, 1) < 0) goto fail;
    }
    if (res->score60) {
        if (res->n_units > o->nmax) goto toobig;
        count[1] = (hsize_t)res->n_units;
        if (block_io(o, o->d_score60, H5T_NATIVE_FLOAT, 2, start, count, res->score60, 1) < 0 ||
            block_io(o, o->d_score90, H5T_NATIVE_FLOAT, 2, start, count, res->score90, 1) < 0 ||
            block_io(o, o->d_border, H5T_NATIVE_FLOAT, 2, start, count, res->border, 1) < 0 ||
            block_io(o, o->d_mask60, H5T_NATIVE_SCHAR, 2, start, count, res->mask60, 1) < 0)
            goto fail;
        if (res->grid_p && block_io(o, o->d_grid_p, H5T_NATIVE_FLOAT, 2, start, count, res->grid_p, 1) < 0)
            goto fail;
        if (res->grid_null &&
            block_io(o, o->d_grid_null, H5T_NATIVE_SCHAR, 2, start, count, res->grid_null, 1) < 0)
            goto fail;
    }
    if (res->ratemaps && res->map_unit && res->n_maps > 0) {
        if (o->d_ratemaps < 0 || res->n_maps > o->M || res->bins > o->G) goto toobig;
        count[1] = (hsize_t)res->n_maps;
        count[2] = count[3] = (hsize_t)res->bins;
        if (block_io(o, o->d_ratemap_unit, H5T_NATIVE_INT, 2, start, count, res->map_unit, 1) < 0 ||
            block_io(o, o->d_ratemaps, H5T_NATIVE_FLOAT, 4, start, count, res->ratemaps, 1) < 0)
            goto fail;
    }
    if (res->replay.traj && replay_io(o, row, (ReplayResult *)&res->replay, 1) < 0) goto fail;
    /* 3. data on disk (sync = task) or in the page cache (none), then the status */
    if (o->sync == H5OUT_SYNC_TASK && fsync(o->sync_fd) != 0) {
        sweep_log("%s: fsync: %s", o->path, strerror(errno));
        goto fail;
    }
    if (res->status != TASK_PENDING) {
        long wdelay = test_delay_ms("SWEEP_TEST_WRITE_DELAY_MS", &write_delay_cache);
        if (wdelay > 0) {
            sweep_log("test hook: task %d written, sleeping %ld ms before its status (SWEEP_TEST_WRITE_DELAY_MS)",
                      id, wdelay);
            test_sleep_ms(wdelay);
        }
        row_pack(&l, buf, id, cfg, res, res->status, rank);
        if (rows_io(o, o->row_type, row, 1, buf, 1) < 0) goto fail;
    }
    rc = 0;
    goto fail;
toobig:
    sweep_log("%s: task %d does not fit the file's dimensions", o->path, id);
fail:
    if (rc < 0) sweep_log("%s: writing task %d (row %d) failed", o->path, o->task_ids[row], row);
    free(buf);
    return rc;
}

int h5out_read_status(const H5Out *o, int *status)
{
    hid_t st = -1, mt = -1;
    char *buf = NULL;
    int rc = -1;
    if (o->n_rows == 0) return 0;
    if ((st = str_type(H5OUT_STATUS_LEN)) < 0) goto fail;
    if ((mt = H5Tcreate(H5T_COMPOUND, H5OUT_STATUS_LEN)) < 0 || H5Tinsert(mt, "status", 0, st) < 0) goto fail;
    if (!(buf = malloc((size_t)o->n_rows * H5OUT_STATUS_LEN))) goto fail;
    if (rows_io(o, mt, 0, o->n_rows, buf, 0) < 0) goto fail;
    for (int r = 0; r < o->n_rows; r++) {
        char name[H5OUT_STATUS_LEN + 1];
        get_str((unsigned char *)buf + (size_t)r * H5OUT_STATUS_LEN, H5OUT_STATUS_LEN, name, sizeof name);
        int s = h5out_status_index(name);
        status[r] = s < 0 ? TASK_PENDING : s;
    }
    rc = 0;
fail:
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (st >= 0) H5Tclose(st);
    return rc;
}

int h5out_read_task(const H5Out *o, int row, const TaskConfig *cfg, TaskResult *res, int *rank)
{
    RowLayout l;
    unsigned char *buf = NULL;
    int rc = -1;
    row_layout(&l);
    if (row < 0 || row >= o->n_rows) return -1;
    if (!(buf = malloc(l.size))) goto fail;
    if (rows_io(o, o->row_type, row, 1, buf, 0) < 0) goto fail;
    char name[H5OUT_STATUS_LEN + 1];
    get_str(buf + l.off_status, H5OUT_STATUS_LEN, name, sizeof name);
    int s = h5out_status_index(name);
    res->status = s < 0 ? TASK_PENDING : s;
    get_str(buf + l.off_msg, H5OUT_MESSAGE_LEN, res->message, sizeof res->message);
    if (rank) *rank = get_i32(buf + l.off_rank);
    res->wall_s = get_f64(buf + l.off_wall);
    res->train_s = get_f64(buf + l.off_train);
    res->eval_s = get_f64(buf + l.off_eval);
    res->steps_done = get_i32(buf + l.off_steps);
    res->final_loss = get_f32(buf + l.off_floss);
    res->final_err_cm = get_f32(buf + l.off_ferr);
    res->grid_frac = get_f32(buf + l.off_gfrac);
    res->max_score60 = get_f32(buf + l.off_max);
    res->mean_score60 = get_f32(buf + l.off_mean);
    res->null_threshold = get_f32(buf + l.off_nthr);
    res->grid_frac_null = get_f32(buf + l.off_gfnull);
    (void)cfg;

    hsize_t start[4] = {(hsize_t)row, 0, 0, 0}, count[4];
    count[0] = 1;
    count[1] = (hsize_t)(res->n_log < o->L ? res->n_log : o->L);
    if (block_io(o, o->d_train_step, H5T_NATIVE_INT, 2, start, count, res->log_step, 0) < 0 ||
        block_io(o, o->d_train_loss, H5T_NATIVE_FLOAT, 2, start, count, res->train_loss, 0) < 0 ||
        block_io(o, o->d_train_err, H5T_NATIVE_FLOAT, 2, start, count, res->train_err_cm, 0) < 0)
        goto fail;
    if (res->n_levels > o->S || res->eval_len > o->E || res->n_units > o->nmax) goto fail;
    count[1] = (hsize_t)res->n_levels;
    count[2] = (hsize_t)res->eval_len;
    if (block_io(o, o->d_eval_err, H5T_NATIVE_FLOAT, 3, start, count, res->eval_err_cm, 0) < 0) goto fail;
    count[1] = (hsize_t)res->n_units;
    if (block_io(o, o->d_score60, H5T_NATIVE_FLOAT, 2, start, count, res->score60, 0) < 0 ||
        block_io(o, o->d_score90, H5T_NATIVE_FLOAT, 2, start, count, res->score90, 0) < 0 ||
        block_io(o, o->d_border, H5T_NATIVE_FLOAT, 2, start, count, res->border, 0) < 0 ||
        block_io(o, o->d_mask60, H5T_NATIVE_SCHAR, 2, start, count, res->mask60, 0) < 0 ||
        block_io(o, o->d_grid_p, H5T_NATIVE_FLOAT, 2, start, count, res->grid_p, 0) < 0 ||
        block_io(o, o->d_grid_null, H5T_NATIVE_SCHAR, 2, start, count, res->grid_null, 0) < 0)
        goto fail;
    if (res->n_maps > 0) {
        if (o->d_ratemaps < 0 || res->n_maps > o->M || res->bins > o->G) goto fail;
        count[1] = (hsize_t)res->n_maps;
        count[2] = count[3] = (hsize_t)res->bins;
        if (block_io(o, o->d_ratemap_unit, H5T_NATIVE_INT, 2, start, count, res->map_unit, 0) < 0 ||
            block_io(o, o->d_ratemaps, H5T_NATIVE_FLOAT, 4, start, count, res->ratemaps, 0) < 0)
            goto fail;
    }
    if (res->replay.traj && replay_io(o, row, &res->replay, 0) < 0) goto fail;
    rc = 0;
fail:
    free(buf);
    return rc;
}

/* ---- close ------------------------------------------------------------- */

static void close_id(hid_t *id, herr_t (*fn)(hid_t), int *rc)
{
    if (*id >= 0 && fn(*id) < 0) *rc = -1;
    *id = -1;
}

int h5out_close(H5Out *o)
{
    int rc = 0;
    close_id(&o->d_tasks, H5Dclose, &rc);
    close_id(&o->d_train_step, H5Dclose, &rc);
    close_id(&o->d_train_loss, H5Dclose, &rc);
    close_id(&o->d_train_err, H5Dclose, &rc);
    close_id(&o->d_eval_err, H5Dclose, &rc);
    close_id(&o->d_score60, H5Dclose, &rc);
    close_id(&o->d_score90, H5Dclose, &rc);
    close_id(&o->d_border, H5Dclose, &rc);
    close_id(&o->d_mask60, H5Dclose, &rc);
    close_id(&o->d_grid_p, H5Dclose, &rc);
    close_id(&o->d_grid_null, H5Dclose, &rc);
    close_id(&o->d_ratemaps, H5Dclose, &rc);
    close_id(&o->d_ratemap_unit, H5Dclose, &rc);
    for (int i = 0; i < H5OUT_N_REPLAY_F; i++) close_id(&o->d_replay[i], H5Dclose, &rc);
    close_id(&o->d_replay_n_in, H5Dclose, &rc);
    close_id(&o->d_replay_traj, H5Dclose, &rc);
    close_id(&o->d_replay_occ, H5Dclose, &rc);
    close_id(&o->d_replay_occ_real, H5Dclose, &rc);
    close_id(&o->row_type, H5Tclose, &rc);
    close_id(&o->dxpl, H5Pclose, &rc);
    close_id(&o->file, H5Fclose, &rc);
    if (o->sync_fd >= 0) {
        if (close(o->sync_fd) != 0) rc = -1;
        o->sync_fd = -1;
    }
    if (o->lock_fd >= 0) {
        unlink(o->lock_path);
        if (close(o->lock_fd) != 0) rc = -1;
        o->lock_fd = -1;
    }
    free(o->task_ids);
    o->task_ids = NULL;
    return rc;
}
