/* border.c -- border score of a rate map (Solstad et al. 2008, "Representation
 * of geometric borders in the entorhinal cortex", Science 322:1865).
 *
 * Dimensions: G rate-map bins per side (square map, row = y bin, column = x
 * bin), F firing fields.
 *
 *   r      = map - min(map)   over visited bins (so tanh / linear units, whose
 *            rates can be negative, are shifted to be >= 0; for ReLU units the
 *            minimum is usually 0 and nothing changes); unvisited (NaN) bins
 *            belong to no field
 *   field  = a 4-connected set of visited bins with r > field_frac * max(r),
 *            kept if it has at least min_bins bins
 *   c_M    = max over fields f and walls w of
 *            (bins of f in the row / column touching w) /
 *            (visited bins in that row / column)
 *   d_M    = sum_{fields} r(b) dist(b) / sum_{fields} r(b) / (G / 2),
 *            dist(b) = distance of the bin centre to the nearest wall, in bins
 *            (min(ix + 0.5, G - 0.5 - ix, iy + 0.5, G - 0.5 - iy)), so d_M is
 *            in (0, 1]
 *   b      = (c_M - d_M) / (c_M + d_M)            in [-1, 1)
 * NaN when the map is empty or flat, when no field has min_bins bins, or if
 * the scratch allocation fails.
 */
#include "score/spatial.h"

#include <math.h>
#include <stdlib.h>

float border_score(const float *map, int G, double field_frac, int min_bins)
{
    int *label = NULL, *stack = NULL;    /* (G, G) field id or -1; (G*G) */
    float result = NAN;
    if (!map || G < 1)
        return NAN;
    const int GG = G * G;
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < GG; i++) {
        if (isnan(map[i]))
            continue;
        if (map[i] < lo) lo = map[i];
        if (map[i] > hi) hi = map[i];
    }
    if (!(hi > lo))
        goto fail;
    const double thr = field_frac * (hi - lo);
    label = malloc((size_t)GG * sizeof *label);
    stack = malloc((size_t)GG * sizeof *stack);
    if (!label || !stack)
        goto fail;
    for (int i = 0; i < GG; i++)
        label[i] = -1;

    /* visited bins per wall: bottom (iy = 0), top, left (ix = 0), right */
    int wall_n[4] = {0, 0, 0, 0};
    for (int k = 0; k < G; k++) {
        wall_n[0] += !isnan(map[k]);
        wall_n[1] += !isnan(map[(G - 1) * G + k]);
        wall_n[2] += !isnan(map[k * G]);
        wall_n[3] += !isnan(map[k * G + G - 1]);
    }

    double c_m = 0.0, wsum = 0.0, wdist = 0.0;
    int n_fields = 0;
    for (int seed = 0; seed < GG; seed++) {
        if (label[seed] >= 0 || isnan(map[seed]) || !(map[seed] - lo > thr))
            continue;
        /* flood fill one field (depth first); stack[0..top) = bins labelled
         * but not yet visited */
        int top = 0, n = 0;
        int wall_hit[4] = {0, 0, 0, 0};
        double fsum = 0.0, fdist = 0.0;
        label[seed] = seed;
        stack[top++] = seed;
        while (top > 0) {
            int b = stack[--top];
            int iy = b / G, ix = b % G;
            double r = map[b] - lo;
            double d = fmin(fmin(ix + 0.5, G - 0.5 - ix), fmin(iy + 0.5, G - 0.5 - iy));
            fsum += r;
            fdist += r * d;
            n++;
            wall_hit[0] += iy == 0;
            wall_hit[1] += iy == G - 1;
            wall_hit[2] += ix == 0;
            wall_hit[3] += ix == G - 1;
            const int nb[4] = {iy > 0 ? b - G : -1, iy < G - 1 ? b + G : -1,
                               ix > 0 ? b - 1 : -1, ix < G - 1 ? b + 1 : -1};
            for (int k = 0; k < 4; k++) {
                int q = nb[k];
                if (q < 0 || label[q] >= 0 || isnan(map[q]) || !(map[q] - lo > thr))
                    continue;
                label[q] = seed;
                stack[top++] = q;
            }
        }
        if (n < min_bins)
            continue;
        n_fields++;
        wsum += fsum;
        wdist += fdist;
        for (int w = 0; w < 4; w++)
            if (wall_n[w] > 0 && (double)wall_hit[w] / wall_n[w] > c_m)
                c_m = (double)wall_hit[w] / wall_n[w];
    }
    if (n_fields == 0 || !(wsum > 0.0))
        goto fail;
    double d_m = wdist / wsum / (G / 2.0);
    result = (float)((c_m - d_m) / (c_m + d_m));
fail:
    free(label);
    free(stack);
    return result;
}
