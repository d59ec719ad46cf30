/* cli.h -- the command line of the sweep program (cli.c).
 * main.c only calls cli_main(); everything else lives in the library. */
#ifndef SWEEP_CLI_H
#define SWEEP_CLI_H

/* Parse argv, dispatch to the sub-command, return the process exit status
 * (sweep.h: SWEEP_EXIT_*). */
int cli_main(int argc, char **argv);

#endif
