/* run.h -- the sub-commands behind the command line (cli.c dispatches here).
 *
 * Each returns the process exit status (sweep.h: SWEEP_EXIT_*).  argc/argv
 * are the whole command line (for MPI_Init and for the result file's
 * record of the command).  spec is parsed and validated; args are the
 * parsed flags with output and time_limit already resolved (cli.h).
 * `sweep status` and `sweep merge` are io's (io/status.h, io/merge.h).
 */
#ifndef SWEEP_RUN_H
#define SWEEP_RUN_H

#include "cli/cli.h"
#include "spec/spec.h"

int run_sweep(const Spec *spec, const CliArgs *args, int argc, char **argv);  /* mpirun job */
int run_one(const Spec *spec, const CliArgs *args, int argc, char **argv);    /* one task, one process */

#endif
