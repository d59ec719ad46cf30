/* train.c -- task_run: train one network, evaluate it, score its units.
 *
 * Dimensions: B batch, T training steps, E evaluation steps, N hidden,
 * P place cells (D = P, or 2 for the Cartesian target), G rate-map bins per
 * side, S evaluation noise levels, L logged training points, K snapshots,
 * C unit classes.
 *
 * The whole procedure, its conventions and the summary definitions are in
 * docs/model-training.md.  In short:
 *   training  for s = 0 .. steps-1: batch from the RNG_TRAIN_TRAJ stream,
 *             noise from RNG_TRAIN_NOISE (made in line, or one step ahead
 *             by the data thread: the same batches; feed.h), loss =
 *             forward, backward, clip, Adam.  The point logged at step s is the loss/error of
 *             step s's batch BEFORE its update (the network after s
 *             updates); the final point (step = steps) is one more fresh
 *             batch after the last update.
 *   error     eval_batch trajectories of E steps from RNG_EVAL_TRAJ, the
 *             same for every level; noise xi from RNG_EVAL_NOISE, reseeded
 *             for every level (sigma_s * the same xi):
 *             err[s][t] = mean_b |decode(out[b][t]) - pos[b][t+1]| * 100
 *   rate maps ratemap_trajectories trajectories of E steps (chunks of at
 *             most eval_batch) and their training-level noise, both from
 *             the RNG_RATEMAP stream; h_t binned at pos_t, t = 1..E
 *   scores    spatial_score_units on the maps, spatial_summary of score60.
 *   classes   (after the null) every measure of gridgeom.h per unit and its
 *             class, T = the null threshold (class_score60_min without a
 *             null); per-task class fractions and grid-unit geometry
 *             (docs/spatial.md, "Classification in a task").
 *   snapshots (snapshot_every > 0) at the step boundaries s = k *
 *             snapshot_every, before batch s: rate maps of the network after
 *             s updates over snapshot_trajectories trajectories (eval length)
 *             and their training-level noise from RNG_SNAPSHOT, reseeded at
 *             every snapshot (the same trajectories each time); score60,
 *             classes with class_score60_min, into res->snap_* (K).
 *   null      (null_shuffles > 0) the kept units' activity and the positions
 *             of the rate-map pass go to a GridNull (gridnull.h); after
 *             scoring, null_shuffles circularly shifted maps give the
 *             threshold, grid_p and grid_null; kept units and shuffles from
 *             the RNG_SHUFFLE stream (docs/spatial.md, "Shuffle null").
 *   replay    (replay on) replay_run on the trained network into
 *             res->replay (replay.h, docs/replay.md); a stop during it
 *             leaves the task pending.
 * Every buffer is allocated once at the start (work_alloc); the loops
 * allocate nothing.  With TaskHooks.times, the time of each phase (data,
 * step, log, eval, ratemap, score, null, replay, setup) is added into it.
 */
#include "task/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/adam.h"
#include "model/arena.h"
#include "score/gridgeom.h"
#include "score/gridnull.h"
#include "model/noisedraw.h"
#include "model/place.h"
#include "model/replay.h"
#include "model/rng.h"
#include "model/rnn.h"
#include "score/spatial.h"
#include "model/traj.h"
#include "task/feed.h"

#include <cblas.h> /* openblas_set_num_threads (OpenBLAS's cblas.h) */

#define TRAIN_PI 3.14159265358979323846

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Phase timing (TaskHooks.times): lap() adds the time since the last mark
 * to a phase and marks again; nothing is read when times is NULL. */
typedef struct Laps { TaskTimes *tt; double w, c; } Laps;

static Laps laps_start(const TaskHooks *h)
{
    Laps l = {h ? h->times : NULL, 0, 0};
    if (l.tt) {
        l.w = now_s();
        l.c = cpu_s();
    }
    return l;
}

static void lap(Laps *l, int phase)
{
    if (!l->tt) return;
    double w = now_s(), c = cpu_s();
    l->tt->wall[phase] += w - l->w;
    l->tt->cpu[phase] += c - l->c;
    l->w = w;
    l->c = c;
}

static int max_i(int a, int b) { return a > b ? a : b; }

/* A unit and its score60, for ranking the saved maps. */
typedef struct RankedUnit { float score; int unit; } RankedUnit;

/* Everything one task works with, allocated once by work_alloc. */
typedef struct TaskWork {
    int B, T, E, N, D, Bmax, Tmax, G;
    Arena arena;
    PlaceCells pc;
    Rnn net;
    Adam opt;
    Feed feed;          /* the training batches (B, T), in line or by the data thread (feed.h) */
    TrajBatch eval;     /* (eval_batch, E), reused by the rate-map chunks */
    float *p0;          /* (Bmax, D) code of the start positions (evaluation) */
    float *start;       /* (Bmax, 2) start positions, gathered (evaluation) */
    float *noise;       /* (B T, N) the training batches' hidden-state noise when made in line
                           (the feed's); the evaluation forwards draw theirs step by step (nd) */
    NoiseDraw nd;       /* (eval_batch) hidden noise of the evaluation forwards, a step at a time */
    float *dec;         /* (max(B T, eval_batch E), 2) decoded positions */
    RateMapAcc acc;     /* (G*G, N) sums */
    float *maps;        /* (N, G, G) */
    GridScorer *scorer;
    RankedUnit *rank;   /* (N) units by score60 */
    int null_on;        /* cfg->null_shuffles > 0 */
    GridNull null;      /* (U, ratemap_trajectories * E) kept activity, positions */
    Rng r_shuffle;      /* RNG_SHUFFLE: kept units, then the shuffles */
    /* where training stands (the TaskState of train.h, live) */
    Rng r_traj, r_noise;   /* RNG_TRAIN_TRAJ, RNG_TRAIN_NOISE */
    int step;              /* loop iterations done, 0 .. steps + 1 */
    int next_log;          /* logged points recorded */
    double train_s0;       /* training seconds of earlier runs (a resumed task) */
    double t_train;        /* now_s() when this run's training started */
    double train_run_s;    /* this run's training seconds, once training is complete; else -1 */
    int next_snap;         /* snapshots recorded (0 .. K) */
    /* classification (scoring and snapshots) */
    GridClassParams cp;    /* gridclass_defaults() with the class_* settings */
    double *occ;           /* (G, G) samples per bin of the last rate-map pass */
    float *snap_s60;       /* (N) score60 of a snapshot */
    float *peaks;          /* (N, 6, 2) SAC peak lags (x, y) of every unit, bins */
} TaskWork;

/* Release what class_alloc allocated (safe on a zeroed TaskWork). */
static void class_free(TaskWork *w)
{
    free(w->occ);
    free(w->snap_s60);
    free(w->peaks);
    w->occ = NULL;
    w->snap_s60 = w->peaks = NULL;
}

static void work_free(TaskWork *w)
{
    feed_free(&w->feed); /* first: its thread reads the arena and the settings */
    place_free(&w->pc);
    rnn_free(&w->net);
    adam_free(&w->opt);
    traj_free(&w->eval);
    free(w->p0);
    free(w->start);
    free(w->noise);
    noisedraw_free(&w->nd);
    free(w->dec);
    ratemap_acc_free(&w->acc);
    free(w->maps);
    grid_scorer_free(w->scorer);
    free(w->rank);
    gridnull_free(&w->null);
    class_free(w);
    memset(w, 0, sizeof *w);
}

/* The classification's parameters (the class_* and border settings over
 * gridclass_defaults) and buffers: occ (G, G), snap_s60 (N), peaks (N, 6,
 * 2).  Returns 0 or -1 (out of memory; class_free, called by work_free,
 * releases what was allocated). */
static int class_alloc(TaskWork *w, const TaskConfig *cfg)
{
    w->cp = gridclass_defaults();
    w->cp.score60_min = cfg->class_score60_min;
    w->cp.band_min = cfg->class_band_min;
    w->cp.ramp_min = cfg->class_ramp_min;
    w->cp.border_min = cfg->class_border_min;
    w->cp.min_periods = cfg->class_min_periods;
    w->cp.coherence_min = cfg->class_coherence_min;
    w->cp.si_min = cfg->class_si_min;
    w->cp.field_frac = cfg->border_field_frac;
    w->cp.min_bins = cfg->border_min_bins;
    w->occ = malloc((size_t)w->G * (size_t)w->G * sizeof *w->occ);
    w->snap_s60 = malloc((size_t)w->N * sizeof *w->snap_s60);
    w->peaks = malloc((size_t)w->N * RESULT_PEAK_FLOATS * sizeof *w->peaks);
    return w->occ && w->snap_s60 && w->peaks ? 0 : -1;
}

/* Allocate and initialise everything; data_thread: the training batches
 * made by a second thread (feed.h).  msg says what failed. */
static int work_alloc(TaskWork *w, const TaskConfig *cfg, int data_thread, char *msg, size_t len)
{
    memset(w, 0, sizeof *w);
    w->B = cfg->batch;
    w->T = cfg->seq_len;
    w->E = config_eval_len(cfg);
    w->N = cfg->hidden;
    w->G = cfg->ratemap_bins;
    w->Bmax = max_i(cfg->batch, cfg->eval_batch); /* rate-map chunks are <= eval_batch */
    w->Tmax = max_i(w->T, w->E);
    const char *what = "";
    Rng r_place, r_init;
    rng_seed(&r_place, (uint64_t)cfg->seed, RNG_PLACE);
    rng_seed(&r_init, (uint64_t)cfg->seed, RNG_INIT);

    what = "arena";
    if (arena_init(&w->arena, cfg) != 0) goto fail;
    what = "place cells";
    if (place_init(&w->pc, cfg, &w->arena, &r_place) != 0) goto fail;
    w->D = place_dim(&w->pc);
    what = "network";
    /* the backward's cache for the training shape (B, T) only; the
     * evaluation forwards (eval_batch, E), which run no backward, reuse its
     * memory for h and z alone (rnn_alloc_shapes) */
    if (rnn_alloc_task(&w->net, cfg, w->D, w->B, w->T, cfg->eval_batch, w->E) != 0) goto fail;
    rnn_init(&w->net, &r_init);
    what = "optimiser";
    if (adam_alloc(&w->opt, w->net.n_params, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps) != 0) goto fail;
    what = "trajectories";
    if (traj_alloc(&w->eval, cfg->eval_batch, w->E) != 0) goto fail;
    what = "buffers";
    /* the largest forward: a training batch or an evaluation batch (dec);
     * the noise: a training batch */
    const size_t BTt = (size_t)w->B * (size_t)w->T, BTe = (size_t)cfg->eval_batch * (size_t)w->E;
    const size_t BT = BTe > BTt ? BTe : BTt;
    w->p0 = malloc((size_t)w->Bmax * (size_t)w->D * sizeof(float));
    w->start = malloc((size_t)w->Bmax * 2 * sizeof(float));
    w->noise = malloc(BTt * (size_t)w->N * sizeof(float));
    w->dec = malloc(BT * 2 * sizeof(float));
    w->maps = malloc((size_t)w->N * (size_t)w->G * (size_t)w->G * sizeof(float));
    w->rank = malloc((size_t)w->N * sizeof *w->rank);
    if (!w->p0 || !w->start || !w->noise || !w->dec || !w->maps || !w->rank) goto fail;
    if (noisedraw_alloc(&w->nd, cfg->eval_batch > w->B ? cfg->eval_batch : w->B, w->N) != 0) goto fail;
    if (class_alloc(w, cfg) != 0) goto fail;
    what = "training batches";
    /* a thread that cannot start (or its second slot) costs the overlap,
     * not the task: the batches are then made in line, the same batches */
    if (feed_alloc(&w->feed, cfg, &w->arena, &w->pc, w->B, w->T, w->N, w->noise, data_thread) != 0 &&
        (!data_thread || feed_alloc(&w->feed, cfg, &w->arena, &w->pc, w->B, w->T, w->N, w->noise, 0) != 0))
        goto fail;
    what = "rate-map accumulator";
    if (ratemap_acc_init(&w->acc, w->N, w->G, w->arena.xmin, w->arena.xmax, w->arena.ymin, w->arena.ymax) != 0)
        goto fail;
    what = "grid scorer";
    w->scorer = grid_scorer_new(w->G, cfg->score_variant);
    if (!w->scorer) goto fail;
    w->null_on = cfg->null_shuffles > 0;
    rng_seed(&w->r_shuffle, (uint64_t)cfg->seed, RNG_SHUFFLE);
    what = "shuffle null";
    if (w->null_on) {
        /* the null's series streamed (two more rate-map passes after the
         * scores, same results bit for bit; gridnull.h) when keeping it
         * would add more than half of the model's own memory (params,
         * grads, Adam m and v: 16 bytes a parameter; the BPTT cache) and
         * streaming needs under a quarter of it: at the defaults N <= 512
         * streams (the 39 MB series against 54 MB of model at N = 512),
         * N >= 1024 keeps the series (no extra passes) */
        size_t cap = (size_t)cfg->ratemap_trajectories * (size_t)w->E;
        size_t kept = gridnull_bytes(w->N, cfg->null_units, cfg->null_shuffles, cap, w->G, 0);
        size_t streamed = gridnull_bytes(w->N, cfg->null_units, cfg->null_shuffles, cap, w->G, 1);
        size_t model = 16 * w->net.n_params + w->net.cache_n * sizeof(float);
        int stream = 2 * kept > model && 4 * streamed <= kept;
        if (gridnull_init_mode(&w->null, w->N, cfg->null_units, cfg->null_shuffles, cap, w->G, w->arena.xmin,
                               w->arena.xmax, w->arena.ymin, w->arena.ymax, &w->r_shuffle, stream) != 0)
            goto fail;
    }
    return 0;
fail:
    snprintf(msg, len, "cannot set up the %s (bad settings or out of memory)", what);
    work_free(w);
    return -1;
}

/* Decode the network's outputs for tb into w->dec (B, T, 2). */
static void decode_batch(TaskWork *w, const TrajBatch *tb)
{
    place_decode(&w->pc, rnn_output(&w->net), (size_t)tb->B * tb->T, w->dec);
}

/* Mean over (b, t) of |dec[b][t] - pos[b][t+1]| * 100, cm. */
static double mean_err_cm(const TaskWork *w, const TrajBatch *tb)
{
    int B = tb->B, T = tb->T;
    double sum = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = w->dec + ((size_t)b * T + t) * 2;
            const float *p = tb->pos + ((size_t)b * (T + 1) + t + 1) * 2;
            sum += hypot((double)d[0] - p[0], (double)d[1] - p[1]);
        }
    return 100.0 * sum / ((double)B * T);
}

/* noise_rows_fn of the evaluation forwards: xi_t from the NoiseDraw ctx. */
static void draw_rows(void *ctx, int t, int B, float *xi)
{
    (void)B;
    noisedraw_step(ctx, t, xi);
}

/* The forward pass of evaluation batch tb (no loss) with noise sigma *
 * xi, xi from r (no noise, and nothing drawn, when sigma == 0).  The
 * hidden states, and with outputs 1 the outputs, stay in the network;
 * the rate-map, null and snapshot passes need only the hidden states
 * (outputs 0: no readout product, the same h bit for bit). */
static void forward(TaskWork *w, const TrajBatch *tb, double sigma, Rng *r, int outputs)
{
    /* the noise rng_normal_fill(r, B T N, sigma) would give, drawn one step
     * at a time (model/noisedraw.h: same numbers, r left where the fill
     * leaves it; B N floats held instead of B T N) */
    if (sigma > 0) noisedraw_start(&w->nd, r, tb->B, tb->T, (float)sigma);
    feed_encode_starts(&w->pc, tb, w->start, w->p0);
    rnn_predict_rows(&w->net, w->p0, tb->v, sigma > 0 ? draw_rows : NULL, &w->nd, tb->B, tb->T, outputs);
}

static int stopped(const TaskHooks *h) { return h && h->stop && *h->stop; }

/* A prefix view of tb: its first B trajectories (same T, same storage). */
static TrajBatch traj_prefix(const TrajBatch *tb, int B)
{
    TrajBatch v = *tb;
    v.B = B;
    return v;
}

/* Records logged point i (step s) and reports it; the speed is that of
 * this run, which started at step s0. */
static void log_point(TaskResult *res, const TaskHooks *h, int i, int s, float loss, float err, double t_start,
                      int s0)
{
    res->train_loss[i] = loss;
    res->train_err_cm[i] = err;
    if (h && h->progress) {
        double el = now_s() - t_start;
        h->progress(h->ctx, s, loss, err, el > 0 ? (s - s0) / el : 0.0);
    }
}

/* The live state of w as a TaskState view (train.h), for the save hook. */
static TaskState state_view(TaskWork *w)
{
    TaskState st;
    memset(&st, 0, sizeof st);
    st.step = w->step;
    st.next_log = w->next_log;
    st.next_snap = w->next_snap;
    st.r_traj = w->r_traj;
    st.r_noise = w->r_noise;
    st.adam_t = w->opt.t;
    st.n_params = w->net.n_params;
    st.params = w->net.params;
    st.adam_m = w->opt.m;
    st.adam_v = w->opt.v;
    st.train_s = w->train_s0 + (w->train_run_s >= 0 ? w->train_run_s : now_s() - w->t_train);
    return st;
}

/* Hand the state to the save hook, if any.  Returns its status (0 when
 * there is no hook). */
static int save_state(TaskWork *w, const TaskHooks *h, const TaskResult *res)
{
    if (!h || !h->save) return 0;
    TaskState st = state_view(w);
    return h->save(h->ctx, &st, res);
}

/* Start training from step 0 (streams seeded) or from h->resume.  Returns
 * 0, or -1 (message set) for a state that does not fit the task. */
static int train_start(TaskWork *w, const TaskConfig *cfg, TaskResult *res, const TaskHooks *h)
{
    const TaskState *rs = h ? h->resume : NULL;
    rng_seed(&w->r_traj, (uint64_t)cfg->seed, RNG_TRAIN_TRAJ);
    rng_seed(&w->r_noise, (uint64_t)cfg->seed, RNG_TRAIN_NOISE);
    w->step = w->next_log = w->next_snap = 0;
    w->train_s0 = 0;
    w->train_run_s = -1;
    w->t_train = now_s();
    if (!rs) return 0;
    if (rs->n_params != w->net.n_params || rs->step < 0 || rs->step > cfg->steps + 1 || rs->next_log < 0 ||
        rs->next_log > res->n_log || rs->next_snap < 0 || rs->next_snap > res->n_snap || rs->adam_t < 0 ||
        !rs->params || !rs->adam_m || !rs->adam_v) {
        snprintf(res->message, sizeof res->message,
                 "checkpoint does not fit the task (%zu parameters, step %d, %d logged points; the task has %zu, "
                 "%d steps, %d points)",
                 rs->n_params, rs->step, rs->next_log, w->net.n_params, cfg->steps, res->n_log);
        return -1;
    }
    memcpy(w->net.params, rs->params, rs->n_params * sizeof(float));
    memcpy(w->opt.m, rs->adam_m, rs->n_params * sizeof(float));
    memcpy(w->opt.v, rs->adam_v, rs->n_params * sizeof(float));
    w->opt.t = rs->adam_t;
    w->r_traj = rs->r_traj;
    w->r_noise = rs->r_noise;
    w->step = rs->step;
    w->next_log = rs->next_log;
    w->next_snap = rs->next_snap;
    w->train_s0 = rs->train_s;
    res->steps_done = rs->step < cfg->steps ? rs->step : cfg->steps;
    return 0;
}

/* w->occ (G, G) = the samples per bin of the last rate-map pass (w->acc). */
static void occupancy(TaskWork *w)
{
    size_t G2 = (size_t)w->G * w->G;
    for (size_t b = 0; b < G2; b++) w->occ[b] = (double)w->acc.count[b];
}

/* Snapshot k = w->next_snap of the network after s updates (train.c's
 * header): rate maps of snapshot_trajectories trajectories from a freshly
 * seeded RNG_SNAPSHOT stream, every unit measured and classed without a
 * null (class_score60_min), into res->snap_*[k].  Touches no training
 * stream.  Returns 0, or -1 (out of memory). */
static int snapshot(TaskWork *w, const TaskConfig *cfg, TaskResult *res, int s)
{
    int k = w->next_snap, N = w->N, E = w->E, G = w->G, K = res->n_snap;
    size_t G2 = (size_t)G * G;
    int n[GRIDCLASS_N] = {0};
    Rng r; /* trajectories and noise of every chunk, in this order */
    rng_seed(&r, (uint64_t)cfg->seed, RNG_SNAPSHOT);
    ratemap_acc_reset(&w->acc);
    for (int done = 0; done < cfg->snapshot_trajectories;) {
        int B = cfg->snapshot_trajectories - done;
        if (B > w->eval.B) B = w->eval.B;
        TrajBatch tb = traj_prefix(&w->eval, B);
        traj_generate(&tb, &w->arena, cfg, &r);
        forward(w, &tb, cfg->noise, &r, 0);
        for (int b = 0; b < B; b++) /* h_t (t = 1..E) at pos[b][t] */
            ratemap_acc_add(&w->acc, rnn_hidden(&w->net, b, 1), tb.pos + ((size_t)b * (E + 1) + 1) * 2, (size_t)E);
        done += B;
    }
    ratemap_acc_finish(&w->acc, w->maps, NULL);
    occupancy(w);
    for (int u = 0; u < N; u++) {
        GridUnit gu;
        if (gridclass_measure(w->scorer, w->maps + (size_t)u * G2, w->occ, &w->cp, &gu) != 0) return -1;
        w->snap_s60[u] = gu.score60;
        n[gridclass_classify(&gu, G, NAN, &w->cp)]++;
    }
    SpatialSummary sm = spatial_summary(w->snap_s60, N, cfg->grid_threshold);
    res->snap_step[k] = s;
    res->snap_max_score60[k] = sm.max;
    res->snap_mean_score60[k] = sm.mean;
    res->snap_grid_frac[k] = sm.frac;
    for (int c = 0; c < GRIDCLASS_N; c++) res->snap_frac[(size_t)c * K + k] = (float)n[c] / (float)N;
    w->next_snap = k + 1;
    return 0;
}

/* Training loop from w->step; returns TASK_DONE, TASK_DIVERGED,
 * TASK_PENDING (stopped; saved first when there is a save hook), or -1
 * (message set).  At every step boundary: a tick, the stop flag, then a
 * timed checkpoint. */
static int train(TaskWork *w, const TaskConfig *cfg, TaskResult *res, const TaskHooks *h)
{
    double t_start = now_s(), t_save = t_start, t_tick = t_start;
    int s0 = w->step;
    w->t_train = t_start;
    int timed = h && h->save && h->checkpoint_every > 0, ticks = h && h->tick;
    /* batches s0 .. steps from the streams after s0 batches */
    feed_start(&w->feed, &w->r_traj, &w->r_noise, (long)cfg->steps + 1 - s0);
    Laps lp = laps_start(h);
    for (int s = s0; s <= cfg->steps; s++) {
        w->step = s;
        double t = timed | ticks ? now_s() : 0.0;
        if (ticks && t - t_tick >= h->tick_every) {
            h->tick(h->ctx, s < cfg->steps ? s : cfg->steps, t > t_start ? (s - s0) / (t - t_start) : 0.0);
            t_tick = t;
        }
        if (stopped(h)) {
            save_state(w, h, res);
            return TASK_PENDING;
        }
        if (timed && s > s0 && t - t_save >= h->checkpoint_every) {
            save_state(w, h, res);
            t_save = now_s();
        }
        lap(&lp, TASK_PH_SETUP); /* the step boundary's hooks */
        if (w->next_snap < res->n_snap && (long)s == (long)w->next_snap * cfg->snapshot_every) {
            if (snapshot(w, cfg, res, s) != 0) {
                snprintf(res->message, sizeof res->message, "snapshot at step %d failed (out of memory?)", s);
                return -1;
            }
            lap(&lp, TASK_PH_EVAL); /* a snapshot is an evaluation */
        }
        /* batch s: made now, or made by the data thread during step s - 1 */
        const FeedBatch *fb = feed_next(&w->feed);
        if (!fb) {
            snprintf(res->message, sizeof res->message, "no training batch for step %d", s);
            return -1;
        }
        w->r_traj = fb->r_traj; /* the streams after s + 1 batches */
        w->r_noise = fb->r_noise;
        lap(&lp, TASK_PH_DATA);
        float loss = rnn_forward(&w->net, fb->p0, fb->tb.v, fb->target, fb->noise, w->B, w->T);
        if (!isfinite(loss)) {
            snprintf(res->message, sizeof res->message, "loss became %s at step %d (after %d updates)",
                     isnan(loss) ? "nan" : "infinite", s, s);
            return TASK_DIVERGED;
        }
        if (w->next_log < res->n_log && res->log_step[w->next_log] == s) {
            /* logged point: loss of this batch before its update */
            lap(&lp, TASK_PH_STEP);
            decode_batch(w, &fb->tb);
            log_point(res, h, w->next_log, s, loss, (float)mean_err_cm(w, &fb->tb), t_start, s0);
            res->final_loss = loss;
            w->next_log++;
            lap(&lp, TASK_PH_LOG);
        }
        if (s == cfg->steps) break; /* the final point: evaluation only */
        if (rnn_backward(&w->net) != 0) {
            snprintf(res->message, sizeof res->message, "backward pass refused at step %d", s);
            return -1;
        }
        if (cfg->clip_norm > 0) grad_clip_norm(w->net.grads, w->net.n_params, (float)cfg->clip_norm);
        adam_step(&w->opt, w->net.params, w->net.grads);
        res->steps_done = s + 1;
        lap(&lp, TASK_PH_STEP);
    }
    lap(&lp, TASK_PH_STEP);
    w->step = cfg->steps + 1;
    return TASK_DONE;
}

/* Error curves: res->eval_err_cm (S, E).  Returns TASK_DONE or
 * TASK_PENDING (stopped). */
static int eval_errors(TaskWork *w, const TaskConfig *cfg, TaskResult *res, const TaskHooks *h)
{
    Rng r_traj;
    rng_seed(&r_traj, (uint64_t)cfg->seed, RNG_EVAL_TRAJ);
    traj_generate(&w->eval, &w->arena, cfg, &r_traj);
    int B = w->eval.B, E = w->E;
    for (int l = 0; l < cfg->n_eval_noise; l++) {
        if (stopped(h)) return TASK_PENDING;
        Rng r_noise; /* the same xi at every level: err curves differ by sigma only */
        rng_seed(&r_noise, (uint64_t)cfg->seed, RNG_EVAL_NOISE);
        forward(w, &w->eval, cfg->eval_noise[l], &r_noise, 1);
        decode_batch(w, &w->eval);
        float *err = res->eval_err_cm + (size_t)l * E;
        for (int t = 0; t < E; t++) {
            double sum = 0; /* err[t] = mean_b |dec[b][t] - pos[b][t+1]| * 100 */
            for (int b = 0; b < B; b++) {
                const float *d = w->dec + ((size_t)b * E + t) * 2;
                const float *p = w->eval.pos + ((size_t)b * (E + 1) + t + 1) * 2;
                sum += hypot((double)d[0] - p[0], (double)d[1] - p[1]);
            }
            err[t] = (float)(100.0 * sum / B);
        }
    }
    double m = 0; /* final_err_cm = mean_t err[0][t] */
    for (int t = 0; t < E; t++) m += res->eval_err_cm[t];
    res->final_err_cm = (float)(m / E);
    return TASK_DONE;
}

/* One pass over the rate-map trajectories (ratemap_trajectories of E
 * steps, chunks of at most eval_batch, trajectories and noise from the
 * RNG_RATEMAP stream, in this order): every pass sees the same forwards,
 * bit for bit.  pass < 0: the rate maps (w->acc) and the null's series
 * (gridnull_add); pass 0 / 1: the streamed null's passes (gridnull_stream).
 * Returns TASK_DONE or TASK_PENDING (stopped). */
static int ratemap_pass(TaskWork *w, const TaskConfig *cfg, const TaskHooks *h, int pass)
{
    Rng r;
    rng_seed(&r, (uint64_t)cfg->seed, RNG_RATEMAP);
    int E = w->E;
    for (int done = 0; done < cfg->ratemap_trajectories;) {
        if (stopped(h)) return TASK_PENDING;
        int B = cfg->ratemap_trajectories - done;
        if (B > w->eval.B) B = w->eval.B;
        TrajBatch tb = traj_prefix(&w->eval, B);
        traj_generate(&tb, &w->arena, cfg, &r);
        forward(w, &tb, cfg->noise, &r, 0);
        /* h_t (t = 1..E) of trajectory b at pos[b][t]: samples
         * (done + b) E + t - 1 of the concatenated series */
        for (int b = 0; b < B; b++) {
            const float *hb = rnn_hidden(&w->net, b, 1), *pb = tb.pos + ((size_t)b * (E + 1) + 1) * 2;
            if (pass < 0) {
                ratemap_acc_add(&w->acc, hb, pb, (size_t)E);
                if (w->null_on) gridnull_add(&w->null, hb, pb, (size_t)E);
            } else {
                gridnull_stream(&w->null, pass, hb, (size_t)(done + b) * (size_t)E, (size_t)E);
            }
        }
        done += B;
    }
    return TASK_DONE;
}

/* Rate maps over ratemap_trajectories trajectories: w->maps (N, G, G).
 * Returns TASK_DONE or TASK_PENDING (stopped). */
static int rate_maps(TaskWork *w, const TaskConfig *cfg, const TaskHooks *h)
{
    ratemap_acc_reset(&w->acc);
    if (w->null_on) gridnull_reset(&w->null);
    int st = ratemap_pass(w, cfg, h, -1);
    if (st != TASK_DONE) return st;
    ratemap_acc_finish(&w->acc, w->maps, NULL);
    return TASK_DONE;
}

/* Units by score60, highest first, NaN last, ties by unit index. */
static int rank_cmp(const void *pa, const void *pb)
{
    const RankedUnit *a = pa, *b = pb;
    int na = isnan(a->score) != 0, nb = isnan(b->score) != 0;
    if (na != nb) return na - nb;
    if (!na && a->score != b->score) return a->score > b->score ? -1 : 1;
    return (a->unit > b->unit) - (a->unit < b->unit);
}

/* Spacing of the six SAC peaks g->peak_x/y (bins) in cm, with bins bx x by
 * cm: the median of their six distances (mean of the 3rd and 4th); NaN
 * when a peak is missing. */
static double spacing_cm(const GridGeom *g, double bx, double by)
{
    double d[GRIDGEOM_SIX];
    for (int k = 0; k < GRIDGEOM_SIX; k++) {
        if (isnan(g->peak_x[k]) || isnan(g->peak_y[k])) return NAN;
        double v = hypot(g->peak_x[k] * bx, g->peak_y[k] * by);
        int i = k;
        for (; i > 0 && d[i - 1] > v; i--) d[i] = d[i - 1]; /* insertion sort */
        d[i] = v;
    }
    return 0.5 * (d[2] + d[3]);
}

/* Every unit's measures and class (gridgeom.h) on w->maps with the
 * occupancy of the rate-map pass, T = the null threshold (NaN without a
 * null: class_score60_min); the class fractions and the geometry of the
 * GRID units (orientation spread: circular s.d. of orientation mod 60,
 * sqrt(-2 ln R) of the angles 6 theta, divided by 6); the peaks of every
 * unit into w->peaks (N, 6, 2).  Returns 0, or -1 (out of memory). */
static int classify_units(TaskWork *w, TaskResult *res)
{
    int N = w->N, G = w->G, n[GRIDCLASS_N] = {0}, n_grid = 0, n_ell = 0;
    size_t G2 = (size_t)G * G;
    double bx = 100.0 * (w->arena.xmax - w->arena.xmin) / G, by = 100.0 * (w->arena.ymax - w->arena.ymin) / G;
    double T = w->null_on ? res->null_threshold : NAN;
    double sum_sp = 0, sum_ell = 0, sum_c = 0, sum_s = 0;
    occupancy(w);
    for (int u = 0; u < N; u++) {
        GridUnit gu;
        if (gridclass_measure(w->scorer, w->maps + (size_t)u * G2, w->occ, &w->cp, &gu) != 0) return -1;
        GridClass c = gridclass_classify(&gu, G, T, &w->cp);
        res->grid_class[u] = (signed char)c;
        res->n_peaks[u] = (signed char)(gu.geom.n_peaks > 127 ? 127 : gu.geom.n_peaks);
        res->spacing_cm[u] = (float)spacing_cm(&gu.geom, bx, by);
        res->orientation_deg[u] = (float)gu.geom.orientation_deg;
        res->ellipticity[u] = (float)gu.geom.ellipticity;
        res->band[u] = (float)gu.band;
        res->ramp_r2[u] = (float)gu.ramp_r2;
        res->coherence[u] = (float)gu.coherence;
        res->spatial_info[u] = (float)gu.spatial_info;
        float *pk = w->peaks + (size_t)u * RESULT_PEAK_FLOATS;
        for (int j = 0; j < GRIDGEOM_SIX; j++) {
            pk[2 * j] = (float)gu.geom.peak_x[j];
            pk[2 * j + 1] = (float)gu.geom.peak_y[j];
        }
        n[c]++;
        if (c != GRIDCLASS_GRID) continue;
        n_grid++;
        sum_sp += res->spacing_cm[u];
        double a = 6.0 * gu.geom.orientation_deg * TRAIN_PI / 180.0;
        sum_c += cos(a);
        sum_s += sin(a);
        if (!isnan(gu.geom.ellipticity)) {
            sum_ell += gu.geom.ellipticity;
            n_ell++;
        }
    }
    for (int c = 0; c < GRIDCLASS_N; c++) res->frac_class[c] = (float)n[c] / (float)N;
    res->grid_spacing_cm = n_grid ? (float)(sum_sp / n_grid) : NAN;
    double R = n_grid ? hypot(sum_c, sum_s) / n_grid : NAN;
    res->grid_orient_sd_deg = n_grid ? (float)(sqrt(-2.0 * log(R < 1.0 ? R : 1.0)) * 180.0 / TRAIN_PI / 6.0) : NAN;
    res->grid_ellipticity = n_ell ? (float)(sum_ell / n_ell) : NAN;
    return 0;
}

/* Scores, summary, the null, the classes and the saved maps (with their
 * SAC peaks).  Returns TASK_DONE, TASK_PENDING (stopped during the
 * streamed null's passes) or -1. */
static int score(TaskWork *w, const TaskConfig *cfg, TaskResult *res, const TaskHooks *h, Laps *lp)
{
    int N = w->N;
    size_t G2 = (size_t)w->G * w->G;
    if (spatial_score_units(w->maps, N, w->G, w->scorer, cfg->border_field_frac, cfg->border_min_bins,
                            res->score60, res->score90, res->mask60, res->border) != 0)
        return -1;
    SpatialSummary sm = spatial_summary(res->score60, N, cfg->grid_threshold);
    res->grid_frac = sm.frac;
    res->max_score60 = sm.max;
    res->mean_score60 = sm.mean;
    lap(lp, TASK_PH_SCORE);
    if (w->null_on) {
        /* minimum shift m = round(null_min_shift / dt) samples (gridnull_run
         * lowers it to a quarter of the series when that is shorter) */
        GridNullSummary ns;
        long m = lround(cfg->null_min_shift / cfg->dt);
        if (w->null.streamed) {
            int passes = gridnull_plan(&w->null, res->score60, m, &w->r_shuffle);
            if (passes < 0) return -1;
            for (int p = 0; p < passes; p++) {
                int st = ratemap_pass(w, cfg, h, p);
                if (st != TASK_DONE) return st;
            }
            if (gridnull_finish(&w->null, w->scorer, res->score60, cfg->null_percentile, res->grid_p,
                                res->grid_null, &ns) != 0)
                return -1;
        } else if (gridnull_run(&w->null, w->scorer, res->score60, m, cfg->null_percentile, &w->r_shuffle,
                                res->grid_p, res->grid_null, &ns) != 0) {
            return -1;
        }
        res->null_threshold = ns.threshold;
        res->grid_frac_null = ns.frac;
        lap(lp, TASK_PH_NULL);
    }
    if (classify_units(w, res) != 0) return -1;
    if (res->n_maps == 0) {
        lap(lp, TASK_PH_SCORE);
        return TASK_DONE;
    }
    for (int i = 0; i < N; i++) {
        w->rank[i].score = res->score60[i];
        w->rank[i].unit = i;
    }
    if (cfg->save_ratemaps == SAVE_TOP) qsort(w->rank, (size_t)N, sizeof *w->rank, rank_cmp);
    for (int m = 0; m < res->n_maps; m++) {
        int u = w->rank[m].unit;
        res->map_unit[m] = u;
        memcpy(res->ratemaps + (size_t)m * G2, w->maps + (size_t)u * G2, G2 * sizeof(float));
        memcpy(res->map_peaks + (size_t)m * RESULT_PEAK_FLOATS, w->peaks + (size_t)u * RESULT_PEAK_FLOATS,
               RESULT_PEAK_FLOATS * sizeof(float));
    }
    lap(lp, TASK_PH_SCORE);
    return TASK_DONE;
}

/* 1 if res was allocated (result_alloc) for cfg, else 0. */
static int result_matches(const TaskResult *res, const TaskConfig *cfg)
{
    int n_maps = cfg->save_ratemaps == SAVE_ALL ? cfg->hidden
               : cfg->save_ratemaps == SAVE_TOP ? (cfg->save_top_k < cfg->hidden ? cfg->save_top_k : cfg->hidden)
               : 0;
    return res->n_log == config_n_logged(cfg) && res->n_levels == cfg->n_eval_noise &&
           res->eval_len == config_eval_len(cfg) && res->n_units == cfg->hidden &&
           res->bins == cfg->ratemap_bins && res->n_maps == n_maps && res->log_step && res->train_loss &&
           res->eval_err_cm && res->score60 && res->grid_p && res->grid_null && res->grid_class &&
           res->n_snap == config_n_snapshots(cfg) && res->snap_step && res->snap_frac &&
           (!cfg->replay || (res->replay.traj && res->replay.R == cfg->replay_starts &&
                             res->replay.H == cfg->replay_steps && res->replay.G == cfg->ratemap_bins &&
                             res->replay.n_keep == (cfg->replay_keep < cfg->replay_starts ? cfg->replay_keep
                                                                                          : cfg->replay_starts)));
}

int task_run(const TaskConfig *cfg, TaskResult *res, const TaskHooks *hooks)
{
    double t0 = now_s(), t1 = t0, t2 = t0, c0 = hooks && hooks->times ? cpu_s() : 0.0;
    TaskTimes tt0;
    if (hooks && hooks->times) tt0 = *hooks->times;
    TaskWork w;
    memset(&w, 0, sizeof w);
    int rc = -1;
    res->status = TASK_PENDING;
    res->message[0] = 0;
    res->steps_done = 0;
    const char *key = NULL;
    char why[200];
    if (!result_matches(res, cfg)) {
        snprintf(res->message, sizeof res->message, "task_run: result not allocated for this task's settings");
        goto fail;
    }
    if (config_validate(cfg, &key, why, sizeof why) != 0) {
        snprintf(res->message, sizeof res->message, "invalid setting %s: %s", key, why);
        goto fail;
    }
    openblas_set_num_threads(cfg->threads);
    if (work_alloc(&w, cfg, task_data_thread_on(hooks, cfg), res->message, sizeof res->message) != 0) goto fail;

    if (train_start(&w, cfg, res, hooks) != 0) goto fail;
    t1 = now_s();
    int st = w.step <= cfg->steps ? train(&w, cfg, res, hooks) : TASK_DONE;
    t2 = now_s();
    if (st < 0) goto fail;
    w.train_run_s = t2 - t1;
    res->train_s = w.train_s0 + w.train_run_s;
    Laps lp = laps_start(hooks);
    if (st == TASK_DONE) st = eval_errors(&w, cfg, res, hooks);
    lap(&lp, TASK_PH_EVAL);
    if (st == TASK_DONE) st = rate_maps(&w, cfg, hooks);
    lap(&lp, TASK_PH_RATEMAP);
    if (st == TASK_DONE) {
        st = score(&w, cfg, res, hooks, &lp);
        if (st < 0) {
            snprintf(res->message, sizeof res->message, "scoring the rate maps failed (out of memory?)");
            goto fail;
        }
    }
    if (st == TASK_DONE && cfg->replay) {
        /* replay of the trained network (replay.h); 1 = stopped */
        int rr = replay_run(&w.net, &w.pc, &w.arena, cfg, hooks ? hooks->stop : NULL, &res->replay);
        if (rr < 0) {
            snprintf(res->message, sizeof res->message, "replay evaluation failed (out of memory?)");
            goto fail;
        }
        if (rr == 1) st = TASK_PENDING;
        lap(&lp, TASK_PH_REPLAY);
    }
    /* stopped during the evaluation: keep the trained network */
    if (st == TASK_PENDING && w.step > cfg->steps) save_state(&w, hooks, res);
    res->eval_s = now_s() - t2;
    res->status = st;
    rc = 0;
    goto done;
fail:
    res->status = TASK_FAILED;
done:
    if (hooks && hooks->times) hooks->times->data_thread_cpu += feed_thread_cpu_s(&w.feed);
    work_free(&w);
    res->wall_s = now_s() - t0;
    if (hooks && hooks->times) {
        /* setup: what the phases above did not count (allocation, frees) */
        TaskTimes *tt = hooks->times;
        double dw = res->wall_s, dc = cpu_s() - c0;
        for (int p = 0; p < TASK_N_PHASES; p++) {
            dw -= tt->wall[p] - tt0.wall[p];
            dc -= tt->cpu[p] - tt0.cpu[p];
        }
        tt->wall[TASK_PH_SETUP] += dw;
        tt->cpu[TASK_PH_SETUP] += dc;
    }
    return rc;
}

int task_data_thread_on(const TaskHooks *h, const TaskConfig *cfg)
{
    if (!h) return 0;
    if (h->data_thread == DATA_THREAD_ON) return 1;
    return h->data_thread == DATA_THREAD_AUTO && h->cores > cfg->threads;
}

int task_state_alloc(TaskState *st, size_t n_params)
{
    memset(st, 0, sizeof *st);
    st->n_params = n_params;
    size_t n = n_params ? n_params : 1;
    st->params = calloc(n, sizeof(float));
    st->adam_m = calloc(n, sizeof(float));
    st->adam_v = calloc(n, sizeof(float));
    if (st->params && st->adam_m && st->adam_v) return 0;
    task_state_free(st);
    return -1;
}

void task_state_free(TaskState *st)
{
    free(st->params);
    free(st->adam_m);
    free(st->adam_v);
    memset(st, 0, sizeof *st);
}

int task_state_copy(TaskState *dst, const TaskState *src)
{
    if (dst->n_params != src->n_params) return -1;
    float *p = dst->params, *m = dst->adam_m, *v = dst->adam_v;
    size_t bytes = src->n_params * sizeof(float);
    *dst = *src;
    dst->params = p;
    dst->adam_m = m;
    dst->adam_v = v;
    memcpy(p, src->params, bytes);
    memcpy(m, src->adam_m, bytes);
    memcpy(v, src->adam_v, bytes);
    return 0;
}

/* Multiply-adds of one time step of one trajectory, and of one start
 * encoding h_0 = W_enc p_0 (the LSTM has two: h_0 and c_0):
 *   Gc stacked gate blocks (1 for the non-gated cells), Ni inputs. */
static double cost_per_step(const TaskConfig *cfg, double *encode)
{
    double N = cfg->hidden, D = cfg->target == TARGET_CARTESIAN ? 2 : cfg->n_place;
    double Gc = cell_gates(cfg->cell) > 0 ? cell_gates(cfg->cell) : 1, Ni = input_dim(cfg->input);
    double Ne = cfg->cell == CELL_LSTM ? 2 : 1;
    *encode = Ne * N * D;
    return Gc * N * N + N * D + Gc * Ni * N;
}

/* Floating-point operations of one training batch: forward (2 flops per
 * multiply-add) + backward (twice the forward) = 6 per multiply-add. */
static double cost_train_batch(const TaskConfig *cfg)
{
    double encode, per_step = cost_per_step(cfg, &encode);
    return 6.0 * cfg->batch * (cfg->seq_len * per_step + encode);
}

double task_cost_train(const TaskConfig *cfg)
{
    return (cfg->steps + 1.0) * cost_train_batch(cfg);
}

double task_cost(const TaskConfig *cfg)
{
    double N = cfg->hidden, encode, per_step = cost_per_step(cfg, &encode);
    double E = config_eval_len(cfg), G = cfg->ratemap_bins;
    /* training: steps + 1 batches */
    double train = task_cost_train(cfg);
    /* evaluation: forward only, every level and every rate-map trajectory */
    double eval = 2.0 * ((double)cfg->n_eval_noise * cfg->eval_batch + cfg->ratemap_trajectories) *
                  (E * per_step + encode);
    /* scoring: per unit a (2G-1)^2 SAC over G^2 overlaps, 7 rotations */
    double scoring = N * (4.0 * G * G * G * G + 7.0 * 16.0 * 4.0 * G * G);
    /* null: per shuffle one map over every rate-map sample, then scored */
    double null = cfg->null_shuffles * ((double)cfg->ratemap_trajectories * E + 4.0 * G * G * G * G +
                                        7.0 * 16.0 * 4.0 * G * G);
    /* replay: R replays of H steps, trained and untrained (replay.h) */
    double Gc = cell_gates(cfg->cell) > 0 ? cell_gates(cfg->cell) : 1;
    double D = cfg->target == TARGET_CARTESIAN ? 2 : cfg->n_place;
    double replay = cfg->replay ? 4.0 * cfg->replay_starts * cfg->replay_steps * (Gc * N * N + N * D) : 0.0;
    return train + eval + scoring + null + replay;
}
