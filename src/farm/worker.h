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
 *
 * Checkpoints (Worker.ckpt_dir set; io/ckpt.h, docs/running.md
 * "Checkpoints"): before a row runs, its checkpoint, if any, is loaded and
 * the task continues from it (one that cannot be trusted is discarded with
 * a warning and the task starts from step 0); while it trains, its state is
 * saved every checkpoint_every seconds and when it is stopped; once its row
 * is written done or diverged, the checkpoint is removed.  On a drain (a
 * MSG_CMD_DRAIN, this rank's own SIGUSR1/SIGUSR2, or drain_at), a task
 * expected to need more than stop_grace seconds more is checkpointed and
 * stopped; a shorter one finishes.  Without checkpoints a drain lets every
 * running task finish, as before.
 *
 * Progress: every WORKER_TICK_S seconds of training the worker looks for
 * commands from rank 0 and, every WORKER_REPORT_S seconds, sends it a
 * MSG_REPORT_STEPS report (msg.h); no extra waiting, the checks ride on
 * task_run's tick hook between two steps.
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

/* Called with one rank at every tick: the optimiser steps the running row
 * has taken in this run (its work since it started or resumed). */
typedef void (*WorkerTickFn)(void *ctx, int task_id, int steps_run);

#define WORKER_TICK_S 1.0     /* seconds of training between two looks for commands */
#define WORKER_REPORT_S 5.0   /* seconds between two MSG_REPORT_STEPS of a row */

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
    WorkerTickFn on_tick;       /* size 1: steps at each tick; NULL = none */
    void *step_ctx;             /* passed to on_step and on_tick */
    const char *ckpt_dir;       /* checkpoint directory (OUT.ckpt), or NULL: checkpoints off */
    double checkpoint_every;    /* seconds of training between checkpoints (> 0 with ckpt_dir) */
    double stop_grace;          /* a drained task needing longer than this is checkpointed and stopped */
    double drain_at;            /* MPI_Wtime() at which a drain begins (the time limit), 0 = never */
    int data_thread;            /* train.data_thread (DataThread), passed to task_run (TaskHooks) */
    int cores;                  /* CPU cores of this rank (worker_cores), passed to task_run */
    /* private: the row running */
    int id, steps, row;
    const TaskConfig *cfg;
    const char *hash;           /* spec hash (checkpoint identity) */
    int drain;                  /* a drain reached this row */
    int decided;                /* the drain decision is made for this row */
    int steps_start;            /* steps the row had when this run of it began */
    int steps_now;              /* steps it has now */
    int ckpt_step;              /* step of its newest checkpoint, -1 if none */
    int ckpt_warned;            /* a failed save was logged (once per row) */
    int thread_logged;          /* the data thread's first use was logged (once per rank) */
    double last_report;         /* MPI_Wtime() of its last MSG_REPORT_STEPS */
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

/* The CPU cores this rank may use: its affinity mask (sched_getaffinity),
 * or, where the masks of the node's ranks overlap (ranks not bound to
 * cores), the node's CPUs over its ranks; at least 1.  With more cores than
 * a task's OpenBLAS threads, train.data_thread auto makes the task's
 * training batches in a second thread (TaskHooks, task/train.h).
 * Collective over comm. */
int worker_cores(MPI_Comm comm);

#endif
