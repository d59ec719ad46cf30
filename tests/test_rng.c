/* test_rng.c -- rng streams: known xoshiro256** outputs, reproducibility,
 * independence per (seed, purpose), moments of uniforms, normals and
 * Rayleigh draws.
 *
 * Legend: n samples.  Statistical bounds are 5 standard errors of the
 * estimate on n = 1e6 draws (false alarm < 1e-6 per check):
 *   mean of N(0,1): se = 1/sqrt(n) = 1e-3
 *   variance:       se = sqrt(2/n) = 1.4e-3
 *   skewness:       se = sqrt(6/n) = 2.4e-3
 *   kurtosis:       se = sqrt(24/n) = 4.9e-3
 *   a probability p: se = sqrt(p (1-p) / n)
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/noisedraw.h"
#include "model/rng.h"
#include "model/simd.h"
#include "testlib.h"

#define NS 1000000

typedef struct Moments { double mean, var, skew, kurt; } Moments;

static Moments moments(const double *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m += x[i];
    m /= n;
    double m2 = 0, m3 = 0, m4 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - m, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= n;
    m3 /= n;
    m4 /= n;
    return (Moments){m, m2, m3 / pow(m2, 1.5), m4 / (m2 * m2)};
}

/* Standard normal CDF. */
static double phi(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

/* Check the N(0, sigma^2) moments and the CDF at a few points. */
static void check_normal(const char *what, const double *x, size_t n, double sigma)
{
    Moments m = moments(x, n);
    double se = 1.0 / sqrt((double)n);
    TEST_CHECK(fabs(m.mean / sigma) < 5 * se, "%s mean %g", what, m.mean);
    TEST_CHECK(fabs(m.var / (sigma * sigma) - 1) < 5 * sqrt(2.0) * se, "%s var %g", what, m.var);
    TEST_CHECK(fabs(m.skew) < 5 * sqrt(6.0) * se, "%s skew %g", what, m.skew);
    TEST_CHECK(fabs(m.kurt - 3) < 5 * sqrt(24.0) * se, "%s kurtosis %g", what, m.kurt);
    const double zs[] = {-3, -2, -1, -0.5, 0, 0.5, 1, 2, 3};
    for (size_t j = 0; j < sizeof zs / sizeof zs[0]; j++) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++) c += x[i] <= zs[j] * sigma;
        double p = phi(zs[j]), f = (double)c / n;
        TEST_CHECK(fabs(f - p) < 5 * sqrt(p * (1 - p) / n) + 1e-9, "%s CDF(%g) = %g, expected %g", what,
                   zs[j], f, p);
    }
}

static void test_known_outputs(void)
{
    /* xoshiro256** from state {1, 2, 3, 4}, by hand from the definition:
     * out1 = rotl(2*5, 7)*9 = 11520; the update leaves s1 = 0, so out2 = 0;
     * then s1 = 262149 and out3 = rotl(262149*5, 7)*9 = 1509978240. */
    Rng r = {{1, 2, 3, 4}};
    TEST_CHECK(rng_u64(&r) == 11520u, "xoshiro out1");
    TEST_CHECK(rng_u64(&r) == 0u, "xoshiro out2");
    TEST_CHECK(rng_u64(&r) == 1509978240u, "xoshiro out3");
}

static void test_streams(void)
{
    Rng a, b;
    rng_seed(&a, 42, RNG_TRAIN_TRAJ);
    rng_seed(&b, 42, RNG_TRAIN_TRAJ);
    int same = 1;
    for (int i = 0; i < 1000; i++) same &= rng_u64(&a) == rng_u64(&b);
    TEST_CHECK(same, "same (seed, purpose) gives the same stream");

    /* every pair of (seed, purpose) among seeds 0..63 x purposes 1..10
     * starts differently, and no state is zero */
    enum { NSEED = 64, NPURP = 10 };
    static uint64_t first[NSEED * NPURP][2];
    int zero = 0;
    for (int s = 0; s < NSEED; s++)
        for (int p = 0; p < NPURP; p++) {
            Rng r;
            rng_seed(&r, (uint64_t)s, (uint64_t)(p + 1));
            zero |= (r.s[0] | r.s[1] | r.s[2] | r.s[3]) == 0;
            first[s * NPURP + p][0] = rng_u64(&r);
            first[s * NPURP + p][1] = rng_u64(&r);
        }
    TEST_CHECK(!zero, "no all-zero state");
    int dup = 0;
    for (int i = 0; i < NSEED * NPURP; i++)
        for (int j = i + 1; j < NSEED * NPURP; j++)
            dup += first[i][0] == first[j][0] && first[i][1] == first[j][1];
    TEST_CHECK(dup == 0, "%d duplicate stream starts", dup);

    /* streams of neighbouring purposes / seeds are uncorrelated:
     * correlation of 1e5 paired uniforms, se = 1/sqrt(1e5) = 3.2e-3 */
    const uint64_t pairs[3][4] = {{7, RNG_TRAIN_NOISE, 7, RNG_EVAL_NOISE},
                                  {7, RNG_INIT, 8, RNG_INIT},
                                  {0, RNG_PLACE, 1, RNG_PLACE}};
    for (int c = 0; c < 3; c++) {
        rng_seed(&a, pairs[c][0], pairs[c][1]);
        rng_seed(&b, pairs[c][2], pairs[c][3]);
        int n = 100000;
        double sab = 0, sa = 0, sb = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++) {
            double x = rng_uniform(&a), y = rng_uniform(&b);
            sab += x * y;
            sa += x;
            sb += y;
            saa += x * x;
            sbb += y * y;
        }
        double cov = sab / n - (sa / n) * (sb / n);
        double corr = cov / sqrt((saa / n - sa * sa / n / n) * (sbb / n - sb * sb / n / n));
        TEST_CHECK(fabs(corr) < 5 / sqrt((double)n), "pair %d corr %g", c, corr);
    }
}

static void test_uniform(double *x)
{
    Rng r;
    rng_seed(&r, 1, RNG_SAMPLE);
    int inrange = 1;
    for (size_t i = 0; i < NS; i++) {
        x[i] = rng_uniform(&r);
        inrange &= x[i] >= 0 && x[i] < 1;
    }
    TEST_CHECK(inrange, "uniform in [0, 1)");
    Moments m = moments(x, NS);
    double se = 1 / sqrt((double)NS);
    /* U(0,1): mean 1/2 (sd 0.2887), var 1/12 (sd of the estimate
     * sqrt(1/80 - 1/144) = 0.0745), skew 0, kurtosis 9/5 */
    TEST_CHECK(fabs(m.mean - 0.5) < 5 * 0.2887 * se, "uniform mean %g", m.mean);
    TEST_CHECK(fabs(m.var - 1.0 / 12) < 5 * 0.0745 * se, "uniform var %g", m.var);
    TEST_CHECK(fabs(m.skew) < 0.01, "uniform skew %g", m.skew);
    TEST_CHECK(fabs(m.kurt - 1.8) < 0.01, "uniform kurtosis %g", m.kurt);
    /* 100-bin histogram: chi-square with 99 dof, mean 99, sd 14; < 99 + 5*14 */
    int hist[100] = {0};
    for (size_t i = 0; i < NS; i++) hist[(int)(x[i] * 100)]++;
    double chi2 = 0, e = NS / 100.0;
    for (int i = 0; i < 100; i++) chi2 += (hist[i] - e) * (hist[i] - e) / e;
    TEST_CHECK(chi2 < 99 + 5 * 14.1, "uniform chi2 %g", chi2);
}

static void test_normal(double *x)
{
    Rng r;
    rng_seed(&r, 2, RNG_SAMPLE);
    for (size_t i = 0; i < NS; i++) x[i] = rng_normal(&r);
    check_normal("rng_normal", x, NS, 1.0);
}

static void test_normal_fill(double *x)
{
    float *f = malloc(NS * sizeof *f);
    TEST_CHECK(f != NULL, "alloc");
    if (!f) return;
    Rng r;
    rng_seed(&r, 3, RNG_TRAIN_NOISE);
    const float sigma = 0.37f;
    clock_t t0 = clock();
    rng_normal_fill(&r, f, NS, sigma);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("rng_normal_fill: %.2f ns per sample\n", 1e9 * secs / NS);
    int finite = 1;
    float mx = 0;
    for (size_t i = 0; i < NS; i++) {
        finite &= isfinite(f[i]);
        if (fabsf(f[i]) > mx) mx = fabsf(f[i]);
        x[i] = f[i];
    }
    TEST_CHECK(finite, "normal_fill finite");
    TEST_CHECK(mx <= 5.78f * sigma && mx > 4.0f * sigma, "normal_fill max |x| %g", mx);
    check_normal("rng_normal_fill", x, NS, sigma);

    /* both halves of a block (cos and sin outputs) are N(0,1) and
     * uncorrelated with each other: corr se = 1/sqrt(n) */
    {
        size_t n = 0;
        double sab = 0, saa = 0, sbb = 0;
        for (size_t blk = 0; blk + 512 <= NS; blk += 512)
            for (size_t i = 0; i < 256; i++) {
                double a = f[blk + i], b = f[blk + 256 + i];
                sab += a * b;
                saa += a * a;
                sbb += b * b;
                n++;
            }
        double corr = sab / sqrt(saa * sbb);
        TEST_CHECK(fabs(corr) < 5 / sqrt((double)n), "cos/sin corr %g", corr);
    }

    /* reproducible, independent of how the request is split across calls
     * only in whole blocks; an odd length works and leaves the rest alone */
    Rng r1, r2;
    rng_seed(&r1, 9, RNG_EVAL_NOISE);
    r2 = r1;
    float *g = malloc(1031 * sizeof *g), *h = malloc(1031 * sizeof *h);
    TEST_CHECK(g && h, "alloc");
    if (g && h) {
        h[1030] = 12345.0f;
        rng_normal_fill(&r1, g, 1031, 1.0f);
        rng_normal_fill(&r2, h, 1030, 1.0f);
        TEST_CHECK(memcmp(g, h, 1030 * sizeof *g) == 0, "prefix reproducible");
        TEST_CHECK(h[1030] == 12345.0f, "no write past n");
        rng_normal_fill(&r2, h, 0, 1.0f);
        rng_normal_fill(&r1, g, 1, 0.0f);
        TEST_CHECK(g[0] == 0.0f, "sigma 0 gives 0");
    }
    free(g);
    free(h);
    free(f);
}

/* rng_normal_fill against Box-Muller in double from the same random bits
 * (layout of rng.h / rng.c: per block of 512 outputs, 256 words; word j
 * gives a = bits 40..63, b = bits 16..39; radius sqrt(-2 ln((a+1) 2^-24)),
 * angle (b >> 22) pi/2 + ((b & (2^22-1)) + 1/2) 2^-22 pi/2 - pi/4;
 * outputs j = r cos, 256 + j = r sin).  The polynomials promise 1e-6
 * relative; allow 2e-6 of the radius. */
static void test_normal_fill_exact(void)
{
    Rng r, copy;
    rng_seed(&r, 13, RNG_TRAIN_NOISE);
    copy = r;
    float x[1024];
    rng_normal_fill(&r, x, 1024, 1.0f);
    double maxerr = 0;
    for (int blk = 0; blk < 2; blk++)
        for (int j = 0; j < 256; j++) {
            uint64_t w = rng_u64(&copy);
            double a = (double)(w >> 40), b = (double)((w >> 16) & 0xFFFFFF);
            double rad = sqrt(-2 * log((a + 1) * 0x1.0p-24));
            double q = floor(b / 0x1.0p22), f = b - q * 0x1.0p22;
            double th = q * M_PI / 2 + ((f + 0.5) * 0x1.0p-22 - 0.5) * M_PI / 2;
            double e1 = fabs(x[blk * 512 + j] - rad * cos(th)), e2 = fabs(x[blk * 512 + 256 + j] - rad * sin(th));
            double e = fmax(e1, e2) / fmax(rad, 1e-3);
            if (e > maxerr) maxerr = e;
        }
    printf("rng_normal_fill: max error vs double Box-Muller %.2g (relative to the radius)\n", maxerr);
    TEST_CHECK(maxerr < 2e-6, "normal_fill error %g", maxerr);
}

/* rng_normal_fill's two builds (model/simd.h: baseline and AVX2 + FMA)
 * give the same bits and leave the stream in the same state: lengths
 * inside a block, across blocks and odd, several sigmas and seeds. */
static void test_normal_fill_builds(void)
{
    if (simd_select(-1) != 1) {
        printf("test_rng: builds compared: SKIPPED (this CPU runs only the baseline build)\n");
        return;
    }
    const size_t lens[] = {1, 255, 256, 257, 512, 1031, 512 * 40 + 7, 200 * 20 * 128};
    const float sigmas[] = {1.0f, 0.05f, 0.37f, 2.5f};
    const size_t nmax = 200 * 20 * 128;
    float *x0 = malloc(nmax * sizeof *x0), *x1 = malloc(nmax * sizeof *x1);
    TEST_CHECK(x0 && x1, "alloc");
    int bad = 0;
    for (int seed = 0; x0 && x1 && seed < 3; seed++)
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
            for (size_t si = 0; si < sizeof sigmas / sizeof sigmas[0]; si++) {
                Rng r0, r1;
                rng_seed(&r0, (uint64_t)seed, RNG_TRAIN_NOISE);
                r1 = r0;
                simd_select(0);
                rng_normal_fill(&r0, x0, lens[li], sigmas[si]);
                simd_select(1);
                rng_normal_fill(&r1, x1, lens[li], sigmas[si]);
                size_t i = 0;
                while (i < lens[li] && memcmp(&x0[i], &x1[i], sizeof *x0) == 0) i++;
                if (i < lens[li] || memcmp(&r0, &r1, sizeof r0) != 0) {
                    if (bad++ < 3)
                        printf("  seed %d n %zu sigma %g: builds differ at %zu (%.9g vs %.9g)\n", seed, lens[li],
                               sigmas[si], i, i < lens[li] ? x0[i] : 0.0, i < lens[li] ? x1[i] : 0.0);
                }
            }
    simd_select(1);
    TEST_CHECK(bad == 0, "normal_fill: the baseline and AVX2 + FMA builds differ in %d cases", bad);
    free(x0);
    free(x1);
}

/* NoiseDraw gives rng_normal_fill's (B, T, N) step by step, bit for bit,
 * and leaves the stream where the fill leaves it: rows inside one block,
 * rows across blocks, trajectories that start inside a block (T N not a
 * multiple of 512), rows longer than a block; a second batch from the
 * same NoiseDraw. */
static void test_noisedraw(void)
{
    const int shapes[][3] = {{1, 1, 1}, {3, 7, 1}, {200, 20, 128}, {13, 5, 100}, {4, 3, 512},
                             {5, 2, 700}, {7, 40, 64}, {2, 9, 1031}, {37, 60, 100}};
    NoiseDraw d;
    TEST_CHECK(noisedraw_alloc(&d, 200, 1) == 0, "alloc");
    noisedraw_free(&d);
    TEST_CHECK(noisedraw_alloc(&d, 0, 5) == -1 && d.blk == NULL, "Bmax 0 refused");
    int bad = 0;
    for (size_t c = 0; c < sizeof shapes / sizeof shapes[0]; c++) {
        const int B = shapes[c][0], T = shapes[c][1], N = shapes[c][2];
        const size_t n = (size_t)B * T * N;
        float *x = malloc(n * sizeof *x), *row = malloc((size_t)B * N * sizeof *row);
        if (!x || !row || noisedraw_alloc(&d, B, N) != 0) {
            TEST_CHECK(0, "alloc");
            free(x);
            free(row);
            continue;
        }
        for (int rep = 0; rep < 2; rep++) { /* rep 1: the streams after rep 0, the same NoiseDraw */
            Rng r0, r1;
            rng_seed(&r0, 21 + c, RNG_EVAL_NOISE);
            for (int k = 0; k < rep; k++) rng_normal_fill(&r0, x, n, 0.5f);
            r1 = r0;
            const float sigma = rep ? 0.05f : 1.0f;
            rng_normal_fill(&r0, x, n, sigma);
            noisedraw_start(&d, &r1, B, T, sigma);
            int diff = memcmp(&r0, &r1, sizeof r0) != 0;
            for (int t = 1; t <= T; t++) {
                noisedraw_step(&d, t, row);
                for (int b = 0; b < B; b++)
                    diff |= memcmp(row + (size_t)b * N, x + ((size_t)b * T + (t - 1)) * N, (size_t)N * sizeof *row);
            }
            if (diff && bad++ < 3) printf("  noisedraw differs: B %d T %d N %d, batch %d\n", B, T, N, rep);
        }
        noisedraw_free(&d);
        free(x);
        free(row);
    }
    TEST_CHECK(bad == 0, "noisedraw: %d shapes differ from rng_normal_fill", bad);
}

static void test_rayleigh(double *x)
{
    Rng r;
    rng_seed(&r, 4, RNG_SAMPLE);
    const double s = 0.8168140899333463;
    for (size_t i = 0; i < NS; i++) x[i] = rng_rayleigh(&r, s);
    Moments m = moments(x, NS);
    /* Rayleigh(s): mean s sqrt(pi/2), var (4 - pi)/2 s^2 */
    double mean = s * sqrt(M_PI / 2), var = (4 - M_PI) / 2 * s * s;
    double se = sqrt(var / NS);
    TEST_CHECK(fabs(m.mean - mean) < 5 * se, "rayleigh mean %g vs %g", m.mean, mean);
    TEST_CHECK(fabs(m.var / var - 1) < 0.01, "rayleigh var %g vs %g", m.var, var);
    /* P(X > s) = exp(-1/2) */
    size_t c = 0;
    for (size_t i = 0; i < NS; i++) c += x[i] > s;
    double p = exp(-0.5);
    TEST_CHECK(fabs((double)c / NS - p) < 5 * sqrt(p * (1 - p) / NS), "rayleigh tail %g", (double)c / NS);
}

/* The fields and their transforms (the trajectories' draws, traj.c):
 * rng_fields splits the words as rng_u64 gives them; rng_fields_normal of
 * those fields is rng_normal_block of the same words (sigma 1); the
 * Rayleigh radius of field a is the norm of that pair (to float rounding);
 * Rayleigh(1)'s moments and tail on 1e6 draws; and the baseline and AVX2
 * builds give the same bits for lengths that are not multiples of the
 * vector width. */
static void test_fields(double *x)
{
    enum { K = RNG_NORMAL_BLOCK / 2 };
    int32_t a[K], b[K];
    float c[K], s[K], rad[K], blk[2 * K];
    Rng r0, r1, r2;
    rng_seed(&r0, 9, RNG_SAMPLE);
    r1 = r2 = r0;
    rng_fields(&r0, a, b, K);
    int bad = 0;
    for (int j = 0; j < K; j++) {
        uint64_t w = rng_u64(&r1);
        bad += a[j] != (int32_t)(w >> 40) || b[j] != (int32_t)((w >> 16) & 0xFFFFFFu);
    }
    TEST_CHECK(bad == 0 && memcmp(&r0, &r1, sizeof r0) == 0, "rng_fields: %d words split otherwise", bad);
    rng_normal_block(&r2, blk, 1.0f);
    rng_fields_normal(a, b, c, s, K);
    TEST_CHECK(memcmp(c, blk, sizeof c) == 0 && memcmp(s, blk + K, sizeof s) == 0,
               "rng_fields_normal is rng_normal_block of the same words");
    rng_fields_rayleigh(a, rad, K);
    double worst = 0;
    for (int j = 0; j < K; j++) {
        double h = hypot((double)c[j], (double)s[j]), e = fabs(rad[j] - h) / (h > 1e-3 ? h : 1e-3);
        worst = e > worst ? e : worst;
    }
    TEST_CHECK(worst < 2e-6, "Rayleigh radius vs |(c, s)|: worst relative %g", worst);
    /* Rayleigh(1): mean sqrt(pi/2), var (4 - pi)/2, P(X > 1) = exp(-1/2), max 5.77 */
    enum { CH = 4096 };
    int32_t fa[CH], fb[CH];
    float fr[CH];
    Rng r;
    rng_seed(&r, 10, RNG_SAMPLE);
    double mx = 0;
    for (size_t i = 0; i < NS; i += CH) {
        size_t n = NS - i < CH ? NS - i : CH;
        rng_fields(&r, fa, fb, n);
        rng_fields_rayleigh(fa, fr, n);
        for (size_t j = 0; j < n; j++) {
            x[i + j] = fr[j];
            mx = fr[j] > mx ? fr[j] : mx;
        }
    }
    Moments m = moments(x, NS);
    double mean = sqrt(M_PI / 2), var = (4 - M_PI) / 2;
    TEST_CHECK(fabs(m.mean - mean) < 5 * sqrt(var / NS), "fields rayleigh mean %g vs %g", m.mean, mean);
    TEST_CHECK(fabs(m.var / var - 1) < 0.01, "fields rayleigh var %g vs %g", m.var, var);
    size_t cnt = 0;
    for (size_t i = 0; i < NS; i++) cnt += x[i] > 1.0;
    double p = exp(-0.5);
    TEST_CHECK(fabs((double)cnt / NS - p) < 5 * sqrt(p * (1 - p) / NS), "fields rayleigh tail %g", (double)cnt / NS);
    TEST_CHECK(mx <= 5.78, "fields rayleigh max %g", mx);
    if (simd_select(-1) != 1) {
        printf("test_rng: fields' builds compared: SKIPPED (this CPU runs only the baseline build)\n");
        return;
    }
    const size_t lens[] = {1, 3, 7, 37, 255, 256};
    int diff = 0;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        float c0[K], s0[K], r0v[K], c1[K], s1[K], r1v[K];
        size_t n = lens[li];
        simd_select(0);
        rng_fields_normal(a, b, c0, s0, n);
        rng_fields_rayleigh(b, r0v, n);
        simd_select(1);
        rng_fields_normal(a, b, c1, s1, n);
        rng_fields_rayleigh(b, r1v, n);
        diff += memcmp(c0, c1, n * sizeof *c0) != 0 || memcmp(s0, s1, n * sizeof *s0) != 0 ||
                memcmp(r0v, r1v, n * sizeof *r0v) != 0;
    }
    TEST_CHECK(diff == 0, "fields: the baseline and AVX2 + FMA builds differ for %d lengths", diff);
}

int main(void)
{
    double *x = malloc(NS * sizeof *x);
    if (!x) return 1;
    test_known_outputs();
    test_streams();
    test_uniform(x);
    test_normal(x);
    test_normal_fill(x);
    test_normal_fill_exact();
    test_normal_fill_builds();
    test_noisedraw();
    test_rayleigh(x);
    test_fields(x);
    free(x);
    return test_summary("test_rng");
}
