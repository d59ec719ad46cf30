/* ratemap.c -- rate maps: mean activation of each hidden unit per spatial bin.
 *
 * Dimensions: n samples, N hidden units, G bins per side.
 *
 * Binning follows numpy.histogram2d / scipy.stats.binned_statistic_2d with
 * range = [[xmin, xmax], [ymin, ymax]] and bins = G:
 *   edge_k = xmin + k * ((xmax - xmin) / G),  k = 0..G   (numpy.linspace;
 *            the last edge is xmax itself)
 *   bin i   holds edge_i <= x < edge_{i+1}; the last bin also holds
 *           x >= xmax when x rounds to xmax at 10^-(int(-log10(width)) + 6)
 *           (scipy's rule: numpy.around(x, decimal) == numpy.around(xmax,
 *           decimal); it catches float32 positions on the far wall, e.g.
 *           float(1.1f) > 1.1)
 *   x < xmin (even by one ulp), beyond that or NaN: the sample is dropped.
 * map[u][iy][ix] = sum of act[., u] over the bin / count; NaN when count = 0
 * (binned_statistic_2d's 'mean' gives NaN for empty bins).  The maps are
 * stored row = y bin, column = x bin (the transpose of binned_statistic_2d's
 * [x][y] layout; gridness and border score are invariant under it).
 */
#include "score/spatial.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* edges (G+1) as numpy.linspace(lo, hi, G+1): lo + k*step, last = hi. */
static void linspace_edges(double lo, double hi, int G, double *edge)
{
    double step = (hi - lo) / G;
    for (int k = 0; k <= G; k++)
        edge[k] = (double)k * step + lo;
    edge[G] = hi;
}

/* scipy's rounding scale for the right edge: 10^(int(-log10(min bin
 * width)) + 6) (binned_statistic_dd, _bin_numbers). */
static double edge_scale(const double *edge, int G)
{
    double dmin = INFINITY;
    for (int k = 0; k < G; k++)
        if (edge[k + 1] - edge[k] < dmin)
            dmin = edge[k + 1] - edge[k];
    return pow(10.0, (double)((int)(-log10(dmin)) + 6));
}

/* numpy.around(v, decimals) with p = 10^decimals: rint(v * p) / p */
static double round_to(double v, double p) { return rint(v * p) / p; }

/* Bin of v among edges (G+1), or -1 when outside or NaN.  Right edge as
 * scipy: v >= edge_G that rounds (scale p) to edge_G is in the last bin. */
static int bin_of(double v, const double *edge, int G, double p)
{
    if (!(v >= edge[0]))
        return -1;
    if (v >= edge[G])
        return round_to(v, p) == round_to(edge[G], p) ? G - 1 : -1;
    /* a first guess, then the exact edge rule edge_i <= v < edge_{i+1} */
    int i = (int)((v - edge[0]) / (edge[G] - edge[0]) * G);
    if (i < 0)
        i = 0;
    if (i > G - 1)
        i = G - 1;
    while (i > 0 && v < edge[i])
        i--;
    while (i < G - 1 && v >= edge[i + 1])
        i++;
    return i;
}

int ratemap_acc_init(RateMapAcc *acc, int N, int G, double xmin, double xmax,
                     double ymin, double ymax)
{
    memset(acc, 0, sizeof *acc);
    if (N < 1 || G < 1 || !(xmax > xmin) || !(ymax > ymin))
        return -1;
    acc->N = N;
    acc->G = G;
    acc->xmin = xmin;
    acc->xmax = xmax;
    acc->ymin = ymin;
    acc->ymax = ymax;
    acc->xedge = malloc((size_t)(G + 1) * sizeof *acc->xedge);
    acc->yedge = malloc((size_t)(G + 1) * sizeof *acc->yedge);
    acc->sum = calloc((size_t)G * G * N, sizeof *acc->sum);
    acc->count = calloc((size_t)G * G, sizeof *acc->count);
    if (!acc->xedge || !acc->yedge || !acc->sum || !acc->count)
        goto fail;
    linspace_edges(xmin, xmax, G, acc->xedge);
    linspace_edges(ymin, ymax, G, acc->yedge);
    acc->xscale = edge_scale(acc->xedge, G);
    acc->yscale = edge_scale(acc->yedge, G);
    return 0;
fail:
    ratemap_acc_free(acc);
    return -1;
}

void ratemap_acc_reset(RateMapAcc *acc)
{
    memset(acc->sum, 0, (size_t)acc->G * acc->G * acc->N * sizeof *acc->sum);
    memset(acc->count, 0, (size_t)acc->G * acc->G * sizeof *acc->count);
}

size_t ratemap_acc_add(RateMapAcc *acc, const float *act, const float *pos, size_t n)
{
    const int N = acc->N, G = acc->G;
    size_t inside = 0;
    for (size_t s = 0; s < n; s++) {
        int ix = bin_of(pos[2 * s], acc->xedge, G, acc->xscale);
        int iy = bin_of(pos[2 * s + 1], acc->yedge, G, acc->yscale);
        if (ix < 0 || iy < 0)
            continue;
        size_t b = (size_t)iy * G + ix;
        double *sum = acc->sum + b * N;          /* (N) */
        const float *a = act + s * (size_t)N;    /* (N) */
        for (int u = 0; u < N; u++)
            sum[u] += a[u];
        acc->count[b]++;
        inside++;
    }
    return inside;
}

int ratemap_acc_bin(const RateMapAcc *acc, float x, float y)
{
    int ix = bin_of(x, acc->xedge, acc->G, acc->xscale);
    int iy = bin_of(y, acc->yedge, acc->G, acc->yscale);
    return ix < 0 || iy < 0 ? -1 : iy * acc->G + ix;
}

void ratemap_acc_finish(const RateMapAcc *acc, float *maps, int *counts)
{
    const int N = acc->N, G = acc->G;
    const size_t GG = (size_t)G * G;
    for (size_t b = 0; b < GG; b++) {
        long c = acc->count[b];
        const double *sum = acc->sum + b * N;
        for (int u = 0; u < N; u++)
            maps[(size_t)u * GG + b] = c > 0 ? (float)(sum[u] / (double)c) : NAN;
        if (counts)
            counts[b] = c > 2147483647L ? 2147483647 : (int)c;
    }
}

void ratemap_acc_free(RateMapAcc *acc)
{
    free(acc->xedge);
    free(acc->yedge);
    free(acc->sum);
    free(acc->count);
    acc->xedge = acc->yedge = NULL;
    acc->sum = NULL;
    acc->count = NULL;
}

int ratemap_compute(const float *act, const float *pos, size_t n, int N,
                    double xmin, double xmax, double ymin, double ymax,
                    int G, float *maps, int *counts)
{
    RateMapAcc acc;
    if ((n > 0 && (!act || !pos)) || !maps)
        return -1;
    if (ratemap_acc_init(&acc, N, G, xmin, xmax, ymin, ymax) != 0)
        return -1;
    ratemap_acc_add(&acc, act, pos, n);
    ratemap_acc_finish(&acc, maps, counts);
    ratemap_acc_free(&acc);
    return 0;
}
