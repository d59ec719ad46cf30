/* gridgeom.c -- autocorrelogram peak geometry and the scores of what is not
 * a grid: band, ramp, spatial coherence, spatial information.
 *
 * Dimensions: G rate-map bins per side, K = 2G-1 SAC side, Q candidate
 * peaks, F kept peaks.
 *
 * Algorithm notes (docs/spatial.md, "Grid geometry and classification"):
 *
 * 1. Peaks of the SAC, as in the field (Sargolini et al. 2006, Science
 *    312:758; Brandon et al. 2011; Stensola et al. 2012, Nature 492:72):
 *    candidates = pixels (i, j), 1 <= i, j <= K-2, other than the centre,
 *      with sac[i][j] > all 8 neighbours and sac[i][j] > peak_min_r;
 *    sorted by value, highest first (ties: raster order i K + j);
 *    kept greedily: a candidate is kept when its integer lag is >= min_sep
 *      from the centre and from every peak kept before it.
 *    Sub-bin position: least-squares quadratic through the 3 x 3
 *    neighbourhood, f = c0 + c1 x + c2 y + c3 x^2 + c4 xy + c5 y^2 with
 *    x, y in {-1, 0, 1}; the basis 1, x, y, x^2 - 2/3, xy, y^2 - 2/3 is
 *    orthogonal on the 9 points, so
 *      c1 = sum x f / 6,  c2 = sum y f / 6,  c4 = sum xy f / 4,
 *      c3 = sum (x^2 - 2/3) f / 2,  c5 = sum (y^2 - 2/3) f / 2;
 *    stationary point (dx, dy) = -H^-1 (c1, c2), H = [[2c3, c4], [c4, 2c5]]:
 *      det = 4 c3 c5 - c4^2,  dx = (c4 c2 - 2 c5 c1) / det,
 *      dy = (c4 c1 - 2 c3 c2) / det,
 *    used only when H is negative definite (c3 < 0, det > 0), each offset
 *    clipped to [-1, 1]; else the integer position.
 * 2. The six kept peaks nearest the centre (refined distance; ties: raster
 *    order).  n_peaks = #kept peaks with d <= ring_ratio d_min.
 *    spacing = median of the six distances (mean of the 3rd and 4th).
 *    orientation = among a_k = atan2(y_k, x_k) mod 180 in [-90, 90), the one
 *      with the smallest |a_k| (ties: the negative one).
 *    ellipticity (Stensola et al. 2012 fit an ellipse through the six; the
 *      SAC is point-symmetric, so the ellipse is centred): least squares
 *      u0 x^2 + u1 xy + u2 y^2 = 1 over the six (3 x 3 normal equations);
 *      the eigenvalues l1 <= l2 of [[u0, u1/2], [u1/2, u2]] are 1/b^2, 1/a^2
 *      of the semi-axes, ellipticity = b/a = sqrt(l1/l2); NaN unless l1 > 0.
 *    angular_sd = population s.d. of the six gaps between consecutive angles
 *      atan2(y, x) in [0, 360) around the circle (the gaps sum to 360, so
 *      this is the r.m.s. deviation from 60 degrees).
 * 3. Band (after Krupic et al. 2012, Science 337:853): v = map - mean over
 *    visited bins, 0 where unvisited; F(ky, kx) = sum v e^{-2 pi i (ky iy +
 *    kx ix)/G} (direct separable DFT, O(G^3)), P = |F|^2; signed frequency
 *    k' = k if 2k < G else k - G (numpy.fft.fftfreq); orientation
 *    phi = atan2(ky', kx') in degrees mod 180;
 *      band = max_{theta = 0..179} sum_{k != 0, |phi - theta|_180 <= hw} P
 *             / sum_{k != 0} P,
 *    |.|_180 the circular distance mod 180 (with a 1e-9 degree slack so
 *    that exact angles do not depend on the last bit of atan2).
 * 4. ramp_r2: least squares z = a + b ix + c iy on visited bins, centred:
 *      [Sxx Sxy; Sxy Syy] (b, c) = (Sxz, Syz),  R^2 = (b Sxz + c Syz) / Szz.
 * 5. coherence: pairs (a, b) of horizontally or vertically adjacent visited
 *    bins, m = sum (a + b) / 2n,
 *      coherence = sum 2 (a - m)(b - m) / sum ((a - m)^2 + (b - m)^2)
 *    (the Pearson correlation of the symmetrised pairs; cf. the spatial
 *    coherence of Muller & Kubie 1989).
 * 6. spatial information: Skaggs, McNaughton, Gothard & Markus 1993,
 *      SI = sum_i p_i (r_i / rbar) log2(r_i / rbar)   bits per spike.
 */
#include "score/gridgeom.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DEG_PER_RAD (180.0 / 3.14159265358979323846)

GridClassParams gridclass_defaults(void)
{
    GridClassParams p;
    p.peak_min_r = 0.0;
    p.min_sep = 3.0;
    p.ring_ratio = 1.35;
    p.band_half_width = 15.0;
    p.score60_min = 0.3;
    p.band_min = 0.6;
    p.ramp_min = 0.5;
    p.border_min = 0.6;
    p.min_periods = 1.5;
    p.coherence_min = 0.5;
    p.si_min = 1.0;
    p.field_frac = 0.3;
    p.min_bins = 5;
    return p;
}

/* ---- peaks ----------------------------------------------------------------- */

typedef struct Cand {
    double v;      /* SAC value at the pixel */
    int idx;       /* raster index i K + j */
    double y, x;   /* refined lag */
    double d;      /* refined distance to the centre */
} Cand;

static int cand_by_value(const void *a, const void *b)
{
    const Cand *p = a, *q = b;
    if (p->v != q->v)
        return p->v > q->v ? -1 : 1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

static int cand_by_dist(const void *a, const void *b)
{
    const Cand *p = a, *q = b;
    if (p->d != q->d)
        return p->d < q->d ? -1 : 1;
    return (p->idx > q->idx) - (p->idx < q->idx);
}

/* Quadratic refinement at interior pixel (i, j): offsets (dy, dx). */
static void refine_peak(const double *sac, int K, int i, int j, double *dy, double *dx)
{
    double sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
    for (int a = -1; a <= 1; a++) {          /* a = y offset (row) */
        for (int b = -1; b <= 1; b++) {      /* b = x offset (column) */
            const double f = sac[(size_t)(i + a) * K + (j + b)];
            sx += b * f;
            sy += a * f;
            sxy += a * b * f;
            sxx += (b * b - 2.0 / 3.0) * f;
            syy += (a * a - 2.0 / 3.0) * f;
        }
    }
    const double c1 = sx / 6.0, c2 = sy / 6.0, c4 = sxy / 4.0;
    const double c3 = sxx / 2.0, c5 = syy / 2.0;
    const double det = 4.0 * c3 * c5 - c4 * c4;
    *dy = *dx = 0.0;
    if (!(c3 < 0.0 && det > 0.0))
        return;
    double ox = (c4 * c2 - 2.0 * c5 * c1) / det;
    double oy = (c4 * c1 - 2.0 * c3 * c2) / det;
    *dx = fmax(-1.0, fmin(1.0, ox));
    *dy = fmax(-1.0, fmin(1.0, oy));
}

static int cmp_double(const void *a, const void *b)
{
    const double p = *(const double *)a, q = *(const double *)b;
    return (p > q) - (p < q);
}

/* Geometry of the six peaks y, x (nearest first). */
static void six_geometry(const double *y, const double *x, GridGeom *out)
{
    const int n = GRIDGEOM_SIX;
    double d[GRIDGEOM_SIX], ang[GRIDGEOM_SIX];
    for (int k = 0; k < n; k++)
        d[k] = hypot(y[k], x[k]);
    qsort(d, n, sizeof *d, cmp_double);
    out->spacing = 0.5 * (d[2] + d[3]);

    /* orientation: axis angle a = atan2 mod 180 in [-90, 90), nearest 0 */
    double best = NAN;
    for (int k = 0; k < n; k++) {
        double a = atan2(y[k], x[k]) * DEG_PER_RAD;     /* (-180, 180] */
        a = fmod(a + 90.0, 180.0);
        if (a < 0.0)
            a += 180.0;
        a -= 90.0;
        if (isnan(best) || fabs(a) < fabs(best) || (fabs(a) == fabs(best) && a < best))
            best = a;
    }
    out->orientation_deg = best;

    /* centred ellipse u0 x^2 + u1 xy + u2 y^2 = 1: normal equations M u = r */
    double M[3][3] = {{0}}, r[3] = {0};
    for (int k = 0; k < n; k++) {
        const double phi[3] = {x[k] * x[k], x[k] * y[k], y[k] * y[k]};
        for (int a = 0; a < 3; a++) {
            r[a] += phi[a];
            for (int b = 0; b < 3; b++)
                M[a][b] += phi[a] * phi[b];
        }
    }
    /* Cramer's rule */
    const double det = M[0][0] * (M[1][1] * M[2][2] - M[1][2] * M[2][1]) -
                       M[0][1] * (M[1][0] * M[2][2] - M[1][2] * M[2][0]) +
                       M[0][2] * (M[1][0] * M[2][1] - M[1][1] * M[2][0]);
    double scale = 0.0;
    for (int a = 0; a < 3; a++)
        scale = fmax(scale, fabs(M[a][a]));
    out->ellipticity = NAN;
    if (fabs(det) > 1e-12 * scale * scale * scale) {
        double u[3];
        for (int c = 0; c < 3; c++) {
            double A[3][3];
            memcpy(A, M, sizeof A);
            for (int a = 0; a < 3; a++)
                A[a][c] = r[a];
            u[c] = (A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
                    A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
                    A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0])) / det;
        }
        /* eigenvalues of [[u0, u1/2], [u1/2, u2]] */
        const double tr = u[0] + u[2], h = 0.5 * (u[0] - u[2]);
        const double rad = sqrt(h * h + 0.25 * u[1] * u[1]);
        const double l1 = 0.5 * tr - rad, l2 = 0.5 * tr + rad;
        if (l1 > 0.0)
            out->ellipticity = sqrt(l1 / l2);
    }

    /* angular regularity: gaps between consecutive angles in [0, 360) */
    for (int k = 0; k < n; k++) {
        double a = atan2(y[k], x[k]) * DEG_PER_RAD;
        ang[k] = a < 0.0 ? a + 360.0 : a;
    }
    qsort(ang, n, sizeof *ang, cmp_double);
    double gap[GRIDGEOM_SIX], m = 0.0, v = 0.0;
    for (int k = 0; k < n; k++) {
        gap[k] = (k + 1 < n ? ang[k + 1] : ang[0] + 360.0) - ang[k];
        m += gap[k];
    }
    m /= n;
    for (int k = 0; k < n; k++)
        v += (gap[k] - m) * (gap[k] - m);
    out->angular_sd_deg = sqrt(v / n);
}

int gridgeom_peaks(const double *sac, int G, const GridClassParams *p, GridGeom *out)
{
    Cand *cand = NULL, *kept = NULL;
    if (!sac || G < 2 || !p || !out)
        return -1;
    const int K = 2 * G - 1, c0 = G - 1;
    out->n_found = out->n_peaks = 0;
    out->spacing = out->orientation_deg = out->ellipticity = out->angular_sd_deg = NAN;
    for (int k = 0; k < GRIDGEOM_SIX; k++)
        out->peak_y[k] = out->peak_x[k] = NAN;

    /* candidates: strict local maxima of the interior, centre excluded */
    size_t cap = 64, Q = 0;
    cand = malloc(cap * sizeof *cand);
    if (!cand)
        goto fail;
    for (int i = 1; i < K - 1; i++) {
        for (int j = 1; j < K - 1; j++) {
            if (i == c0 && j == c0)
                continue;
            const double v = sac[(size_t)i * K + j];
            if (!(v > p->peak_min_r))
                continue;
            int is_max = 1;
            for (int a = -1; a <= 1 && is_max; a++)
                for (int b = -1; b <= 1; b++)
                    if ((a || b) && !(v > sac[(size_t)(i + a) * K + (j + b)])) {
                        is_max = 0;
                        break;
                    }
            if (!is_max)
                continue;
            if (Q == cap) {
                Cand *t = realloc(cand, 2 * cap * sizeof *cand);
                if (!t)
                    goto fail;
                cand = t;
                cap *= 2;
            }
            cand[Q].v = v;
            cand[Q].idx = i * K + j;
            Q++;
        }
    }
    qsort(cand, Q, sizeof *cand, cand_by_value);

    /* greedy minimum separation on integer lags, the centre kept first */
    kept = malloc((Q > 0 ? Q : 1) * sizeof *kept);
    if (!kept)
        goto fail;
    size_t F = 0;
    for (size_t q = 0; q < Q; q++) {
        const int i = cand[q].idx / K, j = cand[q].idx % K;
        const double ly = i - c0, lx = j - c0;
        int ok = hypot(ly, lx) >= p->min_sep;
        for (size_t f = 0; f < F && ok; f++) {
            const int fi = kept[f].idx / K, fj = kept[f].idx % K;
            if (!(hypot(i - fi, j - fj) >= p->min_sep))
                ok = 0;
        }
        if (!ok)
            continue;
        kept[F] = cand[q];
        double dy, dx;
        refine_peak(sac, K, i, j, &dy, &dx);
        kept[F].y = ly + dy;
        kept[F].x = lx + dx;
        kept[F].d = hypot(kept[F].y, kept[F].x);
        F++;
    }
    out->n_found = (int)F;
    if (F > 0) {
        qsort(kept, F, sizeof *kept, cand_by_dist);
        const double dmin = kept[0].d;
        for (size_t f = 0; f < F; f++)
            if (kept[f].d <= p->ring_ratio * dmin)
                out->n_peaks++;
        for (size_t f = 0; f < F && f < GRIDGEOM_SIX; f++) {
            out->peak_y[f] = kept[f].y;
            out->peak_x[f] = kept[f].x;
        }
        if (F >= GRIDGEOM_SIX)
            six_geometry(out->peak_y, out->peak_x, out);
    }
    free(cand);
    free(kept);
    return 0;
fail:
    free(cand);
    free(kept);
    return -1;
}

/* ---- band ------------------------------------------------------------------- */

double gridgeom_band(const float *map, int G, double half_width)
{
    double *v = NULL, *re = NULL, *im = NULL, *cs = NULL, *sn = NULL, *phi = NULL, *pw = NULL;
    double result = NAN;
    if (!map || G < 1)
        return NAN;
    const size_t GG = (size_t)G * G;
    v = malloc(GG * sizeof *v);
    re = malloc(GG * sizeof *re);
    im = malloc(GG * sizeof *im);
    phi = malloc(GG * sizeof *phi);
    pw = malloc(GG * sizeof *pw);
    cs = malloc((size_t)G * sizeof *cs);
    sn = malloc((size_t)G * sizeof *sn);
    if (!v || !re || !im || !phi || !pw || !cs || !sn)
        goto done;
    double mean = 0.0;
    size_t nvis = 0;
    for (size_t i = 0; i < GG; i++)
        if (!isnan(map[i])) {
            mean += map[i];
            nvis++;
        }
    if (nvis == 0)
        goto done;
    mean /= (double)nvis;
    for (size_t i = 0; i < GG; i++)
        v[i] = isnan(map[i]) ? 0.0 : (double)map[i] - mean;
    for (int m = 0; m < G; m++) {       /* e^{-2 pi i m / G} */
        cs[m] = cos(2.0 * 3.14159265358979323846 * m / G);
        sn[m] = -sin(2.0 * 3.14159265358979323846 * m / G);
    }
    /* rows: T[iy][kx] = sum_ix v[iy][ix] e^{-2 pi i kx ix / G} (into re/im) */
    double *tr = pw, *ti = phi;         /* scratch, overwritten below */
    for (int iy = 0; iy < G; iy++)
        for (int kx = 0; kx < G; kx++) {
            double a = 0.0, b = 0.0;
            for (int ix = 0; ix < G; ix++) {
                const int m = (int)(((long)kx * ix) % G);
                const double x = v[(size_t)iy * G + ix];
                a += x * cs[m];
                b += x * sn[m];
            }
            tr[(size_t)iy * G + kx] = a;
            ti[(size_t)iy * G + kx] = b;
        }
    /* columns: F[ky][kx] = sum_iy T[iy][kx] e^{-2 pi i ky iy / G} */
    for (int ky = 0; ky < G; ky++)
        for (int kx = 0; kx < G; kx++) {
            double a = 0.0, b = 0.0;
            for (int iy = 0; iy < G; iy++) {
                const int m = (int)(((long)ky * iy) % G);
                const double x = tr[(size_t)iy * G + kx], y = ti[(size_t)iy * G + kx];
                a += x * cs[m] - y * sn[m];
                b += x * sn[m] + y * cs[m];
            }
            re[(size_t)ky * G + kx] = a;
            im[(size_t)ky * G + kx] = b;
        }
    double total = 0.0;
    for (int ky = 0; ky < G; ky++)
        for (int kx = 0; kx < G; kx++) {
            const size_t k = (size_t)ky * G + kx;
            const int sy = 2 * ky < G ? ky : ky - G, sx = 2 * kx < G ? kx : kx - G;
            pw[k] = (ky == 0 && kx == 0) ? 0.0 : re[k] * re[k] + im[k] * im[k];
            double a = atan2((double)sy, (double)sx) * DEG_PER_RAD;
            a = fmod(a, 180.0);
            if (a < 0.0)
                a += 180.0;
            phi[k] = a;
            total += pw[k];
        }
    if (!(total > 0.0))
        goto done;
    double best = 0.0;
    for (int theta = 0; theta < 180; theta++) {
        double s = 0.0;
        for (size_t k = 0; k < GG; k++) {
            double dd = fabs(phi[k] - theta);
            dd = fmin(dd, 180.0 - dd);
            if (dd <= half_width + 1e-9)
                s += pw[k];
        }
        if (s / total > best)
            best = s / total;
    }
    result = best;
done:
    free(v);
    free(re);
    free(im);
    free(cs);
    free(sn);
    free(phi);
    free(pw);
    return result;
}

/* ---- ramp, coherence, spatial information ------------------------------------ */

double gridgeom_ramp_r2(const float *map, int G)
{
    if (!map || G < 1)
        return NAN;
    double n = 0, mx = 0, my = 0, mz = 0;
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++) {
            const float z = map[(size_t)iy * G + ix];
            if (isnan(z))
                continue;
            n += 1;
            mx += ix;
            my += iy;
            mz += z;
        }
    if (n < 3)
        return NAN;
    mx /= n;
    my /= n;
    mz /= n;
    double sxx = 0, sxy = 0, syy = 0, sxz = 0, syz = 0, szz = 0;
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++) {
            const float zf = map[(size_t)iy * G + ix];
            if (isnan(zf))
                continue;
            const double x = ix - mx, y = iy - my, z = zf - mz;
            sxx += x * x;
            sxy += x * y;
            syy += y * y;
            sxz += x * z;
            syz += y * z;
            szz += z * z;
        }
    const double det = sxx * syy - sxy * sxy;
    if (!(det > 1e-12 * sxx * syy) || !(szz > 0.0))
        return NAN;
    const double b = (syy * sxz - sxy * syz) / det;
    const double c = (sxx * syz - sxy * sxz) / det;
    return (b * sxz + c * syz) / szz;
}

double gridgeom_coherence(const float *map, int G)
{
    if (!map || G < 1)
        return NAN;
    /* two passes over the pairs: (dy, dx) = (0, 1) and (1, 0) */
    double sum = 0.0, n = 0.0;
    for (int pass = 0; pass < 2; pass++) {
        double num = 0.0, den = 0.0;
        const double m = pass ? sum / (2.0 * n) : 0.0;
        for (int dir = 0; dir < 2; dir++) {
            const int dy = dir, dx = 1 - dir;
            for (int iy = 0; iy + dy < G; iy++)
                for (int ix = 0; ix + dx < G; ix++) {
                    const float a = map[(size_t)iy * G + ix];
                    const float b = map[(size_t)(iy + dy) * G + ix + dx];
                    if (isnan(a) || isnan(b))
                        continue;
                    if (!pass) {
                        sum += (double)a + (double)b;
                        n += 1.0;
                    } else {
                        num += 2.0 * (a - m) * (b - m);
                        den += (a - m) * (a - m) + (b - m) * (b - m);
                    }
                }
        }
        if (!pass && n == 0.0)
            return NAN;
        if (pass)
            return den > 0.0 ? num / den : NAN;
    }
    return NAN;
}

double gridgeom_spatial_info(const float *map, const double *occ, int G)
{
    if (!map || !occ || G < 1)
        return NAN;
    const size_t GG = (size_t)G * G;
    double lo = INFINITY, tot = 0.0;
    for (size_t i = 0; i < GG; i++)
        if (!isnan(map[i]) && occ[i] > 0.0) {
            lo = fmin(lo, map[i]);
            tot += occ[i];
        }
    if (!(tot > 0.0))
        return NAN;
    const double shift = lo < 0.0 ? lo : 0.0;
    double rbar = 0.0;
    for (size_t i = 0; i < GG; i++)
        if (!isnan(map[i]) && occ[i] > 0.0)
            rbar += occ[i] / tot * (map[i] - shift);
    if (!(rbar > 0.0))
        return NAN;
    double si = 0.0;
    for (size_t i = 0; i < GG; i++)
        if (!isnan(map[i]) && occ[i] > 0.0) {
            const double q = (map[i] - shift) / rbar;
            if (q > 0.0)
                si += occ[i] / tot * q * log2(q);
        }
    return si;
}
