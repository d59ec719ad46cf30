/* cli.h -- the command line of the sweep program (cli.c).
 * main.c only calls cli_main(); everything else lives in the library.
 * docs/cli.md describes the commands, flags and exit statuses. */
#ifndef SWEEP_CLI_H
#define SWEEP_CLI_H

#include <stddef.h>

typedef enum {
    CLI_RUN = 0,     /* sweep SPEC [--resume] [--force] [-o FILE] [--time-limit S] [--shard i/N] */
    CLI_DRY_RUN,     /* sweep --dry-run SPEC (also accepts the run flags) */
    CLI_RUN_ONE,     /* sweep run-one SPEC --task K -o FILE */
    CLI_STATUS,      /* sweep status FILE */
    CLI_MERGE,       /* sweep merge -o OUT IN... */
    CLI_HELP,        /* sweep --help */
    CLI_VERSION,     /* sweep --version */
    CLI_SETTINGS,    /* sweep --settings: the markdown table of every setting */
    CLI_COLUMNS      /* sweep --columns: the markdown table of the /tasks result columns */
} CliCommand;

/* The parsed command line.  Strings point into argv (not owned).
 * Before run_sweep / run_one are called, cli_main fills the values the
 * spec supplies when a flag is absent: output (spec output.file) and
 * time_limit (spec output.time_limit), so they are the effective values. */
typedef struct CliArgs {
    CliCommand cmd;
    const char *spec_path;  /* SPEC (run, dry-run, run-one), else NULL */
    const char *output;     /* -o FILE; NULL if not given (run: spec's output.file) */
    const char *file;       /* status FILE */
    int resume;             /* --resume: continue an existing result file of the same spec */
    int force;              /* --force: overwrite an existing result file */
    double time_limit;      /* --time-limit S (seconds, 0 = none); -1 if not given */
    int shard_index;        /* --shard i/N: run only tasks with id % N == i; default 0/1 */
    int shard_count;
    long task;              /* --task K (run-one); -1 if not given */
    int n_inputs;           /* merge IN... */
    char **inputs;          /* (n_inputs) pointers into argv */
} CliArgs;

/* Parse argv into a (no side effects, no output).  Returns 0, or -1 with a
 * one-line message in err (a usage error: exit status 2). */
int cli_parse(CliArgs *a, int argc, char **argv, char *err, size_t errlen);

/* Parse argv, dispatch to the sub-command, return the process exit status
 * (sweep.h: SWEEP_EXIT_*). */
int cli_main(int argc, char **argv);

#endif
