/* status.c -- `sweep status FILE`: a summary of a result file without
 * Python: its spec and run, the task counts by status, the best and worst
 * done tasks by final_err_cm, and the messages of failed and diverged
 * tasks.  Also the root-attribute reader merge.c uses (status.h).
 *
 * Read-only and independent of the spec parser: the axis values are read
 * from the /tasks columns named by its `axes` attribute, so a file whose
 * spec no longer parses still gets a summary.
 * Dimensions: R rows of the file, A axes.
 */
#include "io/status.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/check.h"
#include "io/h5out.h"
#include "base/result.h"
#include "spec/spec.h"
#include "base/sweep.h"

#define STATUS_SHOW 5          /* best and worst tasks shown */
#define STATUS_MESSAGES 20     /* failed / diverged messages shown */
#define STATUS_CELL 24         /* width of a formatted axis value */

/* ---- root attributes ---------------------------------------------------- */

/* A scalar string attribute as a new string; "" when absent, NULL on
 * error (h5out_attr_str reads it). */
static char *read_attr_str(hid_t obj, const char *name)
{
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0) return NULL;
    return ex == 0 ? strdup("") : h5out_attr_str(obj, name);
}

/* A scalar integer attribute, or -1 when absent or unreadable. */
static int read_attr_int(hid_t obj, const char *name)
{
    int v = -1;
    hid_t a = -1;
    if (H5Aexists(obj, name) <= 0) return -1;
    if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return -1;
    if (H5Aread(a, H5T_NATIVE_INT, &v) < 0) v = -1;
    H5Aclose(a);
    return v;
}

/* Number of elements of attribute name (0 when absent). */
static int attr_count(hid_t obj, const char *name)
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

int status_read_info(hid_t file, StatusInfo *info)
{
    memset(info, 0, sizeof *info);
    if (!(info->sweep_version = read_attr_str(file, "sweep_version")) ||
        !(info->spec_text = read_attr_str(file, "spec_text")) ||
        !(info->spec_canonical = read_attr_str(file, "spec_canonical")) ||
        !(info->spec_hash = read_attr_str(file, "spec_hash")) ||
        !(info->command_line = read_attr_str(file, "command_line")) ||
        !(info->start_time = read_attr_str(file, "start_time")) || !(info->shard = read_attr_str(file, "shard")))
        goto fail;
    if (!info->spec_hash[0] || !info->spec_text[0]) goto fail;
    info->n_ranks = read_attr_int(file, "n_ranks");
    info->n_tasks = read_attr_int(file, "n_tasks");
    info->n_merged_from = attr_count(file, "merged_from");
    return 0;
fail:
    status_info_free(info);
    return -1;
}

void status_info_free(StatusInfo *info)
{
    free(info->sweep_version);
    free(info->spec_text);
    free(info->spec_canonical);
    free(info->spec_hash);
    free(info->command_line);
    free(info->start_time);
    free(info->shard);
    memset(info, 0, sizeof *info);
}

/* ---- /tasks columns ------------------------------------------------------ */

/* Read column `name` of the compound dataset d for every row, converted to
 * memory type mt (size bytes per value). */
static int read_column(hid_t d, const char *name, hid_t mt, size_t size, void *buf)
{
    hid_t ct = H5Tcreate(H5T_COMPOUND, size);
    int rc = -1;
    if (ct < 0) return -1;
    if (H5Tinsert(ct, name, 0, mt) < 0) goto fail;
    if (H5Dread(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) goto fail;
    rc = 0;
fail:
    H5Tclose(ct);
    return rc;
}

static int read_column_double(hid_t d, const char *name, double *out)
{
    return read_column(d, name, H5T_NATIVE_DOUBLE, sizeof *out, out);
}

/* Column `name` as NUL-terminated strings of width (width - 1). */
static int read_column_str(hid_t d, const char *name, char *out, size_t width)
{
    hid_t st = H5Tcopy(H5T_C_S1);
    int rc = -1;
    if (st < 0) return -1;
    if (H5Tset_size(st, width) >= 0 && H5Tset_strpad(st, H5T_STR_NULLTERM) >= 0)
        rc = read_column(d, name, st, width, out);
    H5Tclose(st);
    return rc;
}

/* Column `name` formatted for the tables: R cells of STATUS_CELL bytes.
 * Values of a setting the task ignores (NaN, -1, "") show as "-", as in
 * the dry-run table. */
static int read_column_fmt(hid_t d, hid_t ftype, const char *name, int R, char *cells)
{
    int idx = H5Tget_member_index(ftype, name);
    if (idx < 0) return -1;
    H5T_class_t cls = H5Tget_member_class(ftype, (unsigned)idx);
    if (cls == H5T_STRING) {
        if (read_column_str(d, name, cells, STATUS_CELL) < 0) return -1;
        for (int r = 0; r < R; r++)
            if (!cells[(size_t)r * STATUS_CELL]) strcpy(cells + (size_t)r * STATUS_CELL, "-");
        return 0;
    }
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) return -1;
    double *v = malloc((R ? (size_t)R : 1) * sizeof *v);
    if (!v) return -1;
    if (read_column_double(d, name, v) < 0) {
        free(v);
        return -1;
    }
    for (int r = 0; r < R; r++) {
        char *c = cells + (size_t)r * STATUS_CELL;
        if (isnan(v[r]) || (cls == H5T_INTEGER && v[r] == -1))
            strcpy(c, "-");
        else
            snprintf(c, STATUS_CELL, "%.6g", v[r]);
    }
    free(v);
    return 0;
}

/* ---- the summary --------------------------------------------------------- */

typedef struct Summary {
    int R, A;
    int *id;               /* (R) */
    int *status;           /* (R) TaskStatus */
    double *floss, *ferr, *gfrac, *gfnull, *smax;   /* (R) */
    char *msg;             /* (R, H5OUT_MESSAGE_LEN + 1) */
    char **axis;           /* (A) names */
    char *cells;           /* (A, R, STATUS_CELL) formatted axis values */
} Summary;

static void summary_free(Summary *s)
{
    free(s->id);
    free(s->status);
    free(s->floss);
    free(s->ferr);
    free(s->gfrac);
    free(s->gfnull);
    free(s->smax);
    free(s->msg);
    for (int k = 0; s->axis && k < s->A; k++) free(s->axis[k]);
    free(s->axis);
    free(s->cells);
    memset(s, 0, sizeof *s);
}

/* The names in the `axes` attribute of /tasks (array of strings). */
static int read_axes(hid_t d, Summary *s)
{
    hid_t a = -1, ft = -1, mt = -1, sp = -1;
    char **v = NULL;
    int rc = -1, n = 0;
    if (H5Aexists(d, "axes") <= 0) return 0;
    if ((a = H5Aopen(d, "axes", H5P_DEFAULT)) < 0 || (ft = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0)
        goto fail;
    hssize_t np = H5Sget_simple_extent_npoints(sp);
    if (np < 0 || H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) <= 0) goto fail;
    n = (int)np;
    if (n == 0) {
        rc = 0;
        goto fail;
    }
    if ((mt = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
        H5Tset_cset(mt, H5Tget_cset(ft)) < 0)
        goto fail;
    if (!(v = calloc((size_t)n, sizeof *v)) || !(s->axis = calloc((size_t)n, sizeof *s->axis))) goto fail;
    if (H5Aread(a, mt, v) < 0) goto fail;
    for (int k = 0; k < n; k++) {
        if (!(s->axis[k] = strdup(v[k] ? v[k] : ""))) goto fail;
        s->A = k + 1;
    }
    rc = 0;
fail:
    if (v) {
        for (int k = 0; k < n; k++) H5free_memory(v[k]);
        free(v);
    }
    if (sp >= 0) H5Sclose(sp);
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (a >= 0) H5Aclose(a);
    return rc;
}

static int summary_read(const H5Out *o, Summary *s)
{
    size_t R = o->n_rows ? (size_t)o->n_rows : 1, W = H5OUT_MESSAGE_LEN + 1;
    hid_t ft = -1;
    int rc = -1;
    memset(s, 0, sizeof *s);
    s->R = o->n_rows;
    if (!(s->id = malloc(R * sizeof *s->id)) || !(s->status = malloc(R * sizeof *s->status)) ||
        !(s->floss = malloc(R * sizeof(double))) || !(s->ferr = malloc(R * sizeof(double))) ||
        !(s->gfrac = malloc(R * sizeof(double))) || !(s->gfnull = malloc(R * sizeof(double))) ||
        !(s->smax = malloc(R * sizeof(double))) ||
        !(s->msg = malloc(R * W)))
        goto fail;
    memcpy(s->id, o->task_ids, (size_t)s->R * sizeof *s->id);
    if (s->R == 0) return 0;
    if (h5out_read_status(o, s->status) < 0) goto fail;
    if (read_column_double(o->d_tasks, "final_loss", s->floss) < 0 ||
        read_column_double(o->d_tasks, "final_err_cm", s->ferr) < 0 ||
        read_column_double(o->d_tasks, "grid_frac", s->gfrac) < 0 ||
        read_column_double(o->d_tasks, "grid_frac_null", s->gfnull) < 0 ||
        read_column_double(o->d_tasks, "max_score60", s->smax) < 0 ||
        read_column_str(o->d_tasks, "message", s->msg, W) < 0)
        goto fail;
    if (read_axes(o->d_tasks, s) < 0) goto fail;
    if (s->A > 0) {
        if ((ft = H5Dget_type(o->d_tasks)) < 0) goto fail;
        if (!(s->cells = malloc((size_t)s->A * R * STATUS_CELL))) goto fail;
        for (int k = 0; k < s->A; k++)
            if (read_column_fmt(o->d_tasks, ft, s->axis[k], s->R, s->cells + (size_t)k * R * STATUS_CELL) < 0)
                goto fail;
    }
    rc = 0;
fail:
    if (ft >= 0) H5Tclose(ft);
    return rc;
}

static const char *cell(const Summary *s, int k, int r)
{
    return s->cells + ((size_t)k * (size_t)s->R + (size_t)r) * STATUS_CELL;
}

/* The rows (indices) of done tasks with a finite final_err_cm, best first. */
static const Summary *sort_ctx;
static int by_err(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    double ex = sort_ctx->ferr[x], ey = sort_ctx->ferr[y];
    if (ex != ey) return ex < ey ? -1 : 1;
    return sort_ctx->id[x] - sort_ctx->id[y];
}

static void fmt_num(char *buf, size_t len, double v)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%.4g", v);
}

/* Print the table of rows[0..n) (every axis, then the summaries). */
static void print_table(FILE *f, const Summary *s, const int *rows, int n)
{
    int wid = 2;
    int w[64];
    int A = s->A < 64 ? s->A : 64;
    for (int i = 0; i < n; i++) {
        char b[16];
        int l = snprintf(b, sizeof b, "%d", s->id[rows[i]]);
        if (l > wid) wid = l;
    }
    fprintf(f, "  %*s", wid, "id");
    for (int k = 0; k < A; k++) {
        w[k] = (int)strlen(s->axis[k]);
        for (int i = 0; i < n; i++) {
            int l = (int)strlen(cell(s, k, rows[i]));
            if (l > w[k]) w[k] = l;
        }
        fprintf(f, "  %-*s", w[k], s->axis[k]);
    }
    fprintf(f, "  %12s  %12s  %9s  %14s  %11s\n", "final_loss", "final_err_cm", "grid_frac", "grid_frac_null",
            "max_score60");
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        char a[32], b[32], c[32], cn[32], d[32];
        fmt_num(a, sizeof a, s->floss[r]);
        fmt_num(b, sizeof b, s->ferr[r]);
        fmt_num(c, sizeof c, s->gfrac[r]);
        fmt_num(cn, sizeof cn, s->gfnull[r]);
        fmt_num(d, sizeof d, s->smax[r]);
        fprintf(f, "  %*d", wid, s->id[r]);
        for (int k = 0; k < A; k++) fprintf(f, "  %-*s", w[k], cell(s, k, r));
        fprintf(f, "  %12s  %12s  %9s  %14s  %11s\n", a, b, c, cn, d);
    }
}

/* "cell=leaky tau=0.05 seed=1" for row r. */
static void print_axes_inline(FILE *f, const Summary *s, int r)
{
    for (int k = 0; k < s->A; k++) fprintf(f, "%s%s=%s", k ? " " : "", s->axis[k], cell(s, k, r));
}

static void print_messages(FILE *f, const Summary *s, int status, int count)
{
    if (count == 0) return;
    fprintf(f, "\n%s tasks (message):\n", result_status_names[status]);
    int shown = 0;
    for (int r = 0; r < s->R && shown < STATUS_MESSAGES; r++) {
        if (s->status[r] != status) continue;
        fprintf(f, "  %d", s->id[r]);
        if (s->A) {
            fputs(" (", f);
            print_axes_inline(f, s, r);
            fputc(')', f);
        }
        fprintf(f, ": %s\n", s->msg[(size_t)r * (H5OUT_MESSAGE_LEN + 1)]
                                 ? s->msg + (size_t)r * (H5OUT_MESSAGE_LEN + 1)
                                 : "(no message)");
        shown++;
    }
    if (count > shown) fprintf(f, "  ... and %d more\n", count - shown);
}

static void print_summary(FILE *f, const char *path, const StatusInfo *in, const Summary *s)
{
    int count[4] = {0, 0, 0, 0};
    Spec spec;
    char err[512];
    memset(&spec, 0, sizeof spec);
    for (int r = 0; r < s->R; r++)
        if (s->status[r] >= 0 && s->status[r] < 4) count[s->status[r]]++;
    int have_spec = spec_load_string(&spec, path, in->spec_text, strlen(in->spec_text), err, sizeof err) == 0;

    fprintf(f, "file:      %s\n", path);
    fprintf(f, "spec:      %s%shash %s\n", have_spec && spec.name[0] ? spec.name : "",
            have_spec && spec.name[0] ? ", " : "", in->spec_hash);
    if (have_spec && strcmp(spec.hash, in->spec_hash) != 0)
        fprintf(f, "           (this sweep %s hashes the stored spec to %.12s...: another version wrote it)\n",
                SWEEP_VERSION, spec.hash);
    fprintf(f, "written:   sweep %s, started %s", in->sweep_version[0] ? in->sweep_version : "?",
            in->start_time[0] ? in->start_time : "?");
    if (in->n_ranks >= 0) fprintf(f, " on %d rank%s", in->n_ranks, in->n_ranks == 1 ? "" : "s");
    fputc('\n', f);
    if (in->command_line[0]) fprintf(f, "command:   %s\n", in->command_line);
    if (in->n_merged_from > 0) fprintf(f, "merged:    from %d files (attribute merged_from)\n", in->n_merged_from);
    if (s->A) {
        fprintf(f, "axes:      ");
        for (int k = 0; k < s->A; k++) fprintf(f, "%s%s", k ? ", " : "", s->axis[k]);
        fputc('\n', f);
    }
    if (in->shard[0])
        fprintf(f, "tasks:     %d rows: shard %s of a sweep of %d tasks\n", s->R, in->shard, in->n_tasks);
    else if (in->n_tasks >= 0 && in->n_tasks != s->R)
        fprintf(f, "tasks:     %d rows of a sweep of %d tasks\n", s->R, in->n_tasks);
    else
        fprintf(f, "tasks:     %d\n", s->R);
    fprintf(f, "  done      %d\n  diverged  %d\n  failed    %d\n  pending   %d\n", count[TASK_DONE],
            count[TASK_DIVERGED], count[TASK_FAILED], count[TASK_PENDING]);

    int *rows = malloc((s->R ? (size_t)s->R : 1) * sizeof *rows), n = 0;
    if (rows) {
        for (int r = 0; r < s->R; r++)
            if (s->status[r] == TASK_DONE && isfinite(s->ferr[r])) rows[n++] = r;
        sort_ctx = s;
        qsort(rows, (size_t)n, sizeof *rows, by_err);
        int k = n < STATUS_SHOW ? n : STATUS_SHOW;
        if (n == 0) {
            fprintf(f, "\nno task done yet\n");
        } else {
            fprintf(f, "\nbest %d task%s by final_err_cm (cm; done tasks):\n", k, k == 1 ? "" : "s");
            print_table(f, s, rows, k);
            for (int i = 0; i < n / 2; i++) {   /* worst first */
                int t = rows[i];
                rows[i] = rows[n - 1 - i];
                rows[n - 1 - i] = t;
            }
            fprintf(f, "\nworst %d task%s by final_err_cm:\n", k, k == 1 ? "" : "s");
            print_table(f, s, rows, k);
        }
        free(rows);
    }
    print_messages(f, s, TASK_FAILED, count[TASK_FAILED]);
    print_messages(f, s, TASK_DIVERGED, count[TASK_DIVERGED]);
    if (count[TASK_PENDING] + count[TASK_FAILED] > 0)
        fprintf(f, "\nincomplete: %d pending, %d failed; `sweep SPEC --resume -o %s` runs them%s\n",
                count[TASK_PENDING], count[TASK_FAILED], path, in->shard[0] ? " (with the same --shard)" : "");
    spec_free(&spec);
}

int status_main(const char *file)
{
    int inited = 0, size = 1, code = SWEEP_EXIT_OK, opened = 0;
    H5Out o;
    StatusInfo info;
    Summary s;
    char err[4096] = "";
    H5E_auto2_t efunc = NULL;
    void *edata = NULL;
    memset(&o, 0, sizeof o);
    memset(&info, 0, sizeof info);
    memset(&s, 0, sizeof s);
    MPI_Initialized(&inited);
    if (!inited) CHECK_MPI(MPI_Init(NULL, NULL));
    CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size));
    H5Eget_auto2(H5E_DEFAULT, &efunc, &edata);
    if (size > 1) {
        snprintf(err, sizeof err, "status reads a file in one process: start it without mpirun");
        code = SWEEP_EXIT_USAGE;
        goto fail;
    }
    if (h5out_open(&o, file, 0, MPI_COMM_SELF, err, sizeof err) < 0) {
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    opened = 1;
    /* a malformed file gets our message, not HDF5's error stack */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (status_read_info(o.file, &info) < 0) {
        snprintf(err, sizeof err, "%s: not a sweep result file (spec_hash / spec_text attributes missing)",
                 file);
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    if (summary_read(&o, &s) < 0) {
        snprintf(err, sizeof err, "%s: cannot read the /tasks table", file);
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    print_summary(stdout, file, &info, &s);
    if (fflush(stdout) != 0) code = SWEEP_EXIT_IO;
fail:
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
    if (opened) h5out_close(&o);
    if (err[0]) fprintf(stderr, "sweep: status: %s\n", err);
    summary_free(&s);
    status_info_free(&info);
    if (!inited) MPI_Finalize();
    return code;
}
