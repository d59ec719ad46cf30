/* rnn.c -- the networks in two precisions from one implementation.
 *
 * Legend: B batch, T steps, N hidden, D outputs, I = 2 inputs.
 *
 * rnn_impl.inc holds the model (the cell step, forward, BPTT, loss, init),
 * written once over a real type; it is included here twice:
 *   float  with cblas_sgemm -> Rnn,  rnn_*   (training)
 *   double with cblas_dgemm -> RnnD, rnnd_*  (finite-difference tests)
 * RNN_EXP / RNN_LOG / RNN_TANH are the libm functions of the real type;
 * RNN_EXP_NEG (exp of x <= 0, the softmax) is rnn_expf_neg_ below for float
 * and libm's exp for double.
 * The cells' properties (adaptation, momentum, tau) are base/cells.def's.
 * The equations and their gradients: docs/model-rnn.md.
 */
#include "model/rnn.h"

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

/* exp(x) for x <= 0 in float, vectorisable (libm's expf is a call, and
 * the softmax of the loss takes B T D of them per step): x = max(x, -87)
 * (exp(-87) = 1.6e-38, the smallest normal range; a softmax term that small
 * is 0 next to the row maximum's exp(0) = 1), x = k ln2 + r with
 * k = round(x log2 e) (by adding 1.5 * 2^23) and |r| <= ln2 / 2 (ln2 split
 * in a high and a low part, Cody & Waite), exp(r) by its Taylor series to
 * r^7 (remainder < r^8 / 8! < 6e-9), 2^k from the exponent bits.  Relative
 * error within a few float ulps (tests/test_rnn_float.c checks the loss and
 * its gradient against the double network). */
static inline float rnn_expf_neg_(float x)
{
    /* x = max(x, -87) on the bits (a float select does not vectorise at
     * -O2 here): for x <= 0 a larger magnitude is a larger unsigned
     * pattern, 0xC2AE0000 is -87.0f; +0 and tiny positive x (rounding) are
     * below it and kept, -inf becomes -87 (exp = 0 next to 1), a NaN with
     * the sign bit too (its z - max also enters the loss's sum y (z - max),
     * so the loss is still NaN) */
    uint32_t xb;
    memcpy(&xb, &x, sizeof xb);
    xb = xb > 0xC2AE0000u ? 0xC2AE0000u : xb;
    memcpy(&x, &xb, sizeof x);
    float t = x * 1.44269504f + 0x1.8p23f;
    float k = t - 0x1.8p23f;
    float r = x - k * 0.693359375f; /* ln2 high part (exact product) */
    r = r + k * 2.12194440e-4f;     /* ln2 = 0.693359375 - 2.12194440e-4 */
    float p = 1.0f / 5040;
    p = 1.0f / 720 + r * p;
    p = 1.0f / 120 + r * p;
    p = 1.0f / 24 + r * p;
    p = 1.0f / 6 + r * p;
    p = 0.5f + r * p;
    p = 1.0f + r * p;
    p = 1.0f + r * p;
    int32_t ki = (int32_t)k;
    uint32_t bits = (uint32_t)(ki + 127) << 23;
    float s2k;
    memcpy(&s2k, &bits, sizeof s2k);
    return p * s2k;
}

#define RNN_REAL float
#define RNN_T Rnn
#define RNN_FN(name) rnn_##name
#define RNN_GEMM cblas_sgemm
#define RNN_EXP expf
#define RNN_EXP_NEG rnn_expf_neg_
#define RNN_LOG logf
#define RNN_TANH tanhf
#include "model/rnn_impl.inc"
#undef RNN_REAL
#undef RNN_T
#undef RNN_FN
#undef RNN_GEMM
#undef RNN_EXP
#undef RNN_EXP_NEG
#undef RNN_LOG
#undef RNN_TANH

#define RNN_REAL double
#define RNN_T RnnD
#define RNN_FN(name) rnnd_##name
#define RNN_GEMM cblas_dgemm
#define RNN_EXP exp
#define RNN_EXP_NEG exp
#define RNN_LOG log
#define RNN_TANH tanh
#include "model/rnn_impl.inc"
#undef RNN_REAL
#undef RNN_T
#undef RNN_FN
#undef RNN_GEMM
#undef RNN_EXP
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
