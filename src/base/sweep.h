/* sweep.h -- version and exit statuses of the sweep program. */
#ifndef SWEEP_SWEEP_H
#define SWEEP_SWEEP_H

#define SWEEP_VERSION "0.1.0"

/* Exit statuses (documented in docs/cli.md). */
enum {
    SWEEP_EXIT_OK = 0,          /* every task done (or diverged: recorded) */
    SWEEP_EXIT_FAILURES = 1,    /* finished, but some tasks failed */
    SWEEP_EXIT_USAGE = 2,       /* bad command line or bad spec */
    SWEEP_EXIT_INCOMPLETE = 3,  /* stopped early (signal / time limit): resume me */
    SWEEP_EXIT_IO = 4           /* result file refused or unusable */
};

#endif
