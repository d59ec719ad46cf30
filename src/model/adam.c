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
#ifdef __SSE2__
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

void adam_step(Adam *a, float *params, const float *grads)
{
    a->t++;
    double bc1 = 1.0 - pow(a->beta1, (double)a->t);        /* 1 - beta1^t */
    double bc2_sqrt = sqrt(1.0 - pow(a->beta2, (double)a->t)); /* sqrt(1 - beta2^t) */
    const float b1 = (float)a->beta1, c1 = (float)(1.0 - a->beta1);
    const float b2 = (float)a->beta2, c2 = (float)(1.0 - a->beta2);
    const float step = (float)(a->lr / bc1), bc2s = (float)bc2_sqrt, eps = (float)a->eps;
    float *restrict m = a->m, *restrict v = a->v;
    size_t i = 0;
#ifdef __SSE2__
    /* Four at a time with SSE (every x86-64 has it): the same operations in
     * the same order as the scalar loop below, and sqrtps rounds like
     * sqrtf, so the result is bit-identical.  (GCC does not vectorise the
     * scalar loop itself: sqrtf keeps an errno branch at -O2.) */
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
