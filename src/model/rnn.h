/* rnn.h -- the networks: cells, forward pass, backpropagation through time
 * on cblas_?gemm, the loss.  docs/model-rnn.md has the equations, the
 * parameter layout and the derivation of every gradient.
 *
 * Legend: B batch, T steps, N hidden, D outputs (P place cells, or 2 for
 * the Cartesian target), I = 2 inputs (displacement per step).
 * Row-major everywhere; (B, T, X) means element [b][t][x] at
 * (b * T + t) * X + x, with the T of the call (not Tmax).
 *
 * Model (../shared/SCIENCE.md section 2), t = 1..T:
 *   h_0 = W_enc p_0                                   (Sorscher et al. 2019)
 *   u_t = W_rec h_{t-1} + W_in v_t (+ b)
 *   a_t = (1 - lambda_a) a_{t-1} + b_a h_{t-1}, a_0 = 0   (adaptive cells)
 *   s_t = u_t - a_t  (adaptive cells), s_t = u_t (others)
 *   vanilla            h_t = phi(s_t) + xi_t
 *   leaky, adaptive    h_t = (1 - alpha) h_{t-1} + alpha phi(s_t) + xi_t
 *   momentum, adaptive_momentum
 *                      m_t = (1 - lambda_v) m_{t-1} + alpha (phi(s_t) - h_{t-1}) + xi_t, m_0 = 0
 *                      h_t = h_{t-1} + m_t
 *   z_t = W_dec h_t
 * (which cell adapts, has momentum or uses tau: base/cells.def; the step is
 * rnn_cell_step, one function for training and replay.)
 * xi_t is the caller's noise, already multiplied by sigma.
 * Loss (the mean is over every (b, t), t = 1..T):
 *   place cells  L_data = mean_{b,t} -sum_i y_i log softmax(z_t)_i
 *   cartesian    L_data = mean_{b,t,i} (z_{t,i} - y_{t,i})^2  (i < 2; torch MSELoss 'mean')
 *   L = L_data + weight_decay * sum(W_rec^2) + rate_l2 * mean_{b,t,n} h_t^2
 *
 * Two precisions from one implementation (src/model/rnn_impl.inc): `Rnn` (float,
 * cblas_sgemm; what training uses) and `RnnD` (double, cblas_dgemm; the
 * finite-difference tests).  Their entry points are rnn_* and rnnd_*.
 *
 * Ownership: rnn_alloc* allocates three blocks -- params, grads (the same
 * layout, so Adam is one flat loop) and the cache (every buffer the forward
 * and backward passes need, sized once for (Bmax, Tmax), and overlapping
 * it, the forward-only buffers of evaluation for (Bf, Tf)); rnn_free
 * releases them.  The forward copies p0 and v into the cache, so the caller's arrays
 * may change after it returns.  Not thread-safe per network.
 */
#ifndef SWEEP_RNN_H
#define SWEEP_RNN_H

#include <stddef.h>

#include "base/config.h"
#include "model/rng.h"

enum { RNN_I = 2 }; /* I: inputs per step (displacement x, y) */

/* Everything the network needs from a task (reals in double: the double
 * network uses them as they are, the float one rounds them). */
typedef struct RnnConfig {
    int N;              /* hidden units */
    int D;              /* outputs: place cells, or 2 (cartesian) */
    int n_in;           /* I, inputs: RNN_I (not called I: complex.h, pulled in by cblas.h, defines I) */
    int cell;           /* CellType (config.h) */
    int act;            /* Activation (config.h) */
    int bias;           /* 1: drive has a bias b (N) */
    int cartesian;      /* 1: MSE loss on (x, y); 0: softmax cross-entropy */
    double alpha;       /* dt / tau (leaky, adaptive, momentum cells) */
    double lambda_a;    /* adaptation decay */
    double b_a;         /* adaptation strength */
    double lambda_v;    /* momentum damping */
    double weight_decay;/* loss += weight_decay * sum(W_rec^2) */
    double rate_l2;     /* loss += rate_l2 * mean(h^2) */
} RnnConfig;

/* rc from the task settings; D = place_dim() of the task's place cells. */
void rnn_config_from_task(RnnConfig *rc, const TaskConfig *cfg, int D);

/* The network types and their functions, once per precision.  See
 * rnn_generic.h for the fields and the documentation of each function:
 *   int  rnn_alloc_config(Rnn *m, const RnnConfig *c, int Bmax, int Tmax);
 *   int  rnn_alloc_shapes(Rnn *m, const RnnConfig *c, int Bmax, int Tmax, int Bf, int Tf);
 *   void rnn_free(Rnn *m);
 *   void rnn_init(Rnn *m, Rng *r);
 *   float rnn_forward(Rnn *m, const float *p0, const float *v, const float *target,
 *                     const float *noise, int B, int T);
 *   float rnn_predict(Rnn *m, const float *p0, const float *v, const float *noise, int B, int T);
 *   void rnn_cell_step(const Rnn *m, float *h, const float *hp, const float *v, const float *xi,
 *                      float *dphi, float *a, float *mm);
 *   int  rnn_backward(Rnn *m);
 *   const float *rnn_hidden(const Rnn *m, int b, int t);
 *   const float *rnn_output(const Rnn *m);
 * and the same with rnnd_ / RnnD / double. */
#define RNN_REAL float
#define RNN_T Rnn
#define RNN_FN(name) rnn_##name
#include "model/rnn_generic.h"
#undef RNN_REAL
#undef RNN_T
#undef RNN_FN

#define RNN_REAL double
#define RNN_T RnnD
#define RNN_FN(name) rnnd_##name
#include "model/rnn_generic.h"
#undef RNN_REAL
#undef RNN_T
#undef RNN_FN

/* rnn_alloc_config with rnn_config_from_task(cfg, D).  Returns 0 or -1
 * (bad settings or out of memory; m left zeroed). */
int rnn_alloc(Rnn *m, const TaskConfig *cfg, int D, int Bmax, int Tmax);

/* rnn_alloc_shapes with rnn_config_from_task(cfg, D): backward for
 * (Bmax, Tmax), forwards without a target up to (Bf, Tf). */
int rnn_alloc_task(Rnn *m, const TaskConfig *cfg, int D, int Bmax, int Tmax, int Bf, int Tf);

#endif
