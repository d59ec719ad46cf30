/* h5out_task.c -- one task's rows: write them (a worker), read them back
 * (merge, tests), and the status column of every row.
 * Dimensions as in h5out.h. */
#include "io/h5out_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/check.h"
#include "io/rows.h"

static long write_delay_cache = -1;

static float *replay_field(ReplayResult *rp, int i) { return (float *)((char *)rp + h5out_replay_fields[i].off); }

/* Write (write = 1) or read row `row` of /replay from/to rp (replay_alloc'ed:
 * R, H, G, n_keep set).  Returns 0, or -1 (I/O error, no /replay, or rp
 * larger than the file's dimensions). */
static int replay_io(const H5Out *o, int row, ReplayResult *rp, int write)
{
    if (!o->has_replay || rp->n_keep > o->RK || rp->H + 1 > o->RH || rp->G > o->RG) return -1;
    hsize_t start[4] = {(hsize_t)row, 0, 0, 0}, count[4] = {1, 1, 1, 1};
    for (int i = 0; i < H5OUT_N_REPLAY_F; i++)
        if (h5out_block_io(o, o->d_replay[i], H5T_NATIVE_FLOAT, 1, start, count, replay_field(rp, i), write) < 0)
            return -1;
    if (h5out_block_io(o, o->d_replay_n_in, H5T_NATIVE_INT, 1, start, count, &rp->n_in, write) < 0) return -1;
    count[1] = (hsize_t)rp->n_keep;
    count[2] = (hsize_t)rp->H + 1;
    count[3] = 2;
    if (h5out_block_io(o, o->d_replay_traj, H5T_NATIVE_FLOAT, 4, start, count, rp->traj, write) < 0) return -1;
    count[1] = count[2] = (hsize_t)rp->G;
    if (h5out_block_io(o, o->d_replay_occ, H5T_NATIVE_FLOAT, 3, start, count, rp->occ, write) < 0 ||
        h5out_block_io(o, o->d_replay_occ_real, H5T_NATIVE_FLOAT, 3, start, count, rp->occ_real, write) < 0)
        return -1;
    return 0;
}

/* Write (write = 1) or read the data rows of `row` (every dataset but
 * /tasks) from / to res; arrays of res that are NULL are skipped when
 * writing.  Returns 0, -1 (I/O error) or -2 (res does not fit the file). */
static int data_io(const H5Out *o, int row, TaskResult *res, int write)
{
    hsize_t start[4] = {(hsize_t)row, 0, 0, 0}, count[4] = {1, 0, 0, 0};
    if (res->log_step) {
        count[1] = (hsize_t)(res->n_log < o->L ? res->n_log : o->L);
        if (h5out_block_io(o, o->d_train_step, H5T_NATIVE_INT, 2, start, count, res->log_step, write) < 0 ||
            h5out_block_io(o, o->d_train_loss, H5T_NATIVE_FLOAT, 2, start, count, res->train_loss, write) < 0 ||
            h5out_block_io(o, o->d_train_err, H5T_NATIVE_FLOAT, 2, start, count, res->train_err_cm, write) < 0)
            return -1;
    }
    if (res->eval_err_cm) {
        if (res->n_levels > o->S || res->eval_len > o->E) return -2;
        count[1] = (hsize_t)res->n_levels;
        count[2] = (hsize_t)res->eval_len;
        if (h5out_block_io(o, o->d_eval_err, H5T_NATIVE_FLOAT, 3, start, count, res->eval_err_cm, write) < 0)
            return -1;
    }
    if (res->score60) {
        if (res->n_units > o->nmax) return -2;
        count[1] = (hsize_t)res->n_units;
        if (h5out_block_io(o, o->d_score60, H5T_NATIVE_FLOAT, 2, start, count, res->score60, write) < 0 ||
            h5out_block_io(o, o->d_score90, H5T_NATIVE_FLOAT, 2, start, count, res->score90, write) < 0 ||
            h5out_block_io(o, o->d_border, H5T_NATIVE_FLOAT, 2, start, count, res->border, write) < 0 ||
            h5out_block_io(o, o->d_mask60, H5T_NATIVE_SCHAR, 2, start, count, res->mask60, write) < 0)
            return -1;
        if (res->grid_p && h5out_block_io(o, o->d_grid_p, H5T_NATIVE_FLOAT, 2, start, count, res->grid_p, write) < 0)
            return -1;
        if (res->grid_null &&
            h5out_block_io(o, o->d_grid_null, H5T_NATIVE_SCHAR, 2, start, count, res->grid_null, write) < 0)
            return -1;
        if (res->grid_class &&
            (h5out_block_io(o, o->d_grid_class, H5T_NATIVE_SCHAR, 2, start, count, res->grid_class, write) < 0 ||
             h5out_block_io(o, o->d_n_peaks, H5T_NATIVE_SCHAR, 2, start, count, res->n_peaks, write) < 0))
            return -1;
        for (int i = 0; i < H5OUT_N_UNIT_F; i++) {
            float *x = h5out_array_of(res, h5out_unit_fields[i].off);
            if (x && h5out_block_io(o, o->d_unit[i], H5T_NATIVE_FLOAT, 2, start, count, x, write) < 0) return -1;
        }
    }
    if (res->ratemaps && res->map_unit && res->n_maps > 0) {
        if (o->d_ratemaps < 0 || res->n_maps > o->M || res->bins > o->G) return -2;
        count[1] = (hsize_t)res->n_maps;
        count[2] = count[3] = (hsize_t)res->bins;
        if (h5out_block_io(o, o->d_ratemap_unit, H5T_NATIVE_INT, 2, start, count, res->map_unit, write) < 0 ||
            h5out_block_io(o, o->d_ratemaps, H5T_NATIVE_FLOAT, 4, start, count, res->ratemaps, write) < 0)
            return -1;
        count[2] = RESULT_PEAK_FLOATS / 2;
        count[3] = 2;
        if (res->map_peaks &&
            h5out_block_io(o, o->d_ratemap_peaks, H5T_NATIVE_FLOAT, 4, start, count, res->map_peaks, write) < 0)
            return -1;
    }
    if (res->n_snap > 0 && res->snap_step) {
        if (!o->has_snap || res->n_snap > o->KS) return -2;
        count[1] = (hsize_t)res->n_snap;
        if (h5out_block_io(o, o->d_snap_step, H5T_NATIVE_INT, 2, start, count, res->snap_step, write) < 0) return -1;
        for (int i = 0; i < H5OUT_N_SNAP_F; i++) {
            float *x = h5out_array_of(res, h5out_snap_fields[i].off);
            if (h5out_block_io(o, o->d_snap[i], H5T_NATIVE_FLOAT, 2, start, count, x, write) < 0) return -1;
        }
        for (int c = 0; c < GRIDCLASS_N; c++)
            if (h5out_block_io(o, o->d_snap_frac[c], H5T_NATIVE_FLOAT, 2, start, count,
                               res->snap_frac + (size_t)c * res->n_snap, write) < 0)
                return -1;
    }
    if (res->replay.traj && replay_io(o, row, &res->replay, write) < 0) return -1;
    return 0;
}

int h5out_write_task(H5Out *o, int row, const TaskConfig *cfg, const TaskResult *res, int rank)
{
    RowLayout l;
    unsigned char *buf = NULL;
    int rc = -1;
    rows_layout(&l);
    if (row < 0 || row >= o->n_rows) {
        sweep_log("%s: row %d out of range", o->path, row);
        return -1;
    }
    if (!(buf = malloc(l.size))) goto fail;
    int id = o->task_ids[row];
    /* 1. the row with status pending (a crash before step 3 leaves the task pending) */
    rows_pack(&l, buf, id, cfg, res, TASK_PENDING, rank);
    if (h5out_rows_io(o, o->row_type, row, 1, buf, 1) < 0) goto fail;
    /* 2. the data (data_io only reads res when writing) */
    int drc = data_io(o, row, (TaskResult *)res, 1);
    if (drc == -2) sweep_log("%s: task %d does not fit the file's dimensions", o->path, id);
    if (drc < 0) goto fail;
    /* 3. data on disk (sync = task) or in the page cache (none), then the status */
    if (o->sync == H5OUT_SYNC_TASK && fsync(o->sync_fd) != 0) {
        sweep_log("%s: fsync: %s", o->path, strerror(errno));
        goto fail;
    }
    if (res->status != TASK_PENDING) {
        long wdelay = h5out_test_delay_ms("SWEEP_TEST_WRITE_DELAY_MS", &write_delay_cache);
        if (wdelay > 0) {
            sweep_log("test hook: task %d written, sleeping %ld ms before its status (SWEEP_TEST_WRITE_DELAY_MS)",
                      id, wdelay);
            h5out_test_sleep_ms(wdelay);
        }
        rows_pack(&l, buf, id, cfg, res, res->status, rank);
        if (h5out_rows_io(o, o->row_type, row, 1, buf, 1) < 0) goto fail;
    }
    rc = 0;
fail:
    if (rc < 0) sweep_log("%s: writing task %d (row %d) failed", o->path, o->task_ids[row], row);
    free(buf);
    return rc;
}

int h5out_read_status(const H5Out *o, int *status)
{
    const RowsColumn *col = &rows_columns[ROWS_COL_status];
    hid_t st = -1;
    char *buf = NULL;
    int rc = -1;
    if (o->n_rows == 0) return 0;
    if ((st = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(st, col->width) < 0 || H5Tset_strpad(st, H5T_STR_NULLPAD) < 0)
        goto fail;
    if (!(buf = malloc((size_t)o->n_rows * col->width))) goto fail;
    if (h5out_read_column(o, col->name, st, col->width, buf) < 0) goto fail;
    for (int r = 0; r < o->n_rows; r++) {
        char name[64];
        rows_get_str((unsigned char *)buf + (size_t)r * col->width, col->width, name, sizeof name);
        int s = rows_status_index(name);
        status[r] = s < 0 ? TASK_PENDING : s;
    }
    rc = 0;
fail:
    free(buf);
    if (st >= 0) H5Tclose(st);
    return rc;
}

int h5out_read_task(const H5Out *o, int row, TaskResult *res, int *rank)
{
    RowLayout l;
    unsigned char *buf = NULL;
    int rc = -1;
    rows_layout(&l);
    if (row < 0 || row >= o->n_rows) return -1;
    if (!(buf = malloc(l.size))) goto fail;
    if (h5out_rows_io(o, o->row_type, row, 1, buf, 0) < 0) goto fail;
    rows_unpack(&l, buf, res, rank);
    if (data_io(o, row, res, 0) < 0) goto fail;
    rc = 0;
fail:
    free(buf);
    return rc;
}
