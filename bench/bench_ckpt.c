/* bench_ckpt.c -- what a checkpoint costs (io/ckpt.h; docs/performance.md,
 * "Checkpoints"): its size, the time to write it (built in memory, written,
 * fsync'ed, renamed) and to read it back, and the overhead of checkpointing
 * every train.checkpoint_every seconds of training, write time / interval.
 *
 * Legend: N hidden, P place cells, n parameters = N P + 2 N + N N + P N
 * (rnn.h layout, no bias), L logged points.
 *
 *   bench_ckpt [--N 512] [--P 512] [--reps 5] [--every 900] [--dir DIR]
 *   bench_ckpt --table [--every 900] [--dir DIR]    N = 512, 1024, 4096 at P = 512
 *
 * The state is filled with random numbers (the write cost does not depend
 * on the values); DIR (default: the current directory) is where the files
 * go, so point it at the file system the result file will live on: the
 * fsync is most of the time on a disk, little on tmpfs.  Each figure is
 * the median over --reps; the files are removed at the end.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "base/result.h"
#include "io/ckpt.h"
#include "model/rng.h"
#include "task/train.h"

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char HASH[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* One row: N, P; returns 0 or -1. */
static int bench(int N, int P, int reps, double every, const char *root)
{
    TaskConfig c;
    config_defaults(&c);
    c.hidden = N;
    c.n_place = P;
    size_t n = (size_t)N * P + 2 * (size_t)N + (size_t)N * N + (size_t)P * N;
    TaskState st;
    TaskResult res;
    char dir[4200], err[1024];
    double *tw = malloc((size_t)reps * sizeof *tw), *tr = malloc((size_t)reps * sizeof *tr);
    long long bytes = 0;
    int rc = -1;
    snprintf(dir, sizeof dir, "%s/bench_ckpt.%ld.ckpt", root, (long)getpid());
    if (!tw || !tr || task_state_alloc(&st, n) != 0) goto out;
    if (result_alloc(&res, &c) != 0) {
        task_state_free(&st);
        goto out;
    }
    Rng r;
    rng_seed(&r, 1, RNG_SAMPLE);
    rng_normal_fill(&r, st.params, n, 0.1f);
    rng_normal_fill(&r, st.adam_m, n, 0.01f);
    for (size_t i = 0; i < n; i++) st.adam_v[i] = st.adam_m[i] * st.adam_m[i];
    st.step = c.steps / 2;
    st.next_log = res.n_log / 2;
    st.adam_t = st.step;
    if (ckpt_dir_prepare(dir, err, sizeof err) != 0) {
        fprintf(stderr, "bench_ckpt: %s\n", err);
        goto done;
    }
    for (int k = 0; k < reps; k++) {
        double t0 = wall();
        if (ckpt_write(dir, 0, HASH, &c, &st, &res, &bytes, err, sizeof err) != 0) {
            fprintf(stderr, "bench_ckpt: %s\n", err);
            goto done;
        }
        double t1 = wall();
        TaskState back;
        if (ckpt_read(dir, 0, HASH, &c, &back, &res, err, sizeof err) != 0) {
            fprintf(stderr, "bench_ckpt: %s\n", err);
            goto done;
        }
        tr[k] = wall() - t1;
        tw[k] = t1 - t0;
        task_state_free(&back);
    }
    qsort(tw, (size_t)reps, sizeof *tw, cmp_d);
    qsort(tr, (size_t)reps, sizeof *tr, cmp_d);
    printf("| %d | %d | %zu | %.1f | %.3f | %.3f | %.4f%% |\n", N, P, n, bytes / 1048576.0, tw[reps / 2],
           tr[reps / 2], every > 0 ? 100.0 * tw[reps / 2] / every : 0.0);
    fflush(stdout);
    rc = 0;
done:
    ckpt_remove(dir, 0);
    rmdir(dir);
    task_state_free(&st);
    result_free(&res);
out:
    free(tw);
    free(tr);
    return rc;
}

int main(int argc, char **argv)
{
    int N = 512, P = 512, reps = 5, table = 0;
    double every = 900;
    const char *root = ".";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--table")) table = 1;
        else if (!strcmp(a, "--N") && v) N = atoi(argv[++i]);
        else if (!strcmp(a, "--P") && v) P = atoi(argv[++i]);
        else if (!strcmp(a, "--reps") && v) reps = atoi(argv[++i]);
        else if (!strcmp(a, "--every") && v) every = atof(argv[++i]);
        else if (!strcmp(a, "--dir") && v) root = argv[++i];
        else {
            fprintf(stderr, "usage: bench_ckpt [--N n] [--P n] [--reps n] [--every s] [--dir DIR] | --table\n");
            return 2;
        }
    }
    if (N < 1 || P < 1 || reps < 1) {
        fprintf(stderr, "bench_ckpt: --N, --P and --reps must be positive\n");
        return 2;
    }
    printf("| N | P | parameters | file MiB | write s | read s | write / %.0f s |\n", every);
    printf("|---|---|---|---|---|---|---|\n");
    if (!table) return bench(N, P, reps, every, root) == 0 ? 0 : 1;
    const int Ns[] = {512, 1024, 4096};
    for (int k = 0; k < 3; k++)
        if (bench(Ns[k], 512, Ns[k] >= 4096 ? 3 : reps, every, root) != 0) return 1;
    return 0;
}
