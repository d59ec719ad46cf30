/* lock.c -- flock of PATH.lock for the writer of a result file.
 *
 * A file system that cannot lock (flock fails with ENOSYS, ENOLCK,
 * EOPNOTSUPP, ...: Lustre without -o flock, NFS without a lock daemon) is
 * refused with a message that names the file, the reason and the ways
 * out: with no lock nothing would stop a second sweep from writing the
 * same file and corrupting it.  SWEEP_NO_LOCK=1 skips the lock altogether
 * (no open, no flock: a hung NFS lock daemon cannot block the start).
 */
#include "io/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/check.h"

enum { LOCK_HELD = 0, LOCK_SKIPPED = 1, LOCK_BUSY = 2, LOCK_NO_OPEN = 3, LOCK_NO_FLOCK = 4 };

void lock_init(OutLock *l)
{
    l->fd = -1;
    l->path[0] = '\0';
}

/* Rank 0: open and flock l->path into l->fd.  Returns a LOCK_* state;
 * *eno gets errno for LOCK_NO_OPEN / LOCK_NO_FLOCK. */
static int lock_take(OutLock *l, int *eno)
{
    const char *nl = getenv("SWEEP_NO_LOCK");
    if (nl && strcmp(nl, "1") == 0) return LOCK_SKIPPED;
    /* a clean close unlinks PATH.lock: if it was unlinked between our open
     * and our flock, the lock we hold is on a file nobody else will see;
     * check the path still names our file, and retry a few times if not */
    for (int attempt = 0; attempt < 5; attempt++) {
        int created = 1;
        int fd = open(l->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 && errno == EEXIST) {
            created = 0;
            fd = open(l->path, O_RDWR | O_CLOEXEC);
            if (fd < 0 && errno == EACCES) fd = open(l->path, O_RDONLY | O_CLOEXEC);   /* another user's */
            if (fd < 0 && errno == ENOENT) continue;   /* removed meanwhile: try again */
        }
        if (fd < 0) {
            *eno = errno;
            return LOCK_NO_OPEN;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            *eno = errno;
            /* not ours: never unlink it, unless we just made it for nothing */
            if (created && *eno != EWOULDBLOCK) unlink(l->path);
            close(fd);
            return *eno == EWOULDBLOCK ? LOCK_BUSY : LOCK_NO_FLOCK;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(l->path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            l->fd = fd;
            return LOCK_HELD;
        }
        close(fd);
    }
    *eno = EWOULDBLOCK;   /* another sweep keeps making and removing it */
    return LOCK_BUSY;
}

int lock_acquire(OutLock *l, const char *path, MPI_Comm comm, char *err, size_t errlen)
{
    int rank, st[2] = {LOCK_HELD, 0};
    CHECK_MPI(MPI_Comm_rank(comm, &rank));
    snprintf(l->path, sizeof l->path, "%s.lock", path);
    if (rank == 0) {
        st[0] = lock_take(l, &st[1]);
        if (st[0] == LOCK_SKIPPED) {
            fprintf(stderr,
                    "sweep: WARNING: SWEEP_NO_LOCK=1: %s is NOT locked; nothing stops a second sweep from "
                    "writing it at the same time and corrupting it: make sure none does\n",
                    path);
            fflush(stderr);
        }
    }
    CHECK_MPI(MPI_Bcast(st, 2, MPI_INT, 0, comm));
    const char *why = strerror(st[1]);
    switch (st[0]) {
    case LOCK_BUSY:
        snprintf(err, errlen, "%s is in use by another running sweep (%s is locked)", path, l->path);
        return -1;
    case LOCK_NO_OPEN:
        snprintf(err, errlen,
                 "cannot create the lock file %s (%s), which keeps a second sweep from writing %s at the "
                 "same time; fix its permissions or remove it, or set SWEEP_NO_LOCK=1 to run without the "
                 "lock (then make sure no other sweep writes %s)",
                 l->path, why, path, path);
        return -1;
    case LOCK_NO_FLOCK:
        snprintf(err, errlen,
                 "cannot lock %s (%s): the file system of %s does not support flock(2), so a second sweep "
                 "writing the same file could not be stopped. Mount it with locking (Lustre: -o flock; "
                 "NFS: a running lock daemon, no -o nolock), or write the result to a file system that "
                 "locks (and copy it afterwards), or set SWEEP_NO_LOCK=1 to run without the lock (then "
                 "make sure no other sweep writes %s; docs/running.md)",
                 l->path, why, path, path);
        return -1;
    default:
        return 0;
    }
}

int lock_release(OutLock *l)
{
    int rc = 0;
    if (l->fd >= 0) {
        unlink(l->path);
        if (close(l->fd) != 0) rc = -1;
        l->fd = -1;
    }
    return rc;
}
