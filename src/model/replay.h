/* replay.h -- replay evaluation: what a trained network does with no input.
 *
 * Legend: R replay starts (replay_starts), H horizon steps (replay_steps),
 * N hidden units, D outputs (P place cells, or 2 for the Cartesian target),
 * P place cells, G bins per side (ratemap_bins), K stored replays
 * (n_keep = min(replay_keep, replay_starts)).
 *
 * Replay (Krishna et al. 2024; Casco-Rodriguez et al. 2026; docs/science.md
 * section 6; docs/replay.md has every formula):
 *   h_0 = W_enc p(x_0), x_0 uniform in the arena (R starts)
 *   the task's own cell (rnn.h) with v_t = 0 and hidden noise
 *   xi_t ~ sigma_r N(0, 1), sigma_r = sqrt(replay_noise_var) * noise,
 *   for t = 1..H; decoded position x_t = place_decode(W_dec h_t) for
 *   t = 0..H (x_0 is the decode of h_0, not the true start).
 * With noise = 0 the replay is deterministic (sigma_r = 0, no draws).
 *
 * Metrics (replay_metrics; units in the names):
 *   speed_cm          mean_{r, t=0..H-1} |x_{t+1} - x_t|, cm per step
 *   spread_cm2        mean_{t=burn_in..H} tr Cov_r(x_t), cm^2 (1/(R-1))
 *   coverage          mean_r |V_r| / G_in: V_r in-arena bins replay r visits
 *   mean_first_visit  mean over (r, g in V_r) of the first t with x_t in g
 *   outside           fraction of x_t (all r, t) not in an in-arena bin
 *   kl                D(P_replay || P_real) over in-arena bins, nats,
 *                     occupancies of t = burn_in..H, pseudo-probability
 *                     REPLAY_KL_SMOOTH / G_in per bin, then renormalised
 * "In-arena bins": the G x G bins of the bounding box whose centre is
 * inside the arena (arena_contains), G_in of them.
 *
 * Random numbers: one stream (cfg->seed, RNG_REPLAY), used in this order:
 * R real trajectories of H steps (traj_generate, one trajectory after the
 * other), then R starts (arena_sample), then per step t = 1..H one
 * rng_normal_fill of R * N numbers (row r, unit n) when sigma_r > 0.  The
 * untrained baseline replays from the same starts with the same noise
 * (a copy of the stream after the starts).
 *
 * Ownership: the ReplayResult (base/result.h) is allocated by
 * result_replay_alloc and released by result_replay_free.  replay_run and replay_simulate allocate their working
 * memory once per call and free it before returning.  The place cells'
 * decode scratch is written, so pc must not be shared between threads.
 */
#ifndef SWEEP_REPLAY_H
#define SWEEP_REPLAY_H

#include "base/config.h"
#include "base/result.h"
#include "model/arena.h"
#include "model/place.h"
#include "model/rng.h"
#include "model/rnn.h"

/* Total smoothing mass of the occupancies in the KL: each in-arena bin gets
 * REPLAY_KL_SMOOTH / G_in added to its probability before renormalising. */
#define REPLAY_KL_SMOOTH 1e-3


/* Metrics of one set of decoded replays (replay_metrics). */
typedef struct ReplayMetrics {
    double speed_cm, spread_cm2, coverage, mean_first_visit, outside, kl;
} ReplayMetrics;

/* The whole evaluation of network m (the task's trained network) with its
 * place cells pc and arena a: real trajectories, R replays of the network,
 * R replays of the untrained network (rnn_init from (seed, RNG_INIT), the
 * configuration m->c), metrics.  out from result_replay_alloc for the same cfg.
 * stop: if not NULL and *stop becomes non-zero, abandon (checked every
 * replay step).  Cost: about 4 R H (N^2 + N D) flops.
 * Returns 0; 1 if stopped; -1 on bad sizes or out of memory.  After 1 or
 * -1, out may be partly filled: do not store it. */
int replay_run(const Rnn *m, const PlaceCells *pc, const Arena *a, const TaskConfig *cfg, const volatile int *stop,
               ReplayResult *out);

/* ---- the parts, for tests and other callers -------------------------- */

/* Replay from given starts:
 *   start  (R, 2) x_0, m;  h_0 = W_enc place_encode(x_0)
 *   sigma  noise s.d. per unit and step (0: none, r not used)
 *   r      noise stream: per step one rng_normal_fill(R * N, sigma)
 *   pos    (R, H+1, 2) out: decoded x_0..x_H
 *   hidden (R, H+1, N) out: h_0..h_H, or NULL
 *   stop   NULL, or abandon when *stop != 0 (checked every step)
 * The cell is rnn_impl.inc's with v = 0 (same float operations, so for
 * H <= Tmax it equals rnn_forward with v = 0 and the same noise, bit for
 * bit; tests/test_replay.c).  Returns 0, 1 if stopped, or -1 (bad sizes,
 * out of memory). */
int replay_simulate(const Rnn *m, const PlaceCells *pc, const float *start, int R, int H, float sigma, Rng *r,
                    float *pos, float *hidden, const volatile int *stop);

/* Bin of (x, y) on the G x G grid over a's bounding box: row * G + col,
 * col = floor((x - xmin) * G / (xmax - xmin)) (x == xmax -> G-1), likewise
 * row for y; -1 outside the box or NaN. */
int replay_bin(const Arena *a, int G, double x, double y);

/* mask (G, G): 1 where the bin centre is inside the arena.  Returns G_in. */
int replay_mask(const Arena *a, int G, unsigned char *mask);

/* Real trajectories: B trajectories of T steps from r (traj_generate, in
 * chunks; the numbers equal one traj_generate of (B, T)).  counts (G, G)
 * += positions t = 0..T per bin (every bin of the box, masked later);
 * *mean_step = mean_{b,t} |v_t|, m.  Returns 0 or -1 (out of memory). */
int replay_real(const Arena *a, const TaskConfig *cfg, int B, int T, int G, Rng *r, double *counts,
                double *mean_step);

/* D(P || Q) in nats over the bins with mask 1, from counts p, q (G, G):
 * P_g = (p_g / sum p + e) / (1 + G_in e), e = REPLAY_KL_SMOOTH / G_in,
 * likewise Q.  NaN when sum p or sum q over the mask is 0. */
double replay_kl(const double *p, const double *q, const unsigned char *mask, int G);

/* Metrics of decoded replays pos (R, H+1, 2) against the real counts
 * real (G, G) (replay_real).  occ (G, G) out: replay counts of t >= burn_in
 * per bin (every bin of the box), or NULL.  Returns 0, or -1 (bad sizes,
 * out of memory). */
int replay_metrics(const float *pos, int R, int H, int burn_in, const Arena *a, int G, const double *real,
                   ReplayMetrics *met, double *occ);

#endif
