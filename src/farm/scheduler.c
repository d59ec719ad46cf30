/* scheduler.c -- rank 0's scheduling, signals and progress.
 *
 * The messages and the way ranks wait for them are msg.h's; the workers'
 * side is worker.c.  Rank 0 keeps one posted MPI_Irecv for the next report
 * from any worker and answers each with the worker's next assignment.
 */
#include "farm/scheduler.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <unistd.h>

#include "base/result.h"
#include "farm/msg.h"
#include "farm/worker.h"
#include "io/check.h"
#include "io/ckpt.h"
#include "task/train.h"

#define NAP_SCHED_MAX_NS 4000000L    /* rank 0's cap: 4 ms (idle: ~250 wake-ups/s) */

/* ---- signals ------------------------------------------------------------ */

_Static_assert(_Generic((sig_atomic_t)0, int: 1, default: 0), "sig_atomic_t must be int (TaskHooks.stop)");

static volatile sig_atomic_t sig_level;   /* SchedLevel reached by signals */
static volatile sig_atomic_t sig_first;   /* number of the first signal */
static volatile sig_atomic_t stop_flag;   /* what task_run polls */

static void on_signal(int sig)
{
    if (!sig_first) sig_first = sig;
    if (sig == SIGUSR1 || sig == SIGUSR2) {
        if (sig_level >= SCHED_DRAIN) {
            sig_level = SCHED_STOP;
            stop_flag = 1;
        } else {
            sig_level = SCHED_DRAIN;
        }
        return;
    }
    if (sig == SIGINT && sig_level == SCHED_STOP) {
        /* a second Ctrl-C: the user wants out now */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGINT, &dfl, NULL);
        raise(SIGINT);
        return;
    }
    sig_level = SCHED_STOP;
    stop_flag = 1;
}

void sched_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

int sched_signal_level(void) { return sig_level; }

const char *sched_signal_name(void)
{
    switch (sig_first) {
    case 0: return "";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return "signal";
    }
}

volatile int *sched_stop_flag(void) { return (volatile int *)&stop_flag; }

/* ---- small helpers -------------------------------------------------------- */

static double cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return NAN;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

typedef struct CostRow {
    double cost;
    int id, row;
} CostRow;

static int cmp_cost(const void *a, const void *b)
{
    const CostRow *x = a, *y = b;
    if (x->cost > y->cost) return -1;
    if (x->cost < y->cost) return 1;
    return (x->id > y->id) - (x->id < y->id);
}

void sched_order(const Spec *spec, const H5Out *out, int *rows, int n)
{
    CostRow *c = malloc((n ? (size_t)n : 1) * sizeof *c);
    if (!c) sweep_fatal(__FILE__, __LINE__, "out of memory ordering %d tasks", n);
    for (int i = 0; i < n; i++) {
        c[i].row = rows[i];
        c[i].id = h5out_task_id(out, rows[i]);
        c[i].cost = task_cost(&spec->tasks[c[i].id]);
    }
    qsort(c, (size_t)n, sizeof *c, cmp_cost);
    for (int i = 0; i < n; i++) rows[i] = c[i].row;
    free(c);
}

/* ---- progress (rank 0) ---------------------------------------------------- */

/* Progress in work, not in tasks: a task's work is task_cost, of which
 * the training part (task_cost_train) accrues step by step, as the workers
 * report their steps (MSG_REPORT_STEPS), and the rest when it finishes.
 *   work done  = rows finished before this run + checkpointed work found at
 *                the start + finished and checkpointed work of this run +
 *                the steps of the running tasks
 *   rate       = work of this run / seconds of this run
 *   ETA        = (work of the sweep - work done) / rate
 * so the ETA is there as soon as a worker has reported steps, long before
 * the first task finishes. */
typedef struct Progress {
    const SchedOptions *opt;
    int tty;
    double last;               /* MPI_Wtime of the last line */
    int n_rows, n_before, n_todo;
    int done, diverged, failed, abandoned, checkpointed, running, next;
    int resumable;             /* rows with a checkpoint at the start */
    double work_all;           /* task_cost of every row of the file */
    double work_before;        /* rows finished before this run + their checkpoints' work */
    double work_run;           /* finished or checkpointed in this run */
    const double *cost;        /* (n_todo) task_cost of order[i] */
    const double *per_step;    /* (n_todo) task_cost_train / (steps + 1) of order[i] */
    const int *pre_step;       /* (n_todo) steps of order[i]'s checkpoint at the start (0: none) */
    int *steps_run;            /* (ranks) steps the running task of each rank took in this run */
    int *busy;                 /* (ranks) index into order of each rank's task, or -1 */
    int size;
    const char *task_line;     /* extra text (one-rank mode: current task) */
} Progress;

/* Work of the running tasks in this run. */
static double work_running(const Progress *p)
{
    double w = 0;
    for (int r = 0; r < p->size; r++)
        if (p->busy[r] >= 0) w += p->per_step[p->busy[r]] * p->steps_run[r];
    return w;
}

/* Account for order[i] leaving the running set with status st; ckpt_step:
 * its checkpoint's step when left pending (-1: none). */
static void progress_finish(Progress *p, int i, int st, int ckpt_step)
{
    double pre = p->per_step[i] * p->pre_step[i];
    if (st != TASK_PENDING)
        p->work_run += p->cost[i] - pre;
    else if (ckpt_step > p->pre_step[i])
        p->work_run += p->per_step[i] * (ckpt_step - p->pre_step[i]);
    if (st == TASK_PENDING && ckpt_step >= 0) p->checkpointed++;
}

static void progress_print(Progress *p, int final)
{
    double now = MPI_Wtime();
    double every = p->tty ? 0.5 : (p->opt->progress_every > 0 ? p->opt->progress_every : 30);
    if (!final && now - p->last < every) return;
    p->last = now;
    double el = now - p->opt->t0;
    double run = p->work_run + work_running(p);
    double done = p->work_before + run, rate = el > 0 ? run / el : 0;
    double eta = rate > 0 ? (p->work_all - done) / rate : NAN;
    char e1[32], e2[32], line[640], work[96];
    int left = p->n_todo - p->next + p->abandoned;   /* abandoned tasks are left pending */
    if (p->work_all > 0)
        snprintf(work, sizeof work, " | work %.1f%% (%.2f%%/min)", 100.0 * done / p->work_all,
                 6000.0 * rate / p->work_all);
    else
        work[0] = 0;
    snprintf(line, sizeof line, "%d/%d done (%d diverged, %d failed), %d running, %d left%s | %s elapsed, ETA %s%s%s",
             p->n_before + p->done + p->diverged, p->n_rows, p->diverged, p->failed, p->running, left, work,
             sweep_hms(el, e1, sizeof e1), p->running + left == 0 ? "0:00" : sweep_hms(eta, e2, sizeof e2),
             p->task_line ? " | " : "", p->task_line ? p->task_line : "");
    if (p->tty) {
        fprintf(stderr, "\r\033[Ksweep: %s%s", line, final ? "\n" : "");
    } else {
        fprintf(stderr, "sweep: %s\n", line);
    }
    fflush(stderr);
}

/* Worker.on_step with one rank: the running task on the progress line. */
static void progress_step(void *ctx, int task_id, int step, int steps, float loss, float err_cm,
                          double steps_per_s)
{
    Progress *p = ctx;
    char line[160];
    snprintf(line, sizeof line, "task %d step %d/%d loss %.4g err %.2f cm %.0f steps/s", task_id, step, steps,
             (double)loss, (double)err_cm, steps_per_s);
    p->task_line = line;
    progress_print(p, 0);
    p->task_line = NULL;
}

/* Worker.on_tick with one rank: the running task's steps. */
static void progress_tick(void *ctx, int task_id, int steps_run)
{
    Progress *p = ctx;
    p->steps_run[0] = steps_run;
    progress_print(p, 0);
}

/* ---- the loops ------------------------------------------------------------ */

static int level_now(const SchedOptions *opt, char *reason, size_t len)
{
    int lv = sig_level;
    if (lv && !reason[0]) snprintf(reason, len, "%s", sched_signal_name());
    if (opt->time_limit > 0 && MPI_Wtime() - opt->t0 >= opt->time_limit) {
        if (!reason[0]) snprintf(reason, len, "time limit (%g s)", opt->time_limit);
        if (lv < SCHED_DRAIN) lv = SCHED_DRAIN;
    }
    return lv;
}

static void count(Progress *p, int status)
{
    if (status == TASK_DONE) p->done++;
    else if (status == TASK_DIVERGED) p->diverged++;
    else if (status == TASK_FAILED) p->failed++;
    else p->abandoned++;
}

/* One rank: schedule and work, in this process. */
static void run_alone(Worker *w, const Spec *spec, H5Out *out, const int *order, Progress *p, char *reason,
                      size_t rlen)
{
    w->on_step = progress_step;
    w->on_tick = progress_tick;
    w->step_ctx = p;
    while (p->next < p->n_todo) {
        if (level_now(p->opt, reason, rlen) != SCHED_RUN) break;
        int i = p->next++;
        double wall;
        p->running = 1;
        p->busy[0] = i;
        p->steps_run[0] = 0;
        int st = worker_run_row(w, spec, out, order[i], &wall);
        p->running = 0;
        p->busy[0] = -1;
        count(p, st);
        progress_finish(p, i, st, st == TASK_PENDING ? w->ckpt_step : -1);
        progress_print(p, 0);
    }
    level_now(p->opt, reason, rlen);
}

/* Rank 0 of several: answer every report with the next assignment until
 * every worker has had its quit (msg.h). */
static void run_scheduler(const MsgTypes *types, const int *order, Progress *p, char *reason, size_t rlen,
                          MPI_Comm comm, int size)
{
    int *busy = p->busy;
    int active = size - 1, abandon_sent = 0, drain_sent = 0, level = SCHED_RUN;
    long ns = MSG_NAP_MIN_NS;
    MsgReport rep;
    MPI_Request req;
    CHECK_MPI(MPI_Irecv(&rep, 1, types->report, MPI_ANY_SOURCE, MSG_TAG_REPORT, comm, &req));
    while (active > 0) {
        int lv = level_now(p->opt, reason, rlen);
        if (lv > level) level = lv;
        /* a drain, then a stop, each told once to the busy workers */
        if ((level == SCHED_DRAIN && !drain_sent) || (level == SCHED_STOP && !abandon_sent)) {
            int kind = level == SCHED_STOP ? MSG_CMD_ABANDON : MSG_CMD_DRAIN;
            for (int r = 1; r < size; r++) {
                if (busy[r] < 0) continue;
                MsgCmd cmd = {.kind = kind, .row = order[busy[r]]};
                CHECK_MPI(MPI_Send(&cmd, 1, types->cmd, r, MSG_TAG_CMD, comm));
            }
            drain_sent = 1;
            if (level == SCHED_STOP) abandon_sent = 1;
        }
        int flag = 0;
        MPI_Status ms;
        CHECK_MPI(MPI_Test(&req, &flag, &ms));
        if (!flag) {
            progress_print(p, 0);
            msg_nap(&ns, NAP_SCHED_MAX_NS);
            continue;
        }
        ns = MSG_NAP_MIN_NS;
        int w = ms.MPI_SOURCE;
        int expect = busy[w] >= 0 ? order[busy[w]] : -1;
        if (rep.row != expect || (rep.kind != MSG_REPORT_ROW && rep.kind != MSG_REPORT_STEPS) ||
            (rep.kind == MSG_REPORT_STEPS && expect < 0))
            sweep_fatal(__FILE__, __LINE__, "scheduler protocol: rank %d reported (kind %d) row %d, assigned %d", w,
                        (int)rep.kind, (int)rep.row, expect);
        if (rep.signal_level > level) {
            level = rep.signal_level;
            if (!reason[0]) snprintf(reason, rlen, "a signal to rank %d", w);
        }
        if (rep.kind == MSG_REPORT_STEPS) {
            /* progress of a running task: no reply */
            p->steps_run[w] = rep.steps_done;
            CHECK_MPI(MPI_Irecv(&rep, 1, types->report, MPI_ANY_SOURCE, MSG_TAG_REPORT, comm, &req));
            progress_print(p, 0);
            continue;
        }
        if (busy[w] >= 0) {
            int i = busy[w];
            busy[w] = -1;
            p->steps_run[w] = 0;
            p->running--;
            count(p, rep.status);
            progress_finish(p, i, rep.status, rep.ckpt_step);
        }
        MsgCmd cmd = {.kind = MSG_CMD_ASSIGN, .row = -1};
        if (level == SCHED_RUN && p->next < p->n_todo) {
            p->steps_run[w] = 0;
            busy[w] = p->next;
            cmd.row = order[p->next++];
            p->running++;
        } else {
            active--;
        }
        CHECK_MPI(MPI_Send(&cmd, 1, types->cmd, w, MSG_TAG_CMD, comm));
        if (active > 0) CHECK_MPI(MPI_Irecv(&rep, 1, types->report, MPI_ANY_SOURCE, MSG_TAG_REPORT, comm, &req));
    }
    /* every worker has had its quit: no report is left to match req */
}

int sched_run(const Spec *spec, H5Out *out, const int *todo, int n_todo, const SchedOptions *opt, MPI_Comm comm,
              SchedStats *st)
{
    int rank, size;
    CHECK_MPI(MPI_Comm_rank(comm, &rank));
    CHECK_MPI(MPI_Comm_size(comm, &size));
    memset(st, 0, sizeof *st);
    stop_flag = sig_level == SCHED_STOP;
#ifdef __linux__
    /* short naps must be short: the default timer slack (50 us) would round
     * every nap of the adaptive poll up to 50 us */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
#endif
    MsgTypes types;
    msg_types_create(&types);
    Worker w = {.comm = comm,
                .rank = rank,
                .size = size,
                .types = &types,
                .stop = sched_stop_flag(),
                .signal_level = sched_signal_level,
                .on_step = NULL,
                .on_tick = NULL,
                .step_ctx = NULL,
                .ckpt_dir = opt->ckpt_dir,
                .checkpoint_every = opt->checkpoint_every,
                .stop_grace = opt->stop_grace,
                .drain_at = opt->time_limit > 0 ? opt->t0 + opt->time_limit : 0,
                .data_thread = spec->data_thread,
                .cores = worker_cores(comm),
                .id = -1,
                .steps = 0,
                .row = -1,
                .ckpt_step = -1};
    double t_start = MPI_Wtime(), cpu_start = cpu_seconds();
    if (rank == 0) {
        size_t nt = n_todo ? (size_t)n_todo : 1;
        int n_rows = h5out_n_rows(out);
        int *order = malloc(nt * sizeof *order), *pre = calloc(nt, sizeof *pre);
        double *cost = malloc(nt * sizeof *cost), *per = malloc(nt * sizeof *per);
        int *busy = malloc((size_t)size * sizeof *busy), *steps_run = calloc((size_t)size, sizeof *steps_run);
        if (!order || !pre || !cost || !per || !busy || !steps_run) sweep_fatal(__FILE__, __LINE__, "out of memory");
        memcpy(order, todo, (size_t)n_todo * sizeof *order);
        sched_order(spec, out, order, n_todo);
        for (int r = 0; r < size; r++) busy[r] = -1;
        Progress p;
        memset(&p, 0, sizeof p);
        p.opt = opt;
        p.tty = isatty(STDERR_FILENO);
        p.last = MPI_Wtime();
        p.n_rows = n_rows;
        p.n_todo = n_todo;
        p.n_before = n_rows - n_todo;
        p.cost = cost;
        p.per_step = per;
        p.pre_step = pre;
        p.busy = busy;
        p.steps_run = steps_run;
        p.size = size;
        for (int r = 0; r < n_rows; r++) p.work_all += task_cost(&spec->tasks[h5out_task_id(out, r)]);
        /* rows not to run are done or diverged (failed ones are re-run);
         * rows to run count with the work of their checkpoints */
        p.work_before = p.work_all;
        for (int i = 0; i < n_todo; i++) {
            int id = h5out_task_id(out, order[i]);
            const TaskConfig *c = &spec->tasks[id];
            double ts;
            cost[i] = task_cost(c);
            per[i] = task_cost_train(c) / (c->steps + 1.0);
            if (opt->ckpt_dir && ckpt_peek(opt->ckpt_dir, id, &pre[i], &ts) == 0) {
                pre[i] = pre[i] < c->steps ? pre[i] : c->steps;
                p.resumable++;
            } else {
                pre[i] = 0;
            }
            p.work_before -= cost[i] - per[i] * pre[i];
        }
        if (p.resumable)
            fprintf(stderr, "sweep: %d task%s continue%s from checkpoints in %s\n", p.resumable,
                    p.resumable == 1 ? "" : "s", p.resumable == 1 ? "s" : "", opt->ckpt_dir);
        if (size == 1)
            run_alone(&w, spec, out, order, &p, st->stop_reason, sizeof st->stop_reason);
        else
            run_scheduler(&types, order, &p, st->stop_reason, sizeof st->stop_reason, comm, size);
        progress_print(&p, 1);   /* on a terminal, overwrites the in-place line */
        st->n_rows = h5out_n_rows(out);
        st->n_before = p.n_before;
        st->n_todo = n_todo;
        st->done = p.done;
        st->diverged = p.diverged;
        st->failed = p.failed;
        st->abandoned = p.abandoned;
        st->checkpointed = p.checkpointed;
        st->not_started = n_todo - p.next;
        st->stopped = st->not_started > 0 || st->abandoned > 0;
        st->wall_s = MPI_Wtime() - t_start;
        st->cpu0_s = cpu_seconds() - cpu_start;
        free(order);
        free(pre);
        free(cost);
        free(per);
        free(busy);
        free(steps_run);
    } else {
        worker_run(&w, spec, out);
    }
    CHECK_MPI(MPI_Bcast(st, (int)sizeof *st, MPI_BYTE, 0, comm));
    msg_types_free(&types);
    return 0;
}
