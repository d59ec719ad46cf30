/* h5out_open.c -- open an existing result file; check it against a spec.
 * Dimensions as in h5out.h. */
#include "io/h5out_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/check.h"
#include "io/h5attr.h"
#include "io/rows.h"

/* Open dataset name, which must have ndim_want dimensions (into dims). */
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

/* Every dataset and the dimensions.  Returns 0, or -1 (one is missing or
 * malformed). */
static int open_datasets(H5Out *o)
{
    hsize_t dims[4];
    if ((o->d_tasks = open_dset(o->file, "tasks", 1, dims)) < 0) return -1;
    o->n_rows = (int)dims[0];
    if ((o->d_train_step = open_dset(o->file, "curves/train_step", 2, dims)) < 0) return -1;
    o->L = (int)dims[1];
    if ((o->d_train_loss = open_dset(o->file, "curves/train_loss", 2, dims)) < 0 ||
        (o->d_train_err = open_dset(o->file, "curves/train_err_cm", 2, dims)) < 0 ||
        (o->d_eval_err = open_dset(o->file, "curves/eval_err_cm", 3, dims)) < 0)
        return -1;
    o->S = (int)dims[1];
    o->E = (int)dims[2];
    if ((o->d_score60 = open_dset(o->file, "units/score60", 2, dims)) < 0) return -1;
    o->nmax = (int)dims[1];
    if ((o->d_score90 = open_dset(o->file, "units/score90", 2, dims)) < 0 ||
        (o->d_border = open_dset(o->file, "units/border", 2, dims)) < 0 ||
        (o->d_mask60 = open_dset(o->file, "units/mask60", 2, dims)) < 0 ||
        (o->d_grid_p = open_dset(o->file, "units/grid_p", 2, dims)) < 0 ||
        (o->d_grid_null = open_dset(o->file, "units/grid_null", 2, dims)) < 0 ||
        (o->d_grid_class = open_dset(o->file, "units/grid_class", 2, dims)) < 0 ||
        (o->d_n_peaks = open_dset(o->file, "units/n_peaks", 2, dims)) < 0)
        return -1;
    for (int i = 0; i < H5OUT_N_UNIT_F; i++) {
        char name[64];
        snprintf(name, sizeof name, "units/%s", h5out_unit_fields[i].name);
        if ((o->d_unit[i] = open_dset(o->file, name, 2, dims)) < 0) return -1;
    }
    o->M = 0;
    o->G = 1;
    if (H5Lexists(o->file, "units/ratemaps", H5P_DEFAULT) > 0) {
        if ((o->d_ratemaps = open_dset(o->file, "units/ratemaps", 4, dims)) < 0) return -1;
        o->M = (int)dims[1];
        o->G = (int)dims[2];
        if ((o->d_ratemap_unit = open_dset(o->file, "units/ratemap_unit", 2, dims)) < 0) return -1;
        if ((o->d_ratemap_peaks = open_dset(o->file, "units/ratemap_peaks", 4, dims)) < 0 ||
            dims[2] != RESULT_PEAK_FLOATS / 2 || dims[3] != 2)
            return -1;
    }
    if (H5Lexists(o->file, "snapshots", H5P_DEFAULT) > 0) {
        char name[64];
        o->has_snap = 1;
        if ((o->d_snap_step = open_dset(o->file, "snapshots/step", 2, dims)) < 0) return -1;
        o->KS = (int)dims[1];
        for (int i = 0; i < H5OUT_N_SNAP_F; i++) {
            snprintf(name, sizeof name, "snapshots/%s", h5out_snap_fields[i].name);
            if ((o->d_snap[i] = open_dset(o->file, name, 2, dims)) < 0) return -1;
        }
        for (int c = 0; c < GRIDCLASS_N; c++) {
            snprintf(name, sizeof name, "snapshots/%s", h5out_snap_frac_names[c]);
            if ((o->d_snap_frac[c] = open_dset(o->file, name, 2, dims)) < 0) return -1;
        }
    }
    if (H5Lexists(o->file, "replay", H5P_DEFAULT) > 0) {
        char name[64];
        o->has_replay = 1;
        for (int i = 0; i < H5OUT_N_REPLAY_F; i++) {
            snprintf(name, sizeof name, "replay/%s", h5out_replay_fields[i].name);
            if ((o->d_replay[i] = open_dset(o->file, name, 1, dims)) < 0) return -1;
        }
        if ((o->d_replay_n_in = open_dset(o->file, "replay/n_in", 1, dims)) < 0) return -1;
        if ((o->d_replay_traj = open_dset(o->file, "replay/traj", 4, dims)) < 0 || dims[3] != 2) return -1;
        o->RK = (int)dims[1];
        o->RH = (int)dims[2];
        if ((o->d_replay_occ = open_dset(o->file, "replay/occ", 3, dims)) < 0) return -1;
        o->RG = (int)dims[1];
        if ((o->d_replay_occ_real = open_dset(o->file, "replay/occ_real", 3, dims)) < 0) return -1;
    }
    return 0;
}

/* The id column into o->task_ids.  Returns 0, or -1 (err set). */
static int read_ids(H5Out *o, char *err, size_t errlen)
{
    hid_t idt = -1;
    int rc = -1;
    if (!(o->task_ids = malloc((o->n_rows ? (size_t)o->n_rows : 1) * sizeof *o->task_ids))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if ((idt = H5Tcreate(H5T_COMPOUND, sizeof(int))) < 0 || H5Tinsert(idt, "id", 0, H5T_NATIVE_INT) < 0 ||
        h5out_rows_io(o, idt, 0, o->n_rows, o->task_ids, 0) < 0) {
        snprintf(err, errlen, "%s: not a complete sweep result file (a dataset is missing or malformed)", o->path);
        goto fail;
    }
    rc = 0;
fail:
    if (idt >= 0) H5Tclose(idt);
    return rc;
}

int h5out_open(H5Out **out, const char *path, int writable, MPI_Comm comm, char *err, size_t errlen)
{
    hid_t fapl = -1;
    H5E_auto2_t efunc = NULL;
    void *edata = NULL;
    RowLayout l;
    int ok = 0;
    H5Out *o = h5out_new(comm);
    *out = NULL;
    if (!o) sweep_fatal(__FILE__, __LINE__, "out of memory");
    snprintf(o->path, sizeof o->path, "%s", path);
    rows_layout(&l);
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
    if (writable && lock_acquire(&o->lock, path, comm, err, errlen) < 0) goto fail;
    if ((o->file = H5Fopen(path, writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl)) < 0) {
        snprintf(err, errlen, "%s: cannot open the HDF5 file%s", path,
                 writable ? " for writing (read-only, or in use by another sweep?)" : "");
        goto fail;
    }
    int fv = 0;
    if (h5attr_read_int(o->file, "format_version", &fv) < 0) {
        snprintf(err, errlen, "%s: not a sweep result file (no format_version attribute)", path);
        goto fail;
    }
    if (fv != H5OUT_FORMAT_VERSION) {
        snprintf(err, errlen, "%s: result format %d, this sweep writes format %d", path, fv, H5OUT_FORMAT_VERSION);
        goto fail;
    }
    if (open_datasets(o) < 0 || (o->row_type = rows_type_create(&l)) < 0) {
        snprintf(err, errlen, "%s: not a complete sweep result file (a dataset is missing or malformed)", path);
        goto fail;
    }
    if (h5out_dxpl_and_fd(o) < 0) {
        snprintf(err, errlen, "%s: cannot reopen: %s", path, strerror(errno));
        goto fail;
    }
    if (read_ids(o, err, errlen) < 0) goto fail;
    ok = 1;
fail:
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
    *out = o;
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
    char *hash = h5attr_read_str(o->file, "spec_hash");
    char *canon = NULL, *shard = NULL;
    int rc = -1;
    if (!hash) {
        snprintf(err, errlen, "%s: no spec_hash attribute", o->path);
        goto fail;
    }
    if (strcmp(hash, meta->spec_hash) != 0) {
        canon = h5attr_read_str(o->file, "spec_canonical");
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
    shard = h5attr_read_str(o->file, "shard");
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
            snprintf(err, errlen, "%s: row %d holds task %d, expected %d", o->path, r, o->task_ids[r], task_ids[r]);
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
