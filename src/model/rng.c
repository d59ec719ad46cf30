/* rng.c -- xoshiro256** streams per (seed, purpose), uniforms, normals,
 * Rayleigh.
 *
 * Legend: n samples; K pairs per block of rng_normal_fill.
 *
 * xoshiro256** and splitmix64 are written from their published definitions
 * (Blackman & Vigna 2018; Steele, Lea & Flood 2014).
 */
#include "model/rng.h"

#include "model/simd.h"

#include <math.h>
#include <string.h>


static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* splitmix64: z = (state += golden); three xor-shift-multiply rounds. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void rng_seed(Rng *r, uint64_t seed, uint64_t purpose)
{
    /* Hash the seed, then the purpose on top of it, into a splitmix64
     * starting point; its next four outputs are the state.  splitmix64's
     * output function is a bijection of the counter, so four consecutive
     * outputs are distinct and the state is never all zero. */
    uint64_t h = seed;
    uint64_t k = splitmix64(&h);
    uint64_t p = purpose ^ 0xD1B54A32D192ED03ull;
    uint64_t start = k ^ splitmix64(&p);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&start);
}

/* xoshiro256**: out = rotl(s1 * 5, 7) * 9; then the linear state update. */
uint64_t rng_u64(Rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

double rng_uniform(Rng *r)
{
    return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Marsaglia's polar method: (u, v) uniform in the unit disc minus 0,
 * s = u^2 + v^2, then u * sqrt(-2 ln s / s) ~ N(0, 1).  The second normal
 * of the pair is dropped so the Rng stays a plain state. */
double rng_normal(Rng *r)
{
    for (;;) {
        double u = 2.0 * rng_uniform(r) - 1.0;
        double v = 2.0 * rng_uniform(r) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) return u * sqrt(-2.0 * log(s) / s);
    }
}

/* Rayleigh by inversion: F(x) = 1 - exp(-x^2 / (2 scale^2)). */
double rng_rayleigh(Rng *r, double scale)
{
    return scale * sqrt(-2.0 * log(1.0 - rng_uniform(r)));
}

/* ---- fast normals ---------------------------------------------------- */

enum { NF_K = RNG_NORMAL_BLOCK / 2 };  /* pairs per block */

/* ln(x) for x in (0, 1], float, vectorisable: x = m * 2^e with m in
 * [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172,
 * atanh(s) = s + s^3/3 + s^5/5 + s^7/7 + s^9/9 (next term < 4e-10). */
static inline float nf_log(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e = (int)(bits >> 23) - 127;
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    float m;
    memcpy(&m, &bits, sizeof m);
    int big = m > 1.41421356f;           /* then halve m, e += 1 */
    m *= 1.0f - 0.5f * (float)big;
    e += big;
    float s = (m - 1.0f) / (m + 1.0f);
    float s2 = s * s;
    float poly = 1.0f + s2 * (1.0f / 3 + s2 * (1.0f / 5 + s2 * (1.0f / 7 + s2 * (1.0f / 9))));
    return (float)e * 0.69314718f + 2.0f * s * poly;
}

/* sqrt(y) for y in [0, 34], float, vectorisable (sqrtf is not, at -O2,
 * because of its errno path): g ~ 1/sqrt(y) from the exponent bits
 * (0x5f3759df - bits/2, relative error < 3.5e-3), three Newton steps
 * g *= 1.5 - 0.5 y g^2 (error squares each step: < 1e-9 before float
 * rounding), then sqrt(y) = y g.  y = 0 gives g finite and 0. */
static inline float nf_sqrt(float y)
{
    uint32_t bits;
    memcpy(&bits, &y, sizeof bits);
    bits = 0x5F3759DFu - (bits >> 1);
    float g;
    memcpy(&g, &bits, sizeof g);
    g *= 1.5f - 0.5f * y * g * g; /* written out: a loop of three was not unrolled at -O2 */
    g *= 1.5f - 0.5f * y * g * g;
    g *= 1.5f - 0.5f * y * g * g;
    return y * g;
}

/* The Rayleigh(1) radius of a 24-bit field a: sqrt(-2 ln u), u = (a + 1)
 * 2^-24 in (0, 1] (inversion: 1 - U for U uniform on [0, 1)). */
static inline __attribute__((always_inline)) float nf_radius(int32_t a)
{
    float u = (float)(a + 1) * 0x1.0p-24f;
    return nf_sqrt(-2.0f * nf_log(u));
}

/* n pairs: a[i] (24 bits) -> radius r = sqrt(-2 ln u1), u1 = (a + 1) 2^-24
 * in (0, 1]; b[i] (24 bits) -> angle th = q pi/2 + f, q = top 2 bits,
 * f uniform in (-pi/4, pi/4) from the low 22 bits.  Box-Muller (1958):
 * (r cos th, r sin th) are two independent N(0, 1).  sin f and cos f by
 * Taylor series to f^9 / f^10 (error < 3e-8 on |f| <= pi/4). */
static inline __attribute__((always_inline)) void nf_block_body_(const int32_t *restrict a,
                                                                const int32_t *restrict b, float *restrict c,
                                                                float *restrict s, float sigma, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float rad = sigma * nf_radius(a[i]);
        int32_t q = b[i] >> 22;
        float f = ((float)(b[i] & 0x3FFFFF) + 0.5f) * 0x1.0p-22f;
        f = (f - 0.5f) * 1.57079633f;
        float f2 = f * f;
        float sn = f * (1.0f + f2 * (-1.0f / 6 + f2 * (1.0f / 120 + f2 * (-1.0f / 5040 + f2 * (1.0f / 362880)))));
        float cs = 1.0f + f2 * (-0.5f + f2 * (1.0f / 24 + f2 * (-1.0f / 720 + f2 * (1.0f / 40320 + f2 * (-1.0f / 3628800)))));
        /* rotate (cs, sn) by q quarter turns */
        float odd = (float)(q & 1);             /* swap: (cs, sn) -> (-sn, cs) */
        float x0 = cs - odd * (sn + cs);
        float y0 = sn + odd * (cs - sn);
        float sg = 1.0f - (float)(q & 2);       /* half turn: negate */
        c[i] = rad * sg * x0;
        s[i] = rad * sg * y0;
    }
}

/* nf_block is compiled for the baseline (SSE2, 4 floats a vector) and with
 * SIMD_FMA (AVX2, 8), chosen by simd_fma_ (model/simd.h) as the network's
 * and the codes' kernels are.  Same bits on both: every operation is
 * element-wise and IEEE-rounded as written (the division included; the
 * Makefile compiles rng.o with -ffp-contract=off, so the AVX2 + FMA build
 * fuses nothing; tests/test_rng.c compares the two builds bit for bit). */
SIMD_FMA static void nf_block_fma_(const int32_t *restrict a, const int32_t *restrict b, float *restrict c,
                                   float *restrict s, float sigma, size_t n)
{
    nf_block_body_(a, b, c, s, sigma, n);
}
static void nf_block_base_(const int32_t *restrict a, const int32_t *restrict b, float *restrict c,
                           float *restrict s, float sigma, size_t n)
{
    nf_block_body_(a, b, c, s, sigma, n);
}
static void nf_block(const int32_t *restrict a, const int32_t *restrict b, float *restrict c, float *restrict s,
                     float sigma, size_t n)
{
    if (simd_fma_ > 0)
        nf_block_fma_(a, b, c, s, sigma, n);
    else
        nf_block_base_(a, b, c, s, sigma, n);
}

/* The radii alone (rng_fields_rayleigh), on either build as nf_block. */
SIMD_FMA static void nf_radii_fma_(const int32_t *restrict a, float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = nf_radius(a[i]);
}
static void nf_radii_base_(const int32_t *restrict a, float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = nf_radius(a[i]);
}

void rng_fields(Rng *r, int32_t *a, int32_t *b, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        uint64_t w = rng_u64(r);
        a[j] = (int32_t)(w >> 40);
        b[j] = (int32_t)((w >> 16) & 0xFFFFFFu);
    }
}

void rng_fields_rayleigh(const int32_t *a, float *x, size_t n)
{
    if (simd_fma_ > 0)
        nf_radii_fma_(a, x, n);
    else
        nf_radii_base_(a, x, n);
}

void rng_fields_normal(const int32_t *a, const int32_t *b, float *c, float *s, size_t n)
{
    nf_block(a, b, c, s, 1.0f, n);
}

void rng_normal_block(Rng *r, float *x, float sigma)
{
    int32_t a[NF_K], b[NF_K];   /* 24-bit fields of the random words */
    rng_fields(r, a, b, NF_K);
    nf_block(a, b, x, x + NF_K, sigma, NF_K); /* outputs 0 .. K-1: r cos; K .. 2K-1: r sin */
}

void rng_skip(Rng *r, size_t words)
{
    for (size_t i = 0; i < words; i++) (void)rng_u64(r);
}

void rng_normal_fill(Rng *r, float *x, size_t n, float sigma)
{
    float tail[2 * NF_K];
    size_t i = 0;
    for (; i + 2 * NF_K <= n; i += 2 * NF_K) rng_normal_block(r, x + i, sigma);
    if (i < n) { /* the last, partial block: drawn whole, its first n - i kept */
        rng_normal_block(r, tail, sigma);
        memcpy(x + i, tail, (n - i) * sizeof *x);
    }
}
