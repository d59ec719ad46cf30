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
 * Precision (docs/performance.md, "Target precision" and "The codes in
 * float"): everything is float, as in the reference code (float32 torch),
 * with place_expf below (max relative error 7.6e-8 against libm's double
 * exp, tests/test_place.c).  The codes differ from the formula computed in
 * double with libm's exp by at most 1.5e-6 * code + 1.5e-9, the tolerance
 * test_place.c asserts (every cell of 500 positions; 500 and 512 cells,
 * DoG surround 2 and 3; 0.68 of it at worst there).  With fewer cells or a
 * narrower surround the DoG's p1 - p2 cancels more and can exceed it: at P
 * = 256, 2.1 x (1e-6 code + 1e-9) at worst, for 0.01 % of the cells; the
 * reference code's float32 arithmetic, 2.9 x, for 0.2 %.
 */
#include "model/place.h"

#include "model/fastexp.h"
#include "model/simd.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* place_encode (the passes below, inlined into it) and place_expf_fill
 * are compiled for the baseline (SSE2, 4 floats a vector) and with
 * SIMD_FMA (AVX2 + FMA, 8); simd_fma_ says which runs
 * (model/simd.h, as for rnn.c's kernels).  The two give the same bits:
 * every loop is element-wise or reduces into fixed lanes (below), the
 * Makefile compiles place.o with -ffp-contract=off (no a * b + c fused
 * behind the code's back), and the only fused operations, the fmaf of
 * model/fastexp.h, round once on either build (test_place compares the
 * codes of both builds bit for bit).  (GCC's target_clones is not used:
 * its "arch=x86-64-v3" clone was not chosen on an AVX2 + FMA machine, and
 * "avx2" alone has no FMA.) */

/* The per-cell and per-pass functions are inlined into each build. */
#define PLACE_INLINE static inline __attribute__((always_inline))

/* exp(x) for x <= 0 in float, vectorisable at -O2 (the Makefile gives
 * place.o GCC's dynamic cost model, as rnn.o, so the selects vectorise):
 * model/fastexp.h's, and 0 below -64 (exp(-64) = 1.6e-28; the double code
 * gave at most that, an absolute difference far below the codes' tolerance
 * 1.5e-9; the cut keeps every product of the normalisation, e * (1 / sum) >=
 * 1.6e-28 / 65536, out of the denormal range, whose arithmetic costs ~100
 * cycles a result on x86).  Measured max relative error against double exp
 * over [-64, 0]: 7.6e-8 (9.8e-8 before fastexp's multiply-adds were fused;
 * test_place.c checks < 2e-7 on 2^20 points). */
PLACE_INLINE float place_expf(float x)
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

SIMD_FMA static void place_expf_fill_fma_(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = place_expf(x[i]);
}
static void place_expf_fill_base_(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = place_expf(x[i]);
}
void place_expf_fill(const float *x, float *y, size_t n)
{
    if (simd_fma_ > 0)
        place_expf_fill_fma_(x, y, n);
    else
        place_expf_fill_base_(x, y, n);
}

enum { PLACE_BLOCK = 8 };  /* L: cells per vectorised block, lanes of the sums and minima */

/* encode_one makes a few passes over the P cells.  Each runs in blocks of
 * L cells with a constant trip count and restrict pointers, which GCC
 * vectorises at -O2, and the tail of P through the same per-cell
 * function, scalar (same operations, same bits).  Sums go into L lanes:
 * lane l takes cells l, l + L, l + 2L, ... in order (the tail's too), and
 * the lanes are combined pairwise in a fixed order, so the additions are
 * the same at any vector width.  Minima go into L lanes too (the tail into
 * lane 0: a minimum is exact in any order); v < m ? v : m is what minps
 * computes, and GCC emits it.  L = 8 is one AVX2 vector of floats, so a
 * pass's lanes stay in registers and the sums ride in the exponentials'
 * pass (with doubles, two vectors a lane set, they had to be a pass of
 * their own: docs/performance.md section 8, "The codes in float"). */

/* d2 = (x - cx)^2 + (y - cy)^2, float: three roundings after the two of
 * the differences (no fused multiply-add: -ffp-contract=off). */
PLACE_INLINE float cell_d2(float cx, float cy, float x, float y)
{
    float dx = x - cx, dy = y - cy;
    return dx * dx + dy * dy;
}

/* exp(g (d2 - m)), the argument in float, then place_expf. */
PLACE_INLINE float cell_exp(float d2, float m, float g)
{
    return place_expf(g * (d2 - m));
}

/* Both exponentials of a cell at surround_scale 2 (g1 = 2 g2):
 *   a = g2 (d2 - m),  e2 = exp(a),  e1 = e2 * e2 = exp(2 a)
 * 2a is exactly cell_exp's argument g1 (d2 - m) (a factor of 2 commutes
 * with rounding, outside the subnormal range), so e1 is the same exp(2a)
 * as cell_exp(d2, m, g1), with relative error <= 2 * 7.6e-8 + 6e-8 =
 * 2.1e-7 (the square's rounding; cell_exp's is 7.6e-8), and it is 0
 * exactly where cell_exp's is: below 2a = -64, i.e. where a < -32
 * (0xC2000000 is -32.0f; the test on the bits, as place_expf).  The cut is
 * applied to e2 before squaring: squares of e2 < 2^-63 are denormal or
 * underflow (down to e2's bottom exp(-64), squared exp(-128) = 2.6e-56),
 * and a multiplication with such a result costs ~100 cycles on x86
 * (measured: with the cut applied after the square, 1.2 ms more a
 * training step at P = 256).  Returns e2, e1 into *e1. */
PLACE_INLINE float cell_exp_sq(float d2, float m, float g2, float *e1)
{
    float a = g2 * (d2 - m);
    float e2 = place_expf(a);
    uint32_t ab, eb;
    memcpy(&ab, &a, sizeof ab);
    memcpy(&eb, &e2, sizeof eb);
    eb &= ab > 0xC2000000u ? 0u : 0xFFFFFFFFu;
    float c;
    memcpy(&c, &eb, sizeof c);
    *e1 = c * c;
    return e2;
}

/* Sum of the L lanes s (L), pairwise: s_l += s_{l + w} for w = L/2, ..., 1
 * (s is overwritten). */
PLACE_INLINE float lanes_sum(float *s)
{
    for (int w = PLACE_BLOCK / 2; w > 0; w /= 2)
        for (int l = 0; l < w; l++) s[l] += s[l + w];
    return s[0];
}

/* Pass 1: d2 (P) = cell_d2 of every cell; returns m = min_i d2_i. */
PLACE_INLINE void d2_block(const float *restrict cx, const float *restrict cy, float x, float y,
                           float *restrict d2, float *restrict mn)
{
    for (int l = 0; l < PLACE_BLOCK; l++) {
        d2[l] = cell_d2(cx[l], cy[l], x, y);
        mn[l] = d2[l] < mn[l] ? d2[l] : mn[l];
    }
}

PLACE_INLINE float d2_min(const float *cx, const float *cy, float x, float y, float *d2, int P)
{
    float mn[PLACE_BLOCK];
    for (int l = 0; l < PLACE_BLOCK; l++) mn[l] = INFINITY;
    int i = 0;
    for (; i + PLACE_BLOCK <= P; i += PLACE_BLOCK) d2_block(cx + i, cy + i, x, y, d2 + i, mn);
    for (; i < P; i++) {
        d2[i] = cell_d2(cx[i], cy[i], x, y);
        mn[0] = d2[i] < mn[0] ? d2[i] : mn[0];
    }
    for (int l = 1; l < PLACE_BLOCK; l++) mn[0] = mn[l] < mn[0] ? mn[l] : mn[0];
    return mn[0];
}

/* Pass 2, one exponential (the Gaussian; each of the general DoG's two):
 * e (P) = cell_exp(d2, m, g), and returns sum_i e_i. */
PLACE_INLINE void exp_block(const float *restrict d2, float m, float g, float *restrict e, float *restrict s)
{
    for (int l = 0; l < PLACE_BLOCK; l++) {
        e[l] = cell_exp(d2[l], m, g);
        s[l] += e[l];
    }
}

PLACE_INLINE float exp_fill(const float *d2, float m, float g, float *e, int P)
{
    float s[PLACE_BLOCK] = {0};
    int i = 0;
    for (; i + PLACE_BLOCK <= P; i += PLACE_BLOCK) exp_block(d2 + i, m, g, e + i, s);
    for (; i < P; i++) {
        e[i] = cell_exp(d2[i], m, g);
        s[i % PLACE_BLOCK] += e[i];
    }
    return lanes_sum(s);
}

/* Pass 2, DoG at surround_scale 2: e1, e2 (P) = cell_exp_sq, and their
 * sums *s1, *s2. */
PLACE_INLINE void sq_block(const float *restrict d2, float m, float g2, float *restrict e1, float *restrict e2,
                           float *restrict s1, float *restrict s2)
{
    for (int l = 0; l < PLACE_BLOCK; l++) {
        e2[l] = cell_exp_sq(d2[l], m, g2, &e1[l]);
        s1[l] += e1[l];
        s2[l] += e2[l];
    }
}

PLACE_INLINE void exp_sq_fill(const float *d2, float m, float g2, float *e1, float *e2, int P, float *s1,
                              float *s2)
{
    float s[PLACE_BLOCK] = {0}, t[PLACE_BLOCK] = {0};
    int i = 0;
    for (; i + PLACE_BLOCK <= P; i += PLACE_BLOCK) sq_block(d2 + i, m, g2, e1 + i, e2 + i, s, t);
    for (; i < P; i++) {
        e2[i] = cell_exp_sq(d2[i], m, g2, &e1[i]);
        s[i % PLACE_BLOCK] += e1[i];
        t[i % PLACE_BLOCK] += e2[i];
    }
    *s1 = lanes_sum(s);
    *s2 = lanes_sum(t);
}

/* Pass 3 (DoG): q (P) = e1 inv1 - e2 inv2; *qmin = min_i q_i; returns
 * sum_i q_i. */
PLACE_INLINE void q_block(const float *restrict e1, const float *restrict e2, float inv1, float inv2,
                          float *restrict q, float *restrict mn, float *restrict s)
{
    for (int l = 0; l < PLACE_BLOCK; l++) {
        q[l] = e1[l] * inv1 - e2[l] * inv2;
        mn[l] = q[l] < mn[l] ? q[l] : mn[l];
        s[l] += q[l];
    }
}

PLACE_INLINE float dog_q(const float *e1, const float *e2, float inv1, float inv2, float *q, int P, float *qmin)
{
    float mn[PLACE_BLOCK], s[PLACE_BLOCK] = {0};
    for (int l = 0; l < PLACE_BLOCK; l++) mn[l] = INFINITY;
    int i = 0;
    for (; i + PLACE_BLOCK <= P; i += PLACE_BLOCK) q_block(e1 + i, e2 + i, inv1, inv2, q + i, mn, s);
    for (; i < P; i++) {
        q[i] = e1[i] * inv1 - e2[i] * inv2;
        mn[0] = q[i] < mn[0] ? q[i] : mn[0];
        s[i % PLACE_BLOCK] += q[i];
    }
    for (int l = 1; l < PLACE_BLOCK; l++) mn[0] = mn[l] < mn[0] ? mn[l] : mn[0];
    *qmin = mn[0];
    return lanes_sum(s);
}

/* Last pass: v (P) = (v - c) * inv in place (c = 0 for the Gaussian: e - 0
 * = e, so that is e * inv). */
PLACE_INLINE void shift_scale(float *v, float c, float inv, int P)
{
    for (int i = 0; i < P; i++) v[i] = (v[i] - c) * inv;
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

int place_copy(PlaceCells *dst, const PlaceCells *src)
{
    *dst = *src;
    dst->centres = dst->work = NULL;
    dst->d2 = NULL;
    dst->top = NULL;
    if (src->P == 0) return 0;
    size_t P = (size_t)src->P;
    dst->centres = malloc(P * 2 * sizeof *dst->centres);
    dst->work = malloc(P * 4 * sizeof *dst->work);
    dst->d2 = malloc(P * sizeof *dst->d2);
    dst->top = malloc(P * sizeof *dst->top);
    if (!dst->centres || !dst->work || !dst->d2 || !dst->top) {
        place_free(dst);
        return -1;
    }
    memcpy(dst->centres, src->centres, P * 2 * sizeof *dst->centres);
    memcpy(dst->work, src->work, P * 2 * sizeof *dst->work); /* cx, cy; the rest is scratch */
    return 0;
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

/* One position (x, y) -> code (P), all in float (the field's reference
 * code computes it in float32 too; error bounds in the file's head):
 *   d2_i = |x - c_i|^2, m = min_i d2_i
 *   e1_i = exp(-(d2_i - m) / (2 sigma^2)),  p1 = e1 / sum(e1)   (stable softmax)
 * gaussian: code = p1
 * dog:      e2_i = exp(-(d2_i - m) / (2 s sigma^2)), p2 = e2 / sum(e2)
 *           (s = 2: e1_i = e2_i^2, cell_exp_sq)
 *           q = p1 - p2;  r = q - min(q) (= q + |min|, as sum(q) = 0);  code = r / sum(r)
 *           sum(r) = sum(q) - P min(q) (no pass of its own)
 * Passes over the cells: gaussian 3 (d2 and m; e1 and its sum; scale), dog
 * 4 at s = 2 (d2 and m; e1, e2 and their sums; q, its min and sum; shift
 * and scale), 5 at other s (e1 and e2 in two passes). */
PLACE_INLINE void encode_one(const PlaceCells *pc, float x, float y, float *code)
{
    const int P = pc->P;
    const float *cx = pc->work, *cy = pc->work + P; /* (P), (P) */
    float *e1 = pc->work + 2 * (size_t)P;          /* (P) */
    float *e2 = pc->work + 3 * (size_t)P;          /* (P) */
    float *d2 = pc->d2;                             /* (P) */
    float m = d2_min(cx, cy, x, y, d2, P);
    /* g1 = 2 s g2 exactly at s = 2 (cell_exp_sq) */
    float g1 = (float)(-1.0 / (2 * pc->sigma * pc->sigma)), g2 = (float)(g1 / pc->surround);
    if (pc->target == TARGET_GAUSSIAN) {
        shift_scale(code, 0.0f, 1.0f / exp_fill(d2, m, g1, code, P), P);
        return;
    }
    float s1, s2;
    if (pc->surround == 2) {
        exp_sq_fill(d2, m, g2, e1, e2, P, &s1, &s2);
    } else {
        s1 = exp_fill(d2, m, g1, e1, P);
        s2 = exp_fill(d2, m, g2, e2, P);
    }
    float qmin;
    float sq = dog_q(e1, e2, 1.0f / s1, 1.0f / s2, code, P, &qmin) - (float)P * qmin;
    /* sq = 0 only when every q_i is equal (P = 1): the uniform code */
    if (sq > 0) {
        shift_scale(code, qmin, 1.0f / sq, P);
    } else {
        for (int i = 0; i < P; i++) code[i] = 1.0f / (float)P;
    }
}

SIMD_FMA static void place_encode_fma_(const PlaceCells *pc, const float *pos, size_t n, float *code)
{
    for (size_t j = 0; j < n; j++) encode_one(pc, pos[2 * j], pos[2 * j + 1], code + j * (size_t)pc->P);
}
static void place_encode_base_(const PlaceCells *pc, const float *pos, size_t n, float *code)
{
    for (size_t j = 0; j < n; j++) encode_one(pc, pos[2 * j], pos[2 * j + 1], code + j * (size_t)pc->P);
}
void place_encode(const PlaceCells *pc, const float *pos, size_t n, float *code)
{
    if (pc->target == TARGET_CARTESIAN) {
        memcpy(code, pos, n * 2 * sizeof *code);
        return;
    }
    if (simd_fma_ > 0)
        place_encode_fma_(pc, pos, n, code);
    else
        place_encode_base_(pc, pos, n, code);
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
 * otherwise (O(P) expected).
 * Small k, without testing every cell against the list:
 * 1. lane maxima: lane l (of TOP_LANES) holds cells l, l + TOP_LANES, ...
 *    of the whole blocks; thr0 = the k-th largest lane maximum (NaN
 *    ignored).  k cells, one in each of k lanes, are >= thr0, so every
 *    cell of the top k is >= thr0;
 * 2. the insertion, in index order, over the cells that can enter: while
 *    the list fills, o[i] >= thr0; once it is full, o[i] > key(last),
 *    last = idx[k - 1] (a later cell enters only if before(i, last), and
 *    as i > last a tie never wins).  A block of TOP_LANES cells of which
 *    none can enter is skipped on one vector test.
 * The top k of any subset that holds them, inserted in index order, is
 * the same sorted list as the insertion over every cell.  Where thr0 is
 * not finite (fewer cells than a block, or lanes of NaN and -inf only)
 * every cell is a candidate while the list fills. */
enum { TOP_LANES = 16 };

/* Insert cell i into the sorted list idx[0..*m) (*m < k: it grows by one;
 * *m == k: the last one drops out). */
static inline void top_insert(const float *o, int i, int k, int *idx, int *m)
{
    int j = *m < k ? (*m)++ : k - 1;
    while (j > 0 && before(o, i, idx[j - 1])) {
        idx[j] = idx[j - 1];
        j--;
    }
    idx[j] = i;
}

static void select_top(const float *o, int P, int k, int *idx)
{
    if (k <= TOP_LANES) {
        const int Pb = P / TOP_LANES * TOP_LANES;
        float lmax[TOP_LANES], top[TOP_LANES];
        for (int l = 0; l < TOP_LANES; l++) lmax[l] = -INFINITY;
        for (int i = 0; i < Pb; i += TOP_LANES)
            for (int l = 0; l < TOP_LANES; l++) lmax[l] = o[i + l] > lmax[l] ? o[i + l] : lmax[l];
        for (int l = 0, m = 0; l < TOP_LANES; l++) { /* top[0..k) = the k largest, descending */
            if (m == k && !(lmax[l] > top[k - 1])) continue;
            int j = m < k ? m++ : k - 1;
            while (j > 0 && lmax[l] > top[j - 1]) {
                top[j] = top[j - 1];
                j--;
            }
            top[j] = lmax[l];
        }
        const float thr0 = Pb > 0 ? top[k - 1] : -INFINITY;
        const int any0 = !(thr0 > -INFINITY); /* no bound: every cell while filling */
        int m = 0;
        float thr = thr0;
        for (int i = 0; i < P;) {
            if (i + TOP_LANES <= P) { /* a block none of whose cells can enter */
                int hit = 0;
                if (m < k)
                    for (int l = 0; l < TOP_LANES; l++) hit |= any0 | (o[i + l] >= thr);
                else
                    for (int l = 0; l < TOP_LANES; l++) hit |= o[i + l] > thr;
                if (!hit) {
                    i += TOP_LANES;
                    continue;
                }
            }
            const int end = i + TOP_LANES <= P ? i + TOP_LANES : P;
            for (; i < end; i++) {
                if (m < k ? !(any0 || o[i] >= thr) : !(o[i] > thr)) continue;
                top_insert(o, i, k, idx, &m);
                if (m == k) thr = (float)key(o, idx[k - 1]);
            }
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
