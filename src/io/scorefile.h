/* scorefile.h -- the HDF5 side of `sweep score` (scorefile.c): read a file
 * of rate maps, write a file of per-unit scores.
 *
 * Dimensions: U units (maps), G bins per side.
 *
 * Plain serial HDF5 (default property lists) on the parallel library: no
 * MPI is initialised.  The layouts are docs/cli.md's ("sweep score").
 *
 * Ownership: scorefile_read fills a ScoreInput whose arrays it allocates;
 * scorefile_input_free releases them (safe on a zeroed struct).
 * scorefile_write only reads its arguments.
 */
#ifndef SWEEP_SCOREFILE_H
#define SWEEP_SCOREFILE_H

#include <stddef.h>

#define SCOREFILE_MIN_G 8      /* smallest map side accepted */
#define SCOREFILE_MAX_G 1024   /* largest (the SAC costs ~2.5 G^4 flops) */

typedef struct ScoreInput {
    int U, G;
    float *maps;        /* (U, G, G) as float32, NaN = unvisited */
    double bin_cm;      /* attribute bin_cm of /ratemaps, or 220 / G */
    int bin_cm_given;   /* 1 when the attribute was present */
    double *occ;        /* (U, G, G) occupancy, or NULL when /occupancy is absent
                           (a (G, G) dataset is repeated for every unit) */
} ScoreInput;

/* Read /ratemaps (U, G, G), float32 or float64, with its optional
 * attribute bin_cm (> 0, finite), and the optional /occupancy (U, G, G) or
 * (G, G), any float type, finite and >= 0.  Rejected, with a one-line
 * message in err naming the file and the dataset: an unopenable file,
 * /ratemaps missing, not a float dataset, rank != 3, non-square maps, G
 * outside [SCOREFILE_MIN_G, SCOREFILE_MAX_G], U = 0, +-Inf values, no
 * finite value at all; a bad bin_cm; an /occupancy of another shape or type
 * or with negative / non-finite values.  Returns 0, or -1 (in untouched). */
int scorefile_read(const char *path, ScoreInput *in, char *err, size_t errlen);
void scorefile_input_free(ScoreInput *in);

/* One output dataset /units/NAME, shape (U). */
typedef enum { SCOREFILE_F32, SCOREFILE_I8 } ScoreColType;
typedef struct ScoreColumn {
    const char *name;
    ScoreColType type;
    const void *data;       /* (U) float or signed char */
    const char *doc;        /* attribute "doc" of the dataset, or NULL */
} ScoreColumn;

/* A double attribute. */
typedef struct ScoreAttr {
    const char *name;
    double value;
} ScoreAttr;

/* Write path: /units/<column> for every column; the column class_col also
 * gets the string-array attribute "classes" (class_names, in code order)
 * and every attribute of attrs (the thresholds); the group /units gets
 * unit_attrs.  Written to "path.tmp" and renamed onto path at the end, so
 * path is either absent, the old file, or complete.
 * Returns 0; -2 when path exists and force is 0 (nothing written); -1 on
 * an HDF5 or file-system error (the .tmp file is removed).  err gets a
 * one-line message on failure. */
int scorefile_write(const char *path, int force, int U, const ScoreColumn *cols,
                    int ncols, const char *class_col, const char *const *class_names,
                    int n_classes, const ScoreAttr *attrs, int nattrs,
                    const ScoreAttr *unit_attrs, int n_unit_attrs, char *err,
                    size_t errlen);

#endif
