/* bench_step.c -- time one training step (forward + BPTT + Adam) and
 * compare it with the step's matrix products alone; measure a task's
 * memory and its evaluation cost.
 *
 * Legend: B batch, T steps, N hidden, P place cells (D outputs), E
 * evaluation steps.
 *
 *   bench_step [--B 200] [--T 20] [--N 512] [--P 512] [--cell leaky]
 *              [--act relu] [--threads 1] [--reps 10] [--warmup 2]
 *              [--noise 0] [--format md|tsv]
 *   bench_step --table [--format md|tsv]     the issue-7 rows: (N, P) =
 *              (128,256) (512,512) (1024,512) (4096,512), B 200, T 20,
 *              leaky relu, cross-entropy place-cell loss
 *   bench_step --task [--N ..] [--P ..] [--target dog] [--steps 20]
 *              [--reps 10] [--threads 1] [--data-thread off|on]
 *              [--set key=value ...]
 *              one whole task_run (train.h) at default settings except
 *              those given (--set key=value for any other numeric
 *              setting), timed by phase (TaskHooks.times: data, step,
 *              log, eval, ratemap, score, null, replay, setup), between two
 *              halves of the step benchmark at the same settings; prints
 *              the split, the bound = steps x the sgemm-only time of one
 *              training step and task / bound, the same with the
 *              sgemm-only step sampled during the task (once a second
 *              between training steps, the ticks' time taken out), and
 *              the peak RSS (VmHWM, reset before the task) against
 *              parameters + gradients + Adam + the BPTT cache (the step
 *              benchmark's own model, kept for the samples, is in the
 *              baseline, not in the growth).  --data-thread on: the training
 *              batches made one step ahead by a second thread
 *              (TaskHooks.data_thread; task/feed.h): compare the wall
 *              ratio then, the cpu one counts both threads.
 *
 * What is timed (docs/performance.md):
 *   step    rnn_forward + rnn_backward + adam_step on a batch made once
 *           (trajectories, place-cell codes, and the hidden noise when
 *           --noise > 0, all outside the timer): what issue 7 calls the
 *           training step.
 *   data    what train.c adds per step: traj_generate, place_encode of
 *           the targets and starts, rng_normal_fill of the noise.
 *   sgemm   the same cblas_sgemm calls as one step, with the same shapes,
 *           leading dimensions and buffers, replayed back to back.  The
 *           calls are recorded from a real step: this program defines
 *           cblas_sgemm itself (the executable's definition wins over
 *           OpenBLAS's when libsweep.a is linked in), records each call
 *           when asked to, and forwards to OpenBLAS's cblas_sgemm
 *           (dlsym RTLD_NEXT).  So the list cannot drift from src/model/rnn.c.
 * Steps and replays alternate (step, replay, step, replay, ...) so that
 * load from other processes hits both alike; each figure is the median
 * over --reps repetitions after --warmup.  Wall and CPU
 * (CLOCK_PROCESS_CPUTIME_ID) times are both reported.
 * GFLOP/s = 3 x forward FLOPs / step time, forward FLOPs =
 * 2 B T (N^2 + N P + 2 N) + 2 B P N (issue 7's convention).
 */
#define _GNU_SOURCE
#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/adam.h"
#include "model/arena.h"
#include "base/config.h"
#include "model/place.h"
#include "base/result.h"
#include "model/rng.h"
#include "model/rnn.h"
#include "task/feed.h"
#include "task/train.h"
#include "model/traj.h"

/* ---- cblas_sgemm interposer ---------------------------------------- */

typedef void (*sgemm_fn)(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const enum CBLAS_TRANSPOSE,
                         const blasint, const blasint, const blasint, const float, const float *, const blasint,
                         const float *, const blasint, const float, float *, const blasint);

typedef struct GemmCall {
    enum CBLAS_ORDER o;
    enum CBLAS_TRANSPOSE ta, tb;
    blasint m, n, k, lda, ldb, ldc;
    float alpha, beta;
    const float *a, *b;
    float *c;
} GemmCall;

static sgemm_fn real_sgemm;
static int rec_on;             /* 1: append every call to rec[] */
static GemmCall *rec;
static int n_rec, cap_rec;

static void sgemm_resolve(void)
{
    if (!real_sgemm) {
        real_sgemm = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
        if (!real_sgemm) {
            fprintf(stderr, "bench_step: cannot find OpenBLAS's cblas_sgemm (dlsym: %s)\n", dlerror());
            exit(2);
        }
    }
}

void cblas_sgemm(const enum CBLAS_ORDER o, const enum CBLAS_TRANSPOSE ta, const enum CBLAS_TRANSPOSE tb,
                 const blasint m, const blasint n, const blasint k, const float alpha, const float *a,
                 const blasint lda, const float *b, const blasint ldb, const float beta, float *c,
                 const blasint ldc)
{
    sgemm_resolve();
    if (rec_on) {
        if (n_rec == cap_rec) {
            cap_rec = cap_rec ? 2 * cap_rec : 256;
            rec = realloc(rec, (size_t)cap_rec * sizeof *rec);
            if (!rec) {
                fprintf(stderr, "bench_step: out of memory\n");
                exit(2);
            }
        }
        rec[n_rec++] = (GemmCall){o, ta, tb, m, n, k, lda, ldb, ldc, alpha, beta, a, b, c};
    }
    real_sgemm(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void replay(void)
{
    for (int i = 0; i < n_rec; i++) {
        const GemmCall *g = rec + i;
        real_sgemm(g->o, g->ta, g->tb, g->m, g->n, g->k, g->alpha, g->a, g->lda, g->b, g->ldb, g->beta, g->c,
                   g->ldc);
    }
}

/* ---- timing helpers ------------------------------------------------- */

static double clk(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double wall(void) { return clk(CLOCK_MONOTONIC); }
static double cpu(void) { return clk(CLOCK_PROCESS_CPUTIME_ID); }

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

/* VmHWM / VmRSS of this process, kB (-1 if unreadable). */
static long proc_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtol(line + kl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* ---- options -------------------------------------------------------- */

typedef struct Opt {
    int B, T, N, P, cell, act, target, threads, reps, warmup, steps;
    double noise;
    int table, task, tsv;
    int data_thread; /* DataThread (config.h), task mode */
    int n_set;
    const char *set[32]; /* --set key=value (task mode) */
} Opt;

static int enum_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_step [--B n] [--T n] [--N n] [--P n] [--cell name] [--act name] [--threads n]\n"
            "                  [--reps n] [--warmup n] [--noise sigma] [--format md|tsv]\n"
            "       bench_step --table [--format md|tsv]\n"
            "       bench_step --task [--N n] [--P n] [--target name] [--steps n] [--reps n] [--threads n]\n"
            "                  [--data-thread off|on] [--set key=value ...] [--format md|tsv]\n");
    exit(2);
}

static int parse(Opt *o, int argc, char **argv)
{
    *o = (Opt){.B = 200, .T = 20, .N = 512, .P = 512, .cell = CELL_LEAKY, .act = ACT_RELU, .target = TARGET_GAUSSIAN,
               .threads = 1,
               .reps = 10, .warmup = 2, .steps = 20, .noise = 0.0, .data_thread = DATA_THREAD_OFF};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define INTOPT(name, field)                                                                                  \
    if (strcmp(a, name) == 0) {                                                                              \
        if (!v) usage();                                                                                     \
        o->field = atoi(v);                                                                                  \
        i++;                                                                                                 \
        continue;                                                                                            \
    }
        INTOPT("--B", B)
        INTOPT("--T", T)
        INTOPT("--N", N)
        INTOPT("--P", P)
        INTOPT("--threads", threads)
        INTOPT("--reps", reps)
        INTOPT("--warmup", warmup)
        INTOPT("--steps", steps)
#undef INTOPT
        if (strcmp(a, "--noise") == 0 && v) {
            o->noise = atof(v);
            i++;
        } else if (strcmp(a, "--cell") == 0 && v) {
            if ((o->cell = enum_index(config_enum_CELL, v)) < 0) usage();
            i++;
        } else if (strcmp(a, "--target") == 0 && v) {
            if ((o->target = enum_index(config_enum_TARGET, v)) < 0) usage();
            i++;
        } else if (strcmp(a, "--act") == 0 && v) {
            if ((o->act = enum_index(config_enum_ACT, v)) < 0) usage();
            i++;
        } else if (strcmp(a, "--format") == 0 && v) {
            o->tsv = strcmp(v, "tsv") == 0;
            i++;
        } else if (strcmp(a, "--table") == 0) {
            o->table = 1;
        } else if (strcmp(a, "--task") == 0) {
            o->task = 1;
        } else if (strcmp(a, "--data-thread") == 0 && v) {
            if ((o->data_thread = enum_index(config_data_thread_names, v)) < 0 || o->data_thread == DATA_THREAD_AUTO)
                usage();
            i++;
        } else if (strcmp(a, "--set") == 0 && v && o->n_set < 32) {
            o->set[o->n_set++] = v;
            i++;
        } else {
            usage();
        }
    }
    if (o->B < 1 || o->T < 1 || o->N < 1 || o->P < 1 || o->threads < 1 || o->reps < 1 || o->warmup < 0 ||
        o->steps < 0)
        usage();
    return 0;
}

static void task_config(TaskConfig *cfg, const Opt *o)
{
    config_defaults(cfg);
    cfg->batch = o->B;
    cfg->seq_len = o->T;
    cfg->hidden = o->N;
    cfg->n_place = o->P;
    cfg->cell = o->cell;
    cfg->activation = o->act;
    cfg->target = o->target;
    cfg->threads = o->threads;
    cfg->noise = o->noise;
}

/* ---- the step benchmark --------------------------------------------- */

typedef struct StepResult {
    double step_ms, step_cpu_ms, sgemm_ms, sgemm_cpu_ms, data_ms, data_cpu_ms, flops;
    int n_gemm;
} StepResult;

/* The step benchmark's model and batch: allocated once by sb_alloc, run
 * by sb_run (any number of times; the first step of each run records its
 * sgemm calls, and replay() replays them on these buffers until sb_free),
 * released by sb_free (safe on a zeroed or freed StepBench). */
typedef struct StepBench {
    TaskConfig cfg;
    Arena arena;
    PlaceCells pc;
    Rnn net;
    Adam opt;
    TrajBatch tb;
    Rng r_traj, r_noise;
    float *target, *p0, *start, *noise; /* (B,T,D), (B,D), (B,2), (B,T,N) or NULL */
} StepBench;

static void sb_free(StepBench *sb)
{
    free(sb->target);
    free(sb->p0);
    free(sb->start);
    free(sb->noise);
    traj_free(&sb->tb);
    adam_free(&sb->opt);
    rnn_free(&sb->net);
    place_free(&sb->pc);
    memset(sb, 0, sizeof *sb);
}

/* At o's shapes, or at the settings *base when given (the task mode: the
 * same settings as the task).  Returns 0, or -1 (message printed). */
static int sb_alloc(StepBench *sb, const Opt *o, const TaskConfig *base)
{
    memset(sb, 0, sizeof *sb);
    TaskConfig *cfg = &sb->cfg;
    if (base)
        *cfg = *base;
    else
        task_config(cfg, o);
    const char *key;
    char msg[200];
    if (config_validate(cfg, &key, msg, sizeof msg) != 0) {
        fprintf(stderr, "bench_step: invalid setting %s: %s\n", key, msg);
        return -1;
    }
    openblas_set_num_threads(o->threads);
    Rng r_place, r_init;
    rng_seed(&r_place, (uint64_t)cfg->seed, RNG_PLACE);
    rng_seed(&r_init, (uint64_t)cfg->seed, RNG_INIT);
    rng_seed(&sb->r_traj, (uint64_t)cfg->seed, RNG_TRAIN_TRAJ);
    rng_seed(&sb->r_noise, (uint64_t)cfg->seed, RNG_TRAIN_NOISE);
    int B = cfg->batch, T = cfg->seq_len, N = cfg->hidden;
    if (arena_init(&sb->arena, cfg) != 0 || place_init(&sb->pc, cfg, &sb->arena, &r_place) != 0) goto fail;
    int D = place_dim(&sb->pc);
    if (rnn_alloc(&sb->net, cfg, D, B, T) != 0) goto fail;
    rnn_init(&sb->net, &r_init);
    if (adam_alloc(&sb->opt, sb->net.n_params, cfg->lr, cfg->beta1, cfg->beta2, cfg->eps) != 0) goto fail;
    if (traj_alloc(&sb->tb, B, T) != 0) goto fail;
    sb->target = malloc((size_t)B * T * D * sizeof *sb->target);
    sb->p0 = malloc((size_t)B * D * sizeof *sb->p0);
    sb->start = malloc((size_t)B * 2 * sizeof *sb->start);
    sb->noise = cfg->noise > 0 ? malloc((size_t)B * T * N * sizeof *sb->noise) : NULL;
    if (!sb->target || !sb->p0 || !sb->start || (cfg->noise > 0 && !sb->noise)) goto fail;
    return 0;
fail:
    fprintf(stderr, "bench_step: setup failed (N %d P %d B %d T %d)\n", N, cfg->n_place, B, T);
    sb_free(sb);
    return -1;
}

/* o->warmup + o->reps steps, each with its data made first (timed apart)
 * and followed by the sgemm-only replay of the first step's calls; the
 * medians of the last o->reps into *out. */
static int sb_run(StepBench *sb, const Opt *o, StepResult *out)
{
    const TaskConfig *cfg = &sb->cfg;
    int B = cfg->batch, T = cfg->seq_len, N = cfg->hidden, D = place_dim(&sb->pc);
    int rc = -1;
    int reps = o->reps, n_all = o->warmup + reps;
    double *t_step = calloc((size_t)reps, sizeof(double)), *c_step = calloc((size_t)reps, sizeof(double));
    double *t_gemm = calloc((size_t)reps, sizeof(double)), *c_gemm = calloc((size_t)reps, sizeof(double));
    double *t_data = calloc((size_t)reps, sizeof(double)), *c_data = calloc((size_t)reps, sizeof(double));
    if (!t_step || !c_step || !t_gemm || !c_gemm || !t_data || !c_data) goto done;

    for (int it = 0; it < n_all; it++) {
        /* data, as train.c makes it per step (timed apart) */
        double w0 = wall(), c0 = cpu();
        traj_generate(&sb->tb, &sb->arena, cfg, &sb->r_traj);
        for (int b = 0; b < B; b++)
            place_encode(&sb->pc, sb->tb.pos + ((size_t)b * (T + 1) + 1) * 2, (size_t)T,
                         sb->target + (size_t)b * T * D);
        feed_encode_starts(&sb->pc, &sb->tb, sb->start, sb->p0);
        if (sb->noise) rng_normal_fill(&sb->r_noise, sb->noise, (size_t)B * T * N, (float)cfg->noise);
        double wdata = wall() - w0, cdata = cpu() - c0;

        /* the step; the first one records its sgemm calls */
        if (it == 0) n_rec = 0;
        rec_on = it == 0;
        double c1 = cpu(), w1 = wall();
        float loss = rnn_forward(&sb->net, sb->p0, sb->tb.v, sb->target, sb->noise, B, T);
        if (rnn_backward(&sb->net) != 0) goto done;
        if (cfg->clip_norm > 0) grad_clip_norm(sb->net.grads, sb->net.n_params, (float)cfg->clip_norm);
        adam_step(&sb->opt, sb->net.params, sb->net.grads);
        double w2 = wall(), c2 = cpu();
        rec_on = 0;
        if (!isfinite(loss)) {
            fprintf(stderr, "bench_step: loss %g at repetition %d\n", (double)loss, it);
            goto done;
        }
        if (it == 0) out->n_gemm = n_rec; /* the list is kept until the next run */
        /* the same sgemm calls alone (they overwrite only outputs the next
         * step recomputes: h0, h, z, dh, dh0 and the gradients) */
        double c3 = cpu(), w3 = wall();
        replay();
        double w4 = wall(), c4 = cpu();
        if (it >= o->warmup) {
            int k = it - o->warmup;
            t_data[k] = wdata;
            c_data[k] = cdata;
            t_step[k] = w2 - w1;
            c_step[k] = c2 - c1;
            t_gemm[k] = w4 - w3;
            c_gemm[k] = c4 - c3;
        }
    }
    out->step_ms = 1e3 * median(t_step, reps);
    out->step_cpu_ms = 1e3 * median(c_step, reps);
    out->sgemm_ms = 1e3 * median(t_gemm, reps);
    out->sgemm_cpu_ms = 1e3 * median(c_gemm, reps);
    out->data_ms = 1e3 * median(t_data, reps);
    out->data_cpu_ms = 1e3 * median(c_data, reps);
    double Bd = B, Td = T, Nd = N, Pd = D;
    out->flops = 3.0 * (2.0 * Bd * Td * (Nd * Nd + Nd * Pd + 2 * Nd) + 2.0 * Bd * Pd * Nd);
    rc = 0;
done:
    if (rc != 0) fprintf(stderr, "bench_step: step failed (N %d P %d B %d T %d)\n", N, cfg->n_place, B, T);
    free(t_step);
    free(c_step);
    free(t_gemm);
    free(c_gemm);
    free(t_data);
    free(c_data);
    return rc;
}

/* The step benchmark once: sb_alloc, sb_run, sb_free. */
static int bench_step(const Opt *o, const TaskConfig *base, StepResult *out)
{
    StepBench sb;
    if (sb_alloc(&sb, o, base) != 0) return -1;
    int rc = sb_run(&sb, o, out);
    sb_free(&sb);
    return rc;
}

static void print_header(int tsv)
{
    if (tsv)
        printf("N\tP\tB\tT\tcell\tthreads\treps\tstep_ms\tstep_cpu_ms\tgflops\tsgemm_ms\tsgemm_cpu_ms\tratio\t"
               "ratio_cpu\tdata_ms\tn_gemm\tdata_cpu_ms\n");
    else
        printf("| N | P | B | T | cell | thr | reps | step ms (cpu) | GFLOP/s | sgemm-only ms (cpu) | "
               "step / sgemm (cpu) | + data ms (cpu) |\n"
               "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
}

static void print_row(const Opt *o, const StepResult *r, int tsv)
{
    const char *cell = config_enum_CELL[o->cell];
    if (tsv)
        printf("%d\t%d\t%d\t%d\t%s\t%d\t%d\t%.3f\t%.3f\t%.2f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%.3f\n", o->N, o->P,
               o->B, o->T, cell, o->threads, o->reps, r->step_ms, r->step_cpu_ms, r->flops / (r->step_ms * 1e6),
               r->sgemm_ms, r->sgemm_cpu_ms, r->step_ms / r->sgemm_ms, r->step_cpu_ms / r->sgemm_cpu_ms, r->data_ms,
               r->n_gemm, r->data_cpu_ms);
    else
        printf("| %d | %d | %d | %d | %s | %d | %d | %.2f (%.2f) | %.1f | %.2f (%.2f) | %.2f (%.2f) | %.2f (%.2f) |\n", o->N,
               o->P, o->B, o->T, cell, o->threads, o->reps, r->step_ms, r->step_cpu_ms,
               r->flops / (r->step_ms * 1e6), r->sgemm_ms, r->sgemm_cpu_ms, r->step_ms / r->sgemm_ms,
               r->step_cpu_ms / r->sgemm_cpu_ms, r->data_ms, r->data_cpu_ms);
    fflush(stdout);
}

/* ---- the task benchmark: time split, sgemm bound, memory ------------- */

/* Reset this process's VmHWM to its current RSS (Linux >= 4.0:
 * "5" to /proc/self/clear_refs).  Returns 0, or -1 if not possible. */
static int reset_hwm(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return -1;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static const char *const phase_name[TASK_N_PHASES] = {"data", "step", "log", "eval", "ratemap", "score", "null",
                                                      "replay", "setup"};

/* The sgemm-only step sampled during the task, so that the bound sees
 * the machine the task saw (on a shared machine the sgemm-only step moves
 * by several per cent within minutes).  TaskHooks.tick, at most once a
 * second between training steps: replay the step benchmark's recorded
 * calls twice and time the second (the first brings their operands back
 * into cache, as the back-to-back replays around the task have them).
 * The ticks' own time is taken out of the task's and of its setup phase,
 * where train.c counts the step boundary's hooks. */
enum { INSIDE_MAX = 1 << 14 };
typedef struct Inside {
    int n;
    double w[INSIDE_MAX], c[INSIDE_MAX]; /* s, wall and CPU, of one replay */
    double spent_w, spent_c;             /* s in the ticks, both replays */
} Inside;

static void inside_tick(void *ctx, int steps_done, double steps_per_s)
{
    Inside *in = ctx;
    double w0 = wall(), c0 = cpu();
    replay();
    double w1 = wall(), c1 = cpu();
    replay();
    double w2 = wall(), c2 = cpu();
    if (in->n < INSIDE_MAX) {
        in->w[in->n] = w2 - w1;
        in->c[in->n] = c2 - c1;
        in->n++;
    }
    in->spent_w += w2 - w0;
    in->spent_c += c2 - c0;
}

/* One task_run at the settings of o, timed by phase (TaskHooks.times),
 * between two halves of the step benchmark at the same settings (its
 * sgemm-only replay gives the bound: steps x sgemm-only time of a step).
 * VmHWM is reset before the task, so the peak is the task's. */
static int bench_task(const Opt *o)
{
    TaskConfig cfg;
    config_defaults(&cfg);
    task_config(&cfg, o);
    cfg.steps = o->steps;
    cfg.log_every = o->steps > 0 ? o->steps : 1;
    for (int i = 0; i < o->n_set; i++) {
        char key[64];
        const char *eq = strchr(o->set[i], '=');
        size_t kl = eq ? (size_t)(eq - o->set[i]) : 0;
        const SettingDesc *d = NULL;
        if (eq && kl < sizeof key) {
            memcpy(key, o->set[i], kl);
            key[kl] = 0;
            d = config_find(key);
        }
        if (!d || d->kind == KIND_ENUM) {
            fprintf(stderr, "bench_step: --set %s: not a numeric setting key=value\n", o->set[i]);
            return -1;
        }
        config_set(&cfg, d, atof(eq + 1));
    }
    /* the step benchmark, first half (also warms OpenBLAS up); its model
     * stays allocated for the samples taken during the task */
    Opt so = *o;
    so.reps = o->reps > 1 ? o->reps / 2 : 1;
    StepResult s1, s2;
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    StepBench sb;
    static Inside in; /* 256 KB of samples: not on the stack */
    if (sb_alloc(&sb, o, &cfg) != 0) return -1;
    if (sb_run(&sb, &so, &s1) != 0) {
        sb_free(&sb);
        return -1;
    }

    int hwm_reset = reset_hwm() == 0;
    long hwm0 = proc_status_kb("VmHWM");
    TaskResult res;
    if (result_alloc(&res, &cfg) != 0) {
        sb_free(&sb);
        return -1;
    }
    TaskTimes tt;
    memset(&tt, 0, sizeof tt);
    memset(&in, 0, sizeof in);
    TaskHooks hooks = {.times = &tt, .data_thread = o->data_thread, .tick = inside_tick, .ctx = &in, .tick_every = 1.0};
    double l0 = 0, l1 = 0;
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf", &l0) != 1) l0 = -1;
        fclose(la);
    }
    double w0 = wall(), c0 = cpu();
    int rc = task_run(&cfg, &res, &hooks);
    double task_w = wall() - w0 - in.spent_w, task_c = cpu() - c0 - in.spent_c;
    tt.wall[TASK_PH_SETUP] -= in.spent_w;
    tt.cpu[TASK_PH_SETUP] -= in.spent_c;
    long hwm1 = proc_status_kb("VmHWM");
    if (rc != 0 || res.status != TASK_DONE) {
        fprintf(stderr, "bench_step: task failed: %s\n", res.message);
        result_free(&res);
        sb_free(&sb);
        return -1;
    }
    result_free(&res);
    long rss_left = proc_status_kb("VmRSS");
    la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf", &l1) != 1) l1 = -1;
        fclose(la);
    }
    /* second half of the step benchmark */
    so.reps = o->reps - so.reps > 0 ? o->reps - so.reps : 1;
    so.warmup = 1;
    rc = sb_run(&sb, &so, &s2);
    sb_free(&sb);
    if (rc != 0) return -1;
    double sg_c = 0.5 * (s1.sgemm_cpu_ms + s2.sgemm_cpu_ms) * 1e-3; /* s per step */
    double sg_w = 0.5 * (s1.sgemm_ms + s2.sgemm_ms) * 1e-3;
    double st_c = 0.5 * (s1.step_cpu_ms + s2.step_cpu_ms) * 1e-3;
    double bound_c = cfg.steps * sg_c, bound_w = cfg.steps * sg_w;
    /* the bound from the samples taken during the task (none in a task
     * shorter than a second: then the one around it) */
    int n_in = in.n;
    double in_w = n_in > 0 ? median(in.w, n_in) : sg_w, in_c = n_in > 0 ? median(in.c, n_in) : sg_c;
    double bin_c = cfg.steps * in_c, bin_w = cfg.steps * in_w;

    /* the model's own memory, the denominator: params + grads + Adam m, v
     * (4 n_params floats) and the BPTT cache for the training shape
     * (B, T): (3N + 2D + 2) B T + (7N + D) B floats (docs/model-rnn.md;
     * padding of each view to 64 bytes left out). */
    double N = cfg.hidden, D = cfg.target == TARGET_CARTESIAN ? 2 : cfg.n_place, B = cfg.batch, T = cfg.seq_len;
    double n_params = N * D + 2 * N + N * N + D * N;
    double params_b = 4.0 * n_params * 4;
    double cache_train_b = 4.0 * ((3 * N + 2 * D + 2) * B * T + (7 * N + D) * B);
    double mem_ratio = (hwm1 - hwm0) * 1024.0 / (params_b + cache_train_b);

    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    if (o->tsv) {
        printf("N\tP\ttarget\tsteps\tratemap_traj\ttask_wall_s\ttask_cpu_s");
        for (int p = 0; p < TASK_N_PHASES; p++) printf("\t%s_wall_s\t%s_cpu_s", phase_name[p], phase_name[p]);
        printf("\tsgemm_step_ms\tsgemm_step_cpu_ms\tstep_alone_cpu_ms\tbound_cpu_s\tratio_cpu\tratio_wall\t"
               "hwm_mb\tmodel_mb\tmem_ratio\tload0\tload1\tdata_thread\tdata_thread_cpu_s\t"
               "sgemm_inside_ms\tsgemm_inside_cpu_ms\tn_inside\tratio_inside_cpu\tratio_inside_wall\n");
        printf("%d\t%d\t%s\t%d\t%d\t%.3f\t%.3f", cfg.hidden, cfg.n_place, config_enum_TARGET[cfg.target], cfg.steps,
               cfg.ratemap_trajectories, task_w, task_c);
        for (int p = 0; p < TASK_N_PHASES; p++) printf("\t%.3f\t%.3f", tt.wall[p], tt.cpu[p]);
        printf("\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.1f\t%.1f\t%.2f\t%.2f\t%.2f\t%s\t%.3f", sg_w * 1e3,
               sg_c * 1e3, st_c * 1e3, bound_c, task_c / bound_c, task_w / bound_w, (hwm1 - hwm0) / 1024.0,
               (params_b + cache_train_b) / 1048576.0, mem_ratio, l0, l1, config_data_thread_names[o->data_thread],
               tt.data_thread_cpu);
        printf("\t%.3f\t%.3f\t%d\t%.3f\t%.3f\n", in_w * 1e3, in_c * 1e3, n_in, task_c / bin_c, task_w / bin_w);
        return 0;
    }
    printf("bench_step --task: %s, N %d, P %d (%s), B %d, T %d, %d steps, %d rate-map trajectories, %d shuffles, "
           "replay %s, threads %d, data thread %s; load average %.2f before, %.2f after\n\n",
           when, cfg.hidden, cfg.n_place, config_enum_TARGET[cfg.target], cfg.batch, cfg.seq_len, cfg.steps,
           cfg.ratemap_trajectories, cfg.null_shuffles, cfg.replay ? "on" : "off", cfg.threads,
           config_data_thread_names[o->data_thread], l0, l1);
    printf("| phase | wall s | cpu s | share of cpu | cpu ms per training step |\n|---|---|---|---|---|\n");
    for (int p = 0; p < TASK_N_PHASES; p++)
        printf("| %s | %.3f | %.3f | %.1f%% | %.3f |\n", phase_name[p], tt.wall[p], tt.cpu[p],
               100.0 * tt.cpu[p] / task_c, cfg.steps > 0 ? 1e3 * tt.cpu[p] / cfg.steps : 0.0);
    printf("| **task** | %.3f | %.3f | 100%% | %.3f |\n", task_w, task_c,
           cfg.steps > 0 ? 1e3 * task_c / cfg.steps : 0.0);
    printf("\nsgemm-only replay of one training step: %.3f ms (cpu %.3f; step alone %.3f cpu), medians of 2 x %d "
           "repetitions around the task\n",
           sg_w * 1e3, sg_c * 1e3, st_c * 1e3, so.reps);
    printf("bound = %d steps x sgemm-only = %.3f s (cpu %.3f)\n", cfg.steps, bound_w, bound_c);
    printf("task / bound: %.3f (cpu %.3f)\n", task_w / bound_w, task_c / bound_c);
    if (n_in > 0)
        printf("sgemm-only during the task: %.3f ms (cpu %.3f), median of %d samples, one a second at most (their "
               "%.3f s taken out of the task and its setup phase): task / bound during the task %.3f (cpu %.3f)\n",
               in_w * 1e3, in_c * 1e3, n_in, in.spent_w, task_w / bin_w, task_c / bin_c);
    else
        printf("sgemm-only during the task: no sample (the training took under a second)\n");
    if (o->data_thread == DATA_THREAD_ON)
        printf("data thread: %.3f s cpu making batches (%.3f ms a step); the data row is the training loop's wait "
               "for them\n",
               tt.data_thread_cpu, cfg.steps > 0 ? 1e3 * tt.data_thread_cpu / cfg.steps : 0.0);
    printf("memory: VmHWM %.1f MB (%s%.1f MB before the task; RSS %.1f MB after it freed), model (params + grads "
           "+ Adam + BPTT cache) %.1f MB, (HWM - before) / model = %.2f\n",
           hwm1 / 1024.0, hwm_reset ? "reset to " : "not reset: ", hwm0 / 1024.0, rss_left / 1024.0,
           (params_b + cache_train_b) / 1048576.0, mem_ratio);
    return 0;
}

int main(int argc, char **argv)
{
    Opt o;
    parse(&o, argc, argv);
    sgemm_resolve();
    if (o.task) return bench_task(&o) == 0 ? 0 : 1;
    if (!o.tsv) {
        time_t now = time(NULL);
        char when[64];
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", gmtime(&now));
        printf("bench_step: %s, OpenBLAS %s (core %s)\n\n", when, openblas_get_config(), openblas_get_corename());
    }
    print_header(o.tsv);
    if (o.table) {
        static const int rows[][4] = {{128, 256, 20, 3}, {512, 512, 10, 2}, {1024, 512, 6, 1}, {4096, 512, 3, 1}};
        for (int i = 0; i < 4; i++) {
            Opt r = o;
            r.B = 200, r.T = 20, r.cell = CELL_LEAKY, r.act = ACT_RELU;
            r.N = rows[i][0], r.P = rows[i][1], r.reps = rows[i][2], r.warmup = rows[i][3];
            StepResult s;
            memset(&s, 0, sizeof s);
            if (bench_step(&r, NULL, &s) != 0) return 1;
            print_row(&r, &s, o.tsv);
        }
        return 0;
    }
    StepResult s;
    memset(&s, 0, sizeof s);
    if (bench_step(&o, NULL, &s) != 0) return 1;
    print_row(&o, &s, o.tsv);
    return 0;
}
