/* test_train.c -- task_run: learning, determinism, divergence, stop flag,
 * targets, cell types, rate-map selection, replay stage, unit classes and
 * snapshots, checkpoints, the data thread, task_cost.
 *
 * Dimensions: N hidden, L logged points, S evaluation noise levels,
 * E evaluation steps, G rate-map bins per side, K snapshots, C classes.
 *
 * Smoke-sized settings (N = 64, 64 place cells) keep the whole file well
 * under a minute on one core.  No wall time is ever asserted.
 */
#define _GNU_SOURCE /* pthread_setattr_default_np */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/config.h"
#include "base/result.h"
#include "score/gridgeom.h"
#include "testlib.h"
#include "task/train.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A small leaky-relu task that learns within a few hundred steps. */
static void smoke_config(TaskConfig *c)
{
    config_defaults(c);
    c->hidden = 64;
    c->n_place = 64;
    c->place_sigma = 0.2;
    c->cell = CELL_LEAKY;
    c->activation = ACT_RELU;
    c->tau = 0.04;            /* alpha = 0.5 */
    c->seq_len = 20;
    c->batch = 32;
    c->lr = 1e-3;
    c->steps = 1000;
    c->log_every = 200;
    c->eval_batch = 32;
    c->eval_len_factor = 2.0;
    c->ratemap_bins = 10;
    c->ratemap_trajectories = 48;  /* two chunks: 32 + 16 */
    c->seed = 7;
}

static int n_finite(const float *x, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += isfinite(x[i]) != 0;
    return k;
}

static int same_floats(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* The shuffle-null fields of a done task with the null on: finite
 * threshold; flag = score60 > threshold (0 for a NaN score); grid_p NaN
 * exactly for NaN scores, in [1/(1 + null_shuffles), 1] otherwise, and at
 * most about (100 - null_percentile)% for a flagged unit; grid_frac_null =
 * flagged / N <= fraction of finite scores. */
static void check_null(const TaskResult *r, const TaskConfig *c, const char *what)
{
    int N = r->n_units, flagged = 0, finite = 0, bad = 0;
    float pmin = (float)(1.0 / (1.0 + c->null_shuffles)), pflag = (float)((100.0 - c->null_percentile) / 100.0 + 0.01);
    TEST_CHECK(isfinite(r->null_threshold), "%s: null threshold %g", what, r->null_threshold);
    for (int u = 0; u < N; u++) {
        int f = r->score60[u] > r->null_threshold;
        finite += isfinite(r->score60[u]) != 0;
        flagged += r->grid_null[u] == 1;
        if (r->grid_null[u] != f) bad++;
        if (isnan(r->score60[u]) != isnan(r->grid_p[u])) bad++;
        if (!isnan(r->grid_p[u]) && !(r->grid_p[u] >= pmin && r->grid_p[u] <= 1.0f)) bad++;
        if (f && !(r->grid_p[u] <= pflag)) bad++;
    }
    TEST_CHECK(bad == 0, "%s: %d inconsistent null entries", what, bad);
    TEST_CLOSE(r->grid_frac_null, (double)flagged / N, 1e-7, 0);
    TEST_CHECK(r->grid_frac_null <= (float)finite / N, "%s: grid_frac_null %g > finite fraction %g", what,
               r->grid_frac_null, (double)finite / N);
    printf("%s: null threshold %.3f, grid_frac_null %.3f (grid_frac %.3f at %.2f)\n", what, r->null_threshold,
           r->grid_frac_null, r->grid_frac, c->grid_threshold);
}

/* Run cfg into a fresh result; returns task_run's return value. */
static int run(const TaskConfig *c, TaskResult *r, const TaskHooks *h)
{
    if (result_alloc(r, c) != 0) return -2;
    return task_run(c, r, h);
}

/* ---- learning: trained error far below untrained --------------------- */
static void test_learning(void)
{
    TaskConfig c;
    smoke_config(&c);
    TaskResult r0, r1;
    TaskConfig c0 = c;
    c0.steps = 0;
    int rc0 = run(&c0, &r0, NULL);
    double t0 = now_s();
    int rc1 = run(&c, &r1, NULL);
    double dt = now_s() - t0;
    TEST_CHECK(rc0 == 0 && r0.status == TASK_DONE, "untrained rc %d status %d: %s", rc0, r0.status, r0.message);
    TEST_CHECK(rc1 == 0 && r1.status == TASK_DONE, "trained rc %d status %d: %s", rc1, r1.status, r1.message);
    printf("learning: untrained err %.2f cm, trained err %.2f cm (ratio %.3f); "
           "train loss %.4f -> %.4f; %.3f ms/step (train_s %.3f, eval_s %.3f, wall %.3f s)\n",
           r0.final_err_cm, r1.final_err_cm, r1.final_err_cm / r0.final_err_cm,
           r1.train_loss[0], r1.final_loss, 1e3 * r1.train_s / c.steps, r1.train_s, r1.eval_s, dt);
    TEST_CHECK(isfinite(r0.final_err_cm) && isfinite(r1.final_err_cm), "errors %g %g", r0.final_err_cm,
               r1.final_err_cm);
    TEST_CHECK(r1.final_err_cm < 0.5f * r0.final_err_cm, "trained %g vs untrained %g", r1.final_err_cm,
               r0.final_err_cm);
    /* the untrained network: one logged point at step 0, no updates */
    TEST_CHECK(r0.n_log == 1 && r0.log_step[0] == 0 && r0.steps_done == 0, "n_log %d steps_done %d", r0.n_log,
               r0.steps_done);
    TEST_CHECK(isfinite(r0.train_loss[0]) && isfinite(r0.train_err_cm[0]), "untrained curve %g %g",
               r0.train_loss[0], r0.train_err_cm[0]);
    /* the training curve: every point filled, falling loss and error */
    int L = r1.n_log;
    TEST_CHECK(L == 6 && r1.log_step[L - 1] == c.steps, "L %d last step %d", L, r1.log_step[L - 1]);
    TEST_CHECK(n_finite(r1.train_loss, L) == L && n_finite(r1.train_err_cm, L) == L, "curves not all finite");
    TEST_CHECK(r1.train_loss[L - 1] < r1.train_loss[0], "loss %g -> %g", r1.train_loss[0], r1.train_loss[L - 1]);
    TEST_CHECK(r1.train_err_cm[L - 1] < 0.6f * r1.train_err_cm[0], "train err %g -> %g", r1.train_err_cm[0],
               r1.train_err_cm[L - 1]);
    TEST_CHECK(r1.final_loss == r1.train_loss[L - 1], "final_loss %g vs last logged %g", r1.final_loss,
               r1.train_loss[L - 1]);
    TEST_CHECK(r1.steps_done == c.steps, "steps_done %d", r1.steps_done);
    /* error curve: every step finite; the mean is final_err_cm */
    int E = r1.eval_len;
    TEST_CHECK(E == 40 && n_finite(r1.eval_err_cm, E) == E, "eval curve E %d", E);
    double m = 0;
    for (int t = 0; t < E; t++) m += r1.eval_err_cm[t];
    TEST_CLOSE(r1.final_err_cm, m / E, 1e-4, 1e-5);
    /* error grows along the evaluation trajectory (path integration drifts) */
    double first = 0, last = 0;
    for (int t = 0; t < 5; t++) first += r1.eval_err_cm[t], last += r1.eval_err_cm[E - 1 - t];
    TEST_CHECK(last > first, "error at the end %g <= at the start %g", last / 5, first / 5);
    /* scores and summary are consistent */
    int N = r1.n_units, above = 0, valid = 0;
    float mx = -INFINITY;
    for (int i = 0; i < N; i++) {
        if (!isnan(r1.score60[i])) valid++, mx = r1.score60[i] > mx ? r1.score60[i] : mx;
        if (r1.score60[i] > c.grid_threshold) above++;
        TEST_CHECK(isnan(r1.score60[i]) == (r1.mask60[i] < 0), "unit %d score %g mask %d", i, r1.score60[i],
                   r1.mask60[i]);
    }
    TEST_CHECK(valid > 0, "no unit has a score");
    TEST_CLOSE(r1.grid_frac, (double)above / N, 1e-7, 0);
    TEST_CHECK(r1.max_score60 == mx, "max_score60 %g vs %g", r1.max_score60, mx);
    TEST_CHECK(isfinite(r1.mean_score60) && r1.mean_score60 <= r1.max_score60, "mean %g", r1.mean_score60);
    TEST_CHECK(r1.wall_s >= r1.train_s + r1.eval_s - 1e-6 && r1.train_s > 0 && r1.eval_s > 0,
               "timings wall %g train %g eval %g", r1.wall_s, r1.train_s, r1.eval_s);
    TEST_CHECK(r1.message[0] == 0, "message on success: %s", r1.message);
    check_null(&r0, &c0, "untrained");
    check_null(&r1, &c, "trained");

    /* logging convention: the point at step s is the network after s
     * updates on the (s+1)-th batch of the training streams, whether s is
     * an intermediate point (before step s's update) or the final one (a
     * fresh batch after the last update) */
    TaskConfig c2 = c;
    c2.steps = 200;
    TaskResult r2;
    int rc2 = run(&c2, &r2, NULL);
    TEST_CHECK(rc2 == 0 && r2.status == TASK_DONE && r1.log_step[1] == 200, "rc %d", rc2);
    TEST_CHECK(r2.final_loss == r1.train_loss[1] && r2.train_err_cm[r2.n_log - 1] == r1.train_err_cm[1],
               "final of 200 steps %.9g / %.9g vs logged at 200 of 1000: %.9g / %.9g", r2.final_loss,
               r2.train_err_cm[r2.n_log - 1], r1.train_loss[1], r1.train_err_cm[1]);
    TEST_CHECK(r0.train_loss[0] == r1.train_loss[0] && r0.train_err_cm[0] == r1.train_err_cm[0],
               "step 0: untrained %.9g vs trained run %.9g", r0.train_loss[0], r1.train_loss[0]);
    /* the null off: NaN threshold and fraction, flags -1, p NaN; nothing
     * else changes (its stream is its own) */
    TaskConfig c3 = c2;
    c3.null_shuffles = 0;
    TaskResult r3;
    int rc3 = run(&c3, &r3, NULL);
    int N3 = r3.n_units, off_ok = isnan(r3.null_threshold) && isnan(r3.grid_frac_null);
    for (int u = 0; u < N3; u++) off_ok &= r3.grid_null[u] == -1 && isnan(r3.grid_p[u]);
    TEST_CHECK(rc3 == 0 && r3.status == TASK_DONE && off_ok, "null off: rc %d thr %g frac %g", rc3,
               r3.null_threshold, r3.grid_frac_null);
    TEST_CHECK(same_floats(r3.score60, r2.score60, N3) && same_floats(r3.border, r2.border, N3) &&
                   same_floats(r3.eval_err_cm, r2.eval_err_cm, r3.n_levels * r3.eval_len) &&
                   r3.final_loss == r2.final_loss,
               "the null changed other results");
    result_free(&r3);
    result_free(&r0);
    result_free(&r1);
    result_free(&r2);
}

/* ---- determinism: bit-identical results, and the error-curve streams -- */
static void test_determinism(void)
{
    TaskConfig c;
    smoke_config(&c);
    c.steps = 40;
    c.log_every = 15;           /* logged 0, 15, 30, 40 */
    c.noise = 0.01;
    c.n_eval_noise = 3;
    c.eval_noise[0] = 0.0;
    c.eval_noise[1] = 0.05;
    c.eval_noise[2] = 0.05;     /* same level twice: same trajectories and noise */
    c.save_ratemaps = SAVE_TOP;
    c.save_top_k = 5;
    TaskResult a, b;
    int ra = run(&c, &a, NULL), rb = run(&c, &b, NULL);
    TEST_CHECK(ra == 0 && rb == 0 && a.status == TASK_DONE && b.status == TASK_DONE, "rc %d %d", ra, rb);
    int L = a.n_log, N = a.n_units, SE = a.n_levels * a.eval_len;
    size_t G2 = (size_t)a.bins * a.bins;
    TEST_CHECK(L == 4 && a.log_step[1] == 15 && a.log_step[2] == 30 && a.log_step[3] == 40, "log steps");
    TEST_CHECK(same_floats(a.train_loss, b.train_loss, L) && same_floats(a.train_err_cm, b.train_err_cm, L),
               "training curves differ");
    TEST_CHECK(same_floats(a.eval_err_cm, b.eval_err_cm, SE), "error curves differ");
    TEST_CHECK(same_floats(a.score60, b.score60, N) && same_floats(a.score90, b.score90, N) &&
                   same_floats(a.border, b.border, N) && memcmp(a.mask60, b.mask60, N) == 0,
               "scores differ");
    TEST_CHECK(memcmp(a.map_unit, b.map_unit, a.n_maps * sizeof(int)) == 0 &&
                   same_floats(a.ratemaps, b.ratemaps, a.n_maps * G2),
               "rate maps differ");
    TEST_CHECK(a.final_err_cm == b.final_err_cm && a.grid_frac == b.grid_frac, "summary differs");
    TEST_CHECK(same_floats(a.grid_p, b.grid_p, N) && memcmp(a.grid_null, b.grid_null, N) == 0 &&
                   a.null_threshold == b.null_threshold && a.grid_frac_null == b.grid_frac_null,
               "shuffle null differs");
    check_null(&a, &c, "determinism");
    /* levels 1 and 2 are the same sigma: identical curves; level 0 differs */
    int E = a.eval_len;
    TEST_CHECK(same_floats(a.eval_err_cm + E, a.eval_err_cm + 2 * E, E), "equal levels give different curves");
    TEST_CHECK(!same_floats(a.eval_err_cm, a.eval_err_cm + E, E), "noise level has no effect");
    /* top-k maps: sorted by score60 descending, NaN last, distinct units */
    TEST_CHECK(a.n_maps == 5, "n_maps %d", a.n_maps);
    for (int i = 0; i < a.n_maps; i++) {
        int u = a.map_unit[i];
        TEST_CHECK(u >= 0 && u < N, "map_unit[%d] = %d", i, u);
        if (i > 0) {
            float p = a.score60[a.map_unit[i - 1]], q = a.score60[u];
            TEST_CHECK(a.map_unit[i - 1] != u, "unit %d twice", u);
            TEST_CHECK(isnan(q) || (!isnan(p) && p >= q), "order: %g then %g", p, q);
        }
        for (int j = 0; j < N; j++) { /* nothing left out scores above a kept unit */
            int kept = 0;
            for (int k = 0; k < a.n_maps; k++) kept |= a.map_unit[k] == j;
            if (!kept && !isnan(a.score60[u]))
                TEST_CHECK(!(a.score60[j] > a.score60[u]), "unit %d (%g) beats kept %d (%g)", j, a.score60[j],
                           u, a.score60[u]);
        }
    }
    /* a different seed gives different results */
    TaskConfig c2 = c;
    c2.seed = 8;
    TaskResult d;
    run(&c2, &d, NULL);
    TEST_CHECK(d.status == TASK_DONE && !same_floats(a.train_loss, d.train_loss, L), "seed has no effect");
    result_free(&a);
    result_free(&b);
    result_free(&d);
}

/* ---- divergence -------------------------------------------------------- */
static void test_divergence(void)
{
    TaskConfig c;
    smoke_config(&c);
    c.cell = CELL_VANILLA;
    c.lr = 1e3;
    c.noise = 0.1;
    c.steps = 200;
    c.log_every = 1;
    TaskResult r;
    int rc = run(&c, &r, NULL);
    printf("divergence: status %s after %d steps: %s\n", result_status_names[r.status], r.steps_done, r.message);
    TEST_CHECK(rc == 0 && r.status == TASK_DIVERGED, "rc %d status %d", rc, r.status);
    TEST_CHECK(strstr(r.message, "step") != NULL, "message '%s'", r.message);
    TEST_CHECK(r.steps_done < c.steps, "steps_done %d", r.steps_done);
    TEST_CHECK(isfinite(r.train_loss[0]), "first logged loss %g", r.train_loss[0]);
    /* curves kept up to the divergence, NaN after it */
    int kept = n_finite(r.train_loss, r.n_log);
    TEST_CHECK(kept >= 1 && kept <= r.steps_done + 1, "kept %d points for %d steps", kept, r.steps_done);
    for (int i = kept; i < r.n_log; i++) TEST_CHECK(isnan(r.train_loss[i]), "point %d = %g", i, r.train_loss[i]);
    result_free(&r);
}

/* ---- stop flag from the progress callback ----------------------------- */
typedef struct StopCtx { volatile int stop; int stop_at, calls, last_step; float last_loss; } StopCtx;

static void stop_progress(void *ctx, int step, float loss, float err_cm, double steps_per_s)
{
    StopCtx *s = ctx;
    s->calls++;
    s->last_step = step;
    s->last_loss = loss;
    if (step >= s->stop_at) s->stop = 1;
}

static void test_stop(void)
{
    TaskConfig c;
    smoke_config(&c);
    c.steps = 1000;
    c.log_every = 10;
    StopCtx s = {0, 20, 0, -1, NAN};
    TaskHooks h = {.progress = stop_progress, .ctx = &s, .stop = &s.stop};
    TaskResult r;
    int rc = run(&c, &r, &h);
    TEST_CHECK(rc == 0 && r.status == TASK_PENDING, "rc %d status %d", rc, r.status);
    TEST_CHECK(s.calls == 3 && s.last_step == 20, "calls %d last step %d", s.calls, s.last_step);
    TEST_CHECK(r.steps_done >= 20 && r.steps_done <= 21, "steps_done %d", r.steps_done);
    TEST_CHECK(r.train_loss[2] == s.last_loss, "logged %g vs reported %g", r.train_loss[2], s.last_loss);
    TEST_CHECK(isnan(r.final_err_cm), "evaluated a stopped task: %g", r.final_err_cm);
    result_free(&r);

    /* a stop already set: nothing trained, still pending */
    StopCtx s2 = {1, 20, 0, -1, NAN};
    TaskHooks h2 = {.progress = stop_progress, .ctx = &s2, .stop = &s2.stop};
    rc = run(&c, &r, &h2);
    TEST_CHECK(rc == 0 && r.status == TASK_PENDING && r.steps_done == 0, "pre-stopped: rc %d status %d steps %d",
               rc, r.status, r.steps_done);
    result_free(&r);

    /* progress reports every logged point, including the final one */
    StopCtx s3 = {0, 20, 0, -1, NAN};
    TaskHooks h3 = {.progress = stop_progress, .ctx = &s3, .stop = NULL};
    c.steps = 25;
    rc = run(&c, &r, &h3);
    TEST_CHECK(rc == 0 && r.status == TASK_DONE, "no-stop: status %d", r.status);
    TEST_CHECK(s3.calls == r.n_log && s3.last_step == 25 && s3.last_loss == r.final_loss,
               "calls %d of %d, last step %d", s3.calls, r.n_log, s3.last_step);
    result_free(&r);

    /* a stop at the final point, after the last update, abandons the
     * evaluation */
    StopCtx s4 = {0, 25, 0, -1, NAN};
    TaskHooks h4 = {.progress = stop_progress, .ctx = &s4, .stop = &s4.stop};
    rc = run(&c, &r, &h4);
    TEST_CHECK(rc == 0 && r.status == TASK_PENDING && r.steps_done == 25 && isnan(r.eval_err_cm[0]),
               "stop before evaluation: rc %d status %d steps %d err %g", rc, r.status, r.steps_done,
               r.eval_err_cm[0]);
    result_free(&r);
}

/* ---- replay stage -------------------------------------------------------- */

/* A small noisy task with replay on (R starts of H steps, K kept). */
static void replay_config(TaskConfig *c)
{
    smoke_config(c);
    c->steps = 200;
    c->noise = 0.02;
    c->null_shuffles = 0;
    c->replay = 1;
    c->replay_starts = 24;
    c->replay_steps = 150;
    c->replay_burn_in = 20;
    c->replay_keep = 3;
}

/* Sets *stop once the scores are in (mean_score60 finite: scoring is the
 * stage just before the replay), so that the stop lands in the replay. */
typedef struct Watch { volatile int stop; const volatile float *mean_score; } Watch;
static void *watch_scores(void *arg)
{
    Watch *w = arg;
    struct timespec ts = {0, 200000}; /* 0.2 ms */
    while (!isfinite(*w->mean_score)) nanosleep(&ts, NULL);
    w->stop = 1;
    return NULL;
}

static void test_replay(void)
{
    TaskConfig c;
    replay_config(&c);
    TaskResult a, b;
    int rc = run(&c, &a, NULL);
    TEST_CHECK(rc == 0 && a.status == TASK_DONE, "replay task: rc %d status %d (%s)", rc, a.status, a.message);
    const ReplayResult *p = &a.replay;
    TEST_CHECK(p->traj && p->R == 24 && p->H == 150 && p->G == c.ratemap_bins && p->n_keep == 3,
               "replay sizes R %d H %d G %d K %d", p->R, p->H, p->G, p->n_keep);
    float m[] = {p->sigma, p->speed_cm, p->real_step_cm, p->speed_ratio, p->spread_cm2, p->coverage,
                 p->mean_first_visit, p->outside, p->kl, p->kl_uniform, p->kl_untrained};
    TEST_CHECK(n_finite(m, 11) == 11, "replay metrics: %d of 11 finite", n_finite(m, 11));
    TEST_CHECK(fabsf(p->sigma - sqrtf(2.0f) * 0.02f) < 1e-6f, "sigma_r %g", p->sigma);
    TEST_CHECK(p->coverage > 0 && p->coverage <= 1 && p->outside >= 0 && p->outside <= 1 && p->kl >= 0 &&
                   p->kl_uniform >= 0 && p->spread_cm2 >= 0 && p->speed_cm >= 0 && p->n_in == 100,
               "replay ranges: coverage %g outside %g kl %g kl_u %g spread %g speed %g n_in %d", p->coverage,
               p->outside, p->kl, p->kl_uniform, p->spread_cm2, p->speed_cm, p->n_in);
    int K = p->n_keep, H1 = p->H + 1, out = 0;
    for (int i = 0; i < K * H1; i++) {
        float x = p->traj[2 * i], y = p->traj[2 * i + 1];
        out += !(fabsf(x) <= 1.1f + 1e-5f && fabsf(y) <= 1.1f + 1e-5f); /* NaN counts */
    }
    TEST_CHECK(out == 0, "%d stored replay positions outside the 2.2 m box (or NaN)", out);
    TEST_CHECK(n_finite(p->occ_real, 100) == 100, "occ_real finite in every bin of the square");

    /* deterministic: the same task again gives the same replay, bit for bit */
    rc = run(&c, &b, NULL);
    const ReplayResult *q = &b.replay;
    TEST_CHECK(rc == 0 && b.status == TASK_DONE && same_floats(m, (float[]){q->sigma, q->speed_cm, q->real_step_cm,
               q->speed_ratio, q->spread_cm2, q->coverage, q->mean_first_visit, q->outside, q->kl, q->kl_uniform,
               q->kl_untrained}, 11) && same_floats(p->traj, q->traj, (size_t)K * H1 * 2) &&
               memcmp(p->occ, q->occ, 100 * sizeof(float)) == 0 && p->n_in == q->n_in,
               "replay not deterministic");
    result_free(&b);

    /* replay off: nothing allocated, the rest of the task unchanged */
    TaskConfig off = c;
    off.replay = 0;
    rc = run(&off, &b, NULL);
    TEST_CHECK(rc == 0 && b.status == TASK_DONE && !b.replay.traj && b.final_err_cm == a.final_err_cm &&
                   task_cost(&off) < task_cost(&c),
               "replay off: status %d traj %p err %g vs %g", b.status, (void *)b.replay.traj, b.final_err_cm,
               a.final_err_cm);
    result_free(&b);
    result_free(&a);

    /* a result allocated without replay is refused for a task with replay */
    TEST_CHECK(result_alloc(&b, &off) == 0, "alloc");
    rc = task_run(&c, &b, NULL);
    TEST_CHECK(rc == -1 && b.status == TASK_FAILED, "mismatched result: rc %d status %d", rc, b.status);
    result_free(&b);

    /* a stop during the replay (a long one) leaves the task pending */
    c.replay_starts = 200;
    c.replay_steps = 20000;
    rc = result_alloc(&b, &c);
    TEST_CHECK(rc == 0, "alloc long replay");
    if (rc != 0) return;
    Watch w = {0, &b.mean_score60};
    TaskHooks h = {.progress = NULL, .ctx = NULL, .stop = &w.stop};
    pthread_t th;
    TEST_CHECK(pthread_create(&th, NULL, watch_scores, &w) == 0, "thread");
    double t0 = now_s();
    rc = task_run(&c, &b, &h);
    double dt = now_s() - t0;
    w.stop = 1; /* in case scoring never finished: the watcher's loop ends anyway below */
    b.mean_score60 = 0;
    pthread_join(th, NULL);
    TEST_CHECK(rc == 0 && b.status == TASK_PENDING, "stop during replay: rc %d status %d (%s)", rc, b.status,
               b.message);
    TEST_CHECK(isfinite(b.final_err_cm), "the stop came after the evaluation (err %g)", b.final_err_cm);
    printf("  stop during a 200 x 20000-step replay: task returned after %.2f s\n", dt);
    result_free(&b);
}

/* ---- learning of the gated cells (and of the speed_heading input) ------ */
static void test_learning_gated(void)
{
    const struct { int cell, input; } cases[] = {{CELL_GRU, INPUT_VELOCITY}, {CELL_LSTM, INPUT_VELOCITY},
                                                 {CELL_UGRNN, INPUT_VELOCITY}, {CELL_GRU, INPUT_SPEED_HEADING},
                                                 {CELL_LEAKY, INPUT_SPEED_HEADING}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        TaskConfig c;
        smoke_config(&c);
        c.cell = cases[i].cell;
        c.input = cases[i].input;
        c.bias = 1;
        TaskConfig c0 = c;
        c0.steps = 0;
        TaskResult r0, r1;
        int rc0 = run(&c0, &r0, NULL), rc1 = run(&c, &r1, NULL);
        const char *cn = config_enum_CELL[c.cell], *in = config_enum_INPUT[c.input];
        TEST_CHECK(rc0 == 0 && rc1 == 0 && r1.status == TASK_DONE, "%s/%s: rc %d %d %s", cn, in, rc0, rc1,
                   r1.message);
        printf("learning %s/%s: untrained err %.2f cm, trained err %.2f cm (ratio %.3f); train loss %.4f -> %.4f\n",
               cn, in, r0.final_err_cm, r1.final_err_cm, r1.final_err_cm / r0.final_err_cm, r1.train_loss[0],
               r1.final_loss);
        TEST_CHECK(isfinite(r1.final_err_cm) && r1.final_err_cm < 0.5f * r0.final_err_cm,
                   "%s/%s: trained %g vs untrained %g", cn, in, r1.final_err_cm, r0.final_err_cm);
        result_free(&r0);
        result_free(&r1);
    }
}

/* ---- targets and cells ------------------------------------------------- */
static void test_cartesian_and_dog(void)
{
    for (int target = 0; target < TARGET_COUNT; target++) {
        TaskConfig c;
        smoke_config(&c);
        c.target = target;
        c.steps = 60;
        c.log_every = 20;
        c.save_ratemaps = SAVE_ALL;
        TaskResult r;
        int rc = run(&c, &r, NULL);
        TEST_CHECK(rc == 0 && r.status == TASK_DONE, "target %s: rc %d status %d %s", config_enum_TARGET[target],
                   rc, r.status, r.message);
        TEST_CHECK(isfinite(r.final_loss) && isfinite(r.final_err_cm) && r.final_err_cm > 0,
                   "target %s: loss %g err %g", config_enum_TARGET[target], r.final_loss, r.final_err_cm);
        printf("target %-9s: loss %.4f -> %.4f, eval err %.2f cm\n", config_enum_TARGET[target], r.train_loss[0],
               r.final_loss, r.final_err_cm);
        TEST_CHECK(r.n_maps == c.hidden && r.map_unit[0] == 0 && r.map_unit[c.hidden - 1] == c.hidden - 1,
                   "save all: n_maps %d", r.n_maps);
        /* a visited bin of every map holds a finite rate */
        int visited = 0;
        for (int i = 0; i < c.ratemap_bins * c.ratemap_bins; i++) visited += isfinite(r.ratemaps[i]) != 0;
        TEST_CHECK(visited > c.ratemap_bins, "only %d visited bins", visited);
        result_free(&r);
    }
}

static void test_cells(void)
{
    for (int cell = 0; cell < CELL_COUNT; cell++)
        for (int act = 0; act < ACT_COUNT; act++) {
            TaskConfig c;
            smoke_config(&c);
            c.cell = cell;
            c.activation = act;
            c.steps = 6;
            c.log_every = 3;
            c.noise = 0.01;
            c.clip_norm = 1.0;
            c.rate_l2 = 1e-3;
            c.bias = cell % 2;
            c.ratemap_trajectories = 8;
            c.eval_batch = 8;
            TaskResult r;
            int rc = run(&c, &r, NULL);
            TEST_CHECK(rc == 0 && r.status == TASK_DONE, "%s/%s: rc %d status %d %s", config_enum_CELL[cell],
                       config_enum_ACT[act], rc, r.status, r.message);
            TEST_CHECK(n_finite(r.train_loss, r.n_log) == r.n_log &&
                           n_finite(r.eval_err_cm, r.n_levels * r.eval_len) == r.n_levels * r.eval_len,
                       "%s/%s: NaN in curves", config_enum_CELL[cell], config_enum_ACT[act]);
            result_free(&r);
        }
}

/* ---- failures and task_cost ------------------------------------------- */
static void test_failures_and_cost(void)
{
    TaskConfig c, other;
    smoke_config(&c);
    other = c;
    other.hidden = 32;
    TaskResult r;
    result_alloc(&r, &other);   /* sized for another config */
    int rc = task_run(&c, &r, NULL);
    TEST_CHECK(rc == -1 && r.status == TASK_FAILED && r.message[0], "mismatched result: rc %d status %d", rc,
               r.status);
    result_free(&r);

    TaskConfig bad = c;
    bad.tau = bad.dt / 2;       /* alpha > 1 */
    result_alloc(&r, &bad);
    rc = task_run(&bad, &r, NULL);
    TEST_CHECK(rc == -1 && r.status == TASK_FAILED && strstr(r.message, "tau"), "invalid: rc %d '%s'", rc,
               r.message);
    result_free(&r);

    TaskConfig big = c;
    big.hidden = 128;
    TaskConfig longer = c;
    longer.steps = 2 * c.steps;
    TaskConfig none = c;
    none.steps = 0;
    double k = task_cost(&c);
    TEST_CHECK(k > 0 && task_cost(&big) > 2 * k && task_cost(&longer) > 1.5 * k && task_cost(&none) < k &&
                   task_cost(&none) > 0,
               "cost %g big %g longer %g none %g", k, task_cost(&big), task_cost(&longer), task_cost(&none));
    /* the gated cells' G N^2 recurrent products: ugrnn (2) < gru (3) < lstm (4 and a second encoder) */
    TaskConfig g = big;
    g.null_shuffles = 0;
    double kc[CELL_COUNT];
    for (int cell = 0; cell < CELL_COUNT; cell++) {
        g.cell = cell;
        kc[cell] = task_cost(&g);
    }
    TEST_CHECK(kc[CELL_VANILLA] == kc[CELL_LEAKY] && kc[CELL_UGRNN] > 1.5 * kc[CELL_VANILLA] &&
                   kc[CELL_GRU] > kc[CELL_UGRNN] && kc[CELL_LSTM] > kc[CELL_GRU],
               "cell costs: vanilla %g ugrnn %g gru %g lstm %g", kc[CELL_VANILLA], kc[CELL_UGRNN], kc[CELL_GRU],
               kc[CELL_LSTM]);
    g.cell = CELL_VANILLA;
    g.input = INPUT_SPEED_HEADING;
    TEST_CHECK(task_cost(&g) > kc[CELL_VANILLA], "speed_heading costs its third input");
}

/* ---- unit classes and snapshots ----------------------------------------- */

/* The classes of a done task r of c: every unit has a code; frac_class =
 * counts / N, summing to 1; the stored measures, put back through
 * gridclass_classify with the task's threshold, give the stored class
 * (so GRID units satisfy the rule: score60 > T, six peaks, no band, no
 * ramp, a spacing that fits); grid geometry NaN exactly without GRID
 * units; the stored maps' peaks are those of their units (NaN with fewer
 * than six). */
static void check_classes(const TaskResult *r, const TaskConfig *c, const char *what)
{
    int N = r->n_units, G = r->bins, n[GRIDCLASS_N] = {0}, bad_code = 0, mismatch = 0, bad_grid = 0;
    double bin_cm = 100.0 * c->arena_size / G, T = c->null_shuffles > 0 ? r->null_threshold : c->class_score60_min;
    GridClassParams p = gridclass_defaults();
    p.score60_min = c->class_score60_min;
    p.band_min = c->class_band_min;
    p.ramp_min = c->class_ramp_min;
    p.border_min = c->class_border_min;
    p.min_periods = c->class_min_periods;
    p.coherence_min = c->class_coherence_min;
    p.si_min = c->class_si_min;
    for (int u = 0; u < N; u++) {
        int k = r->grid_class[u];
        if (k < 0 || k >= GRIDCLASS_N) {
            bad_code++;
            continue;
        }
        n[k]++;
        GridUnit gu;
        memset(&gu, 0, sizeof gu);
        gu.score60 = r->score60[u];
        gu.geom.n_peaks = r->n_peaks[u];
        gu.geom.spacing = r->spacing_cm[u] / bin_cm;
        gu.band = r->band[u];
        gu.ramp_r2 = r->ramp_r2[u];
        gu.border = r->border[u];
        gu.coherence = r->coherence[u];
        gu.spatial_info = r->spatial_info[u];
        if ((int)gridclass_classify(&gu, G, T, &p) != k) mismatch++;
        if (k == GRIDCLASS_GRID &&
            !(r->score60[u] > T && r->n_peaks[u] == 6 && r->band[u] < p.band_min && r->ramp_r2[u] < p.ramp_min &&
              r->spacing_cm[u] / bin_cm * p.min_periods <= G + 1e-4))
            bad_grid++;
    }
    TEST_CHECK(bad_code == 0 && mismatch == 0 && bad_grid == 0, "%s: %d bad codes, %d classes differ from the rule, "
               "%d GRID units breaking it", what, bad_code, mismatch, bad_grid);
    double sum = 0;
    for (int k = 0; k < GRIDCLASS_N; k++) {
        TEST_CLOSE(r->frac_class[k], (double)n[k] / N, 1e-7, 0);
        sum += r->frac_class[k];
    }
    TEST_CLOSE(sum, 1.0, 1e-6, 0);
    TEST_CHECK(r->frac_grid == r->frac_class[GRIDCLASS_GRID] && r->frac_ramp == r->frac_class[GRIDCLASS_RAMP],
               "%s: frac_grid / frac_ramp are not frac_class entries", what);
    int has_grid = n[GRIDCLASS_GRID] > 0;
    TEST_CHECK(has_grid == !isnan(r->grid_spacing_cm) && has_grid == !isnan(r->grid_orient_sd_deg),
               "%s: grid geometry %g %g with %d GRID units", what, r->grid_spacing_cm, r->grid_orient_sd_deg,
               n[GRIDCLASS_GRID]);
    int bad_peaks = 0;
    for (int m = 0; m < r->n_maps; m++) {
        int u = r->map_unit[m], six = r->n_peaks[u] >= 6 || !isnan(r->spacing_cm[u]);
        const float *pk = r->map_peaks + (size_t)m * RESULT_PEAK_FLOATS;
        for (int j = 0; j < RESULT_PEAK_FLOATS; j++) bad_peaks += six ? isnan(pk[j]) : 0;
        if (six && !isnan(r->spacing_cm[u])) {
            double d[6];
            for (int j = 0; j < 6; j++) d[j] = hypot(pk[2 * j], pk[2 * j + 1]) * bin_cm;
            double lo = d[0], hi = d[0];
            for (int j = 1; j < 6; j++) lo = d[j] < lo ? d[j] : lo, hi = d[j] > hi ? d[j] : hi;
            bad_peaks += !(r->spacing_cm[u] >= lo - 1e-3 && r->spacing_cm[u] <= hi + 1e-3);
        }
    }
    TEST_CHECK(bad_peaks == 0, "%s: %d stored maps whose peaks do not match their unit", what, bad_peaks);
    printf("%s: classes", what);
    for (int k = 0; k < GRIDCLASS_N; k++) printf(" %s %.3f", gridclass_name(k), r->frac_class[k]);
    printf("\n");
}

/* Snapshots of a done task: at steps k * snapshot_every, fractions summing
 * to 1, scores finite. */
static void check_snapshots(const TaskResult *r, const TaskConfig *c, const char *what)
{
    int K = r->n_snap, bad = 0;
    TEST_CHECK(K == config_n_snapshots(c) && K == (c->snapshot_every ? c->steps / c->snapshot_every + 1 : 0),
               "%s: %d snapshots", what, K);
    for (int k = 0; k < K; k++) {
        double sum = 0;
        for (int j = 0; j < GRIDCLASS_N; j++) sum += r->snap_frac[(size_t)j * K + k];
        if (r->snap_step[k] != k * c->snapshot_every || fabs(sum - 1.0) > 1e-5 || !isfinite(r->snap_max_score60[k]) ||
            !isfinite(r->snap_mean_score60[k]) || !(r->snap_grid_frac[k] >= 0 && r->snap_grid_frac[k] <= 1))
            bad++;
    }
    TEST_CHECK(bad == 0, "%s: %d bad snapshots", what, bad);
    if (K > 0)
        printf("%s: %d snapshots, max score60 %.3f at step 0 -> %.3f at step %d, GRID %.3f -> %.3f\n", what, K,
               r->snap_max_score60[0], r->snap_max_score60[K - 1], r->snap_step[K - 1],
               r->snap_frac[(size_t)GRIDCLASS_GRID * K], r->snap_frac[(size_t)GRIDCLASS_GRID * K + K - 1]);
}

static void test_classes(void)
{
    TaskConfig c;
    smoke_config(&c);
    c.steps = 200;
    c.null_shuffles = 50;
    c.null_units = 16;
    c.save_ratemaps = SAVE_ALL;
    c.snapshot_every = 50;
    c.snapshot_trajectories = 40;   /* two chunks: 32 + 8 */
    TaskResult a, b, off, nonull;
    int ra = run(&c, &a, NULL), rb = run(&c, &b, NULL);
    TEST_CHECK(ra == 0 && rb == 0 && a.status == TASK_DONE && b.status == TASK_DONE, "rc %d %d", ra, rb);
    check_classes(&a, &c, "classes (null)");
    check_snapshots(&a, &c, "snapshots");
    size_t N = (size_t)a.n_units, K = (size_t)a.n_snap;
    TEST_CHECK(memcmp(a.grid_class, b.grid_class, N) == 0 && same_floats(a.spacing_cm, b.spacing_cm, N) &&
                   same_floats(a.spatial_info, b.spatial_info, N) && memcmp(a.snap_step, b.snap_step, K * sizeof(int)) == 0 &&
                   same_floats(a.snap_max_score60, b.snap_max_score60, K) &&
                   same_floats(a.snap_frac, b.snap_frac, GRIDCLASS_N * K) &&
                   same_floats(a.frac_class, b.frac_class, GRIDCLASS_N),
               "classes and snapshots differ between two identical runs");
    /* snapshots draw from their own stream: training and scores unchanged */
    TaskConfig c0 = c;
    c0.snapshot_every = 0;
    int r0 = run(&c0, &off, NULL);
    TEST_CHECK(r0 == 0 && off.n_snap == 0 && same_floats(off.train_loss, a.train_loss, (size_t)a.n_log) &&
                   same_floats(off.score60, a.score60, N) && memcmp(off.grid_class, a.grid_class, N) == 0,
               "snapshots changed the training or the scores (rc %d)", r0);
    /* without a null: the class_score60_min threshold */
    TaskConfig c1 = c0;
    c1.null_shuffles = 0;
    c1.class_score60_min = -2;   /* every unit passes the score test */
    int r1 = run(&c1, &nonull, NULL);
    TEST_CHECK(r1 == 0 && nonull.status == TASK_DONE, "no null: rc %d", r1);
    check_classes(&nonull, &c1, "classes (no null, score60_min -2)");
    result_free(&a);
    result_free(&b);
    result_free(&off);
    result_free(&nonull);
}

/* ---- checkpoints: stop, save, resume = one uninterrupted run ---------- */

/* What a checkpoint holds: the state and the curves so far. */
typedef struct Saved {
    TaskState st;
    int have;                 /* a state was saved */
    int n_saves;
    int L;
    float loss[64], err[64];  /* (L) curves */
    int K;                    /* snapshots */
    float snap_max[16], snap_mean[16], snap_gf[16], snap_frac[GRIDCLASS_N * 16]; /* (K), (C, K) */
    float final_loss;
    int steps_done;
    int stop_at;              /* tick: stop once this many steps are done (-1: never) */
    volatile int stop;
    int data_thread;          /* TaskHooks.data_thread of the next segment */
} Saved;

static int save_hook(void *ctx, const TaskState *st, const TaskResult *res)
{
    Saved *s = ctx;
    if (!s->st.params && task_state_alloc(&s->st, st->n_params) != 0) return -1;
    if (task_state_copy(&s->st, st) != 0) return -1;
    s->have = 1;
    s->n_saves++;
    s->L = res->n_log;
    memcpy(s->loss, res->train_loss, (size_t)res->n_log * sizeof(float));
    memcpy(s->err, res->train_err_cm, (size_t)res->n_log * sizeof(float));
    s->final_loss = res->final_loss;
    s->steps_done = res->steps_done;
    s->K = res->n_snap;
    if (s->K > 16) return -1;
    memcpy(s->snap_max, res->snap_max_score60, (size_t)s->K * sizeof(float));
    memcpy(s->snap_mean, res->snap_mean_score60, (size_t)s->K * sizeof(float));
    memcpy(s->snap_gf, res->snap_grid_frac, (size_t)s->K * sizeof(float));
    memcpy(s->snap_frac, res->snap_frac, GRIDCLASS_N * (size_t)s->K * sizeof(float));
    return 0;
}

static void tick_hook(void *ctx, int steps_done, double steps_per_s)
{
    Saved *s = ctx;
    if (s->stop_at >= 0 && steps_done >= s->stop_at) s->stop = 1;
}

/* Run c from s->st when s->have (the curves put back into r first),
 * stopping after stop_at steps (-1: run to the end); r is result_alloc'ed
 * here.  checkpoint_every as given. */
static int run_segment(const TaskConfig *c, TaskResult *r, Saved *s, int stop_at, double every)
{
    if (result_alloc(r, c) != 0) return -2;
    TaskState resume;
    memset(&resume, 0, sizeof resume);
    if (s->have) {
        if (task_state_alloc(&resume, s->st.n_params) != 0 || task_state_copy(&resume, &s->st) != 0) return -2;
        memcpy(r->train_loss, s->loss, (size_t)s->L * sizeof(float));
        memcpy(r->train_err_cm, s->err, (size_t)s->L * sizeof(float));
        r->final_loss = s->final_loss;
        r->steps_done = s->steps_done;
        if (s->K != r->n_snap) return -2;
        memcpy(r->snap_max_score60, s->snap_max, (size_t)s->K * sizeof(float));
        memcpy(r->snap_mean_score60, s->snap_mean, (size_t)s->K * sizeof(float));
        memcpy(r->snap_grid_frac, s->snap_gf, (size_t)s->K * sizeof(float));
        memcpy(r->snap_frac, s->snap_frac, GRIDCLASS_N * (size_t)s->K * sizeof(float));
        for (int k = 0; k < s->st.next_snap; k++) r->snap_step[k] = k * c->snapshot_every;
    }
    s->stop = 0;
    s->stop_at = stop_at;
    TaskHooks h = {.ctx = s, .stop = &s->stop, .save = save_hook, .checkpoint_every = every,
                   .resume = s->have ? &resume : NULL, .tick = tick_hook, .tick_every = 0,
                   .data_thread = s->data_thread};
    int rc = task_run(c, r, &h);
    task_state_free(&resume);
    return rc;
}

static int same_result(const TaskResult *a, const TaskResult *b)
{
    size_t N = (size_t)a->n_units, L = (size_t)a->n_log, SE = (size_t)a->n_levels * a->eval_len;
    size_t MG = (size_t)a->n_maps * a->bins * a->bins;
    return a->status == b->status && a->steps_done == b->steps_done && same_floats(a->train_loss, b->train_loss, L) &&
           same_floats(a->train_err_cm, b->train_err_cm, L) && same_floats(a->eval_err_cm, b->eval_err_cm, SE) &&
           same_floats(a->score60, b->score60, N) && same_floats(a->score90, b->score90, N) &&
           same_floats(a->border, b->border, N) && same_floats(a->grid_p, b->grid_p, N) &&
           memcmp(a->grid_null, b->grid_null, N) == 0 && memcmp(a->map_unit, b->map_unit, a->n_maps * sizeof(int)) == 0 &&
           same_floats(a->ratemaps, b->ratemaps, MG) && a->final_loss == b->final_loss &&
           a->final_err_cm == b->final_err_cm && a->grid_frac == b->grid_frac &&
           (isnan(a->null_threshold) ? isnan(b->null_threshold) : a->null_threshold == b->null_threshold) &&
           memcmp(a->grid_class, b->grid_class, N) == 0 && memcmp(a->n_peaks, b->n_peaks, N) == 0 &&
           same_floats(a->spacing_cm, b->spacing_cm, N) && same_floats(a->orientation_deg, b->orientation_deg, N) &&
           same_floats(a->ellipticity, b->ellipticity, N) && same_floats(a->band, b->band, N) &&
           same_floats(a->ramp_r2, b->ramp_r2, N) && same_floats(a->coherence, b->coherence, N) &&
           same_floats(a->spatial_info, b->spatial_info, N) &&
           same_floats(a->map_peaks, b->map_peaks, (size_t)a->n_maps * RESULT_PEAK_FLOATS) &&
           same_floats(a->frac_class, b->frac_class, GRIDCLASS_N) &&
           same_floats(&a->grid_spacing_cm, &b->grid_spacing_cm, 1) &&
           same_floats(&a->grid_orient_sd_deg, &b->grid_orient_sd_deg, 1) &&
           same_floats(&a->grid_ellipticity, &b->grid_ellipticity, 1) && a->n_snap == b->n_snap &&
           memcmp(a->snap_step, b->snap_step, (size_t)a->n_snap * sizeof(int)) == 0 &&
           same_floats(a->snap_max_score60, b->snap_max_score60, (size_t)a->n_snap) &&
           same_floats(a->snap_mean_score60, b->snap_mean_score60, (size_t)a->n_snap) &&
           same_floats(a->snap_grid_frac, b->snap_grid_frac, (size_t)a->n_snap) &&
           same_floats(a->snap_frac, b->snap_frac, GRIDCLASS_N * (size_t)a->n_snap);
}

/* The checkpoint test's task: noise, a null, saved maps, snapshots. */
static void checkpoint_config(TaskConfig *c)
{
    smoke_config(c);
    c->steps = 120;
    c->log_every = 25;
    c->noise = 0.01;              /* the noise stream must resume too */
    c->null_shuffles = 20;
    c->save_ratemaps = SAVE_TOP;
    c->save_top_k = 4;
    c->snapshot_every = 30;       /* snapshots at 0, 30, 60, 90, 120: the curves must resume too */
    c->snapshot_trajectories = 20;
}

static void test_checkpoint(void)
{
    TaskConfig c;
    checkpoint_config(&c);
    TaskResult ref, a, b, d, e;
    int rr = run(&c, &ref, NULL);
    TEST_CHECK(rr == 0 && ref.status == TASK_DONE, "reference rc %d status %d", rr, ref.status);

    /* three segments: stop at 37 (between logged points), at 75 (a logged
     * step), then run to the end */
    Saved s;
    memset(&s, 0, sizeof s);
    int r1 = run_segment(&c, &a, &s, 37, 0);
    TEST_CHECK(r1 == 0 && a.status == TASK_PENDING && s.have && s.st.step == 37 && s.st.next_log == 2 &&
                   s.steps_done == 37 && s.st.adam_t == 37 && s.st.next_snap == 2,
               "first stop: rc %d status %d step %d next_log %d", r1, a.status, s.st.step, s.st.next_log);
    int r2 = run_segment(&c, &b, &s, 75, 0);
    TEST_CHECK(r2 == 0 && b.status == TASK_PENDING && s.st.step == 75 && s.st.next_log == 3 && s.st.next_snap == 3,
               "second stop: rc %d status %d step %d next_log %d", r2, b.status, s.st.step, s.st.next_log);
    int saves = s.n_saves;
    int r3 = run_segment(&c, &d, &s, -1, 0);
    TEST_CHECK(r3 == 0 && d.status == TASK_DONE, "last segment rc %d status %d: %s", r3, d.status, d.message);
    TEST_CHECK(s.n_saves == saves, "a checkpoint without a stop or a time (%d saves)", s.n_saves - saves);
    TEST_CHECK(same_result(&d, &ref), "stopped twice and resumed: results differ from one uninterrupted run");
    check_snapshots(&d, &c, "resumed snapshots");
    TEST_CHECK(d.train_s >= b.train_s, "train_s %g does not accumulate (%g before)", d.train_s, b.train_s);

    /* a checkpoint at every step (checkpoint_every tiny) changes nothing */
    Saved t;
    memset(&t, 0, sizeof t);
    int r4 = run_segment(&c, &e, &t, -1, 1e-12);
    TEST_CHECK(r4 == 0 && same_result(&e, &ref), "timed checkpoints changed the result (rc %d)", r4);
    TEST_CHECK(t.n_saves == c.steps, "%d timed saves for %d steps", t.n_saves, c.steps);

    /* resumed from the last timed save (training complete but for the
     * final point): the same result again */
    TaskResult f;
    t.have = 1;
    int r5 = run_segment(&c, &f, &t, -1, 0);
    TEST_CHECK(r5 == 0 && t.st.step == c.steps && same_result(&f, &ref), "resume at step %d: rc %d", t.st.step, r5);

    /* a state that does not fit the task is refused */
    TaskConfig c2 = c;
    c2.hidden = c.hidden + 1;
    TaskResult g;
    int r6 = run_segment(&c2, &g, &t, -1, 0);
    TEST_CHECK(r6 == -1 && g.status == TASK_FAILED && strstr(g.message, "checkpoint") != NULL,
               "misfit state: rc %d status %d '%s'", r6, g.status, g.message);
    t.st.step = c.steps + 2;
    TaskResult k;
    int r7 = run_segment(&c, &k, &t, -1, 0);
    TEST_CHECK(r7 == -1 && k.status == TASK_FAILED, "step past the end accepted: rc %d", r7);

    task_state_free(&s.st);
    task_state_free(&t.st);
    result_free(&ref);
    result_free(&a);
    result_free(&b);
    result_free(&d);
    result_free(&e);
    result_free(&f);
    result_free(&g);
    result_free(&k);
}

/* ---- the data thread: the same results, stopped and resumed too ------ */

static void *noop_thread(void *arg) { return arg; }

static void test_data_thread(void)
{
    /* who decides: ON, or AUTO with a spare core */
    TaskConfig c;
    checkpoint_config(&c);
    c.threads = 1;
    TaskHooks p = {.data_thread = DATA_THREAD_AUTO, .cores = 2};
    TEST_CHECK(task_data_thread_on(&p, &c) == 1, "auto, 2 cores, 1 thread: no data thread");
    p.cores = 1;
    TEST_CHECK(task_data_thread_on(&p, &c) == 0, "auto, 1 core: a data thread");
    p.cores = 0;
    TEST_CHECK(task_data_thread_on(&p, &c) == 0, "auto, cores unknown: a data thread");
    c.threads = 2;
    p.cores = 2;
    TEST_CHECK(task_data_thread_on(&p, &c) == 0, "auto, 2 cores for 2 OpenBLAS threads: a data thread");
    p.data_thread = DATA_THREAD_ON;
    p.cores = 1;
    TEST_CHECK(task_data_thread_on(&p, &c) == 1, "on: no data thread");
    p.data_thread = DATA_THREAD_OFF;
    p.cores = 64;
    TEST_CHECK(task_data_thread_on(&p, &c) == 0, "off: a data thread");
    TEST_CHECK(task_data_thread_on(NULL, &c) == 0, "no hooks: a data thread");

    /* one run each way: the same numbers */
    checkpoint_config(&c);
    TaskResult ref, th, a, b, d;
    int rr = run(&c, &ref, NULL);
    TEST_CHECK(rr == 0 && ref.status == TASK_DONE, "in line: rc %d status %d", rr, ref.status);
    TaskTimes tt;
    memset(&tt, 0, sizeof tt);
    TaskHooks h = {.data_thread = DATA_THREAD_ON, .times = &tt};
    int rt = run(&c, &th, &h);
    TEST_CHECK(rt == 0 && th.status == TASK_DONE, "data thread: rc %d status %d: %s", rt, th.status, th.message);
    TEST_CHECK(same_result(&th, &ref), "data thread: results differ from the batches made in line");
    TEST_CHECK(tt.data_thread_cpu > 0, "data thread: it made no batch (%g s)", tt.data_thread_cpu);

    /* stopped with the thread, resumed in line, stopped, resumed with the
     * thread: one uninterrupted run */
    Saved s;
    memset(&s, 0, sizeof s);
    s.data_thread = DATA_THREAD_ON;
    int r1 = run_segment(&c, &a, &s, 37, 0);
    TEST_CHECK(r1 == 0 && a.status == TASK_PENDING && s.st.step == 37, "thread, first stop: rc %d step %d", r1,
               s.st.step);
    s.data_thread = DATA_THREAD_OFF;
    int r2 = run_segment(&c, &b, &s, 75, 0);
    TEST_CHECK(r2 == 0 && b.status == TASK_PENDING && s.st.step == 75, "in line, second stop: rc %d step %d", r2,
               s.st.step);
    s.data_thread = DATA_THREAD_ON;
    int r3 = run_segment(&c, &d, &s, -1, 0);
    TEST_CHECK(r3 == 0 && d.status == TASK_DONE && same_result(&d, &ref),
               "stopped and resumed with and without the thread: rc %d, results differ", r3);

    /* a thread that cannot start (a default stack no mapping can hold):
     * the task runs with its batches in line, the same results */
    pthread_attr_t def, huge;
    if (pthread_getattr_default_np(&def) == 0 && pthread_attr_init(&huge) == 0) {
        pthread_attr_setstacksize(&huge, (size_t)1 << 46); /* 64 TiB */
        pthread_t probe;
        int set = pthread_setattr_default_np(&huge) == 0;
        int made = set && pthread_create(&probe, NULL, noop_thread, NULL) == 0;
        if (set && !made) {
            TaskResult f;
            memset(&tt, 0, sizeof tt);
            int rf = run(&c, &f, &h);
            pthread_setattr_default_np(&def);
            TEST_CHECK(rf == 0 && f.status == TASK_DONE && same_result(&f, &ref) && tt.data_thread_cpu == 0,
                       "no thread possible: rc %d status %d '%s', thread cpu %g", rf, f.status, f.message,
                       tt.data_thread_cpu);
            result_free(&f);
        } else {
            pthread_setattr_default_np(&def);
            if (made) pthread_join(probe, NULL);
            printf("data thread: %s: the fallback to batches in line is not checked\n",
                   made ? "a 64 TiB thread stack can be mapped here (overcommit)" : "no default thread attributes");
        }
        pthread_attr_destroy(&huge);
        pthread_attr_destroy(&def);
    }
    task_state_free(&s.st);
    result_free(&ref);
    result_free(&th);
    result_free(&a);
    result_free(&b);
    result_free(&d);
}

int main(void)
{
    test_learning();
    test_learning_gated();
    test_determinism();
    test_divergence();
    test_stop();
    test_replay();
    test_cartesian_and_dog();
    test_cells();
    test_failures_and_cost();
    test_classes();
    test_checkpoint();
    test_data_thread();
    return test_summary("test_train");
}
