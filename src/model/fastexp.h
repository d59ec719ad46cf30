/* fastexp.h -- exp(x) for x <= 0 in float, vectorisable (libm's expf is a
 * call and does not vectorise): the one exponential of the float network's
 * softmax, sigmoid and tanh (rnn.c) and of the place-cell target codes
 * (place.c).  Header-only, so it inlines into each of the callers' SSE2
 * and AVX2 builds; no FMA is involved, so both round alike.
 *
 *   x = max(x, -87) (exp(-87) = 1.6e-38, the bottom of the normal range),
 *     done on the bits (a float select does not vectorise at -O2): for
 *     x <= 0 a larger magnitude is a larger unsigned pattern, 0xC2AE0000
 *     is -87.0f; +0 and tiny positive x (rounding) are below it and kept,
 *     -inf becomes -87, a NaN with the sign bit too;
 *   x = k ln2 + r, k = round(x log2 e) (by adding 1.5 * 2^23), |r| <= ln2/2,
 *     r = (x - k ln2_hi) + k ln2_lo' (Cody & Waite 1980: ln2_hi =
 *     0.693359375 has 9 significant bits, so k ln2_hi is exact for
 *     |k| <= 126; ln2 = ln2_hi - 2.12194440e-4);
 *   exp(r) by its Taylor series to r^7 (remainder r^8 / 8! < 6e-9);
 *   2^k from the exponent bits (k >= -126 after the clamp: a normal float).
 * Max relative error against double exp over [-87, 0]: 9.7e-8
 * (RNN_EXPF_NEG_MAXREL in rnn.h; tests/test_fastmath.c, tests/test_place.c).
 */
#ifndef SWEEP_FASTEXP_H
#define SWEEP_FASTEXP_H

#include <stdint.h>
#include <string.h>

static inline __attribute__((always_inline)) float fastexp_neg(float x)
{
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

#endif
