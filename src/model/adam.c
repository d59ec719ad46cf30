/* adam.c -- Adam (Kingma & Ba 2015) as torch.optim.Adam computes it, and
 * clip_grad_norm_.  Legend: n parameters.
 *
 * PyTorch 1.13 (_single_tensor_adam, no weight decay, no amsgrad):
 *   m = m * beta1 + (1 - beta1) g
 *   v = v * beta2 + (1 - beta2) g * g
 *   step_size = lr / (1 - beta1^t)                   (in double)
 *   denom     = sqrt(v) / sqrt(1 - beta2^t) + eps    (eps outside the sqrt)
 *   p        -= step_size * m / denom
 * The scalars are computed in double and the element loop runs in float,
 * as PyTorch does with float32 tensors.
 */
#include "model/adam.h"

#include "model/simd.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if SIMD_HAVE_FMA_BUILD
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

int adam_alloc(Adam *a, size_t n, double lr, double beta1, double beta2, double eps)
{
    memset(a, 0, sizeof *a);
    if (n == 0 || !(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0))
        goto fail;
    a->m = calloc(n, sizeof(float));
    a->v = calloc(n, sizeof(float));
    if (!a->m || !a->v) goto fail;
    a->n = n;
    a->lr = lr;
    a->beta1 = beta1;
    a->beta2 = beta2;
    a->eps = eps;
    return 0;
fail:
    adam_free(a);
    return -1;
}

void adam_free(Adam *a)
{
    free(a->m);
    free(a->v);
    memset(a, 0, sizeof *a);
}

void adam_reset(Adam *a)
{
    if (a->m) memset(a->m, 0, a->n * sizeof(float));
    if (a->v) memset(a->v, 0, a->n * sizeof(float));
    a->t = 0;
}

/* The scalars of one step, in float as the element loop uses them. */
typedef struct AdamK {
    float b1, c1, b2, c2, step, bc2s, eps;
} AdamK;

/* The vector loops: S is the intrinsics' width prefix (empty: SSE, 4
 * floats a vector; 256: AVX, 8), V the vector type.  The same operations
 * in the same order as the scalar loop of adam_step, and sqrtps and divps
 * round like sqrtf and /, so every loop gives the same bits (test_adam
 * compares them; GCC does not vectorise the scalar loop itself: sqrtf
 * keeps an errno branch at -O2).  Returns the number of elements done, a
 * multiple of the width. */
#define ADAM_PS_(S, op) _mm##S##_##op##_ps
#define ADAM_VLOOP_(S, V, W)                                                                            \
    const V vb1 = ADAM_PS_(S, set1)(k->b1), vc1 = ADAM_PS_(S, set1)(k->c1), vb2 = ADAM_PS_(S, set1)(k->b2); \
    const V vc2 = ADAM_PS_(S, set1)(k->c2), vstep = ADAM_PS_(S, set1)(k->step);                          \
    const V vbc2s = ADAM_PS_(S, set1)(k->bc2s), veps = ADAM_PS_(S, set1)(k->eps);                       \
    size_t i = 0;                                                                                       \
    for (; i + (W) <= n; i += (W)) {                                                                    \
        V g = ADAM_PS_(S, loadu)(grads + i);                                                            \
        V mi = ADAM_PS_(S, add)(ADAM_PS_(S, mul)(ADAM_PS_(S, loadu)(m + i), vb1), ADAM_PS_(S, mul)(vc1, g)); \
        V vi = ADAM_PS_(S, add)(ADAM_PS_(S, mul)(ADAM_PS_(S, loadu)(v + i), vb2),                       \
                                ADAM_PS_(S, mul)(ADAM_PS_(S, mul)(vc2, g), g));                         \
        ADAM_PS_(S, storeu)(m + i, mi);                                                                 \
        ADAM_PS_(S, storeu)(v + i, vi);                                                                 \
        V den = ADAM_PS_(S, add)(ADAM_PS_(S, div)(ADAM_PS_(S, sqrt)(vi), vbc2s), veps);                 \
        V upd = ADAM_PS_(S, div)(ADAM_PS_(S, mul)(vstep, mi), den);                                     \
        ADAM_PS_(S, storeu)(params + i, ADAM_PS_(S, sub)(ADAM_PS_(S, loadu)(params + i), upd));         \
    }                                                                                                   \
    return i;

#if SIMD_HAVE_FMA_BUILD
/* AVX, run where the CPU runs the AVX2 + FMA build (simd_fma_, model/simd.h),
 * but compiled for AVX2 without FMA, so that nothing can be fused. */
__attribute__((target("avx2"))) static size_t adam_avx_(const AdamK *k, size_t n, float *restrict params,
                                                         const float *restrict grads, float *restrict m,
                                                         float *restrict v)
{
    ADAM_VLOOP_(256, __m256, 8)
}
#endif
#ifdef __SSE2__
/* SSE (every x86-64 has it). */
static size_t adam_sse_(const AdamK *k, size_t n, float *restrict params, const float *restrict grads,
                        float *restrict m, float *restrict v)
{
    ADAM_VLOOP_(, __m128, 4)
}
#endif

void adam_step(Adam *a, float *params, const float *grads)
{
    a->t++;
    double bc1 = 1.0 - pow(a->beta1, (double)a->t);        /* 1 - beta1^t */
    double bc2_sqrt = sqrt(1.0 - pow(a->beta2, (double)a->t)); /* sqrt(1 - beta2^t) */
    const AdamK k = {(float)a->beta1, (float)(1.0 - a->beta1), (float)a->beta2, (float)(1.0 - a->beta2),
                     (float)(a->lr / bc1), (float)bc2_sqrt, (float)a->eps};
    const float b1 = k.b1, c1 = k.c1, b2 = k.b2, c2 = k.c2, step = k.step, bc2s = k.bc2s, eps = k.eps;
    float *restrict m = a->m, *restrict v = a->v;
    size_t i = 0;
#if SIMD_HAVE_FMA_BUILD
    if (simd_fma_ > 0) i = adam_avx_(&k, a->n, params, grads, m, v);
#endif
#ifdef __SSE2__
    i += adam_sse_(&k, a->n - i, params + i, grads + i, m + i, v + i);
#endif
    for (; i < a->n; i++) {
        float g = grads[i];
        m[i] = m[i] * b1 + c1 * g;
        v[i] = v[i] * b2 + c2 * g * g;
        params[i] -= step * m[i] / (sqrtf(v[i]) / bc2s + eps);
    }
}

float grad_clip_norm(float *grads, size_t n, float max_norm)
{
    double ss = 0; /* norm = sqrt(sum g^2) */
    for (size_t i = 0; i < n; i++) ss += (double)grads[i] * grads[i];
    double norm = sqrt(ss);
    if (max_norm > 0) {
        double coef = max_norm / (norm + 1e-6); /* clip_grad_norm_'s coefficient */
        if (coef < 1) {
            float cf = (float)coef;
            for (size_t i = 0; i < n; i++) grads[i] *= cf;
        }
    }
    return (float)norm;
}
