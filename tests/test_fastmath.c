/* test_fastmath.c -- the float network's own exp, sigmoid and tanh
 * (src/model/rnn.c: rnn_expf_neg_, rnn_sigmf_, rnn_tanhf_, vectorisable;
 * libm's expf and tanhf are calls that do not vectorise) and its two
 * builds of the element-wise kernels (baseline SSE2 and AVX2).
 *
 *   1. error bounds: max relative error against double libm,
 *      |f(x) - F(x)| / |F(x)|, F = exp, 1 / (1 + exp(-x)), tanh, over
 *      dense grids of every range the networks use (RNN_EXPF_NEG_MAXREL,
 *      RNN_SIGMF_MAXREL, RNN_TANHF_MAXREL in rnn.h are the bounds asserted;
 *      the measured maxima are printed);
 *   2. special values: NaN stays NaN, +-inf, -0, the clamp;
 *   3. the AVX2 and baseline builds give the same bits: the functions on
 *      the same inputs, and whole forwards and backwards of every cell
 *      (tanh and relu), the replay's step included (rnn_cell_step);
 *   4. the gated cells and the tanh activation in float against the double
 *      network (libm) on the same weights: loss and gradients.
 *
 * Legend: B batch, T steps, N hidden, D outputs, n points.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/rng.h"
#include "model/rnn.h"
#include "model/simd.h"
#include "testlib.h"

enum { B = 3, T = 6, N = 37, D = 21 };

static double ref_of(int which, double x)
{
    return which == 0 ? exp(x) : which == 1 ? 1 / (1 + exp(-x)) : tanh(x);
}

/* Max relative error of function `which` over x (n) against double libm;
 * also checks that the AVX2 build gives the same bits as the baseline. */
static double max_rel(int which, const float *x, size_t n, float *y, float *y2, double *worst_x)
{
    TEST_CHECK(rnn_mathf_fill(which, 0, x, y, n) == 0, "fill %d", which);
    int have_avx2 = rnn_mathf_fill(which, 1, x, y2, n) == 0;
    if (have_avx2) TEST_CHECK(memcmp(y, y2, n * sizeof *y) == 0, "function %d: AVX2 and baseline bits differ", which);
    double mx = 0;
    for (size_t i = 0; i < n; i++) {
        double r = ref_of(which, x[i]);
        double e = r != 0 ? fabs((double)y[i] - r) / fabs(r) : fabs((double)y[i]);
        if (e > mx) mx = e, *worst_x = x[i];
    }
    return mx;
}

/* x (n): every float in [lo, hi] when there are at most n of them,
 * else n evenly spaced floats (lo, hi >= 0 or both <= 0, same sign) */
static size_t grid(float *x, size_t n, float lo, float hi)
{
    uint32_t a, b;
    memcpy(&a, &lo, 4);
    memcpy(&b, &hi, 4);
    if (a > b) { uint32_t t = a; a = b; b = t; }
    uint64_t span = (uint64_t)b - a + 1;
    size_t m = span < n ? (size_t)span : n;
    for (size_t i = 0; i < m; i++) {
        uint32_t u = a + (uint32_t)(span * i / m);
        memcpy(&x[i], &u, 4);
    }
    return m;
}

static void bounds(void)
{
    enum { M = 1 << 19 };
    float *x = malloc(M * sizeof *x), *y = malloc(M * sizeof *y), *y2 = malloc(M * sizeof *y2);
    /* ranges of each function: float bit patterns, so small magnitudes are
     * as dense as large ones; ranges meeting 0.625 (tanh's switch) and the
     * clamps are covered in full */
    const struct { int which; float lo, hi; } R[] = {
        {0, -0.0f, -1e-30f}, {0, -1e-30f, -0.5f}, {0, -0.5f, -2.0f}, {0, -2.0f, -87.0f},
        {1, 0.0f, 1e-30f}, {1, 1e-30f, 1.0f}, {1, 1.0f, 87.0f}, {1, -0.0f, -1e-30f}, {1, -1e-30f, -1.0f},
        {1, -1.0f, -87.0f},
        {2, 1e-37f, 1e-10f}, {2, 1e-10f, 0.5f}, {2, 0.6f, 0.65f}, {2, 0.5f, 4.0f}, {2, 4.0f, 100.0f},
        {2, -1e-37f, -0.5f}, {2, -0.6f, -0.65f}, {2, -0.5f, -100.0f},
    };
    const double bound[3] = {RNN_EXPF_NEG_MAXREL, RNN_SIGMF_MAXREL, RNN_TANHF_MAXREL};
    const char *name[3] = {"exp (x <= 0)", "sigmoid", "tanh"};
    double worst[3] = {0, 0, 0}, wx[3] = {0, 0, 0};
    for (size_t k = 0; k < sizeof R / sizeof R[0]; k++) {
        size_t n = grid(x, M, R[k].lo, R[k].hi);
        double at = 0, e = max_rel(R[k].which, x, n, y, y2, &at);
        if (e > worst[R[k].which]) worst[R[k].which] = e, wx[R[k].which] = at;
    }
    /* every float in [0.5, 0.75] for tanh (2^21 values: both sides of 0.625) */
    for (uint32_t u = 0x3F000000u; u < 0x3F400000u; u += M) {
        for (size_t i = 0; i < M; i++) {
            uint32_t v = u + (uint32_t)i;
            memcpy(&x[i], &v, 4);
        }
        double at = 0, e = max_rel(2, x, M, y, y2, &at);
        if (e > worst[2]) worst[2] = e, wx[2] = at;
    }
    for (int w = 0; w < 3; w++) {
        printf("%-13s max relative error %.3g (%.2f ulp of 2^-24) at x = %.9g; bound %.3g\n", name[w], worst[w],
               worst[w] * 16777216.0, wx[w], bound[w]);
        TEST_CHECK(worst[w] <= bound[w], "%s: max relative error %.3g > %.3g", name[w], worst[w], bound[w]);
    }
    free(x), free(y), free(y2);
}

static void specials(void)
{
    const float in[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-40f, -1e-40f, 50.0f, -50.0f, 87.0f, -87.0f,
                        -100.0f, 100.0f, 0.625f, -0.625f, 0x1.3fffffp-1f};
    enum { K = sizeof in / sizeof in[0] };
    float s[K], t[K], e[K], s2[K], t2[K], e2[K];
    TEST_CHECK(rnn_mathf_fill(1, 0, in, s, K) == 0 && rnn_mathf_fill(2, 0, in, t, K) == 0, "fill");
    TEST_CHECK(rnn_mathf_fill(0, 0, in, e, K) == 0, "fill");
    if (rnn_mathf_fill(1, 1, in, s2, K) == 0) {
        rnn_mathf_fill(2, 1, in, t2, K);
        rnn_mathf_fill(0, 1, in, e2, K);
        TEST_CHECK(memcmp(s, s2, sizeof s) == 0 && memcmp(t, t2, sizeof t) == 0 && memcmp(e, e2, sizeof e) == 0,
                   "specials: AVX2 and baseline bits differ");
    }
    TEST_CHECK(isnan(s[0]) && isnan(s[1]) && isnan(t[0]) && isnan(t[1]), "NaN in, NaN out: %g %g %g %g", s[0], s[1],
               t[0], t[1]);
    TEST_CHECK(s[2] == 1 && s[3] >= 0 && s[3] < 1.7e-38f, "sigmoid(+-inf) = %g, %g", s[2], s[3]);
    TEST_CHECK(t[2] == 1 && t[3] == -1, "tanh(+-inf) = %g, %g", t[2], t[3]);
    TEST_CHECK(s[4] == 0.5f && s[5] == 0.5f, "sigmoid(+-0) = %g, %g", s[4], s[5]);
    TEST_CHECK(t[4] == 0 && !signbit(t[4]) && t[5] == 0 && signbit(t[5]), "tanh(+-0) = %g, %g", t[4], t[5]);
    TEST_CHECK(t[6] == in[6] && t[7] == in[7], "tanh of a subnormal is itself: %g %g", t[6], t[7]);
    TEST_CHECK(t[8] == 1 && t[9] == -1 && t[12] == -1 && t[13] == 1, "tanh(+-50), (+-100) = +-1 exactly");
    TEST_CHECK(s[13] == 1 && s[12] >= 0 && s[12] < 1.7e-38f, "sigmoid(100) = %g, sigmoid(-100) = %g", s[13], s[12]);
    TEST_CHECK(e[12] > 0 && e[12] < 1.7e-38f && e[4] == 1 && e[5] == 1, "exp clamp at -87: exp(-100) = %g", e[12]);
    for (int i = 2; i < 16; i += 2) /* the pairs +-x of in[] */
        TEST_CHECK(t[i] == -t[i + 1], "tanh odd at %g: %g, %g", in[i], t[i], t[i + 1]);
}

/* A network of one cell and activation, float and double on the same
 * weights (rounded to float), with noise xi (B, T, N), random targets y
 * (B, T, D) (rows summing to 1). */
typedef struct {
    Rnn f;
    RnnD d;
    float *p0, *v, *y, *xi;
    double *p0d, *vd, *yd, *xid;
} Net;

static void net_make(Net *w, int cell, int act, int bias, Rng *r)
{
    RnnConfig c = {.N = N, .D = D, .n_in = RNN_I, .cell = cell, .act = act, .bias = bias, .alpha = 0.3,
                   .lambda_a = 0.2, .b_a = 0.5, .lambda_v = 0.3, .weight_decay = 1e-3};
    memset(w, 0, sizeof *w);
    TEST_CHECK(rnn_alloc_config(&w->f, &c, B, T) == 0 && rnnd_alloc_config(&w->d, &c, B, T) == 0, "alloc");
    rnnd_init(&w->d, r);
    for (size_t i = 0; i < w->d.n_params; i++) {
        w->d.params[i] = (double)(float)(w->d.params[i] * 3.0); /* scaled: gates off their linear range */
        w->f.params[i] = (float)w->d.params[i];
    }
    size_t nP = (size_t)B * D, nV = (size_t)B * T * RNN_I, nY = (size_t)B * T * D, nX = (size_t)B * T * N;
    w->p0 = malloc(nP * sizeof(float)), w->v = malloc(nV * sizeof(float));
    w->y = malloc(nY * sizeof(float)), w->xi = malloc(nX * sizeof(float));
    w->p0d = malloc(nP * sizeof(double)), w->vd = malloc(nV * sizeof(double));
    w->yd = malloc(nY * sizeof(double)), w->xid = malloc(nX * sizeof(double));
    for (size_t i = 0; i < nP; i++) w->p0d[i] = w->p0[i] = (float)rng_uniform(r);
    for (size_t i = 0; i < nV; i++) w->vd[i] = w->v[i] = (float)(rng_uniform(r) - 0.5);
    for (size_t i = 0; i < nX; i++) w->xid[i] = w->xi[i] = (float)(0.01 * (rng_uniform(r) - 0.5));
    for (size_t row = 0; row < (size_t)B * T; row++) {
        float s = 0;
        for (int i = 0; i < D; i++) s += (w->y[row * D + i] = (float)rng_uniform(r));
        for (int i = 0; i < D; i++) w->yd[row * D + i] = w->y[row * D + i] /= s;
    }
}

static void net_free(Net *w)
{
    rnn_free(&w->f);
    rnnd_free(&w->d);
    free(w->p0), free(w->v), free(w->y), free(w->xi), free(w->p0d), free(w->vd), free(w->yd), free(w->xid);
}

/* forward + backward in float; out: loss, h, z, grads and one replay-style
 * step (v NULL, no save) from h_T, concatenated in buf */
static size_t run_float(Net *w, float *buf)
{
    Rnn *m = &w->f;
    size_t k = 0, nh = (size_t)B * T * N, nz = (size_t)B * T * D;
    buf[k++] = rnn_forward(m, w->p0, w->v, w->y, w->xi, B, T);
    memcpy(buf + k, m->h, nh * sizeof(float)), k += nh;
    memcpy(buf + k, m->z, nz * sizeof(float)), k += nz;
    TEST_CHECK(rnn_backward(m) == 0, "backward");
    memcpy(buf + k, m->grads, m->n_params * sizeof(float)), k += m->n_params;
    /* one step of rnn_cell_step as replay.c runs it: u = W_hh h (here h_T itself), no input, no save */
    int G = m->G;
    float *h = buf + k, *u = malloc((size_t)G * N * sizeof(float)), a[N], mm[N];
    const float *hp = rnn_hidden(m, 0, T);
    for (int i = 0; i < G * N; i++) u[i] = hp[i % N];
    for (int i = 0; i < N; i++) h[i] = hp[i], a[i] = 0.1f, mm[i] = 0.2f;
    rnn_cell_step(m, h, hp, cell_gates(m->c.cell) > 0 ? u : NULL, NULL, w->xi, NULL, a, mm);
    k += N;
    memcpy(buf + k, mm, sizeof mm), k += N;
    free(u);
    return k;
}

static double rel_err(const float *a, const double *b, size_t n)
{
    double mx = 0, d = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return mx > 0 ? d / mx : d;
}

static void networks(Rng *r)
{
    const int have_avx2 = simd_select(1);
    if (!have_avx2) printf("no AVX2 + FMA on this CPU: the baseline build only\n");
    size_t cap = 1 << 20;
    float *b0 = malloc(cap * sizeof(float)), *b1 = malloc(cap * sizeof(float));
    for (int cell = 0; cell < CELL_COUNT; cell++)
        for (int act = 0; act < 2; act++) { /* relu, tanh; gated cells ignore it */
            if (cell_gates(cell) > 0 && act == ACT_TANH) continue;
            Net w;
            net_make(&w, cell, act, cell % 2, r);
            simd_select(0);
            size_t n0 = run_float(&w, b0);
            simd_select(1);
            size_t n1 = run_float(&w, b1);
            TEST_CHECK(n0 == n1 && n0 <= cap && memcmp(b0, b1, n0 * sizeof(float)) == 0,
                       "cell %d act %d: the AVX2 and baseline builds differ", cell, act);
            /* float (own sigmoid, tanh) against double (libm) */
            double lf = b0[0], ld = rnnd_forward(&w.d, w.p0d, w.vd, w.yd, w.xid, B, T);
            TEST_CHECK(fabs(lf - ld) <= 1e-5 * fabs(ld), "cell %d act %d: loss float %.9g double %.9g", cell, act,
                       lf, ld);
            TEST_CHECK(rnnd_backward(&w.d) == 0, "backward");
            rnn_forward(&w.f, w.p0, w.v, w.y, w.xi, B, T);
            rnn_backward(&w.f);
            double eh = rel_err(w.f.h, w.d.h, (size_t)B * T * N), eg = rel_err(w.f.grads, w.d.grads, w.f.n_params);
            TEST_CHECK(eh < 1e-5 && eg < 1e-4, "cell %d act %d: h rel. error %.3g, gradient %.3g", cell, act, eh, eg);
            net_free(&w);
        }
    simd_select(1); /* back to the CPU's choice */
    free(b0), free(b1);
}

int main(void)
{
    Rng r;
    rng_seed(&r, 5, RNG_SAMPLE);
    bounds();
    specials();
    networks(&r);
    return test_summary("test_fastmath");
}
