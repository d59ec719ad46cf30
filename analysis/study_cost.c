/* study_cost.c -- the estimated cost of a sweep spec, for the studies
 * (docs/studies.md).  Sums task_cost() (src/task/train.c: floating-point
 * operations of training, evaluation, scoring, shuffle null and replay, the
 * scheduler's own estimate) over the spec's expanded tasks and turns it into
 * core-hours with a measured rate.
 *
 *   make BUILD=build study-cost
 *   build/study_cost [--gflops R] [--workers W] SPEC...
 *
 * One line per spec:
 *   SPEC: T tasks, F GFLOP, largest task G GFLOP, ~H core-h at R GFLOP/s, ~M min on W workers
 * The default rate (--gflops) is this project's calibration: one task of
 * sweeps/laptop/leak_vs_noise.yaml (N = 128, P = 128, batch 100, 4000 steps)
 * ran in 28 s on one core of the 2-core development machine under load
 * (docs/studies.md, "Cost estimates"); larger N run faster per flop
 * (docs/performance.md), so large specs are over-estimated rather than under.
 * Exit 0, or 2 if a spec does not parse (its error on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/spec.h"
#include "task/train.h"

int main(int argc, char **argv)
{
    double gflops = 55.0; /* GFLOP/s of one core (calibrated, see above) */
    int workers = 2, rc = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--gflops") && i + 1 < argc)
            gflops = atof(argv[++i]);
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
            workers = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: study_cost [--gflops R] [--workers W] SPEC...\n");
            return 2;
        }
    }
    if (i >= argc || gflops <= 0 || workers < 1) {
        fprintf(stderr, "usage: study_cost [--gflops R] [--workers W] SPEC...\n");
        return 2;
    }
    for (; i < argc; i++) {
        Spec s;
        char err[1024];
        memset(&s, 0, sizeof s);
        if (spec_load(&s, argv[i], err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            spec_free(&s);
            rc = 2;
            continue;
        }
        double total = 0, big = 0;
        for (int t = 0; t < s.n_tasks; t++) {
            double c = task_cost(&s.tasks[t]);
            total += c;
            if (c > big)
                big = c;
        }
        double sec = total / (gflops * 1e9), wall = sec / workers;
        if (big / (gflops * 1e9) > wall)
            wall = big / (gflops * 1e9);
        printf("%s: %d tasks, %.4g GFLOP, largest task %.4g GFLOP, ~%.3g core-h at %g GFLOP/s, ~%.3g min on %d workers\n",
               argv[i], s.n_tasks, total / 1e9, big / 1e9, sec / 3600.0, gflops, wall / 60.0, workers);
        spec_free(&s);
    }
    return rc;
}
