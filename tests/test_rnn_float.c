/* test_rnn_float.c -- the float network (rnn_*, what training runs) against
 * the double one (rnnd_*) on identical weights and inputs, at output
 * widths that exercise the vectorised softmax of the cross-entropy loss:
 * D below one lane block (16 floats), several blocks plus a tail, and
 * whole blocks only.  The float path has its own exp (rnn_expf_neg_ in
 * src/model/rnn.c) and lane-wise partial sums; the double path uses libm's exp.
 * Also: large logit ranges (exp clamped at -87), and that a NaN logit
 * makes the loss NaN.
 *
 * Legend: B batch, T steps, N hidden, D outputs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/rng.h"
#include "model/rnn.h"
#include "testlib.h"

enum { B = 3, T = 5, N = 24 };

/* Max over i of |a_i - b_i| / max_i |b_i|. */
static double rel_err(const float *a, const double *b, size_t n)
{
    double mx = 0, d = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs((double)a[i] - b[i]));
    return mx > 0 ? d / mx : d;
}

static void one_case(int D, double wscale, Rng *r)
{
    RnnConfig c = {.N = N, .D = D, .n_in = RNN_I, .cell = CELL_LEAKY, .act = ACT_RELU, .alpha = 0.3,
                   .weight_decay = 1e-3};
    Rnn f;
    RnnD d;
    TEST_CHECK(rnn_alloc_config(&f, &c, B, T) == 0 && rnnd_alloc_config(&d, &c, B, T) == 0, "alloc D=%d", D);
    rnnd_init(&d, r);
    for (size_t i = 0; i < d.n_params; i++) {
        d.params[i] = (double)(float)(d.params[i] * wscale); /* representable in float */
        f.params[i] = (float)d.params[i];
    }
    size_t nP0 = (size_t)B * D, nV = (size_t)B * T * RNN_I, nY = (size_t)B * T * D;
    float *p0 = malloc(nP0 * sizeof *p0), *v = malloc(nV * sizeof *v), *y = malloc(nY * sizeof *y);
    double *p0d = malloc(nP0 * sizeof *p0d), *vd = malloc(nV * sizeof *vd), *yd = malloc(nY * sizeof *yd);
    for (size_t i = 0; i < nP0; i++) p0d[i] = p0[i] = (float)rng_uniform(r);
    for (size_t i = 0; i < nV; i++) vd[i] = v[i] = (float)(rng_uniform(r) - 0.5);
    for (int row = 0; row < B * T; row++) {
        float s = 0;
        for (int i = 0; i < D; i++) s += (y[row * D + i] = (float)rng_uniform(r));
        for (int i = 0; i < D; i++) {
            y[row * D + i] /= s;
            yd[row * D + i] = y[row * D + i];
        }
    }
    double lf = rnn_forward(&f, p0, v, y, NULL, B, T);
    double ld = rnnd_forward(&d, p0d, vd, yd, NULL, B, T);
    TEST_CHECK(fabs(lf - ld) <= 2e-5 * fabs(ld), "D=%d scale %g: loss float %.9g double %.9g", D, wscale, lf, ld);
    double ez = rel_err(f.dz, d.dz, nY);
    TEST_CHECK(ez < 2e-5, "D=%d scale %g: dL/dz relative error %.3g", D, wscale, ez);
    TEST_CHECK(rnn_backward(&f) == 0 && rnnd_backward(&d) == 0, "backward");
    double eg = rel_err(f.grads, d.grads, f.n_params);
    TEST_CHECK(eg < 1e-4, "D=%d scale %g: gradient relative error %.3g", D, wscale, eg);

    /* a NaN logit (through a NaN decoder weight) must make the loss NaN */
    f.w_dec[0] = NAN;
    lf = rnn_forward(&f, p0, v, y, NULL, B, T);
    TEST_CHECK(isnan(lf), "D=%d: NaN logit gives loss %g", D, lf);

    free(p0), free(v), free(y), free(p0d), free(vd), free(yd);
    rnn_free(&f);
    rnnd_free(&d);
}

int main(void)
{
    Rng r;
    rng_seed(&r, 11, RNG_SAMPLE);
    const int widths[] = {1, 10, 16, 37, 64, 515};
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
        one_case(widths[i], 2.0, &r);  /* ordinary logits */
        one_case(widths[i], 60.0, &r); /* logit ranges past 87: the exp clamp */
    }
    return test_summary("test_rnn_float");
}
