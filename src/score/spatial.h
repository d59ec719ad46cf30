/* spatial.h -- rate maps, spatial autocorrelogram (SAC), gridness and
 * border score of hidden units.
 *
 * Dimensions: n samples (positions), N hidden units, G rate-map bins per
 * side, K = 2G-1 SAC side, M = 10 ring masks.
 *
 * Conventions (docs/spatial.md has the details and the equations):
 * - Maps are row-major (G, G): row = y bin, column = x bin; NaN = a bin no
 *   sample fell in (unvisited).
 * - Bins: G equal bins over [xmin, xmax] (likewise y), edges as
 *   numpy.histogram2d / scipy.stats.binned_statistic_2d: bin i holds
 *   edge[i] <= x < edge[i+1], the last bin also holds x == xmax (and x a
 *   hair above xmax, as scipy: see ratemap.c); samples outside the range
 *   (or NaN) are dropped.
 * - Gridness is the 2018 DeepMind GridScorer (Banino et al. 2018, scores.py,
 *   also used by Sorscher et al. 2019): SAC with unvisited bins as 0,
 *   rotation = scipy.ndimage.rotate(order=3, reshape=False, mode='constant',
 *   cval=0), rings inner 0.2 G < r <= outer, outer = linspace(0.4,1,10) G.
 * - A constant or empty map has no gridness and no border: scores are NaN,
 *   mask60 is -1.
 *
 * Ownership: GridScorer objects come from grid_scorer_new and are released
 * by grid_scorer_free; a RateMapAcc's arrays by ratemap_acc_free.  Every
 * other function only reads its inputs and writes caller-owned outputs.
 * Thread safety: a GridScorer is read-only after creation (grid_score keeps
 * its scratch on the stack / in its own allocation), so many threads may
 * share one.
 */
#ifndef SWEEP_SPATIAL_H
#define SWEEP_SPATIAL_H

#include <stddef.h>

/* ---- rate maps -------------------------------------------------------- */

/* Mean activation per bin.  act (n, N), pos (n, 2) metres (x, y).
 * maps (N, G, G) NaN where unvisited; counts (G, G) samples per bin, or NULL.
 * Returns 0, or -1 on bad arguments (G < 1, N < 1, xmax <= xmin, ...) or
 * allocation failure. */
int ratemap_compute(const float *act, const float *pos, size_t n, int N,
                    double xmin, double xmax, double ymin, double ymax,
                    int G, float *maps, int *counts);

/* Accumulator for pooling many batches without keeping every activation.
 * Sums in double. */
typedef struct RateMapAcc {
    int N, G;
    double xmin, xmax, ymin, ymax;
    double *xedge;   /* (G+1) bin edges in x (numpy.linspace) */
    double *yedge;   /* (G+1) */
    double xscale, yscale;   /* right-edge rounding scale (scipy's rule) */
    double *sum;     /* (G*G, N) sum of activations per bin, bin-major */
    long *count;     /* (G*G) samples per bin */
} RateMapAcc;

/* Allocate and zero.  Returns 0 or -1 (bad arguments / out of memory; then
 * nothing is left allocated and ratemap_acc_free is still safe). */
int ratemap_acc_init(RateMapAcc *acc, int N, int G, double xmin, double xmax,
                     double ymin, double ymax);
/* Zero the sums and counts (reuse for the next task). */
void ratemap_acc_reset(RateMapAcc *acc);
/* Add n samples: act (n, N) row stride N, pos (n, 2).  Returns the number
 * of samples that fell inside the range (>= 0). */
size_t ratemap_acc_add(RateMapAcc *acc, const float *act, const float *pos, size_t n);
/* maps (N, G, G) = sum / count, NaN where count == 0; counts (G, G) or NULL. */
void ratemap_acc_finish(const RateMapAcc *acc, float *maps, int *counts);
/* Bin iy * G + ix of the position (x, y), as ratemap_acc_add bins it, or
 * -1 when the sample would be dropped. */
int ratemap_acc_bin(const RateMapAcc *acc, float x, float y);
void ratemap_acc_free(RateMapAcc *acc);

/* ---- gridness --------------------------------------------------------- */

#define GRID_N_MASKS 10
#define GRID_N_ANGLES 7   /* 30, 45, 60, 90, 120, 135, 150 degrees */

typedef struct GridScorer GridScorer;   /* masks and rotation plans for one G */

/* variant: SCORE_MEAN_DIFF or SCORE_MIN_MAX (config.h ScoreVariant).
 * Returns NULL on bad arguments (G < 2, unknown variant) or no memory. */
GridScorer *grid_scorer_new(int G, int variant);
void grid_scorer_free(GridScorer *g);
int grid_scorer_bins(const GridScorer *g);   /* G */

/* Spatial autocorrelogram of one map: map (G, G) NaN = unvisited,
 * sac (2G-1, 2G-1), centre (zero lag) at [G-1][G-1], row = y lag.
 * Returns 0, or -1 on bad arguments. */
int grid_sac(const float *map, int G, double *sac);

/* Gridness of one map (G, G).  score60 / score90: max over the masks;
 * mask60: index 0..9 of the mask that won score60 (first on ties), -1 when
 * the scores are NaN (constant or empty map).  sac (2G-1)^2 or NULL: the
 * autocorrelogram, as float.  Any output pointer may be NULL.
 * Returns 0, or -1 on bad arguments / out of memory. */
int grid_score(const GridScorer *g, const float *map, float *score60,
               float *score90, int *mask60, float *sac);

/* ---- border score ----------------------------------------------------- */

/* Solstad et al. 2008 border score of a square map (G, G), in [-1, 1];
 * field_frac: a field is a 4-connected set of visited bins whose rate
 * (after subtracting the map minimum) exceeds field_frac * peak;
 * min_bins: smallest field kept.  NaN when the map is constant / empty or
 * has no field. */
float border_score(const float *map, int G, double field_frac, int min_bins);

/* ---- per task --------------------------------------------------------- */

/* Score every unit: maps (N, G, G); outputs each (N) (any may be NULL);
 * mask60 -1 where score60 is NaN.  g must have been made for this G.
 * Returns 0, or -1 on bad arguments / out of memory. */
int spatial_score_units(const float *maps, int N, int G, const GridScorer *g,
                        double field_frac, int min_bins, float *score60,
                        float *score90, signed char *mask60, float *border);

/* Summary of a score vector x (N), NaN entries ignored: frac = fraction of
 * the N units (NaN counts as not above) with x > threshold; max and mean
 * over non-NaN entries (NaN if all are NaN). */
typedef struct SpatialSummary { float frac, max, mean; int n_valid; } SpatialSummary;
SpatialSummary spatial_summary(const float *x, int N, double threshold);

#endif
