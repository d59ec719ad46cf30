/* worker.c -- a worker: runs the rows rank 0 hands it and writes them. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "farm/worker.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/result.h"
#include "io/check.h"
#include "io/ckpt.h"
#include "task/train.h"

#define NAP_WORKER_MAX_NS 500000L   /* a worker waiting for its assignment: 0.5 ms cap */

/* Take a command that arrived while a row runs: an abandon stops it, a
 * drain marks it (worker_tick decides). */
static void poll_commands(Worker *w)
{
    for (;;) {
        int flag = 0;
        CHECK_MPI(MPI_Iprobe(0, MSG_TAG_CMD, w->comm, &flag, MPI_STATUS_IGNORE));
        if (!flag) return;
        MsgCmd cmd;
        CHECK_MPI(MPI_Recv(&cmd, 1, w->types->cmd, 0, MSG_TAG_CMD, w->comm, MPI_STATUS_IGNORE));
        if (cmd.kind != MSG_CMD_ABANDON && cmd.kind != MSG_CMD_DRAIN)
            sweep_fatal(__FILE__, __LINE__, "scheduler protocol: command %d while running a task", (int)cmd.kind);
        if (cmd.row != w->row)
            sweep_fatal(__FILE__, __LINE__, "scheduler protocol: command %d for row %d while running row %d",
                        (int)cmd.kind, (int)cmd.row, w->row);
        if (cmd.kind == MSG_CMD_ABANDON)
            *w->stop = 1;
        else
            w->drain = 1;
    }
}

/* The drain decision for the running row, made once: with checkpoints, a
 * row expected to need more than stop_grace seconds (its remaining steps
 * and evaluation at this run's speed; the evaluation counted as its share
 * of task_cost in training steps) is checkpointed and stopped. */
static void drain_decide(Worker *w, int steps_done, double steps_per_s)
{
    w->decided = 1;
    if (!w->ckpt_dir) return; /* nothing would keep its work: let it finish */
    double train = task_cost_train(w->cfg), all = task_cost(w->cfg);
    double eval_steps = train > 0 ? (all - train) / train * (w->steps + 1.0) : 0.0;
    double left = steps_per_s > 0 ? ((double)(w->steps - steps_done) + eval_steps) / steps_per_s : INFINITY;
    char a[32], b[32];
    if (left > w->stop_grace) {
        *w->stop = 1;
        sweep_log("task %d: drain: about %s left (stop_grace %s): checkpointing it at step %d and stopping", w->id,
                  sweep_hms(left, a, sizeof a), sweep_hms(w->stop_grace, b, sizeof b), steps_done);
    } else {
        sweep_log("task %d: drain: finishing it (about %s left, stop_grace %s)", w->id, sweep_hms(left, a, sizeof a),
                  sweep_hms(w->stop_grace, b, sizeof b));
    }
}

static void send_steps(Worker *w)
{
    MsgReport rep = {.kind = MSG_REPORT_STEPS,
                     .row = w->row,
                     .status = TASK_PENDING,
                     .signal_level = w->signal_level(),
                     .steps_done = w->steps_now - w->steps_start,
                     .ckpt_step = w->ckpt_step,
                     .wall_s = 0};
    CHECK_MPI(MPI_Send(&rep, 1, w->types->report, 0, MSG_TAG_REPORT, w->comm));
    w->last_report = MPI_Wtime();
}

/* TaskHooks.tick, every WORKER_TICK_S of training: commands, the drain
 * decision, progress. */
static void on_tick(void *ctx, int steps_done, double steps_per_s)
{
    Worker *w = ctx;
    w->steps_now = steps_done;
    if (w->size > 1) poll_commands(w);
    if (!w->drain && (w->signal_level() >= 1 /* SCHED_DRAIN */ || (w->drain_at > 0 && MPI_Wtime() >= w->drain_at)))
        w->drain = 1;
    if (w->drain && !w->decided && !*w->stop) drain_decide(w, steps_done, steps_per_s);
    if (w->size > 1 && MPI_Wtime() - w->last_report >= WORKER_REPORT_S) send_steps(w);
    if (w->size == 1 && w->on_tick) w->on_tick(w->step_ctx, w->id, steps_done - w->steps_start);
}

/* TaskHooks.progress, at every logged point: with one rank, the progress
 * line; with several, a look for commands. */
static void on_progress(void *ctx, int step, float loss, float err_cm, double steps_per_s)
{
    Worker *w = ctx;
    if (w->size > 1) {
        poll_commands(w);
        return;
    }
    if (w->on_step) w->on_step(w->step_ctx, w->id, step, w->steps, loss, err_cm, steps_per_s);
}

/* TaskHooks.save: the running row's checkpoint. */
static int on_save(void *ctx, const TaskState *st, const TaskResult *res)
{
    Worker *w = ctx;
    char err[1024];
    long long bytes = 0;
    if (ckpt_write(w->ckpt_dir, w->id, w->hash, w->cfg, st, res, &bytes, err, sizeof err) != 0) {
        if (!w->ckpt_warned)
            sweep_log("task %d: %s; training goes on (%s)", w->id, err,
                      w->ckpt_step >= 0 ? "its previous checkpoint is kept" : "no checkpoint yet");
        w->ckpt_warned = 1;
        return -1;
    }
    w->ckpt_warned = 0;
    w->ckpt_step = st->step;
    return 0;
}

int worker_run_row(Worker *w, const Spec *spec, H5Out *out, int row, double *wall_s)
{
    int id = h5out_task_id(out, row);
    const TaskConfig *cfg = &spec->tasks[id];
    TaskResult res;
    TaskState resume;
    memset(&resume, 0, sizeof resume);
    int have = 0;
    double t = MPI_Wtime();
    w->id = id;
    w->steps = cfg->steps;
    w->row = row;
    w->cfg = cfg;
    w->hash = spec->hash;
    w->drain = w->decided = w->ckpt_warned = 0;
    w->steps_start = w->steps_now = 0;
    w->ckpt_step = -1;
    w->last_report = MPI_Wtime();
    TaskHooks hooks = {.progress = on_progress,
                       .ctx = w,
                       .stop = w->stop,
                       .save = w->ckpt_dir ? on_save : NULL,
                       .checkpoint_every = w->checkpoint_every,
                       .resume = NULL,
                       .tick = on_tick,
                       .tick_every = WORKER_TICK_S,
                       .data_thread = w->data_thread,
                       .cores = w->cores};
    if (!w->thread_logged && task_data_thread_on(&hooks, cfg)) {
        sweep_log("rank %d: training batches made one step ahead by a second thread (train.data_thread %s, %d "
                  "core%s, %d OpenBLAS thread%s)",
                  w->rank, config_data_thread_names[w->data_thread], w->cores, w->cores == 1 ? "" : "s",
                  cfg->threads, cfg->threads == 1 ? "" : "s");
        w->thread_logged = 1;
    }
    if (result_alloc(&res, cfg) < 0) {
        memset(&res, 0, sizeof res);
        res.status = TASK_FAILED;
        snprintf(res.message, sizeof res.message, "out of memory allocating the result arrays");
        res.wall_s = res.train_s = res.eval_s = 0;
        res.final_loss = res.final_err_cm = res.grid_frac = res.max_score60 = res.mean_score60 = NAN;
    } else {
        if (w->ckpt_dir) {
            char err[1024];
            int r = ckpt_read(w->ckpt_dir, id, spec->hash, cfg, &resume, &res, err, sizeof err);
            if (r == 0) {
                have = 1;
                hooks.resume = &resume;
                w->ckpt_step = resume.step;
                w->steps_start = w->steps_now = resume.step < cfg->steps ? resume.step : cfg->steps;
                sweep_log("task %d resumes from its checkpoint at step %d/%d", id, w->steps_start, cfg->steps);
            } else if (r < 0) {
                sweep_log("task %d: %s: discarded, the task starts from step 0", id, err);
                if (ckpt_remove(w->ckpt_dir, id) != 0)
                    sweep_log("task %d: cannot remove the checkpoint: %s", id, strerror(errno));
            }
        }
        if (task_run(cfg, &res, &hooks) < 0 && res.status != TASK_FAILED) {
            res.status = TASK_FAILED;
            if (!res.message[0]) snprintf(res.message, sizeof res.message, "task_run failed");
        }
    }
    if (have) task_state_free(&resume);
    int status = res.status;
    w->steps_now = res.steps_done;
    if (status == TASK_FAILED) sweep_log("task %d failed: %s", id, res.message);
    if (status == TASK_DIVERGED) sweep_log("task %d diverged: %s", id, res.message);
    if (status != TASK_PENDING && h5out_write_task(out, row, cfg, &res, w->rank) < 0) status = TASK_FAILED;
    /* a row written done or diverged needs its checkpoint no more; a failed
     * one keeps it (a resume re-runs the row from it) */
    if (w->ckpt_dir && (status == TASK_DONE || status == TASK_DIVERGED)) {
        if (ckpt_remove(w->ckpt_dir, id) != 0)
            sweep_log("task %d: cannot remove its checkpoint: %s", id, strerror(errno));
        w->ckpt_step = -1;
    }
    result_free(&res);
    w->row = -1;
    *wall_s = MPI_Wtime() - t;
    return status;
}

/* Wait for the reply to a report: the next assignment.  An abandon that
 * arrives first is for a row this worker already finished: ignored. */
static MsgCmd wait_assignment(const Worker *w)
{
    MsgCmd cmd;
    MPI_Request req;
    long ns = MSG_NAP_MIN_NS;
    CHECK_MPI(MPI_Irecv(&cmd, 1, w->types->cmd, 0, MSG_TAG_CMD, w->comm, &req));
    for (;;) {
        int flag = 0;
        CHECK_MPI(MPI_Test(&req, &flag, MPI_STATUS_IGNORE));
        if (flag) {
            if (cmd.kind == MSG_CMD_ASSIGN) return cmd;
            if (cmd.kind != MSG_CMD_ABANDON && cmd.kind != MSG_CMD_DRAIN)
                sweep_fatal(__FILE__, __LINE__, "scheduler protocol: unknown command %d", (int)cmd.kind);
            CHECK_MPI(MPI_Irecv(&cmd, 1, w->types->cmd, 0, MSG_TAG_CMD, w->comm, &req));
            ns = MSG_NAP_MIN_NS;
            continue;
        }
        msg_nap(&ns, NAP_WORKER_MAX_NS);
    }
}

void worker_run(Worker *w, const Spec *spec, H5Out *out)
{
    MsgReport rep = {.kind = MSG_REPORT_ROW, .row = -1, .status = 0, .signal_level = 0, .steps_done = 0,
                     .ckpt_step = -1, .wall_s = 0};
    w->row = -1;
    for (;;) {
        rep.signal_level = w->signal_level();
        CHECK_MPI(MPI_Send(&rep, 1, w->types->report, 0, MSG_TAG_REPORT, w->comm));
        MsgCmd cmd = wait_assignment(w);
        if (cmd.row < 0) break;
        double wall;
        int st = worker_run_row(w, spec, out, cmd.row, &wall);
        rep.row = cmd.row;
        rep.status = st;
        rep.steps_done = w->steps_now - w->steps_start;
        rep.ckpt_step = st == TASK_PENDING ? w->ckpt_step : -1;
        rep.wall_s = wall;
    }
}

int worker_cores(MPI_Comm comm)
{
    int rank, mine = 1;
    CHECK_MPI(MPI_Comm_rank(comm, &rank));
#ifdef __linux__
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) mine = CPU_COUNT(&set);
#endif
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    MPI_Comm node;
    CHECK_MPI(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
    int local = 1, sum = mine;
    CHECK_MPI(MPI_Comm_size(node, &local));
    CHECK_MPI(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, node));
    CHECK_MPI(MPI_Comm_free(&node));
    /* masks that overlap (ranks not bound, or bound to shared sets): an
     * even share of the node */
    if (online > 0 && sum > online) {
        long share = online / local;
        if (share < mine) mine = (int)share;
    }
    return mine > 1 ? mine : 1;
}
