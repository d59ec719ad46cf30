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
 * Durability (h5out_set_sync, the spec's `output: {sync: ...}`):
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
 * RG bins per side, each the largest over those rows; /snapshots (rows
 * with snapshot_every > 0): KS snapshots, the largest over those rows.
 * Row r of every dataset belongs to the task with global id
 * h5out_task_id(o, r).  The layout of a /tasks row is io/columns.def's
 * (io/rows.h); the files of this module: h5out.c (the handle, accessors,
 * close), h5out_create.c, h5out_open.c (open, check), h5out_task.c (write
 * and read rows), with io/lock.c (the writer's lock) and io/h5attr.c.
 *
 * Collective calls (every rank of the communicator, same arguments):
 * h5out_create, h5out_open, h5out_close.  Independent: everything else.
 * Ownership: H5Out is opaque.  h5out_create / h5out_open allocate it and
 * hand it to the caller, who owns it and gives it back with h5out_close
 * (which closes every HDF5 handle, drops the lock and frees the handle).
 * After a failed create / open nothing is left open or allocated and the
 * handle is NULL.  Strings and arrays returned by accessors belong to the
 * handle and live until h5out_close.
 */
#ifndef SWEEP_H5OUT_H
#define SWEEP_H5OUT_H

#include <hdf5.h>
#include <mpi.h>

#include "base/config.h"
#include "base/result.h"

typedef struct H5Out H5Out;

#define H5OUT_FORMAT_VERSION 2

enum { H5OUT_SYNC_NONE = 0, H5OUT_SYNC_TASK = 1 };   /* h5out_set_sync */

/* What the file records about the sweep (all strings NUL-terminated and
 * identical on every rank).  Borrowed: h5out_create copies what it keeps. */
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

/* Create a new result file at path (refused if it exists: the caller
 * removes it first for --force) into a new handle *out.  rows: n rows, row
 * r = task task_ids[r] whose settings are tasks[task_ids[r]].  Takes the
 * writer's lock on PATH.lock (refused, -1, when the file system cannot
 * flock, unless SWEEP_NO_LOCK=1), builds the file as PATH.creating (every
 * attribute, the whole /tasks table with settings filled in and status
 * pending, fill values everywhere else), flushes it and renames it to PATH.
 * Sync is H5OUT_SYNC_TASK.  Test hook: SWEEP_TEST_CREATE_DELAY_MS sleeps
 * before the rename (h5out_create.c).
 * Collective.  Returns 0, or -1 with a message in err and *out = NULL
 * (same outcome on every rank). */
int h5out_create(H5Out **out, const char *path, const H5OutMeta *meta,
                 const TaskConfig *tasks, const int *task_ids, int n,
                 MPI_Comm comm, char *err, size_t errlen);

/* Open an existing result file into a new handle *out (writable for
 * resume, with the writer's lock as in h5out_create; else read-only,
 * without a lock).  Reads the dimensions and the row -> task id map.
 * Collective.  Returns 0, or -1 with a message and *out = NULL (not HDF5,
 * not a sweep file, unknown format). */
int h5out_open(H5Out **out, const char *path, int writable, MPI_Comm comm,
               char *err, size_t errlen);

/* Close everything, drop the lock and free o (NULL: no-op).  Collective
 * when the file is open.  Returns 0, or -1 (a handle failed to close). */
int h5out_close(H5Out *o);

/* Check that an opened file belongs to this spec and row set: same spec
 * hash (else err says which canonical lines differ), same shard, same
 * rows.  Returns 0 or -1 with a message. */
int h5out_check(const H5Out *o, const H5OutMeta *meta, const int *task_ids, int n,
                char *err, size_t errlen);

/* ---- accessors (independent) -------------------------------------------- */

/* R, the rows of the file. */
int h5out_n_rows(const H5Out *o);

/* The dimensions of the datasets (the legend above). */
typedef struct H5OutDims {
    int R, L, S, E, N, M, G;     /* N: NMAX; M = 0 when there is no /units/ratemaps */
    int has_replay;              /* /replay exists; then RK, RH, RG (else 0) */
    int RK, RH, RG;
    int has_snap;                /* /snapshots exists; then KS (else 0) */
    int KS;
} H5OutDims;
void h5out_dims(const H5Out *o, H5OutDims *d);

/* Global task id of row `row` (0 <= row < R). */
int h5out_task_id(const H5Out *o, int row);

/* Index of the row holding global task id `id`, or -1. */
int h5out_row_of(const H5Out *o, int id);

/* The file's path (owned by o). */
const char *h5out_path(const H5Out *o);

/* H5OUT_SYNC_TASK (the default) or H5OUT_SYNC_NONE: whether
 * h5out_write_task fsyncs a task's data before its status. */
void h5out_set_sync(H5Out *o, int sync);

/* The HDF5 file (borrowed: do not close it), for the readers of root
 * attributes (io/status.c, io/merge.c). */
hid_t h5out_file(const H5Out *o);

/* ---- rows ------------------------------------------------------------------ */

/* Write one finished task into row `row`: its /tasks row with status
 * pending and every data row, then fsync (sync = H5OUT_SYNC_TASK), then
 * the row again with the final status (res->status).  Arrays of res may be
 * NULL (a task that failed before result_alloc): then only the /tasks row
 * is written.  Test hook: SWEEP_TEST_WRITE_DELAY_MS sleeps between the data
 * and the final status (h5out_task.c; docs/faults.md).
 * Independent.  Returns 0, or -1 (I/O error, logged). */
int h5out_write_task(H5Out *o, int row, const TaskConfig *cfg, const TaskResult *res, int rank);

/* Read the status of every row into status (R ints, TaskStatus).
 * Unknown strings read as TASK_PENDING.  Independent.  Returns 0 or -1. */
int h5out_read_status(const H5Out *o, int *status);

/* Read row `row` back into res, which the caller has allocated with
 * result_alloc for the row's config (its sizes say what to read).  Fills
 * status, message, timings, summaries and every array (/replay when
 * res->replay.traj).  *rank (may be NULL) gets the rank that wrote it.
 * Independent.  Returns 0 or -1. */
int h5out_read_task(const H5Out *o, int row, TaskResult *res, int *rank);

/* Column `name` of /tasks for every row, converted to the memory type
 * mtype of size bytes (an HDF5 string type of that size for strings) into
 * buf (R * size bytes).  Independent.  Returns 0, or -1 (no such column). */
int h5out_read_column(const H5Out *o, const char *name, hid_t mtype, size_t size, void *buf);

/* The HDF5 class of column `name` of /tasks (H5T_INTEGER, H5T_FLOAT,
 * H5T_STRING), or H5T_NO_CLASS when there is none. */
H5T_class_t h5out_column_class(const H5Out *o, const char *name);

#endif
