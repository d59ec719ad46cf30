/* test_adam.c -- Adam against hand-computed values and the textbook form
 * (Kingma & Ba 2015, Algorithm 1, in double), and gradient clipping.
 *
 * Legend: n parameters.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/adam.h"
#include "model/rng.h"
#include "model/simd.h"
#include "testlib.h"

/* Two steps worked by hand, lr 0.1, betas (0.9, 0.999), eps 1e-8.
 * Step 1: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2:
 *   p -= 0.1 g / (|g| + 1e-8), i.e. 0.1 sign(g).
 * Step 2 for p[0] (g1 = 1, g2 = 0.5):
 *   m = 0.9 * 0.1 + 0.1 * 0.5 = 0.14,  v = 0.999 * 0.001 + 0.001 * 0.25 = 0.001249
 *   mhat = 0.14 / 0.19 = 0.7368421053,  vhat = 0.001249 / 0.001999 = 0.6248124062
 *   p = 0.4 - 0.1 * 0.7368421053 / 0.7904507614 = 0.3067820...
 * p[2] (g1 = 0.5, g2 = 0): m = 0.045, v = 0.00024975; mhat = 0.2368421053,
 *   vhat = 0.1249374687: p = 1.9 - 0.1 * 0.2368421053 / 0.3534649469 = 1.8329942... */
static void hand_values(void)
{
    Adam a;
    float p[3] = {0.5f, -0.3f, 2.0f};
    float g1[3] = {1.0f, -2.0f, 0.5f}, g2[3] = {0.5f, 1.0f, 0.0f};
    TEST_CHECK(adam_alloc(&a, 3, 0.1, 0.9, 0.999, 1e-8) == 0, "alloc");
    adam_step(&a, p, g1);
    TEST_CLOSE(p[0], 0.4, 1e-6, 0);
    TEST_CLOSE(p[1], -0.2, 1e-6, 0);
    TEST_CLOSE(p[2], 1.9, 1e-6, 0);
    adam_step(&a, p, g2);
    TEST_CLOSE(p[0], 0.4 - 0.1 * (0.14 / 0.19) / sqrt(0.001249 / 0.001999), 1e-6, 0);
    TEST_CLOSE(p[0], 0.3067820, 1e-6, 0);
    TEST_CLOSE(p[2], 1.9 - 0.1 * (0.045 / 0.19) / sqrt(0.00024975 / 0.001999), 1e-6, 0);
    TEST_CLOSE(p[2], 1.8329942, 1e-6, 0);
    TEST_CHECK(a.t == 2, "t = %ld", a.t);
    adam_reset(&a);
    TEST_CHECK(a.t == 0 && a.m[0] == 0 && a.v[1] == 0, "reset");
    adam_free(&a);
    adam_free(&a); /* twice is safe */
}

/* 200 steps on random gradients against the textbook form in double
 * (moments in double; the reference parameters restart from the float ones
 * every step, so float rounding does not accumulate). */
static void textbook(void)
{
    enum { n = 257 };
    const double lr = 3e-3, b1 = 0.8, b2 = 0.99, eps = 1e-6;
    Adam a;
    Rng r;
    rng_seed(&r, 1, RNG_SAMPLE);
    float p[n], g[n];
    double pd[n], md[n] = {0}, vd[n] = {0};
    for (int i = 0; i < n; i++) pd[i] = p[i] = (float)rng_normal(&r);
    TEST_CHECK(adam_alloc(&a, n, lr, b1, b2, eps) == 0, "alloc");
    double worst = 0;
    for (int t = 1; t <= 200; t++) {
        for (int i = 0; i < n; i++) g[i] = (float)(rng_normal(&r) * (i % 7 + 1) * 0.1);
        adam_step(&a, p, g);
        for (int i = 0; i < n; i++) {
            md[i] = b1 * md[i] + (1 - b1) * g[i];
            vd[i] = b2 * vd[i] + (1 - b2) * (double)g[i] * g[i];
            double mhat = md[i] / (1 - pow(b1, t)), vhat = vd[i] / (1 - pow(b2, t));
            double step = lr * mhat / (sqrt(vhat) + eps);
            worst = fmax(worst, fabs(p[i] - (pd[i] - step)) / (fabs(pd[i]) + lr));
            pd[i] = p[i];
        }
    }
    TEST_CHECK(worst < 1e-6, "worst relative difference %.3g", worst);
    printf("adam vs textbook (200 steps): worst relative difference %.3g\n", worst);
    adam_free(&a);
}

static void clipping(void)
{
    float g[2] = {3, 4};
    TEST_CLOSE(grad_clip_norm(g, 2, 0), 5, 0, 1e-7); /* no clip */
    TEST_CHECK(g[0] == 3 && g[1] == 4, "max_norm 0 leaves grads alone");
    TEST_CLOSE(grad_clip_norm(g, 2, 10), 5, 0, 1e-7);
    TEST_CHECK(g[0] == 3 && g[1] == 4, "norm below max_norm leaves grads alone");
    TEST_CLOSE(grad_clip_norm(g, 2, 1), 5, 0, 1e-7);
    TEST_CLOSE(g[0], 3 / (5 + 1e-6), 0, 1e-6);
    TEST_CLOSE(g[1], 4 / (5 + 1e-6), 0, 1e-6);
    TEST_CLOSE(grad_clip_norm(g, 2, 0), 1, 0, 1e-6); /* now of norm 1 */
    /* a norm that overflows float squares: accumulated in double */
    float big[3] = {3e20f, 4e20f, 0};
    TEST_CLOSE(grad_clip_norm(big, 3, 1), 5e20, 0, 1e-6);
    TEST_CLOSE(big[1], 0.8, 0, 1e-6);
}

static void invalid(void)
{
    Adam a;
    TEST_CHECK(adam_alloc(&a, 0, 1e-3, 0.9, 0.999, 1e-8) == -1 && a.m == NULL, "n = 0");
    TEST_CHECK(adam_alloc(&a, 4, 1e-3, 1.0, 0.999, 1e-8) == -1, "beta1 = 1");
    TEST_CHECK(adam_alloc(&a, 4, NAN, 0.9, 0.999, 1e-8) == -1, "lr nan");
}

/* adam.c's element loop written out in scalar float, the same operations
 * in the same order (the oracle of builds_agree; no multiply-add fused). */
__attribute__((optimize("fp-contract=off"))) static void scalar_step(const Adam *a, long t, float *p, float *m,
                                                                      float *v, const float *g, int n)
{
    const float b1 = (float)a->beta1, c1 = (float)(1.0 - a->beta1), b2 = (float)a->beta2, c2 = (float)(1.0 - a->beta2);
    const float step = (float)(a->lr / (1.0 - pow(a->beta1, (double)t)));
    const float bc2s = (float)sqrt(1.0 - pow(a->beta2, (double)t)), eps = (float)a->eps;
    for (int i = 0; i < n; i++) {
        m[i] = m[i] * b1 + c1 * g[i];
        v[i] = v[i] * b2 + c2 * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) / bc2s + eps);
    }
}

/* adam_step gives the same bits in the baseline build (SSE and its scalar
 * tail) and the AVX2 one (AVX, then the SSE and scalar tails), and both
 * the same as the scalar oracle: 30 steps on random gradients of n = 1003
 * parameters (not a multiple of 8 or 4), each from the same start. */
static void builds_agree(void)
{
    enum { n = 1003, steps = 30, NL = 2 };
    const int have_avx2 = simd_select(1);
    float *p[NL], *g = malloc(n * sizeof *g), *po = malloc(n * sizeof *po), *mo = calloc(n, sizeof *mo),
                  *vo = calloc(n, sizeof *vo);
    Adam a[NL];
    int ok = g && po && mo && vo;
    for (int l = 0; l < NL; l++) {
        p[l] = malloc(n * sizeof *p[l]);
        ok &= p[l] != NULL && adam_alloc(&a[l], n, 1e-3, 0.9, 0.999, 1e-8) == 0;
    }
    TEST_CHECK(ok, "alloc");
    Rng r;
    rng_seed(&r, 2, RNG_SAMPLE);
    for (int i = 0; ok && i < n; i++) po[i] = p[0][i] = p[1][i] = (float)(2 * rng_uniform(&r) - 1);
    for (int s = 0; ok && s < steps; s++) {
        for (int i = 0; i < n; i++) g[i] = (float)(rng_normal(&r) * (i % 7 == 0 ? 1e-6 : 0.3));
        for (int l = 0; l < NL; l++) {
            simd_select(l);
            adam_step(&a[l], p[l], g);
        }
        scalar_step(&a[0], s + 1, po, mo, vo, g, n);
    }
    simd_select(1); /* back to the CPU's choice */
    int bad = 0;
    for (int l = 0; ok && l < NL; l++)
        bad += memcmp(p[l], po, n * sizeof(float)) != 0 || memcmp(a[l].m, mo, n * sizeof(float)) != 0 ||
               memcmp(a[l].v, vo, n * sizeof(float)) != 0;
    if (!have_avx2) printf("test_adam: AVX build compared: SKIPPED (this CPU runs only the baseline build)\n");
    TEST_CHECK(bad == 0, "adam_step differs from the scalar loop in %d of the builds", bad);
    for (int l = 0; l < NL; l++) {
        free(p[l]);
        adam_free(&a[l]);
    }
    free(g);
    free(po);
    free(mo);
    free(vo);
}

int main(void)
{
    hand_values();
    textbook();
    clipping();
    invalid();
    builds_agree();
    return test_summary("test_adam");
}
