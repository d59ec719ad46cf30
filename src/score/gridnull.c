/* gridnull.c -- shuffle null of score60 and grid-cell classification.
 *
 * Dimensions: N hidden units, U kept units, C sample capacity, n samples
 * stored, S shuffles, Sb shuffles per binning pass, G bins per side,
 * K = GRIDNULL_CHUNK samples gathered at a time.
 *
 * Method (gridnull.h, docs/spatial.md "Shuffle null"):
 *   kept units  U = min(N, keep) drawn without replacement (partial
 *               Fisher-Yates on 0..N-1), stored ascending
 *   shuffle k   j_k uniform over kept units with finite score60,
 *               s_k uniform integer in [m, n - m]
 *   map_k[b]    = sum_{i: bin(pos_i) = b} act[j_k][(i + s_k) mod n] / count_b
 *               (a RateMapAcc with one column per shuffle, so the binning is
 *               the rate maps' own; Sb shuffles share one pass)
 *   null_k      = score60(map_k), NaN (dropped) for a flat map
 *   threshold   = numpy.percentile(finite null, q)  ('linear')
 *   streamed    the same sums, accumulated from the replayed series in two
 *               passes (j >= s_k, then j < s_k) so that each runs over
 *               i = (j - s_k) mod n in increasing order (gridnull.h)
 *   p[u]        = (1 + #{null >= score60[u]}) / (1 + n_null)
 *   flag[u]     = score60[u] > threshold
 */
#include "score/gridnull.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Uniform integer in [0, k), k >= 1: floor(U * k), U in [0, 1) with 53
 * bits (bias < k / 2^53). */
static long uniform_below(Rng *r, long k)
{
    long v = (long)(rng_uniform(r) * (double)k);
    return v < k ? v : k - 1;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

void gridnull_free(GridNull *g)
{
    free(g->unit);
    free(g->act);
    free(g->pos);
    free(g->eligible);
    free(g->pick);
    free(g->shift);
    free(g->null);
    free(g->sorted);
    free(g->chunk);
    free(g->src);
    free(g->cur);
    free(g->maps);
    free(g->bin);
    free(g->ssum);
    free(g->smaps);
    ratemap_acc_free(&g->acc);
    memset(g, 0, sizeof *g);
}

size_t gridnull_bytes(int N, int keep, int S, size_t cap, int G, int streamed)
{
    size_t U = (size_t)(keep < N ? keep : N), GG = (size_t)G * (size_t)G;
    if (streamed) return cap * sizeof(int) + (size_t)S * GG * (sizeof(double) + sizeof(float));
    return U * cap * sizeof(float) + cap * 2 * sizeof(float);
}

int gridnull_init(GridNull *g, int N, int keep, int S, size_t cap, int G, double xmin, double xmax,
                  double ymin, double ymax, Rng *r)
{
    return gridnull_init_mode(g, N, keep, S, cap, G, xmin, xmax, ymin, ymax, r, 0);
}

int gridnull_init_mode(GridNull *g, int N, int keep, int S, size_t cap, int G, double xmin, double xmax,
                       double ymin, double ymax, Rng *r, int streamed)
{
    int *perm = NULL;
    memset(g, 0, sizeof *g);
    if (N < 1 || keep < 1 || S < 1 || cap < 1 || G < 2)
        return -1;
    g->N = N;
    g->U = keep < N ? keep : N;
    g->G = G;
    g->S = S;
    g->Sb = S < GRIDNULL_BATCH ? S : GRIDNULL_BATCH;
    g->cap = cap;
    g->streamed = streamed != 0;
    const size_t U = (size_t)g->U, Sz = (size_t)S, Sb = (size_t)g->Sb, GG = (size_t)G * G;
    perm = malloc((size_t)N * sizeof *perm);
    g->unit = malloc(U * sizeof *g->unit);
    if (g->streamed) {
        g->bin = malloc(cap * sizeof *g->bin);
        g->ssum = malloc(Sz * GG * sizeof *g->ssum);
        g->smaps = malloc(Sz * GG * sizeof *g->smaps);
        if (!g->bin || !g->ssum || !g->smaps)
            goto fail;
    } else {
        g->act = malloc(U * cap * sizeof *g->act);
        g->pos = malloc(cap * 2 * sizeof *g->pos);
        if (!g->act || !g->pos)
            goto fail;
    }
    g->eligible = malloc(U * sizeof *g->eligible);
    g->pick = malloc(Sz * sizeof *g->pick);
    g->shift = malloc(Sz * sizeof *g->shift);
    g->null = malloc(Sz * sizeof *g->null);
    g->sorted = malloc(Sz * sizeof *g->sorted);
    g->chunk = malloc((size_t)GRIDNULL_CHUNK * Sb * sizeof *g->chunk);
    g->maps = malloc(Sb * GG * sizeof *g->maps);
    g->src = malloc(Sb * sizeof *g->src);
    g->cur = malloc(Sb * sizeof *g->cur);
    if (!perm || !g->unit || !g->eligible || !g->pick || !g->shift || !g->null ||
        !g->sorted || !g->chunk || !g->maps || !g->src || !g->cur)
        goto fail;
    if (ratemap_acc_init(&g->acc, g->Sb, G, xmin, xmax, ymin, ymax) != 0)
        goto fail;
    /* partial Fisher-Yates: perm[0..U) is a uniform random U-subset */
    for (int i = 0; i < N; i++)
        perm[i] = i;
    for (int i = 0; i < g->U; i++) {
        int j = i + (int)uniform_below(r, N - i);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    memcpy(g->unit, perm, U * sizeof *g->unit);
    qsort(g->unit, U, sizeof *g->unit, cmp_int);
    free(perm);
    return 0;
fail:
    free(perm);
    gridnull_free(g);
    return -1;
}

void gridnull_reset(GridNull *g)
{
    g->n = 0;
    g->planned = 0;
}

size_t gridnull_add(GridNull *g, const float *act, const float *pos, size_t n)
{
    size_t room = g->cap - g->n;
    if (n > room)
        n = room;
    const size_t N = (size_t)g->N, C = g->cap;
    if (g->streamed) {
        for (size_t s = 0; s < n; s++)
            g->bin[g->n + s] = ratemap_acc_bin(&g->acc, pos[2 * s], pos[2 * s + 1]);
        g->n += n;
        return n;
    }
    for (size_t s = 0; s < n; s++) {
        const float *a = act + s * N;          /* (N) */
        const size_t i = g->n + s;
        for (int j = 0; j < g->U; j++)
            g->act[(size_t)j * C + i] = a[g->unit[j]];
        g->pos[2 * i] = pos[2 * s];
        g->pos[2 * i + 1] = pos[2 * s + 1];
    }
    g->n += n;
    return n;
}

int gridnull_maps(GridNull *g, const int *pick, const long *shift, int k, float *maps)
{
    if (g->streamed || k < 1 || k > g->Sb || !pick || !shift || !maps || g->n < 1)
        return -1;
    for (int c = 0; c < k; c++)
        if (pick[c] < 0 || pick[c] >= g->U || shift[c] < 0 || (size_t)shift[c] >= g->n)
            return -1;
    const size_t n = g->n, Sb = (size_t)g->Sb, GG = (size_t)g->G * g->G;
    ratemap_acc_reset(&g->acc);
    for (int c = 0; c < k; c++) {
        g->src[c] = g->act + (size_t)pick[c] * g->cap;
        g->cur[c] = (size_t)shift[c];
    }
    if ((size_t)k < Sb) /* unused columns of a partial batch: zeros */
        for (size_t i = 0; i < (size_t)GRIDNULL_CHUNK; i++)
            memset(g->chunk + i * Sb + k, 0, (Sb - (size_t)k) * sizeof *g->chunk);
    for (size_t i0 = 0; i0 < n; i0 += GRIDNULL_CHUNK) {
        size_t i1 = i0 + GRIDNULL_CHUNK < n ? i0 + GRIDNULL_CHUNK : n;
        /* chunk[i - i0][c] = act[pick[c]][(i + shift[c]) mod n]: row by
         * row, k sequential read streams (cur[c] = offset of sample i) */
        for (size_t i = i0; i < i1; i++) {
            float *row = g->chunk + (i - i0) * Sb;
            for (int c = 0; c < k; c++) {
                row[c] = g->src[c][g->cur[c]];
                if (++g->cur[c] == n)
                    g->cur[c] = 0;
            }
        }
        ratemap_acc_add(&g->acc, g->chunk, g->pos + 2 * i0, i1 - i0);
    }
    ratemap_acc_finish(&g->acc, g->maps, NULL);
    if (maps != g->maps)
        memcpy(maps, g->maps, (size_t)k * GG * sizeof *maps);
    return 0;
}

float gridnull_percentile(const float *x, int n, double q)
{
    if (n < 1)
        return NAN;
    /* numpy 'linear': h = (n - 1) q / 100, interpolate x[floor h], x[floor h + 1] */
    double h = (double)(n - 1) * q / 100.0;
    if (h <= 0)
        return x[0];
    int lo = (int)floor(h);
    if (lo >= n - 1)
        return x[n - 1];
    double t = h - lo;
    return (float)((double)x[lo] + t * ((double)x[lo + 1] - (double)x[lo]));
}

float gridnull_pvalue(const float *x, int n, float score)
{
    if (n < 1 || isnan(score))
        return NAN;
    /* first index with x[i] >= score (x ascending) */
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (x[mid] >= score)
            hi = mid;
        else
            lo = mid + 1;
    }
    return (float)((1.0 + (double)(n - lo)) / (1.0 + (double)n));
}

/* Eligible kept units, the minimum shift and, when there is a null, every
 * (unit, shift) in order from r.  Returns 1 with a null, 0 without (then
 * p, flag and *sum say so), -1 on bad arguments. */
static int draw(GridNull *g, const float *score60, long min_shift, Rng *r, float *p, signed char *flag,
                GridNullSummary *sum)
{
    const int N = g->N, S = g->S;
    const long n = (long)g->n;
    int n_elig = 0;
    for (int j = 0; j < g->U; j++)
        if (isfinite(score60[g->unit[j]]))
            g->eligible[n_elig++] = j;
    long m = min_shift > n / 4 ? n / 4 : min_shift;
    if (m < 1)
        m = 1;
    g->m = m;
    g->n_elig = n_elig;
    if (sum) {
        sum->threshold = NAN;
        sum->frac = NAN;
        sum->n_null = 0;
        sum->min_shift = m;
    }
    if (n < 2 || n_elig == 0) {
        for (int u = 0; u < N; u++) {
            if (p) p[u] = NAN;
            if (flag) flag[u] = -1;
        }
        return 0;
    }
    /* every (unit, shift) first, in order: s_k uniform in [m, n - m] */
    for (int k = 0; k < S; k++) {
        g->pick[k] = g->eligible[uniform_below(r, n_elig)];
        g->shift[k] = m + uniform_below(r, n - 2 * m + 1);
    }
    return 1;
}

/* From the null scores null (S): threshold, p, flag, *sum. */
static void classify(GridNull *g, const float *score60, double q, float *p, signed char *flag,
                     GridNullSummary *sum)
{
    const int N = g->N, S = g->S;
    int nn = 0;
    for (int k = 0; k < S; k++)
        if (isfinite(g->null[k]))
            g->sorted[nn++] = g->null[k];
    qsort(g->sorted, (size_t)nn, sizeof *g->sorted, cmp_float);
    sum->n_null = nn;
    if (nn == 0) {
        for (int u = 0; u < N; u++) {
            if (p) p[u] = NAN;
            if (flag) flag[u] = -1;
        }
        return;
    }
    float thr = gridnull_percentile(g->sorted, nn, q);
    int flagged = 0;
    for (int u = 0; u < N; u++) {
        int f = score60[u] > thr;   /* NaN: not flagged */
        flagged += f;
        if (flag) flag[u] = (signed char)f;
        if (p) p[u] = gridnull_pvalue(g->sorted, nn, score60[u]);
    }
    sum->threshold = thr;
    sum->frac = (float)flagged / (float)N;
}

int gridnull_run(GridNull *g, const GridScorer *sc, const float *score60, long min_shift, double q, Rng *r,
                 float *p, signed char *flag, GridNullSummary *sum)
{
    if (!g || g->streamed || !sc || !score60 || !r || !sum || grid_scorer_bins(sc) != g->G || !(q >= 0 && q <= 100))
        return -1;
    const int S = g->S;
    if (draw(g, score60, min_shift, r, p, flag, sum) == 0)
        return 0;
    for (int k0 = 0; k0 < S; k0 += g->Sb) {
        int k = S - k0 < g->Sb ? S - k0 : g->Sb;
        if (gridnull_maps(g, g->pick + k0, g->shift + k0, k, g->maps) != 0)
            return -1;
        if (spatial_score_units(g->maps, k, g->G, sc, 0.0, 1, g->null + k0, NULL, NULL, NULL) != 0)
            return -1;
    }
    classify(g, score60, q, p, flag, sum);
    return 0;
}

int gridnull_plan(GridNull *g, const float *score60, long min_shift, Rng *r)
{
    if (!g || !g->streamed || !score60 || !r)
        return -1;
    g->planned = draw(g, score60, min_shift, r, NULL, NULL, NULL);
    if (!g->planned)
        return 0;
    memset(g->ssum, 0, (size_t)g->S * g->G * g->G * sizeof *g->ssum);
    return 2;
}

enum { STREAM_WAYS = 4 }; /* shuffles added in one loop (gridnull_stream) */
_Static_assert(STREAM_WAYS == 4, "gridnull_stream's loop is written out for four shuffles");

/* Samples [a, b) of shuffle k into its sums: j -> i = j - s (pass 0) or
 * j + n - s (pass 1), sum[bin[i]] += col[j - c0], in increasing j. */
static void stream_one(GridNull *g, int pass, int k, const float *col, size_t c0, size_t a, size_t b)
{
    const size_t ns = g->n, s = (size_t)g->shift[k];
    const size_t off = pass == 0 ? 0 : ns; /* i = j + off - s, j >= s in pass 0 */
    double *sum = g->ssum + (size_t)k * g->G * g->G;
    for (size_t j = a; j < b; j++) {
        int bi = g->bin[j + off - s];
        if (bi >= 0) sum[bi] += col[j - c0];
    }
}

/* The samples arrive as rows of all N units (stride N floats, 512 B at
 * N = 128): a shuffle reading its one unit straight from them touched a
 * cache line a sample, and the S shuffles walked the rows S times.  So
 * the kept units' activity of a block of W = GRIDNULL_CHUNK Sb / U samples
 * is gathered first, unit-major, into g->chunk (unused by the streamed way otherwise;
 * GRIDNULL_CHUNK * Sb floats), and each shuffle reads its unit's
 * contiguous column.  Four shuffles that cover the whole block are added
 * in one loop: their sums are separate, and a run of samples in one bin
 * (the trajectories stay in a bin for a few steps) no longer waits on the
 * previous addition to the same sum.  Every sum still takes its samples in
 * increasing j, the order of the stored way: the same bits (test_gridnull,
 * test_streamed). */
void gridnull_stream(GridNull *g, int pass, const float *act, size_t j0, size_t n)
{
    if (!g->planned)
        return;
    const size_t N = (size_t)g->N, ns = g->n, GG = (size_t)g->G * g->G, U = (size_t)g->U;
    if (j0 >= ns)
        return;
    if (n > ns - j0)
        n = ns - j0;
    size_t W = (size_t)GRIDNULL_CHUNK * (size_t)g->Sb / U; /* samples per block: (U, W) fits g->chunk */
    if (W < 1) W = 1;
    for (size_t c0 = j0; c0 < j0 + n; c0 += W) {
        const size_t c1 = c0 + W < j0 + n ? c0 + W : j0 + n, w = c1 - c0;
        float *cols = g->chunk; /* (U, w) */
        for (size_t j = c0; j < c1; j++) {
            const float *row = act + (j - j0) * N;
            for (size_t u = 0; u < U; u++) cols[u * w + (j - c0)] = row[g->unit[u]];
        }
        /* shuffles that take every sample of the block go four at a time
         * (pass 0: shuffle k takes j in [s_k, n), pass 1: j in [0, s_k));
         * those that take part of it, one at a time */
        int four[STREAM_WAYS], nf = 0;
        for (int k = 0; k < g->S; k++) {
            const size_t s = (size_t)g->shift[k];
            if (pass == 0 ? s > c0 : s < c1) {
                size_t a = pass == 0 ? s : c0, b = pass == 0 ? c1 : s;
                if (a < b) stream_one(g, pass, k, cols + (size_t)g->pick[k] * w, c0, a, b);
                continue;
            }
            four[nf++] = k;
            if (nf < STREAM_WAYS) continue;
            nf = 0;
            const int *bin[STREAM_WAYS]; /* bin[q][jj]: the bin of sample c0 + jj's i for shuffle four[q] */
            const float *col[STREAM_WAYS];
            double *sum[STREAM_WAYS];
            for (int q = 0; q < STREAM_WAYS; q++) {
                const size_t sq = (size_t)g->shift[four[q]];
                bin[q] = g->bin + (pass == 0 ? c0 - sq : c0 + ns - sq);
                col[q] = cols + (size_t)g->pick[four[q]] * w;
                sum[q] = g->ssum + (size_t)four[q] * GG;
            }
#define STREAM_ADD(q)                                        \
    do {                                                     \
        int i_ = bin[q][jj];                                 \
        if (i_ >= 0) sum[q][i_] += col[q][jj];               \
    } while (0)
            for (size_t jj = 0; jj < w; jj++) { /* written out: one load and store each */
                STREAM_ADD(0);
                STREAM_ADD(1);
                STREAM_ADD(2);
                STREAM_ADD(3);
            }
#undef STREAM_ADD
        }
        for (int q = 0; q < nf; q++) stream_one(g, pass, four[q], cols + (size_t)g->pick[four[q]] * w, c0, c0, c1);
    }
}

int gridnull_finish(GridNull *g, const GridScorer *sc, const float *score60, double q, float *p,
                    signed char *flag, GridNullSummary *sum)
{
    if (!g || !g->streamed || !sc || !score60 || !sum || grid_scorer_bins(sc) != g->G || !(q >= 0 && q <= 100))
        return -1;
    const int N = g->N, S = g->S;
    const size_t GG = (size_t)g->G * g->G;
    sum->threshold = NAN;
    sum->frac = NAN;
    sum->n_null = 0;
    sum->min_shift = g->m;
    if (!g->planned) {
        for (int u = 0; u < N; u++) {
            if (p) p[u] = NAN;
            if (flag) flag[u] = -1;
        }
        return 0;
    }
    /* counts per bin (the same for every shuffle), then map = sum / count
     * as ratemap_acc_finish, NaN unvisited */
    long *count = g->acc.count;
    memset(count, 0, GG * sizeof *count);
    for (size_t i = 0; i < g->n; i++)
        if (g->bin[i] >= 0)
            count[g->bin[i]]++;
    for (int k = 0; k < S; k++)
        for (size_t b = 0; b < GG; b++) {
            long c = count[b];
            g->smaps[(size_t)k * GG + b] = c > 0 ? (float)(g->ssum[(size_t)k * GG + b] / (double)c) : NAN;
        }
    for (int k0 = 0; k0 < S; k0 += g->Sb) {
        int k = S - k0 < g->Sb ? S - k0 : g->Sb;
        if (spatial_score_units(g->smaps + (size_t)k0 * GG, k, g->G, sc, 0.0, 1, g->null + k0, NULL, NULL, NULL) != 0)
            return -1;
    }
    classify(g, score60, q, p, flag, sum);
    return 0;
}
