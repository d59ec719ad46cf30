/* h5out_impl.h -- the inside of an H5Out, shared by the files of the
 * h5out module (h5out.c, h5out_create.c, h5out_open.c, h5out_task.c) and
 * by nothing else: outside io/h5out*.c, H5Out is opaque (h5out.h).
 *
 * Dimensions as in h5out.h.  Every hid_t is -1 when not open.
 */
#ifndef SWEEP_H5OUT_IMPL_H
#define SWEEP_H5OUT_IMPL_H

#include "io/h5out.h"
#include "io/lock.h"

#define H5OUT_N_REPLAY_F 11   /* float metrics of /replay, one per task (h5out_replay_fields) */
#define H5OUT_N_UNIT_F 7      /* float per-unit measures of /units (h5out_unit_fields) */
#define H5OUT_N_SNAP_F 3      /* float per-snapshot summaries of /snapshots (h5out_snap_fields) */

struct H5Out {
    MPI_Comm comm;
    hid_t file;
    hid_t row_type;              /* compound type of one /tasks row (io/rows.h) */
    hid_t dxpl;                  /* independent transfer */
    hid_t d_tasks;                                   /* (R) */
    hid_t d_train_step, d_train_loss, d_train_err;   /* (R, L) */
    hid_t d_eval_err;                                /* (R, S, E) */
    hid_t d_score60, d_score90, d_border, d_mask60;  /* (R, NMAX) */
    hid_t d_grid_p, d_grid_null;                     /* (R, NMAX) */
    hid_t d_grid_class, d_n_peaks;                   /* (R, NMAX) int8 */
    hid_t d_unit[H5OUT_N_UNIT_F];                    /* (R, NMAX) float measures (h5out_unit_fields) */
    hid_t d_ratemap_peaks;                           /* (R, M, 6, 2) or -1 */
    hid_t d_ratemaps;                                /* (R, M, G, G) or -1 */
    hid_t d_ratemap_unit;                            /* (R, M) or -1 */
    /* /replay (only when some row has replay on; else every id is -1) */
    hid_t d_replay[H5OUT_N_REPLAY_F];                /* (R) per-task replay metrics */
    hid_t d_replay_n_in;                             /* (R) in-arena bins */
    hid_t d_replay_traj;                             /* (R, RK, RH, 2) decoded replays, m */
    hid_t d_replay_occ, d_replay_occ_real;           /* (R, RG, RG) occupancies */
    int has_replay;                                  /* /replay exists */
    /* /snapshots (only when some row has snapshot_every > 0; else -1) */
    hid_t d_snap_step;                               /* (R, KS) int32 */
    hid_t d_snap[H5OUT_N_SNAP_F];                    /* (R, KS) (h5out_snap_fields) */
    hid_t d_snap_frac[GRIDCLASS_N];                  /* (R, KS) frac_<class> */
    int has_snap, KS;                                /* /snapshots exists; snapshots (>= 1) */
    int RK, RH, RG;                                  /* stored replays, steps + 1, bins (>= 1) */
    int n_rows;                  /* R */
    int L, S, E, nmax, M, G;
    int *task_ids;               /* (R) global task id of each row, owned */
    int sync_fd;                 /* read-only descriptor used for fsync, or -1 */
    int sync;                    /* H5OUT_SYNC_TASK or H5OUT_SYNC_NONE */
    OutLock lock;                /* rank 0 of a writer: PATH.lock */
    char path[4096];
};

/* The float metrics of a ReplayResult stored in /replay, one value per
 * task (docs/results-format.md and docs/replay.md define them). */
typedef struct H5OutReplayField { const char *name, *units; size_t off; } H5OutReplayField;
extern const H5OutReplayField h5out_replay_fields[H5OUT_N_REPLAY_F];

/* The float arrays of a TaskResult stored per unit in /units (N) and per
 * snapshot in /snapshots (K): dataset name, units, offsetof the float *
 * member (docs/results-format.md defines them). */
typedef struct H5OutArrayField { const char *name, *units; size_t off; } H5OutArrayField;
extern const H5OutArrayField h5out_unit_fields[H5OUT_N_UNIT_F];
extern const H5OutArrayField h5out_snap_fields[H5OUT_N_SNAP_F];

/* The class names of GRIDCLASS_TABLE, in code order ("GRID", ...). */
extern const char *const h5out_class_names[GRIDCLASS_N];
/* /snapshots/frac_<name> of each class, in code order. */
extern const char *const h5out_snap_frac_names[GRIDCLASS_N];

/* The float * member at offset off of res. */
float *h5out_array_of(const TaskResult *res, size_t off);

/* A new handle with nothing open (comm, sync = task, every id -1), or NULL. */
H5Out *h5out_new(MPI_Comm comm);

/* Close every HDF5 handle, the fsync descriptor and the lock; keeps the
 * struct (h5out_close also frees it).  Returns 0 or -1. */
int h5out_release(H5Out *o);

/* Write (write = 1) or read the block start[0..nd) + count of dataset d
 * from / to a contiguous buffer of memory type mtype.  Independent. */
int h5out_block_io(const H5Out *o, hid_t d, hid_t mtype, int nd, const hsize_t *start, const hsize_t *count,
                   void *buf, int write);

/* Rows [row, row + n) of /tasks, memory type mtype (a compound type with
 * some or all of the columns). */
int h5out_rows_io(const H5Out *o, hid_t mtype, int row, int n, void *buf, int write);

/* The independent transfer list and the fsync descriptor of o->path. */
int h5out_dxpl_and_fd(H5Out *o);

/* Test hooks (docs/faults.md, "Test hooks"): the milliseconds of the
 * environment variable `name` (0 when unset), read once per process into
 * *cache (initially -1); and a sleep that signals do not cut short. */
long h5out_test_delay_ms(const char *name, long *cache);
void h5out_test_sleep_ms(long ms);

#endif
