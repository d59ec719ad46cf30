/* h5out.h -- the shared parallel HDF5 result file (docs/results-format.md).
 *
 * One file per sweep (or per shard).  Every rank opens it with the MPI-IO
 * driver; every object (datasets, attributes) is created once, collectively,
 * by h5out_create and flushed, so the file's structure never changes while
 * tasks run: a kill -9 at any moment leaves a file that opens.  Each worker
 * then writes the rows of the task it ran independently (h5out_write_task),
 * data first, then (sync = H5OUT_SYNC_TASK) an fsync, then the task's
 * status, so a status of "done" implies complete data on disk.
 *
 * Durability (H5Out.sync, the spec's `output: {sync: ...}`):
 *   H5OUT_SYNC_TASK  (default) fsync the data before writing the status:
 *                    "done" survives a kill -9 and a node crash / power loss.
 *   H5OUT_SYNC_NONE  no fsync: the status is still written after the data
 *                    (MPI-IO writes reach the kernel's page cache in program
 *                    order, and the page cache survives the process), so
 *                    "done" implies complete data after a kill -9 of the
 *                    job; after a node crash a "done" row may be incomplete.
 *
 * Dimensions: R rows (tasks of this file), L logged training points,
 * S evaluation noise levels, E evaluation steps, N hidden units (NMAX the
 * largest over rows), M stored rate maps per task, G rate-map bins per side;
 * /replay (rows with replay on): RK stored replays, RH = replay_steps + 1,
 * RG bins per side, each the largest over those rows.
 * Row r of every dataset belongs to the task with global id task_ids[r].
 *
 * Collective calls (every rank of the communicator, same arguments):
 * h5out_create, h5out_open, h5out_close.  Independent: h5out_write_task,
 * h5out_read_status, h5out_read_task, h5out_check.
 * Ownership: an H5Out owns its HDF5 handles and task_ids; h5out_close
 * releases everything (also after a failed create/open, where it is a no-op
 * on what was never opened).
 */
#ifndef SWEEP_H5OUT_H
#define SWEEP_H5OUT_H

#include <hdf5.h>
#include <mpi.h>

#include "base/config.h"
#include "base/result.h"

#define H5OUT_FORMAT_VERSION 1
#define H5OUT_MESSAGE_LEN 128   /* /tasks message column (bytes) */
#define H5OUT_STATUS_LEN 10     /* /tasks status column (bytes) */
#define H5OUT_N_REPLAY_F 11     /* float metrics of /replay, one per task (h5out.c) */

enum { H5OUT_SYNC_NONE = 0, H5OUT_SYNC_TASK = 1 };   /* H5Out.sync */

/* What the file records about the sweep (all strings NUL-terminated and
 * identical on every rank). */
typedef struct H5OutMeta {
    const char *spec_text;       /* the spec file as the user wrote it */
    const char *spec_canonical;  /* canonical text the hash is taken of */
    const char *spec_hash;       /* hex SHA-256 of spec_canonical */
    const char *command_line;    /* argv joined by spaces */
    const char *shard;           /* "i/N" when sharded, else NULL */
    int n_tasks;                 /* tasks of the whole sweep (all shards) */
    int n_axes;
    const char *const *axes;     /* (n_axes) setting keys swept over */
    int n_eval_noise;            /* S */
    const double *eval_noise;    /* (S) evaluation noise levels */
} H5OutMeta;

typedef struct H5Out {
    MPI_Comm comm;
    hid_t file;
    hid_t row_type;              /* compound type of one /tasks row */
    hid_t dxpl;                  /* independent transfer */
    hid_t d_tasks;
    hid_t d_train_step, d_train_loss, d_train_err;   /* (R, L) */
    hid_t d_eval_err;                                /* (R, S, E) */
    hid_t d_score60, d_score90, d_border, d_mask60;  /* (R, NMAX) */
    hid_t d_grid_p, d_grid_null;                     /* (R, NMAX) */
    hid_t d_ratemaps;                                /* (R, M, G, G) or -1 */
    hid_t d_ratemap_unit;                            /* (R, M) or -1 */
    /* /replay (only when some row has replay on; else every id is -1) */
    hid_t d_replay[H5OUT_N_REPLAY_F];                /* (R) per-task replay metrics, h5out.c's table */
    hid_t d_replay_n_in;                             /* (R) in-arena bins */
    hid_t d_replay_traj;                             /* (R, RK, RH, 2) decoded replays, m */
    hid_t d_replay_occ, d_replay_occ_real;           /* (R, RG, RG) occupancies */
    int has_replay;                                  /* /replay exists */
    int RK, RH, RG;                                  /* stored replays, steps + 1, bins (>= 1) */
    int n_rows;                  /* R */
    int L, S, E, nmax, M, G;
    int *task_ids;               /* (R) global task id of each row */
    int sync_fd;                 /* read-only descriptor used for fsync, or -1 */
    int sync;                    /* H5OUT_SYNC_TASK (set by create/open) or H5OUT_SYNC_NONE */
    int lock_fd;                 /* rank 0 of a writer: flock'ed PATH.lock, or -1 */
    char path[4096];
    char lock_path[4104];
} H5Out;

/* Create a new result file at path (refused if it exists: the caller
 * removes it first for --force).  rows: n rows, row r = task task_ids[r]
 * whose settings are tasks[task_ids[r]].  Takes the writer's lock on
 * PATH.lock (refused, -1, when the file system cannot flock, unless
 * SWEEP_NO_LOCK=1), builds the file as PATH.creating (every attribute,
 * the whole /tasks table with settings filled in and status pending, fill
 * values everywhere else), flushes it and renames it to PATH.  Test hook:
 * SWEEP_TEST_CREATE_DELAY_MS sleeps before the rename (h5out.c).
 * Collective.  Returns 0, or -1 with a message in err (same outcome on
 * every rank). */
int h5out_create(H5Out *o, const char *path, const H5OutMeta *meta,
                 const TaskConfig *tasks, const int *task_ids, int n,
                 MPI_Comm comm, char *err, size_t errlen);

/* Open an existing result file (writable for resume, with the writer's
 * lock as in h5out_create; else read-only, without a lock).
 * Reads the dimensions and the row -> task id map.  Collective.  Returns 0,
 * or -1 with a message (not HDF5, not a sweep file, unknown format). */
int h5out_open(H5Out *o, const char *path, int writable, MPI_Comm comm,
               char *err, size_t errlen);

/* Check that an opened file belongs to this spec and row set: same spec
 * hash (else err says which canonical lines differ), same shard, same
 * rows.  Returns 0 or -1 with a message. */
int h5out_check(const H5Out *o, const H5OutMeta *meta, const int *task_ids, int n,
                char *err, size_t errlen);

/* Read the scalar string attribute `name` of obj (variable or fixed
 * length) into a new malloc'ed string the caller frees; NULL if absent or
 * unreadable.  Any process, no collective. */
char *h5out_attr_str(hid_t obj, const char *name);

/* Write one finished task into row `row`: its /tasks row with status
 * pending and every data row, then fsync (o->sync == H5OUT_SYNC_TASK),
 * then the row again with the final status (res->status).  Arrays of res may be NULL (a task that
 * failed before result_alloc): then only the /tasks row is written.
 * Test hook: SWEEP_TEST_WRITE_DELAY_MS sleeps between the data and the
 * final status (h5out.c; docs/faults.md).
 * Independent.  Returns 0, or -1 (I/O error, logged). */
int h5out_write_task(H5Out *o, int row, const TaskConfig *cfg, const TaskResult *res, int rank);

/* Read the status of every row into status (R ints, TaskStatus).
 * Unknown strings read as TASK_PENDING. Returns 0 or -1. */
int h5out_read_status(const H5Out *o, int *status);

/* Read row `row` back into res, which the caller has allocated with
 * result_alloc(res, cfg) for the row's config.  Fills status, message,
 * timings, summaries and every array.  *rank (may be NULL) gets the rank
 * that wrote it.  Returns 0 or -1. */
int h5out_read_task(const H5Out *o, int row, const TaskConfig *cfg, TaskResult *res, int *rank);

/* Index of the row holding global task id `id`, or -1. */
int h5out_row_of(const H5Out *o, int id);

/* Close everything (collective when the file is open).  Returns 0 or -1. */
int h5out_close(H5Out *o);

/* Parse a status name ("done") into a TaskStatus, or -1. */
int h5out_status_index(const char *name);

#endif
