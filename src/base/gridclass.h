/* gridclass.h -- the per-unit classes of docs/spatial.md ("Classification"),
 * as one X-macro table that every layer may read: score/gridgeom.h
 * classifies with it, base/result.h sizes the per-task fractions with it,
 * io names the /units/grid_class codes and the /tasks frac_<class>
 * columns with it.
 *
 * GRIDCLASS_TABLE(X): X(NAME, name) per class, in the order of their
 * integer codes (the code stored in /units/grid_class); NAME is the class
 * name ("GRID"), name the suffix of its /tasks column (frac_grid).
 */
#ifndef SWEEP_GRIDCLASS_H
#define SWEEP_GRIDCLASS_H

#define GRIDCLASS_TABLE(X)                 \
    X(NON_SPATIAL, non_spatial)            \
    X(OTHER_SPATIAL, other_spatial)        \
    X(BORDER, border)                      \
    X(BAND, band)                          \
    X(RAMP, ramp)                          \
    X(GRID, grid)

typedef enum {
#define GRIDCLASS_ENUM_(NAME, name) GRIDCLASS_##NAME,
    GRIDCLASS_TABLE(GRIDCLASS_ENUM_)
#undef GRIDCLASS_ENUM_
    GRIDCLASS_N
} GridClass;

#endif
