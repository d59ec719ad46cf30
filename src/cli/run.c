/* run.c -- the `sweep SPEC` job and `sweep run-one`: MPI start-up, the
 * result file (create / resume / refuse), the scheduler, the exit status.
 * Strong definitions of run_sweep and run_one (run.h); cli.c calls them
 * with the spec parsed and the flags resolved.  docs/running.md is the
 * user's view.
 */
#include "cli/run.h"

#include <errno.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/check.h"
#include "io/h5out.h"
#include "io/ckpt.h"
#include "farm/scheduler.h"
#include "base/sweep.h"

/* What every rank must agree on, as rank 0 sees it. */
typedef struct RunOpts {
    char output[4096];
    int resume, force, shard_i, shard_n;
    double time_limit, progress_every;
} RunOpts;

static char *join_argv(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++) n += 3 * strlen(argv[i]) + 3;
    char *s = malloc(n), *p = s;
    if (!s) return NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int quote = a[0] == '\0' || strpbrk(a, " \t\n'\"$\\*?;&|<>()") != NULL;
        if (i) *p++ = ' ';
        if (quote) *p++ = '\'';
        for (; *a; a++) {
            if (quote && *a == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *a;
            }
        }
        if (quote) *p++ = '\'';
    }
    *p = '\0';
    return s;
}

/* Make every rank use rank 0's spec: broadcast its text, re-parse it on the
 * other ranks into *local (which the caller frees), and check the hash.
 * Returns the spec to use. */
static const Spec *agree_spec(const Spec *spec, Spec *local, int rank, MPI_Comm comm)
{
    long len = rank == 0 ? (long)spec->text_len : 0;
    CHECK_MPI(MPI_Bcast(&len, 1, MPI_LONG, 0, comm));
    char hash[65];
    memcpy(hash, spec->hash, sizeof hash);
    CHECK_MPI(MPI_Bcast(hash, sizeof hash, MPI_CHAR, 0, comm));
    if (rank == 0) {
        CHECK_MPI(MPI_Bcast(spec->text, (int)len, MPI_CHAR, 0, comm));
        return spec;
    }
    char *text = malloc((size_t)len + 1), err[1024];
    if (!text) sweep_fatal(__FILE__, __LINE__, "out of memory");
    CHECK_MPI(MPI_Bcast(text, (int)len, MPI_CHAR, 0, comm));
    if (spec_load_string(local, spec->path, text, (size_t)len, err, sizeof err) < 0)
        sweep_fatal(__FILE__, __LINE__, "rank 0's spec does not parse here: %s", err);
    free(text);
    if (strcmp(local->hash, hash) != 0)
        sweep_fatal(__FILE__, __LINE__, "spec hash differs from rank 0's (%s vs %s)", local->hash, hash);
    return local;
}

static void meta_from_spec(H5OutMeta *m, const Spec *spec, const char **axes, const char *cmdline,
                           const char *shard)
{
    for (int k = 0; k < spec->n_axes; k++) axes[k] = spec->axes[k].d->key;
    m->spec_text = spec->text;
    m->spec_canonical = spec->canonical;
    m->spec_hash = spec->hash;
    m->command_line = cmdline;
    m->shard = shard;
    m->n_tasks = spec->n_tasks;
    m->n_axes = spec->n_axes;
    m->axes = axes;
    m->n_eval_noise = spec->base.n_eval_noise;
    m->eval_noise = spec->base.eval_noise;
}

/* Rank 0 removes path for --force; returns 0 or -1 (message in err). */
static int force_remove(const char *path, int rank, MPI_Comm comm, char *err, size_t errlen)
{
    int rc = 0;
    struct stat sb;
    /* --force replaces a result file (or a symlink to one), never a device,
     * a FIFO or a directory: `-o /dev/null --force` as root must not
     * delete /dev/null. */
    if (rank == 0 && lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file; --force replaces only result files", path);
        rc = -1;
    } else if (rank == 0 && unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "%s: cannot remove for --force: %s", path, strerror(errno));
        rc = -1;
    }
    CHECK_MPI(MPI_Bcast(&rc, 1, MPI_INT, 0, comm));
    return rc;
}

/* The result file's directory must exist and be writable (the file, its
 * .creating twin and its .lock side file all go there).  Rank 0 only;
 * returns 0, or -1 with a message naming the directory. */
static int check_outdir(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        snprintf(err, errlen, "the output directory %.2000s does not exist (%s)", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "the output directory %.2000s is not a directory", dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "the output directory %.2000s is not writable (%s)", dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* Checkpoints of the tasks of result file `output` (spec train.checkpoint_every
 * > 0): the directory OUT.ckpt made ready by rank 0 and, for a fresh result
 * file (a new run, --force), emptied of what an earlier file of that name
 * left.  Call with the result file open (its lock held).  Collective.
 * Returns 0 with dir set ("" when checkpoints are off), or -1 with err. */
static int ckpt_setup(const Spec *spec, const char *output, int fresh, char *dir, size_t len, int rank,
                      MPI_Comm comm, char *err, size_t errlen)
{
    int bad = 0;
    dir[0] = 0;
    if (spec->checkpoint_every <= 0) return 0;
    if (ckpt_dir_of(output, dir, len) != 0) {
        snprintf(err, errlen, "%s: path too long for its checkpoint directory", output);
        bad = 1;
    } else if (rank == 0) {
        if (ckpt_dir_prepare(dir, err, errlen) != 0) {
            bad = 1;
        } else if (fresh) {
            int n = ckpt_dir_clear(dir);
            if (n > 0) fprintf(stderr, "sweep: %s: removed %d checkpoint%s of an earlier run\n", dir, n, n == 1 ? "" : "s");
        }
    }
    CHECK_MPI(MPI_Bcast(&bad, 1, MPI_INT, 0, comm));
    if (bad && rank == 0) {
        size_t l = strlen(err);
        snprintf(err + l, errlen - l, " (train.checkpoint_every: 0 runs without checkpoints; %s is kept, resumable)",
                 output);
    }
    return bad ? -1 : 0;
}

static int exit_status(const SchedStats *st)
{
    if (st->stopped) return SWEEP_EXIT_INCOMPLETE;
    return st->failed > 0 ? SWEEP_EXIT_FAILURES : SWEEP_EXIT_OK;
}

static void report(const SchedStats *st, const char *path, const char *spec_path, int size, int code)
{
    char w[32];
    int pending = st->abandoned + st->not_started;
    fprintf(stderr,
            "sweep: %s: %d tasks: %d finished earlier; this run %d done, %d diverged, %d failed, %d left pending "
            "(%s)\n",
            path, st->n_rows, st->n_before, st->done, st->diverged, st->failed, pending,
            sweep_hms(st->wall_s, w, sizeof w));
    fprintf(stderr, "sweep: rank 0 (%s) used %.3f s of CPU over %.2f s (%.2f%% of a core)\n",
            size > 1 ? "scheduler" : "scheduler and worker", st->cpu0_s, st->wall_s,
            st->wall_s > 0 ? 100.0 * st->cpu0_s / st->wall_s : 0.0);
    if (code == SWEEP_EXIT_INCOMPLETE && st->checkpointed > 0)
        fprintf(stderr, "sweep: %d stopped task%s continue%s from %s checkpoint%s (%s.ckpt)\n", st->checkpointed,
                st->checkpointed == 1 ? "" : "s", st->checkpointed == 1 ? "s" : "",
                st->checkpointed == 1 ? "its" : "their", st->checkpointed == 1 ? "" : "s", path);
    if (code == SWEEP_EXIT_INCOMPLETE)
        fprintf(stderr, "sweep: stopped by %s; incomplete: resume with `sweep %s --resume -o %s` (exit %d)\n",
                st->stop_reason[0] ? st->stop_reason : "request", spec_path, path, code);
    else if (code == SWEEP_EXIT_FAILURES)
        fprintf(stderr, "sweep: %d task%s failed (see /tasks message); --resume re-runs them (exit %d)\n",
                st->failed, st->failed == 1 ? "" : "s", code);
}

int run_sweep(const Spec *spec_in, const CliArgs *args, int argc, char **argv)
{
    int inited = 0, rank = 0, size = 1, code = SWEEP_EXIT_OK;
    Spec local;
    H5Out *out = NULL;
    int opened = 0;
    int *ids = NULL, *status = NULL, *todo = NULL;
    char *cmdline = NULL;
    const char **axes = NULL;
    char err[8192] = "";
    memset(&local, 0, sizeof local);

    sched_install_signals();   /* first: a signal during start-up is a stop, not a kill */
    MPI_Initialized(&inited);
    if (!inited) CHECK_MPI(MPI_Init(&argc, &argv));
    MPI_Comm comm = MPI_COMM_WORLD;
    CHECK_MPI(MPI_Comm_rank(comm, &rank));
    CHECK_MPI(MPI_Comm_size(comm, &size));
    double t0 = MPI_Wtime();
    CHECK_MPI(MPI_Bcast(&t0, 1, MPI_DOUBLE, 0, comm));

    const Spec *spec = agree_spec(spec_in, &local, rank, comm);
    /* threads from the environment (SLURM_CPUS_PER_TASK), as rank 0 chose them */
    int threads = rank == 0 && !spec->threads_given ? spec->base.threads : 0;
    CHECK_MPI(MPI_Bcast(&threads, 1, MPI_INT, 0, comm));
    if (rank != 0 && threads > 0) spec_set_threads(&local, threads);
    if (rank == 0 && !spec->threads_given && getenv("SLURM_CPUS_PER_TASK"))
        fprintf(stderr, "sweep: %d threads per task (SLURM_CPUS_PER_TASK; the spec sets no train.threads)\n",
                threads);
    RunOpts ro;
    memset(&ro, 0, sizeof ro);
    if (rank == 0) {
        snprintf(ro.output, sizeof ro.output, "%s", args->output ? args->output : spec->output);
        ro.resume = args->resume;
        ro.force = args->force;
        ro.shard_i = args->shard_count > 1 ? args->shard_index : 0;
        ro.shard_n = args->shard_count > 1 ? args->shard_count : 1;
        ro.time_limit = args->time_limit > 0 ? args->time_limit : 0;
        ro.progress_every = spec->progress_every;
    }
    CHECK_MPI(MPI_Bcast(&ro, (int)sizeof ro, MPI_BYTE, 0, comm));

    /* the rows of this file: every task, or this shard's */
    int n = 0;
    if (!(ids = malloc((spec->n_tasks ? (size_t)spec->n_tasks : 1) * sizeof *ids)) ||
        !(axes = malloc((spec->n_axes ? (size_t)spec->n_axes : 1) * sizeof *axes)) ||
        !(cmdline = join_argv(argc, argv)))
        sweep_fatal(__FILE__, __LINE__, "out of memory");
    /* the attributes are written collectively: rank 0's command line for all */
    int cl = (int)strlen(cmdline) + 1;
    CHECK_MPI(MPI_Bcast(&cl, 1, MPI_INT, 0, comm));
    if (rank != 0) {
        free(cmdline);
        if (!(cmdline = malloc((size_t)cl))) sweep_fatal(__FILE__, __LINE__, "out of memory");
    }
    CHECK_MPI(MPI_Bcast(cmdline, cl, MPI_CHAR, 0, comm));
    for (int id = 0; id < spec->n_tasks; id++)
        if (id % ro.shard_n == ro.shard_i) ids[n++] = id;
    char shard[64];
    snprintf(shard, sizeof shard, "%d/%d", ro.shard_i, ro.shard_n);
    H5OutMeta meta;
    meta_from_spec(&meta, spec, axes, cmdline, ro.shard_n > 1 ? shard : NULL);

    int exists = 0, dir_bad = 0;
    if (rank == 0) {
        exists = access(ro.output, F_OK) == 0;
        dir_bad = check_outdir(ro.output, err, sizeof err);
    }
    CHECK_MPI(MPI_Bcast(&dir_bad, 1, MPI_INT, 0, comm));
    if (dir_bad) {
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
    if (ro.resume && exists) {
        if (h5out_open(&out, ro.output, 1, comm, err, sizeof err) < 0) {
            code = SWEEP_EXIT_IO;
            goto fail;
        }
        opened = 1;
        int bad = h5out_check(out, &meta, ids, n, err, sizeof err) < 0;
        CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, comm));
        if (bad) {
            if (!err[0]) snprintf(err, sizeof err, "%s does not match this spec", ro.output);
            code = SWEEP_EXIT_IO;
            goto fail;
        }
    } else {
        if (ro.resume && rank == 0)
            fprintf(stderr, "sweep: %s does not exist yet: starting it (--resume)\n", ro.output);
        if (exists && ro.force && force_remove(ro.output, rank, comm, err, sizeof err) < 0) {
            code = SWEEP_EXIT_IO;
            goto fail;
        }
        if (h5out_create(&out, ro.output, &meta, spec->tasks, ids, n, comm, err, sizeof err) < 0) {
            code = SWEEP_EXIT_IO;
            goto fail;
        }
        opened = 1;
    }

    /* the rows to run: pending and failed (done and diverged are kept) */
    if (!(status = malloc((n ? (size_t)n : 1) * sizeof *status)) || !(todo = malloc((n ? (size_t)n : 1) * sizeof *todo)))
        sweep_fatal(__FILE__, __LINE__, "out of memory");
    int n_todo = 0, rrc = 0;
    if (rank == 0) {
        rrc = h5out_read_status(out, status);
        if (rrc == 0)
            for (int r = 0; r < n; r++)
                if (status[r] == TASK_PENDING || status[r] == TASK_FAILED) todo[n_todo++] = r;
    }
    CHECK_MPI(MPI_Bcast(&rrc, 1, MPI_INT, 0, comm));
    if (rrc < 0) {
        snprintf(err, sizeof err, "%s: cannot read the task statuses", ro.output);
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    if (rank == 0) {
        fprintf(stderr, "sweep: %s: %d tasks (%d to run) on %d rank%s%s -> %s\n", spec->path, n, n_todo, size,
                size == 1 ? "" : "s", size > 1 ? " (rank 0 schedules)" : "", ro.output);
        fflush(stderr);
    }
    h5out_set_sync(out, spec->sync ? H5OUT_SYNC_TASK : H5OUT_SYNC_NONE);   /* output.sync */
    char ckdir[4200];
    if (ckpt_setup(spec, ro.output, !(ro.resume && exists), ckdir, sizeof ckdir, rank, comm, err, sizeof err) < 0) {
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    SchedOptions so = {.time_limit = ro.time_limit,
                       .t0 = t0,
                       .progress_every = ro.progress_every,
                       .ckpt_dir = ckdir[0] ? ckdir : NULL,
                       .checkpoint_every = spec->checkpoint_every,
                       .stop_grace = spec->stop_grace};
    SchedStats st;
    if (sched_run(spec, out, todo, n_todo, &so, comm, &st) < 0) {
        snprintf(err, sizeof err, "scheduling failed");
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    code = exit_status(&st);
    opened = 0;
    if (h5out_close(out) < 0) {
        snprintf(err, sizeof err, "%s: closing the result file failed", ro.output);
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    if (rank == 0) report(&st, ro.output, spec->path, size, code);
fail:
    if (opened) h5out_close(out);
    if (rank == 0 && err[0]) fprintf(stderr, "sweep: %s\n", err);
    CHECK_MPI(MPI_Bcast(&code, 1, MPI_INT, 0, comm));
    free(ids);
    free(status);
    free(todo);
    free(axes);
    free(cmdline);
    spec_free(&local);
    if (!inited) MPI_Finalize();
    return code;
}

int run_one(const Spec *spec, const CliArgs *args, int argc, char **argv)
{
    int inited = 0, size = 1, code = SWEEP_EXIT_OK, opened = 0;
    H5Out *out = NULL;
    char err[8192] = "";
    char *cmdline = NULL;
    const char **axes = NULL;
    sched_install_signals();
    MPI_Initialized(&inited);
    if (!inited) CHECK_MPI(MPI_Init(&argc, &argv));
    CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size));
    if (size > 1) {
        snprintf(err, sizeof err, "run-one runs one task in one process: start it without mpirun");
        code = SWEEP_EXIT_USAGE;
        goto fail;
    }
    double t0 = MPI_Wtime();
    if (args->task < 0 || args->task >= spec->n_tasks || !args->output) {
        snprintf(err, sizeof err, "run-one needs --task K (0..%d) and -o FILE", spec->n_tasks - 1);
        code = SWEEP_EXIT_USAGE;
        goto fail;
    }
    int id = (int)args->task;
    if (!(axes = malloc((spec->n_axes ? (size_t)spec->n_axes : 1) * sizeof *axes)) ||
        !(cmdline = join_argv(argc, argv)))
        sweep_fatal(__FILE__, __LINE__, "out of memory");
    H5OutMeta meta;
    meta_from_spec(&meta, spec, axes, cmdline, NULL);
    int resume = args->resume && access(args->output, F_OK) == 0;
    if (resume) {
        /* the one-row file of an earlier run-one of this task: continue it */
        if (h5out_open(&out, args->output, 1, MPI_COMM_WORLD, err, sizeof err) < 0 ||
            h5out_check(out, &meta, &id, 1, err, sizeof err) < 0) {
            code = SWEEP_EXIT_IO;
            goto fail;
        }
        opened = 1;
        int status;
        if (h5out_read_status(out, &status) < 0) {
            snprintf(err, sizeof err, "%s: cannot read the task status", args->output);
            code = SWEEP_EXIT_IO;
            goto fail;
        }
        if (status == TASK_DONE || status == TASK_DIVERGED) {
            fprintf(stderr, "sweep: run-one: task %d is already %s in %s: nothing to do\n", id,
                    status == TASK_DONE ? "done" : "diverged", args->output);
            goto fail; /* exit 0 after closing */
        }
    } else {
        if (args->resume) fprintf(stderr, "sweep: %s does not exist yet: starting it (--resume)\n", args->output);
        if (args->force && force_remove(args->output, 0, MPI_COMM_WORLD, err, sizeof err) < 0) {
            code = SWEEP_EXIT_IO;
            goto fail;
        }
        if (h5out_create(&out, args->output, &meta, spec->tasks, &id, 1, MPI_COMM_WORLD, err, sizeof err) < 0) {
            code = SWEEP_EXIT_IO;
            goto fail;
        }
        opened = 1;
    }
    char ckdir[4200];
    if (ckpt_setup(spec, args->output, !resume, ckdir, sizeof ckdir, 0, MPI_COMM_WORLD, err, sizeof err) < 0) {
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    fprintf(stderr, "sweep: run-one: task %d of %s -> %s (%d thread%s)\n", id, spec->path, args->output,
            spec->tasks[id].threads, spec->tasks[id].threads == 1 ? "" : "s");
    int row = 0;
    /* a line at every logged point */
    SchedOptions so = {.time_limit = args->time_limit > 0 ? args->time_limit : 0,
                       .t0 = t0,
                       .progress_every = 1e-9,
                       .ckpt_dir = ckdir[0] ? ckdir : NULL,
                       .checkpoint_every = spec->checkpoint_every,
                       .stop_grace = spec->stop_grace};
    SchedStats st;
    if (sched_run(spec, out, &row, 1, &so, MPI_COMM_WORLD, &st) < 0) {
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    code = exit_status(&st);
    opened = 0;
    if (h5out_close(out) < 0) {
        snprintf(err, sizeof err, "%s: closing the result file failed", args->output);
        code = SWEEP_EXIT_IO;
        goto fail;
    }
    if (st.stopped)
        fprintf(stderr, "sweep: run-one stopped by %s: task %d left pending%s; continue it with --resume (exit %d)\n",
                st.stop_reason[0] ? st.stop_reason : "request", id,
                st.checkpointed ? " with a checkpoint" : "", code);
    else
        fprintf(stderr, "sweep: task %d %s in %.1f s -> %s\n", id,
                st.done ? "done" : st.diverged ? "diverged" : "failed", st.wall_s, args->output);
fail:
    if (opened) h5out_close(out);
    if (err[0]) fprintf(stderr, "sweep: %s\n", err);
    free(axes);
    free(cmdline);
    if (!inited) MPI_Finalize();
    return code;
}
