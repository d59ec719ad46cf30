/* fastexp.h -- exp(x) for x <= 0 in float, vectorisable (libm's expf is a
 * call and does not vectorise): the one exponential of the float network's
 * softmax, sigmoid and tanh (rnn.c) and of the place-cell target codes
 * (place.c).  Header-only, so it inlines into each of the callers' builds
 * (baseline and AVX2 + FMA, rnn.c and place.c).  Its multiply-adds are
 * written as fmaf: one rounding each, an FMA instruction in the AVX2 + FMA
 * build (and on aarch64), libm's correctly rounded fmaf elsewhere (scalar,
 * slow: the x86-64 baseline is for CPUs without FMA, from before 2013), so
 * every build gives the same bits.  20 of its ~28 operations were ten
 * multiply-add pairs; fused, it is ~1.8x cheaper in the AVX2 build (and
 * ~16x dearer in the baseline: docs/performance.md section 8, "The
 * exponential fused").
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
 * Max relative error against double exp over [-87, 0]: 7.4e-8 (9.7e-8
 * before the fusion)
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
    /* fused multiply-adds: one rounding each, the same on every path (an
     * FMA instruction where the caller's target has one, libm's correctly
     * rounded fmaf where not) */
    float t = __builtin_fmaf(x, 1.44269504f, 0x1.8p23f);
    float k = t - 0x1.8p23f;
    float r = __builtin_fmaf(k, -0.693359375f, x); /* ln2 high part: exact product */
    r = __builtin_fmaf(k, 2.12194440e-4f, r);      /* ln2 = 0.693359375 - 2.12194440e-4 */
    float p = 1.0f / 5040;
    p = __builtin_fmaf(r, p, 1.0f / 720);
    p = __builtin_fmaf(r, p, 1.0f / 120);
    p = __builtin_fmaf(r, p, 1.0f / 24);
    p = __builtin_fmaf(r, p, 1.0f / 6);
    p = __builtin_fmaf(r, p, 0.5f);
    p = __builtin_fmaf(r, p, 1.0f);
    p = __builtin_fmaf(r, p, 1.0f);
    int32_t ki = (int32_t)k;
    uint32_t bits = (uint32_t)(ki + 127) << 23;
    float s2k;
    memcpy(&s2k, &bits, sizeof s2k);
    return p * s2k;
}

#endif
