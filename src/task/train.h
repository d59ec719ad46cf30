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

#include "base/config.h"
#include "base/result.h"

typedef struct TaskHooks {
    /* Called at every logged point (step = optimiser step of the point,
     * loss and decoding error of that point, training speed so far).
     * May be NULL. */
    void (*progress)(void *ctx, int step, float loss, float err_cm, double steps_per_s);
    void *ctx;
    /* If non-NULL and *stop becomes non-zero: abandon the task promptly
     * (checked every step), leave res->status = TASK_PENDING, return 0. */
    volatile int *stop;
} TaskHooks;

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

#endif
