/* test_gridgeom.c -- known answers of the grid geometry, the not-a-grid
 * scores and the classification rule (src/score/gridgeom.c, gridclass.c).
 *
 * Dimensions: G rate-map bins per side, K = 2G-1 SAC side.
 *
 * - peaks on a synthetic SAC: Gaussian bumps placed at off-grid positions
 *   of a (stretched) hexagonal lattice -> refined positions within 0.15
 *   bin, spacing, orientation, ellipticity and angular s.d. from the
 *   lattice vectors; square lattice -> 4 peaks in the first ring;
 *   min_sep and peak_min_r obeyed;
 * - hexagonal rate maps (three cosines) at spacings 6-12 bins: spacing
 *   within 1 bin, orientation within 3 degrees, ellipticity within 0.05,
 *   class GRID;
 * - band: exact 1 for a cosine at an integer frequency, exact 1/2 for the
 *   sum of two at 0 and 90 degrees, ~1/3 for a hexagonal map;
 * - ramp_r2: 1 for any plane, 0 for a symmetric parabola; coherence -1 for
 *   a checkerboard, ~1 for a smooth map; spatial information log2(n) for a
 *   single active bin of n, 1 bit for half of the bins at rate 2;
 * - planar ramps at 0..180 degrees in 5-degree steps: never GRID, RAMP;
 * - the rule, branch by branch, on hand-made GridUnits; the null threshold
 *   replaces score60_min; class names from the table.
 */
#include "score/gridgeom.h"
#include "base/config.h"
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* SAC (K, K) = centre bump + bumps at lags (y[k], x[k]) and their mirrors */
static void synth_sac(double *sac, int G, const double *y, const double *x, int n, double sigma)
{
    const int K = 2 * G - 1;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            const double ly = i - (G - 1), lx = j - (G - 1);
            double v = exp(-(ly * ly + lx * lx) / (2 * sigma * sigma));
            for (int k = 0; k < n; k++)
                for (int s = -1; s <= 1; s += 2) {
                    const double dy = ly - s * y[k], dx = lx - s * x[k];
                    v += 0.6 * exp(-(dy * dy + dx * dx) / (2 * sigma * sigma));
                }
            sac[(size_t)i * K + j] = v - 0.2;
        }
}

/* lattice vectors at orientation o (deg), spacing s, stretched by e along psi */
static void lattice(double s, double o, double e, double psi, double *y, double *x)
{
    const double c = cos(psi * PI / 180), sn = sin(psi * PI / 180);
    for (int k = 0; k < 6; k++) {
        double ax = s * cos((o + 60.0 * k) * PI / 180), ay = s * sin((o + 60.0 * k) * PI / 180);
        /* T = R diag(1, e) R^T */
        double u = c * ax + sn * ay, w = -sn * ax + c * ay;
        w *= e;
        x[k] = c * u - sn * w;
        y[k] = sn * u + c * w;
    }
}

static double axis_nearest0(const double *y, const double *x, int n)
{
    double best = NAN;
    for (int k = 0; k < n; k++) {
        double a = atan2(y[k], x[k]) * 180 / PI;
        while (a >= 90) a -= 180;
        while (a < -90) a += 180;
        if (isnan(best) || fabs(a) < fabs(best) || (fabs(a) == fabs(best) && a < best))
            best = a;
    }
    return best;
}

static double angdist(double a, double b, double period)
{
    double d = fmod(a - b, period);
    if (d < 0) d += period;
    return fmin(d, period - d);
}

static void test_synthetic_sac(void)
{
    const int G = 30, K = 2 * G - 1;
    double *sac = malloc((size_t)K * K * sizeof *sac);
    GridClassParams p = gridclass_defaults();
    const double cases[][4] = {     /* spacing, orientation, ellipticity, stretch axis */
        {7.3, 0.0, 1.0, 0.0}, {9.6, 12.5, 1.0, 0.0}, {11.2, -21.0, 1.0, 0.0},
        {8.4, 5.0, 0.85, 30.0}, {10.0, -8.0, 0.8, 100.0}, {12.7, 17.0, 0.9, 55.0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double y[6], x[6];
        lattice(cases[c][0], cases[c][1], cases[c][2], cases[c][3], y, x);
        synth_sac(sac, G, y, x, 3, 1.6);   /* k and k+3 are mirrors */
        GridGeom gg;
        TEST_CHECK(gridgeom_peaks(sac, G, &p, &gg) == 0, "peaks");
        TEST_CHECK(gg.n_peaks == 6, "case %zu: n_peaks %d", c, gg.n_peaks);
        /* every true peak found within 0.15 bin */
        for (int k = 0; k < 6; k++) {
            double best = 1e9;
            for (int f = 0; f < 6; f++)
                best = fmin(best, hypot(gg.peak_y[f] - y[k], gg.peak_x[f] - x[k]));
            TEST_CHECK(best < 0.15, "case %zu peak %d off by %.3f bins", c, k, best);
        }
        double d[6];
        for (int k = 0; k < 6; k++)
            d[k] = hypot(y[k], x[k]);
        for (int a = 0; a < 6; a++)           /* sort for the median */
            for (int b = a + 1; b < 6; b++)
                if (d[b] < d[a]) { double t = d[a]; d[a] = d[b]; d[b] = t; }
        TEST_CLOSE(gg.spacing, 0.5 * (d[2] + d[3]), 0.1, 0);
        TEST_CHECK(angdist(gg.orientation_deg, axis_nearest0(y, x, 6), 180) < 1.0,
                   "case %zu: orientation %.2f want %.2f", c, gg.orientation_deg, axis_nearest0(y, x, 6));
        TEST_CLOSE(gg.ellipticity, cases[c][2], 0.02, 0);
        if (cases[c][2] == 1.0)
            TEST_CHECK(gg.angular_sd_deg < 1.0, "case %zu: angular sd %.2f", c, gg.angular_sd_deg);
        else
            TEST_CHECK(gg.angular_sd_deg > 1.5, "case %zu: stretched, angular sd %.2f", c, gg.angular_sd_deg);
    }
    /* square lattice: four peaks at s, four at s sqrt 2 -> n_peaks 4 */
    {
        double y[4] = {0, 8, 8, -8}, x[4] = {8, 0, 8, 8};
        synth_sac(sac, G, y, x, 4, 1.6);
        GridGeom gg;
        gridgeom_peaks(sac, G, &p, &gg);
        TEST_CHECK(gg.n_peaks == 4, "square: n_peaks %d", gg.n_peaks);
        TEST_CHECK(gg.n_found >= 8, "square: found %d", gg.n_found);
    }
    /* min_sep: two bumps 2 bins apart -> one kept; peak_min_r: none kept */
    {
        double y[2] = {0, 0}, x[2] = {8, 10};
        synth_sac(sac, G, y, x, 2, 0.6);
        GridGeom gg;
        gridgeom_peaks(sac, G, &p, &gg);
        TEST_CHECK(gg.n_found == 2, "two peaks 2 bins apart, min_sep 3: found %d (one of each pair)", gg.n_found);
        p.min_sep = 1.5;
        gridgeom_peaks(sac, G, &p, &gg);
        TEST_CHECK(gg.n_found == 4, "two peaks 2 bins apart with min_sep 1.5: found %d", gg.n_found);
        p.min_sep = 2.5;
        gridgeom_peaks(sac, G, &p, &gg);
        TEST_CHECK(gg.n_found == 2, "min_sep 2.5 merges the pairs: found %d", gg.n_found);
        p.min_sep = 3;
        p.peak_min_r = 0.5;
        gridgeom_peaks(sac, G, &p, &gg);
        TEST_CHECK(gg.n_found == 0, "peak_min_r above every bump: found %d", gg.n_found);
        TEST_CHECK(isnan(gg.spacing) && isnan(gg.ellipticity), "geometry NaN without peaks");
    }
    free(sac);
}

/* rectified three cosines: lattice axes at o + 60 k, spacing s */
static void hex_map(float *m, int G, double s, double o, double ph_x, double ph_y)
{
    const double k = 4 * PI / (sqrt(3.0) * s);
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++) {
            double v = 0;
            for (int j = 0; j < 3; j++) {
                double t = (o + 30 + 60 * j) * PI / 180;
                v += cos(k * (cos(t) * (ix + 0.5 - ph_x) + sin(t) * (iy + 0.5 - ph_y)));
            }
            m[iy * G + ix] = (float)fmax(v, 0.0);
        }
}

static void test_hex_maps(void)
{
    const int G = 40;
    GridScorer *g = grid_scorer_new(G, SCORE_MEAN_DIFF);
    GridClassParams p = gridclass_defaults();
    float *m = malloc((size_t)G * G * sizeof *m);
    double worst_sp = 0, worst_or = 0, worst_el = 0;
    for (double s = 6; s <= 12; s += 1.5)
        for (double o = -27; o < 30; o += 11) {
            hex_map(m, G, s, o, 0.37 * s, 0.71 * s);
            GridUnit u;
            TEST_CHECK(gridclass_measure(g, m, NULL, &p, &u) == 0, "measure");
            worst_sp = fmax(worst_sp, fabs(u.geom.spacing - s));
            worst_or = fmax(worst_or, angdist(u.geom.orientation_deg, o, 60));
            worst_el = fmax(worst_el, fabs(u.geom.ellipticity - 1));
            TEST_CHECK(gridclass_classify(&u, G, NAN, &p) == GRIDCLASS_GRID,
                       "hex s %.1f o %.0f: class %s (score60 %.2f n_peaks %d band %.2f)", s, o,
                       gridclass_name(gridclass_classify(&u, G, NAN, &p)), u.score60, u.geom.n_peaks, u.band);
            TEST_CHECK(u.band > 0.2 && u.band < 0.45, "hex band %.3f (three orientations: ~1/3)", u.band);
            TEST_CHECK(isnan(u.spatial_info), "no occupancy -> spatial_info NaN");
        }
    TEST_CHECK(worst_sp < 1.0, "spacing error %.3f bins", worst_sp);
    TEST_CHECK(worst_or < 3.0, "orientation error %.3f deg", worst_or);
    TEST_CHECK(worst_el < 0.05, "ellipticity error %.3f", worst_el);
    printf("hex maps: worst spacing %.3f bins, orientation %.3f deg, ellipticity %.4f\n", worst_sp,
           worst_or, worst_el);
    /* a spacing that does not fit min_periods periods: not GRID */
    GridUnit u;
    hex_map(m, G, 12, 0, 3, 5);
    gridclass_measure(g, m, NULL, &p, &u);
    p.min_periods = 40.0 / 11.0;
    TEST_CHECK(gridclass_classify(&u, G, NAN, &p) != GRIDCLASS_GRID, "spacing 12 > 40 / 3.6: not GRID");
    free(m);
    grid_scorer_free(g);
}

static void test_band_ramp_coherence_si(void)
{
    const int G = 24;
    float *m = malloc((size_t)G * G * sizeof *m);
    double *occ = malloc((size_t)G * G * sizeof *occ);
    /* cosine at integer frequency (3, 2): all power at +-k -> band = 1 */
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++)
            m[iy * G + ix] = (float)cos(2 * PI * (3.0 * ix + 2.0 * iy) / G);
    TEST_CLOSE(gridgeom_band(m, G, 15), 1.0, 1e-6, 0);
    /* two equal cosines at 0 and 90 degrees -> 1/2 */
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++)
            m[iy * G + ix] = (float)(cos(2 * PI * 4.0 * ix / G) + cos(2 * PI * 4.0 * iy / G));
    TEST_CLOSE(gridgeom_band(m, G, 15), 0.5, 1e-6, 0);
    /* a window of 50 degrees catches both at 45 +- 50 */
    TEST_CLOSE(gridgeom_band(m, G, 50), 1.0, 1e-6, 0);
    /* ramp_r2: any plane 1, even with unvisited bins; parabola (ix - c)^2: 0 */
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++)
            m[iy * G + ix] = (float)(0.3 * ix - 0.7 * iy + 2);
    TEST_CLOSE(gridgeom_ramp_r2(m, G), 1.0, 1e-9, 0);
    TEST_CLOSE(gridgeom_coherence(m, G), 1.0, 0.02, 0);
    m[5] = m[77] = m[300] = NAN;
    TEST_CLOSE(gridgeom_ramp_r2(m, G), 1.0, 1e-9, 0);
    for (int iy = 0; iy < G; iy++)
        for (int ix = 0; ix < G; ix++)
            m[iy * G + ix] = (float)((ix - 11.5) * (ix - 11.5));
    TEST_CLOSE(gridgeom_ramp_r2(m, G), 0.0, 1e-9, 0);
    /* checkerboard: every neighbour pair anti-correlated */
    for (int i = 0; i < G * G; i++)
        m[i] = (float)((i / G + i % G) % 2);
    TEST_CLOSE(gridgeom_coherence(m, G), -1.0, 1e-12, 0);
    /* spatial information: one active bin of n visited, uniform occupancy */
    for (int i = 0; i < G * G; i++) {
        m[i] = 0.0f;
        occ[i] = 2.0;
    }
    m[100] = 5.0f;
    TEST_CLOSE(gridgeom_spatial_info(m, occ, G), log2((double)G * G), 1e-9, 0);
    occ[7] = 0.0;          /* unvisited by occupancy: not counted */
    m[8] = NAN;            /* no rate: not counted */
    TEST_CLOSE(gridgeom_spatial_info(m, occ, G), log2((double)G * G - 2), 1e-9, 0);
    /* half the bins at rate 2, half at 0: 1 bit; shifted by -1 the same */
    for (int i = 0; i < G * G; i++) {
        m[i] = (float)(i % 2 ? 2 : 0);
        occ[i] = 1.0;
    }
    TEST_CLOSE(gridgeom_spatial_info(m, occ, G), 1.0, 1e-12, 0);
    for (int i = 0; i < G * G; i++)
        m[i] -= 1.0f;
    TEST_CLOSE(gridgeom_spatial_info(m, occ, G), 1.0, 1e-12, 0);
    /* degenerate: flat and empty maps */
    for (int i = 0; i < G * G; i++)
        m[i] = 3.0f;
    TEST_CHECK(isnan(gridgeom_band(m, G, 15)) && isnan(gridgeom_ramp_r2(m, G)) &&
               isnan(gridgeom_coherence(m, G)), "flat map: NaN");
    for (int i = 0; i < G * G; i++)
        m[i] = NAN;
    TEST_CHECK(isnan(gridgeom_band(m, G, 15)) && isnan(gridgeom_ramp_r2(m, G)) &&
               isnan(gridgeom_coherence(m, G)) && isnan(gridgeom_spatial_info(m, occ, G)),
               "empty map: NaN");
    free(m);
    free(occ);
}

static void test_ramps_never_grid(void)
{
    const int G = 20;
    GridScorer *g = grid_scorer_new(G, SCORE_MEAN_DIFF);
    GridClassParams p = gridclass_defaults();
    float *m = malloc((size_t)G * G * sizeof *m);
    float max60 = -1;
    for (int a = 0; a <= 180; a += 5) {
        const double t = a * PI / 180;
        for (int iy = 0; iy < G; iy++)
            for (int ix = 0; ix < G; ix++)
                m[iy * G + ix] = (float)(cos(t) * ix + sin(t) * iy);
        GridUnit u;
        gridclass_measure(g, m, NULL, &p, &u);
        GridClass c = gridclass_classify(&u, G, NAN, &p);
        if (u.score60 > max60) max60 = u.score60;
        TEST_CHECK(c != GRIDCLASS_GRID, "ramp at %d deg classified GRID", a);
        TEST_CHECK(c == GRIDCLASS_RAMP, "ramp at %d deg: %s (r2 %.3f)", a, gridclass_name(c), u.ramp_r2);
        /* even with a null threshold of -1 */
        TEST_CHECK(gridclass_classify(&u, G, -1.0, &p) != GRIDCLASS_GRID, "ramp %d: GRID at T = -1", a);
    }
    printf("ramps 0..180 deg on G = 20: max score60 %.2f, none GRID\n", max60);
    free(m);
    grid_scorer_free(g);
}

static void test_rule(void)
{
    const GridClassParams p = gridclass_defaults();
    GridUnit u;
    memset(&u, 0, sizeof u);
    u.score60 = 0.8f;
    u.geom.n_peaks = 6;
    u.geom.spacing = 8;
    u.band = 0.3;
    u.ramp_r2 = 0.01;
    u.border = -0.3;
    u.coherence = 0.9;
    u.spatial_info = NAN;
    const int G = 20;
    TEST_CHECK(gridclass_classify(&u, G, NAN, &p) == GRIDCLASS_GRID, "grid");
    TEST_CHECK(gridclass_classify(&u, G, 0.9, &p) == GRIDCLASS_OTHER_SPATIAL, "null threshold 0.9 > 0.8");
    TEST_CHECK(gridclass_classify(&u, G, 0.1, &p) == GRIDCLASS_GRID, "null threshold 0.1");
    GridUnit v = u;
    v.score60 = 0.5f;          /* strictly above */
    TEST_CHECK(gridclass_classify(&v, G, 0.5, &p) != GRIDCLASS_GRID, "score60 == T: not grid");
    v = u; v.geom.n_peaks = 5;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_OTHER_SPATIAL, "five peaks");
    v = u; v.geom.n_peaks = 7;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) != GRIDCLASS_GRID, "seven peaks");
    v = u; v.geom.spacing = 20.0 / 1.5 + 0.01;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) != GRIDCLASS_GRID, "spacing beyond G / min_periods");
    v.geom.spacing = 20.0 / 1.5;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_GRID, "spacing == G / min_periods fits");
    v = u; v.geom.spacing = NAN;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) != GRIDCLASS_GRID, "no spacing");
    v = u; v.ramp_r2 = 0.5;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_RAMP, "ramp beats grid");
    v.border = 0.9;
    v.band = 0.9;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_RAMP, "ramp beats border and band");
    v = u; v.band = 0.6;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_BAND, "band");
    v.border = 0.61;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_BORDER, "border beats band");
    v.border = 0.6;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_BAND, "border == border_min: not border");
    v = u; v.score60 = 0.1f;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_OTHER_SPATIAL, "coherent");
    v.coherence = 0.2;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_NON_SPATIAL, "incoherent");
    v.spatial_info = 1.0;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_OTHER_SPATIAL, "informative");
    v.spatial_info = 0.99;
    v.coherence = NAN;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_NON_SPATIAL, "NaN compares false");
    v = u; v.score60 = NAN;
    TEST_CHECK(gridclass_classify(&v, G, NAN, &p) == GRIDCLASS_NON_SPATIAL, "flat map");
    TEST_CHECK(GRIDCLASS_N == 6, "six classes");
    TEST_CHECK(strcmp(gridclass_name(GRIDCLASS_GRID), "GRID") == 0 &&
               strcmp(gridclass_name(GRIDCLASS_NON_SPATIAL), "NON_SPATIAL") == 0 &&
               strcmp(gridclass_name(GRIDCLASS_OTHER_SPATIAL), "OTHER_SPATIAL") == 0 &&
               strcmp(gridclass_name(-1), "?") == 0 && strcmp(gridclass_name(GRIDCLASS_N), "?") == 0,
               "names");
}

int main(void)
{
    test_synthetic_sac();
    test_hex_maps();
    test_band_ramp_coherence_si();
    test_ramps_never_grid();
    test_rule();
    return test_summary("test_gridgeom");
}
