/* worker.c -- a worker: runs the rows rank 0 hands it and writes them. */
#include "farm/worker.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/result.h"
#include "io/check.h"
#include "task/train.h"

#define NAP_WORKER_MAX_NS 500000L   /* a worker waiting for its assignment: 0.5 ms cap */

/* TaskHooks.progress: with several ranks, look for an abandon from rank 0;
 * with one, report progress to the scheduler. */
static void on_progress(void *ctx, int step, float loss, float err_cm, double steps_per_s)
{
    Worker *w = ctx;
    if (w->size > 1) {
        int flag = 0;
        CHECK_MPI(MPI_Iprobe(0, MSG_TAG_CMD, w->comm, &flag, MPI_STATUS_IGNORE));
        if (flag) {
            MsgCmd cmd;
            CHECK_MPI(MPI_Recv(&cmd, 1, w->types->cmd, 0, MSG_TAG_CMD, w->comm, MPI_STATUS_IGNORE));
            if (cmd.kind != MSG_CMD_ABANDON)
                sweep_fatal(__FILE__, __LINE__, "scheduler protocol: command %d while running a task", (int)cmd.kind);
            if (cmd.row != w->row)
                sweep_fatal(__FILE__, __LINE__, "scheduler protocol: abandon of row %d while running row %d",
                            (int)cmd.row, w->row);
            *w->stop = 1;
        }
        return;
    }
    if (w->on_step) w->on_step(w->step_ctx, w->id, step, w->steps, loss, err_cm, steps_per_s);
}

int worker_run_row(Worker *w, const Spec *spec, H5Out *out, int row, double *wall_s)
{
    int id = h5out_task_id(out, row);
    const TaskConfig *cfg = &spec->tasks[id];
    TaskResult res;
    TaskHooks hooks = {on_progress, w, w->stop};
    double t = MPI_Wtime();
    w->id = id;
    w->steps = cfg->steps;
    w->row = row;
    if (result_alloc(&res, cfg) < 0) {
        memset(&res, 0, sizeof res);
        res.status = TASK_FAILED;
        snprintf(res.message, sizeof res.message, "out of memory allocating the result arrays");
        res.wall_s = res.train_s = res.eval_s = 0;
        res.final_loss = res.final_err_cm = res.grid_frac = res.max_score60 = res.mean_score60 = NAN;
    } else if (task_run(cfg, &res, &hooks) < 0 && res.status != TASK_FAILED) {
        res.status = TASK_FAILED;
        if (!res.message[0]) snprintf(res.message, sizeof res.message, "task_run failed");
    }
    int status = res.status;
    if (status == TASK_FAILED) sweep_log("task %d failed: %s", id, res.message);
    if (status == TASK_DIVERGED) sweep_log("task %d diverged: %s", id, res.message);
    if (status != TASK_PENDING && h5out_write_task(out, row, cfg, &res, w->rank) < 0) status = TASK_FAILED;
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
            if (cmd.kind != MSG_CMD_ABANDON)
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
    MsgReport rep = {.row = -1, .status = 0, .signal_level = 0, .wall_s = 0};
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
        rep.wall_s = wall;
    }
}
