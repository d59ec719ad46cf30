/* lock.h -- the writer's lock on the side file PATH.lock.
 *
 * A writer (rank 0 of the communicator) holds an exclusive flock on
 * PATH.lock, so that a second sweep writing the same result file is
 * refused.  Not on the result file itself: HDF5 readers (h5py, h5dump)
 * flock that one and must be able to read it while the sweep runs.  The
 * lock goes with the process (kill -9 included); lock_release also removes
 * the side file.  SWEEP_NO_LOCK=1 in rank 0's environment skips it after a
 * warning (docs/running.md, "File locking on shared file systems").
 *
 * Ownership: an OutLock owns its descriptor; lock_release closes it.
 */
#ifndef SWEEP_LOCK_H
#define SWEEP_LOCK_H

#include <mpi.h>
#include <stddef.h>

typedef struct OutLock {
    int fd;              /* rank 0 of a writer: the flock'ed PATH.lock, else -1 */
    char path[4104];     /* PATH.lock */
} OutLock;

/* An OutLock that holds nothing (safe to release). */
void lock_init(OutLock *l);

/* Take the lock of result file `path`.  Collective over comm; returns 0,
 * or -1 with the same message in err on every rank (in use by another
 * sweep, or a file system that cannot lock). */
int lock_acquire(OutLock *l, const char *path, MPI_Comm comm, char *err, size_t errlen);

/* Remove PATH.lock and drop the lock (no-op when none is held).  Returns
 * 0, or -1 when closing the descriptor failed.  Independent. */
int lock_release(OutLock *l);

#endif
