/* arena.h -- arena shapes: containment, uniform sampling, wall geometry.
 *
 * Positions are metres, every arena is centred on the origin (its bounding
 * box is symmetric: xmin = -xmax, ymin = -ymax).  Shapes (cfg->arena,
 * L = cfg->arena_size; docs/model-task.md has the pictures):
 *   square    side L                                   box L x L
 *   circle    diameter L                               box L x L
 *   triangle  equilateral, side L, base at the bottom  box L x (sqrt(3)/2) L
 *   hexagon   regular, vertex-to-vertex width L,
 *             flat top and bottom                      box L x (sqrt(3)/2) L
 *   tmaze     a T of corridors of width w = L/5: a horizontal bar across
 *             the full width at the top (y in [L/2 - w, L/2]) and a stem
 *             down the middle (x in [-w/2, w/2]) to y = -L/2   box L x L
 * Every shape but the circle is a polygon with counter-clockwise vertices.
 * An Arena is a plain value (no pointers, nothing to free).
 */
#ifndef SWEEP_ARENA_H
#define SWEEP_ARENA_H

#include "base/config.h"
#include "model/rng.h"

#define ARENA_MAX_VERTS 8
#define ARENA_TMAZE_WIDTH_FRAC 0.2   /* T-maze corridor width / arena_size */

typedef struct Arena {
    int shape;                    /* ArenaShape (config.h) */
    double size;                  /* L = cfg->arena_size, m */
    double xmin, xmax, ymin, ymax; /* bounding box, m */
    double radius;                /* circle: L / 2; 0 for polygons */
    double corridor;              /* tmaze: corridor width w; 0 otherwise */
    int nv;                       /* polygon vertices (0 for the circle) */
    double vx[ARENA_MAX_VERTS], vy[ARENA_MAX_VERTS]; /* (nv) CCW, edge i runs v[i] -> v[(i+1) % nv] */
    int convex;                   /* polygon with every turn to the left (square, triangle, hexagon) */
    double nx[ARENA_MAX_VERTS], ny[ARENA_MAX_VERTS]; /* (nv) unit inward normal of edge i (convex only) */
} Arena;

/* Build the arena of cfg->arena with extent cfg->arena_size.  Returns -1 for
 * an unknown shape or a size that is not finite and positive. */
int arena_init(Arena *a, const TaskConfig *cfg);

/* 1 if (x, y) is inside (or on the wall of) the arena, else 0. */
int arena_contains(const Arena *a, double x, double y);

/* Uniform position inside the arena: rejection sampling in the bounding
 * box (uses 2 rng_uniform per attempt). */
void arena_sample(const Arena *a, Rng *r, double *x, double *y);

/* Area, m^2. */
double arena_area(const Arena *a);

/* Nearest wall: returns the distance from (x, y), inside the arena, to the
 * closest point q of any wall, and sets *normal_angle (if not NULL) to the
 * direction of the inward normal there: atan2 of (x, y) - q, which is the
 * inward normal of the nearest wall segment, or the direction away from a
 * nearest corner (re-entrant corners of the T-maze).  When (x, y) lies on
 * the wall, the inward normal of that wall segment. */
double arena_wall(const Arena *a, double x, double y, double *normal_angle);

/* Bounds lo <= arena_wall(a, x, y, NULL) <= hi, cheaper than the distance
 * itself, for (x, y) inside a convex polygon and clear of its walls by more
 * than the bounds' width (~1e-12 x arena_size): there the distance to the
 * nearest wall is the smallest distance to the edges' lines, n_i . (p -
 * v_i), one product per edge and no division.  Returns 0 with the bounds
 * set, or -1 (the circle, the T-maze, a point on or near a wall or
 * outside): then only arena_wall gives it.  Callers decide comparisons with
 * the bounds where they can and call arena_wall where not, so every answer
 * is the one arena_wall gives. */
int arena_wall_bounds(const Arena *a, double x, double y, double *lo, double *hi);

/* First wall contact of the straight move from (x, y) (inside) by (dx, dy):
 * the smallest fraction s in [0, 1] of the move at which the segment
 * touches a wall, or a value > 1 (INFINITY) if the whole segment stays
 * inside.  Checks every wall segment (the T-maze is not convex), not only
 * the end point.  If normal_angle is not NULL and there is a contact, it
 * is set to the inward normal of the wall at the contact. */
double arena_exit(const Arena *a, double x, double y, double dx, double dy, double *normal_angle);

#endif
