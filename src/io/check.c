/* check.c -- logging and fatal errors. */
#include "io/check.h"

#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdlib.h>

int sweep_rank(void)
{
    int init = 0, fin = 0, rank = -1;
    MPI_Initialized(&init);
    MPI_Finalized(&fin);
    if (init && !fin) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

void sweep_log(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int r = sweep_rank();
    if (r >= 0)
        fprintf(stderr, "sweep[%d]: %s\n", r, buf);
    else
        fprintf(stderr, "sweep: %s\n", buf);
}

_Noreturn void sweep_fatal(const char *file, int line, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int r = sweep_rank();
    fprintf(stderr, "sweep[rank %d]: fatal: %s (%s:%d)\n", r, buf, file, line);
    fflush(stderr);
    if (r >= 0) MPI_Abort(MPI_COMM_WORLD, 70);
    abort();
}

char *sweep_hms(double s, char *buf, size_t len)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    long t = lround(s);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
    return buf;
}
