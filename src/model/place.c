/* place.c -- place-cell target codes (Gaussian, DoG, Cartesian) and top-k
 * decoding.
 *
 * Legend: P place cells, D output width (P, or 2 for cartesian), n
 * positions, k decode_k, L = PLACE_BLOCK lanes of a vectorised block.
 *
 * Codes after Sorscher et al. 2019 (place_cells.py, read for the
 * conventions): Gaussian softmax over -|x - c|^2 / (2 sigma^2); DoG as the
 * difference of two such softmaxes with sigma2^2 = surround_scale sigma^2,
 * shifted by |min| and renormalised.
 *
 * Precision (docs/performance.md, "Target precision"): the squared
 * distances, their minimum and the normalising sums are double; the
 * exponentials and the codes are float (place_expf below, max relative
 * error 1e-7 against libm's double exp, tests/test_place.c).  The codes
 * differ from the all-double computation (libm exp) by at most
 * 1e-6 * code + 1e-9, the tolerance test_place.c asserts.
 */
#include "model/place.h"

#include "model/fastexp.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* exp_all (the bulk of the codes' time) and place_expf_fill are compiled
 * twice on x86-64 with GCC: for the baseline (SSE2, 4 floats a vector) and for AVX2 (8), chosen
 * at load time by the CPU (ifunc).  The two give the same bits: the loop
 * is element-wise, and AVX2 without FMA (not enabled by "avx2") rounds
 * every operation as SSE2 does (test_place: vector and scalar paths
 * agree, and the codes' tolerance holds on either). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define PLACE_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PLACE_CLONES
#endif

/* exp(x) for x <= 0 in float, vectorisable at -O2 (the Makefile gives
 * place.o GCC's dynamic cost model, as rnn.o, so the selects vectorise):
 * model/fastexp.h's, and 0 below -64 (exp(-64) = 1.6e-28; the double code
 * gave at most that, an absolute difference far below the codes' tolerance
 * 1e-9; the cut keeps every product of the normalisation, e * (1 / sum) >=
 * 1.6e-28 / 65536, out of the denormal range, whose arithmetic costs ~100
 * cycles a result on x86).  Measured max relative error against double exp
 * over [-64, 0]: 9.8e-8 (test_place.c checks < 2e-7 on 2^20 points). */
static inline float place_expf(float x)
{
    /* the zero on the bits (a float select does not vectorise at -O2: it
     * may trap): for x <= 0 a larger magnitude is a larger unsigned
     * pattern; 0xC2800000 is -64.0f, +0 is below it */
    uint32_t xb;
    memcpy(&xb, &x, sizeof xb);
    uint32_t keep = xb > 0xC2800000u ? 0u : 0xFFFFFFFFu;
    float y = fastexp_neg(x);
    uint32_t yb;
    memcpy(&yb, &y, sizeof yb);
    yb &= keep;
    memcpy(&y, &yb, sizeof y);
    return y;
}

PLACE_CLONES void place_expf_fill(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = place_expf(x[i]);
}

enum { PLACE_BLOCK = 16 };  /* L: cells per vectorised block */



/* The loops over cells run in blocks of PLACE_BLOCK with a constant trip
 * count and restrict pointers, which GCC vectorises at -O2; the tail of P
 * runs the same expression scalar (same operations, same bits). */

/* d2[i] = (x - cx[i])^2 + (y - cy[i])^2, double: x - cx[i] of two floats
 * is exact in double, so d2 carries one rounding. */
static void d2_block(const float *restrict cx, const float *restrict cy, double x, double y,
                     double *restrict d2)
{
    for (int i = 0; i < PLACE_BLOCK; i++) {
        double dx = x - (double)cx[i], dy = y - (double)cy[i];
        d2[i] = dx * dx + dy * dy;
    }
}

/* e[i] = exp(g * (d2[i] - m)): the argument in double, rounded to float
 * once, then place_expf. */
static void exp_block(const double *restrict d2, double m, double g, float *restrict e)
{
    for (int i = 0; i < PLACE_BLOCK; i++) e[i] = place_expf((float)(g * (d2[i] - m)));
}

static void d2_all(const float *cx, const float *cy, double x, double y, double *d2, int P)
{
    int i = 0;
    for (; i + PLACE_BLOCK <= P; i += PLACE_BLOCK) d2_block(cx + i, cy + i, x, y, d2 + i);
    for (; i < P; i++) {
        double dx = x - (double)cx[i], dy = y - (double)cy[i];
        d2[i] = dx * dx + dy * dy;
    }
}

PLACE_CLONES static void exp_all(const double *d2, double m, double g, float *e, int P)
{
    int i = 0;
    for (; i + PLACE_BLOCK <= P; i += PLACE_BLOCK) exp_block(d2 + i, m, g, e + i);
    for (; i < P; i++) e[i] = place_expf((float)(g * (d2[i] - m)));
}

/* Sum in double with four partial sums (breaks the add latency chain). */
static double sum_all(const float *v, int P)
{
    double s[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= P; i += 4)
        for (int l = 0; l < 4; l++) s[l] += (double)v[i + l];
    for (; i < P; i++) s[0] += (double)v[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Minimum of v (P); exact, so the order of the comparisons does not
 * matter: SSE2 minpd / minps over four vectors of lanes, scalar elsewhere
 * and for the tail (GCC does not vectorise a float min reduction without
 * -ffinite-math-only; a scalar chain costs minsd's latency per cell).
 * No NaN reaches these (finite positions and centres). */
static double min_all_d(const double *v, int P)
{
    double m = INFINITY;
    int i = 0;
#ifdef __SSE2__
    if (P >= 8) {
        __m128d a = _mm_loadu_pd(v), b = _mm_loadu_pd(v + 2), c = _mm_loadu_pd(v + 4), d = _mm_loadu_pd(v + 6);
        for (i = 8; i + 8 <= P; i += 8) {
            a = _mm_min_pd(a, _mm_loadu_pd(v + i));
            b = _mm_min_pd(b, _mm_loadu_pd(v + i + 2));
            c = _mm_min_pd(c, _mm_loadu_pd(v + i + 4));
            d = _mm_min_pd(d, _mm_loadu_pd(v + i + 6));
        }
        double l[2];
        _mm_storeu_pd(l, _mm_min_pd(_mm_min_pd(a, b), _mm_min_pd(c, d)));
        m = l[0] < l[1] ? l[0] : l[1];
    }
#endif
    for (; i < P; i++) m = v[i] < m ? v[i] : m;
    return m;
}

static float min_all_f(const float *v, int P)
{
    float m = INFINITY;
    int i = 0;
#ifdef __SSE2__
    if (P >= 16) {
        __m128 a = _mm_loadu_ps(v), b = _mm_loadu_ps(v + 4), c = _mm_loadu_ps(v + 8), d = _mm_loadu_ps(v + 12);
        for (i = 16; i + 16 <= P; i += 16) {
            a = _mm_min_ps(a, _mm_loadu_ps(v + i));
            b = _mm_min_ps(b, _mm_loadu_ps(v + i + 4));
            c = _mm_min_ps(c, _mm_loadu_ps(v + i + 8));
            d = _mm_min_ps(d, _mm_loadu_ps(v + i + 12));
        }
        float l[4];
        _mm_storeu_ps(l, _mm_min_ps(_mm_min_ps(a, b), _mm_min_ps(c, d)));
        for (int k = 0; k < 4; k++) m = l[k] < m ? l[k] : m;
    }
#endif
    for (; i < P; i++) m = v[i] < m ? v[i] : m;
    return m;
}

int place_init(PlaceCells *pc, const TaskConfig *cfg, const Arena *a, Rng *r)
{
    *pc = (PlaceCells){0};
    pc->target = cfg->target;
    pc->sigma = cfg->place_sigma;
    pc->surround = cfg->surround_scale;
    if (cfg->target == TARGET_CARTESIAN) {
        pc->dim = 2;
        return 0;
    }
    if (cfg->target != TARGET_GAUSSIAN && cfg->target != TARGET_DOG) goto fail;
    if (cfg->n_place < 1 || !(cfg->place_sigma > 0)) goto fail;
    /* surround_scale = 1 makes the DoG identically zero */
    if (cfg->target == TARGET_DOG && !(cfg->surround_scale > 1)) goto fail;
    pc->P = cfg->n_place;
    pc->dim = pc->P;
    pc->k = cfg->decode_k < 1 ? 1 : cfg->decode_k > pc->P ? pc->P : cfg->decode_k;
    pc->centres = malloc((size_t)pc->P * 2 * sizeof *pc->centres);
    pc->work = malloc((size_t)pc->P * 4 * sizeof *pc->work);
    pc->d2 = malloc((size_t)pc->P * sizeof *pc->d2);
    pc->top = malloc((size_t)pc->P * sizeof *pc->top);
    if (!pc->centres || !pc->work || !pc->d2 || !pc->top) goto fail;
    for (int i = 0; i < pc->P; i++) {
        double x, y;
        arena_sample(a, r, &x, &y);
        pc->centres[2 * i] = (float)x;
        pc->centres[2 * i + 1] = (float)y;
        pc->work[i] = pc->centres[2 * i];              /* cx */
        pc->work[pc->P + i] = pc->centres[2 * i + 1];  /* cy */
    }
    return 0;
fail:
    place_free(pc);
    return -1;
}

void place_free(PlaceCells *pc)
{
    free(pc->centres);
    free(pc->work);
    free(pc->d2);
    free(pc->top);
    *pc = (PlaceCells){0};
}

int place_dim(const PlaceCells *pc)
{
    return pc->dim;
}

/* One position (x, y) -> code (P).  Distances and sums in double, the
 * exponentials and the code in float:
 *   d2_i = |x - c_i|^2, m = min_i d2_i
 *   e1_i = exp(-(d2_i - m) / (2 sigma^2)),  p1 = e1 / sum(e1)   (stable softmax)
 * gaussian: code = p1
 * dog:      e2_i = exp(-(d2_i - m) / (2 s sigma^2)), p2 = e2 / sum(e2)
 *           q = p1 - p2;  q -= min(q) (= + |min|, as sum(q) = 0);  code = q / sum(q) */
static void encode_one(const PlaceCells *pc, double x, double y, float *code)
{
    const int P = pc->P;
    const float *cx = pc->work, *cy = pc->work + P; /* (P), (P) */
    float *e1 = pc->work + 2 * (size_t)P;          /* (P) */
    float *e2 = pc->work + 3 * (size_t)P;          /* (P) */
    double *d2 = pc->d2;                            /* (P) */
    d2_all(cx, cy, x, y, d2, P);
    double m = min_all_d(d2, P);
    double g1 = -1.0 / (2 * pc->sigma * pc->sigma);
    if (pc->target == TARGET_GAUSSIAN) {
        exp_all(d2, m, g1, e1, P);
        float inv = (float)(1.0 / sum_all(e1, P));
        for (int i = 0; i < P; i++) code[i] = e1[i] * inv;
        return;
    }
    double g2 = g1 / pc->surround;
    exp_all(d2, m, g2, e2, P);
    exp_all(d2, m, g1, e1, P);
    float inv1 = (float)(1.0 / sum_all(e1, P)), inv2 = (float)(1.0 / sum_all(e2, P));
    for (int i = 0; i < P; i++) e1[i] = e1[i] * inv1 - e2[i] * inv2;
    float qmin = min_all_f(e1, P);
    for (int i = 0; i < P; i++) e1[i] -= qmin;
    double sq = sum_all(e1, P);
    /* sq = 0 only when every q_i is equal (P = 1): the uniform code */
    if (sq > 0) {
        float inv = (float)(1.0 / sq);
        for (int i = 0; i < P; i++) code[i] = e1[i] * inv;
    } else {
        for (int i = 0; i < P; i++) code[i] = (float)(1.0 / P);
    }
}

void place_encode(const PlaceCells *pc, const float *pos, size_t n, float *code)
{
    if (pc->target == TARGET_CARTESIAN) {
        memcpy(code, pos, n * 2 * sizeof *code);
        return;
    }
    for (size_t j = 0; j < n; j++) encode_one(pc, pos[2 * j], pos[2 * j + 1], code + j * (size_t)pc->P);
}

/* Order for top-k: larger value first, NaN as -inf, ties to the lower
 * index, so the selected set is well defined. */
static inline double key(const float *o, int i)
{
    return isnan(o[i]) ? -INFINITY : (double)o[i];
}
static inline int before(const float *o, int i, int j)
{
    double a = key(o, i), b = key(o, j);
    return a > b || (a == b && i < j);
}

/* Put the k first cells (in the order above) into idx[0..k) (any order):
 * insertion into a sorted list for small k (O(P k)), Hoare quickselect
 * otherwise (O(P) expected). */
static void select_top(const float *o, int P, int k, int *idx)
{
    if (k <= 16) {
        int m = 0;
        for (int i = 0; i < P; i++) {
            if (m == k && !before(o, i, idx[k - 1])) continue;
            int j = m < k ? m++ : k - 1;
            while (j > 0 && before(o, i, idx[j - 1])) {
                idx[j] = idx[j - 1];
                j--;
            }
            idx[j] = i;
        }
        return;
    }
    for (int i = 0; i < P; i++) idx[i] = i;
    int lo = 0, hi = P - 1;
    while (lo < hi) {
        int piv = idx[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (before(o, idx[i], piv)) i++;
            while (before(o, piv, idx[j])) j--;
            if (i <= j) {
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
                i++;
                j--;
            }
        }
        /* now idx[lo..j] come before or equal piv, idx[i..hi] after */
        if (k - 1 <= j)
            hi = j;
        else if (k - 1 >= i)
            lo = i;
        else
            break;
    }
}

void place_decode(const PlaceCells *pc, const float *out, size_t n, float *pos)
{
    if (pc->target == TARGET_CARTESIAN) {
        memcpy(pos, out, n * 2 * sizeof *pos);
        return;
    }
    const int P = pc->P, k = pc->k;
    for (size_t j = 0; j < n; j++) {
        select_top(out + j * (size_t)P, P, k, pc->top);
        /* position = mean of the k centres */
        double sx = 0, sy = 0;
        for (int i = 0; i < k; i++) {
            sx += pc->centres[2 * pc->top[i]];
            sy += pc->centres[2 * pc->top[i] + 1];
        }
        pos[2 * j] = (float)(sx / k);
        pos[2 * j + 1] = (float)(sy / k);
    }
}
