/* ckpt.h -- checkpoints of tasks in training (docs/running.md,
 * "Checkpoints"; docs/results-format.md, "Checkpoint files").
 *
 * A checkpoint holds one task's TaskState (task/train.h: parameters, Adam
 * moments and step, the training streams, the step reached, the training
 * time) and its curves so far, so that `--resume` (or `run-one` on an
 * existing checkpoint) continues the task from that step and ends
 * bit-identical to a run that never stopped (at the same thread count).
 *
 * Layout: one directory beside the result file, OUT.ckpt/, one small
 * serial HDF5 file per task, OUT.ckpt/task-<id>.h5.  A file is written
 * under a temporary name (task-<id>.h5.tmp), fsync'ed, renamed into place
 * and the directory fsync'ed, so a kill at any moment leaves either the old
 * checkpoint or the new one, never a mix.  It is removed once the task's
 * row is written (done, diverged or failed).  The result file stays the one
 * output: a checkpoint is never read by analysis code.
 *
 * Trust: a checkpoint names its spec hash, its task id and the task's
 * settings (every setting of base/settings.def as text, and the evaluation
 * noise levels), and carries a checksum of its arrays.  ckpt_read refuses
 * one that is truncated or corrupt, of another spec or another task's
 * settings, or of another size, with a message; the caller then discards
 * it and starts the task from step 0.
 *
 * Every call is independent (one process, plain POSIX and serial HDF5 on
 * the process's own files); none is collective.  Ownership: ckpt_read
 * allocates st (task_state_alloc) on success, the caller frees it with
 * task_state_free; nothing else is allocated across calls.
 */
#ifndef SWEEP_CKPT_H
#define SWEEP_CKPT_H

#include <stddef.h>

#include "base/config.h"
#include "base/result.h"
#include "task/train.h"

#define CKPT_FORMAT_VERSION 2

/* The checkpoint directory of result file `result_path`: "<result_path>.ckpt".
 * Returns 0, or -1 (path too long). */
int ckpt_dir_of(const char *result_path, char *dir, size_t len);

/* Create dir (mode 0777 & ~umask) if absent and check that files can be
 * created in it.  Returns 0, or -1 with a message naming dir and the
 * reason (a file in the way, no permission, read-only file system...). */
int ckpt_dir_prepare(const char *dir, char *err, size_t errlen);

/* Remove every checkpoint (task-*.h5) and stale temporary file of dir:
 * what an earlier result file of the same name left, when a fresh one is
 * created (a new run, --force).  Call only with the result file's lock
 * held.  Returns the number removed, or -1 (dir unreadable). */
int ckpt_dir_clear(const char *dir);

/* Save task `id` (settings cfg) of the spec with hash spec_hash: state st
 * and the curves of res up to st->next_log, its final_loss and steps_done.
 * Atomic as described above.  On failure (full disk, I/O error) the
 * temporary file is removed, an older checkpoint of the task is left as it
 * was, and -1 is returned with a message.  Returns 0 on success; *bytes
 * (may be NULL) gets the file's size. */
int ckpt_write(const char *dir, int id, const char *spec_hash, const TaskConfig *cfg, const TaskState *st,
               const TaskResult *res, long long *bytes, char *err, size_t errlen);

/* Load the checkpoint of task `id`, if any.  Returns
 *   1  there is none (nothing allocated),
 *   0  loaded: st allocated and filled, res's curves (train_loss,
 *      train_err_cm up to st->next_log, the snap_* curves up to
 *      st->next_snap), final_loss and steps_done set
 *      (res already result_alloc'ed for cfg),
 *  -1  there is one but it cannot be trusted (err says why; nothing
 *      allocated, res untouched): discard it (ckpt_remove) and start over. */
int ckpt_read(const char *dir, int id, const char *spec_hash, const TaskConfig *cfg, TaskState *st,
              TaskResult *res, char *err, size_t errlen);

/* Remove the checkpoint of task `id` (and a stale temporary file).  A
 * missing file is not an error.  Returns 0 or -1 (errno kept). */
int ckpt_remove(const char *dir, int id);

/* Step reached and training seconds of the checkpoint of task `id`,
 * without loading its arrays (sweep status).  Returns 0, 1 (none) or -1
 * (unreadable). */
int ckpt_peek(const char *dir, int id, int *step, double *train_s);

#endif
