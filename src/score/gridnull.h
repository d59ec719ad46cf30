/* gridnull.h -- shuffle null for grid-cell classification.
 *
 * Dimensions: N hidden units, U kept units (U = min(N, null_units)),
 * n samples of the rate-map pass (capacity C = ratemap_trajectories * E),
 * S shuffles, Sb shuffles binned together (<= GRIDNULL_BATCH), G rate-map
 * bins per side.
 *
 * A unit is classified as a grid cell when its score60 exceeds the given
 * percentile of a null distribution of score60 built from rate maps whose
 * activity was decoupled from position (docs/spatial.md, "Shuffle null"):
 *   shuffle k: a kept unit j_k (uniform among the kept units that have a
 *   finite score60) and a circular shift s_k (uniform integer in
 *   [m, n - m], m the minimum shift); its map is
 *     map_k[bin] = mean over samples i in bin of act[j_k][(i + s_k) mod n]
 *   (positions fixed, the unit's activity time series rotated), scored with
 *   the task's GridScorer.
 *   threshold = percentile q of the finite null scores (numpy's default
 *               'linear' rule: h = (n_null - 1) q / 100,
 *               thr = x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]),
 *               x ascending)
 *   flag[u]   = score60[u] > threshold   (1 / 0; -1 when there is no null)
 *   p[u]      = (1 + #{null >= score60[u]}) / (1 + n_null)   (NaN when
 *               score60[u] is NaN or there is no null)
 * The null is pooled over units: only U units' activations are kept (all N
 * of them at every sample would be N * C * 4 bytes, 330 MB at N = 512 and
 * the default 160,000 samples).
 *
 * Random numbers: gridnull_init draws the kept units, gridnull_run the
 * (unit, shift) of every shuffle, both from the caller's stream (train.c:
 * RNG_SHUFFLE, in that order), so the null is deterministic.
 *
 * Two ways to keep the series (same results, bit for bit):
 *   stored    (gridnull_init) the U kept units' activity, U * C floats
 *             (39 MB at the defaults: 64 units, 4000 x 40 samples), and the
 *             positions; gridnull_run does the rest;
 *   streamed  (gridnull_init_mode, streamed = 1) only the bin of each
 *             sample (C ints) and one double sum per (shuffle, bin),
 *             S G^2 (3.2 MB at the defaults).  The caller replays the
 *             activity twice after gridnull_plan, in sample order
 *             (gridnull_stream, pass 0 then pass 1): pass 0 adds the
 *             samples j >= s_k of shuffle k, pass 1 those j < s_k, so each
 *             sum runs over i = (j - s_k) mod n in increasing order, the
 *             order of the stored path's binning; gridnull_finish scores.
 *             train.c replays the rate-map pass (same stream, same
 *             forwards, same bits) and streams when the stored activity
 *             would add more than half of the model's own memory.
 *
 * Ownership: gridnull_init allocates every buffer (once per task);
 * gridnull_free releases them and is safe on a zeroed or failed GridNull.
 * Nothing else allocates.
 */
#ifndef SWEEP_GRIDNULL_H
#define SWEEP_GRIDNULL_H

#include <stddef.h>

#include "model/rng.h"
#include "score/spatial.h"

#define GRIDNULL_BATCH 256   /* shuffled maps binned in one pass over the samples */
#define GRIDNULL_CHUNK 512   /* samples gathered at a time */

typedef struct GridNull {
    int N, U, G, S, Sb;
    size_t cap;          /* C: samples that can be stored */
    size_t n;            /* samples stored so far */
    int *unit;           /* (U) kept unit indices, ascending */
    float *act;          /* (U, C) activations of the kept units, unit-major */
    float *pos;          /* (C, 2) positions, m */
    int *eligible;       /* (U) kept units (indices into unit[]) with a finite score60 */
    int *pick;           /* (S) kept-unit index j_k of each shuffle */
    long *shift;         /* (S) shift s_k of each shuffle, samples */
    float *null;         /* (S) score60 of each shuffled map, NaN when flat */
    float *sorted;       /* (S) the finite null scores, ascending */
    float *chunk;        /* (GRIDNULL_CHUNK, Sb) gathered shifted activity */
    float *maps;         /* (Sb, G, G) shuffled maps of one batch */
    const float **src;   /* (Sb) activity series of each shuffle of a batch */
    size_t *cur;         /* (Sb) read offset of each shuffle in its series */
    RateMapAcc acc;      /* (G*G, Sb) */
    int streamed;        /* 1: the streamed way (act, pos, chunk unused) */
    int *bin;            /* streamed: (C) bin of each sample, -1 dropped */
    double *ssum;        /* streamed: (S, G*G) sums of every shuffle */
    float *smaps;        /* streamed: (S, G, G) maps of every shuffle */
    int planned;         /* streamed: 1 after gridnull_plan drew a null */
    long m;              /* streamed: the minimum shift gridnull_plan used */
    int n_elig;          /* streamed: eligible kept units at gridnull_plan */
} GridNull;

/* What gridnull_run found. */
typedef struct GridNullSummary {
    float threshold;     /* percentile of the null; NaN when there is no null */
    float frac;          /* fraction of the N units flagged; NaN when no null */
    int n_null;          /* finite null scores (<= S) */
    long min_shift;      /* m actually used, samples */
} GridNullSummary;

/* Allocate for N units, U = min(N, keep) kept units drawn at random from r
 * (partial Fisher-Yates, then sorted), S shuffles, cap samples, G bins over
 * [xmin, xmax] x [ymin, ymax] (the task's rate-map range).
 * Returns 0, or -1 on bad arguments (N < 1, keep < 1, S < 1, cap < 1,
 * G < 2, empty range) or no memory (then nothing is left allocated). */
int gridnull_init(GridNull *g, int N, int keep, int S, size_t cap, int G, double xmin, double xmax,
                  double ymin, double ymax, Rng *r);
void gridnull_free(GridNull *g);

/* gridnull_init with the way chosen: streamed = 0 stored (as
 * gridnull_init), 1 streamed (see above; S G^2 doubles and floats instead
 * of U C floats, the kept units drawn the same). */
int gridnull_init_mode(GridNull *g, int N, int keep, int S, size_t cap, int G, double xmin, double xmax,
                       double ymin, double ymax, Rng *r, int streamed);

/* Bytes of the series buffers of either way (stored: U C floats and C
 * positions; streamed: C bins and S G^2 doubles and floats), to choose. */
size_t gridnull_bytes(int N, int keep, int S, size_t cap, int G, int streamed);

/* Streamed way.  gridnull_plan: eligible units and every (unit, shift)
 * drawn from r exactly as gridnull_run draws them; sums zeroed.  Returns
 * the passes the caller must stream (2), 0 when there is no null (then
 * call gridnull_finish directly), -1 on bad arguments or a stored
 * GridNull.
 * gridnull_stream: samples j0 .. j0 + n - 1 of the series, act (n, N) row
 * stride N, in increasing j within a pass (pass 0, then pass 1).
 * gridnull_finish: maps, scores and classification as gridnull_run (same
 * arguments, same outputs). */
int gridnull_plan(GridNull *g, const float *score60, long min_shift, Rng *r);
void gridnull_stream(GridNull *g, int pass, const float *act, size_t j0, size_t n);
int gridnull_finish(GridNull *g, const GridScorer *sc, const float *score60, double q, float *p,
                    signed char *flag, GridNullSummary *sum);

/* Forget the stored samples (the kept units stay). */
void gridnull_reset(GridNull *g);

/* Append n samples: act (n, N) row stride N, pos (n, 2).  Stores the kept
 * units' activations (streamed: only the samples' bins; act unused);
 * stops at the capacity.  Returns the samples stored. */
size_t gridnull_add(GridNull *g, const float *act, const float *pos, size_t n);

/* Shuffled maps: maps (k, G, G) of kept units pick (k) (indices into
 * unit[]) with their activity shifted by shift (k) samples (0 <= shift <
 * n), binned exactly as RateMapAcc bins the same samples (NaN unvisited).
 * k <= Sb.  Returns 0, or -1 on bad arguments. */
int gridnull_maps(GridNull *g, const int *pick, const long *shift, int k, float *maps);

/* Percentile q (0..100) of x (n) sorted ascending, numpy's 'linear' rule;
 * NaN when n = 0. */
float gridnull_percentile(const float *x, int n, double q);

/* (1 + #{x >= score}) / (1 + n) for x (n) sorted ascending; NaN when score
 * is NaN or n = 0. */
float gridnull_pvalue(const float *x, int n, float score);

/* Build the null and classify: score60 (N) the units' observed scores,
 * sc the task's scorer (same G), min_shift the requested minimum shift m in
 * samples (lowered to floor(n / 4) when the series is too short; at least
 * 1), q the percentile, r the stream for the shuffles.  Writes p (N) and
 * flag (N) (either may be NULL) and *sum.  With no eligible unit or n < 2
 * there is no null: threshold, frac and p are NaN, flags -1, returns 0.
 * Returns -1 on bad arguments. */
int gridnull_run(GridNull *g, const GridScorer *sc, const float *score60, long min_shift, double q, Rng *r,
                 float *p, signed char *flag, GridNullSummary *sum);

#endif
