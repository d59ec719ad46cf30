/* rnn_generic.h -- the network struct and functions of one precision.
 *
 * No include guard on purpose: rnn.h includes this file twice, with
 *   RNN_REAL float,  RNN_T Rnn,  RNN_FN(x) rnn_##x    and
 *   RNN_REAL double, RNN_T RnnD, RNN_FN(x) rnnd_##x.
 * Do not include it directly; include rnn.h.
 *
 * Legend: B batch, T steps, N hidden, D outputs, I = 2 inputs.
 */

typedef struct RNN_T {
    RnnConfig c;
    int Bmax, Tmax;           /* capacity of the cache for a forward with a target (and its backward) */
    int Bf, Tf;               /* capacity for a forward without a target (>= Bmax, Tmax) */
    size_t cache_n;           /* reals in the cache: the larger of the two layouts */
    int B, T;                 /* sizes of the last forward */
    int ready;                /* 1: the last forward had a target, backward may run */

    /* parameters: one blob, in this order (docs/model-rnn.md) */
    size_t n_params;          /* N*D + N*I + N*N + D*N (+ N with bias) */
    RNN_REAL *params;         /* (n_params) */
    RNN_REAL *w_enc;          /* (N, D) h_0 = W_enc p_0 */
    RNN_REAL *w_in;           /* (N, I) */
    RNN_REAL *w_rec;          /* (N, N) */
    RNN_REAL *w_dec;          /* (D, N) z_t = W_dec h_t */
    RNN_REAL *b;              /* (N), NULL without bias */
    /* gradients: the same layout, in one blob; overwritten by every backward */
    RNN_REAL *grads;          /* (n_params) */
    RNN_REAL *dw_enc;         /* (N, D) */
    RNN_REAL *dw_in;          /* (N, I) */
    RNN_REAL *dw_rec;         /* (N, N) */
    RNN_REAL *dw_dec;         /* (D, N) */
    RNN_REAL *db;             /* (N), NULL without bias */

    /* loss of the last forward with a target: loss = loss_data + loss_wd + loss_rate */
    double loss, loss_data, loss_wd, loss_rate;

    /* cache: one allocation holding one of two layouts over the same
     * memory, chosen by each forward: with a target, every view below for
     * (Bmax, Tmax); without, only h0, h, z, p0, v, st_a, st_m for (Bf, Tf)
     * and the backward's views NULL.  Views packed with the (B, T) of the
     * last forward. */
    RNN_REAL *cache;
    RNN_REAL *h0;             /* (B, N) h_0 */
    RNN_REAL *h;              /* (B, T, N) h_1 .. h_T */
    RNN_REAL *dphi;           /* (B, T, N) phi'(s_t) */
    RNN_REAL *z;              /* (B, T, D) outputs z_t (logits, or x, y) */
    RNN_REAL *dz;             /* (B, T, D) dL/dz_t (written by the forward) */
    RNN_REAL *p0;             /* (B, D) copy of the start code */
    RNN_REAL *v;              /* (B, T, I) copy of the inputs */
    RNN_REAL *dh;             /* (B, T, N) dL/dh_t (backward) */
    RNN_REAL *dh0;            /* (B, N) dL/dh_0 (backward) */
    RNN_REAL *st_a;           /* (B, N) a_t during the forward */
    RNN_REAL *st_m;           /* (B, N) m_t during the forward */
    RNN_REAL *ds;             /* (B, N) dL/ds_t = dL/du_t (backward) */
    RNN_REAL *da;             /* (B, N) dL/da_t (backward) */
    RNN_REAL *dm;             /* (B, N) dL/dm_t (backward) */
} RNN_T;

/* Allocate params, grads and the cache for batches up to Bmax of up to
 * Tmax steps.  Parameters are zero until RNN_FN(init).  Returns 0, or -1
 * (bad config or out of memory; m left zeroed).  Same as
 * RNN_FN(alloc_shapes)(m, c, Bmax, Tmax, Bmax, Tmax). */
int RNN_FN(alloc_config)(RNN_T *m, const RnnConfig *c, int Bmax, int Tmax);

/* As RNN_FN(alloc_config), with a separate capacity for forwards without a
 * target: those take batches up to max(Bf, Bmax) of up to max(Tf, Tmax)
 * steps and keep only what RNN_FN(hidden) and RNN_FN(output) return, in
 * the same block as the backward's cache.  The cache is the larger of
 * (3N + 2D + 2) Bmax Tmax + (7N + D) Bmax reals (padded per view) and
 * (N + D + 2) Bf Tf + (3N + D) Bf. */
int RNN_FN(alloc_shapes)(RNN_T *m, const RnnConfig *c, int Bmax, int Tmax, int Bf, int Tf);

/* Release everything; safe on a zeroed or already-freed network. */
void RNN_FN(free)(RNN_T *m);

/* PyTorch's default initialisation, drawn from r in the order
 * w_enc, w_in, w_rec, w_dec, b (row-major): x = (2 U - 1) k with
 * k = 1/sqrt(D) for W_enc and k = 1/sqrt(N) for W_in, W_rec, W_dec and b
 * (nn.Linear(D, N) for the encoder, nn.RNN(2, N) for W_in, W_rec, b,
 * nn.Linear(N, D) for the decoder: bound 1/sqrt(fan_in) for the Linear
 * layers, 1/sqrt(hidden) for everything in nn.RNN). */
void RNN_FN(init)(RNN_T *m, Rng *r);

/* Forward pass of B trajectories of T steps: B <= Bmax and T <= Tmax with
 * a target, B <= Bf and T <= Tf without.
 *   p0     (B, D) code of the start positions
 *   v      (B, T, I) inputs
 *   target (B, T, D) targets y_t; NULL: forward only (no loss, no backward)
 *   noise  (B, T, N) sigma * xi_t, or NULL for none
 * Returns the loss L (0 when target is NULL).  Caches what backward needs
 * and the hidden states and outputs (RNN_FN(hidden), RNN_FN(output)). */
RNN_REAL RNN_FN(forward)(RNN_T *m, const RNN_REAL *p0, const RNN_REAL *v, const RNN_REAL *target,
                         const RNN_REAL *noise, int B, int T);

/* Forward only: RNN_FN(forward) with target NULL. */
RNN_REAL RNN_FN(predict)(RNN_T *m, const RNN_REAL *p0, const RNN_REAL *v, const RNN_REAL *noise, int B, int T);

/* One step of the cell for one trajectory, in place on h: the one
 * implementation of the cell equations (docs/model-rnn.md), which
 * RNN_FN(forward) runs for every (b, t) and replay_simulate for every
 * replay and step.  Uses m's configuration and parameters (w_in, b), not its
 * cache.
 *   h    (N) in: W_rec h_{t-1} (the caller's product); out: h_t
 *   hp   (N) h_{t-1}
 *   v    (I) v_t, or NULL for no input (the W_in v_t term is skipped, not
 *        added as zeros)
 *   xi   (N) sigma xi_t, or NULL for no noise
 *   dphi (N) out phi'(s_t), or NULL (no backward will follow)
 *   a    (N) a_{t-1} -> a_t, cells that adapt (cell_adapts); else unused
 *   mm   (N) m_{t-1} -> m_t, momentum cells (cell_has_momentum); else unused
 * a_0 and m_0 are 0: the caller zeroes a and mm before step 1.  h must not
 * overlap hp, v, xi, dphi, a or mm. */
void RNN_FN(cell_step)(const RNN_T *m, RNN_REAL *restrict h, const RNN_REAL *restrict hp,
                       const RNN_REAL *restrict v, const RNN_REAL *restrict xi, RNN_REAL *restrict dphi,
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
