/* place.c -- place-cell target codes (Gaussian, DoG, Cartesian) and top-k
 * decoding.
 *
 * Legend: P place cells, D output width (P, or 2 for cartesian), n
 * positions, k decode_k.
 *
 * Codes after Sorscher et al. 2019 (place_cells.py, read for the
 * conventions): Gaussian softmax over -|x - c|^2 / (2 sigma^2); DoG as the
 * difference of two such softmaxes with sigma2^2 = surround_scale sigma^2,
 * shifted by |min| and renormalised.
 */
#include "model/place.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* exp(x) for x <= 0 in double, vectorisable (libm's exp is a call):
 * x = max(x, -700) (written branch-free: (x - 700 + |x + 700|) / 2; the
 * result is then < 1e-304, i.e. 0 next to the softmax peak exp(0) = 1);
 * x = k ln2 + r with k = round(x / ln2) (by adding 1.5 * 2^52) and
 * |r| <= ln2 / 2; exp(r) by its Taylor series to r^10 (remainder
 * r^11 / 11! < 3e-13); 2^k from the exponent bits, taken from the
 * low bits of the rounded x / ln2 + 1.5 * 2^52.  Measured error < 4e-13. */
static inline double place_exp(double x)
{
    x = 0.5 * (x - 700.0 + fabs(x + 700.0));
    double t = x * 1.4426950408889634 + 0x1.8p52;
    double k = t - 0x1.8p52;
    double r = x - k * 0.6931471805599453;
    double p = 1.0 / 3628800;
    p = 1.0 / 362880 + r * p;
    p = 1.0 / 40320 + r * p;
    p = 1.0 / 5040 + r * p;
    p = 1.0 / 720 + r * p;
    p = 1.0 / 120 + r * p;
    p = 1.0 / 24 + r * p;
    p = 1.0 / 6 + r * p;
    p = 0.5 + r * p;
    p = 1.0 + r * p;
    p = 1.0 + r * p;
    uint64_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits = (bits + 1023) << 52;
    double s2k;
    memcpy(&s2k, &bits, sizeof s2k);
    return p * s2k;
}

enum { PLACE_BLOCK = 16 };  /* cells per vectorised block */

/* The loops over cells run in blocks of PLACE_BLOCK with a constant trip
 * count and restrict pointers, which GCC vectorises at -O2; the tail of P
 * runs the same expression scalar. */

/* d2[i] = (x - cx[i])^2 + (y - cy[i])^2 */
static void d2_block(const double *restrict cx, const double *restrict cy, double x, double y,
                     double *restrict d2)
{
    for (int i = 0; i < PLACE_BLOCK; i++) {
        double dx = x - cx[i], dy = y - cy[i];
        d2[i] = dx * dx + dy * dy;
    }
}

/* e[i] = exp(g * (z[i] - m)) */
static void exp_block(const double *restrict z, double m, double g, double *restrict e)
{
    for (int i = 0; i < PLACE_BLOCK; i++) e[i] = place_exp(g * (z[i] - m));
}

static void d2_all(const double *cx, const double *cy, double x, double y, double *d2, int P)
{
    int i = 0;
    for (; i + PLACE_BLOCK <= P; i += PLACE_BLOCK) d2_block(cx + i, cy + i, x, y, d2 + i);
    for (; i < P; i++) d2[i] = (x - cx[i]) * (x - cx[i]) + (y - cy[i]) * (y - cy[i]);
}

static void exp_all(const double *z, double m, double g, double *e, int P)
{
    int i = 0;
    for (; i + PLACE_BLOCK <= P; i += PLACE_BLOCK) exp_block(z + i, m, g, e + i);
    for (; i < P; i++) e[i] = place_exp(g * (z[i] - m));
}

/* Sum with four partial sums (breaks the add latency chain). */
static double sum_all(const double *v, int P)
{
    double s[4] = {0, 0, 0, 0};
    int i = 0;
    for (; i + 4 <= P; i += 4)
        for (int l = 0; l < 4; l++) s[l] += v[i + l];
    for (; i < P; i++) s[0] += v[i];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static double min_all(const double *v, int P)
{
    double m = INFINITY;
    for (int i = 0; i < P; i++) m = v[i] < m ? v[i] : m;
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
    pc->top = malloc((size_t)pc->P * sizeof *pc->top);
    if (!pc->centres || !pc->work || !pc->top) goto fail;
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
    free(pc->top);
    *pc = (PlaceCells){0};
}

int place_dim(const PlaceCells *pc)
{
    return pc->dim;
}

/* One position (x, y) -> code (P).  Internally double:
 *   d2_i = |x - c_i|^2, m = min_i d2_i
 *   e1_i = exp(-(d2_i - m) / (2 sigma^2)),  p1 = e1 / sum(e1)   (stable softmax)
 * gaussian: code = p1
 * dog:      e2_i = exp(-(d2_i - m) / (2 s sigma^2)), p2 = e2 / sum(e2)
 *           q = p1 - p2;  q -= min(q) (= + |min|, as sum(q) = 0);  code = q / sum(q) */
static void encode_one(const PlaceCells *pc, double x, double y, float *code)
{
    const int P = pc->P;
    const double *cx = pc->work, *cy = pc->work + P; /* (P), (P) */
    double *d2 = pc->work + 2 * (size_t)P;          /* (P) */
    double *e2 = pc->work + 3 * (size_t)P;          /* (P) */
    d2_all(cx, cy, x, y, d2, P);
    double m = min_all(d2, P);
    double g1 = -1.0 / (2 * pc->sigma * pc->sigma);
    if (pc->target == TARGET_GAUSSIAN) {
        exp_all(d2, m, g1, d2, P);
        double inv = 1.0 / sum_all(d2, P);
        for (int i = 0; i < P; i++) code[i] = (float)(d2[i] * inv);
        return;
    }
    double g2 = g1 / pc->surround;
    exp_all(d2, m, g2, e2, P);
    exp_all(d2, m, g1, d2, P);
    double inv1 = 1.0 / sum_all(d2, P), inv2 = 1.0 / sum_all(e2, P);
    for (int i = 0; i < P; i++) d2[i] = d2[i] * inv1 - e2[i] * inv2;
    double qmin = min_all(d2, P);
    for (int i = 0; i < P; i++) d2[i] -= qmin;
    double sq = sum_all(d2, P);
    /* sq = 0 only when every q_i is equal (P = 1): the uniform code */
    double inv = sq > 0 ? 1.0 / sq : 0.0;
    for (int i = 0; i < P; i++) code[i] = sq > 0 ? (float)(d2[i] * inv) : (float)(1.0 / P);
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
