/* rng.h -- random number streams: xoshiro256** seeded through splitmix64.
 *
 * Every random number of a task comes from a stream named by (task seed,
 * purpose), so a task's results never depend on which rank runs it, on the
 * rank count, or on the order in which other streams are used.
 *
 * Generator: xoshiro256** (Blackman & Vigna 2018, "Scrambled linear
 * pseudorandom number generators"), period 2^256 - 1.  rng_seed() hashes
 * (seed, purpose) with splitmix64 (Steele, Lea & Flood 2014) into the
 * 256-bit state, so different pairs start at unrelated points of the period.
 *
 * An Rng is a plain value (no pointers, nothing to free); copy it to fork a
 * stream that replays the same numbers.  One Rng must not be used by two
 * threads at once.
 */
#ifndef SWEEP_RNG_H
#define SWEEP_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct Rng { uint64_t s[4]; } Rng;

/* Purposes: one independent stream per use within a task. */
enum {
    RNG_INIT = 1,     /* weight initialisation */
    RNG_PLACE,        /* place-cell centres */
    RNG_TRAIN_TRAJ,   /* training trajectories */
    RNG_TRAIN_NOISE,  /* hidden-state noise in training */
    RNG_EVAL_TRAJ,    /* held-out evaluation trajectories */
    RNG_EVAL_NOISE,   /* hidden-state noise in evaluation */
    RNG_RATEMAP,      /* rate-map trajectories */
    RNG_REPLAY,       /* replay (input-free) runs */
    RNG_SHUFFLE,      /* shuffle nulls */
    RNG_SAMPLE,       /* anything else that samples */
    RNG_SNAPSHOT      /* snapshot rate maps during training (reseeded at every snapshot) */
};

/* Independent stream for (task seed, purpose).  Never yields the all-zero
 * state. */
void rng_seed(Rng *r, uint64_t seed, uint64_t purpose);

/* Next 64 random bits. */
uint64_t rng_u64(Rng *r);

/* Uniform on [0, 1), 53 random bits (multiples of 2^-53). */
double rng_uniform(Rng *r);

/* Standard normal N(0, 1), exact (Marsaglia's polar method, in double). */
double rng_normal(Rng *r);

/* x[i] = sigma * N(0, 1) for i < n.  Fast path for the (B, T, N) noise of
 * every training step: Box-Muller in float on blocks, with a vectorisable
 * polynomial log and sin/cos (relative error < 1e-6) on 24-bit uniforms,
 * so |x| <= 5.77 sigma (the normal's mass beyond that is 8e-9).  Consumes
 * one rng_u64 per two outputs, rounded up to whole blocks of 512 outputs. */
void rng_normal_fill(Rng *r, float *x, size_t n, float sigma);

/* rng_normal_fill one block at a time: x (RNG_NORMAL_BLOCK) = the next
 * block of outputs, from the next RNG_NORMAL_BLOCK / 2 words of r.  Block
 * k of rng_normal_fill(r0, ...) is outputs [k RNG_NORMAL_BLOCK,
 * (k + 1) RNG_NORMAL_BLOCK), made from words [k, k + 1) RNG_NORMAL_BLOCK / 2
 * of r0's stream, so a part of the fill can be made without the rest
 * (model/noisedraw.h). */
#define RNG_NORMAL_BLOCK 512
void rng_normal_block(Rng *r, float *x, float sigma);

/* The fast normals' parts, for draws made in another order than
 * rng_normal_fill's (model/traj.c):
 * rng_fields: n words of r, each split into two 24-bit fields, a[j] = bits
 *   63..40 and b[j] = bits 39..16 of word j (rng_normal_block's split).
 * rng_fields_rayleigh: x[i] = sqrt(-2 ln u), u = (a[i] + 1) 2^-24 in
 *   (0, 1]: Rayleigh(1) by inversion, the Box-Muller radius of
 *   rng_normal_fill (same polynomial log and sqrt, relative error < 1e-6;
 *   x <= 5.77, the distribution's mass beyond that is 6e-8).
 * rng_fields_normal: (c[i], s[i]) = two independent N(0, 1) from the
 *   fields (a[i], b[i]), as rng_normal_fill makes outputs i and K + i of a
 *   block from its word i (sigma 1).
 * Both transforms are element-wise and give the same bits on the baseline
 * and the AVX2 build (model/simd.h), whatever n. */
void rng_fields(Rng *r, int32_t *a, int32_t *b, size_t n);
void rng_fields_rayleigh(const int32_t *a, float *x, size_t n);
void rng_fields_normal(const int32_t *a, const int32_t *b, float *c, float *s, size_t n);

/* Advance r by `words` draws of rng_u64, discarded. */
void rng_skip(Rng *r, size_t words);

/* Rayleigh(scale): scale * sqrt(-2 ln(1 - U)); mean scale * sqrt(pi/2). */
double rng_rayleigh(Rng *r, double scale);

#endif
