/* gridscore.c -- spatial autocorrelogram (SAC) and gridness scores.
 *
 * Dimensions: G rate-map bins per side, K = 2G-1 SAC side, P ring pixels
 * (lags with 0.2 G < |lag| <= G), A = 7 rotation angles, M = 10 ring masks,
 * N hidden units.
 *
 * The algorithm is the 2018 DeepMind GridScorer (Banino et al. 2018,
 * "Vector-based navigation using grid-like representations in artificial
 * agents", code scores.py; also used by Sorscher et al. 2019), written from
 * its published description:
 *
 * 1. SAC.  Unvisited (NaN) bins become 0 and still count as overlapping bins.
 *    For a lag d = (dy, dx), over the n = (G-|dy|)(G-|dx|) pairs
 *    (a, b) = (x[p], x[p+d]):
 *      std_a = sqrt(sum a^2 / n - (sum a)^2 / n^2)     (likewise std_b)
 *      cov   = sum a b / n - (sum a)(sum b) / n^2
 *      sac[d] = cov / (std_a std_b),  0 where a side is constant:
 *      var <= 64 eps E[a^2] (0/0 in exact arithmetic; the reference divides
 *      the rounding residues and gets anything, up to +-1.8e308).
 *    All five sums directly, in double (about 5 G^4 / 2 flops; SAC(-d) =
 *    SAC(d) gives the other half).
 * 2. Rotation by 30, 45, 60, 90, 120, 135, 150 degrees as
 *    scipy.ndimage.rotate(sac, angle, reshape=False) with the defaults
 *    order=3, mode='constant', cval=0, prefilter=True (scipy >= 1.6):
 *    - prefilter: cubic B-spline coefficients, separable, along each axis
 *      gain (1-z)(1-1/z) = 6 then a causal and an anticausal first-order
 *      recursion with pole z = sqrt(3) - 2 (Unser, Aldroubi & Eden 1991),
 *      initialised for the whole-sample MIRROR extension: scipy's
 *      mode='constant' prefilters with mirror boundaries, no padding;
 *    - output pixel o = (i, j) reads input coordinate
 *        c = R (o - ctr) + ctr,  R = [[cos, sin], [-sin, cos]],  ctr = G-1,
 *      computed as scipy does (offset = ctr - R ctr; c = offset + R o) with
 *      cos/sin of the angle in degrees exactly as scipy.special.cosdg/sindg
 *      return them (cephes; table below, so 90 degrees is exact);
 *    - if a coordinate is < 0 or > K-1 the value is cval = 0 ("no
 *      interpolation beyond the edges"); otherwise the 4 x 4 cubic B-spline
 *      taps at floor(c)-1 .. floor(c)+2, a tap past the edge reading the
 *      mirrored coefficient (index -k -> k, K-1+k -> K-1-k).
 *    The whole map from coefficients to ring pixels is fixed per (G, angle):
 *    it is precomputed once in grid_scorer_new as separable 4+4 taps.
 * 3. Ring masks on integer lags: |lag| = sqrt(dx^2 + dy^2) (double), mask k
 *    is  0.2 G < |lag| <= r_k,  r_k = linspace(0.4, 1.0, 10)[k] * G
 *    (circle_mask uses <=; the ring is outer minus inner disc).
 * 4. Per mask: m = mean(sac), var = mean((sac - m)^2) + 1e-5,
 *    c_a = mean((sac - m)(rot_a - m)) / var, all over the ring pixels.
 * 5. score60 = (c60 + c120)/2 - (c30 + c90 + c150)/3  (mean_diff), or
 *    min(c60, c120) - max(c30, c90, c150)  (min_max);
 *    score90 = c90 - (c45 + c135)/2; each the maximum over the masks,
 *    mask60 = first mask reaching the maximum of score60.
 * A map whose visited bins are all equal (or that has none) is scored NaN.
 * Differences from the reference, both degenerate: a lag where one side of
 * the overlap is constant gives 0 here, also when rounding leaves a residue
 * (the reference then returns noise, or +-1.8e308 from nan_to_num); an
 * empty mask (G < 3) is skipped (the reference would return NaN).
 */
#include "score/spatial.h"
#include "base/config.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* angles, in this order: 30, 45, 60, 90, 120, 135, 150 degrees */
enum { A30 = 0, A45, A60, A90, A120, A135, A150 };

/* cos, sin of each angle in degrees as scipy.special.cosdg / sindg (cephes)
 * return them: within 1 ulp of the exact values, exact at 90 degrees. */
static const double grid_cos[GRID_N_ANGLES] = {
    0x1.bb67ae8584cabp-1, 0x1.6a09e667f3bccp-1, 0x1.fffffffffffffp-2, -0.0,
    -0x1.fffffffffffffp-2, -0x1.6a09e667f3bcdp-1, -0x1.bb67ae8584cabp-1};
static const double grid_sin[GRID_N_ANGLES] = {
    0x1.fffffffffffffp-2, 0x1.6a09e667f3bcdp-1, 0x1.bb67ae8584cabp-1, 1.0,
    0x1.bb67ae8584cabp-1, 0x1.6a09e667f3bccp-1, 0x1.fffffffffffffp-2};

/* One output pixel's interpolation: taps rows (4) x cols (4) of the
 * coefficient array; inside = 0 means the value is cval = 0. */
typedef struct RotTap {
    int inside;
    int row[4], col[4];
    double wr[4], wc[4];
} RotTap;

struct GridScorer {
    int G, K, variant;
    int P;                       /* ring pixels (union of the masks) */
    int *ring;                   /* (P) index into the (K, K) SAC, by distance */
    int mask_n[GRID_N_MASKS];    /* mask k = the first mask_n[k] ring pixels */
    RotTap *tap;                 /* (A, P) */
};

/* ---- construction ---------------------------------------------------- */

typedef struct { int d2, idx; } RingPix;

static int ringpix_cmp(const void *a, const void *b)
{
    const RingPix *p = a, *q = b;
    if (p->d2 != q->d2)
        return p->d2 < q->d2 ? -1 : 1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

/* Cubic B-spline weights for the 4 taps floor(x)-1 .. floor(x)+2,
 * t = x - floor(x) in [0, 1):  w0 = (1-t)^3/6,  w1 = (3t^3 - 6t^2 + 4)/6,
 * w2 = (3(1-t)^3 - 6(1-t)^2 + 4)/6,  w3 = t^3/6. */
static void bspline3_weights(double t, double *w)
{
    double u = 1.0 - t;
    w[0] = u * u * u / 6.0;
    w[1] = (3.0 * t * t * t - 6.0 * t * t + 4.0) / 6.0;
    w[2] = (3.0 * u * u * u - 6.0 * u * u + 4.0) / 6.0;
    w[3] = t * t * t / 6.0;
}

/* Whole-sample mirror of a tap index into [0, K-1] (taps reach at most 2
 * past an edge; K >= 3). */
static int mirror_index(int i, int K)
{
    if (i < 0)
        return -i;
    if (i > K - 1)
        return 2 * (K - 1) - i;
    return i;
}

/* One axis of a tap: coordinate cc -> 4 indices and weights; 0 if outside. */
static int axis_taps(double cc, int K, int *idx, double *w)
{
    if (cc < 0.0 || cc > (double)(K - 1))
        return 0;
    double f = floor(cc);
    int start = (int)f - 1;
    for (int k = 0; k < 4; k++)
        idx[k] = mirror_index(start + k, K);
    bspline3_weights(cc - f, w);
    return 1;
}

GridScorer *grid_scorer_new(int G, int variant)
{
    GridScorer *g = NULL;
    RingPix *pix = NULL;
    if (G < 2 || G > 4096 || (variant != SCORE_MEAN_DIFF && variant != SCORE_MIN_MAX))
        return NULL;
    const int K = 2 * G - 1;
    g = calloc(1, sizeof *g);
    if (!g)
        goto fail;
    g->G = G;
    g->K = K;
    g->variant = variant;

    /* outer radii: numpy.linspace(0.4, 1.0, 10) * G; inner 0.2 * G */
    double r_out[GRID_N_MASKS];
    const double step = (1.0 - 0.4) / (GRID_N_MASKS - 1);
    for (int k = 0; k < GRID_N_MASKS; k++)
        r_out[k] = ((double)k * step + 0.4) * G;
    r_out[GRID_N_MASKS - 1] = 1.0 * G;
    const double r_in = 0.2 * G;

    pix = malloc((size_t)K * K * sizeof *pix);
    if (!pix)
        goto fail;
    int P = 0;
    for (int i = 0; i < K; i++) {
        for (int j = 0; j < K; j++) {
            double dy = i - (G - 1), dx = j - (G - 1);
            double d = sqrt(dx * dx + dy * dy);
            if (d <= r_out[GRID_N_MASKS - 1] && !(d <= r_in)) {
                pix[P].d2 = (int)(dx * dx + dy * dy);
                pix[P].idx = i * K + j;
                P++;
            }
        }
    }
    qsort(pix, (size_t)P, sizeof *pix, ringpix_cmp);
    g->P = P;
    g->ring = malloc((size_t)(P > 0 ? P : 1) * sizeof *g->ring);
    g->tap = malloc((size_t)GRID_N_ANGLES * (P > 0 ? P : 1) * sizeof *g->tap);
    if (!g->ring || !g->tap)
        goto fail;
    for (int p = 0; p < P; p++)
        g->ring[p] = pix[p].idx;
    for (int k = 0; k < GRID_N_MASKS; k++) {
        int n = 0;
        while (n < P && sqrt((double)pix[n].d2) <= r_out[k])
            n++;
        g->mask_n[k] = n;
    }

    /* rotation taps: input coordinate = offset + R o (scipy's order) */
    const double ctr = (K - 1) / 2.0;
    for (int a = 0; a < GRID_N_ANGLES; a++) {
        const double c = grid_cos[a], s = grid_sin[a];
        const double off0 = ctr - (c * ctr + s * ctr);
        const double off1 = ctr - (-s * ctr + c * ctr);
        for (int p = 0; p < P; p++) {
            RotTap *t = &g->tap[(size_t)a * P + p];
            const int i = g->ring[p] / K, j = g->ring[p] % K;
            double c0 = off0, c1 = off1;
            c0 += i * c;
            c0 += j * s;
            c1 += i * -s;
            c1 += j * c;
            t->inside = axis_taps(c0, K, t->row, t->wr) && axis_taps(c1, K, t->col, t->wc);
        }
    }
    free(pix);
    return g;
fail:
    free(pix);
    grid_scorer_free(g);
    return NULL;
}

void grid_scorer_free(GridScorer *g)
{
    if (!g)
        return;
    free(g->ring);
    free(g->tap);
    free(g);
}

int grid_scorer_bins(const GridScorer *g) { return g->G; }

/* ---- SAC --------------------------------------------------------------- */

/* Variance below this fraction of the mean square is rounding noise (the
 * two terms of var = E[a^2] - E[a]^2 cancel to a few ulp). */
#define SAC_REL_EPS (64.0 * DBL_EPSILON)

/* work: at least G*G doubles */
static void sac_ws(const float *map, int G, double *sac, double *work)
{
    const int K = 2 * G - 1;
    double *x = work;                         /* (G, G) NaN -> 0 */
    for (int i = 0; i < G * G; i++)
        x[i] = isnan(map[i]) ? 0.0 : (double)map[i];
    for (int dy = 0; dy < G; dy++) {
        for (int dx = -(G - 1); dx < G; dx++) {
            if (dy == 0 && dx < 0)
                continue;               /* mirror of (0, -dx) */
            /* pairs (a, b) = (x[i][j], x[i+dy][j+dx]), a over rows [0, G-dy),
             * cols [ca0, ca1).  Direct sums (as the reference's convolve2d):
             * prefix sums would cancel catastrophically where a region's
             * values are tiny next to the rest of the map. */
            const int ca0 = dx < 0 ? -dx : 0, ca1 = dx > 0 ? G - dx : G;
            const double n = (double)(G - dy) * (double)(ca1 - ca0);
            double sab = 0.0, sa = 0.0, sb = 0.0, saa = 0.0, sbb = 0.0;
            for (int i = 0; i < G - dy; i++) {
                const double *ra = x + (size_t)i * G;
                const double *rb = x + (size_t)(i + dy) * G + dx;
                for (int j = ca0; j < ca1; j++) {
                    const double a = ra[j], b = rb[j];
                    sab += a * b;
                    sa += a;
                    sb += b;
                    saa += a * a;
                    sbb += b * b;
                }
            }
            double var_a = saa / n - sa * sa / (n * n);
            double var_b = sbb / n - sb * sb / (n * n);
            double cov = sab / n - sa * sb / (n * n);
            double r = 0.0;
            /* a side that is constant up to rounding has no correlation */
            if (var_a > SAC_REL_EPS * (saa / n) && var_b > SAC_REL_EPS * (sbb / n))
                r = cov / sqrt(var_a * var_b);
            if (!isfinite(r))
                r = 0.0;
            const int ci = dy + G - 1, cj = dx + G - 1;
            sac[ci * K + cj] = r;
            sac[(K - 1 - ci) * K + (K - 1 - cj)] = r;
        }
    }
}

int grid_sac(const float *map, int G, double *sac)
{
    if (!map || !sac || G < 1)
        return -1;
    double *work = malloc((size_t)G * G * sizeof *work);
    if (!work)
        return -1;
    sac_ws(map, G, sac, work);
    free(work);
    return 0;
}

/* ---- prefilter ----------------------------------------------------------- */

/* In-place cubic B-spline prefilter of one line c (n >= 2), whole-sample
 * mirror extension (Unser et al. 1991):
 *   c *= (1-z)(1-1/z)
 *   c+_0 = sum_{k=0}^{2n-3} z^k c_mirror(k) / (1 - z^(2n-2)), mirror(k) =
 *          k for k < n, 2n-2-k beyond;   c+_i = c_i + z c+_{i-1}
 *   c-_{n-1} = z / (z^2 - 1) (c+_{n-1} + z c+_{n-2});
 *   c-_i = z (c-_{i+1} - c+_i) */
static void prefilter_line(double *c, int n)
{
    const double z = sqrt(3.0) - 2.0;
    const double gain = (1.0 - z) * (1.0 - 1.0 / z);
    for (int i = 0; i < n; i++)
        c[i] *= gain;
    double zk = 1.0, acc = 0.0;
    for (int k = 0; k <= 2 * n - 3; k++) {
        acc += zk * c[k < n ? k : 2 * n - 2 - k];
        zk *= z;
    }
    c[0] = acc / (1.0 - zk);        /* zk = z^(2n-2) */
    for (int i = 1; i < n; i++)
        c[i] += z * c[i - 1];
    c[n - 1] = z / (z * z - 1.0) * (c[n - 1] + z * c[n - 2]);
    for (int i = n - 2; i >= 0; i--)
        c[i] = z * (c[i + 1] - c[i]);
}

/* coef (K, K) in place; line: (K) scratch */
static void prefilter_2d(double *coef, int K, double *line)
{
    for (int i = 0; i < K; i++)
        prefilter_line(coef + (size_t)i * K, K);
    for (int j = 0; j < K; j++) {
        for (int i = 0; i < K; i++)
            line[i] = coef[(size_t)i * K + j];
        prefilter_line(line, K);
        for (int i = 0; i < K; i++)
            coef[(size_t)i * K + j] = line[i];
    }
}

/* ---- scoring --------------------------------------------------------------- */

/* Workspace of grid_score_ws, in doubles. */
static size_t grid_work_size(const GridScorer *g)
{
    const size_t G = (size_t)g->G, K = (size_t)g->K;
    return 2 * K * K + K + (size_t)GRID_N_ANGLES * (size_t)g->P + (size_t)g->P + G * G;
}

static int map_is_flat(const float *map, int G)
{
    int seen = 0;
    float lo = 0.0f, hi = 0.0f;
    for (int i = 0; i < G * G; i++) {
        float v = map[i];
        if (isnan(v))
            continue;
        if (!seen || v < lo)
            lo = v;
        if (!seen || v > hi)
            hi = v;
        seen = 1;
    }
    return !seen || !(hi > lo);
}

static void grid_score_ws(const GridScorer *g, const float *map, float *score60,
                          float *score90, int *mask60, float *sac_out, double *work)
{
    const int G = g->G, K = g->K, P = g->P;
    double *sac = work;                              /* (K, K) */
    double *coef = sac + (size_t)K * K;              /* (K, K) */
    double *line = coef + (size_t)K * K;             /* (K) */
    double *rot = line + K;                          /* (A, P) */
    double *ring = rot + (size_t)GRID_N_ANGLES * P;  /* (P) SAC on the ring */
    double *sacw = ring + P;                         /* sac_ws scratch */

    sac_ws(map, G, sac, sacw);
    if (sac_out)
        for (int i = 0; i < K * K; i++)
            sac_out[i] = (float)sac[i];
    if (map_is_flat(map, G)) {
        if (score60) *score60 = NAN;
        if (score90) *score90 = NAN;
        if (mask60) *mask60 = -1;
        return;
    }

    memcpy(coef, sac, (size_t)K * K * sizeof *coef);
    prefilter_2d(coef, K, line);
    for (int p = 0; p < P; p++)
        ring[p] = sac[g->ring[p]];
    for (int a = 0; a < GRID_N_ANGLES; a++) {
        for (int p = 0; p < P; p++) {
            const RotTap *t = &g->tap[(size_t)a * P + p];
            double v = 0.0;
            if (t->inside) {
                for (int r = 0; r < 4; r++) {
                    const double *cr = coef + (size_t)t->row[r] * K;
                    double h = 0.0;
                    for (int q = 0; q < 4; q++)
                        h += t->wc[q] * cr[t->col[q]];
                    v += t->wr[r] * h;
                }
            }
            rot[(size_t)a * P + p] = v;
        }
    }

    double best60 = NAN, best90 = NAN;
    int arg60 = -1;
    for (int k = 0; k < GRID_N_MASKS; k++) {
        const int n = g->mask_n[k];
        if (n == 0)
            continue;
        double m = 0.0, var = 0.0, c[GRID_N_ANGLES];
        for (int p = 0; p < n; p++)
            m += ring[p];
        m /= n;
        for (int p = 0; p < n; p++)
            var += (ring[p] - m) * (ring[p] - m);
        var = var / n + 1e-5;
        for (int a = 0; a < GRID_N_ANGLES; a++) {
            const double *ra = rot + (size_t)a * P;
            double cross = 0.0;
            for (int p = 0; p < n; p++)
                cross += (ring[p] - m) * (ra[p] - m);
            c[a] = cross / n / var;
        }
        double s60;
        if (g->variant == SCORE_MIN_MAX)
            s60 = fmin(c[A60], c[A120]) - fmax(c[A30], fmax(c[A90], c[A150]));
        else
            s60 = (c[A60] + c[A120]) / 2 - (c[A30] + c[A90] + c[A150]) / 3;
        double s90 = c[A90] - (c[A45] + c[A135]) / 2;
        if (arg60 < 0 || s60 > best60) {
            best60 = s60;
            arg60 = k;
        }
        if (isnan(best90) || s90 > best90)
            best90 = s90;
    }
    if (score60) *score60 = (float)best60;
    if (score90) *score90 = (float)best90;
    if (mask60) *mask60 = arg60;
}

int grid_score(const GridScorer *g, const float *map, float *score60,
               float *score90, int *mask60, float *sac)
{
    if (!g || !map)
        return -1;
    double *work = malloc(grid_work_size(g) * sizeof *work);
    if (!work)
        return -1;
    grid_score_ws(g, map, score60, score90, mask60, sac, work);
    free(work);
    return 0;
}

/* ---- per task -------------------------------------------------------------- */

int spatial_score_units(const float *maps, int N, int G, const GridScorer *g,
                        double field_frac, int min_bins, float *score60,
                        float *score90, signed char *mask60, float *border)
{
    if (!maps || N < 0 || !g || g->G != G)
        return -1;
    double *work = malloc(grid_work_size(g) * sizeof *work);
    if (!work)
        return -1;
    const size_t GG = (size_t)G * G;
    for (int u = 0; u < N; u++) {
        const float *map = maps + (size_t)u * GG;
        float s60, s90;
        int m60;
        grid_score_ws(g, map, &s60, &s90, &m60, NULL, work);
        if (score60) score60[u] = s60;
        if (score90) score90[u] = s90;
        if (mask60) mask60[u] = (signed char)m60;
        if (border) border[u] = border_score(map, G, field_frac, min_bins);
    }
    free(work);
    return 0;
}

SpatialSummary spatial_summary(const float *x, int N, double threshold)
{
    SpatialSummary s = {0.0f, NAN, NAN, 0};
    double sum = 0.0, mx = -INFINITY;
    int above = 0;
    for (int u = 0; u < N; u++) {
        if (isnan(x[u]))
            continue;
        s.n_valid++;
        sum += x[u];
        if (x[u] > mx)
            mx = x[u];
        if (x[u] > threshold)
            above++;
    }
    s.frac = N > 0 ? (float)above / (float)N : NAN;
    if (s.n_valid > 0) {
        s.max = (float)mx;
        s.mean = (float)(sum / s.n_valid);
    }
    return s;
}
