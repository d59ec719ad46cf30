/* rnn_generic.h -- the network struct and functions of one precision.
 *
 * No include guard on purpose: rnn.h includes this file twice, with
 *   RNN_REAL float,  RNN_T Rnn,  RNN_FN(x) rnn_##x    and
 *   RNN_REAL double, RNN_T RnnD, RNN_FN(x) rnnd_##x.
 * Do not include it directly; include rnn.h.
 *
 * Legend: B batch, T steps, N hidden, D outputs, I = 2 or 3 network
 * inputs, G stacked gate blocks (1 for the non-gated cells), S saved
 * N-vectors per step.
 */

typedef struct RNN_T {
    RnnConfig c;
    int Bmax, Tmax;           /* capacity of the cache for a forward with a target (and its backward) */
    int Bf, Tf;               /* capacity for a forward without a target (>= Bmax, Tmax) */
    size_t cache_n;           /* reals in the cache: the larger of the two layouts */
    int B, T;                 /* sizes of the last forward */
    int ready;                /* 1: the last forward had a target, backward may run */

    int G;                    /* stacked blocks of W_in, W_rec (and b): cell_gates(cell), or 1 (non-gated cells) */
    int S;                    /* N-vectors the forward saves per (b, t) for the backward: 1 (phi'(s_t));
                               * gru 4 (r, z, n, W_hn h + b_hn); lstm 5 (i, f, g, o, c_t); ugrnn 2 (c, g) */

    /* parameters: one blob, in this order (docs/model-rnn.md) */
    size_t n_params;          /* N*D + G*N*I + G*N*N + D*N (+ G*N with bias) (+ G*N b_hh: gru, lstm with bias)
                               * (+ N*D W_enc_c: lstm) */
    RNN_REAL *params;         /* (n_params) */
    RNN_REAL *w_enc;          /* (N, D) h_0 = W_enc p_0 */
    RNN_REAL *w_in;           /* (G N, I) W_ih: the gates' blocks stacked in the cell's gate order */
    RNN_REAL *w_rec;          /* (G N, N) W_hh, stacked the same way */
    RNN_REAL *w_dec;          /* (D, N) z_t = W_dec h_t */
    RNN_REAL *b;              /* (G N) b (b_ih of gru and lstm), NULL without bias */
    RNN_REAL *b_hh;           /* (G N) gru, lstm with bias (torch's second bias), else NULL */
    RNN_REAL *w_enc_c;        /* (N, D) lstm: c_0 = W_enc_c p_0, else NULL */
    /* gradients: the same layout, in one blob; overwritten by every backward */
    RNN_REAL *grads;          /* (n_params) */
    RNN_REAL *dw_enc;         /* (N, D) */
    RNN_REAL *dw_in;          /* (G N, I) */
    RNN_REAL *dw_rec;         /* (G N, N) */
    RNN_REAL *dw_dec;         /* (D, N) */
    RNN_REAL *db;             /* (G N), NULL without bias */
    RNN_REAL *db_hh;          /* (G N), NULL as b_hh */
    RNN_REAL *dw_enc_c;       /* (N, D), NULL as w_enc_c */

    /* loss of the last forward with a target: loss = loss_data + loss_wd + loss_rate */
    double loss, loss_data, loss_wd, loss_rate;

    /* cache: one allocation holding one of two layouts over the same
     * memory, chosen by each forward: with a target, every view below for
     * (Bmax, Tmax); without, only h0, h, z, p0, v, st_a, st_m, u, xi for (Bf, Tf)
     * and the backward's views NULL.  Views packed with the (B, T) of the
     * last forward.  Views a cell does not use have no room (u, c0, dsx of
     * the non-gated cells). */
    RNN_REAL *cache;
    RNN_REAL *h0;             /* (B, N) h_0 */
    RNN_REAL *h;              /* (B, T, N) h_1 .. h_T */
    RNN_REAL *save;           /* (B, T, S N) phi'(s_t), or the gate values of a gated cell (S above) */
    RNN_REAL *z;              /* (B, T, D) outputs z_t (logits, or x, y) */
    RNN_REAL *dz;             /* (B, T, D) dL/dz_t (written by the forward) */
    RNN_REAL *p0;             /* (B, D) copy of the start code */
    RNN_REAL *v;              /* (B, T, I) the network inputs x_t (the caller's displacements, encoded) */
    RNN_REAL *dh;             /* (B, T, N) dL/dh_t (backward) */
    RNN_REAL *dh0;            /* (B, N) dL/dh_0 (backward) */
    RNN_REAL *st_a;           /* (B, N) a_t during the forward */
    RNN_REAL *st_m;           /* (B, N) m_t during the forward; lstm: c_t */
    RNN_REAL *ds;             /* (B, G N) dL/ds_t = dL/du_t (backward); gated: dL/d(W_hh h_{t-1} + b_hh) */
    RNN_REAL *da;             /* (B, N) dL/da_t (backward) */
    RNN_REAL *dm;             /* (B, N) dL/dm_t (backward); lstm: dL/dc_t through c_{t+1} */
    RNN_REAL *u;              /* (B, G N) gated: W_hh h_{t-1} of the step (the one GEMM), then the gate pre-activations */
    RNN_REAL *c0;             /* (B, N) lstm: c_0 (backward) */
    RNN_REAL *dsx;            /* (B, G N) gru: dL/d(W_ih x_t + b_ih) (backward; ds for the other cells) */
    RNN_REAL *xi;             /* (B, N) forward only: one step's noise of RNN_FN(predict_rows) */
} RNN_T;

/* Noise given one step at a time (RNN_FN(predict_rows)): fill xi (B, N)
 * with sigma xi_t of every trajectory, t = 1 .. T, called in increasing t. */
typedef void (*RNN_FN(noise_rows_fn))(void *ctx, int t, int B, RNN_REAL *xi);

/* Allocate params, grads and the cache for batches up to Bmax of up to
 * Tmax steps.  Parameters are zero until RNN_FN(init).  Returns 0, or -1
 * (bad config or out of memory; m left zeroed).  Same as
 * RNN_FN(alloc_shapes)(m, c, Bmax, Tmax, Bmax, Tmax). */
int RNN_FN(alloc_config)(RNN_T *m, const RnnConfig *c, int Bmax, int Tmax);

/* As RNN_FN(alloc_config), with a separate capacity for forwards without a
 * target: those take batches up to max(Bf, Bmax) of up to max(Tf, Tmax)
 * steps and keep only what RNN_FN(hidden) and RNN_FN(output) return, in
 * the same block as the backward's cache.  The cache is the larger of
 * ((2 + S) N + 2D + I) Bmax Tmax + ((6 + G) N + D) Bmax reals (padded per
 * view), plus for gated cells G N Bmax (u), lstm N Bmax (c0), gru G N Bmax
 * (dsx), and (N + D + I) Bf Tf + (4N + D) Bf (+ G N Bf for u). */
int RNN_FN(alloc_shapes)(RNN_T *m, const RnnConfig *c, int Bmax, int Tmax, int Bf, int Tf);

/* Release everything; safe on a zeroed or already-freed network. */
void RNN_FN(free)(RNN_T *m);

/* PyTorch's default initialisation, drawn from r in the blob's order
 * w_enc, w_in, w_rec, w_dec, b, b_hh, w_enc_c (row-major): x = (2 U - 1) k
 * with k = 1/sqrt(D) for W_enc and W_enc_c and k = 1/sqrt(N) for W_in,
 * W_rec, W_dec, b and b_hh (nn.Linear(D, N) for the encoders, nn.RNN(I, N)
 * / nn.GRU / nn.LSTM for W_in, W_rec, b, b_hh, nn.Linear(N, D) for the
 * decoder: bound 1/sqrt(fan_in) for the Linear layers, 1/sqrt(hidden) for
 * everything in the recurrent modules; UGRNN as nn.GRU). */
void RNN_FN(init)(RNN_T *m, Rng *r);

/* Forward pass of B trajectories of T steps: B <= Bmax and T <= Tmax with
 * a target, B <= Bf and T <= Tf without.
 *   p0     (B, D) code of the start positions
 *   v      (B, T, 2) displacements (RNN_I); the network's input x_t is
 *          their encoding (RnnConfig.input; rnn.h)
 *   target (B, T, D) targets y_t; NULL: forward only (no loss, no backward)
 *   noise  (B, T, N) sigma * xi_t, or NULL for none
 * Returns the loss L (0 when target is NULL).  Caches what backward needs
 * and the hidden states and outputs (RNN_FN(hidden), RNN_FN(output)). */
RNN_REAL RNN_FN(forward)(RNN_T *m, const RNN_REAL *p0, const RNN_REAL *v, const RNN_REAL *target,
                         const RNN_REAL *noise, int B, int T);

/* Forward only: RNN_FN(forward) with target NULL. */
RNN_REAL RNN_FN(predict)(RNN_T *m, const RNN_REAL *p0, const RNN_REAL *v, const RNN_REAL *noise, int B, int T);

/* RNN_FN(predict) with the noise given step by step: before step t the
 * forward calls rows(ctx, t, B, xi) for xi_t (B, N) (model/noisedraw.h
 * draws a rng_normal_fill's numbers that way), so no (B, T, N) array is
 * held.  rows NULL: no noise.  Same results as RNN_FN(predict) with those
 * numbers as noise (B, T, N).  outputs 0: the hidden states only, without
 * the readout z = W_dec h (N D of the N (N + D) multiply-adds a row of a
 * vanilla network; the rate maps need only h), and RNN_FN(output) is then
 * not valid; outputs 1: both. */
RNN_REAL RNN_FN(predict_rows)(RNN_T *m, const RNN_REAL *p0, const RNN_REAL *v, RNN_FN(noise_rows_fn) rows,
                              void *ctx, int B, int T, int outputs);

/* One step of the cell for one trajectory: the one implementation of the
 * cell equations (docs/model-rnn.md), which RNN_FN(forward) runs for every
 * (b, t) and replay_simulate for every replay and step.  Uses m's
 * configuration and parameters (w_in, b, b_hh), not its cache.
 *   h    (N) non-gated cells: in W_rec h_{t-1} (the caller's product);
 *        every cell: out h_t
 *   hp   (N) h_{t-1}
 *   u    (G N) gated cells: in W_hh h_{t-1} (the caller's one GEMM over
 *        the stacked gate weights), clobbered; NULL for the others
 *   v    (I) x_t (encoded input), or NULL for no input (the W_in x_t term
 *        is skipped, not added as zeros)
 *   xi   (N) sigma xi_t, or NULL for no noise
 *   save (S N) out what the backward needs (phi'(s_t), or the gate
 *        values), or NULL (no backward will follow)
 *   a    (N) a_{t-1} -> a_t, cells that adapt (cell_adapts); else unused
 *   mm   (N) m_{t-1} -> m_t, momentum cells (cell_has_momentum); lstm:
 *        c_{t-1} -> c_t; else unused
 * a_0 and m_0 are 0: the caller zeroes a and mm before step 1 (lstm: c_0 =
 * W_enc_c p_0).  h must not overlap hp, u, v, xi, save, a or mm. */
void RNN_FN(cell_step)(const RNN_T *m, RNN_REAL *restrict h, const RNN_REAL *restrict hp, RNN_REAL *restrict u,
                       const RNN_REAL *restrict v, const RNN_REAL *restrict xi, RNN_REAL *restrict save,
                       RNN_REAL *restrict a, RNN_REAL *restrict mm);

/* Backpropagation through time of the last forward (which must have had a
 * target; a forward without one in between overwrites the cache): overwrites grads with dL/d(every parameter).
 * Returns 0, or -1 if there is no such forward. */
int RNN_FN(backward)(RNN_T *m);

/* Hidden state h_t of trajectory b of the last forward (N values).
 * For 1 <= t <= T, h_t .. h_T follow contiguously (the (B, T, N) block
 * starts at RNN_FN(hidden)(m, 0, 1)); t = 0 gives h_0, which is stored
 * apart (the (B, N) block at RNN_FN(hidden)(m, 0, 0)). */
const RNN_REAL *RNN_FN(hidden)(const RNN_T *m, int b, int t);

/* Outputs z (B, T, D) of the last forward: logits (place cells) or the
 * (x, y) prediction (cartesian). */
const RNN_REAL *RNN_FN(output)(const RNN_T *m);
