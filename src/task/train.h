/* train.h -- task_run: what one worker does for one task (training,
 * evaluation, scoring), as a library with no MPI inside.
 *
 * Dimensions: B batch, T training steps, E evaluation steps, N hidden,
 * P place cells (or 2 for the Cartesian target), G rate-map bins per side,
 * S evaluation noise levels, L logged training points.
 *
 * Every random number of a task comes from rng.h streams derived from
 * (cfg->seed, purpose), so a task's results depend on its settings only,
 * never on the rank that runs it.  docs/model-training.md describes the
 * training loop, the logging convention, the evaluation and the summary.
 *
 * Ownership: task_run allocates all of its working memory once at its start
 * and frees it before returning, on every path; it only writes into the
 * caller's TaskResult (already result_alloc'ed for the same cfg).
 */
#ifndef SWEEP_TRAIN_H
#define SWEEP_TRAIN_H

#include <stddef.h>

#include "base/config.h"
#include "base/result.h"
#include "model/rng.h"

/* The training state of a task at a step boundary: with the task's
 * settings, everything the rest of its training depends on.  A checkpoint
 * (docs/running.md, "Checkpoints") stores it with the curves logged so far
 * (TaskResult: train_loss, train_err_cm, final_loss, steps_done, and the
 * snapshot curves snap_* up to next_snap), and a
 * task resumed from it ends bit-identical to one that never stopped (at the
 * same thread count).
 *
 * step counts the loop iterations done: iteration s draws batch s, logs it
 * when s is a logged step, and (s < steps) updates the network.  So
 * step = 0 .. steps are the boundaries before iteration `step`, with
 * params after `step` updates; step = steps + 1 means training is complete
 * (the final point logged) and only the evaluation is left.
 *
 * Ownership: task_state_alloc allocates params, adam_m and adam_v;
 * task_state_free releases them.  The state task_run hands to its save
 * hook is a view of the task's own memory, valid during the call only. */
typedef struct TaskState {
    int step;              /* 0 .. steps + 1, see above */
    int next_log;          /* logged points recorded so far (0 .. L) */
    int next_snap;         /* snapshots recorded so far (0 .. K, config_n_snapshots) */
    Rng r_traj, r_noise;   /* RNG_TRAIN_TRAJ / RNG_TRAIN_NOISE after `step` batches */
    long adam_t;           /* Adam's step count */
    size_t n_params;
    float *params;         /* (n_params) the network (rnn.h layout) */
    float *adam_m;         /* (n_params) Adam's first moment */
    float *adam_v;         /* (n_params) Adam's second moment */
    double train_s;        /* seconds of training up to this state, over every run */
} TaskState;

/* Allocate a state for n_params parameters (arrays zeroed).  Returns 0 or
 * -1 (out of memory; nothing left allocated). */
int task_state_alloc(TaskState *st, size_t n_params);

/* Release; safe on a zeroed or already-freed state. */
void task_state_free(TaskState *st);

/* Copy src into dst (dst allocated for the same n_params).  Returns 0, or
 * -1 when the sizes differ. */
int task_state_copy(TaskState *dst, const TaskState *src);

/* Where a task's time goes (benchmarks: bench/bench_step.c --task), wall
 * and process CPU seconds per phase, accumulated by task_run when
 * TaskHooks.times is set.  Phases:
 *   data     training batches: trajectories, target codes, hidden noise
 *   step     training steps: forward, backward, clipping, Adam
 *   log      the logged points' decoding and error
 *   eval     the error curves (their trajectories, codes and forwards)
 *   ratemap  the rate-map pass (trajectories, forwards, binning, the
 *            null's copy of the kept units' activity)
 *   score    gridness, border scores, summary and the saved maps
 *   null     the shuffle null (gridnull_run)
 *   replay   replay_run
 *   setup    allocation and initialisation (work_alloc), and the rest
 * With the data thread (TaskHooks.data_thread), data is the time the
 * training loop waited for a batch; the thread's own CPU time is
 * data_thread_cpu, and it is also inside the cpu of the phases it
 * overlapped (the process's CPU clock counts every thread). */
enum { TASK_PH_DATA, TASK_PH_STEP, TASK_PH_LOG, TASK_PH_EVAL, TASK_PH_RATEMAP, TASK_PH_SCORE, TASK_PH_NULL,
       TASK_PH_REPLAY, TASK_PH_SETUP, TASK_N_PHASES };
typedef struct TaskTimes {
    double wall[TASK_N_PHASES], cpu[TASK_N_PHASES];  /* seconds, added to (zero them first) */
    double data_thread_cpu;                           /* CPU seconds of the data thread, added to */
} TaskTimes;


typedef struct TaskHooks {
    /* Called at every logged point (step = optimiser step of the point,
     * loss and decoding error of that point, training speed so far).
     * May be NULL. */
    void (*progress)(void *ctx, int step, float loss, float err_cm, double steps_per_s);
    void *ctx;
    /* If non-NULL and *stop becomes non-zero: abandon the task promptly
     * (checked every step), leave res->status = TASK_PENDING, return 0.
     * With a save hook, a stop first saves the state (during training: at
     * the next step boundary; during the evaluation: the trained state,
     * step = steps + 1). */
    volatile int *stop;
    /* Checkpoints.  save (may be NULL): called with the state and the
     * result so far (its curves up to st->next_log) when checkpoint_every
     * seconds of training have passed since the start or the last save
     * (0 = never on time), and on a stop as above.  Returns 0, or -1 (not
     * saved: training goes on; a stop still stops). */
    int (*save)(void *ctx, const TaskState *st, const TaskResult *res);
    double checkpoint_every;
    /* resume (may be NULL): continue from this state instead of step 0.
     * The caller has put the checkpoint's curves into res (train_loss,
     * train_err_cm up to resume->next_log, the snap_* curves up to
     * resume->next_snap, final_loss, steps_done);
     * task_run refuses (-1, TASK_FAILED) a state whose sizes or step do not
     * fit cfg. */
    const TaskState *resume;
    /* tick (may be NULL): called between training steps at most every
     * tick_every seconds, with the optimiser steps taken so far (over
     * every run of the task) and the training speed of this run, for
     * progress reports and stop decisions between logged points. */
    void (*tick)(void *ctx, int steps_done, double steps_per_s);
    double tick_every;
    /* times (may be NULL): time of each phase added into it (TaskTimes);
     * no effect on the results. */
    TaskTimes *times;
    /* data_thread (DataThread, config.h) and cores, the CPU cores this task
     * may use (0 = unknown): whether a second thread makes the next
     * training batch while a step runs (task_data_thread_on).  No effect
     * on the results.  Zeroed hooks (or none): in line. */
    int data_thread;
    int cores;
} TaskHooks;

/* 1 when task_run with hooks h makes cfg's training batches in a second
 * thread: data_thread ON, or AUTO with more cores than cfg->threads
 * (OpenBLAS's threads keep theirs; the data thread takes a spare one).
 * A thread that cannot be started (or the memory of its second slot)
 * leaves the batches in line: the task runs, with the same results. */
int task_data_thread_on(const TaskHooks *h, const TaskConfig *cfg);

/* Train and evaluate the task cfg into res (res already result_alloc'ed by
 * the caller for cfg).  hooks may be NULL.
 * Returns 0 with res->status = TASK_DONE, TASK_DIVERGED (loss became NaN or
 * infinite; res->message names the step; curves up to then are kept) or
 * TASK_PENDING (stopped through hooks->stop); or -1 with res->status =
 * TASK_FAILED and res->message saying why (allocation, invalid settings). */
int task_run(const TaskConfig *cfg, TaskResult *res, const TaskHooks *hooks);

/* Relative cost of a task: floating-point operations of training plus
 * evaluation (an estimate; the scheduler hands out expensive tasks first). */
double task_cost(const TaskConfig *cfg);

/* The training part of task_cost (steps + 1 batches); the rest is the
 * evaluation.  A task that has taken s of its steps has done about
 * task_cost_train * s / (steps + 1) of its work. */
double task_cost_train(const TaskConfig *cfg);

#endif
