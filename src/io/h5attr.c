/* h5attr.c -- reading and writing the result file's attributes. */
#include "io/h5attr.h"

#include <stdlib.h>
#include <string.h>

/* A variable-length UTF-8 string type; -1 on failure. */
static hid_t vstr_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Create attribute name of type t and space s, write buf (memory type t). */
static int create_write(hid_t obj, const char *name, hid_t t, hid_t mt, hid_t s, const void *buf)
{
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) return -1;
    int rc = buf && H5Awrite(a, mt, buf) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

int h5attr_write_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = vstr_type(), s = -1;
    int rc = -1;
    const char *v = value ? value : "";
    if (t < 0 || (s = H5Screate(H5S_SCALAR)) < 0) goto fail;
    rc = create_write(obj, name, t, t, s, &v);
fail:
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    return rc;
}

int h5attr_write_strs(hid_t obj, const char *name, const char *const *values, int n)
{
    hid_t t = vstr_type(), s = -1;
    hsize_t dim = (hsize_t)n;
    int rc = -1;
    if (t < 0 || (s = H5Screate_simple(1, &dim, NULL)) < 0) goto fail;
    rc = create_write(obj, name, t, t, s, n > 0 ? (const void *)values : NULL);
fail:
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    return rc;
}

int h5attr_write_int(hid_t obj, const char *name, int value)
{
    hid_t s = H5Screate(H5S_SCALAR);
    if (s < 0) return -1;
    int rc = create_write(obj, name, H5T_STD_I32LE, H5T_NATIVE_INT, s, &value);
    H5Sclose(s);
    return rc;
}

int h5attr_set_str(hid_t obj, const char *name, const char *value)
{
    hid_t a = -1, t = -1;
    int rc = -1;
    const char *v = value ? value : "";
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) goto fail;
    if ((t = H5Aget_type(a)) < 0 || H5Tis_variable_str(t) <= 0) goto fail;
    if (H5Awrite(a, t, &v) < 0) goto fail;
    rc = 0;
fail:
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return rc;
}

int h5attr_set_int(hid_t obj, const char *name, int value)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return -1;
    int rc = H5Awrite(a, H5T_NATIVE_INT, &value) < 0 ? -1 : 0;
    H5Aclose(a);
    return rc;
}

char *h5attr_read_str(hid_t obj, const char *name)
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

int h5attr_read_int(hid_t obj, const char *name, int *v)
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

int h5attr_count(hid_t obj, const char *name)
{
    hid_t a = -1, s = -1;
    hssize_t n = 0;
    if (H5Aexists(obj, name) <= 0) return 0;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return 0;
    if ((s = H5Aget_space(a)) >= 0) n = H5Sget_simple_extent_npoints(s);
    if (s >= 0) H5Sclose(s);
    H5Aclose(a);
    return n > 0 ? (int)n : 0;
}

void h5attr_strs_free(char **v, int n)
{
    for (int k = 0; v && k < n; k++) free(v[k]);
    free(v);
}

int h5attr_read_strs(hid_t obj, const char *name, char ***out, int *n)
{
    hid_t a = -1, ft = -1, mt = -1, sp = -1;
    char **raw = NULL, **v = NULL;
    int rc = -1, m = 0, got = 0;
    *out = NULL;
    *n = 0;
    if (H5Aexists(obj, name) <= 0) return 0;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0 || (ft = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0)
        goto fail;
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (np < 0 || H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) <= 0) goto fail;
    m = (int)np;
    if (m == 0) {
        rc = 0;
        goto fail;
    }
    if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
        H5Tset_cset(mt, H5Tget_cset(ft)) < 0)
        goto fail;
    if (!(raw = calloc((size_t)m, sizeof *raw)) || !(v = calloc((size_t)m, sizeof *v))) goto fail;
    if (H5Aread(a, mt, raw) < 0) goto fail;
    got = 1;
    for (int k = 0; k < m; k++)
        if (!(v[k] = strdup(raw[k] ? raw[k] : ""))) goto fail;
    *out = v;
    *n = m;
    v = NULL;
    rc = 0;
fail:
    if (raw) {
        for (int k = 0; got && k < m; k++) H5free_memory(raw[k]);
        free(raw);
    }
    h5attr_strs_free(v, m);
    if (sp >= 0) H5Sclose(sp);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return rc;
}
