/* score_cmd.c -- `sweep score MAPS.h5 -o OUT.h5 [--csv] [--force]`: score
 * any file of rate maps with the code the training uses (score/spatial.h,
 * score/gridgeom.h) and write the per-unit measures and classes.
 *
 * Dimensions: U units (maps), G bins per side.
 *
 * Input and output layouts: docs/cli.md ("sweep score"); the measures and
 * the rule: docs/spatial.md ("Grid geometry and classification").  The
 * thresholds are gridclass_defaults(); no null threshold is known for a
 * bare file of maps, so GRID uses score60 > score60_min.
 */
#include "cli/score_cmd.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/sweep.h"
#include "io/scorefile.h"
#include "score/gridgeom.h"
#include "score/spatial.h"

static const char score_usage[] =
    "usage: sweep score MAPS.h5 -o OUT.h5 [--force] [--csv]\n"
    "       sweep score MAPS.h5 --csv      (table on stdout only)\n";

/* The output columns, in file and CSV order. */
enum {
    COL_SCORE60, COL_SCORE90, COL_NPEAKS, COL_SPACING, COL_ORIENT, COL_ELLIP, COL_ANGSD,
    COL_BAND, COL_RAMP, COL_BORDER, COL_COHER, COL_SI, COL_CLASS, N_COLS
};

int score_main(int argc, char **argv)
{
    const char *out = NULL, *in_path = NULL;
    int csv = 0, force = 0, c, code = SWEEP_EXIT_USAGE;
    char err[1024] = "";
    ScoreInput in;
    GridScorer *g = NULL;
    float *col[N_COLS] = {NULL};
    signed char *cls = NULL, *npk = NULL;
    memset(&in, 0, sizeof in);

    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},
        {"csv", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (!*optarg) {
                snprintf(err, sizeof err, "-o needs a file name");
                goto usage;
            }
            out = optarg;
            break;
        case 'f': force = 1; break;
        case 'c': csv = 1; break;
        case 'h': fputs(score_usage, stdout); return SWEEP_EXIT_OK;
        case ':':
            snprintf(err, sizeof err, "option '%s' needs a value", argv[optind - 1]);
            goto usage;
        default:
            snprintf(err, sizeof err, "unknown option '%s' of score", argv[optind - 1]);
            goto usage;
        }
    }
    if (argc - optind != 1) {
        snprintf(err, sizeof err, "score expects one file of rate maps, got %d arguments", argc - optind);
        goto usage;
    }
    in_path = argv[optind];
    if (!out && !csv) {
        snprintf(err, sizeof err, "score needs -o OUT.h5 (or --csv)");
        goto usage;
    }
    if (out && strcmp(out, in_path) == 0) {
        snprintf(err, sizeof err, "score: the output '%s' is also the input", out);
        goto usage;
    }

    if (scorefile_read(in_path, &in, err, sizeof err) < 0) {
        fprintf(stderr, "sweep: score: %s\n", err);
        return SWEEP_EXIT_USAGE;
    }
    const int U = in.U, G = in.G;
    const size_t GG = (size_t)G * G;
    const GridClassParams p = gridclass_defaults();
    code = SWEEP_EXIT_IO;
    g = grid_scorer_new(G, SCORE_MEAN_DIFF);
    cls = malloc((size_t)U);
    npk = malloc((size_t)U);
    for (int k = 0; k < N_COLS; k++)
        if (k != COL_NPEAKS && k != COL_CLASS && !(col[k] = malloc((size_t)U * sizeof(float))))
            goto oom;
    if (!g || !cls || !npk)
        goto oom;
    for (int u = 0; u < U; u++) {
        GridUnit m;
        if (gridclass_measure(g, in.maps + u * GG, in.occ ? in.occ + u * GG : NULL, &p, &m) < 0)
            goto oom;
        col[COL_SCORE60][u] = m.score60;
        col[COL_SCORE90][u] = m.score90;
        npk[u] = (signed char)(m.geom.n_peaks > 127 ? 127 : m.geom.n_peaks);
        col[COL_SPACING][u] = (float)(m.geom.spacing * in.bin_cm);
        col[COL_ORIENT][u] = (float)m.geom.orientation_deg;
        col[COL_ELLIP][u] = (float)m.geom.ellipticity;
        col[COL_ANGSD][u] = (float)m.geom.angular_sd_deg;
        col[COL_BAND][u] = (float)m.band;
        col[COL_RAMP][u] = (float)m.ramp_r2;
        col[COL_BORDER][u] = (float)m.border;
        col[COL_COHER][u] = (float)m.coherence;
        col[COL_SI][u] = (float)m.spatial_info;
        cls[u] = (signed char)gridclass_classify(&m, G, NAN, &p);
    }

    const ScoreColumn cols[N_COLS] = {
        {"score60", SCOREFILE_F32, col[COL_SCORE60], "gridness, 60-degree symmetry (mean_diff)"},
        {"score90", SCOREFILE_F32, col[COL_SCORE90], "gridness, 90-degree symmetry"},
        {"n_peaks", SCOREFILE_I8, npk, "SAC peaks within ring_ratio x the nearest peak's distance"},
        {"spacing_cm", SCOREFILE_F32, col[COL_SPACING], "median distance of the six nearest SAC peaks, cm"},
        {"orientation_deg", SCOREFILE_F32, col[COL_ORIENT], "lattice axis nearest 0, degrees, [-90, 90)"},
        {"ellipticity", SCOREFILE_F32, col[COL_ELLIP], "minor/major axis of the ellipse through the six peaks"},
        {"angular_sd_deg", SCOREFILE_F32, col[COL_ANGSD], "s.d. of the six angular gaps between peaks, degrees"},
        {"band", SCOREFILE_F32, col[COL_BAND], "max fraction of non-DC spectral power within +-15 deg of one orientation"},
        {"ramp_r2", SCOREFILE_F32, col[COL_RAMP], "R^2 of a least-squares plane over the visited bins"},
        {"border", SCOREFILE_F32, col[COL_BORDER], "Solstad et al. 2008 border score"},
        {"coherence", SCOREFILE_F32, col[COL_COHER], "correlation of 4-adjacent visited bins"},
        {"spatial_info", SCOREFILE_F32, col[COL_SI], "Skaggs et al. 1993, bits per spike (NaN without /occupancy)"},
        {"grid_class", SCOREFILE_I8, cls, "class code; attribute classes names them in order"},
    };
    const ScoreAttr attrs[] = {
        {"score60_min", p.score60_min}, {"band_min", p.band_min},
        {"ramp_min", p.ramp_min}, {"border_min", p.border_min},
        {"min_periods", p.min_periods}, {"coherence_min", p.coherence_min},
        {"si_min", p.si_min}, {"peak_min_r", p.peak_min_r},
        {"min_sep_bins", p.min_sep}, {"ring_ratio", p.ring_ratio},
        {"band_half_width_deg", p.band_half_width}, {"border_field_frac", p.field_frac},
        {"border_min_bins", (double)p.min_bins}, {"null_threshold", NAN},
    };
    const ScoreAttr unit_attrs[] = {
        {"bin_cm", in.bin_cm}, {"G", (double)G}, {"n_units", (double)U},
    };
    const char *names[GRIDCLASS_N];
    for (int k = 0; k < GRIDCLASS_N; k++)
        names[k] = gridclass_name(k);

    if (out) {
        int w = scorefile_write(out, force, U, cols, N_COLS, "grid_class", names, GRIDCLASS_N, attrs,
                                (int)(sizeof attrs / sizeof attrs[0]), unit_attrs,
                                (int)(sizeof unit_attrs / sizeof unit_attrs[0]), err, sizeof err);
        if (w < 0) {
            fprintf(stderr, "sweep: score: %s\n", err);
            goto done;
        }
    }
    if (csv) {
        printf("unit");
        for (int k = 0; k < N_COLS; k++)
            printf(",%s", cols[k].name);
        printf("\n");
        for (int u = 0; u < U; u++) {
            printf("%d", u);
            for (int k = 0; k < N_COLS; k++) {
                if (k == COL_NPEAKS)
                    printf(",%d", npk[u]);
                else if (k == COL_CLASS)
                    printf(",%s", gridclass_name(cls[u]));
                else if (isnan(col[k][u]))
                    printf(",nan");
                else
                    printf(",%.7g", col[k][u]);
            }
            printf("\n");
        }
        if (fflush(stdout) != 0)
            goto done;
    }
    code = SWEEP_EXIT_OK;
    goto done;
oom:
    fprintf(stderr, "sweep: score: %s: out of memory (U = %d, G = %d)\n", in_path, U, G);
done:
    for (int k = 0; k < N_COLS; k++)
        free(col[k]);
    free(cls);
    free(npk);
    grid_scorer_free(g);
    scorefile_input_free(&in);
    return code;
usage:
    fprintf(stderr, "sweep: %s\n%s(see sweep --help)\n", err, score_usage);
    return SWEEP_EXIT_USAGE;
}
