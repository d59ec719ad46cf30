/* worker.h -- a worker: runs the rows rank 0 hands it and writes them.
 *
 * worker_run_row runs one row of the result file (task_run) and writes its
 * results into the shared file from this rank (h5out_write_task); results
 * never travel through rank 0.  worker_run is the loop of every rank but 0
 * when there are several: report (msg.h), wait for the assignment, run it,
 * until rank 0 says quit.  With one rank, the scheduler (scheduler.c) calls
 * worker_run_row itself for every row.
 *
 * Stopping: task_run polls *stop (Worker.stop), which a stop signal or,
 * on a worker rank, an abandon message from rank 0 sets; the row then
 * stays pending in the file.  A worker passes the level its own
 * signals reached to rank 0 with every report (Worker.signal_level).
 */
#ifndef SWEEP_WORKER_H
#define SWEEP_WORKER_H

#include <mpi.h>

#include "farm/msg.h"
#include "io/h5out.h"
#include "spec/spec.h"

/* Called at every logged training point of a row run with one rank:
 * task id, step, steps in all, loss, decoding error, training speed. */
typedef void (*WorkerStepFn)(void *ctx, int task_id, int step, int steps, float loss, float err_cm,
                             double steps_per_s);

/* The caller fills the public fields and owns everything they point to;
 * they must outlive the calls. */
typedef struct Worker {
    MPI_Comm comm;              /* the job's communicator */
    int rank;                   /* this rank in comm (written to /tasks rank) */
    int size;                   /* ranks in comm; 1 = no messages, this rank also schedules */
    const MsgTypes *types;      /* committed message datatypes (size > 1) */
    volatile int *stop;         /* the flag task_run polls (sched_stop_flag) */
    int (*signal_level)(void);  /* SchedLevel of this rank's signals, for reports (sched_signal_level) */
    WorkerStepFn on_step;       /* size 1: progress at each logged point; NULL = none */
    void *step_ctx;             /* passed to on_step */
    /* private: the row running */
    int id, steps, row;
} Worker;

/* Run row `row` of out (task out->task_ids[row] of spec) and write it;
 * with size > 1, an abandon message from rank 0 that arrives meanwhile
 * stops it.  Returns the row's TaskStatus: TASK_PENDING if stopped (nothing
 * written), TASK_FAILED if the task or its write failed (logged), else
 * TASK_DONE or TASK_DIVERGED.  *wall_s: seconds it took.  Not collective. */
int worker_run_row(Worker *w, const Spec *spec, H5Out *out, int row, double *wall_s);

/* The loop of a worker rank (rank > 0 of a size > 1 comm): report to rank
 * 0, run what it assigns, until it says quit.  Returns when rank 0 has sent
 * this rank its quit; pairs with the scheduling loop of rank 0
 * (sched_run).  Fatal on an MPI error or a protocol violation. */
void worker_run(Worker *w, const Spec *spec, H5Out *out);

#endif
