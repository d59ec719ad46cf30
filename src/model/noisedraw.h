/* noisedraw.h -- hidden noise drawn one step at a time.
 *
 * Legend: B trajectories (<= Bmax), T steps, N hidden units, K =
 * RNG_NORMAL_BLOCK outputs of one block of rng_normal_fill.
 *
 * A forward pass with hidden noise takes xi (B, T, N) =
 * rng_normal_fill(r, B T N, sigma): trajectory-major, while the forward
 * needs it step by step, xi_t (B, N) for t = 1 .. T.  Holding all of it
 * takes B T N floats (41 MB for an evaluation batch of 200 trajectories
 * of 100 steps at N = 512).  A NoiseDraw gives the same numbers one step
 * at a time from B small states instead: rng_normal_fill makes block k of
 * its output from words [k, k + 1) K / 2 of the stream, so each
 * trajectory keeps a copy of the stream at the block that holds its next
 * row (found by drawing through the stream once, at noisedraw_start) and
 * the one block it is reading (B K floats in all).  Same bits as the fill
 * (tests/test_rng.c); the stream ends where the fill leaves it.  Costs B T
 * N / 2 more draws of 64 bits than the fill (the walk to the trajectories'
 * blocks), and the blocks that two trajectories share (when T N is not a
 * multiple of K) are made twice.
 *
 * Ownership: noisedraw_alloc allocates everything once; noisedraw_free
 * releases it and is safe on a zeroed or failed NoiseDraw.  Not
 * thread-safe per NoiseDraw.
 */
#ifndef SWEEP_NOISEDRAW_H
#define SWEEP_NOISEDRAW_H

#include <stddef.h>

#include "model/rng.h"

typedef struct NoiseDraw {
    int Bmax, N;       /* capacity: trajectories, units a row */
    int B, T;          /* the batch of the last noisedraw_start */
    float sigma;
    Rng *st;           /* (Bmax) trajectory b's stream, at block held[b] + 1 */
    size_t *held;      /* (Bmax) the block in blk[b] (before b's first: the one before it) */
    float *blk;        /* (Bmax, K) the block trajectory b reads */
} NoiseDraw;

/* For batches of up to Bmax trajectories of N units.  Returns 0, or -1
 * (Bmax < 1, N < 1, or no memory; then nothing is left allocated). */
int noisedraw_alloc(NoiseDraw *d, int Bmax, int N);
void noisedraw_free(NoiseDraw *d);

/* Set d to give, step by step, xi (B, T, N) = rng_normal_fill(r, B T N,
 * sigma) (B <= Bmax, T >= 1), and advance r past it as the fill would. */
void noisedraw_start(NoiseDraw *d, Rng *r, int B, int T, float sigma);

/* xi (B, N) = step t of that noise, t = 1 .. T in increasing order. */
void noisedraw_step(NoiseDraw *d, int t, float *xi);

#endif
