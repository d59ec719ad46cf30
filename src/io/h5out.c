/* h5out.c -- the H5Out handle: allocation, accessors, block I/O, close.
 *
 * Layout decisions (why the file survives kill -9):
 *  - default (oldest compatible) file format, every object created at
 *    start-up, contiguous storage allocated early with fill values, then a
 *    collective H5Fflush: afterwards only raw data are written, so the
 *    metadata on disk never change while tasks run (h5out_create.c);
 *  - a task's rows are written independently by the rank that ran it; its
 *    status is written last, after the data (and, with sync = task, after
 *    an fsync of them) (h5out_task.c).
 */
#include "io/h5out_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const H5OutReplayField h5out_replay_fields[H5OUT_N_REPLAY_F] = {
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

const H5OutArrayField h5out_unit_fields[H5OUT_N_UNIT_F] = {
    {"spacing_cm", "cm", offsetof(TaskResult, spacing_cm)},
    {"orientation_deg", "deg", offsetof(TaskResult, orientation_deg)},
    {"ellipticity", "", offsetof(TaskResult, ellipticity)},
    {"band", "", offsetof(TaskResult, band)},
    {"ramp_r2", "", offsetof(TaskResult, ramp_r2)},
    {"coherence", "", offsetof(TaskResult, coherence)},
    {"spatial_info", "bits/spike", offsetof(TaskResult, spatial_info)},
};

const H5OutArrayField h5out_snap_fields[H5OUT_N_SNAP_F] = {
    {"max_score60", "", offsetof(TaskResult, snap_max_score60)},
    {"mean_score60", "", offsetof(TaskResult, snap_mean_score60)},
    {"grid_frac", "", offsetof(TaskResult, snap_grid_frac)},
};

const char *const h5out_class_names[GRIDCLASS_N] = {
#define H5OUT_CLASS_NAME_(NAME, name) #NAME,
    GRIDCLASS_TABLE(H5OUT_CLASS_NAME_)
#undef H5OUT_CLASS_NAME_
};

const char *const h5out_snap_frac_names[GRIDCLASS_N] = {
#define H5OUT_SNAP_FRAC_(NAME, name) "frac_" #name,
    GRIDCLASS_TABLE(H5OUT_SNAP_FRAC_)
#undef H5OUT_SNAP_FRAC_
};

float *h5out_array_of(const TaskResult *res, size_t off)
{
    float *p;
    memcpy(&p, (const char *)res + off, sizeof p);
    return p;
}

H5Out *h5out_new(MPI_Comm comm)
{
    H5Out *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->comm = comm;
    o->file = o->row_type = o->dxpl = o->d_tasks = -1;
    o->d_train_step = o->d_train_loss = o->d_train_err = o->d_eval_err = -1;
    o->d_score60 = o->d_score90 = o->d_border = o->d_mask60 = o->d_grid_p = o->d_grid_null = -1;
    o->d_ratemaps = o->d_ratemap_unit = o->d_ratemap_peaks = -1;
    o->d_grid_class = o->d_n_peaks = o->d_snap_step = -1;
    for (int i = 0; i < H5OUT_N_UNIT_F; i++) o->d_unit[i] = -1;
    for (int i = 0; i < H5OUT_N_SNAP_F; i++) o->d_snap[i] = -1;
    for (int i = 0; i < GRIDCLASS_N; i++) o->d_snap_frac[i] = -1;
    for (int i = 0; i < H5OUT_N_REPLAY_F; i++) o->d_replay[i] = -1;
    o->d_replay_n_in = o->d_replay_traj = o->d_replay_occ = o->d_replay_occ_real = -1;
    o->sync_fd = -1;
    o->sync = H5OUT_SYNC_TASK;
    lock_init(&o->lock);
    return o;
}

/* ---- accessors ------------------------------------------------------------ */

int h5out_n_rows(const H5Out *o) { return o->n_rows; }
void h5out_dims(const H5Out *o, H5OutDims *d)
{
    *d = (H5OutDims){.R = o->n_rows, .L = o->L, .S = o->S, .E = o->E, .N = o->nmax, .M = o->M, .G = o->G,
                     .has_replay = o->has_replay, .RK = o->RK, .RH = o->RH, .RG = o->RG,
                     .has_snap = o->has_snap, .KS = o->KS};
}

int h5out_task_id(const H5Out *o, int row) { return o->task_ids[row]; }
const char *h5out_path(const H5Out *o) { return o->path; }
void h5out_set_sync(H5Out *o, int sync) { o->sync = sync; }
hid_t h5out_file(const H5Out *o) { return o->file; }

int h5out_row_of(const H5Out *o, int id)
{
    if (id >= 0 && id < o->n_rows && o->task_ids[id] == id) return id;
    for (int r = 0; r < o->n_rows; r++)
        if (o->task_ids[r] == id) return r;
    return -1;
}

/* ---- block I/O ---------------------------------------------------------------- */

int h5out_block_io(const H5Out *o, hid_t d, hid_t mtype, int nd, const hsize_t *start, const hsize_t *count,
                   void *buf, int write)
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

int h5out_rows_io(const H5Out *o, hid_t mtype, int row, int n, void *buf, int write)
{
    hsize_t start = (hsize_t)row, count = (hsize_t)n;
    return h5out_block_io(o, o->d_tasks, mtype, 1, &start, &count, buf, write);
}

int h5out_read_column(const H5Out *o, const char *name, hid_t mtype, size_t size, void *buf)
{
    hid_t ct = -1;
    int rc = -1;
    if (o->n_rows == 0) return 0;
    if (h5out_column_class(o, name) == H5T_NO_CLASS) return -1;
    if ((ct = H5Tcreate(H5T_COMPOUND, size)) < 0 || H5Tinsert(ct, name, 0, mtype) < 0) goto fail;
    rc = h5out_rows_io(o, ct, 0, o->n_rows, buf, 0);
fail:
    if (ct >= 0) H5Tclose(ct);
    return rc;
}

H5T_class_t h5out_column_class(const H5Out *o, const char *name)
{
    hid_t ft = H5Dget_type(o->d_tasks);
    H5T_class_t cls = H5T_NO_CLASS;
    if (ft < 0) return cls;
    int idx = H5Tget_member_index(ft, name);
    if (idx >= 0) cls = H5Tget_member_class(ft, (unsigned)idx);
    H5Tclose(ft);
    return cls < 0 ? H5T_NO_CLASS : cls;
}

int h5out_dxpl_and_fd(H5Out *o)
{
    if ((o->dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0) return -1;
    if (H5Pset_dxpl_mpio(o->dxpl, H5FD_MPIO_INDEPENDENT) < 0) return -1;
    o->sync_fd = open(o->path, O_RDONLY | O_CLOEXEC);
    return o->sync_fd < 0 ? -1 : 0;
}

/* ---- test hooks ------------------------------------------------------------
 * Fault injection for the tests (docs/faults.md, "Test hooks"): an
 * environment variable, read once per process, makes a rank sleep inside a
 * window that is otherwise too short to hit with a signal:
 *   SWEEP_TEST_WRITE_DELAY_MS   a worker, between writing a task's data
 *                               (and fsync) and writing its final status;
 *   SWEEP_TEST_CREATE_DELAY_MS  rank 0, between building NAME.creating and
 *                               renaming it into place.
 * Each announces itself on stderr ("test hook: ...") so a test can wait
 * for it.  Unset (the normal case) costs one getenv per process. */
long h5out_test_delay_ms(const char *name, long *cache)
{
    if (*cache < 0) {
        const char *v = getenv(name);
        char *end = NULL;
        long ms = v && *v ? strtol(v, &end, 10) : 0;
        *cache = end && *end == '\0' && ms > 0 ? ms : 0;
    }
    return *cache;
}

void h5out_test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- close ------------------------------------------------------------------ */

static void close_id(hid_t *id, herr_t (*fn)(hid_t), int *rc)
{
    if (*id >= 0 && fn(*id) < 0) *rc = -1;
    *id = -1;
}

int h5out_release(H5Out *o)
{
    int rc = 0;
    hid_t *dsets[] = {&o->d_tasks, &o->d_train_step, &o->d_train_loss, &o->d_train_err, &o->d_eval_err,
                      &o->d_score60, &o->d_score90, &o->d_border, &o->d_mask60, &o->d_grid_p, &o->d_grid_null,
                      &o->d_ratemaps, &o->d_ratemap_unit, &o->d_replay_n_in, &o->d_replay_traj,
                      &o->d_replay_occ, &o->d_replay_occ_real, &o->d_grid_class, &o->d_n_peaks,
                      &o->d_ratemap_peaks, &o->d_snap_step};
    for (size_t i = 0; i < sizeof dsets / sizeof dsets[0]; i++) close_id(dsets[i], H5Dclose, &rc);
    for (int i = 0; i < H5OUT_N_REPLAY_F; i++) close_id(&o->d_replay[i], H5Dclose, &rc);
    for (int i = 0; i < H5OUT_N_UNIT_F; i++) close_id(&o->d_unit[i], H5Dclose, &rc);
    for (int i = 0; i < H5OUT_N_SNAP_F; i++) close_id(&o->d_snap[i], H5Dclose, &rc);
    for (int i = 0; i < GRIDCLASS_N; i++) close_id(&o->d_snap_frac[i], H5Dclose, &rc);
    close_id(&o->row_type, H5Tclose, &rc);
    close_id(&o->dxpl, H5Pclose, &rc);
    close_id(&o->file, H5Fclose, &rc);
    if (o->sync_fd >= 0) {
        if (close(o->sync_fd) != 0) rc = -1;
        o->sync_fd = -1;
    }
    if (lock_release(&o->lock) < 0) rc = -1;
    free(o->task_ids);
    o->task_ids = NULL;
    return rc;
}

int h5out_close(H5Out *o)
{
    if (!o) return 0;
    int rc = h5out_release(o);
    free(o);
    return rc;
}
