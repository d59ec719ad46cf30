/* test_replay.c -- the replay evaluation (replay.h).
 *
 * Legend: R replay starts, H horizon steps, N hidden, D outputs, P place
 * cells, G bins per side.
 *
 * Known answers:
 *  - replay_simulate equals rnn_forward with v = 0 and the same noise, bit
 *    for bit, for every cell and activation (H <= Tmax);
 *  - pure noise, Cartesian readout: W_enc = W_rec = 0, vanilla cell, so
 *    h_t = xi_t and x_t = c xi_t[0:2] ~ N(0, s^2 I) i.i.d. (s = c sigma_r),
 *    x_0 = 0; every metric has a closed form (see test_pure_noise_cartesian);
 *  - pure noise, place-cell readout: x_t = decode(W_dec xi_t) i.i.d.; the
 *    metrics match an independent Monte Carlo of that distribution;
 *  - momentum with lambda_v = 1 replays as the leaky cell;
 *  - the untrained baseline of an untrained network is the network itself;
 *  - same seed, same result; noise 0 is deterministic; masks of the arenas.
 * `test_replay --dump DIR` also writes replays, real trajectories and the
 * metrics for tests/ref/replay_ref.py (tests/t_replay_ref.sh).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/arena.h"
#include "base/config.h"
#include "model/place.h"
#include "model/replay.h"
#include "model/rng.h"
#include "model/rnn.h"
#include "testlib.h"
#include "model/traj.h"

/* A task: arena, place cells (RNG_PLACE) and a network at its RNG_INIT
 * weights, sized for (Bmax, Tmax). */
typedef struct Task {
    Arena a;
    PlaceCells pc;
    Rnn m;
} Task;

static int task_make(Task *k, const TaskConfig *cfg, int Bmax, int Tmax)
{
    memset(k, 0, sizeof *k);
    Rng rp, ri;
    rng_seed(&rp, (uint64_t)cfg->seed, RNG_PLACE);
    rng_seed(&ri, (uint64_t)cfg->seed, RNG_INIT);
    if (arena_init(&k->a, cfg) != 0) return -1;
    if (place_init(&k->pc, cfg, &k->a, &rp) != 0) return -1;
    if (rnn_alloc(&k->m, cfg, place_dim(&k->pc), Bmax, Tmax) != 0) return -1;
    rnn_init(&k->m, &ri);
    return 0;
}

static void task_free(Task *k)
{
    rnn_free(&k->m);
    place_free(&k->pc);
}

static void small_cfg(TaskConfig *cfg)
{
    config_defaults(cfg);
    cfg->hidden = 24;
    cfg->n_place = 16;
    cfg->noise = 0.02;
    cfg->replay = 1;
    cfg->replay_starts = 16;
    cfg->replay_steps = 60;
    cfg->replay_burn_in = 10;
    cfg->replay_keep = 4;
    cfg->ratemap_bins = 10;
    cfg->seed = 3;
}

/* ---- 1. the replay loop is rnn_forward with v = 0 ---------------------- */

static void test_matches_forward(void)
{
    const int R = 5, H = 12;
    for (int cell = 0; cell < CELL_COUNT; cell++)
        for (int act = 0; act < ACT_COUNT; act++)
            for (int bias = 0; bias < 2; bias++)
                for (int noisy = 0; noisy < 2; noisy++) {
                    TaskConfig cfg;
                    small_cfg(&cfg);
                    cfg.cell = cell;
                    cfg.activation = act;
                    cfg.bias = bias;
                    cfg.tau = 0.05;
                    cfg.lambda_a = 0.3;
                    cfg.b_a = 0.5;
                    cfg.lambda_v = 0.4;
                    Task k;
                    int ok = task_make(&k, &cfg, R, H) == 0;
                    TEST_CHECK(ok, "task cell %d act %d", cell, act);
                    if (!ok) {
                        task_free(&k);
                        continue;
                    }
                    const int N = k.m.c.N, D = k.m.c.D;
                    for (size_t i = 0; i < (size_t)N * N; i++) k.m.w_rec[i] *= 2.5f; /* livelier dynamics */
                    float *start = malloc((size_t)R * 2 * sizeof(float));
                    float *p0 = malloc((size_t)R * D * sizeof(float));
                    float *v = calloc((size_t)R * H * 2, sizeof(float));
                    float *noise = malloc((size_t)R * H * N * sizeof(float));
                    float *tmp = malloc((size_t)R * N * sizeof(float));
                    float *pos = malloc((size_t)R * (H + 1) * 2 * sizeof(float));
                    float *hid = malloc((size_t)R * (H + 1) * N * sizeof(float));
                    float *dec = malloc((size_t)R * H * 2 * sizeof(float));
                    Rng r;
                    rng_seed(&r, 11, RNG_SAMPLE);
                    for (int b = 0; b < R; b++) {
                        double x, y;
                        arena_sample(&k.a, &r, &x, &y);
                        start[2 * b] = (float)x;
                        start[2 * b + 1] = (float)y;
                    }
                    const float sigma = noisy ? 0.05f : 0.0f;
                    Rng rn = r, rc = r;
                    /* the same noise laid out (R, H, N) for rnn_forward:
                     * replay_simulate draws (R, N) per step */
                    for (int t = 1; t <= H; t++) {
                        if (sigma > 0) rng_normal_fill(&rc, tmp, (size_t)R * N, sigma);
                        for (int b = 0; b < R; b++)
                            memcpy(noise + ((size_t)b * H + t - 1) * N, tmp + (size_t)b * N, (size_t)N * sizeof(float));
                    }
                    TEST_CHECK(replay_simulate(&k.m, &k.pc, start, R, H, sigma, &rn, pos, hid, NULL) == 0, "simulate");
                    place_encode(&k.pc, start, (size_t)R, p0);
                    rnn_forward(&k.m, p0, v, NULL, sigma > 0 ? noise : NULL, R, H);
                    place_decode(&k.pc, rnn_output(&k.m), (size_t)R * H, dec);
                    long bad_h = 0, bad_x = 0;
                    double maxd = 0;
                    for (int b = 0; b < R; b++)
                        for (int t = 0; t <= H; t++) {
                            const float *ref = rnn_hidden(&k.m, b, t), *got = hid + ((size_t)b * (H + 1) + t) * N;
                            for (int n = 0; n < N; n++) {
                                bad_h += got[n] != ref[n];
                                double d = fabs((double)got[n] - ref[n]);
                                maxd = d > maxd ? d : maxd;
                            }
                            if (t >= 1)
                                for (int c = 0; c < 2; c++)
                                    bad_x += pos[((size_t)b * (H + 1) + t) * 2 + c] != dec[((size_t)b * H + t - 1) * 2 + c];
                        }
                    TEST_CHECK(bad_h == 0 && bad_x == 0,
                               "cell %d act %d bias %d noise %d: %ld hidden, %ld decoded differ (max |dh| %g)", cell,
                               act, bias, noisy, bad_h, bad_x, maxd);
                    if (sigma == 0) TEST_CHECK(memcmp(&rn, &r, sizeof r) == 0, "no draws without noise");
                    free(start), free(p0), free(v), free(noise), free(tmp), free(pos), free(hid), free(dec);
                    task_free(&k);
                }
}

/* ---- 2. pure noise with a Cartesian readout: closed forms ------------- */

static double Phi(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static void test_pure_noise_cartesian(void)
{
    /* W_enc = W_rec = 0, vanilla: h_0 = 0, h_t = relu(0) + xi_t = xi_t.
     * W_dec = c e_0, c e_1: x_0 = 0, x_t = c (xi_t0, xi_t1) ~ N(0, s^2 I),
     * s = c sigma_r, independent over t and r.  Then, with H steps, R starts:
     *   spread = 2 s^2                                   (t >= burn_in >= 1)
     *   speed  = (E|X_1 - 0| + (H-1) E|X - X'|) / H = s (sqrt(pi/2) + (H-1) sqrt(pi)) / H
     *   bin g: q_g = P(X in g) = (Phi(e_{i+1}/s) - Phi(e_i/s)) (Phi(f_{j+1}/s) - Phi(f_j/s))
     *   P(visit g) = 1 for the origin's bin g0 (t = 0), 1 - (1-q_g)^H otherwise
     *   coverage = mean_g P(visit g)   (square: every bin is in the arena)
     *   E[tau_g 1{visit}] = sum_{t=1..H} t q_g (1-q_g)^(t-1)   (0 for g0)
     *   mean_first_visit ~= sum_g E[tau_g 1{visit}] / sum_g P(visit g)
     *   outside = H / (H+1) * (1 - (Phi(h/s) - Phi(-h/s))^2), h = L/2
     *   kl ~= D(q / sum q || P_real) (burn_in = 1 drops x_0) */
    TaskConfig cfg;
    small_cfg(&cfg);
    cfg.target = TARGET_CARTESIAN;
    cfg.cell = CELL_VANILLA;
    cfg.hidden = 4;
    cfg.noise = 0.2;
    cfg.replay_noise_var = 2.0;
    cfg.replay_starts = 400;
    cfg.replay_steps = 300;
    cfg.replay_burn_in = 1;
    cfg.ratemap_bins = 11;
    const int H = cfg.replay_steps, G = cfg.ratemap_bins;
    Task k;
    ReplayResult out = {0};
    int ok = task_make(&k, &cfg, 1, 1) == 0 && result_replay_alloc(&out, &cfg) == 0;
    TEST_CHECK(ok, "setup");
    if (!ok) goto done;
    const int N = k.m.c.N;
    const double sigma_r = sqrt(2.0) * 0.2, s = 0.35, c = s / sigma_r;
    memset(k.m.w_enc, 0, (size_t)N * 2 * sizeof(float));
    memset(k.m.w_rec, 0, (size_t)N * N * sizeof(float));
    memset(k.m.w_dec, 0, (size_t)2 * N * sizeof(float));
    k.m.w_dec[0] = (float)c;     /* x = c h_0 */
    k.m.w_dec[N + 1] = (float)c; /* y = c h_1 */
    TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &out) == 0, "replay_run");
    TEST_CLOSE(out.sigma, sigma_r, 1e-7, 1e-6);
    TEST_CHECK(out.n_in == G * G, "n_in %d", out.n_in);

    TEST_CLOSE(out.spread_cm2, 1e4 * 2 * s * s, 0, 0.02);
    TEST_CLOSE(out.speed_cm, 100 * s * (sqrt(M_PI / 2) + (H - 1) * sqrt(M_PI)) / H, 0, 0.01);

    double *q = malloc((size_t)G * G * sizeof *q), *pr = malloc((size_t)G * G * sizeof *pr);
    unsigned char *mask = malloc((size_t)G * G);
    replay_mask(&k.a, G, mask);
    const double h = k.a.xmax, w = 2 * h / G;
    double pvis = 0, etau = 0, qin = 0;
    const int g0 = (G / 2) * G + G / 2;
    for (int j = 0; j < G; j++)
        for (int i = 0; i < G; i++) {
            double qx = Phi((-h + (i + 1) * w) / s) - Phi((-h + i * w) / s);
            double qy = Phi((-h + (j + 1) * w) / s) - Phi((-h + j * w) / s);
            double qg = qx * qy, et = 0;
            q[j * G + i] = qg;
            qin += qg;
            pr[j * G + i] = out.occ_real[j * G + i];
            if (j * G + i == g0) {
                pvis += 1;
                continue;
            }
            pvis += 1 - pow(1 - qg, H);
            for (int t = 1; t <= H; t++) et += t * qg * pow(1 - qg, t - 1);
            etau += et;
        }
    TEST_CLOSE(out.coverage, pvis / (G * G), 0.01, 0);
    TEST_CLOSE(out.mean_first_visit, etau / pvis, 0, 0.03);
    TEST_CLOSE(out.outside, (double)H / (H + 1) * (1 - qin), 0.001, 0);
    TEST_CLOSE(out.kl, replay_kl(q, pr, mask, G), 0.01, 0.05);
    printf("pure noise (cartesian): spread %.2f / %.2f cm^2, speed %.4f / %.4f cm, coverage %.4f / %.4f, "
           "first visit %.2f / %.2f, outside %.5f / %.5f, kl %.4f / %.4f (measured / expected)\n",
           out.spread_cm2, 1e4 * 2 * s * s, out.speed_cm, 100 * s * (sqrt(M_PI / 2) + (H - 1) * sqrt(M_PI)) / H,
           out.coverage, pvis / (G * G), out.mean_first_visit, etau / pvis, out.outside,
           (double)H / (H + 1) * (1 - qin), out.kl, replay_kl(q, pr, mask, G));
    /* the real walk: mean step a bit under the Rayleigh mean (wall slowing) */
    double rayleigh_cm = 100 * cfg.speed_scale * sqrt(M_PI / 2) * cfg.dt;
    TEST_CHECK(out.real_step_cm > 0.9 * rayleigh_cm && out.real_step_cm <= rayleigh_cm, "real step %g vs %g",
               out.real_step_cm, rayleigh_cm);
    TEST_CLOSE(out.speed_ratio, out.speed_cm / out.real_step_cm, 0, 1e-6);
    /* the real occupancy sums to 1 over the arena; uniform vs real is small but > 0 */
    double sr = 0;
    for (int g = 0; g < G * G; g++) sr += pr[g];
    TEST_CLOSE(sr, 1.0, 1e-5, 0);
    TEST_CHECK(out.kl_uniform > 0 && out.kl_uniform < 0.1, "kl_uniform %g", out.kl_uniform);
    /* the stored replays are replays 0..K-1, x_0 = 0 */
    TEST_CHECK(out.traj[0] == 0 && out.traj[1] == 0, "x_0 = 0");
    free(q), free(pr), free(mask);
done:
    result_replay_free(&out);
    task_free(&k);
}

/* ---- 3. pure noise with place cells: independent Monte Carlo ---------- */

static void test_pure_noise_place(void)
{
    /* h_t = xi_t, x_t = decode(W_dec xi_t) i.i.d. for t >= 1.  Reference:
     * M independent draws of that distribution (exact normals from another
     * stream, W_dec xi summed in double): trace of the covariance, E|X - X'|
     * from pairs of draws, bin probabilities q_g -> expected coverage. */
    TaskConfig cfg;
    small_cfg(&cfg);
    cfg.cell = CELL_VANILLA;
    cfg.hidden = 16;
    cfg.n_place = 32;
    cfg.noise = 0.5;
    cfg.replay_starts = 300;
    cfg.replay_steps = 200;
    cfg.replay_burn_in = 1;
    cfg.ratemap_bins = 8;
    const int H = cfg.replay_steps, G = cfg.ratemap_bins, M = 60000;
    Task k;
    ReplayResult out = {0};
    int ok = task_make(&k, &cfg, 1, 1) == 0 && result_replay_alloc(&out, &cfg) == 0;
    TEST_CHECK(ok, "setup");
    if (!ok) goto done;
    const int N = k.m.c.N, D = k.m.c.D;
    memset(k.m.w_rec, 0, (size_t)N * N * sizeof(float));
    TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &out) == 0, "replay_run");

    const double sig = sqrt(cfg.replay_noise_var) * cfg.noise;
    float *z = malloc((size_t)D * sizeof(float)), *x = malloc((size_t)M * 2 * sizeof(float));
    double *qg = calloc((size_t)G * G, sizeof(double)), xi[64];
    Rng r;
    rng_seed(&r, 99, RNG_SAMPLE);
    for (int i = 0; i < M; i++) {
        for (int n = 0; n < N; n++) xi[n] = sig * rng_normal(&r);
        for (int d = 0; d < D; d++) {
            double acc = 0;
            for (int n = 0; n < N; n++) acc += (double)k.m.w_dec[(size_t)d * N + n] * xi[n];
            z[d] = (float)acc;
        }
        place_decode(&k.pc, z, 1, x + 2 * i);
        int b = replay_bin(&k.a, G, x[2 * i], x[2 * i + 1]);
        if (b >= 0) qg[b] += 1.0 / M;
    }
    double mx = 0, my = 0, vx = 0, vy = 0, dd = 0;
    for (int i = 0; i < M; i++) mx += x[2 * i] / (double)M, my += x[2 * i + 1] / (double)M;
    for (int i = 0; i < M; i++) {
        vx += (x[2 * i] - mx) * (x[2 * i] - mx) / (M - 1);
        vy += (x[2 * i + 1] - my) * (x[2 * i + 1] - my) / (M - 1);
    }
    for (int i = 0; i + 1 < M; i += 2) dd += hypot(x[2 * i] - x[2 * i + 2], x[2 * i + 1] - x[2 * i + 3]) / (M / 2);
    TEST_CLOSE(out.spread_cm2, 1e4 * (vx + vy), 0, 0.03);
    /* speed: H-1 of the H steps are between i.i.d. draws; the first starts
     * at decode(W_dec W_enc p(x_0)) -- bound its share by the box diagonal */
    double diag = 100 * hypot(k.a.xmax - k.a.xmin, k.a.ymax - k.a.ymin);
    TEST_CLOSE(out.speed_cm, 100 * dd * (H - 1) / H, diag / H, 0.02);
    double pvis = 0;
    unsigned char mask[64];
    int n_in = replay_mask(&k.a, G, mask);
    for (int g = 0; g < G * G; g++)
        if (mask[g]) pvis += 1 - pow(1 - qg[g], H); /* x_0 adds at most one bin per replay */
    TEST_CLOSE(out.coverage, pvis / n_in, 1.0 / n_in + 0.01, 0);
    printf("pure noise (place cells): spread %.2f / %.2f cm^2, speed %.4f / %.4f cm, coverage %.4f / %.4f "
           "(measured / Monte Carlo)\n", out.spread_cm2, 1e4 * (vx + vy), out.speed_cm, 100 * dd * (H - 1) / H,
           out.coverage, pvis / n_in);
    TEST_CHECK(out.outside == 0, "place decoding stays in the square: outside %g", out.outside);
    free(z), free(x), free(qg);
done:
    result_replay_free(&out);
    task_free(&k);
}

/* ---- 4. momentum with lambda_v = 1 is the leaky cell ------------------ */

static void test_momentum_is_leaky(void)
{
    TaskConfig cfg;
    small_cfg(&cfg);
    cfg.hidden = 32;
    cfg.n_place = 32;
    cfg.tau = 0.05;
    cfg.noise = 0.05;
    cfg.replay_steps = 200;
    cfg.replay_keep = cfg.replay_starts;
    ReplayResult o[3];
    memset(o, 0, sizeof o);
    const int cells[3] = {CELL_LEAKY, CELL_MOMENTUM, CELL_MOMENTUM};
    const double lv[3] = {0.5, 1.0, 0.3};
    for (int i = 0; i < 3; i++) {
        cfg.cell = cells[i];
        cfg.lambda_v = lv[i];
        Task k;
        int ok = task_make(&k, &cfg, 1, 1) == 0 && result_replay_alloc(&o[i], &cfg) == 0;
        TEST_CHECK(ok, "setup %d", i);
        if (ok) {
            for (size_t j = 0; j < (size_t)k.m.c.N * k.m.c.N; j++) k.m.w_rec[j] *= 3.0f;
            TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &o[i]) == 0, "replay_run %d", i);
        }
        task_free(&k);
    }
    TEST_CLOSE(o[1].speed_cm, o[0].speed_cm, 0, 1e-4);
    TEST_CLOSE(o[1].spread_cm2, o[0].spread_cm2, 0, 1e-4);
    TEST_CLOSE(o[1].coverage, o[0].coverage, 0, 1e-4);
    TEST_CLOSE(o[1].kl, o[0].kl, 1e-6, 1e-4);
    long same = 0, n = (long)o[0].n_keep * (o[0].H + 1) * 2;
    double maxd = 0;
    for (long i = 0; i < n; i++) {
        same += o[0].traj[i] == o[1].traj[i];
        double d = fabs((double)o[0].traj[i] - o[1].traj[i]);
        maxd = d > maxd ? d : maxd;
    }
    TEST_CHECK(maxd < 1e-4, "momentum(1) vs leaky: max |dx| %g m (%ld of %ld identical)", maxd, same, n);
    printf("momentum(lambda_v=1) vs leaky: speed %.6f / %.6f cm, %ld of %ld coordinates identical, max |dx| %g\n",
           o[1].speed_cm, o[0].speed_cm, same, n, maxd);
    /* and lambda_v < 1 is a different cell: the test above can fail */
    TEST_CHECK(fabs(o[2].speed_cm - o[0].speed_cm) > 1e-3 * o[0].speed_cm, "momentum(0.3) %g vs leaky %g",
               o[2].speed_cm, o[0].speed_cm);
    for (int i = 0; i < 3; i++) result_replay_free(&o[i]);
}

/* ---- 5. determinism, noise 0, untrained baseline, burn-in, masks ------- */

static void test_misc(void)
{
    TaskConfig cfg;
    small_cfg(&cfg);
    cfg.cell = CELL_ADAPTIVE_MOMENTUM;
    Task k;
    ReplayResult a = {0}, b = {0};
    int ok = task_make(&k, &cfg, 1, 1) == 0 && result_replay_alloc(&a, &cfg) == 0 && result_replay_alloc(&b, &cfg) == 0;
    TEST_CHECK(ok, "setup");
    if (!ok) goto done;
    /* the network is at its RNG_INIT weights: the baseline is itself */
    TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &a) == 0, "run a");
    TEST_CHECK(a.kl_untrained == a.kl && isfinite(a.kl), "untrained baseline %g vs %g", a.kl_untrained, a.kl);
    /* same seed, same everything */
    TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &b) == 0, "run b");
    size_t nt = (size_t)a.n_keep * (a.H + 1) * 2 * sizeof(float);
    TEST_CHECK(memcmp(a.traj, b.traj, nt) == 0 && a.speed_cm == b.speed_cm && a.spread_cm2 == b.spread_cm2 &&
                   a.coverage == b.coverage && a.mean_first_visit == b.mean_first_visit && a.kl == b.kl,
               "deterministic");
    /* a changed network changes the replay but not the baseline */
    for (size_t i = 0; i < (size_t)k.m.c.N * k.m.c.N; i++) k.m.w_rec[i] *= 2.0f;
    TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &b) == 0, "run c");
    TEST_CHECK(memcmp(a.traj, b.traj, nt) != 0 && b.kl_untrained == a.kl_untrained && b.kl_uniform == a.kl_uniform,
               "baseline fixed, replay changed");
    /* another seed, another replay */
    cfg.seed = 4;
    TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &b) == 0, "run d");
    TEST_CHECK(memcmp(a.traj, b.traj, nt) != 0, "seed changes the replay");
    /* burn-in past the horizon: no steady state */
    cfg.replay_burn_in = cfg.replay_steps + 1;
    TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &b) == 0, "run e");
    TEST_CHECK(isnan(b.spread_cm2) && isnan(b.kl) && isfinite(b.speed_cm) && isfinite(b.coverage),
               "burn-in > H: spread %g kl %g", b.spread_cm2, b.kl);

    /* noise 0: replays from the same start coincide; with noise they part */
    {
        const int R = 4, H = 30, N = k.m.c.N;
        float st[8] = {0.3f, -0.2f, 0.3f, -0.2f, 0.3f, -0.2f, 0.3f, -0.2f};
        float *p = malloc((size_t)R * (H + 1) * 2 * sizeof(float));
        Rng r;
        rng_seed(&r, 1, RNG_SAMPLE);
        replay_simulate(&k.m, &k.pc, st, R, H, 0.0f, &r, p, NULL, NULL);
        TEST_CHECK(memcmp(p, p + (H + 1) * 2, (size_t)3 * (H + 1) * 2 * sizeof(float)) == 0, "noise 0: deterministic");
        replay_simulate(&k.m, &k.pc, st, R, H, 0.1f, &r, p, NULL, NULL);
        TEST_CHECK(memcmp(p, p + (H + 1) * 2, (size_t)(H + 1) * 2 * sizeof(float)) != 0, "noise: replays part (N %d)",
                   N);
        /* a raised stop flag abandons the replay */
        volatile int stop = 1;
        TEST_CHECK(replay_simulate(&k.m, &k.pc, st, R, H, 0.1f, &r, p, NULL, &stop) == 1, "stop: simulate");
        TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, &stop, &b) == 1, "stop: run");
        free(p);
        cfg.noise = 0;
        cfg.replay_burn_in = 10;
        TEST_CHECK(replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &b) == 0 && b.sigma == 0, "noise 0 run");
    }
done:
    result_replay_free(&a);
    result_replay_free(&b);
    task_free(&k);

    /* masks: the T-maze at L = 2.2, G = 20 has corridors of exactly 4 bins:
     * top bar 4 x 20 + stem 4 x 16 = 144; the triangle fills half its box */
    {
        TaskConfig c2;
        Arena ar;
        config_defaults(&c2);
        c2.arena = ARENA_TMAZE;
        arena_init(&ar, &c2);
        unsigned char *mk = malloc(200 * 200);
        TEST_CHECK(replay_mask(&ar, 20, mk) == 144, "tmaze bins %d", replay_mask(&ar, 20, mk));
        c2.arena = ARENA_TRIANGLE;
        arena_init(&ar, &c2);
        TEST_CLOSE(replay_mask(&ar, 200, mk) / 40000.0, 0.5, 0.005, 0);
        TEST_CHECK(replay_bin(&ar, 20, ar.xmax, ar.ymax) == 399 && replay_bin(&ar, 20, ar.xmin, ar.ymin) == 0 &&
                       replay_bin(&ar, 20, ar.xmax + 1e-9, 0) == -1 && replay_bin(&ar, 20, NAN, 0) == -1,
                   "bin edges");
        free(mk);
    }
}

/* ---- the dump for tests/ref/replay_ref.py ----------------------------- */

static int write_raw(const char *dir, const char *name, const char *what, const void *p, size_t bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s", dir, name, what);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(p, 1, bytes, f);
    return fclose(f) == 0 && w == bytes ? 0 : -1;
}

static int dump(const char *dir)
{
    const int shapes[3] = {ARENA_SQUARE, ARENA_TRIANGLE, ARENA_TMAZE};
    const char *names[3] = {"square", "triangle", "tmaze"};
    int rc = 0;
    for (int s = 0; s < 3; s++) {
        TaskConfig cfg;
        small_cfg(&cfg);
        cfg.arena = shapes[s];
        cfg.hidden = 32;
        cfg.n_place = 64;
        cfg.cell = CELL_MOMENTUM;
        cfg.noise = 0.05;
        cfg.replay_starts = 24;
        cfg.replay_steps = 150;
        cfg.replay_burn_in = 20;
        cfg.replay_keep = cfg.replay_starts; /* keep every replay */
        cfg.ratemap_bins = 12;
        cfg.seed = 7 + s;
        const int R = cfg.replay_starts, H = cfg.replay_steps, G = cfg.ratemap_bins;
        Task k;
        ReplayResult out = {0};
        TrajBatch tb = {0};
        unsigned char *mask = malloc((size_t)G * G);
        int ok = task_make(&k, &cfg, 1, 1) == 0 && result_replay_alloc(&out, &cfg) == 0 && traj_alloc(&tb, R, H) == 0 && mask;
        if (ok) {
            for (size_t j = 0; j < (size_t)k.m.c.N * k.m.c.N; j++) k.m.w_rec[j] *= 3.0f;
            ok = replay_run(&k.m, &k.pc, &k.a, &cfg, NULL, &out) == 0;
            /* the real trajectories: first in the RNG_REPLAY stream, one traj_generate of (R, H) */
            Rng r;
            rng_seed(&r, (uint64_t)cfg.seed, RNG_REPLAY);
            traj_generate(&tb, &k.a, &cfg, &r);
            replay_mask(&k.a, G, mask);
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/%s_meta.txt", dir, names[s]);
        FILE *f = ok ? fopen(path, "w") : NULL;
        if (f) {
            fprintf(f, "arena %s\nL %.17g\nR %d\nH %d\nG %d\nburn_in %d\n", names[s], cfg.arena_size, R, H, G,
                    cfg.replay_burn_in);
            fprintf(f, "xmin %.17g\nxmax %.17g\nymin %.17g\nymax %.17g\nsmooth %.17g\n", k.a.xmin, k.a.xmax, k.a.ymin,
                    k.a.ymax, REPLAY_KL_SMOOTH);
            fprintf(f, "n_in %d\nspeed_cm %.9g\nreal_step_cm %.9g\nspeed_ratio %.9g\nspread_cm2 %.9g\n", out.n_in,
                    out.speed_cm, out.real_step_cm, out.speed_ratio, out.spread_cm2);
            fprintf(f, "coverage %.9g\nmean_first_visit %.9g\noutside %.9g\nkl %.9g\nkl_uniform %.9g\n", out.coverage,
                    out.mean_first_visit, out.outside, out.kl, out.kl_uniform);
            ok = fclose(f) == 0;
        } else {
            ok = 0;
        }
        ok = ok && write_raw(dir, names[s], "traj.f32", out.traj, (size_t)R * (H + 1) * 2 * sizeof(float)) == 0 &&
             write_raw(dir, names[s], "real_pos.f32", tb.pos, (size_t)R * (H + 1) * 2 * sizeof(float)) == 0 &&
             write_raw(dir, names[s], "real_v.f32", tb.v, (size_t)R * H * 2 * sizeof(float)) == 0 &&
             write_raw(dir, names[s], "mask.u8", mask, (size_t)G * G) == 0 &&
             write_raw(dir, names[s], "occ.f32", out.occ, (size_t)G * G * sizeof(float)) == 0 &&
             write_raw(dir, names[s], "occ_real.f32", out.occ_real, (size_t)G * G * sizeof(float)) == 0;
        if (!ok) {
            fprintf(stderr, "dump %s failed\n", names[s]);
            rc = -1;
        }
        free(mask);
        traj_free(&tb);
        result_replay_free(&out);
        task_free(&k);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--dump") == 0) return dump(argv[2]) == 0 ? 0 : 1;
    test_matches_forward();
    test_pure_noise_cartesian();
    test_pure_noise_place();
    test_momentum_is_leaky();
    test_misc();
    return test_summary("test_replay");
}
