/* zz_run_weak.c -- weak fallbacks for the sub-commands of run.h, so the
 * program links while the modules that implement them are being written.
 * To be deleted once sched/h5out provide every sub-command.
 *
 * The name sorts last on purpose: from a static archive (libsweep.a, whose
 * members are in sorted order) the linker takes the first member that
 * defines an undefined symbol, weak or not.  A weak fallback in an earlier
 * member (run_weak.o before sched.o) would win over the real definition. */
#include <stdio.h>

#include "run.h"
#include "sweep.h"

static int not_built(const char *what)
{
    fprintf(stderr, "sweep: %s is not built yet\n", what);
    return SWEEP_EXIT_USAGE;
}

__attribute__((weak)) int run_sweep(const Spec *spec, const CliArgs *args, int argc, char **argv)
{
    return not_built("run");
}

__attribute__((weak)) int run_one(const Spec *spec, const CliArgs *args, int argc, char **argv)
{
    return not_built("run-one");
}

__attribute__((weak)) int run_status(const CliArgs *args) { return not_built("status"); }

__attribute__((weak)) int run_merge(const CliArgs *args) { return not_built("merge"); }
