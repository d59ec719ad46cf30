/* check.h -- error-checking macros and logging shared by every module.
 *
 * CHECK_MPI(x) evaluates x exactly once; on failure it prints the call,
 * file, line and MPI rank and aborts the whole job through MPI_Abort (never
 * exit()).  Use it where a failure means the job cannot go on.  HDF5 calls
 * have no such macro: every HDF5 failure is reported (return -1, a message)
 * and handled by the caller (a task row that cannot be written fails the
 * task, a file that cannot be created or opened is refused).
 */
#ifndef SWEEP_CHECK_H
#define SWEEP_CHECK_H

#include <stdio.h>

/* This process's MPI rank, or -1 before MPI_Init / without MPI. */
int sweep_rank(void);

/* Format seconds as "1:02:03" / "2:03" into buf ("?" for a negative or
 * non-finite number); returns buf. */
char *sweep_hms(double s, char *buf, size_t len);

/* Print "sweep[rank]: <msg>" to stderr (printf-style, newline added). */
void sweep_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a fatal message with file/line/rank and MPI_Abort (or abort()
 * when MPI is not initialised). */
_Noreturn void sweep_fatal(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define CHECK_MPI(x)                                                          \
    do {                                                                      \
        int check_rc_ = (x);                                                  \
        if (check_rc_ != 0 /* MPI_SUCCESS */)                                 \
            sweep_fatal(__FILE__, __LINE__, "%s failed (MPI error %d)", #x,   \
                        check_rc_);                                           \
    } while (0)

#endif
