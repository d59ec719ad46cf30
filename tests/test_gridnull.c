/* test_gridnull.c -- the shuffle null of score60 (gridnull.h).
 *
 * Dimensions: n samples (concatenated trajectories), N units, U kept units,
 * S shuffles, G bins per side, W synthetic networks.
 *
 * Synthetic networks: trajectories from traj.h in the default 2.2 m square;
 * H units whose activity is a hexagonal function of position (plus white
 * noise), the others AR(1) noise in time (correlation time 0.5 s), unrelated
 * to position.  Checks: shuffled maps are the rate maps of the rolled
 * activity, bit for bit; percentile and p-value by hand; the hexagonal units
 * get p = 1 / (1 + n_null) and are flagged; over W networks the noise units
 * are flagged at about 100 - q percent and their p-values are uniform-ish;
 * the threshold is the percentile of the null sample; flags and p-values
 * agree with a brute-force count; shifts and picks respect their rules;
 * no-null cases; determinism; then the time of a default-sized null
 * (U = 64 kept units of N = 512, 4000 x 40 samples, 1000 shuffles, G = 20).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/arena.h"
#include "base/config.h"
#include "score/gridnull.h"
#include "model/rng.h"
#include "score/spatial.h"
#include "testlib.h"
#include "model/traj.h"

/* CPU seconds of this process (the machine is shared: wall time is noisy) */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

enum { G = 20 };

/* A synthetic network: act (n, N), pos (n, 2). */
typedef struct Synth {
    int N, H;
    size_t n;
    float *act;
    float *pos;
    Arena arena;
} Synth;

static void synth_free(Synth *s)
{
    free(s->act);
    free(s->pos);
    memset(s, 0, sizeof *s);
}

/* B trajectories of T steps (positions 1..T, concatenated); units 0..H-1:
 * hexagonal grids, spacing 0.6 m, random orientation and phase,
 * act = sum_w cos(k e_w . (x - phase)) + 0.5 xi, k = 4 pi / (sqrt(3) 0.6);
 * units H..N-1: AR(1) a_i = rho a_{i-1} + sqrt(1 - rho^2) xi_i with
 * rho = exp(-dt / 0.5 s), one continuous series over the concatenation. */
static int synth_make(Synth *s, int N, int H, int B, int T, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    TaskConfig cfg;
    config_defaults(&cfg);
    TrajBatch tb = {0};
    if (arena_init(&s->arena, &cfg) != 0 || traj_alloc(&tb, B, T) != 0) return -1;
    Rng r;
    rng_seed(&r, seed, RNG_SAMPLE);
    traj_generate(&tb, &s->arena, &cfg, &r);
    s->N = N;
    s->H = H;
    s->n = (size_t)B * T;
    s->act = malloc(s->n * N * sizeof *s->act);
    s->pos = malloc(s->n * 2 * sizeof *s->pos);
    if (!s->act || !s->pos) {
        traj_free(&tb);
        synth_free(s);
        return -1;
    }
    for (int b = 0; b < B; b++)
        memcpy(s->pos + (size_t)b * T * 2, tb.pos + ((size_t)b * (T + 1) + 1) * 2, (size_t)T * 2 * sizeof(float));
    traj_free(&tb);
    const double k = 4.0 * M_PI / (sqrt(3.0) * 0.6), rho = exp(-cfg.dt / 0.5), q = sqrt(1 - rho * rho);
    for (int u = 0; u < N; u++) {
        double th = 2 * M_PI * rng_uniform(&r), px = 2.2 * rng_uniform(&r), py = 2.2 * rng_uniform(&r);
        double a = rng_normal(&r);
        for (size_t i = 0; i < s->n; i++) {
            double v;
            if (u < H) {
                double x = s->pos[2 * i] - px, y = s->pos[2 * i + 1] - py;
                v = 0.5 * rng_normal(&r);
                for (int w = 0; w < 3; w++) v += cos(k * (x * cos(th + w * M_PI / 3) + y * sin(th + w * M_PI / 3)));
            } else {
                a = rho * a + q * rng_normal(&r);
                v = a;
            }
            s->act[i * N + u] = (float)v;
        }
    }
    return 0;
}

/* Observed maps and score60 (N) of a synthetic network. */
static int synth_scores(const Synth *s, const GridScorer *sc, float *maps, float *score60)
{
    if (ratemap_compute(s->act, s->pos, s->n, s->N, s->arena.xmin, s->arena.xmax, s->arena.ymin, s->arena.ymax, G,
                        maps, NULL) != 0)
        return -1;
    return spatial_score_units(maps, s->N, G, sc, 0.3, 5, score60, NULL, NULL, NULL);
}

static int gn_init(GridNull *g, const Synth *s, int keep, int S, uint64_t seed, Rng *r)
{
    rng_seed(r, seed, RNG_SHUFFLE);
    if (gridnull_init(g, s->N, keep, S, s->n, G, s->arena.xmin, s->arena.xmax, s->arena.ymin, s->arena.ymax, r) != 0)
        return -1;
    gridnull_add(g, s->act, s->pos, s->n);
    return 0;
}

static int cmp_f(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* ---- helpers by hand --------------------------------------------------- */
static void test_helpers(void)
{
    const float x[5] = {1, 2, 3, 4, 5};
    TEST_CLOSE(gridnull_percentile(x, 5, 50), 3.0, 0, 0);
    TEST_CLOSE(gridnull_percentile(x, 5, 95), 4.8, 1e-6, 0); /* h = 3.8 */
    TEST_CLOSE(gridnull_percentile(x, 5, 0), 1.0, 0, 0);
    TEST_CLOSE(gridnull_percentile(x, 5, 100), 5.0, 0, 0);
    TEST_CLOSE(gridnull_percentile(x, 1, 95), 1.0, 0, 0);
    TEST_CHECK(isnan(gridnull_percentile(x, 0, 95)), "empty percentile");
    TEST_CLOSE(gridnull_pvalue(x, 5, 3.0f), 4.0 / 6.0, 1e-7, 0);   /* 3, 4, 5 >= 3 */
    TEST_CLOSE(gridnull_pvalue(x, 5, 2.5f), 4.0 / 6.0, 1e-7, 0);
    TEST_CLOSE(gridnull_pvalue(x, 5, 6.0f), 1.0 / 6.0, 1e-7, 0);
    TEST_CLOSE(gridnull_pvalue(x, 5, 0.0f), 1.0, 0, 0);
    TEST_CHECK(isnan(gridnull_pvalue(x, 5, NAN)) && isnan(gridnull_pvalue(x, 0, 1.0f)), "NaN p-values");
    const float ties[4] = {1, 2, 2, 2};
    TEST_CLOSE(gridnull_pvalue(ties, 4, 2.0f), 4.0 / 5.0, 1e-7, 0);
}

/* ---- shuffled maps are the rate maps of the rolled activity ------------ */
static void test_maps(void)
{
    Synth s;
    TEST_CHECK(synth_make(&s, 12, 2, 40, 50, 3) == 0, "synth");
    GridNull g;
    Rng r;
    TEST_CHECK(gn_init(&g, &s, 5, 16, 9, &r) == 0, "init");
    TEST_CHECK(g.U == 5 && g.n == s.n, "U %d n %zu", g.U, g.n);
    for (int j = 1; j < g.U; j++) TEST_CHECK(g.unit[j] > g.unit[j - 1], "kept units ascending, distinct");
    TEST_CHECK(g.unit[0] >= 0 && g.unit[g.U - 1] < s.N, "kept units in range");
    const size_t n = s.n, GG = (size_t)G * G;
    float *col = malloc(n * sizeof *col), *ref = malloc(GG * sizeof *ref), *maps = malloc(3 * GG * sizeof *maps);
    int pick[3] = {0, 2, 4};
    long shift[3] = {0, 777, (long)n - 1};
    TEST_CHECK(gridnull_maps(&g, pick, shift, 3, maps) == 0, "maps");
    for (int c = 0; c < 3; c++) {
        int u = g.unit[pick[c]];
        for (size_t i = 0; i < n; i++) col[i] = s.act[((i + (size_t)shift[c]) % n) * s.N + u];
        ratemap_compute(col, s.pos, n, 1, s.arena.xmin, s.arena.xmax, s.arena.ymin, s.arena.ymax, G, ref, NULL);
        TEST_CHECK(memcmp(ref, maps + c * GG, GG * sizeof(float)) == 0, "shuffled map %d (shift %ld) differs", c,
                   shift[c]);
    }
    long bad_shift[1] = {(long)n};
    TEST_CHECK(gridnull_maps(&g, pick, bad_shift, 1, maps) == -1, "shift n refused");
    /* capacity: adding past it stores nothing */
    TEST_CHECK(gridnull_add(&g, s.act, s.pos, 10) == 0 && g.n == n, "full");
    gridnull_reset(&g);
    TEST_CHECK(g.n == 0 && gridnull_add(&g, s.act, s.pos, 10) == 10, "reset");
    /* bad arguments */
    GridNull b;
    TEST_CHECK(gridnull_init(&b, 0, 5, 16, 10, G, 0, 1, 0, 1, &r) == -1, "N = 0 refused");
    TEST_CHECK(gridnull_init(&b, 4, 5, 0, 10, G, 0, 1, 0, 1, &r) == -1, "S = 0 refused");
    TEST_CHECK(gridnull_init(&b, 4, 5, 8, 10, G, 1, 1, 0, 1, &r) == -1, "empty range refused");
    gridnull_free(&b);
    gridnull_free(&g);
    free(col);
    free(ref);
    free(maps);
    synth_free(&s);
}

/* ---- classification on synthetic networks ------------------------------ */
static void test_classify(void)
{
    enum { W = 8, N = 104, H = 4, S = 1000, KEEP = 64 };
    GridScorer *sc = grid_scorer_new(G, SCORE_MEAN_DIFF);
    float *maps = malloc((size_t)N * G * G * sizeof *maps), score[N], p[N];
    signed char flag[N];
    int noise_units = 0, flagged = 0, p05 = 0, p50 = 0, bare = 0, hex_ok = 0, checks_ok = 1;
    double t_null = 0;
    int hist[10] = {0};
    for (int w = 0; w < W; w++) {
        Synth s;
        TEST_CHECK(synth_make(&s, N, H, 200, 100, 100 + w) == 0, "synth %d", w);
        TEST_CHECK(synth_scores(&s, sc, maps, score) == 0, "scores %d", w);
        GridNull g;
        Rng r;
        TEST_CHECK(gn_init(&g, &s, KEEP, S, 500 + w, &r) == 0, "init %d", w);
        GridNullSummary sum;
        double t0 = now_s();
        int rc = gridnull_run(&g, sc, score, 1000, 95.0, &r, p, flag, &sum);
        t_null += now_s() - t0;
        TEST_CHECK(rc == 0 && sum.n_null == S && isfinite(sum.threshold), "run %d: rc %d n_null %d thr %g", w, rc,
                   sum.n_null, sum.threshold);
        /* 1000 steps requested, n = 20000: m = 1000; shifts in [m, n - m] */
        TEST_CHECK(sum.min_shift == 1000, "min shift %ld", sum.min_shift);
        long lo = g.shift[0], hi = g.shift[0];
        for (int k = 0; k < S; k++) {
            lo = g.shift[k] < lo ? g.shift[k] : lo;
            hi = g.shift[k] > hi ? g.shift[k] : hi;
        }
        TEST_CHECK(lo >= 1000 && hi <= (long)s.n - 1000 && hi - lo > (long)s.n / 2, "shifts in [%ld, %ld]", lo, hi);
        /* the threshold is the 95th percentile of the null sample */
        float *x = malloc(S * sizeof *x);
        memcpy(x, g.null, S * sizeof *x);
        qsort(x, S, sizeof *x, cmp_f);
        double h = (S - 1) * 0.95;
        int fl = (int)floor(h);
        double want = x[fl] + (h - fl) * ((double)x[fl + 1] - x[fl]);
        TEST_CLOSE(sum.threshold, want, 1e-6, 1e-6);
        int below = 0;
        for (int k = 0; k < S; k++) below += x[k] <= sum.threshold;
        TEST_CHECK(below >= 950 && below <= 951, "%d of %d null scores <= threshold", below, S);
        /* flags and p-values by brute force */
        int nf = 0;
        for (int u = 0; u < N; u++) {
            int ge = 0;
            for (int k = 0; k < S; k++) ge += x[k] >= score[u];
            float pu = (float)((1.0 + ge) / (1.0 + S));
            nf += flag[u] == 1;
            if (flag[u] != (score[u] > sum.threshold) || p[u] != pu) checks_ok = 0;
        }
        TEST_CLOSE(sum.frac, (double)nf / N, 1e-7, 0);
        free(x);
        /* hexagonal units: above every shuffle */
        for (int u = 0; u < H; u++) {
            hex_ok += flag[u] == 1 && p[u] == (float)(1.0 / (1.0 + S));
            if (w == 0) printf("hex unit %d: score60 %.3f, p %.4f, threshold %.3f\n", u, score[u], p[u], sum.threshold);
        }
        for (int u = H; u < N; u++) {
            noise_units++;
            flagged += flag[u] == 1;
            p05 += p[u] <= 0.05f;
            p50 += p[u] <= 0.5f;
            bare += score[u] > 0.3f;
            int bin = (int)(p[u] * 10);
            hist[bin > 9 ? 9 : bin]++;
        }
        gridnull_free(&g);
        synth_free(&s);
    }
    TEST_CHECK(checks_ok, "a flag or p-value differs from the brute-force count");
    TEST_CHECK(hex_ok == W * H, "%d of %d hexagonal units flagged with the smallest p", hex_ok, W * H);
    /* binomial tolerance: 800 noise units, plus the threshold's own sampling
     * error (s.d. sqrt(.05 .95 / 1000) per network, / sqrt(W) overall) */
    double M = noise_units, f = flagged / M, f05 = p05 / M, f50 = p50 / M;
    double sd05 = sqrt(0.05 * 0.95 / M + 0.05 * 0.95 / S / W), sd50 = sqrt(0.25 / M + 0.25 / S / W);
    printf("noise units: %d; flagged at 95%%: %.4f (tolerance %.4f); p <= 0.05: %.4f; p <= 0.5: %.4f; "
           "score60 > 0.3 (bare threshold): %.4f\n", noise_units, f, 4 * sd05, f05, f50, bare / M);
    printf("p-value histogram (tenths):");
    for (int b = 0; b < 10; b++) printf(" %d", hist[b]);
    printf("\nnull: %.1f CPU ms per network (n = 20000, S = %d)\n", 1e3 * t_null / W, S);
    TEST_CHECK(fabs(f - 0.05) <= 4 * sd05, "flagged %.4f vs 0.05 +- %.4f", f, 4 * sd05);
    TEST_CHECK(fabs(f05 - 0.05) <= 4 * sd05, "p <= 0.05: %.4f", f05);
    TEST_CHECK(fabs(f50 - 0.5) <= 4 * sd50, "p <= 0.5: %.4f vs 0.5 +- %.4f", f50, 4 * sd50);
    for (int b = 0; b < 10; b++)
        TEST_CHECK(fabs(hist[b] / M - 0.1) <= 4 * sqrt(0.09 / M + 0.09 / S / W) + 0.01, "p histogram bin %d: %d", b,
                   hist[b]);
    free(maps);
    grid_scorer_free(sc);
}

/* ---- picks, short series, no null, determinism ------------------------- */
static void test_rules(void)
{
    enum { N = 16, S = 300 };
    GridScorer *sc = grid_scorer_new(G, SCORE_MEAN_DIFF);
    Synth s;
    TEST_CHECK(synth_make(&s, N, 2, 20, 50, 42) == 0, "synth");
    /* units 1, 3, 5, ... are dead (constant): never picked */
    for (size_t i = 0; i < s.n; i++)
        for (int u = 1; u < N; u += 2) s.act[i * N + u] = 0.25f;
    float *maps = malloc((size_t)N * G * G * sizeof *maps), score[N], p[N], p2[N];
    signed char flag[N], flag2[N];
    TEST_CHECK(synth_scores(&s, sc, maps, score) == 0, "scores");
    for (int u = 1; u < N; u += 2) TEST_CHECK(isnan(score[u]), "dead unit %d scored %g", u, score[u]);
    GridNull g, g2;
    Rng r, r2;
    GridNullSummary a, b;
    TEST_CHECK(gn_init(&g, &s, N, S, 1, &r) == 0 && gridnull_run(&g, sc, score, 1000000, 99.0, &r, p, flag, &a) == 0,
               "run");
    int dead_picked = 0;
    for (int k = 0; k < S; k++) dead_picked += g.unit[g.pick[k]] % 2 == 1;
    TEST_CHECK(dead_picked == 0 && a.n_null == S, "%d shuffles of dead units, n_null %d", dead_picked, a.n_null);
    /* requested 1e6 samples on a 1000-sample series: m = n / 4 */
    TEST_CHECK(a.min_shift == (long)s.n / 4, "min shift %ld for n %zu", a.min_shift, s.n);
    for (int k = 0; k < S; k++)
        TEST_CHECK(g.shift[k] >= a.min_shift && g.shift[k] <= (long)s.n - a.min_shift, "shift %ld", g.shift[k]);
    for (int u = 1; u < N; u += 2) TEST_CHECK(isnan(p[u]) && flag[u] == 0, "dead unit %d: p %g flag %d", u, p[u], flag[u]);
    /* determinism: same stream, same everything; another stream differs */
    TEST_CHECK(gn_init(&g2, &s, N, S, 1, &r2) == 0 &&
                   gridnull_run(&g2, sc, score, 1000000, 99.0, &r2, p2, flag2, &b) == 0, "rerun");
    TEST_CHECK(memcmp(g.null, g2.null, S * sizeof(float)) == 0 && memcmp(p, p2, sizeof p) == 0 &&
                   memcmp(flag, flag2, sizeof flag) == 0 && a.threshold == b.threshold,
               "rerun differs");
    gridnull_free(&g2);
    TEST_CHECK(gn_init(&g2, &s, N, S, 2, &r2) == 0 &&
                   gridnull_run(&g2, sc, score, 1000000, 99.0, &r2, p2, flag2, &b) == 0, "other seed");
    TEST_CHECK(memcmp(g.null, g2.null, S * sizeof(float)) != 0, "another seed gives the same null");
    gridnull_free(&g2);
    gridnull_free(&g);
    /* no eligible kept unit: keep 1 unit, a dead one */
    int found = 0;
    for (uint64_t seed = 0; seed < 64 && !found; seed++) {
        TEST_CHECK(gn_init(&g, &s, 1, S, seed, &r) == 0, "init");
        if (g.unit[0] % 2 == 1) {
            found = 1;
            TEST_CHECK(gridnull_run(&g, sc, score, 10, 95.0, &r, p, flag, &a) == 0, "run");
            int ok = isnan(a.threshold) && isnan(a.frac) && a.n_null == 0;
            for (int u = 0; u < N; u++) ok &= isnan(p[u]) && flag[u] == -1;
            TEST_CHECK(ok, "no null: threshold %g frac %g n_null %d", a.threshold, a.frac, a.n_null);
        }
        gridnull_free(&g);
    }
    TEST_CHECK(found, "no seed kept a dead unit");
    /* bad arguments */
    TEST_CHECK(gn_init(&g, &s, N, S, 1, &r) == 0, "init");
    TEST_CHECK(gridnull_run(&g, sc, score, 10, 101.0, &r, p, flag, &a) == -1, "q > 100 refused");
    GridScorer *other = grid_scorer_new(G + 1, SCORE_MEAN_DIFF);
    TEST_CHECK(gridnull_run(&g, other, score, 10, 95.0, &r, p, flag, &a) == -1, "scorer of another G refused");
    grid_scorer_free(other);
    gridnull_free(&g);
    free(maps);
    synth_free(&s);
    grid_scorer_free(sc);
}

/* ---- cost at the default scale ----------------------------------------- */
static void test_cost(void)
{
    enum { N = 512, KEEP = 64, S = 1000, B = 200, E = 40, TRAJ = 4000 };
    TaskConfig cfg;
    config_defaults(&cfg);
    Arena a;
    TrajBatch tb = {0};
    GridNull g;
    Rng r, rs;
    float *act = malloc((size_t)E * N * sizeof *act), score[N], p[N];
    signed char flag[N];
    int ok = arena_init(&a, &cfg) == 0 && traj_alloc(&tb, B, E) == 0 && act;
    rng_seed(&rs, 5, RNG_SHUFFLE);
    ok = ok && gridnull_init(&g, N, KEEP, S, (size_t)TRAJ * E, G, a.xmin, a.xmax, a.ymin, a.ymax, &rs) == 0;
    TEST_CHECK(ok, "set-up");
    if (!ok) {
        free(act);
        traj_free(&tb);
        return;
    }
    rng_seed(&r, 5, RNG_SAMPLE);
    double t_add = 0;
    for (int done = 0; done < TRAJ; done += B) {
        traj_generate(&tb, &a, &cfg, &r);
        for (int b = 0; b < B; b++) {
            rng_normal_fill(&r, act, (size_t)E * N, 1.0f);
            double t0 = now_s();
            gridnull_add(&g, act, tb.pos + ((size_t)b * (E + 1) + 1) * 2, E);
            t_add += now_s() - t0;
        }
    }
    for (int u = 0; u < N; u++) score[u] = 0.0f;
    GridScorer *sc = grid_scorer_new(G, SCORE_MEAN_DIFF);
    GridNullSummary sum;
    double t0 = now_s();
    int rc = gridnull_run(&g, sc, score, lround(cfg.null_min_shift / cfg.dt), cfg.null_percentile, &rs, p, flag, &sum);
    double t_run = now_s() - t0;
    TEST_CHECK(rc == 0 && sum.n_null == S && g.n == (size_t)TRAJ * E, "run rc %d n_null %d", rc, sum.n_null);
    printf("default-sized null (N = %d, %d kept, n = %zu, S = %d, G = %d): storing %.1f CPU ms, null %.1f CPU ms, "
           "kept activity %.1f MB; white-noise threshold %.3f\n",
           N, KEEP, g.n, S, G, 1e3 * t_add, 1e3 * t_run, (double)KEEP * g.n * 4 / 1e6, sum.threshold);
    grid_scorer_free(sc);
    gridnull_free(&g);
    traj_free(&tb);
    free(act);
}

/* The streamed way (gridnull_plan, two passes of gridnull_stream,
 * gridnull_finish) gives the stored way's null, p-values, flags and summary
 * bit for bit, whatever the chunking of the replayed series; and the
 * shortcuts: no eligible unit, a stored GridNull refused by the streamed
 * calls and the reverse. */
static void test_streamed(void)
{
    enum { N = 40, H = 3, S = 300, KEEP = 16 };
    GridScorer *sc = grid_scorer_new(G, SCORE_MEAN_DIFF);
    float *maps = malloc((size_t)N * G * G * sizeof *maps), score[N], p1[N], p2[N];
    signed char f1[N], f2[N];
    Synth s;
    int ok = sc && maps && synth_make(&s, N, H, 100, 50, 7) == 0 && synth_scores(&s, sc, maps, score) == 0;
    TEST_CHECK(ok, "setup");
    if (!ok) {
        free(maps);
        grid_scorer_free(sc);
        return;
    }
    const size_t chunks[] = {1, 7, 40, 5000};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        GridNull a, b;
        Rng ra, rb;
        GridNullSummary sa, sb;
        TEST_CHECK(gn_init(&a, &s, KEEP, S, 900, &ra) == 0, "stored init");
        rng_seed(&rb, 900, RNG_SHUFFLE);
        TEST_CHECK(gridnull_init_mode(&b, s.N, KEEP, S, s.n, G, s.arena.xmin, s.arena.xmax, s.arena.ymin,
                                      s.arena.ymax, &rb, 1) == 0 && b.act == NULL && b.streamed,
                   "streamed init keeps no activity");
        TEST_CHECK(memcmp(a.unit, b.unit, (size_t)a.U * sizeof *a.unit) == 0, "same kept units");
        for (size_t j = 0; j < s.n; j += 33) /* the series' positions in uneven pieces */
            gridnull_add(&b, NULL, s.pos + 2 * j, s.n - j < 33 ? s.n - j : 33);
        TEST_CHECK(gridnull_run(&a, sc, score, 500, 95.0, &ra, p1, f1, &sa) == 0, "stored run");
        int passes = gridnull_plan(&b, score, 500, &rb);
        TEST_CHECK(passes == 2, "two passes (%d)", passes);
        for (int pass = 0; pass < passes; pass++)
            for (size_t j = 0; j < s.n; j += chunks[c]) {
                size_t m = s.n - j < chunks[c] ? s.n - j : chunks[c];
                gridnull_stream(&b, pass, s.act + j * (size_t)N, j, m);
            }
        TEST_CHECK(gridnull_finish(&b, sc, score, 95.0, p2, f2, &sb) == 0, "finish");
        TEST_CHECK(memcmp(a.null, b.null, S * sizeof *a.null) == 0, "chunk %zu: null scores bit for bit", chunks[c]);
        TEST_CHECK(memcmp(p1, p2, sizeof p1) == 0 && memcmp(f1, f2, sizeof f1) == 0, "chunk %zu: p, flags",
                   chunks[c]);
        /* field by field: the struct has padding, which a memcmp would read */
        TEST_CHECK(memcmp(&sa.threshold, &sb.threshold, sizeof sa.threshold) == 0 &&
                       memcmp(&sa.frac, &sb.frac, sizeof sa.frac) == 0 && sa.n_null == sb.n_null &&
                       sa.min_shift == sb.min_shift,
                   "chunk %zu: summary (threshold %g %g)", chunks[c], sa.threshold, sb.threshold);
        TEST_CHECK(gridnull_maps(&b, a.pick, a.shift, 1, maps) == -1 &&
                       gridnull_run(&b, sc, score, 500, 95.0, &rb, p2, f2, &sb) == -1 &&
                       gridnull_plan(&a, score, 500, &ra) == -1 &&
                       gridnull_finish(&a, sc, score, 95.0, p2, f2, &sb) == -1,
                   "each way refuses the other's calls");
        gridnull_free(&a);
        gridnull_free(&b);
    }
    /* no eligible unit: no passes, NaN p, flags -1 */
    GridNull b;
    Rng rb;
    float nan_score[N];
    for (int u = 0; u < N; u++) nan_score[u] = NAN;
    rng_seed(&rb, 901, RNG_SHUFFLE);
    GridNullSummary sb;
    TEST_CHECK(gridnull_init_mode(&b, s.N, KEEP, S, s.n, G, s.arena.xmin, s.arena.xmax, s.arena.ymin, s.arena.ymax,
                                  &rb, 1) == 0, "init");
    gridnull_add(&b, NULL, s.pos, s.n);
    TEST_CHECK(gridnull_plan(&b, nan_score, 500, &rb) == 0, "no eligible unit: no passes");
    TEST_CHECK(gridnull_finish(&b, sc, nan_score, 95.0, p2, f2, &sb) == 0 && isnan(p2[0]) && f2[0] == -1 &&
                   isnan(sb.threshold) && sb.n_null == 0,
               "no null");
    TEST_CHECK(gridnull_bytes(N, KEEP, S, s.n, G, 0) == (size_t)KEEP * s.n * 4 + s.n * 8 &&
                   gridnull_bytes(N, KEEP, S, s.n, G, 1) == s.n * 4 + (size_t)S * G * G * 12,
               "gridnull_bytes");
    gridnull_free(&b);
    synth_free(&s);
    free(maps);
    grid_scorer_free(sc);
}

int main(void)
{
    test_helpers();
    test_streamed();
    test_maps();
    test_classify();
    test_rules();
    test_cost();
    return test_summary("test_gridnull");
}
