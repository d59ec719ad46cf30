/* scheduler.h -- rank 0's scheduler, signals and progress.
 *
 * With more than one rank, rank 0 only schedules: it hands one row (task)
 * at a time to whichever worker asks, most expensive first (task_cost,
 * ties by task id); the reply to a worker's report is its next task.
 * The messages, their tags and fields, and the waiting (a posted
 * MPI_Irecv polled with MPI_Test between naps that start at 2 us after a
 * message and double to a cap: rank 0 4 ms, a worker waiting for its task
 * 0.5 ms) are msg.h's: rank 0 answers within tens of microseconds while
 * tasks flow and sleeps at the cap when they are long (docs/performance.md,
 * "Farm throughput").  The other ranks are workers (worker.h): they run
 * task_run and write their own rows into the shared file
 * (h5out_write_task); nothing but a few numbers travels through rank 0.
 * With one rank, that rank schedules and works.
 *
 * Stopping (docs/running.md):
 *   SIGUSR1, SIGUSR2,  drain: no new tasks; running tasks finish, except,
 *   time limit         with checkpoints on, those expected to need more
 *                      than train.stop_grace: checkpointed and stopped
 *                      (a second signal escalates to a stop);
 *   SIGTERM, SIGINT    stop: no new tasks, running tasks are checkpointed
 *                      (checkpoints on) and stopped at their next step; they
 *                      stay pending in the file.
 * Signal handlers only set a volatile sig_atomic_t.  A signal seen by any
 * rank reaches rank 0 with the worker's next report or is acted on by
 * rank 0 itself; rank 0 tells busy workers to abandon on a stop.
 */
#ifndef SWEEP_SCHEDULER_H
#define SWEEP_SCHEDULER_H

#include <mpi.h>

#include "io/h5out.h"
#include "spec/spec.h"

typedef enum { SCHED_RUN = 0, SCHED_DRAIN = 1, SCHED_STOP = 2 } SchedLevel;

typedef struct SchedOptions {
    double time_limit;       /* seconds after t0 at which to drain; 0 = none */
    double t0;               /* MPI_Wtime() at the start of the job */
    double progress_every;   /* seconds between plain progress lines (not a terminal) */
    const char *ckpt_dir;    /* checkpoint directory (io/ckpt.h), ready; NULL = checkpoints off */
    double checkpoint_every; /* seconds of training between a task's checkpoints */
    double stop_grace;       /* on a drain, tasks needing longer than this are checkpointed and stopped */
} SchedOptions;

typedef struct SchedStats {
    int n_rows;              /* rows of the file */
    int n_before;            /* rows already done/diverged when the run started */
    int n_todo;              /* rows this run was asked to run */
    int done, diverged, failed;   /* finished in this run */
    int abandoned;           /* started but stopped (left pending) */
    int checkpointed;        /* of which with a checkpoint to continue from */
    int not_started;         /* never handed out */
    int stopped;             /* 1 if rows were left unrun (a stop or drain) */
    char stop_reason[64];    /* "SIGTERM", "time limit", ... ("" if none) */
    double wall_s;           /* of the scheduling loop */
    double cpu0_s;           /* CPU seconds of rank 0 during it (user + system) */
} SchedStats;

/* Install the handlers for SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 (call after
 * MPI_Init).  Idempotent. */
void sched_install_signals(void);

/* Current level from this rank's signals alone (SchedLevel; what a worker
 * reports, Worker.signal_level), and the name of the first signal seen
 * ("" if none). */
int sched_signal_level(void);
const char *sched_signal_name(void);

/* The flag task_run polls through TaskHooks.stop (Worker.stop): set by a
 * stop signal or an abandon message (a time limit is a drain: running
 * tasks finish). */
volatile int *sched_stop_flag(void);

/* Order rows for scheduling: most expensive first (task_cost), ties by
 * task id.  rows (n) is sorted in place. */
void sched_order(const Spec *spec, const H5Out *out, int *rows, int n);

/* Run rows todo (n_todo, any order: rank 0 sorts them) of out on comm:
 * rank 0 schedules (and, alone, works), every other rank is a worker
 * (worker_run).  Builds the message datatypes (msg.h) on entry and frees
 * them on return.  Collective: every rank of comm calls it with the same
 * spec and file (todo and n_todo matter on rank 0 only).  Fills *st on rank 0 (counts
 * are broadcast, so every rank sees them).  Returns 0 or -1 (scheduling
 * itself failed; task failures are counted, not errors). */
int sched_run(const Spec *spec, H5Out *out, const int *todo, int n_todo, const SchedOptions *opt,
              MPI_Comm comm, SchedStats *st);


#endif
