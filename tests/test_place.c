/* test_place.c -- place-cell codes (Gaussian, DoG, Cartesian) and top-k
 * decoding.
 *
 * Legend: P place cells, n positions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/arena.h"
#include "base/config.h"
#include "model/place.h"
#include "model/simd.h"
#include "model/rng.h"
#include "testlib.h"

/* Index of the j-th nearest centre (j = 0 nearest) by brute force. */
static void nearest(const PlaceCells *pc, double x, double y, int k, int *idx)
{
    for (int j = 0; j < k; j++) {
        double best = INFINITY;
        int bi = -1;
        for (int i = 0; i < pc->P; i++) {
            int used = 0;
            for (int m = 0; m < j; m++) used |= idx[m] == i;
            double dx = x - pc->centres[2 * i], dy = y - pc->centres[2 * i + 1];
            double d2 = dx * dx + dy * dy;
            if (!used && d2 < best) {
                best = d2;
                bi = i;
            }
        }
        idx[j] = bi;
    }
}

/* The formula of the spec, written out naively in double (no shift by
 * the maximum: exponents stay above -710 in these arenas):
 *   g_i(s) = exp(-|x - c_i|^2 / (2 s^2)) / sum_j exp(...)
 *   gaussian: g(sigma);  dog: q = g(sigma) - g(sigma sqrt(surround)),
 *   code = (q - min q) / sum(q - min q). */
static void formula(const PlaceCells *pc, double x, double y, double *ref)
{
    const int P = pc->P;
    double s1 = pc->sigma, s2 = pc->sigma * sqrt(pc->surround), z1 = 0, z2 = 0;
    for (int i = 0; i < P; i++) {
        double dx = x - pc->centres[2 * i], dy = y - pc->centres[2 * i + 1];
        z1 += exp(-(dx * dx + dy * dy) / (2 * s1 * s1));
        z2 += exp(-(dx * dx + dy * dy) / (2 * s2 * s2));
    }
    double qmin = INFINITY;
    for (int i = 0; i < P; i++) {
        double dx = x - pc->centres[2 * i], dy = y - pc->centres[2 * i + 1];
        double g1 = exp(-(dx * dx + dy * dy) / (2 * s1 * s1)) / z1;
        double g2 = exp(-(dx * dx + dy * dy) / (2 * s2 * s2)) / z2;
        ref[i] = pc->target == TARGET_DOG ? g1 - g2 : g1;
        if (ref[i] < qmin) qmin = ref[i];
    }
    if (pc->target != TARGET_DOG) return;
    double sum = 0;
    for (int i = 0; i < P; i++) sum += ref[i] - qmin;
    for (int i = 0; i < P; i++) ref[i] = (ref[i] - qmin) / sum;
}

/* One target in one arena; P = 0 and surround = 0 keep the defaults (512
 * cells, surround 2).  P not a multiple of 8 runs place.c's scalar tails;
 * surround 2 takes its squared path for the DoG (e1 = e2^2), any other
 * value the general one (two exponentials). */
static void test_codes(int target, int shape, int P_cells, double surround)
{
    char name[64];
    TaskConfig cfg;
    config_defaults(&cfg);
    cfg.target = target;
    cfg.arena = shape;
    if (P_cells > 0) cfg.n_place = P_cells;
    if (surround > 0) cfg.surround_scale = surround;
    if (target == TARGET_DOG)
        snprintf(name, sizeof name, "%s (%s, P %d, surround %g)", config_enum_TARGET[target], config_enum_ARENA[shape],
                 cfg.n_place, cfg.surround_scale);
    else
        snprintf(name, sizeof name, "%s (%s, P %d)", config_enum_TARGET[target], config_enum_ARENA[shape], cfg.n_place);
    Arena a;
    PlaceCells pc;
    Rng r;
    TEST_CHECK(arena_init(&a, &cfg) == 0, "arena");
    rng_seed(&r, 5, RNG_PLACE);
    if (place_init(&pc, &cfg, &a, &r) != 0) {
        TEST_CHECK(0, "%s: place_init", name);
        return;
    }
    const int P = pc.P, n = 500;
    TEST_CHECK(P == cfg.n_place && place_dim(&pc) == P && pc.k == cfg.decode_k, "%s sizes", name);
    int inside = 1;
    for (int i = 0; i < P; i++) inside &= arena_contains(&a, pc.centres[2 * i], pc.centres[2 * i + 1]);
    TEST_CHECK(inside, "%s: centres inside the arena", name);

    double *ref = NULL;
    float *pos = malloc((size_t)n * 2 * sizeof *pos);
    float *code = malloc((size_t)n * P * sizeof *code);
    float *dec = malloc((size_t)n * 2 * sizeof *dec);
    ref = malloc((size_t)P * sizeof *ref);
    if (!pos || !code || !dec || !ref) {
        TEST_CHECK(0, "alloc");
        goto done;
    }
    for (int j = 0; j < n; j++) {
        double x, y;
        arena_sample(&a, &r, &x, &y);
        pos[2 * j] = (float)x;
        pos[2 * j + 1] = (float)y;
    }
    place_encode(&pc, pos, n, code);
    place_decode(&pc, code, n, dec);
    /* the baseline and the AVX2 + FMA builds give the same bits */
    if (simd_select(-1) == 1) {
        float *code0 = malloc((size_t)n * P * sizeof *code0);
        TEST_CHECK(code0 != NULL, "alloc");
        if (code0) {
            simd_select(0);
            place_encode(&pc, pos, n, code0);
            simd_select(1);
            TEST_CHECK(memcmp(code0, code, (size_t)n * P * sizeof *code) == 0,
                       "%s: the AVX2 + FMA and baseline builds differ", name);
            free(code0);
        }
    }

    int sum_bad = 0, peak_bad = 0, nonneg_bad = 0, min_bad = 0, top_bad = 0, ref_bad = 0;
    double err = 0, maxref = 0, worst = 0; /* worst: max |code - formula| / tolerance */
    for (int j = 0; j < n; j++) {
        const float *c = code + (size_t)j * P;
        double x = pos[2 * j], y = pos[2 * j + 1];
        double s = 0, mn = INFINITY;
        int am = 0;
        for (int i = 0; i < P; i++) {
            s += c[i];
            if (c[i] < mn) mn = c[i];
            if (c[i] > c[am]) am = i;
        }
        sum_bad += fabs(s - 1) > 1e-5;
        nonneg_bad += mn < 0;
        /* DoG: shifted so that the smallest cell is exactly 0 */
        if (target == TARGET_DOG) min_bad += mn != 0;
        int idx[3];
        nearest(&pc, x, y, 3, idx);
        peak_bad += am != idx[0];
        /* decoding the exact code returns the mean of the 3 nearest
         * centres: both codes decrease with distance out to the 3rd
         * nearest centre (DoG: up to d = 2 sigma sqrt(ln 4) for
         * surround 2, sigma sqrt(3 ln 9) for 3, far beyond the 3rd
         * neighbour at P = 500 or 512) */
        double mx = 0, my = 0;
        for (int m = 0; m < 3; m++) {
            mx += pc.centres[2 * idx[m]] / 3.0;
            my += pc.centres[2 * idx[m] + 1] / 3.0;
        }
        top_bad += fabs(dec[2 * j] - mx) > 1e-6 || fabs(dec[2 * j + 1] - my) > 1e-6;
        err += hypot(dec[2 * j] - x, dec[2 * j + 1] - y);
        /* against the formula written out in double with libm's exp,
         * every cell of every position: the float distances, exponentials
         * (2.1e-7 at surround 2) and normalisers, relative 1.5e-6, plus
         * 1.5e-9 absolute for the DoG's cancellation of two near-equal
         * softmaxes and for the exponential's float argument (relative
         * error |x| 1e-7, large only where the code is tiny).  The float
         * code reaches 1.02 of 1e-6 code + 1e-9 here (circle, P 512), the
         * double-distance one before it 0.96; the reference code's float32
         * arithmetic, 1.5 at P 512 (docs/performance.md, "The codes in
         * float"). */
        if (ref) {
            formula(&pc, x, y, ref);
            for (int i = 0; i < P; i++) {
                double e = fabs(c[i] - ref[i]), tol = 1.5e-6 * ref[i] + 1.5e-9;
                if (e > maxref) maxref = e;
                if (e / tol > worst) worst = e / tol;
                ref_bad += e > tol;
            }
        }
    }
    err /= n;
    printf("%s: mean decoding error of the exact code %.4f m (sigma %.2f m), max |code - formula| %.2g, "
           "%.2f of the tolerance\n",
           name, err, pc.sigma, maxref, worst);
    TEST_CHECK(sum_bad == 0, "%s: %d codes do not sum to 1", name, sum_bad);
    TEST_CHECK(nonneg_bad == 0, "%s: %d codes negative", name, nonneg_bad);
    TEST_CHECK(min_bad == 0, "%s: %d DoG codes with min != 0", name, min_bad);
    TEST_CHECK(peak_bad == 0, "%s: %d codes peak away from the nearest centre", name, peak_bad);
    TEST_CHECK(top_bad == 0, "%s: %d decodes != mean of the 3 nearest centres", name, top_bad);
    TEST_CHECK(ref_bad == 0, "%s: code differs from the formula by %g", name, maxref);
    /* The error of the exact code is the offset of the mean of the 3
     * nearest centres.  For centres of density rho = P / area, the k-th
     * nearest lies at E d_k^2 = k / (pi rho); with roughly independent
     * directions |mean| ~ sqrt(sum_k E d_k^2) / 3 = sqrt(6 / (pi rho)) / 3
     * (4.5 cm in the default square, well under sigma = 12 cm).  Allow 30%
     * for the ordering of the neighbours and the walls. */
    double est = sqrt(6 / (M_PI * P / arena_area(&a))) / 3;
    TEST_CHECK(err < 1.3 * est && err < 0.5 * pc.sigma, "%s: mean error %g m, estimate %g m", name, err, est);
done:
    free(ref);
    free(pos);
    free(code);
    free(dec);
    place_free(&pc);
    TEST_CHECK(pc.centres == NULL && pc.work == NULL, "free clears");
}

/* place_expf (through place_expf_fill) against libm's double exp: max
 * relative error over 2^20 points spread over [-64, 0] plus the endpoints
 * and a tiny argument, and exactly 0 below the cut at -64. */
static void test_expf(void)
{
    const size_t n = (size_t)1 << 20;
    float *x = malloc((n + 8) * sizeof *x), *y = malloc((n + 8) * sizeof *y);
    if (!x || !y) {
        TEST_CHECK(0, "alloc");
        free(x);
        free(y);
        return;
    }
    for (size_t i = 0; i < n; i++) x[i] = (float)(-64.0 * (double)i / (double)(n - 1));
    x[n] = -0.0f;
    x[n + 1] = 0.0f;
    x[n + 2] = -1e-30f;
    x[n + 3] = -64.0f;
    x[n + 4] = -64.0001f;
    x[n + 5] = -100.0f;
    x[n + 6] = -1e30f;
    x[n + 7] = -INFINITY;
    place_expf_fill(x, y, n + 8);
    double worst = 0, at = 0;
    for (size_t i = 0; i < n + 4; i++) {
        double e = exp((double)x[i]), rel = fabs((double)y[i] - e) / e;
        if (rel > worst) {
            worst = rel;
            at = x[i];
        }
    }
    printf("place_expf: max relative error %.3g (at x = %.6g) over [-64, 0]\n", worst, at);
    TEST_CHECK(worst < 2e-7, "place_expf: relative error %g > 2e-7 at %g", worst, at);
    TEST_CHECK(y[n] == 1.0f && y[n + 1] == 1.0f && y[n + 2] == 1.0f, "place_expf(0) = 1");
    TEST_CHECK(y[n + 4] == 0.0f && y[n + 5] == 0.0f && y[n + 6] == 0.0f && y[n + 7] == 0.0f,
               "place_expf: 0 below -64");
    /* vectorised blocks and a scalar tail give the same bits */
    float one[1];
    int same = 1;
    for (size_t i = 0; i < n + 8; i += 4099) {
        place_expf_fill(x + i, one, 1);
        same &= memcmp(one, y + i, sizeof one) == 0;
    }
    TEST_CHECK(same, "place_expf: scalar and vector paths agree");
    if (simd_select(-1) == 1) { /* and the baseline build, bit for bit */
        same = 1;
        simd_select(0);
        for (size_t i = 0; i < n + 8; i += 4099) {
            place_expf_fill(x + i, one, 1);
            same &= memcmp(one, y + i, sizeof one) == 0;
        }
        simd_select(1);
        TEST_CHECK(same, "place_expf: the AVX2 + FMA and baseline builds agree");
    }
    free(x);
    free(y);
}

/* Decoding logits: top-k by value for small and large k, against a brute
 * force selection taken in the same order (value descending, index
 * ascending, NaN as -inf), so the decoded means must agree to the bit.
 * Rows: normals rounded to 0.5 (ties), a rising ramp with noise (the bound
 * keeps moving, as in replay), blocks of NaN and -inf, all NaN, all equal;
 * P around the scan's block of 16 cells. */
static void test_topk(void)
{
    const int Ps[] = {1, 3, 15, 16, 17, 33, 256, 300};
    const int ks[] = {1, 2, 3, 16, 17, 50, 300};
    enum { NROW = 24 };
    long bad = 0, rows = 0;
    for (size_t pp = 0; pp < sizeof Ps / sizeof Ps[0]; pp++)
        for (size_t kk = 0; kk < sizeof ks / sizeof ks[0]; kk++) {
            TaskConfig cfg;
            config_defaults(&cfg);
            cfg.n_place = Ps[pp];
            cfg.decode_k = ks[kk];
            Arena a;
            PlaceCells pc;
            Rng r;
            arena_init(&a, &cfg);
            rng_seed(&r, 6 + pp * 10 + kk, RNG_PLACE);
            if (place_init(&pc, &cfg, &a, &r) != 0) {
                TEST_CHECK(0, "place_init");
                return;
            }
            const int P = pc.P, k = pc.k;
            float *out = malloc((size_t)NROW * P * sizeof *out), dec[2 * NROW];
            char *used = calloc((size_t)P, 1);
            if (!out || !used) {
                free(out);
                free(used);
                place_free(&pc);
                TEST_CHECK(0, "alloc");
                return;
            }
            for (int j = 0; j < NROW; j++)
                for (int i = 0; i < P; i++) {
                    float *o = out + (size_t)j * P + i;
                    switch (j % 6) {
                    case 0: *o = (float)(round(8 * rng_normal(&r)) / 2); break;
                    case 1: *o = (float)(0.01 * i + 0.05 * rng_normal(&r)); break;
                    case 2: *o = (i / 16) % 3 == 1 ? NAN : (i / 16) % 3 == 2 ? -INFINITY : (float)rng_normal(&r); break;
                    case 3: *o = rng_uniform(&r) < 0.7 ? NAN : (float)round(rng_normal(&r)); break;
                    case 4: *o = NAN; break;
                    default: *o = 1.5f; break;
                    }
                }
            out[7 % P] = NAN;
            place_decode(&pc, out, NROW, dec);
            for (int j = 0; j < NROW; j++) {
                const float *o = out + (size_t)j * P;
                memset(used, 0, (size_t)P);
                double sx = 0, sy = 0;
                for (int m = 0; m < k; m++) { /* the best unused cell */
                    int bi = -1;
                    for (int i = 0; i < P; i++) {
                        if (used[i]) continue;
                        double vi = isnan(o[i]) ? -INFINITY : o[i];
                        double vb = bi < 0 ? 0 : isnan(o[bi]) ? -INFINITY : o[bi];
                        if (bi < 0 || vi > vb) bi = i;
                    }
                    used[bi] = 1;
                    sx += pc.centres[2 * bi];
                    sy += pc.centres[2 * bi + 1];
                }
                float ex = (float)(sx / k), ey = (float)(sy / k);
                int same = memcmp(&dec[2 * j], &ex, sizeof ex) == 0 && memcmp(&dec[2 * j + 1], &ey, sizeof ey) == 0;
                if (!same && bad < 5)
                    printf("  P %d k %d row %d (kind %d): decoded (%.9g, %.9g), brute force (%.9g, %.9g)\n", P, k,
                           j, j % 6, dec[2 * j], dec[2 * j + 1], ex, ey);
                bad += !same;
                rows++;
            }
            free(used);
            free(out);
            place_free(&pc);
        }
    TEST_CHECK(bad == 0, "top-k decode: %ld of %ld rows differ from brute force", bad, rows);
}

static void test_cartesian_and_errors(void)
{
    TaskConfig cfg;
    config_defaults(&cfg);
    Arena a;
    PlaceCells pc;
    Rng r;
    arena_init(&a, &cfg);
    rng_seed(&r, 7, RNG_PLACE);
    cfg.target = TARGET_CARTESIAN;
    TEST_CHECK(place_init(&pc, &cfg, &a, &r) == 0, "cartesian init");
    TEST_CHECK(place_dim(&pc) == 2 && pc.P == 0 && pc.centres == NULL, "cartesian: D = 2, no cells");
    float pos[6] = {0.1f, -0.2f, 1.0f, 0.5f, -1.05f, 1.09f}, code[6], dec[6];
    place_encode(&pc, pos, 3, code);
    place_decode(&pc, code, 3, dec);
    TEST_CHECK(memcmp(pos, code, sizeof pos) == 0 && memcmp(pos, dec, sizeof pos) == 0, "cartesian identity");
    place_free(&pc);

    cfg.target = TARGET_DOG;
    cfg.surround_scale = 1.0;
    TEST_CHECK(place_init(&pc, &cfg, &a, &r) == -1 && pc.centres == NULL, "DoG with surround 1 refused");
    cfg.target = TARGET_GAUSSIAN;
    cfg.n_place = 0;
    TEST_CHECK(place_init(&pc, &cfg, &a, &r) == -1, "no cells refused");
    cfg.n_place = 4;
    cfg.decode_k = 9;
    TEST_CHECK(place_init(&pc, &cfg, &a, &r) == 0 && pc.k == 4, "k clamped to P");
    place_free(&pc);
    place_free(&pc); /* twice is safe */

    /* same stream, same centres */
    PlaceCells p1, p2;
    Rng r1, r2;
    config_defaults(&cfg);
    rng_seed(&r1, 8, RNG_PLACE);
    r2 = r1;
    TEST_CHECK(place_init(&p1, &cfg, &a, &r1) == 0 && place_init(&p2, &cfg, &a, &r2) == 0, "init");
    TEST_CHECK(p1.centres && p2.centres && memcmp(p1.centres, p2.centres, 2 * p1.P * sizeof(float)) == 0,
               "centres reproducible");
    place_free(&p1);
    place_free(&p2);
}

int main(void)
{
    if (simd_select(-1) != 1) printf("no AVX2 + FMA on this CPU: the baseline build only\n");
    test_codes(TARGET_GAUSSIAN, ARENA_SQUARE, 0, 0);
    test_codes(TARGET_DOG, ARENA_SQUARE, 0, 0);
    test_codes(TARGET_GAUSSIAN, ARENA_TMAZE, 0, 0);
    test_codes(TARGET_DOG, ARENA_CIRCLE, 0, 0);
    /* the DoG's two paths with P = 500 (a tail of 4 after 62 blocks of 8) */
    test_codes(TARGET_DOG, ARENA_TMAZE, 500, 2.0);
    test_codes(TARGET_DOG, ARENA_SQUARE, 500, 3.0);
    test_codes(TARGET_GAUSSIAN, ARENA_CIRCLE, 500, 0);
    test_expf();
    test_topk();
    test_cartesian_and_errors();
    return test_summary("test_place");
}
