/* gridgeom.h -- what a grid cell's map looks like and what it is not:
 * autocorrelogram peak geometry (spacing, orientation, ellipticity, angular
 * regularity), band score, ramp measure, spatial coherence, spatial
 * information, and the per-unit classification GRID / RAMP / BORDER / BAND
 * / OTHER_SPATIAL / NON_SPATIAL (gridgeom.c, gridclass.c).
 *
 * Dimensions: G rate-map bins per side, K = 2G-1 SAC side.
 *
 * Conventions (docs/spatial.md, "Grid geometry and classification", has the
 * equations and the papers):
 * - maps are (G, G) row-major, row = y bin, column = x bin, NaN = unvisited,
 *   as in spatial.h; a SAC is grid_sac's (K, K) double array, zero lag at
 *   [G-1][G-1], row = y lag;
 * - angles are degrees, counter-clockwise from +x (the column axis) towards
 *   +y (increasing row): a map drawn with origin='lower';
 * - lengths are in bins unless the name says cm.
 * No function keeps state or allocates beyond its own scratch; all are
 * thread-safe.  Functions returning double return NaN when the measure is
 * undefined (empty or flat map, too few bins), as documented per function.
 */
#ifndef SWEEP_GRIDGEOM_H
#define SWEEP_GRIDGEOM_H

#include "base/gridclass.h"
#include "score/spatial.h"

/* ---- parameters of the measures and of the rule -------------------------- */

/* Every threshold of docs/spatial.md, in one struct; gridclass_defaults()
 * gives the documented defaults. */
typedef struct GridClassParams {
    /* SAC peaks */
    double peak_min_r;      /* a peak's SAC value must exceed this (0) */
    double min_sep;         /* bins between kept peaks and the centre (3) */
    double ring_ratio;      /* n_peaks counts peaks within ring_ratio x the
                               nearest peak's distance (1.35) */
    /* band score */
    double band_half_width; /* degrees either side of one orientation (15) */
    /* the rule */
    double score60_min;     /* score60 threshold when no null threshold (0.3) */
    double band_min;        /* band >= band_min is a band (0.6) */
    double ramp_min;        /* ramp_r2 >= ramp_min is a ramp (0.5) */
    double border_min;      /* border > border_min is a border cell (0.6) */
    double min_periods;     /* grid: spacing * min_periods <= G (1.5) */
    double coherence_min;   /* coherence >= this is spatial (0.5) */
    double si_min;          /* spatial_info >= this is spatial (1.0 bit/spike) */
    /* border score (spatial.h border_score) */
    double field_frac;      /* 0.3, as the setting border_field_frac */
    int min_bins;           /* 5, as the setting border_min_bins */
} GridClassParams;

GridClassParams gridclass_defaults(void);

/* ---- SAC peak geometry ----------------------------------------------------- */

#define GRIDGEOM_SIX 6

typedef struct GridGeom {
    int n_found;             /* peaks kept (any distance) */
    int n_peaks;             /* kept peaks within ring_ratio x nearest distance */
    double spacing;          /* median distance of the six nearest, bins */
    double orientation_deg;  /* axis nearest 0 among the six, in [-90, 90);
                                in [-30, 30] for a regular hexagonal lattice */
    double ellipticity;      /* minor / major axis of the centred ellipse through
                                the six, in (0, 1]; 1 = circle */
    double angular_sd_deg;   /* population s.d. of the six angular gaps */
    double peak_y[GRIDGEOM_SIX], peak_x[GRIDGEOM_SIX]; /* the six (refined lags,
                                bins), nearest first; NaN when absent */
} GridGeom;

/* Peaks of a SAC (K, K), K = 2G-1, and the geometry of the six nearest:
 * local maxima strictly above their 8 neighbours and above p->peak_min_r
 * (pixels on the SAC's edge and the centre excluded), kept greedily highest
 * first when >= p->min_sep bins from the centre and from every kept peak;
 * positions refined by a least-squares quadratic on the 3 x 3
 * neighbourhood.  Geometry is NaN when fewer than six peaks are kept
 * (n_peaks and n_found are still set; 0 for a flat SAC).  Returns 0, or
 * -1 on bad arguments / out of memory. */
int gridgeom_peaks(const double *sac, int G, const GridClassParams *p, GridGeom *out);

/* ---- what is not a grid ------------------------------------------------------ */

/* Band score (after Krupic et al. 2012): fraction of the non-DC power of
 * the 2-D DFT of (map - mean of visited bins, unvisited = 0) whose
 * frequency orientation lies within +-half_width degrees (mod 180) of one
 * orientation, maximised over the orientations 0, 1, ..., 179 degrees.
 * About 1/3 for a hexagonal grid, 1/2 for a square one, ~1 for a band or a
 * wall field.  NaN for an empty or flat map. */
double gridgeom_band(const float *map, int G, double half_width);

/* R^2 of the least-squares plane z = a + b ix + c iy over the visited
 * bins; 1 for a planar ramp.  NaN with fewer than 3 visited bins, collinear
 * visited bins, or a flat map. */
double gridgeom_ramp_r2(const float *map, int G);

/* Spatial coherence: Pearson correlation of the values of 4-adjacent
 * visited bin pairs (each pair in both orders).  ~0 for white noise, ~1
 * for a smooth map.  NaN without such pairs or when they are all equal. */
double gridgeom_coherence(const float *map, int G);

/* Skaggs et al. (1993) spatial information, bits per spike:
 *   SI = sum_i p_i (r_i / rbar) log2(r_i / rbar),  p_i = occ_i / sum occ,
 *   rbar = sum_i p_i r_i,
 * over the bins with occ_i > 0 and a rate (map not NaN); rates are shifted
 * by their minimum when it is negative (tanh / linear units).  occ (G, G):
 * time or samples per bin.  NaN when no bin qualifies or rbar <= 0. */
double gridgeom_spatial_info(const float *map, const double *occ, int G);

/* ---- classification ---------------------------------------------------------- */

/* The classes and their codes: GRIDCLASS_TABLE and GridClass, in
 * base/gridclass.h (one table for every layer). */

/* "GRID", ...; "?" for a code out of range. */
const char *gridclass_name(int c);

/* Every measure of one unit. */
typedef struct GridUnit {
    float score60, score90;   /* grid_score (spatial.h) */
    GridGeom geom;
    double band, ramp_r2, border, coherence, spatial_info;
} GridUnit;

/* All measures of one map (G, G): gridness with g (made for this G), the
 * SAC geometry, band, ramp, border (p->field_frac, p->min_bins), coherence
 * and, when occ (G, G) is not NULL, spatial information (else NaN).
 * Returns 0, or -1 on bad arguments / out of memory. */
int gridclass_measure(const GridScorer *g, const float *map, const double *occ,
                      const GridClassParams *p, GridUnit *u);

/* The rule (docs/spatial.md), first match wins:
 *   score60 NaN (flat / empty map)                      NON_SPATIAL
 *   score60 > T and n_peaks == 6 and spacing * min_periods <= G
 *     and not ramp and not band                         GRID
 *   ramp_r2 >= ramp_min                                 RAMP
 *   border > border_min                                 BORDER
 *   band >= band_min                                    BAND
 *   coherence >= coherence_min or spatial_info >= si_min  OTHER_SPATIAL
 *   else                                                NON_SPATIAL
 * T = null_threshold (the network's shuffle-null threshold), or
 * p->score60_min when null_threshold is NaN.  NaN measures compare false. */
GridClass gridclass_classify(const GridUnit *u, int G, double null_threshold,
                             const GridClassParams *p);

#endif
