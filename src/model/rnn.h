/* rnn.h -- the networks: cells, forward pass, backpropagation through time
 * on cblas_?gemm, the loss.  docs/model-rnn.md has the equations, the
 * parameter layout and the derivation of every gradient.
 *
 * Legend: B batch, T steps, N hidden, D outputs (P place cells, or 2 for
 * the Cartesian target), I = 2 or 3 network inputs per step (the caller
 * always passes the displacement, 2 per step), G stacked gate blocks.
 * Row-major everywhere; (B, T, X) means element [b][t][x] at
 * (b * T + t) * X + x, with the T of the call (not Tmax).
 *
 * Model (docs/science.md section 3; docs/model-rnn.md), t = 1..T:
 *   h_0 = W_enc p_0                                   (Sorscher et al. 2019)
 *   u_t = W_rec h_{t-1} + W_in v_t (+ b)
 *   a_t = (1 - lambda_a) a_{t-1} + b_a h_{t-1}, a_0 = 0   (adaptive cells)
 *   s_t = u_t - a_t  (adaptive cells), s_t = u_t (others)
 *   vanilla            h_t = phi(s_t) + xi_t
 *   leaky, adaptive    h_t = (1 - alpha) h_{t-1} + alpha phi(s_t) + xi_t
 *   momentum, adaptive_momentum
 *                      m_t = (1 - lambda_v) m_{t-1} + alpha (phi(s_t) - h_{t-1}) + xi_t, m_0 = 0
 *                      h_t = h_{t-1} + m_t
 *   gru     (torch.nn.GRU; Cho et al. 2014)   gates r, z, n stacked in W_ih (3N, I), W_hh (3N, N)
 *           r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
 *           z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
 *           n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))
 *           h_t = (1 - z_t) * n_t + z_t * h_{t-1} + xi_t
 *   lstm    (torch.nn.LSTM; Hochreiter & Schmidhuber 1997)  gates i, f, g, o in W_ih (4N, I), W_hh (4N, N)
 *           i, f, o = sigmoid(W_i* x_t + b_i* + W_h* h_{t-1} + b_h*),  g = tanh(...)
 *           c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t) + xi_t,   c_0 = W_enc_c p_0 (Banino et al. 2018)
 *   ugrnn   (Collins, Sohl-Dickstein & Sussillo 2017)  blocks c, g in W_ih (2N, I), W_hh (2N, N)
 *           c_t = tanh(W_cx x_t + W_ch h_{t-1} + b_c),  g_t = sigmoid(W_gx x_t + W_gh h_{t-1} + b_g)
 *           h_t = g_t * h_{t-1} + (1 - g_t) * c_t + xi_t
 *   x_t = v_t (input velocity, I = 2) or (|v_t| / dt, cos, sin of v_t's direction) (speed_heading, I = 3)
 *   z_t = W_dec h_t
 * (which cell adapts, has momentum or uses tau: base/cells.def; the step is
 * rnn_cell_step, one function for training and replay.)
 * xi_t is the caller's noise, already multiplied by sigma.
 * Loss (the mean is over every (b, t), t = 1..T):
 *   place cells  L_data = mean_{b,t} -sum_i y_i log softmax(z_t)_i
 *   cartesian    L_data = mean_{b,t,i} (z_{t,i} - y_{t,i})^2  (i < 2; torch MSELoss 'mean')
 *   L = L_data + weight_decay * sum(W_rec^2) + rate_l2 * mean_{b,t,n} h_t^2   (gated: W_rec = W_hh, every block)
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

enum { RNN_I = 2 }; /* the caller's input per step: the displacement (x, y); the
                      * network's I (n_in) is 2 or 3 (input_dim, config.h) */

/* Everything the network needs from a task (reals in double: the double
 * network uses them as they are, the float one rounds them). */
typedef struct RnnConfig {
    int N;              /* hidden units */
    int D;              /* outputs: place cells, or 2 (cartesian) */
    int n_in;           /* I, network inputs: input_dim(input) (not called I: complex.h, pulled in by cblas.h, defines I) */
    int input;          /* InputCode (config.h): how the displacement v becomes the network input x_t */
    double dt;          /* time step (s): speed = |v| / dt for INPUT_SPEED_HEADING */
    int cell;           /* CellType (config.h) */
    int act;            /* Activation (config.h); unused by the gated cells */
    int bias;           /* 1: drive has a bias b (N); gated cells: b_ih (G N) and, gru and lstm, b_hh (G N) */
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
 *   void rnn_cell_step(const Rnn *m, float *h, const float *hp, float *u, const float *v,
 *                      const float *xi, float *save, float *a, float *mm);
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

/* The float network's element-wise kernels (the cell step, the loss, the
 * backward's per-row loops) exist for two instruction sets on x86-64, the
 * baseline (SSE2) and AVX2 + FMA, with the same bits; model/simd.h says
 * which runs (simd_select). */

/* The float network's own exp, sigmoid and tanh (rnn.c), over arrays, for
 * the tests: which 0 y = exp(x) (x <= 0), 1 sigmoid(x), 2 tanh(x); avx2 1
 * the AVX2 build of the loop, 0 the baseline.  Returns 0, or -1 (bad
 * which, or no AVX2 on this CPU). */
int rnn_mathf_fill(int which, int avx2, const float *x, float *y, size_t n);

/* Their max relative errors against double libm (exp(x), 1 / (1 +
 * exp(-x)), tanh(x)), measured by tests/test_fastmath.c (which asserts
 * them) over x in [-87, 0] for exp and |x| <= 87 for sigmoid (below -87
 * the sigmoid is 1.6e-38 instead of exp(x): absolute error < 1.7e-38),
 * every float x for tanh.  One float ulp is 2^-24 = 6.0e-8 to 1.2e-7. */
#define RNN_EXPF_NEG_MAXREL 1.5e-7 /* measured 7.38e-8 (9.7e-8 before the fused exp) */
#define RNN_SIGMF_MAXREL 2.5e-7    /* measured 1.89e-7 (1.95e-7) */
#define RNN_TANHF_MAXREL 2.0e-7    /* measured 1.56e-7 (1.52e-7) */

/* rnn_alloc_config with rnn_config_from_task(cfg, D).  Returns 0 or -1
 * (bad settings or out of memory; m left zeroed). */
int rnn_alloc(Rnn *m, const TaskConfig *cfg, int D, int Bmax, int Tmax);

/* rnn_alloc_shapes with rnn_config_from_task(cfg, D): backward for
 * (Bmax, Tmax), forwards without a target up to (Bf, Tf). */
int rnn_alloc_task(Rnn *m, const TaskConfig *cfg, int D, int Bmax, int Tmax, int Bf, int Tf);

#endif
