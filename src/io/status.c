/* status.c -- `sweep status FILE`: a summary of a result file without
 * Python: its spec and run, the task counts by status, the best and worst
 * done tasks by final_err_cm, and the messages of failed and diverged
 * tasks.  Also the root-attribute reader merge.c uses (status.h).
 *
 * Read-only and independent of the spec parser: the axis values are read
 * from the /tasks columns named by its `axes` attribute, so a file whose
 * spec no longer parses still gets a summary.  The result columns shown
 * are those with a `show` position in io/columns.def.
 * Dimensions: R rows of the file, A axes, K shown result columns.
 */
#include "io/status.h"

#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/result.h"
#include "base/sweep.h"
#include "io/check.h"
#include "io/ckpt.h"
#include "io/h5attr.h"
#include "io/h5out.h"
#include "io/rows.h"
#include "spec/spec.h"

#define STATUS_SHOW 5          /* best and worst tasks shown */
#define STATUS_MESSAGES 20     /* failed / diverged messages shown */
#define STATUS_CELL 24         /* width of a formatted axis value */

/* ---- root attributes ---------------------------------------------------- */

/* A scalar string attribute as a new string; "" when absent, NULL on
 * error. */
static char *read_attr_str(hid_t obj, const char *name)
{
    htri_t ex = H5Aexists(obj, name);
    if (ex < 0) return NULL;
    return ex == 0 ? strdup("") : h5attr_read_str(obj, name);
}

/* A scalar integer attribute, or -1 when absent or unreadable. */
static int read_attr_int(hid_t obj, const char *name)
{
    int v = -1;
    return h5attr_read_int(obj, name, &v) < 0 ? -1 : v;
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
    info->n_merged_from = h5attr_count(file, "merged_from");
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

/* Column `name` as NUL-terminated strings of width (width - 1). */
static int read_column_str(const H5Out *o, const char *name, char *out, size_t width)
{
    hid_t st = H5Tcopy(H5T_C_S1);
    int rc = -1;
    if (st < 0) return -1;
    if (H5Tset_size(st, width) >= 0 && H5Tset_strpad(st, H5T_STR_NULLTERM) >= 0)
        rc = h5out_read_column(o, name, st, width, out);
    H5Tclose(st);
    return rc;
}

/* Column `name` formatted for the tables: R cells of STATUS_CELL bytes.
 * Values of a setting the task ignores (NaN, -1, "") show as "-", as in
 * the dry-run table. */
static int read_column_fmt(const H5Out *o, const char *name, int R, char *cells)
{
    H5T_class_t cls = h5out_column_class(o, name);
    if (cls == H5T_STRING) {
        if (read_column_str(o, name, cells, STATUS_CELL) < 0) return -1;
        for (int r = 0; r < R; r++)
            if (!cells[(size_t)r * STATUS_CELL]) strcpy(cells + (size_t)r * STATUS_CELL, "-");
        return 0;
    }
    if (cls != H5T_INTEGER && cls != H5T_FLOAT) return -1;
    double *v = malloc((R ? (size_t)R : 1) * sizeof *v);
    if (!v) return -1;
    if (h5out_read_column(o, name, H5T_NATIVE_DOUBLE, sizeof *v, v) < 0) {
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

/* The columns of the tables: the rows of io/columns.def with a `show`
 * position, in that order (K of them). */
static int shown_columns(int *cols)
{
    int k = 0;
    for (int pos = 1; pos <= ROWS_N_COLUMNS; pos++)
        for (int c = 0; c < ROWS_N_COLUMNS; c++)
            if (rows_columns[c].show == pos) cols[k++] = c;
    return k;
}

typedef struct Summary {
    int R, A, K;
    int *id;               /* (R) */
    int *status;           /* (R) TaskStatus */
    int col[ROWS_N_COLUMNS];   /* (K) the shown columns (rows_columns indices) */
    double *val;           /* (K, R) their values */
    double *ferr;          /* (R) final_err_cm, the sort key */
    size_t msg_w;          /* bytes of a message cell */
    char *msg;             /* (R, msg_w) */
    char **axis;           /* (A) names */
    char *cells;           /* (A, R, STATUS_CELL) formatted axis values */
} Summary;

static void summary_free(Summary *s)
{
    free(s->id);
    free(s->status);
    free(s->val);
    free(s->ferr);
    free(s->msg);
    h5attr_strs_free(s->axis, s->A);
    free(s->cells);
    memset(s, 0, sizeof *s);
}

/* The names in the `axes` attribute of /tasks (array of strings). */
static int read_axes(const H5Out *o, Summary *s)
{
    hid_t d = H5Dopen2(h5out_file(o), "tasks", H5P_DEFAULT);
    if (d < 0) return -1;
    int rc = h5attr_read_strs(d, "axes", &s->axis, &s->A);
    H5Dclose(d);
    return rc;
}

static int summary_read(const H5Out *o, Summary *s)
{
    int R0 = h5out_n_rows(o);
    size_t R = R0 ? (size_t)R0 : 1;
    memset(s, 0, sizeof *s);
    s->R = R0;
    s->K = shown_columns(s->col);
    s->msg_w = rows_columns[ROWS_COL_message].width + 1;
    if (!(s->id = malloc(R * sizeof *s->id)) || !(s->status = malloc(R * sizeof *s->status)) ||
        !(s->val = malloc((s->K ? (size_t)s->K : 1) * R * sizeof *s->val)) ||
        !(s->ferr = malloc(R * sizeof *s->ferr)) || !(s->msg = malloc(R * s->msg_w)))
        return -1;
    for (int r = 0; r < s->R; r++) s->id[r] = h5out_task_id(o, r);
    if (s->R == 0) return 0;
    if (h5out_read_status(o, s->status) < 0) return -1;
    for (int k = 0; k < s->K; k++)
        if (h5out_read_column(o, rows_columns[s->col[k]].name, H5T_NATIVE_DOUBLE, sizeof(double),
                              s->val + (size_t)k * R) < 0)
            return -1;
    if (h5out_read_column(o, rows_columns[ROWS_COL_final_err_cm].name, H5T_NATIVE_DOUBLE, sizeof(double),
                          s->ferr) < 0 ||
        read_column_str(o, rows_columns[ROWS_COL_message].name, s->msg, s->msg_w) < 0)
        return -1;
    if (read_axes(o, s) < 0) return -1;
    if (s->A > 0) {
        if (!(s->cells = malloc((size_t)s->A * R * STATUS_CELL))) return -1;
        for (int k = 0; k < s->A; k++)
            if (read_column_fmt(o, s->axis[k], s->R, s->cells + (size_t)k * R * STATUS_CELL) < 0) return -1;
    }
    return 0;
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

/* Print the table of rows[0..n) (every axis, then the shown columns). */
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
    for (int k = 0; k < s->K; k++) fprintf(f, "  %*s", rows_columns[s->col[k]].show_w, rows_columns[s->col[k]].name);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        int r = rows[i];
        fprintf(f, "  %*d", wid, s->id[r]);
        for (int k = 0; k < A; k++) fprintf(f, "  %-*s", w[k], cell(s, k, r));
        for (int k = 0; k < s->K; k++) {
            char v[32];
            fmt_num(v, sizeof v, s->val[(size_t)k * (size_t)(s->R ? s->R : 1) + (size_t)r]);
            fprintf(f, "  %*s", rows_columns[s->col[k]].show_w, v);
        }
        fputc('\n', f);
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
        const char *m = s->msg + (size_t)r * s->msg_w;
        fprintf(f, ": %s\n", m[0] ? m : "(no message)");
        shown++;
    }
    if (count > shown) fprintf(f, "  ... and %d more\n", count - shown);
}

/* Pending rows with a checkpoint in PATH.ckpt (io/ckpt.h): the step each
 * reached (of the spec's steps, when the stored spec parses). */
static void print_checkpoints(FILE *f, const char *path, const Summary *s, const Spec *spec)
{
    char dir[4200];
    if (ckpt_dir_of(path, dir, sizeof dir) != 0 || access(dir, F_OK) != 0) return;
    int n = 0, shown = 0;
    for (int r = 0; r < s->R; r++) {
        int step;
        double ts;
        if (s->status[r] == TASK_DONE || s->status[r] == TASK_DIVERGED) continue;
        if (ckpt_peek(dir, s->id[r], &step, &ts) != 0) continue;
        if (n++ == 0) fprintf(f, "\ncheckpoints (%s):\n", dir);
        if (shown >= STATUS_MESSAGES) continue;
        shown++;
        int steps = spec && s->id[r] >= 0 && s->id[r] < spec->n_tasks ? spec->tasks[s->id[r]].steps : -1;
        fprintf(f, "  %d", s->id[r]);
        if (s->A) {
            fputs(" (", f);
            print_axes_inline(f, s, r);
            fputc(')', f);
        }
        if (steps >= 0)
            fprintf(f, ": step %d/%d, %.0f s of training\n", step < steps ? step : steps, steps, ts);
        else
            fprintf(f, ": step %d, %.0f s of training\n", step, ts);
    }
    if (n > shown) fprintf(f, "  ... and %d more\n", n - shown);
    if (n) fprintf(f, "  %d pending task%s continue%s from %s checkpoint%s on --resume\n", n, n == 1 ? "" : "s",
                   n == 1 ? "s" : "", n == 1 ? "its" : "their", n == 1 ? "" : "s");
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
    print_checkpoints(f, path, s, have_spec ? &spec : NULL);
    if (count[TASK_PENDING] + count[TASK_FAILED] > 0)
        fprintf(f, "\nincomplete: %d pending, %d failed; `sweep SPEC --resume -o %s` runs them%s\n",
                count[TASK_PENDING], count[TASK_FAILED], path, in->shard[0] ? " (with the same --shard)" : "");
    spec_free(&spec);
}

int status_main(const char *file)
{
    int inited = 0, size = 1, code = SWEEP_EXIT_OK, opened = 0;
    H5Out *o = NULL;
    StatusInfo info;
    Summary s;
    char err[4096] = "";
    H5E_auto2_t efunc = NULL;
    void *edata = NULL;
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
    if (status_read_info(h5out_file(o), &info) < 0) {
        snprintf(err, sizeof err, "%s: not a sweep result file (spec_hash / spec_text attributes missing)",
                 file);
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    if (summary_read(o, &s) < 0) {
        snprintf(err, sizeof err, "%s: cannot read the /tasks table", file);
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    print_summary(stdout, file, &info, &s);
    if (fflush(stdout) != 0) code = SWEEP_EXIT_IO;
fail:
    H5Eset_auto2(H5E_DEFAULT, efunc, edata);
    if (opened) h5out_close(o);
    if (err[0]) fprintf(stderr, "sweep: status: %s\n", err);
    summary_free(&s);
    status_info_free(&info);
    if (!inited) MPI_Finalize();
    return code;
}
