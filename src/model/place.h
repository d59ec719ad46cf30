/* place.h -- place-cell target codes and decoding of positions.
 *
 * Legend: P place cells, D = place_dim() output width (P, or 2 for the
 * Cartesian target), n positions.
 *
 * Targets (cfg->target; docs/model-task.md):
 *   gaussian   p_i(x) = softmax_i(-|x - c_i|^2 / (2 sigma^2))  (Sorscher 2019)
 *   dog        q_i = softmax_i with sigma - softmax_i with sigma2, where
 *              sigma2^2 = surround_scale * sigma^2 (Sorscher's convention;
 *              Schaeffer et al. scale sigma instead); then q_i -= min_j q_j
 *              and q /= sum_j q_j, so the code sums to 1 with minimum 0
 *   cartesian  code = (x, y), D = 2 (Cueva & Wei 2018; MSE loss)
 * Softmaxes are shifted by their maximum; distances and normalising sums
 * are double, the exponentials (place_expf_fill) and codes float: within
 * 1e-6 * code + 1e-9 of the all-double computation at the tested settings
 * (docs/performance.md, "Target precision", also on where the DoG exceeds
 * it; tests/test_place.c).
 * Decoding (gaussian, dog): mean of the centres of the k = decode_k largest
 * outputs (logits or probabilities: the order is the same); cartesian: the
 * output itself.
 *
 * Ownership: place_init (or place_copy) allocates centres and the
 * scratch; place_free releases them.  place_encode / place_decode write
 * the scratch, so one PlaceCells must not be used by two threads at once
 * (a second thread takes a place_copy).
 */
#ifndef SWEEP_PLACE_H
#define SWEEP_PLACE_H

#include <stddef.h>

#include "model/arena.h"
#include "base/config.h"
#include "model/rng.h"

typedef struct PlaceCells {
    int P;            /* place cells; 0 for the cartesian target (no cells) */
    int dim;          /* D: P, or 2 for cartesian */
    int target;       /* TargetCode (config.h) */
    int k;            /* decode_k, clamped to [1, P] */
    double sigma;     /* place_sigma, m */
    double surround;  /* surround_scale (dog): sigma2^2 = surround * sigma^2 */
    float *centres;   /* (P, 2) centres, m; NULL for cartesian */
    float *work;      /* (4P): centres' x (P) and y (P), then two (P) scratch
                         rows of encode (the exponentials); NULL for cartesian */
    float *d2;        /* (P) scratch of encode: squared distances; NULL for cartesian */
    int *top;         /* (P) scratch of decode; NULL for cartesian */
} PlaceCells;

/* Centres uniform in the arena (arena_sample, in order, from r; r is not
 * used for cartesian).  Returns 0, or -1 (bad settings or out of memory;
 * pc left empty). */
int place_init(PlaceCells *pc, const TaskConfig *cfg, const Arena *a, Rng *r);

/* dst = the same cells as src with scratch of its own, for a second
 * thread (train.c's data thread).  Returns 0, or -1 (out of memory; dst
 * left empty).  place_free releases dst. */
int place_copy(PlaceCells *dst, const PlaceCells *src);

/* Release; safe on a zeroed or already-freed PlaceCells. */
void place_free(PlaceCells *pc);

/* Output width D: P, or 2 for the cartesian target. */
int place_dim(const PlaceCells *pc);

/* code (n, D) = target code of each position pos (n, 2). */
void place_encode(const PlaceCells *pc, const float *pos, size_t n, float *code);

/* y (n) = exp(x) for x (n) <= 0, float, as place_encode computes it (0
 * below -64; max relative error 1e-7 against double exp).  For tests. */
void place_expf_fill(const float *x, float *y, size_t n);

/* place_encode and place_expf_fill exist for two instruction sets on
 * x86-64, the baseline and AVX2 + FMA, with the same bits; model/simd.h
 * says which runs (simd_select). */

/* pos (n, 2) = decoded position of each output row out (n, D). */
void place_decode(const PlaceCells *pc, const float *out, size_t n, float *pos);

#endif
