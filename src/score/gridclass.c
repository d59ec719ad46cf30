/* gridclass.c -- every measure of one unit and the per-unit class
 * (GRID / RAMP / BORDER / BAND / OTHER_SPATIAL / NON_SPATIAL).
 *
 * Dimensions: G rate-map bins per side, K = 2G-1 SAC side.
 *
 * The rule (docs/spatial.md, "Classification"), first match wins, T the
 * network's shuffle-null threshold (gridnull.h) or, without one,
 * score60_min:
 *   score60 NaN (no visited bin, or all equal)             NON_SPATIAL
 *   score60 > T, n_peaks == 6, spacing * min_periods <= G,
 *     ramp_r2 < ramp_min, band < band_min                  GRID
 *   ramp_r2 >= ramp_min                                    RAMP
 *   border > border_min                                    BORDER
 *   band >= band_min                                       BAND
 *   coherence >= coherence_min or SI >= si_min             OTHER_SPATIAL
 *   else                                                   NON_SPATIAL
 * Ramps come before border and band because a planar ramp also has a
 * one-orientation spectrum and, tilted, a border score near 0.5; a wall
 * field (one stripe) is a band in Fourier terms, so BORDER comes before BAND.
 */
#include "score/gridgeom.h"

#include <math.h>
#include <stdlib.h>

static const char *const class_names[GRIDCLASS_N] = {
#define GRIDCLASS_NAME_(NAME, name) #NAME,
    GRIDCLASS_TABLE(GRIDCLASS_NAME_)
#undef GRIDCLASS_NAME_
};

const char *gridclass_name(int c)
{
    return c >= 0 && c < GRIDCLASS_N ? class_names[c] : "?";
}

int gridclass_measure(const GridScorer *g, const float *map, const double *occ,
                      const GridClassParams *p, GridUnit *u)
{
    double *sac = NULL;
    if (!g || !map || !p || !u)
        return -1;
    const int G = grid_scorer_bins(g), K = 2 * G - 1;
    sac = malloc((size_t)K * K * sizeof *sac);
    if (!sac)
        goto fail;
    if (grid_score(g, map, &u->score60, &u->score90, NULL, NULL) < 0)
        goto fail;
    if (grid_sac(map, G, sac) < 0 || gridgeom_peaks(sac, G, p, &u->geom) < 0)
        goto fail;
    if (isnan(u->score60)) {            /* flat or empty map: no peaks either */
        u->geom.n_found = u->geom.n_peaks = 0;
        u->geom.spacing = u->geom.orientation_deg = NAN;
        u->geom.ellipticity = u->geom.angular_sd_deg = NAN;
        for (int k = 0; k < GRIDGEOM_SIX; k++)
            u->geom.peak_y[k] = u->geom.peak_x[k] = NAN;
    }
    u->band = gridgeom_band(map, G, p->band_half_width);
    u->ramp_r2 = gridgeom_ramp_r2(map, G);
    u->border = border_score(map, G, p->field_frac, p->min_bins);
    u->coherence = gridgeom_coherence(map, G);
    u->spatial_info = occ ? gridgeom_spatial_info(map, occ, G) : NAN;
    free(sac);
    return 0;
fail:
    free(sac);
    return -1;
}

GridClass gridclass_classify(const GridUnit *u, int G, double null_threshold,
                             const GridClassParams *p)
{
    if (!u || !p || isnan(u->score60))
        return GRIDCLASS_NON_SPATIAL;
    const double T = isnan(null_threshold) ? p->score60_min : null_threshold;
    const int ramp = u->ramp_r2 >= p->ramp_min;
    const int band = u->band >= p->band_min;
    const int fits = u->geom.spacing * p->min_periods <= (double)G;
    if (u->score60 > T && u->geom.n_peaks == GRIDGEOM_SIX && fits && !ramp && !band)
        return GRIDCLASS_GRID;
    if (ramp)
        return GRIDCLASS_RAMP;
    if (u->border > p->border_min)
        return GRIDCLASS_BORDER;
    if (band)
        return GRIDCLASS_BAND;
    if (u->coherence >= p->coherence_min || u->spatial_info >= p->si_min)
        return GRIDCLASS_OTHER_SPATIAL;
    return GRIDCLASS_NON_SPATIAL;
}
