/* cli.c -- the command line: parse, load the spec, dispatch (run.h).
 *
 * Only this file decides exit statuses (sweep.h).  --help, --version,
 * --settings, --columns and --dry-run never call MPI_Init and never train.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/run.h"
#include "cli/score_cmd.h"
#include "io/merge.h"
#include "io/rows.h"
#include "io/status.h"
#include "spec/spec.h"
#include "base/sweep.h"

static const char usage_text[] =
    "usage: sweep [options] SPEC              run a sweep (under mpirun)\n"
    "       sweep --dry-run SPEC              print the expanded task table\n"
    "       sweep run-one SPEC --task K -o FILE [--resume | --force]\n"
    "       sweep status FILE\n"
    "       sweep merge -o OUT IN...\n"
    "       sweep score MAPS.h5 -o OUT.h5 [--force] [--csv]\n"
    "       sweep --help | --version | --settings | --columns\n";

static const char help_text[] =
    "\n"
    "Train one small path-integrating RNN per task of a YAML sweep spec and\n"
    "write every result into one HDF5 file (docs/spec.md, docs/cli.md).\n"
    "\n"
    "Commands:\n"
    "  sweep SPEC             run every task of SPEC, under mpirun: rank 0\n"
    "                         schedules, the other ranks train\n"
    "  sweep --dry-run SPEC   parse and validate SPEC, print the tasks (id and\n"
    "                         axis values) and the counts; no MPI, no training\n"
    "  run-one SPEC           run the single task --task K into -o FILE (no scheduler)\n"
    "  status FILE            summarise a result file (done, pending, failed tasks)\n"
    "  merge -o OUT IN...     merge result files of shards of the same spec\n"
    "  score MAPS.h5 -o OUT   score the rate maps /ratemaps (U, G, G) of any HDF5\n"
    "                         file: gridness, SAC peak geometry, band, ramp,\n"
    "                         border, spatial information, class per unit\n"
    "                         (--csv: also a table on stdout; --force: overwrite\n"
    "                         OUT; docs/cli.md)\n"
    "\n"
    "Options:\n"
    "  -n, --dry-run          as above (the run options are accepted and ignored)\n"
    "  -o, --output FILE      result file (run: default output.file of the spec,\n"
    "                         else results.h5; required for run-one and merge)\n"
    "      --resume           continue an existing result file of the same spec\n"
    "                         (same spec hash): run only the unfinished tasks\n"
    "      --force            overwrite an existing result file (without\n"
    "                         --resume or --force an existing file is refused)\n"
    "      --time-limit S     stop starting tasks S seconds after the start and\n"
    "                         exit 3 (default output.time_limit; 0 = none)\n"
    "      --shard i/N        run only tasks whose id % N == i (0 <= i < N)\n"
    "      --task K           the task id for run-one (0 <= K < number of tasks)\n"
    "      --settings         print the table of every setting (markdown)\n"
    "      --columns          print the table of the result file's /tasks columns (markdown)\n"
    "  -h, --help             this help\n"
    "  -V, --version          print the version\n"
    "\n"
    "Exit status:\n"
    "  0  every task done (a diverged task counts: it is recorded)\n"
    "  1  finished, but some tasks failed\n"
    "  2  bad command line or bad spec (the message says file:line:column)\n"
    "  3  stopped early (signal or time limit): run again with --resume\n"
    "  4  result file refused or unusable\n";

enum { OPT_RESUME = 256, OPT_FORCE, OPT_TIME_LIMIT, OPT_SHARD, OPT_TASK, OPT_SETTINGS, OPT_COLUMNS };

static const struct option long_opts[] = {
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {"dry-run", no_argument, NULL, 'n'},
    {"output", required_argument, NULL, 'o'},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"force", no_argument, NULL, OPT_FORCE},
    {"time-limit", required_argument, NULL, OPT_TIME_LIMIT},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"task", required_argument, NULL, OPT_TASK},
    {"settings", no_argument, NULL, OPT_SETTINGS},
    {"columns", no_argument, NULL, OPT_COLUMNS},
    {NULL, 0, NULL, 0},
};

/* Whole-string integer in [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    if (!s || !*s) return -1;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_parse(CliArgs *a, int argc, char **argv, char *err, size_t errlen)
{
    int help = 0, version = 0, dry = 0, settings = 0, columns = 0, c;
    int have_resume = 0, have_shard = 0;
    const char *sub = NULL;
    memset(a, 0, sizeof *a);
    a->time_limit = -1;
    a->shard_count = 1;
    a->task = -1;
    err[0] = '\0';
    if (argc >= 2 && (strcmp(argv[1], "run-one") == 0 || strcmp(argv[1], "status") == 0 ||
                      strcmp(argv[1], "merge") == 0))
        sub = argv[1];
    int first = sub ? 2 : 1;
    /* getopt_long over argv[first-1 ..]: argv[first-1] plays the program name */
    int gargc = argc - (first - 1);
    char **gargv = argv + (first - 1);
    optind = 0; /* full re-initialisation (glibc) */
    opterr = 0;
    while ((c = getopt_long(gargc, gargv, ":hVno:", long_opts, NULL)) != -1) {
        const char *arg = optarg;
        long v;
        switch (c) {
        case 'h': help = 1; break;
        case 'V': version = 1; break;
        case 'n': dry = 1; break;
        case OPT_SETTINGS: settings = 1; break;
        case OPT_COLUMNS: columns = 1; break;
        case 'o':
            if (!*arg) { snprintf(err, errlen, "-o needs a file name"); return -1; }
            a->output = arg;
            break;
        case OPT_RESUME: a->resume = 1; have_resume = 1; break;
        case OPT_FORCE: a->force = 1; break;
        case OPT_TIME_LIMIT: {
            char *end;
            double t = strtod(arg, &end);
            if (!*arg || *end != '\0' || !(t >= 0) || t > 1e12) {
                snprintf(err, errlen, "--time-limit expects seconds >= 0, got '%s'", arg);
                return -1;
            }
            a->time_limit = t;
            break;
        }
        case OPT_SHARD: {
            const char *slash = strchr(arg, '/');
            char left[32];
            long i, n;
            if (!slash || (size_t)(slash - arg) >= sizeof left) goto bad_shard;
            memcpy(left, arg, (size_t)(slash - arg));
            left[slash - arg] = '\0';
            if (parse_long(left, 0, 1000000, &i) < 0 || parse_long(slash + 1, 1, 1000000, &n) < 0 || i >= n)
                goto bad_shard;
            a->shard_index = (int)i;
            a->shard_count = (int)n;
            have_shard = 1;
            break;
        bad_shard:
            snprintf(err, errlen, "--shard expects i/N with 0 <= i < N, got '%s'", arg);
            return -1;
        }
        case OPT_TASK:
            if (parse_long(arg, 0, 1000000000L, &v) < 0) {
                snprintf(err, errlen, "--task expects a task id >= 0, got '%s'", arg);
                return -1;
            }
            a->task = v;
            break;
        case ':':
            snprintf(err, errlen, "option '%s' needs a value", gargv[optind - 1]);
            return -1;
        default:
            if (optopt)
                snprintf(err, errlen, "unknown option '-%c'", optopt);
            else
                snprintf(err, errlen, "unknown option '%s'", gargv[optind - 1]);
            return -1;
        }
    }
    int npos = gargc - optind;
    char **pos = gargv + optind;
    if (help) { a->cmd = CLI_HELP; return 0; }
    if (version) { a->cmd = CLI_VERSION; return 0; }
    if (settings) { a->cmd = CLI_SETTINGS; return 0; }
    if (columns) { a->cmd = CLI_COLUMNS; return 0; }
    if (a->resume && a->force) {
        snprintf(err, errlen, "--resume and --force contradict each other: choose one");
        return -1;
    }
    if (!sub) {
        a->cmd = dry ? CLI_DRY_RUN : CLI_RUN;
        if (a->task >= 0) {
            snprintf(err, errlen, "--task is only for 'sweep run-one'");
            return -1;
        }
        if (npos != 1) {
            snprintf(err, errlen, npos == 0 ? "no spec given" : "expected one spec, got %d arguments", npos);
            return -1;
        }
        a->spec_path = pos[0];
        return 0;
    }
    if (dry) {
        snprintf(err, errlen, "--dry-run is not an option of '%s'", sub);
        return -1;
    }
    if (strcmp(sub, "run-one") == 0) {
        a->cmd = CLI_RUN_ONE;
        if (npos != 1) {
            snprintf(err, errlen, "run-one expects one spec, got %d arguments", npos);
            return -1;
        }
        if (a->task < 0 || !a->output) {
            snprintf(err, errlen, "run-one needs --task K and -o FILE");
            return -1;
        }
        if (have_shard) {
            snprintf(err, errlen, "run-one takes no --shard");
            return -1;
        }
        a->spec_path = pos[0];
        return 0;
    }
    if (a->task >= 0 || have_shard || have_resume || a->force || a->time_limit >= 0) {
        snprintf(err, errlen, "'%s' takes none of --task, --shard, --resume, --force, --time-limit", sub);
        return -1;
    }
    if (strcmp(sub, "status") == 0) {
        a->cmd = CLI_STATUS;
        if (a->output) {
            snprintf(err, errlen, "status takes no -o");
            return -1;
        }
        if (npos != 1) {
            snprintf(err, errlen, "status expects one result file, got %d arguments", npos);
            return -1;
        }
        a->file = pos[0];
        return 0;
    }
    a->cmd = CLI_MERGE;
    if (!a->output) {
        snprintf(err, errlen, "merge needs -o OUT");
        return -1;
    }
    if (npos < 1) {
        snprintf(err, errlen, "merge needs at least one input file");
        return -1;
    }
    for (int i = 0; i < npos; i++)
        if (strcmp(pos[i], a->output) == 0) {
            snprintf(err, errlen, "merge: the output '%s' is also an input", a->output);
            return -1;
        }
    a->n_inputs = npos;
    a->inputs = pos;
    return 0;
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "sweep: %s\n%s(see sweep --help)\n", msg, usage_text);
    return SWEEP_EXIT_USAGE;
}

static void print_dry_run(const Spec *s, const CliArgs *a)
{
    printf("spec: %s\n", s->path);
    if (s->name[0]) printf("name: %s\n", s->name);
    printf("hash: %s\n", s->hash);
    printf("output: %s\n", a->output);
    if (a->shard_count > 1) printf("shard: %d/%d (tasks with id %% %d == %d)\n", a->shard_index, a->shard_count,
                                   a->shard_count, a->shard_index);
    spec_print_tasks(s, stdout);
}

int cli_main(int argc, char **argv)
{
    CliArgs a;
    Spec spec;
    char err[1024];
    int rc;
    memset(&spec, 0, sizeof spec);
    if (argc >= 2 && strcmp(argv[1], "score") == 0)
        return score_main(argc - 1, argv + 1);   /* its own options (score_cmd.c) */
    if (cli_parse(&a, argc, argv, err, sizeof err) < 0) return usage_error(err);
    switch (a.cmd) {
    case CLI_HELP:
        fputs(usage_text, stdout);
        fputs(help_text, stdout);
        return SWEEP_EXIT_OK;
    case CLI_VERSION:
        printf("sweep %s\n", SWEEP_VERSION);
        return SWEEP_EXIT_OK;
    case CLI_SETTINGS:
        spec_print_settings_table(stdout);
        return SWEEP_EXIT_OK;
    case CLI_COLUMNS:
        rows_print_columns_table(stdout);
        return SWEEP_EXIT_OK;
    case CLI_STATUS:
        return status_main(a.file);
    case CLI_MERGE:
        return merge_main(a.output, a.n_inputs, a.inputs);
    default:
        break;
    }
    if (spec_load(&spec, a.spec_path, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return SWEEP_EXIT_USAGE;
    }
    if (!a.output) a.output = spec.output;
    if (a.time_limit < 0) a.time_limit = spec.time_limit;
    /* sbatch --cpus-per-task=k: k OpenBLAS threads per task unless the spec says */
    int env_threads = spec_threads_from_env(&spec);
    if (env_threads && a.cmd == CLI_DRY_RUN)
        fprintf(stderr, "sweep: %d threads per task (SLURM_CPUS_PER_TASK; the spec sets no train.threads)\n",
                env_threads);
    if (a.cmd == CLI_RUN_ONE && a.task >= spec.n_tasks) {
        fprintf(stderr, "sweep: --task %ld is out of range: %s has %d task%s (ids 0..%d)\n", a.task, spec.path,
                spec.n_tasks, spec.n_tasks == 1 ? "" : "s", spec.n_tasks - 1);
        spec_free(&spec);
        return SWEEP_EXIT_USAGE;
    }
    switch (a.cmd) {
    case CLI_DRY_RUN:
        print_dry_run(&spec, &a);
        rc = fflush(stdout) == 0 ? SWEEP_EXIT_OK : SWEEP_EXIT_IO;
        break;
    case CLI_RUN_ONE: rc = run_one(&spec, &a, argc, argv); break;
    default: rc = run_sweep(&spec, &a, argc, argv); break;
    }
    spec_free(&spec);
    return rc;
}
