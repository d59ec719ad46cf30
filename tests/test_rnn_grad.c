/* test_rnn_grad.c -- the networks' forward and backward in double, checked
 * against central finite differences and a plain-loop reference forward.
 *
 * Legend: B batch, T steps, N hidden, D outputs, I = 2 or 3 network inputs
 * (the caller passes the displacement, 2 per step), G gate blocks.
 *
 * The gated cells (gru, lstm, ugrnn; no activation) are checked the same
 * way for bias (0, 1) x input (velocity, speed_heading) x loss (ce, mse),
 * from their own random stream, so that the cases of the other cells are
 * the same as before the gated cells existed; the non-gated cells also
 * with the speed_heading input.
 *
 * For every cell (5) x activation (3) x bias (0, 1), with noise, rate_l2 and
 * weight_decay > 0, and for the Cartesian MSE loss (every cell):
 *   - the loss of rnnd_forward equals a naive loop implementation of the
 *     equations of rnn.h (no BLAS, written from docs/model-rnn.md, "Model");
 *   - dL/dtheta of rnnd_backward equals (L(theta + e) - L(theta - e)) / 2e
 *     for every parameter, |analytic - fd| <= 1e-6 * max|fd of the tensor|
 *     (and element-wise within 1e-6 relative + 1e-10 absolute).
 * Also: momentum with lambda_v = 1 equals leaky (adaptive_momentum with
 * lambda_v = 1 equals adaptive), leaky with alpha = 1 (tau = dt) equals
 * vanilla, forward and gradients; the float network agrees with the double
 * one; a forward with smaller (B, T) than allocated gives the same result
 * as an exactly-sized network; backward after a forward-only call fails;
 * a network with a smaller backward cache than its forward-only capacity
 * (rnn_alloc_shapes) gives bit-identical losses, gradients, outputs and
 * hidden states.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/rnn.h"
#include "testlib.h"

enum { B = 3, T = 5, N = 8, DP = 6 };

#define cell_name config_enum_CELL
static const char *const act_name[] = {"relu", "tanh", "none"};

/* Inputs of one test case. */
typedef struct Case {
    int D;
    double p0[B * DP];        /* (B, D) */
    double v[B * T * RNN_I];  /* (B, T, I) */
    double y[B * T * DP];     /* (B, T, D) */
    double xi[B * T * N];     /* (B, T, N) */
} Case;

static void make_case(Case *k, int D, int cartesian, Rng *r)
{
    k->D = D;
    for (int i = 0; i < B * D; i++) k->p0[i] = rng_uniform(r);
    for (int i = 0; i < B * T * RNN_I; i++) k->v[i] = rng_uniform(r) - 0.5;
    for (int i = 0; i < B * T * N; i++) k->xi[i] = 0.1 * rng_normal(r);
    for (int row = 0; row < B * T; row++) {
        double *y = k->y + row * D, s = 0;
        for (int i = 0; i < D; i++) s += (y[i] = cartesian ? 2 * rng_uniform(r) - 1 : rng_uniform(r));
        if (!cartesian)
            for (int i = 0; i < D; i++) y[i] /= s; /* a distribution */
    }
}

static RnnConfig make_config(int cell, int act, int bias, int cartesian, int D)
{
    RnnConfig c = {.N = N, .D = D, .n_in = RNN_I, .input = INPUT_VELOCITY, .dt = 0.02, .cell = cell, .act = act,
                   .bias = bias, .cartesian = cartesian, .alpha = cell == CELL_VANILLA ? 1.0 : 0.3,
                   .lambda_a = 0.2, .b_a = 0.5, .lambda_v = 0.4, .weight_decay = 0.01, .rate_l2 = 0.05};
    return c;
}

/* x (I) = the network input of the displacement v (2) (rnn.h) */
static void naive_input(const RnnConfig *c, const double *v, double *x)
{
    if (c->input == INPUT_VELOCITY) {
        x[0] = v[0], x[1] = v[1];
        return;
    }
    double r = sqrt(v[0] * v[0] + v[1] * v[1]);
    x[0] = r / c->dt;
    x[1] = r > 0 ? v[0] / r : 1;
    x[2] = r > 0 ? v[1] / r : 0;
}

static double sigm(double x) { return 1 / (1 + exp(-x)); }

/* Random weights, larger than PyTorch's init so that every term matters. */
static void init_net(RnnD *m, Rng *r)
{
    rnnd_init(m, r);
    for (size_t i = 0; i < m->n_params; i++) m->params[i] *= 2.0;
}

/* phi and the naive forward: loss of the equations in rnn.h, plain loops. */
static double phi(int act, double s)
{
    if (act == ACT_RELU) return s > 0 ? s : 0;
    if (act == ACT_TANH) return tanh(s);
    return s;
}

static double naive_loss(const RnnD *m, const Case *k, const double *noise)
{
    const RnnConfig *c = &m->c;
    int D = c->D, adapt = c->cell == CELL_ADAPTIVE || c->cell == CELL_ADAPTIVE_MOMENTUM, ni = c->n_in;
    int G = c->cell == CELL_GRU ? 3 : c->cell == CELL_LSTM ? 4 : c->cell == CELL_UGRNN ? 2 : 0;
    double data = 0, rate = 0, wd = 0;
    for (int b = 0; b < B; b++) {
        double h[N], hn[N], a[N] = {0}, mm[N] = {0}, cs[N] = {0};
        for (int i = 0; i < N; i++) { /* h_0 = W_enc p_0; lstm c_0 = W_enc_c p_0 */
            h[i] = 0;
            for (int j = 0; j < D; j++) h[i] += m->w_enc[i * D + j] * k->p0[b * D + j];
            if (c->cell == CELL_LSTM)
                for (int j = 0; j < D; j++) cs[i] += m->w_enc_c[i * D + j] * k->p0[b * D + j];
        }
        for (int t = 0; t < T; t++) {
            double vt[3];
            naive_input(c, k->v + (b * T + t) * RNN_I, vt);
            if (G) { /* gi = W_ih x + b_ih, gh = W_hh h + b_hh (torch's names), every gate row */
                double gi[4 * N], gh[4 * N];
                for (int r = 0; r < G * N; r++) {
                    gi[r] = m->b ? m->b[r] : 0;
                    gh[r] = m->b_hh ? m->b_hh[r] : 0;
                    for (int j = 0; j < ni; j++) gi[r] += m->w_in[r * ni + j] * vt[j];
                    for (int j = 0; j < N; j++) gh[r] += m->w_rec[r * N + j] * h[j];
                }
                for (int i = 0; i < N; i++) {
                    double x = noise ? noise[(b * T + t) * N + i] : 0;
                    if (c->cell == CELL_GRU) {
                        double r = sigm(gi[i] + gh[i]), z = sigm(gi[N + i] + gh[N + i]);
                        double n = tanh(gi[2 * N + i] + r * gh[2 * N + i]);
                        hn[i] = (1 - z) * n + z * h[i] + x;
                    } else if (c->cell == CELL_LSTM) {
                        double ig = sigm(gi[i] + gh[i]), fg = sigm(gi[N + i] + gh[N + i]);
                        double gg = tanh(gi[2 * N + i] + gh[2 * N + i]), og = sigm(gi[3 * N + i] + gh[3 * N + i]);
                        cs[i] = fg * cs[i] + ig * gg;
                        hn[i] = og * tanh(cs[i]) + x;
                    } else {
                        double cc = tanh(gi[i] + gh[i]), g = sigm(gi[N + i] + gh[N + i]);
                        hn[i] = g * h[i] + (1 - g) * cc + x;
                    }
                }
            }
            for (int i = 0; i < N && !G; i++) {
                double u = (m->b ? m->b[i] : 0);
                for (int j = 0; j < ni; j++) u += m->w_in[i * ni + j] * vt[j];
                for (int j = 0; j < N; j++) u += m->w_rec[i * N + j] * h[j];
                if (adapt) {
                    a[i] = (1 - c->lambda_a) * a[i] + c->b_a * h[i];
                    u -= a[i];
                }
                double q = phi(c->act, u), x = noise ? noise[(b * T + t) * N + i] : 0;
                switch (c->cell) {
                case CELL_VANILLA: hn[i] = q + x; break;
                case CELL_LEAKY:
                case CELL_ADAPTIVE: hn[i] = (1 - c->alpha) * h[i] + c->alpha * q + x; break;
                default:
                    mm[i] = (1 - c->lambda_v) * mm[i] + c->alpha * (q - h[i]) + x;
                    hn[i] = h[i] + mm[i];
                }
            }
            memcpy(h, hn, sizeof h);
            double z[DP];
            for (int p = 0; p < D; p++) {
                z[p] = 0;
                for (int i = 0; i < N; i++) z[p] += m->w_dec[p * N + i] * h[i];
            }
            const double *y = k->y + (b * T + t) * D;
            if (c->cartesian) {
                for (int p = 0; p < D; p++) data += (z[p] - y[p]) * (z[p] - y[p]) / D;
            } else {
                double se = 0;
                for (int p = 0; p < D; p++) se += exp(z[p]);
                for (int p = 0; p < D; p++) data -= y[p] * (z[p] - log(se));
            }
            for (int i = 0; i < N; i++) rate += h[i] * h[i];
        }
    }
    for (int i = 0; i < (G ? G : 1) * N * N; i++) wd += m->w_rec[i] * m->w_rec[i];
    return data / (B * T) + c->weight_decay * wd + c->rate_l2 * rate / (B * T * N);
}

static double loss_of(RnnD *m, const Case *k, const double *noise)
{
    return rnnd_forward(m, k->p0, k->v, k->y, noise, B, T);
}

/* Finite differences against rnnd_backward for every parameter.  Returns
 * the worst tensor-relative error; *worst_el gets the worst element-wise
 * relative error (elements with |fd| > 1e-6 of the tensor's scale). */
static double check_grad(RnnD *m, const Case *k, const double *noise, const char *label, double *worst_el)
{
    const double eps = 1e-4;
    loss_of(m, k, noise);
    TEST_CHECK(rnnd_backward(m) == 0, "%s: backward", label);
    double *g = malloc(m->n_params * sizeof *g), *fd = malloc(m->n_params * sizeof *fd);
    if (!g || !fd) {
        TEST_CHECK(0, "out of memory");
        free(g);
        free(fd);
        return INFINITY;
    }
    memcpy(g, m->grads, m->n_params * sizeof *g);
    for (size_t i = 0; i < m->n_params; i++) {
        /* fourth-order central difference:
         * f' = (8 (f(p+e) - f(p-e)) - (f(p+2e) - f(p-2e))) / (12 e) + O(e^4) */
        double p = m->params[i], f[4], dx[4] = {-2 * eps, -eps, eps, 2 * eps};
        for (int j = 0; j < 4; j++) {
            m->params[i] = p + dx[j];
            f[j] = loss_of(m, k, noise);
        }
        m->params[i] = p;
        fd[i] = (8 * (f[2] - f[1]) - (f[3] - f[0])) / (12 * eps);
    }
    const char *names[] = {"W_enc", "W_in", "W_rec", "W_dec", "b", "b_hh", "W_enc_c"};
    const size_t GN = (size_t)m->G * N;
    size_t sizes[] = {(size_t)N * m->c.D, GN * m->c.n_in, GN * N, (size_t)m->c.D * N,
                      m->b ? GN : 0, m->b_hh ? GN : 0, m->w_enc_c ? (size_t)N * m->c.D : 0};
    size_t off = 0;
    double worst = 0;
    *worst_el = 0;
    for (int t = 0; t < 7; t++) {
        if (!sizes[t]) continue;
        double scale = 0, err = 0;
        for (size_t i = off; i < off + sizes[t]; i++) scale = fmax(scale, fabs(fd[i]));
        for (size_t i = off; i < off + sizes[t]; i++) {
            double e = fabs(g[i] - fd[i]);
            err = fmax(err, e);
            TEST_CHECK(e <= 1e-10 + 1e-6 * fabs(fd[i]), "%s %s[%zu]: analytic %.12g fd %.12g", label, names[t],
                       i - off, g[i], fd[i]);
            if (fabs(fd[i]) > 1e-6 * scale) *worst_el = fmax(*worst_el, e / fabs(fd[i]));
        }
        double rel = scale > 0 ? err / scale : err;
        TEST_CHECK(scale > 0, "%s %s: gradient is identically zero", label, names[t]);
        TEST_CHECK(rel <= 1e-6, "%s %s: relative error %.3g", label, names[t], rel);
        worst = fmax(worst, rel);
        off += sizes[t];
    }
    free(g);
    free(fd);
    return worst;
}

/* One case of grad_cases: loss against the naive loop, finite
 * differences with noise and penalties and without. */
static void grad_case(RnnConfig c, Rng *r, double *worst, double *worst_el)
{
    int cart = c.cartesian, D = c.D;
    char label[128];
    RnnD m;
    Case k;
    if (rnnd_alloc_config(&m, &c, B, T) != 0) {
        TEST_CHECK(0, "alloc");
        return;
    }
    init_net(&m, r);
    make_case(&k, D, cart, r);
    snprintf(label, sizeof label, "%s/%s/bias=%d/%s%s", cell_name[c.cell], cell_gates(c.cell) ? "-" : act_name[c.act],
             c.bias, cart ? "mse" : "ce", c.input ? "/speed_heading" : "");
    double l = loss_of(&m, &k, k.xi), ln = naive_loss(&m, &k, k.xi);
    TEST_CHECK(fabs(l - ln) <= 1e-12 * fabs(ln), "%s: loss %.15g naive %.15g", label, l, ln);
    TEST_CHECK(fabs(m.loss_data + m.loss_wd + m.loss_rate - l) <= 1e-12 * fabs(l) && m.loss_wd > 0 && m.loss_rate > 0,
               "%s: loss components", label);
    double el, e = check_grad(&m, &k, k.xi, label, &el);
    *worst = fmax(*worst, e);
    *worst_el = fmax(*worst_el, el);
    m.c.weight_decay = m.c.rate_l2 = 0;
    l = loss_of(&m, &k, NULL);
    ln = naive_loss(&m, &k, NULL);
    TEST_CHECK(fabs(l - ln) <= 1e-12 * fabs(ln), "%s plain: loss %.15g naive %.15g", label, l, ln);
    strcat(label, "/plain");
    e = check_grad(&m, &k, NULL, label, &el);
    *worst = fmax(*worst, e);
    *worst_el = fmax(*worst_el, el);
    rnnd_free(&m);
}

/* The gated cells (bias x input x loss) and the speed_heading input of the
 * non-gated cells, each from its own stream. */
static void grad_cases_gated(void)
{
    Rng r;
    rng_seed(&r, 8, RNG_SAMPLE);
    double worst = 0, worst_el = 0;
    for (int cart = 0; cart <= 1; cart++)
        for (int cell = 0; cell < CELL_COUNT; cell++)
            for (int bias = 0; bias <= 1; bias++)
                for (int in = 0; in < INPUT_COUNT; in++) {
                    if (!cell_gates(cell) && (in == INPUT_VELOCITY || bias != cart)) continue;
                    RnnConfig c = make_config(cell, cell_gates(cell) ? ACT_RELU : cell % ACT_COUNT, bias, cart,
                                              cart ? 2 : DP);
                    c.input = in;
                    c.n_in = input_dim(in);
                    grad_case(c, &r, &worst, &worst_el);
                }
    printf("finite differences (gated cells, speed_heading): worst tensor-relative error %.3g, worst "
           "element-relative error %.3g\n",
           worst, worst_el);
}

static void grad_cases(void)
{
    Rng r;
    rng_seed(&r, 7, RNG_SAMPLE);
    double worst = 0, worst_el = 0;
    char label[128];
    for (int cart = 0; cart <= 1; cart++)
        for (int cell = 0; cell < CELL_COUNT; cell++)
            for (int act = 0; act < ACT_COUNT; act++)
                for (int bias = 0; bias <= 1; bias++) {
                    if (cell_gates(cell)) continue; /* grad_cases_gated */
                    int D = cart ? 2 : DP;
                    RnnConfig c = make_config(cell, act, bias, cart, D);
                    RnnD m;
                    Case k;
                    if (rnnd_alloc_config(&m, &c, B, T) != 0) {
                        TEST_CHECK(0, "alloc");
                        continue;
                    }
                    init_net(&m, &r);
                    make_case(&k, D, cart, &r);
                    snprintf(label, sizeof label, "%s/%s/bias=%d/%s", cell_name[cell], act_name[act], bias,
                             cart ? "mse" : "ce");
                    double l = loss_of(&m, &k, k.xi), ln = naive_loss(&m, &k, k.xi);
                    TEST_CHECK(fabs(l - ln) <= 1e-12 * fabs(ln), "%s: loss %.15g naive %.15g", label, l, ln);
                    TEST_CHECK(fabs(m.loss_data + m.loss_wd + m.loss_rate - l) <= 1e-12 * fabs(l) &&
                                   m.loss_wd > 0 && m.loss_rate > 0,
                               "%s: loss components", label);
                    double el, e = check_grad(&m, &k, k.xi, label, &el);
                    worst = fmax(worst, e);
                    worst_el = fmax(worst_el, el);
                    /* without noise and penalties too */
                    m.c.weight_decay = m.c.rate_l2 = 0;
                    l = loss_of(&m, &k, NULL);
                    ln = naive_loss(&m, &k, NULL);
                    TEST_CHECK(fabs(l - ln) <= 1e-12 * fabs(ln), "%s plain: loss %.15g naive %.15g", label, l, ln);
                    strcat(label, "/plain");
                    e = check_grad(&m, &k, NULL, label, &el);
                    worst = fmax(worst, e);
                    worst_el = fmax(worst_el, el);
                    rnnd_free(&m);
                }
    printf("finite differences: worst tensor-relative error %.3g, worst element-relative error %.3g\n", worst,
           worst_el);
}

/* Run net c and return loss; grads and hidden copied out. */
static double run_copy(const RnnConfig *c, const double *params, const Case *k, double *grads, double *hid)
{
    RnnD m;
    if (rnnd_alloc_config(&m, c, B, T) != 0) return NAN;
    memcpy(m.params, params, m.n_params * sizeof(double));
    double l = loss_of(&m, k, k->xi);
    rnnd_backward(&m);
    memcpy(grads, m.grads, m.n_params * sizeof(double));
    memcpy(hid, rnnd_hidden(&m, 0, 1), (size_t)B * T * N * sizeof(double));
    rnnd_free(&m);
    return l;
}

/* Cell a with settings ca equals cell b with cb (same parameters). */
static void equivalent(RnnConfig ca, RnnConfig cb, const char *what)
{
    Rng r;
    rng_seed(&r, 11, RNG_SAMPLE);
    RnnD m;
    Case k;
    if (rnnd_alloc_config(&m, &ca, B, T) != 0) {
        TEST_CHECK(0, "alloc");
        return;
    }
    init_net(&m, &r);
    make_case(&k, ca.D, ca.cartesian, &r);
    size_t n = m.n_params;
    double *ga = malloc(n * sizeof *ga), *gb = malloc(n * sizeof *gb);
    double *ha = malloc(B * T * N * sizeof *ha), *hb = malloc(B * T * N * sizeof *hb);
    if (ga && gb && ha && hb) {
        double la = run_copy(&ca, m.params, &k, ga, ha), lb = run_copy(&cb, m.params, &k, gb, hb);
        TEST_CLOSE(la, lb, 0, 1e-12);
        double eh = 0, eg = 0, sg = 0;
        for (int i = 0; i < B * T * N; i++) eh = fmax(eh, fabs(ha[i] - hb[i]));
        for (size_t i = 0; i < n; i++) {
            eg = fmax(eg, fabs(ga[i] - gb[i]));
            sg = fmax(sg, fabs(gb[i]));
        }
        TEST_CHECK(eh <= 1e-12 && eg <= 1e-12 * sg, "%s: |dh| %.3g |dgrad| %.3g", what, eh, eg);
        printf("%s: loss %.15g vs %.15g, max |h diff| %.3g, max |grad diff| %.3g\n", what, la, lb, eh, eg);
    } else {
        TEST_CHECK(0, "out of memory");
    }
    free(ga);
    free(gb);
    free(ha);
    free(hb);
    rnnd_free(&m);
}

static void equivalences(void)
{
    for (int act = 0; act < ACT_COUNT; act++) {
        RnnConfig mo = make_config(CELL_MOMENTUM, act, 1, 0, DP), le = make_config(CELL_LEAKY, act, 1, 0, DP);
        mo.lambda_v = 1;
        equivalent(mo, le, "momentum(lambda_v=1) == leaky");
        RnnConfig am = make_config(CELL_ADAPTIVE_MOMENTUM, act, 1, 0, DP), ad = make_config(CELL_ADAPTIVE, act, 1, 0, DP);
        am.lambda_v = 1;
        equivalent(am, ad, "adaptive_momentum(lambda_v=1) == adaptive");
        RnnConfig l1 = make_config(CELL_LEAKY, act, 1, 0, DP), va = make_config(CELL_VANILLA, act, 1, 0, DP);
        l1.alpha = 1;
        equivalent(l1, va, "leaky(tau=dt) == vanilla");
    }
}

/* The float network against the double one, and partial (B, T). */
static void float_and_sizes(void)
{
    Rng r;
    rng_seed(&r, 13, RNG_SAMPLE);
    for (int cell = 0; cell < CELL_COUNT; cell++) {
        RnnConfig c = make_config(cell, ACT_TANH, 1, 0, DP);
        RnnD md = {0}, big = {0};
        Rnn mf = {0};
        Case k;
        if (rnnd_alloc_config(&md, &c, B, T) || rnn_alloc_config(&mf, &c, B, T) ||
            rnnd_alloc_config(&big, &c, B + 2, T + 3)) {
            TEST_CHECK(0, "alloc");
            rnnd_free(&md), rnn_free(&mf), rnnd_free(&big);
            continue;
        }
        init_net(&md, &r);
        make_case(&k, DP, 0, &r);
        float p0f[B * DP], vf[B * T * RNN_I], yf[B * T * DP], xif[B * T * N];
        for (int i = 0; i < B * DP; i++) p0f[i] = (float)k.p0[i];
        for (int i = 0; i < B * T * RNN_I; i++) vf[i] = (float)k.v[i];
        for (int i = 0; i < B * T * DP; i++) yf[i] = (float)k.y[i];
        for (int i = 0; i < B * T * N; i++) xif[i] = (float)k.xi[i];
        for (size_t i = 0; i < md.n_params; i++) mf.params[i] = (float)md.params[i];
        memcpy(big.params, md.params, md.n_params * sizeof(double));

        double ld = loss_of(&md, &k, k.xi);
        rnnd_backward(&md);
        float lf = rnn_forward(&mf, p0f, vf, yf, xif, B, T);
        rnn_backward(&mf);
        TEST_CLOSE(lf, ld, 0, 1e-5);
        double eg = 0, sg = 0;
        for (size_t i = 0; i < md.n_params; i++) {
            eg = fmax(eg, fabs(mf.grads[i] - md.grads[i]));
            sg = fmax(sg, fabs(md.grads[i]));
        }
        TEST_CHECK(eg <= 1e-4 * sg, "%s: float vs double gradients %.3g (scale %.3g)", cell_name[cell], eg, sg);

        /* big network, used with (B, T) smaller than allocated, after a larger call */
        double yb[(B + 2) * (T + 3) * DP], pb[(B + 2) * DP], vb[(B + 2) * (T + 3) * RNN_I];
        for (int i = 0; i < (B + 2) * (T + 3) * DP; i++) yb[i] = 1.0 / DP;
        for (int i = 0; i < (B + 2) * DP; i++) pb[i] = 0.5;
        for (int i = 0; i < (B + 2) * (T + 3) * RNN_I; i++) vb[i] = 0.1;
        rnnd_forward(&big, pb, vb, yb, NULL, B + 2, T + 3);
        rnnd_backward(&big);
        double lb = loss_of(&big, &k, k.xi);
        TEST_CHECK(rnnd_backward(&big) == 0, "backward");
        TEST_CLOSE(lb, ld, 0, 1e-13);
        double e = 0;
        for (size_t i = 0; i < md.n_params; i++) e = fmax(e, fabs(big.grads[i] - md.grads[i]));
        TEST_CHECK(e <= 1e-14 * sg, "%s: partial (B,T) gradients differ by %.3g", cell_name[cell], e);
        for (int b = 0; b < B; b++)
            for (int t = 0; t <= T; t++) {
                const double *x = rnnd_hidden(&big, b, t), *y = rnnd_hidden(&md, b, t);
                double d = 0;
                for (int i = 0; i < N; i++) d = fmax(d, fabs(x[i] - y[i]));
                TEST_CHECK(d == 0, "%s: hidden(%d, %d) differs by %.3g", cell_name[cell], b, t, d);
            }
        /* forward only: same outputs, no backward */
        rnnd_predict(&big, k.p0, k.v, k.xi, B, T);
        TEST_CHECK(memcmp(rnnd_output(&big), rnnd_output(&md), (size_t)B * T * DP * sizeof(double)) == 0,
                   "predict outputs");
        TEST_CHECK(rnnd_backward(&big) == -1, "backward after predict must fail");
        rnnd_free(&md);
        rnn_free(&mf);
        rnnd_free(&big);
    }
}

static void alloc_and_init(void)
{
    RnnConfig c = make_config(CELL_LEAKY, ACT_RELU, 1, 0, DP);
    Rnn m;
    TEST_CHECK(rnn_alloc_config(&m, &c, 4, 4) == 0, "alloc");
    TEST_CHECK(m.n_params == (size_t)(N * DP + N * 2 + N * N + DP * N + N), "n_params %zu", m.n_params);
    TEST_CHECK(m.w_in == m.w_enc + N * DP && m.w_rec == m.w_in + N * 2 && m.w_dec == m.w_rec + N * N &&
                   m.b == m.w_dec + DP * N && m.db == m.grads + (m.b - m.params),
               "layout");
    Rng r;
    rng_seed(&r, 3, RNG_INIT);
    rnn_init(&m, &r);
    /* bounds: W_enc 1/sqrt(D) (nn.Linear); W_in, W_rec, b 1/sqrt(N) (nn.RNN); W_dec 1/sqrt(N) (nn.Linear) */
    double kD = 1 / sqrt(DP), kN = 1 / sqrt(N), mx[5] = {0};
    const float *w[5] = {m.w_enc, m.w_in, m.w_rec, m.w_dec, m.b};
    int n[5] = {N * DP, N * 2, N * N, DP * N, N};
    for (int j = 0; j < 5; j++) {
        double k = j == 0 ? kD : kN;
        for (int i = 0; i < n[j]; i++) mx[j] = fmax(mx[j], fabs(w[j][i]));
        TEST_CHECK(mx[j] <= k && mx[j] > 0.5 * k, "init bound of tensor %d: max %g vs %g", j, mx[j], k);
    }
    rnn_free(&m);
    rnn_free(&m); /* twice is safe */
    RnnConfig bad = c;
    bad.cartesian = 1; /* needs D = 2 */
    TEST_CHECK(rnn_alloc_config(&m, &bad, 4, 4) == -1 && m.params == NULL, "cartesian with D != 2 refused");
    bad = c;
    bad.cell = CELL_COUNT;
    TEST_CHECK(rnn_alloc_config(&m, &bad, 4, 4) == -1, "bad cell refused");
    bad = c;
    bad.input = INPUT_SPEED_HEADING; /* n_in must be 3 */
    TEST_CHECK(rnn_alloc_config(&m, &bad, 4, 4) == -1, "speed_heading with I = 2 refused");

    /* gated cells: blocks stacked, b_hh for gru and lstm with bias, W_enc_c for lstm */
    for (int cell = CELL_GRU; cell <= CELL_UGRNN; cell++) {
        RnnConfig g = make_config(cell, ACT_RELU, 1, 0, DP);
        g.input = INPUT_SPEED_HEADING;
        g.n_in = 3;
        const size_t G = (size_t)cell_gates(cell), GN = G * N;
        const int two_b = cell != CELL_UGRNN, lstm = cell == CELL_LSTM;
        TEST_CHECK(rnn_alloc_config(&m, &g, 4, 4) == 0, "alloc %s", cell_name[cell]);
        TEST_CHECK(m.G == (int)G && m.n_params == N * DP + GN * 3 + GN * N + DP * N + GN + (two_b ? GN : 0) +
                                                      (lstm ? N * DP : 0),
                   "%s: n_params %zu", cell_name[cell], m.n_params);
        TEST_CHECK(m.w_in == m.w_enc + N * DP && m.w_rec == m.w_in + GN * 3 && m.w_dec == m.w_rec + GN * N &&
                       m.b == m.w_dec + DP * N && (two_b ? m.b_hh == m.b + GN : m.b_hh == NULL) &&
                       (lstm ? m.w_enc_c == (two_b ? m.b_hh : m.b) + GN : m.w_enc_c == NULL) &&
                       (m.w_enc_c ? m.dw_enc_c == m.grads + (m.w_enc_c - m.params) : 1),
                   "%s: layout", cell_name[cell]);
        rng_seed(&r, 3, RNG_INIT);
        rnn_init(&m, &r);
        double mr = 0, me = 0;
        for (size_t i = 0; i < GN * N; i++) mr = fmax(mr, fabs(m.w_rec[i]));
        for (size_t i = 0; lstm && i < (size_t)N * DP; i++) me = fmax(me, fabs(m.w_enc_c[i]));
        TEST_CHECK(mr <= kN && mr > 0.5 * kN && (!lstm || (me <= kD && me > 0.5 * kD)), "%s: init bounds",
                   cell_name[cell]);
        rnn_free(&m);
    }
}

/* rnn_predict_rows' callback for split_shapes: rows t of a (B, T, N)
 * array, and a check that t comes 1, 2, ..., T. */
typedef struct RowsCtx {
    const float *xi; /* (B, T, N) */
    int T, last_t, bad;
} RowsCtx;

static void copy_rows(void *ctx, int t, int nb, float *out)
{
    RowsCtx *c = ctx;
    c->bad |= t != c->last_t + 1;
    c->last_t = t;
    for (int b = 0; b < nb; b++) memcpy(out + (size_t)b * N, c->xi + ((size_t)b * c->T + (t - 1)) * N, N * sizeof *out);
}

/* rnn_alloc_shapes: backward cache for (Bt, Tt), forwards without a target
 * up to (Bf, Tf) in the same memory.  Against a network allocated for
 * (Bf, Tf) throughout (float, as training uses it), bit for bit: the loss
 * and gradients of (Bt, Tt) batches before and after a large forward-only
 * call, and that call's outputs and hidden states; and the cache is
 * smaller. */
static void split_shapes(void)
{
    enum { Bt = 2, Tt = 3, Bf = 5, Tf = 7 };
    Rng r;
    rng_seed(&r, 17, RNG_SAMPLE);
    float p0[Bf * DP], v[Bf * Tf * RNN_I], y[Bt * Tt * DP], xi[Bf * Tf * N], g1[4096], g2[4096];
    for (int i = 0; i < Bf * DP; i++) p0[i] = (float)rng_uniform(&r);
    for (int i = 0; i < Bf * Tf * RNN_I; i++) v[i] = (float)(0.2 * rng_uniform(&r) - 0.1);
    for (int i = 0; i < Bt * Tt * DP; i++) y[i] = (float)rng_uniform(&r) / DP;
    for (int i = 0; i < Bf * Tf * N; i++) xi[i] = (float)(0.02 * rng_uniform(&r) - 0.01);
    for (int cell = 0; cell < CELL_COUNT; cell++)
        for (int act = 0; act < ACT_COUNT; act++) {
            RnnConfig c = make_config(cell, act, 1, 0, DP);
            c.rate_l2 = 0.01;
            Rnn ref = {0}, sm = {0};
            if (rnn_alloc_config(&ref, &c, Bf, Tf) || rnn_alloc_shapes(&sm, &c, Bt, Tt, Bf, Tf) ||
                ref.n_params > sizeof g1 / sizeof g1[0]) {
                TEST_CHECK(0, "alloc");
                rnn_free(&ref), rnn_free(&sm);
                continue;
            }
            Rng ri;
            rng_seed(&ri, 5, RNG_INIT);
            rnn_init(&ref, &ri);
            memcpy(sm.params, ref.params, ref.n_params * sizeof(float));
            TEST_CHECK(sm.cache_n < ref.cache_n, "cache %zu not below %zu", sm.cache_n, ref.cache_n);
            size_t np = ref.n_params;
            float l0 = rnn_forward(&ref, p0, v, y, xi, Bt, Tt);
            TEST_CHECK(rnn_backward(&ref) == 0, "backward ref");
            memcpy(g1, ref.grads, np * sizeof(float));
            float l1 = rnn_forward(&sm, p0, v, y, xi, Bt, Tt);
            TEST_CHECK(rnn_backward(&sm) == 0, "backward split");
            memcpy(g2, sm.grads, np * sizeof(float));
            TEST_CHECK(memcmp(&l0, &l1, sizeof l0) == 0 && memcmp(g1, g2, np * sizeof(float)) == 0,
                       "%s/%s: split network's loss or gradients differ", cell_name[cell], act_name[act]);
            rnn_predict(&ref, p0, v, xi, Bf, Tf);
            rnn_predict(&sm, p0, v, xi, Bf, Tf);
            TEST_CHECK(memcmp(rnn_output(&ref), rnn_output(&sm), (size_t)Bf * Tf * DP * sizeof(float)) == 0,
                       "%s/%s: forward-only outputs differ", cell_name[cell], act_name[act]);
            int hd = 0;
            for (int b = 0; b < Bf; b++)
                for (int t = 0; t <= Tf; t++) hd |= memcmp(rnn_hidden(&ref, b, t), rnn_hidden(&sm, b, t), N * sizeof(float));
            TEST_CHECK(hd == 0, "%s/%s: forward-only hidden states differ", cell_name[cell], act_name[act]);
            /* the same noise given step by step (rnn_predict_rows) */
            RowsCtx rc = {xi, Tf, 0, 0};
            rnn_predict_rows(&sm, p0, v, copy_rows, &rc, Bf, Tf, 1);
            TEST_CHECK(rc.bad == 0 && rc.last_t == Tf, "%s/%s: rows asked out of order (last %d)", cell_name[cell],
                       act_name[act], rc.last_t);
            hd = memcmp(rnn_output(&ref), rnn_output(&sm), (size_t)Bf * Tf * DP * sizeof(float));
            for (int b = 0; b < Bf; b++)
                for (int t = 0; t <= Tf; t++) hd |= memcmp(rnn_hidden(&ref, b, t), rnn_hidden(&sm, b, t), N * sizeof(float));
            TEST_CHECK(hd == 0, "%s/%s: predict_rows differs from predict", cell_name[cell], act_name[act]);
            /* hidden states only (outputs 0): the same h, and the readout
             * not run (the outputs' memory keeps what was there) */
            float *zs = (float *)rnn_output(&sm);
            memset(zs, 0xA5, (size_t)Bf * Tf * DP * sizeof(float));
            rc = (RowsCtx){xi, Tf, 0, 0};
            rnn_predict_rows(&sm, p0, v, copy_rows, &rc, Bf, Tf, 0);
            hd = 0;
            for (int b = 0; b < Bf; b++)
                for (int t = 0; t <= Tf; t++) hd |= memcmp(rnn_hidden(&ref, b, t), rnn_hidden(&sm, b, t), N * sizeof(float));
            int untouched = 1;
            const unsigned char *zb = (const unsigned char *)rnn_output(&sm);
            for (size_t i = 0; i < (size_t)Bf * Tf * DP * sizeof(float); i++) untouched &= zb[i] == 0xA5;
            TEST_CHECK(hd == 0 && untouched, "%s/%s: predict_rows without outputs: hidden states %s, readout %s",
                       cell_name[cell], act_name[act], hd ? "differ" : "equal", untouched ? "skipped" : "run");
            TEST_CHECK(rnn_backward(&sm) == -1, "backward after a forward-only call must fail");
            /* the training layout again, over the memory the forward-only call wrote */
            float l2 = rnn_forward(&sm, p0, v, y, xi, Bt, Tt);
            TEST_CHECK(rnn_backward(&sm) == 0, "backward split again");
            TEST_CHECK(memcmp(&l0, &l2, sizeof l0) == 0 && memcmp(g1, sm.grads, np * sizeof(float)) == 0,
                       "%s/%s: loss or gradients differ after a forward-only call", cell_name[cell], act_name[act]);
            rnn_free(&ref);
            rnn_free(&sm);
        }
    RnnConfig c = make_config(CELL_LEAKY, ACT_RELU, 1, 0, DP);
    Rnn m;
    TEST_CHECK(rnn_alloc_shapes(&m, &c, Bt, Tt, 0, Tf) == -1 && m.params == NULL, "Bf = 0 refused");
}

int main(void)
{
    alloc_and_init();
    grad_cases();
    grad_cases_gated();
    equivalences();
    float_and_sizes();
    split_shapes();
    return test_summary("test_rnn_grad");
}
