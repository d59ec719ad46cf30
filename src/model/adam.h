/* adam.h -- the Adam optimiser and global gradient-norm clipping.
 *
 * Legend: n parameters (one flat blob; rnn.h keeps params and grads in the
 * same layout, so one step is one loop).
 *
 * adam_step is PyTorch's torch.optim.Adam (Kingma & Ba 2015, Algorithm 1;
 * no weight decay, amsgrad off), t = 1, 2, ...:
 *   m = beta1 m + (1 - beta1) g
 *   v = beta2 v + (1 - beta2) g^2
 *   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * (bias-corrected, eps outside the square root, as PyTorch writes it).
 *
 * grad_clip_norm is torch.nn.utils.clip_grad_norm_:
 *   norm = sqrt(sum g^2); if max_norm / (norm + 1e-6) < 1: g *= max_norm / (norm + 1e-6)
 *
 * Ownership: adam_alloc allocates the moments m, v; adam_free releases them.
 */
#ifndef SWEEP_ADAM_H
#define SWEEP_ADAM_H

#include <stddef.h>

typedef struct Adam {
    size_t n;                 /* parameters */
    float *m;                 /* (n) first moment */
    float *v;                 /* (n) second moment */
    long t;                   /* steps taken */
    double lr, beta1, beta2, eps;
} Adam;

/* Moments zeroed, t = 0.  Returns 0, or -1 (out of memory, n = 0 or a
 * hyperparameter out of range; a left zeroed). */
int adam_alloc(Adam *a, size_t n, double lr, double beta1, double beta2, double eps);

/* Release; safe on a zeroed or already-freed Adam. */
void adam_free(Adam *a);

/* Zero the moments and the step count (a fresh optimiser, same settings). */
void adam_reset(Adam *a);

/* One step: params (n) updated in place from grads (n).  8 floats at a
 * time with AVX where simd_fma_ says the AVX2 build runs (model/simd.h),
 * 4 with SSE elsewhere on x86-64; the same bits either way. */
void adam_step(Adam *a, float *params, const float *grads);

/* Global L2 norm of grads (n), accumulated in double; if max_norm > 0 and
 * the norm exceeds it, scale grads by max_norm / (norm + 1e-6).  Returns
 * the norm before clipping. */
float grad_clip_norm(float *grads, size_t n, float max_norm);

#endif
