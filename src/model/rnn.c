/* rnn.c -- the networks in two precisions from one implementation.
 *
 * Legend: B batch, T steps, N hidden, D outputs, I = 2 inputs.
 *
 * rnn_impl.inc holds the model (the cell step, forward, BPTT, loss, init),
 * written once over a real type; it is included here twice:
 *   float  with cblas_sgemm -> Rnn,  rnn_*   (training)
 *   double with cblas_dgemm -> RnnD, rnnd_*  (finite-difference tests)
 * Float (training): RNN_EXP_NEG (exp of x <= 0, the softmax), RNN_SIGM
 * and RNN_TANH are the vectorisable rnn_expf_neg_, rnn_sigmf_ and
 * rnn_tanhf_ below (their error bounds in rnn.h), RNN_LOG libm's logf.
 * Double (the reference of the tests): libm's exp, 1 / (1 + exp(-x)),
 * tanh and log.
 * The cells' properties (adaptation, momentum, tau) are base/cells.def's.
 * The equations and their gradients: docs/model-rnn.md.
 */
#include "model/rnn.h"

#include "model/fastexp.h"
#include "model/simd.h"

#include <assert.h>
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void rnn_config_from_task(RnnConfig *rc, const TaskConfig *cfg, int D)
{
    memset(rc, 0, sizeof *rc);
    rc->N = cfg->hidden;
    rc->D = D;
    rc->input = cfg->input;
    rc->n_in = input_dim(cfg->input);
    rc->dt = cfg->dt;
    rc->cell = cfg->cell;
    rc->act = cfg->activation;
    rc->bias = cfg->bias != 0;
    rc->cartesian = cfg->target == TARGET_CARTESIAN;
    rc->alpha = config_alpha(cfg); /* dt / tau; 1 for vanilla */
    rc->lambda_a = cfg->lambda_a;
    rc->b_a = cfg->b_a;
    rc->lambda_v = cfg->lambda_v;
    rc->weight_decay = cfg->weight_decay;
    rc->rate_l2 = cfg->rate_l2;
}

/* Instruction sets of the element-wise kernels (rnn_impl.inc: the cell
 * step, the loss, the per-row backward): each is compiled for the baseline
 * and with SIMD_FMA (AVX2 + FMA), and RNN_FN(...) calls the one simd_fma_
 * says (model/simd.h: chosen from the CPU at load time, or by a test).
 * The two give the same bits: every loop is element-wise or sums into a
 * fixed number of lanes (RNN_LANES_, independent of the vector width), the
 * Makefile compiles rnn.o with -ffp-contract=off, so no a * b + c is fused
 * behind the code's back, and the only fused operations are the fmaf of
 * model/fastexp.h, rounded once on either build (an instruction, or
 * libm's fmaf); tests/test_fastmath.c runs the networks on both and
 * compares the bits. */
#define RNN_INL static inline __attribute__((always_inline))

/* exp(x) for x <= 0 (the softmax of the loss takes B T D of them per
 * step; a softmax term below exp(-87) is 0 next to the row maximum's
 * exp(0) = 1): model/fastexp.h.  Max relative error against double exp
 * over [-87, 0]: RNN_EXPF_NEG_MAXREL (rnn.h; tests/test_fastmath.c). */
RNN_INL float rnn_expf_neg_(float x) { return fastexp_neg(x); }

/* sigmoid(x) = 1 / (1 + exp(-x)) in float, vectorisable (the gated cells'
 * gates; libm's expf does not vectorise).  From e = exp(-|x|) in (0, 1]
 * (rnn_expf_neg_, no overflow):
 *   x >= 0:  sigma(x)  = 1 / (1 + e)
 *   x <  0:  sigma(x)  = e / (1 + e) = e * (1 / (1 + e))
 * both without cancellation (relative error: exp's plus 2 to 3 roundings).
 * |x| > 87: e is exp(-87) = 1.6e-38 (the clamp), so sigma(x) for x < -87
 * is 1.6e-38 instead of exp(x) (absolute error < 1.7e-38; libm's
 * 1 / (1 + expf(-x)) gives 0 there); +-inf gives 1 and 1.6e-38; NaN gives
 * NaN.  Max relative error against double 1 / (1 + exp(-x)) over
 * |x| <= 87: RNN_SIGMF_MAXREL (rnn.h; tests/test_fastmath.c). */
RNN_INL float rnn_sigmf_(float x)
{
    uint32_t xb;
    memcpy(&xb, &x, sizeof xb);
    const uint32_t ab = xb & 0x7FFFFFFFu; /* |x| */
    float a;
    memcpy(&a, &ab, sizeof a);
    const float e = rnn_expf_neg_(-a);
    const float sp = 1 / (1 + e); /* sigma(|x|) */
    const float sn = e * sp;      /* sigma(-|x|) */
    uint32_t bp, bn;
    memcpy(&bp, &sp, sizeof bp);
    memcpy(&bn, &sn, sizeof bn);
    /* selects on the bits (vectorise as integer blends): the sign of x,
     * and x itself for a NaN (|x| above the infinity's pattern) */
    const uint32_t neg = (uint32_t)0 - (xb >> 31);                 /* all ones for x < 0 */
    const uint32_t nan = (uint32_t)0 - (uint32_t)(ab > 0x7F800000u); /* all ones for NaN */
    uint32_t rb = (bn & neg) | (bp & ~neg);
    rb = (xb & nan) | (rb & ~nan);
    float y;
    memcpy(&y, &rb, sizeof y);
    return y;
}

/* tanh(x) in float, vectorisable (the gated cells and the tanh
 * activation; libm's tanhf does not vectorise).  With a = |x|:
 *   a <  0.625:  tanh(a) = a + a z P(z),  z = a^2,  P of degree 4
 *                (the coefficients of Cephes' tanhf, S. L. Moshier: a
 *                polynomial in a^2, no cancellation near 0, where
 *                1 - exp(-2a) would lose the relative precision)
 *   a >= 0.625:  tanh(a) = (1 - e) / (1 + e),  e = exp(-2a) <= 0.29
 *                (1 - e >= 0.71: no cancellation; a > 43.6 gives e =
 *                1.6e-38 at most and tanh = 1 exactly, as libm's)
 *   tanh(x) = sign(x) tanh(a);  NaN gives NaN, +-inf gives +-1.
 * Max relative error against double tanh: RNN_TANHF_MAXREL (rnn.h;
 * tests/test_fastmath.c). */
RNN_INL float rnn_tanhf_(float x)
{
    uint32_t xb;
    memcpy(&xb, &x, sizeof xb);
    const uint32_t ab = xb & 0x7FFFFFFFu, sign = xb & 0x80000000u;
    float a;
    memcpy(&a, &ab, sizeof a);
    /* a >= 0.625 */
    const float e = rnn_expf_neg_(-2 * a);
    const float tl = (1 - e) / (1 + e);
    /* a < 0.625 */
    const float z = a * a;
    float p = -5.70498872745e-3f;
    p = 2.06390887954e-2f + z * p;
    p = -5.37397155531e-2f + z * p;
    p = 1.33314422036e-1f + z * p;
    p = -3.33332819422e-1f + z * p;
    const float ts = a + (a * z) * p;
    uint32_t bl, bs;
    memcpy(&bl, &tl, sizeof bl);
    memcpy(&bs, &ts, sizeof bs);
    /* 0x3F200000 is 0.625f; a NaN (above 0x7F800000) takes the polynomial,
     * which keeps it NaN */
    const uint32_t small = (uint32_t)0 - (uint32_t)((ab < 0x3F200000u) | (ab > 0x7F800000u));
    const uint32_t rb = ((bs & small) | (bl & ~small)) | sign;
    float y;
    memcpy(&y, &rb, sizeof y);
    return y;
}

/* double: libm (the reference network of the finite-difference tests) */
RNN_INL double rnnd_sigm_libm_(double x) { return 1 / (1 + exp(-x)); }

/* The element-wise functions over arrays, on either instruction set, for
 * tests/test_fastmath.c (which compares them with double libm and with
 * each other).  which: 0 exp of x <= 0, 1 sigmoid, 2 tanh. */
RNN_INL void rnn_fill_body_(int which, const float *restrict x, float *restrict y, size_t n)
{
    if (which == 0)
        for (size_t i = 0; i < n; i++) y[i] = rnn_expf_neg_(x[i]);
    else if (which == 1)
        for (size_t i = 0; i < n; i++) y[i] = rnn_sigmf_(x[i]);
    else
        for (size_t i = 0; i < n; i++) y[i] = rnn_tanhf_(x[i]);
}
SIMD_FMA static void rnn_fill_avx2_(int which, const float *restrict x, float *restrict y, size_t n)
{
    rnn_fill_body_(which, x, y, n);
}
static void rnn_fill_base_(int which, const float *restrict x, float *restrict y, size_t n)
{
    rnn_fill_body_(which, x, y, n);
}
int rnn_mathf_fill(int which, int avx2, const float *x, float *y, size_t n)
{
    if (which < 0 || which > 2) return -1;
    if (avx2 && !simd_cpu_fma()) return -1;
    if (avx2)
        rnn_fill_avx2_(which, x, y, n);
    else
        rnn_fill_base_(which, x, y, n);
    return 0;
}

#define RNN_REAL float
#define RNN_T Rnn
#define RNN_FN(name) rnn_##name
#define RNN_GEMM cblas_sgemm
#define RNN_EXP_NEG rnn_expf_neg_
#define RNN_SIGM rnn_sigmf_
#define RNN_LOG logf
#define RNN_TANH rnn_tanhf_
#include "model/rnn_impl.inc"
#undef RNN_REAL
#undef RNN_T
#undef RNN_FN
#undef RNN_GEMM
#undef RNN_SIGM
#undef RNN_EXP_NEG
#undef RNN_LOG
#undef RNN_TANH

#define RNN_REAL double
#define RNN_T RnnD
#define RNN_FN(name) rnnd_##name
#define RNN_GEMM cblas_dgemm
#define RNN_EXP_NEG exp
#define RNN_SIGM rnnd_sigm_libm_
#define RNN_LOG log
#define RNN_TANH tanh
#include "model/rnn_impl.inc"
#undef RNN_REAL
#undef RNN_T
#undef RNN_FN
#undef RNN_GEMM
#undef RNN_SIGM
#undef RNN_EXP_NEG
#undef RNN_LOG
#undef RNN_TANH

int rnn_alloc(Rnn *m, const TaskConfig *cfg, int D, int Bmax, int Tmax)
{
    RnnConfig rc;
    rnn_config_from_task(&rc, cfg, D);
    return rnn_alloc_config(m, &rc, Bmax, Tmax);
}

int rnn_alloc_task(Rnn *m, const TaskConfig *cfg, int D, int Bmax, int Tmax, int Bf, int Tf)
{
    RnnConfig rc;
    rnn_config_from_task(&rc, cfg, D);
    return rnn_alloc_shapes(m, &rc, Bmax, Tmax, Bf, Tf);
}
