/* flock_fail.c -- LD_PRELOAD shim for tests/t_lock_unsupported.sh.
 *
 * Makes flock(2) fail, as on a file system without flock support (Lustre
 * mounted without -o flock: ENOSYS; NFS without a lock daemon: ENOLCK), for
 * every descriptor whose path contains FLOCK_FAIL_MATCH (default ".h5");
 * other descriptors get the real flock.  FLOCK_FAIL_ERRNO names the error:
 * ENOSYS (default), ENOLCK, EOPNOTSUPP or EINVAL.
 *
 *   cc -shared -fPIC -o flock_fail.so tests/flock_fail.c -ldl
 *   LD_PRELOAD=$PWD/flock_fail.so sweep SPEC -o r.h5
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail_errno(void)
{
    const char *e = getenv("FLOCK_FAIL_ERRNO");
    if (!e || !*e || strcmp(e, "ENOSYS") == 0) return ENOSYS;
    if (strcmp(e, "ENOLCK") == 0) return ENOLCK;
    if (strcmp(e, "EOPNOTSUPP") == 0) return EOPNOTSUPP;
    if (strcmp(e, "EINVAL") == 0) return EINVAL;
    return ENOSYS;
}

int flock(int fd, int op)
{
    const char *match = getenv("FLOCK_FAIL_MATCH");
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n >= 0) {
        path[n] = '\0';
        if (strstr(path, match && *match ? match : ".h5")) {
            errno = fail_errno();
            return -1;
        }
    }
    int (*real)(int, int) = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(fd, op);
}
