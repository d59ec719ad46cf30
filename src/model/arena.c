/* arena.c -- arena shapes: containment, uniform sampling, wall geometry.
 *
 * Legend: V polygon vertices (nv <= ARENA_MAX_VERTS).  Lengths in metres.
 * Geometry on 2-D vectors: cross(a, b) = a.x b.y - a.y b.x.
 */
#include "model/arena.h"

#include <math.h>
#include <stddef.h>

#define ARENA_PI 3.14159265358979323846

static void set_poly(Arena *a, int nv, const double *x, const double *y)
{
    a->nv = nv;
    for (int i = 0; i < nv; i++) {
        a->vx[i] = x[i];
        a->vy[i] = y[i];
    }
}

int arena_init(Arena *a, const TaskConfig *cfg)
{
    double L = cfg->arena_size;
    double h = 0.5 * sqrt(3.0) * L;  /* height of the triangle and hexagon */
    *a = (Arena){0};
    if (!(L > 0) || !isfinite(L)) goto fail;
    a->shape = cfg->arena;
    a->size = L;
    a->xmax = 0.5 * L;
    a->ymax = 0.5 * L;
    switch (cfg->arena) {
    case ARENA_SQUARE: {
        const double x[] = {-L / 2, L / 2, L / 2, -L / 2};
        const double y[] = {-L / 2, -L / 2, L / 2, L / 2};
        set_poly(a, 4, x, y);
        break;
    }
    case ARENA_CIRCLE:
        a->radius = 0.5 * L;
        break;
    case ARENA_TRIANGLE: {
        /* equilateral, side L, base at the bottom; bounding box centred */
        const double x[] = {-L / 2, L / 2, 0};
        const double y[] = {-h / 2, -h / 2, h / 2};
        set_poly(a, 3, x, y);
        a->ymax = 0.5 * h;
        break;
    }
    case ARENA_HEXAGON: {
        /* regular, circumradius R = L/2, vertices at k * 60 degrees:
         * (R cos(k pi/3), R sin(k pi/3)) */
        double x[6], y[6];
        for (int k = 0; k < 6; k++) {
            x[k] = 0.5 * L * cos(k * ARENA_PI / 3);
            y[k] = 0.5 * L * sin(k * ARENA_PI / 3);
        }
        y[0] = y[3] = 0.0;
        set_poly(a, 6, x, y);
        a->ymax = 0.5 * h;
        break;
    }
    case ARENA_TMAZE: {
        /* a T: top bar y in [L/2 - w, L/2] across the full width, stem
         * x in [-w/2, w/2] from y = -L/2 up to the bar; CCW from the
         * bottom-left corner of the stem */
        double w = ARENA_TMAZE_WIDTH_FRAC * L;
        const double x[] = {-w / 2, w / 2, w / 2, L / 2, L / 2, -L / 2, -L / 2, -w / 2};
        const double y[] = {-L / 2, -L / 2, L / 2 - w, L / 2 - w, L / 2, L / 2, L / 2 - w, L / 2 - w};
        set_poly(a, 8, x, y);
        a->corridor = w;
        break;
    }
    default:
        goto fail;
    }
    a->xmin = -a->xmax;
    a->ymin = -a->ymax;
    /* convex: every turn v[i] -> v[i+1] -> v[i+2] to the left (cross > 0);
     * then the inward normal of edge e = v[i+1] - v[i] is (-e_y, e_x) / |e| */
    a->convex = a->nv >= 3;
    for (int i = 0; i < a->nv; i++) {
        int j = (i + 1) % a->nv, k = (i + 2) % a->nv;
        double ex = a->vx[j] - a->vx[i], ey = a->vy[j] - a->vy[i];
        double fx = a->vx[k] - a->vx[j], fy = a->vy[k] - a->vy[j];
        if (!(ex * fy - ey * fx > 0)) a->convex = 0;
        double len = sqrt(ex * ex + ey * ey);
        a->nx[i] = -ey / len;
        a->ny[i] = ex / len;
    }
    return 0;
fail:
    *a = (Arena){0};
    return -1;
}

/* Squared distance from p to the segment a-b; (qx, qy) = nearest point. */
static double seg_dist2(double px, double py, double ax, double ay, double bx, double by,
                        double *qx, double *qy)
{
    double ex = bx - ax, ey = by - ay;
    double len2 = ex * ex + ey * ey;
    double t = len2 > 0 ? ((px - ax) * ex + (py - ay) * ey) / len2 : 0.0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    *qx = ax + t * ex;
    *qy = ay + t * ey;
    return (px - *qx) * (px - *qx) + (py - *qy) * (py - *qy);
}

/* Point in polygon by the crossing number: count the edges that cross the
 * horizontal ray to the right of (x, y).  Points on an edge count as
 * inside. */
int arena_contains(const Arena *a, double x, double y)
{
    if (a->nv == 0) return x * x + y * y <= a->radius * a->radius;
    int inside = 0;
    for (int i = 0, j = a->nv - 1; i < a->nv; j = i++) {
        double xi = a->vx[i], yi = a->vy[i], xj = a->vx[j], yj = a->vy[j];
        double qx, qy;
        if (seg_dist2(x, y, xj, yj, xi, yi, &qx, &qy) == 0.0) return 1;
        if ((yi > y) != (yj > y)) {
            double xc = xj + (y - yj) * (xi - xj) / (yi - yj);
            if (x < xc) inside = !inside;
        }
    }
    return inside;
}

void arena_sample(const Arena *a, Rng *r, double *x, double *y)
{
    for (;;) {
        double px = a->xmin + (a->xmax - a->xmin) * rng_uniform(r);
        double py = a->ymin + (a->ymax - a->ymin) * rng_uniform(r);
        if (arena_contains(a, px, py)) {
            *x = px;
            *y = py;
            return;
        }
    }
}

/* Shoelace formula: area = 1/2 sum_i cross(v_i, v_{i+1}) (CCW: positive). */
double arena_area(const Arena *a)
{
    if (a->nv == 0) return ARENA_PI * a->radius * a->radius;
    double s = 0;
    for (int i = 0; i < a->nv; i++) {
        int j = (i + 1) % a->nv;
        s += a->vx[i] * a->vy[j] - a->vx[j] * a->vy[i];
    }
    return 0.5 * s;
}

double arena_wall(const Arena *a, double x, double y, double *normal_angle)
{
    if (a->nv == 0) {
        double rr = sqrt(x * x + y * y);
        /* inward normal at the nearest wall point R (x, y)/|(x, y)| */
        if (normal_angle) *normal_angle = rr > 0 ? atan2(-y, -x) : 0.0;
        return a->radius - rr;
    }
    double best = INFINITY, bqx = 0, bqy = 0;
    int bi = 0;
    for (int i = 0; i < a->nv; i++) {
        int j = (i + 1) % a->nv;
        double qx, qy;
        double d2 = seg_dist2(x, y, a->vx[i], a->vy[i], a->vx[j], a->vy[j], &qx, &qy);
        if (d2 < best) {
            best = d2;
            bqx = qx;
            bqy = qy;
            bi = i;
        }
    }
    if (normal_angle) {
        if (best > 0) {
            *normal_angle = atan2(y - bqy, x - bqx);
        } else {
            /* on the wall: left normal of the CCW edge (ex, ey) is (-ey, ex) */
            int j = (bi + 1) % a->nv;
            *normal_angle = atan2(a->vx[j] - a->vx[bi], -(a->vy[j] - a->vy[bi]));
        }
    }
    return sqrt(best);
}

/* Inside a convex polygon the nearest wall point is the foot of the
 * perpendicular on the nearest edge's line, so the distance is
 *   d = min_i n_i . (p - v_i)
 * (each term >= the distance to edge i's line, equal for the nearest).
 * Rounding: with p and v_i within the box (|p - v_i| <= 2 L, L =
 * arena_size) and n_i a unit vector to a few ulps, each term is off by at
 * most ~16 eps L (eps = 2^-53), and arena_wall's seg_dist2 and sqrt by
 * ~8 eps L + 2 eps d: together below 1e-14 L (test_traj measures at most
 * 1.4e-16 L between them).  The bounds are d -+ 1e-12 L, a margin of a
 * hundred times the estimate; closer than 2e-12 L to a wall (or outside)
 * there are no bounds. */
int arena_wall_bounds(const Arena *a, double x, double y, double *lo, double *hi)
{
    if (!a->convex) return -1;
    double d = INFINITY;
    for (int i = 0; i < a->nv; i++) {
        double di = a->nx[i] * (x - a->vx[i]) + a->ny[i] * (y - a->vy[i]);
        d = di < d ? di : d;
    }
    double tol = 1e-12 * a->size;
    if (!(d > 2 * tol)) return -1;
    *lo = d - tol;
    *hi = d + tol;
    return 0;
}

double arena_exit(const Arena *a, double x, double y, double dx, double dy, double *normal_angle)
{
    double first = INFINITY;
    if (a->nv == 0) {
        /* |p + s d|^2 = R^2: A s^2 + 2 B s + C = 0 with A = |d|^2, B = p.d,
         * C = |p|^2 - R^2 <= 0 inside; the exit is the larger root */
        double A = dx * dx + dy * dy, B = x * dx + y * dy;
        double C = x * x + y * y - a->radius * a->radius;
        if (A == 0) return INFINITY;
        double disc = B * B - A * C;
        if (disc < 0) disc = 0;
        double s = (-B + sqrt(disc)) / A;
        if (!(s >= 0 && s <= 1)) return INFINITY;
        if (normal_angle) *normal_angle = atan2(-(y + s * dy), -(x + s * dx));
        return s;
    }
    /* segment p + s d against each edge q + u e, s, u in [0, 1]:
     * s = cross(q - p, e) / cross(d, e), u = cross(q - p, d) / cross(d, e).
     * Parallel edges (cross(d, e) = 0) are never crossed. */
    int hit = -1;
    for (int i = 0; i < a->nv; i++) {
        int j = (i + 1) % a->nv;
        double ex = a->vx[j] - a->vx[i], ey = a->vy[j] - a->vy[i];
        double wx = a->vx[i] - x, wy = a->vy[i] - y;
        double den = dx * ey - dy * ex;
        if (den == 0) continue;
        double s = (wx * ey - wy * ex) / den;
        double u = (wx * dy - wy * dx) / den;
        if (s >= 0 && s <= 1 && u >= 0 && u <= 1 && s < first) {
            first = s;
            hit = i;
        }
    }
    if (hit >= 0 && normal_angle) {
        /* left normal (-ey, ex) of the CCW edge */
        int j = (hit + 1) % a->nv;
        *normal_angle = atan2(a->vx[j] - a->vx[hit], -(a->vy[j] - a->vy[hit]));
    }
    return first;
}
