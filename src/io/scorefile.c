/* scorefile.c -- read rate maps, write per-unit scores (`sweep score`).
 *
 * Dimensions: U units (maps), G bins per side.
 *
 * Serial HDF5 with default property lists (the parallel library works
 * without MPI for the default sec2 driver).  HDF5's own error stack is
 * silenced while reading so that a malformed input gets our one-line
 * message; it is restored before returning.
 */
#include "io/scorefile.h"

#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void scorefile_input_free(ScoreInput *in)
{
    if (!in)
        return;
    free(in->maps);
    free(in->occ);
    in->maps = NULL;
    in->occ = NULL;
}

/* Open dataset name of file, check float class; dims out (rank <= 3). */
static hid_t open_float_dataset(hid_t file, const char *path, const char *name, int *rank,
                                hsize_t *dims, char *err, size_t errlen)
{
    hid_t d = -1, t = -1, s = -1;
    if ((d = H5Dopen2(file, name, H5P_DEFAULT)) < 0) {
        set_err(err, errlen, "%s: cannot open dataset %s", path, name);
        goto fail;
    }
    if ((t = H5Dget_type(d)) < 0 || H5Tget_class(t) != H5T_FLOAT) {
        set_err(err, errlen, "%s: dataset %s is not a float dataset (float32 or float64 expected)",
                path, name);
        goto fail;
    }
    if ((s = H5Dget_space(d)) < 0) {
        set_err(err, errlen, "%s: dataset %s: cannot read its shape", path, name);
        goto fail;
    }
    int r = H5Sget_simple_extent_ndims(s);
    if (r < 1 || r > 3) {
        set_err(err, errlen, "%s: dataset %s has rank %d", path, name, r);
        goto fail;
    }
    H5Sget_simple_extent_dims(s, dims, NULL);
    *rank = r;
    H5Sclose(s);
    H5Tclose(t);
    return d;
fail:
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (d >= 0) H5Dclose(d);
    return -1;
}

int scorefile_read(const char *path, ScoreInput *in, char *err, size_t errlen)
{
    hid_t f = -1, d = -1, a = -1;
    float *maps = NULL;
    double *occ = NULL, *occ2 = NULL;
    H5E_auto2_t efunc;
    void *edata;
    int rc = -1;
    H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    err[0] = '\0';

    if (access(path, R_OK) != 0) {
        set_err(err, errlen, "%s: cannot read the file", path);
        goto done;
    }
    if (H5Fis_hdf5(path) <= 0 ||
        (f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
        set_err(err, errlen, "%s: not an HDF5 file", path);
        goto done;
    }
    if (H5Lexists(f, "ratemaps", H5P_DEFAULT) <= 0) {
        set_err(err, errlen, "%s: no dataset /ratemaps", path);
        goto done;
    }
    int rank;
    hsize_t dims[3] = {0, 0, 0};
    if ((d = open_float_dataset(f, path, "/ratemaps", &rank, dims, err, errlen)) < 0)
        goto done;
    if (rank != 3) {
        set_err(err, errlen, "%s: dataset /ratemaps has rank %d, expected 3 (units, G, G)", path, rank);
        goto done;
    }
    if (dims[1] != dims[2]) {
        set_err(err, errlen, "%s: dataset /ratemaps has shape (%llu, %llu, %llu): maps must be square (G, G)",
                path, (unsigned long long)dims[0], (unsigned long long)dims[1],
                (unsigned long long)dims[2]);
        goto done;
    }
    if (dims[1] < SCOREFILE_MIN_G || dims[1] > SCOREFILE_MAX_G) {
        set_err(err, errlen, "%s: dataset /ratemaps has G = %llu bins per side, expected %d to %d",
                path, (unsigned long long)dims[1], SCOREFILE_MIN_G, SCOREFILE_MAX_G);
        goto done;
    }
    if (dims[0] < 1 || dims[0] > 100000000ULL) {
        set_err(err, errlen, "%s: dataset /ratemaps has %llu units", path, (unsigned long long)dims[0]);
        goto done;
    }
    const int U = (int)dims[0], G = (int)dims[1];
    const size_t n = (size_t)U * G * G;
    maps = malloc(n * sizeof *maps);
    if (!maps) {
        set_err(err, errlen, "%s: out of memory for /ratemaps (%zu values)", path, n);
        goto done;
    }
    if (H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, maps) < 0) {
        set_err(err, errlen, "%s: cannot read dataset /ratemaps", path);
        goto done;
    }
    size_t finite = 0;
    for (size_t i = 0; i < n; i++) {
        if (isinf(maps[i])) {
            set_err(err, errlen, "%s: dataset /ratemaps holds an infinite value (unit %zu)", path,
                    i / ((size_t)G * G));
            goto done;
        }
        finite += !isnan(maps[i]);
    }
    if (finite == 0) {
        set_err(err, errlen, "%s: dataset /ratemaps is all NaN (no visited bin in any map)", path);
        goto done;
    }
    double bin_cm = 220.0 / G;
    int given = 0;
    if (H5Aexists(d, "bin_cm") > 0) {
        hid_t at = -1;
        if ((a = H5Aopen(d, "bin_cm", H5P_DEFAULT)) < 0 || (at = H5Aget_type(a)) < 0 ||
            (H5Tget_class(at) != H5T_FLOAT && H5Tget_class(at) != H5T_INTEGER) ||
            H5Aread(a, H5T_NATIVE_DOUBLE, &bin_cm) < 0 || !isfinite(bin_cm) || !(bin_cm > 0.0)) {
            if (at >= 0) H5Tclose(at);
            set_err(err, errlen, "%s: attribute bin_cm of /ratemaps must be one number > 0", path);
            goto done;
        }
        H5Tclose(at);
        given = 1;
    }
    if (H5Lexists(f, "occupancy", H5P_DEFAULT) > 0) {
        hid_t od;
        int orank;
        hsize_t od_dims[3] = {0, 0, 0};
        if ((od = open_float_dataset(f, path, "/occupancy", &orank, od_dims, err, errlen)) < 0)
            goto done;
        int per_unit = orank == 3 && od_dims[0] == dims[0] && od_dims[1] == dims[1] && od_dims[2] == dims[2];
        int shared = orank == 2 && od_dims[0] == dims[1] && od_dims[1] == dims[2];
        if (!per_unit && !shared) {
            H5Dclose(od);
            set_err(err, errlen, "%s: dataset /occupancy must have the shape (%d, %d, %d) or (%d, %d) of /ratemaps",
                    path, U, G, G, G, G);
            goto done;
        }
        const size_t on = per_unit ? n : (size_t)G * G;
        occ = malloc(n * sizeof *occ);
        occ2 = malloc(on * sizeof *occ2);
        if (!occ || !occ2 || H5Dread(od, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, occ2) < 0) {
            H5Dclose(od);
            set_err(err, errlen, "%s: cannot read dataset /occupancy", path);
            goto done;
        }
        H5Dclose(od);
        for (size_t i = 0; i < on; i++)
            if (!isfinite(occ2[i]) || occ2[i] < 0.0) {
                set_err(err, errlen, "%s: dataset /occupancy holds a negative or non-finite value", path);
                goto done;
            }
        for (size_t i = 0; i < n; i++)
            occ[i] = occ2[per_unit ? i : i % ((size_t)G * G)];
    }
    in->U = U;
    in->G = G;
    in->maps = maps;
    in->occ = occ;
    in->bin_cm = bin_cm;
    in->bin_cm_given = given;
    maps = NULL;
    occ = NULL;
    rc = 0;
done:
    free(maps);
    free(occ);
    free(occ2);
    if (a >= 0) H5Aclose(a);
    if (d >= 0) H5Dclose(d);
    if (f >= 0) H5Fclose(f);
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
    return rc;
}

static int write_attr_double(hid_t obj, const char *name, double v)
{
    hid_t s = -1, a = -1;
    int rc = -1;
    if ((s = H5Screate(H5S_SCALAR)) < 0) goto fail;
    if ((a = H5Acreate2(obj, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto fail;
    if (H5Awrite(a, H5T_NATIVE_DOUBLE, &v) < 0) goto fail;
    rc = 0;
fail:
    if (a >= 0) H5Aclose(a);
    if (s >= 0) H5Sclose(s);
    return rc;
}

static int write_attr_str(hid_t obj, const char *name, const char *v)
{
    hid_t s = -1, t = -1, a = -1;
    int rc = -1;
    if ((s = H5Screate(H5S_SCALAR)) < 0) goto fail;
    if ((t = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(t, strlen(v) + 1) < 0) goto fail;
    if ((a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto fail;
    if (H5Awrite(a, t, v) < 0) goto fail;
    rc = 0;
fail:
    if (a >= 0) H5Aclose(a);
    if (t >= 0) H5Tclose(t);
    if (s >= 0) H5Sclose(s);
    return rc;
}

/* Fixed-length string array attribute (n strings). */
static int write_attr_strs(hid_t obj, const char *name, const char *const *v, int n)
{
    hid_t s = -1, t = -1, a = -1;
    char *buf = NULL;
    int rc = -1;
    size_t w = 1;
    for (int i = 0; i < n; i++)
        if (strlen(v[i]) + 1 > w)
            w = strlen(v[i]) + 1;
    if (!(buf = calloc((size_t)n, w))) goto fail;
    for (int i = 0; i < n; i++)
        memcpy(buf + (size_t)i * w, v[i], strlen(v[i]));
    hsize_t dim = (hsize_t)n;
    if ((s = H5Screate_simple(1, &dim, NULL)) < 0) goto fail;
    if ((t = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(t, w) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0)
        goto fail;
    if ((a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto fail;
    if (H5Awrite(a, t, buf) < 0) goto fail;
    rc = 0;
fail:
    free(buf);
    if (a >= 0) H5Aclose(a);
    if (t >= 0) H5Tclose(t);
    if (s >= 0) H5Sclose(s);
    return rc;
}

int scorefile_write(const char *path, int force, int U, const ScoreColumn *cols,
                    int ncols, const char *class_col, const char *const *class_names,
                    int n_classes, const ScoreAttr *attrs, int nattrs,
                    const ScoreAttr *unit_attrs, int n_unit_attrs, char *err,
                    size_t errlen)
{
    hid_t f = -1, g = -1, s = -1, d = -1;
    char *tmp = NULL;
    int rc = -1, created = 0;
    H5E_auto2_t efunc;
    void *edata;
    H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    err[0] = '\0';
    if (!force && access(path, F_OK) == 0) {
        set_err(err, errlen, "%s exists: use --force to overwrite it", path);
        rc = -2;
        goto done;
    }
    const size_t tl = strlen(path) + 5;
    if (!(tmp = malloc(tl))) {
        set_err(err, errlen, "%s: out of memory", path);
        goto done;
    }
    snprintf(tmp, tl, "%s.tmp", path);
    if ((f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0) {
        set_err(err, errlen, "%s: cannot create the file", tmp);
        goto done;
    }
    created = 1;
    if ((g = H5Gcreate2(f, "units", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto h5fail;
    for (int i = 0; i < n_unit_attrs; i++)
        if (write_attr_double(g, unit_attrs[i].name, unit_attrs[i].value) < 0) goto h5fail;
    hsize_t dim = (hsize_t)U;
    if ((s = H5Screate_simple(1, &dim, NULL)) < 0) goto h5fail;
    for (int c = 0; c < ncols; c++) {
        const int is_f = cols[c].type == SCOREFILE_F32;
        hid_t ft = is_f ? H5T_IEEE_F32LE : H5T_STD_I8LE;
        hid_t mt = is_f ? H5T_NATIVE_FLOAT : H5T_NATIVE_SCHAR;
        if ((d = H5Dcreate2(g, cols[c].name, ft, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
            goto h5fail;
        if (U > 0 && H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, cols[c].data) < 0) goto h5fail;
        if (cols[c].doc && write_attr_str(d, "doc", cols[c].doc) < 0) goto h5fail;
        if (class_col && strcmp(cols[c].name, class_col) == 0) {
            if (write_attr_strs(d, "classes", class_names, n_classes) < 0) goto h5fail;
            for (int i = 0; i < nattrs; i++)
                if (write_attr_double(d, attrs[i].name, attrs[i].value) < 0) goto h5fail;
        }
        H5Dclose(d);
        d = -1;
    }
    H5Sclose(s);
    s = -1;
    H5Gclose(g);
    g = -1;
    if (H5Fclose(f) < 0) {
        f = -1;
        goto h5fail;
    }
    f = -1;
    if (rename(tmp, path) != 0) {
        set_err(err, errlen, "%s: cannot rename %s onto it", path, tmp);
        goto done;
    }
    created = 0;
    rc = 0;
    goto done;
h5fail:
    set_err(err, errlen, "%s: HDF5 error while writing the scores", tmp);
done:
    if (d >= 0) H5Dclose(d);
    if (s >= 0) H5Sclose(s);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    if (created && tmp)
        remove(tmp);
    free(tmp);
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
    return rc;
}
