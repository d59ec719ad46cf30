/* bench_data.c -- the data generation of one training step, by part:
 * trajectories (traj_generate), target codes (place_encode of the B T
 * positions and the B starts), hidden-state noise (rng_normal_fill);
 * and the codes' float exponential (place_expf_fill: model/fastexp.h, the
 * network's too), ns a value, in the build the CPU chose and, where the
 * library has simd_select, in the baseline build.
 *
 * Legend: B batch, T steps, N hidden (noise width), P place cells.
 *
 *   bench_data [--B 200] [--T 20] [--N 128] [--P 256] [--target dog]
 *              [--reps 20]
 *
 * Prints the median over --reps batches of each part, wall and process
 * CPU time (CLOCK_PROCESS_CPUTIME_ID), ms per training step.  Uses only the
 * public API of model/, so the same file builds against an older
 * libsweep.a for before/after comparisons run alternately.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/config.h"
#include "model/arena.h"
#include "model/place.h"
#include "model/rng.h"
#include "model/traj.h"

static double clk(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Present from the fused exponential on (model/simd.h); weak, so that
 * this file still links against an older libsweep.a. */
extern int simd_select(int set) __attribute__((weak));

/* CPU ns a value of place_expf_fill over 2^16 values in [-64, 0], best
 * of 5 rounds of `fills` fills; -1 if no memory. */
static double exp_ns(int fills)
{
    const size_t n = (size_t)1 << 16;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    double best = -1;
    if (x && y) {
        for (size_t i = 0; i < n; i++) x[i] = -64.0f * (float)(i % 8701) / 8700.0f;
        for (int round = 0; round < 5; round++) {
            double c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
            for (int k = 0; k < fills; k++) place_expf_fill(x, y, n);
            double ns = 1e9 * (clk(CLOCK_PROCESS_CPUTIME_ID) - c0) / ((double)fills * (double)n);
            if (best < 0 || ns < best) best = ns;
        }
    }
    free(x);
    free(y);
    return best;
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

int main(int argc, char **argv)
{
    int B = 200, T = 20, N = 128, P = 256, reps = 20, target = TARGET_DOG;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (strcmp(a, "--B") == 0) B = atoi(v);
        else if (strcmp(a, "--T") == 0) T = atoi(v);
        else if (strcmp(a, "--N") == 0) N = atoi(v);
        else if (strcmp(a, "--P") == 0) P = atoi(v);
        else if (strcmp(a, "--reps") == 0) reps = atoi(v);
        else if (strcmp(a, "--target") == 0) target = strcmp(v, "gaussian") == 0 ? TARGET_GAUSSIAN : TARGET_DOG;
        else {
            fprintf(stderr, "usage: bench_data [--B n] [--T n] [--N n] [--P n] [--target dog|gaussian] [--reps n]\n");
            return 2;
        }
    }
    if (B < 1 || T < 1 || N < 1 || P < 1 || reps < 1) return 2;
    TaskConfig cfg;
    config_defaults(&cfg);
    cfg.batch = B;
    cfg.seq_len = T;
    cfg.hidden = N;
    cfg.n_place = P;
    cfg.target = target;
    Arena arena;
    PlaceCells pc;
    TrajBatch tb;
    memset(&pc, 0, sizeof pc);
    memset(&tb, 0, sizeof tb);
    Rng r_place, r_traj, r_noise;
    rng_seed(&r_place, 1, RNG_PLACE);
    rng_seed(&r_traj, 1, RNG_TRAIN_TRAJ);
    rng_seed(&r_noise, 1, RNG_TRAIN_NOISE);
    float *target_buf = malloc((size_t)B * T * P * sizeof(float)), *p0 = malloc((size_t)B * P * sizeof(float));
    float *start = malloc((size_t)B * 2 * sizeof(float)), *noise = malloc((size_t)B * T * N * sizeof(float));
    double *t[6];
    for (int k = 0; k < 6; k++) t[k] = calloc((size_t)reps, sizeof(double));
    int rc = 1;
    if (!target_buf || !p0 || !start || !noise || !t[0] || !t[1] || !t[2] || !t[3] || !t[4] || !t[5]) goto done;
    if (arena_init(&arena, &cfg) != 0 || place_init(&pc, &cfg, &arena, &r_place) != 0 || traj_alloc(&tb, B, T) != 0)
        goto done;
    for (int it = -2; it < reps; it++) {
        double w0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
        traj_generate(&tb, &arena, &cfg, &r_traj);
        double w1 = clk(CLOCK_MONOTONIC), c1 = clk(CLOCK_PROCESS_CPUTIME_ID);
        for (int b = 0; b < B; b++) {
            const float *p = tb.pos + (size_t)b * (T + 1) * 2;
            start[2 * b] = p[0];
            start[2 * b + 1] = p[1];
            place_encode(&pc, p + 2, (size_t)T, target_buf + (size_t)b * T * P);
        }
        place_encode(&pc, start, (size_t)B, p0);
        double w2 = clk(CLOCK_MONOTONIC), c2 = clk(CLOCK_PROCESS_CPUTIME_ID);
        rng_normal_fill(&r_noise, noise, (size_t)B * T * N, 0.1f);
        double w3 = clk(CLOCK_MONOTONIC), c3 = clk(CLOCK_PROCESS_CPUTIME_ID);
        if (it < 0) continue;
        t[0][it] = w1 - w0, t[1][it] = c1 - c0;
        t[2][it] = w2 - w1, t[3][it] = c2 - c1;
        t[4][it] = w3 - w2, t[5][it] = c3 - c2;
    }
    double m[6];
    for (int k = 0; k < 6; k++) m[k] = 1e3 * median(t[k], reps);
    printf("B %d T %d N %d P %d %s: traj %.3f (cpu %.3f) ms, codes %.3f (cpu %.3f) ms, noise %.3f (cpu %.3f) ms\n", B, T,
           N, P, target == TARGET_DOG ? "dog" : "gaussian", m[0], m[1], m[2], m[3], m[4], m[5]);
    printf("exp (place_expf_fill, cpu ns a value): %.3f", exp_ns(200));
    if (simd_select) {
        int chosen = simd_select(-1);
        if (chosen == 1) {
            simd_select(0);
            printf(" (AVX2 + FMA build); baseline build %.3f", exp_ns(20));
            simd_select(1);
        } else {
            printf(" (baseline build; no AVX2 + FMA here)");
        }
    }
    printf("\n");
    rc = 0;
done:
    for (int k = 0; k < 6; k++) free(t[k]);
    free(target_buf);
    free(p0);
    free(start);
    free(noise);
    traj_free(&tb);
    place_free(&pc);
    return rc;
}
