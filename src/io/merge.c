/* merge.c -- `sweep merge -o OUT IN...`: combine result files of one spec
 * (the shards of a `--shard i/N` sweep, a stopped run and its resumption,
 * a run repeated after a crash) into one file laid out exactly as an
 * unsharded run of the spec lays it out (docs/running.md).
 *
 * The output is made by h5out itself (h5out_create over every task id of
 * the spec parsed from the inputs' spec_text, then h5out_read_task /
 * h5out_write_task row by row), so its format cannot drift from a run's.
 * For an id present in several inputs the best status wins
 * (rows_status_preference: done > diverged > failed > pending; the file
 * records that order in the status_order attribute of /tasks, which
 * analysis/sweep_results.py follows), ties going to the input with the
 * later start_time (then to the later one on the command line).  Rows pending everywhere stay as h5out_create
 * made them.  OUT is built as OUT.merging and renamed into place when
 * complete; an existing OUT is refused.
 * Dimensions: T tasks of the spec, R rows of an input.
 */
#include <errno.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/result.h"
#include "base/sweep.h"
#include "io/check.h"
#include "io/h5attr.h"
#include "io/h5out.h"
#include "io/merge.h"
#include "io/rows.h"
#include "io/status.h"
#include "spec/spec.h"

typedef struct MergeInput {
    const char *path;
    H5Out *o;               /* owned; NULL when not open */
    StatusInfo info;
    int *status;            /* (R) TaskStatus of each row */
} MergeInput;

/* "sweep merge -o OUT IN..." (shell-quoted where needed), as the file's
 * command_line; NULL when out of memory. */
static char *merge_command_line(const char *output, int n_inputs, char *const *inputs)
{
    size_t n = 32 + 3 * strlen(output);
    for (int i = 0; i < n_inputs; i++) n += 3 * strlen(inputs[i]) + 3;
    char *s = malloc(n), *p;
    if (!s) return NULL;
    p = s + sprintf(s, "sweep merge -o");
    for (int i = -1; i < n_inputs; i++) {
        const char *arg = i < 0 ? output : inputs[i];
        int quote = arg[0] == '\0' || strpbrk(arg, " \t\n'\"$\\*?;&|<>()") != NULL;
        *p++ = ' ';
        if (quote) *p++ = '\'';
        for (; *arg; arg++) {
            if (quote && *arg == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *arg;
            }
        }
        if (quote) *p++ = '\'';
    }
    *p = '\0';
    return s;
}

/* ---- root attributes that describe the merge ------------------------------ */

/* What an unsharded run would have recorded, as far as it is known:
 * n_ranks = the largest over the inputs, start_time = the earliest, and
 * merged_from = the input paths as given. */
static int write_merge_attrs(hid_t file, const MergeInput *in, int n, char *const *inputs)
{
    int ranks = -1;
    const char *start = NULL;
    for (int i = 0; i < n; i++) {
        if (in[i].info.n_ranks > ranks) ranks = in[i].info.n_ranks;
        const char *t = in[i].info.start_time;
        if (t[0] && (!start || strcmp(t, start) < 0)) start = t;
    }
    if (ranks >= 1 && h5attr_set_int(file, "n_ranks", ranks) < 0) return -1;
    if (start && h5attr_set_str(file, "start_time", start) < 0) return -1;
    return h5attr_write_strs(file, "merged_from", (const char *const *)inputs, n);
}

/* ---- the merge --------------------------------------------------------------- */

/* Refuse inputs of different specs: the message lists every file with its
 * hash.  Returns 0 when all inputs share the first one's spec_hash. */
static int check_hashes(const MergeInput *in, int n, char *err, size_t errlen)
{
    int same = 1;
    for (int i = 1; i < n; i++)
        if (strcmp(in[i].info.spec_hash, in[0].info.spec_hash) != 0) same = 0;
    if (same) return 0;
    size_t used = (size_t)snprintf(err, errlen, "the inputs were written by different specs (spec_hash differs):");
    for (int i = 0; i < n && used < errlen; i++)
        used += (size_t)snprintf(err + used, errlen - used, "\n  %s: spec_hash %.16s...%s", in[i].path,
                                 in[i].info.spec_hash,
                                 strcmp(in[i].info.spec_hash, in[0].info.spec_hash) ? "  <- differs" : "");
    return -1;
}

/* For every task id, the input and row it comes from (-1: none, pending).
 * Returns 0, or -1 with a message (an id outside the spec). */
static int choose_rows(const MergeInput *in, int n, int T, int *src, int *row, int *n_dup, char *err,
                       size_t errlen)
{
    *n_dup = 0;
    for (int id = 0; id < T; id++) src[id] = row[id] = -1;
    for (int i = 0; i < n; i++) {
        for (int r = 0; r < h5out_n_rows(in[i].o); r++) {
            int id = h5out_task_id(in[i].o, r), st = in[i].status[r];
            if (id < 0 || id >= T) {
                snprintf(err, errlen, "%s: row %d holds task %d, but the spec has tasks 0..%d", in[i].path, r, id,
                         T - 1);
                return -1;
            }
            if (st == TASK_PENDING) continue;
            int cur = src[id];
            if (cur >= 0) {
                (*n_dup)++;
                int pc = rows_status_preference(in[cur].status[row[id]]), pn = rows_status_preference(st);
                if (pn < pc) continue;
                if (pn == pc && strcmp(in[i].info.start_time, in[cur].info.start_time) < 0) continue;
            }
            src[id] = i;
            row[id] = r;
        }
    }
    return 0;
}

int merge_main(const char *output, int n_inputs, char *const *inputs)
{
    int inited = 0, size = 1, code = SWEEP_EXIT_OK, n = n_inputs, out_open = 0, made = 0;
    MergeInput *in = NULL;
    H5Out *out = NULL;
    Spec spec;
    H5OutMeta meta;
    int *src = NULL, *row = NULL, *ids = NULL;
    const char **axes = NULL;
    char *cmdline = NULL, tmp[4200] = "", err[8192] = "";
    int count[4] = {0, 0, 0, 0}, n_dup = 0;
    memset(&spec, 0, sizeof spec);
    MPI_Initialized(&inited);
    if (!inited) CHECK_MPI(MPI_Init(NULL, NULL));
    CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size));
    if (size > 1) {
        snprintf(err, sizeof err, "merge runs in one process: start it without mpirun");
        code = SWEEP_EXIT_USAGE;
        goto fail;
    }
    code = SWEEP_EXIT_IO;   /* every failure below is about a result file */
    if (access(output, F_OK) == 0) {
        snprintf(err, sizeof err, "%s exists: merge never overwrites a file; remove it first", output);
        goto fail;
    }
    if (snprintf(tmp, sizeof tmp, "%s.merging", output) >= (int)sizeof tmp) {
        snprintf(err, sizeof err, "%s: path too long", output);
        goto fail;
    }
    if (!(in = calloc((size_t)n, sizeof *in))) goto oom;

    /* open every input read-only and read its attributes and statuses */
    for (int i = 0; i < n; i++) {
        in[i].path = inputs[i];
        if (h5out_open(&in[i].o, in[i].path, 0, MPI_COMM_SELF, err, sizeof err) < 0) goto fail;
        if (status_read_info(h5out_file(in[i].o), &in[i].info) < 0) {
            snprintf(err, sizeof err, "%s: not a sweep result file (spec_hash / spec_text attributes missing)",
                     in[i].path);
            goto fail;
        }
        int R = h5out_n_rows(in[i].o);
        if (!(in[i].status = malloc((R ? (size_t)R : 1) * sizeof *in[i].status))) goto oom;
        if (h5out_read_status(in[i].o, in[i].status) < 0) {
            snprintf(err, sizeof err, "%s: cannot read the task statuses", in[i].path);
            goto fail;
        }
    }
    if (check_hashes(in, n, err, sizeof err) < 0) goto fail;

    /* the spec, from the stored text: the tasks and the layout of a run */
    char perr[1024];
    if (spec_load_string(&spec, in[0].path, in[0].info.spec_text, strlen(in[0].info.spec_text), perr,
                         sizeof perr) < 0) {
        snprintf(err, sizeof err, "%s: the stored spec does not parse with sweep %s: %s", in[0].path,
                 SWEEP_VERSION, perr);
        goto fail;
    }
    if (strcmp(spec.hash, in[0].info.spec_hash) != 0 ||
        (in[0].info.n_tasks >= 0 && in[0].info.n_tasks != spec.n_tasks)) {
        snprintf(err, sizeof err,
                 "%s: sweep %s expands the stored spec differently (hash %.12s..., %d tasks; the file: %.12s..., "
                 "%d tasks): merge with the sweep version that wrote it (%s)",
                 in[0].path, SWEEP_VERSION, spec.hash, spec.n_tasks, in[0].info.spec_hash, in[0].info.n_tasks,
                 in[0].info.sweep_version);
        goto fail;
    }
    int T = spec.n_tasks;
    size_t tn = T ? (size_t)T : 1;
    if (!(src = malloc(tn * sizeof *src)) || !(row = malloc(tn * sizeof *row)) ||
        !(ids = malloc(tn * sizeof *ids)) || !(axes = malloc((spec.n_axes ? (size_t)spec.n_axes : 1) * sizeof *axes)) ||
        !(cmdline = merge_command_line(output, n_inputs, inputs)))
        goto oom;
    if (choose_rows(in, n, T, src, row, &n_dup, err, sizeof err) < 0) goto fail;

    /* the output: every task of the spec, row = id, as an unsharded run */
    for (int id = 0; id < T; id++) ids[id] = id;
    for (int k = 0; k < spec.n_axes; k++) axes[k] = spec.axes[k].d->key;
    memset(&meta, 0, sizeof meta);
    meta.spec_text = in[0].info.spec_text;
    meta.spec_canonical = spec.canonical;
    meta.spec_hash = spec.hash;
    meta.command_line = cmdline;
    meta.shard = NULL;
    meta.n_tasks = T;
    meta.n_axes = spec.n_axes;
    meta.axes = axes;
    meta.n_eval_noise = spec.base.n_eval_noise;
    meta.eval_noise = spec.base.eval_noise;
    if (unlink(tmp) != 0 && errno != ENOENT) {
        snprintf(err, sizeof err, "%s: cannot remove a stale %s: %s", output, tmp, strerror(errno));
        goto fail;
    }
    if (h5out_create(&out, tmp, &meta, spec.tasks, ids, T, MPI_COMM_SELF, err, sizeof err) < 0) goto fail;
    out_open = made = 1;
    for (int id = 0; id < T; id++) {
        if (src[id] < 0) {
            count[TASK_PENDING]++;
            continue;
        }
        const TaskConfig *cfg = &spec.tasks[id];
        TaskResult res;
        int rank = -1;
        if (result_alloc(&res, cfg) < 0) goto oom;
        int bad = 0;
        if (h5out_read_task(in[src[id]].o, row[id], &res, &rank) < 0) {
            snprintf(err, sizeof err, "%s: cannot read task %d (row %d)", in[src[id]].path, id, row[id]);
            bad = 1;
        } else if (h5out_write_task(out, id, cfg, &res, rank) < 0) {
            snprintf(err, sizeof err, "%s: cannot write task %d", tmp, id);
            bad = 1;
        } else if (res.status >= 0 && res.status < 4) {
            count[res.status]++;
        }
        result_free(&res);
        if (bad) goto fail;
    }
    if (write_merge_attrs(h5out_file(out), in, n, inputs) < 0) {
        snprintf(err, sizeof err, "%s: cannot write the root attributes", tmp);
        goto fail;
    }
    out_open = 0;
    if (h5out_close(out) < 0) {
        snprintf(err, sizeof err, "%s: closing failed", tmp);
        goto fail;
    }
    if (access(output, F_OK) == 0) {
        snprintf(err, sizeof err, "%s appeared while merging: the merged file is left as %s", output, tmp);
        tmp[0] = '\0';
        goto fail;
    }
    if (rename(tmp, output) != 0) {
        snprintf(err, sizeof err, "cannot rename %s to %s: %s", tmp, output, strerror(errno));
        goto fail;
    }
    tmp[0] = '\0';
    fprintf(stderr,
            "sweep: merged %d file%s of spec %s%s%.12s... into %s: %d tasks: %d done, %d diverged, %d failed, "
            "%d pending",
            n, n == 1 ? "" : "s", spec.name, spec.name[0] ? " " : "", spec.hash, output, T, count[TASK_DONE],
            count[TASK_DIVERGED], count[TASK_FAILED], count[TASK_PENDING]);
    if (n_dup) fprintf(stderr, " (%d rows found in more than one file: best status kept)", n_dup);
    fputc('\n', stderr);
    if (count[TASK_PENDING] > 0) {
        code = SWEEP_EXIT_INCOMPLETE;
        fprintf(stderr, "sweep: %d task%s in no input finished: `sweep SPEC --resume -o %s` runs them (exit %d)\n",
                count[TASK_PENDING], count[TASK_PENDING] == 1 ? "" : "s", output, code);
    } else if (count[TASK_FAILED] > 0) {
        code = SWEEP_EXIT_FAILURES;
        fprintf(stderr, "sweep: %d task%s failed (see `sweep status %s`) (exit %d)\n", count[TASK_FAILED],
                count[TASK_FAILED] == 1 ? "" : "s", output, code);
    } else {
        code = SWEEP_EXIT_OK;
    }
    goto done;
oom:
    snprintf(err, sizeof err, "out of memory");
fail:
    if (out_open) h5out_close(out);
    if (made && tmp[0]) unlink(tmp);   /* an incomplete merge leaves no file */
done:
    if (err[0]) fprintf(stderr, "sweep: merge: %s\n", err);
    for (int i = 0; in && i < n; i++) {
        h5out_close(in[i].o);
        status_info_free(&in[i].info);
        free(in[i].status);
    }
    free(in);
    free(src);
    free(row);
    free(ids);
    free(axes);
    free(cmdline);
    spec_free(&spec);
    if (!inited) MPI_Finalize();
    return code;
}
