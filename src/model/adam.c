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

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
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

#if defined(__x86_64__) && defined(__GNUC__)
/* Eight at a time with AVX, in a function compiled for AVX2 without FMA
 * (so nothing can be fused): the same operations in the same order as the
 * scalar loop, and vsqrtps and vdivps round like sqrtf and /, so the
 * result is bit-identical (test_adam compares it with the SSE and scalar
 * loops).  Returns the number of elements done (a multiple of 8). */
__attribute__((target("avx2"))) static size_t adam_avx_(const AdamK *k, size_t n, float *restrict params,
                                                         const float *restrict grads, float *restrict m,
                                                         float *restrict v)
{
    const __m256 vb1 = _mm256_set1_ps(k->b1), vc1 = _mm256_set1_ps(k->c1), vb2 = _mm256_set1_ps(k->b2);
    const __m256 vc2 = _mm256_set1_ps(k->c2), vstep = _mm256_set1_ps(k->step), vbc2s = _mm256_set1_ps(k->bc2s);
    const __m256 veps = _mm256_set1_ps(k->eps);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 g = _mm256_loadu_ps(grads + i);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(m + i), vb1), _mm256_mul_ps(vc1, g));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(v + i), vb2), _mm256_mul_ps(_mm256_mul_ps(vc2, g), g));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), vbc2s), veps);
        __m256 upd = _mm256_div_ps(_mm256_mul_ps(vstep, mi), den);
        _mm256_storeu_ps(params + i, _mm256_sub_ps(_mm256_loadu_ps(params + i), upd));
    }
    return i;
}
#endif

/* Which loop runs: 2 AVX, 1 SSE, 0 scalar; -1 until the first step
 * chooses from the CPU (adam_select). */
static int adam_isa_ = -1;

static int adam_isa_best_(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) return 2;
#endif
#ifdef __SSE2__
    return 1;
#else
    return 0;
#endif
}

int adam_select(int isa)
{
    int best = adam_isa_best_();
    if (isa >= 0) adam_isa_ = isa < best ? isa : best;
    if (adam_isa_ < 0) adam_isa_ = best;
    return adam_isa_;
}

void adam_step(Adam *a, float *params, const float *grads)
{
    a->t++;
    double bc1 = 1.0 - pow(a->beta1, (double)a->t);        /* 1 - beta1^t */
    double bc2_sqrt = sqrt(1.0 - pow(a->beta2, (double)a->t)); /* sqrt(1 - beta2^t) */
    const AdamK k = {(float)a->beta1, (float)(1.0 - a->beta1), (float)a->beta2, (float)(1.0 - a->beta2),
                     (float)(a->lr / bc1), (float)bc2_sqrt, (float)a->eps};
    const float b1 = k.b1, c1 = k.c1, b2 = k.b2, c2 = k.c2, step = k.step, bc2s = k.bc2s, eps = k.eps;
    float *restrict m = a->m, *restrict v = a->v;
    const int isa = adam_isa_ >= 0 ? adam_isa_ : adam_select(-1);
    size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == 2) i = adam_avx_(&k, a->n, params, grads, m, v);
#endif
#ifdef __SSE2__
    /* Four at a time with SSE (every x86-64 has it): the same operations in
     * the same order as the scalar loop below, and sqrtps rounds like
     * sqrtf, so the result is bit-identical.  (GCC does not vectorise the
     * scalar loop itself: sqrtf keeps an errno branch at -O2.) */
    if (isa >= 1) {
        const __m128 vb1 = _mm_set1_ps(b1), vc1 = _mm_set1_ps(c1), vb2 = _mm_set1_ps(b2), vc2 = _mm_set1_ps(c2);
        const __m128 vstep = _mm_set1_ps(step), vbc2s = _mm_set1_ps(bc2s), veps = _mm_set1_ps(eps);
        for (; i + 4 <= a->n; i += 4) {
            __m128 g = _mm_loadu_ps(grads + i);
            __m128 mi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(m + i), vb1), _mm_mul_ps(vc1, g));
            __m128 vi = _mm_add_ps(_mm_mul_ps(_mm_loadu_ps(v + i), vb2), _mm_mul_ps(_mm_mul_ps(vc2, g), g));
            _mm_storeu_ps(m + i, mi);
            _mm_storeu_ps(v + i, vi);
            __m128 den = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vi), vbc2s), veps);
            __m128 upd = _mm_div_ps(_mm_mul_ps(vstep, mi), den);
            _mm_storeu_ps(params + i, _mm_sub_ps(_mm_loadu_ps(params + i), upd));
        }
    }
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
