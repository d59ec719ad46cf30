/* traj.c -- random-walk trajectories that stay inside the arena.
 *
 * Legend: B batch (trajectories), T steps.
 *
 * Raudies & Hasselmo 2012, in the form of Sorscher et al. 2019
 * (trajectory_generator.py, read for the conventions), with the move taken
 * along the heading AFTER the wall turn and reflected at walls, so that no
 * position leaves the arena (docs/model-task.md explains the choice).
 */
#include "model/traj.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define TRAJ_PI 3.14159265358979323846
#define TRAJ_MARGIN 1e-5     /* stop this fraction of arena_size short of a wall */
#define TRAJ_MAX_BOUNCES 8   /* wall contacts per step before shortening instead */
#define TRAJ_MAX_HALVINGS 60 /* then the step is dropped (v = 0) */

int traj_alloc(TrajBatch *tb, int B, int T)
{
    *tb = (TrajBatch){0};
    if (B < 1 || T < 1) goto fail;
    tb->B = B;
    tb->T = T;
    tb->v = malloc((size_t)B * (size_t)T * 2 * sizeof *tb->v);
    tb->pos = malloc((size_t)B * ((size_t)T + 1) * 2 * sizeof *tb->pos);
    if (!tb->v || !tb->pos) goto fail;
    return 0;
fail:
    traj_free(tb);
    return -1;
}

void traj_free(TrajBatch *tb)
{
    free(tb->v);
    free(tb->pos);
    *tb = (TrajBatch){0};
}

/* The distance dw = arena_wall(a, p) from p to the nearest wall, held as
 * bounds lo <= dw <= hi (arena_wall_bounds, cheap) or exactly (lo = hi =
 * dw).  The walk only compares dw with thresholds: wall_below and
 * wall_above decide from the bounds where the threshold lies outside them
 * and compute dw where not, so they answer as dw itself would, and the
 * walk is the same to the bit as with arena_wall at every step (most
 * steps in the square, triangle and hexagon then skip its per-edge
 * divisions and square root). */
typedef struct {
    double lo, hi;
} WallDist;

static WallDist wall_dist(const Arena *a, float px, float py)
{
    WallDist w;
    if (arena_wall_bounds(a, px, py, &w.lo, &w.hi) != 0) w.lo = w.hi = arena_wall(a, px, py, NULL);
    return w;
}

/* dw < s */
static int wall_below(WallDist *w, const Arena *a, float px, float py, double s)
{
    if (w->hi < s) return 1;
    if (w->lo >= s) return 0;
    w->lo = w->hi = arena_wall(a, px, py, NULL);
    return w->lo < s;
}

/* dw > s */
static int wall_above(WallDist *w, const Arena *a, float px, float py, double s)
{
    if (w->lo > s) return 1;
    if (w->hi <= s) return 0;
    w->lo = w->hi = arena_wall(a, px, py, NULL);
    return w->lo > s;
}

/* The float step (vx, vy) from the float position (px, py) for the
 * intended move (dx, dy), such that neither the path nor the straight
 * segment from p to the float sum p + v touches a wall; *h is the heading,
 * updated when the move reflects.
 * 1. Reflect (billiard): move until the first wall contact s* (arena_exit),
 *    stopping margin short of it: lambda = max(0, s* - margin / |d|);
 *    the rest of the move, (1 - lambda) d, is mirrored in the wall:
 *    d' = d - 2 (d . n) n (n the wall's unit normal), and the heading
 *    becomes the direction of d'.  At most TRAJ_MAX_BOUNCES contacts.
 *    Accept v = float(end - p) if p + v is inside and the straight segment
 *    p -> p + v touches no wall (checked on the rounded floats).  After
 *    TRAJ_MAX_BOUNCES contacts the step ends at the last contact.
 * 2. Otherwise (the net displacement cuts a corner of the non-convex
 *    T-maze, or ends where it started) shorten the straight move instead:
 *    lambda = 1 or max(0, s* - margin / |d|) as above, then halve lambda
 *    until the check of 1. passes; after TRAJ_MAX_HALVINGS, v = 0.
 * dw is the distance from p to the nearest wall (as a WallDist).  A move with
 * |d| + margin < dw lies in the disc of radius dw around p, which holds no
 * wall, and so does the rounded segment p -> p + v (the rounding moves its
 * end by a few ulps of the arena's size, far less than margin): 1. would
 * take it unreflected on its first contact test and pass its check.  Such
 * a move (most steps away from the walls) skips the tests and gives the
 * same v to the bit. */
static int step_ok(const Arena *a, float px, float py, float ux, float uy)
{
    float nx = px + ux, ny = py + uy;
    return arena_contains(a, nx, ny) && arena_exit(a, px, py, (double)nx - px, (double)ny - py, NULL) > 1.0;
}

static void step_inside(const Arena *a, float px, float py, double dx, double dy, double margin,
                        WallDist *dw, double *h, float *vx, float *vy)
{
    double len = sqrt(dx * dx + dy * dy);
    *vx = 0.0f;
    *vy = 0.0f;
    if (!(len > 0)) return;
    /* len + margin < dw: clear of every wall, 1.'s first branch without its tests */
    if (wall_above(dw, a, px, py, len + margin)) {
        double qx = (double)px + dx, qy = (double)py + dy;
        *vx = (float)(qx - px);
        *vy = (float)(qy - py);
        return;
    }

    double qx = px, qy = py, rx = dx, ry = dy, n;
    int bounced = 0;
    for (int k = 0; k <= TRAJ_MAX_BOUNCES; k++) {
        double s = arena_exit(a, qx, qy, rx, ry, &n);
        if (s > 1.0) {
            qx += rx;
            qy += ry;
            float ux = (float)(qx - px), uy = (float)(qy - py);
            if (!step_ok(a, px, py, ux, uy)) break;
            *vx = ux;
            *vy = uy;
            if (bounced) *h = atan2(ry, rx);
            return;
        }
        double rl = sqrt(rx * rx + ry * ry);
        double lambda = fmax(0.0, s - margin / rl);
        qx += lambda * rx;
        qy += lambda * ry;
        rx *= 1.0 - lambda;
        ry *= 1.0 - lambda;
        double nx = cos(n), ny = sin(n), dn = rx * nx + ry * ny;
        rx -= 2 * dn * nx;
        ry -= 2 * dn * ny;
        bounced = 1;
    }
    /* out of contacts: end at the last one, if the net step is clean */
    {
        float ux = (float)(qx - px), uy = (float)(qy - py);
        if ((ux != 0 || uy != 0) && step_ok(a, px, py, ux, uy)) {
            *vx = ux;
            *vy = uy;
            *h = atan2(ry, rx);
            return;
        }
    }

    double first = arena_exit(a, px, py, dx, dy, NULL);
    double lambda = first <= 1.0 ? fmax(0.0, first - margin / len) : 1.0;
    for (int k = 0; k < TRAJ_MAX_HALVINGS && lambda > 0; k++, lambda *= 0.5) {
        float ux = (float)(lambda * dx), uy = (float)(lambda * dy);
        if (step_ok(a, px, py, ux, uy)) {
            *vx = ux;
            *vy = uy;
            return;
        }
    }
}

void traj_generate(TrajBatch *tb, const Arena *a, const TaskConfig *cfg, Rng *r)
{
    const int T = tb->T;
    const double dt = cfg->dt;
    const double margin = TRAJ_MARGIN * a->size;
    for (int b = 0; b < tb->B; b++) {
        float *pos = tb->pos + (size_t)b * ((size_t)T + 1) * 2; /* (T+1, 2) */
        float *v = tb->v + (size_t)b * (size_t)T * 2;            /* (T, 2) */
        /* start uniform in the arena, at least margin from any wall once
         * rounded to float (so the first step can move) */
        for (;;) {
            double x, y;
            arena_sample(a, r, &x, &y);
            pos[0] = (float)x;
            pos[1] = (float)y;
            if (arena_contains(a, pos[0], pos[1]) && arena_wall(a, pos[0], pos[1], NULL) >= margin)
                break;
        }
        double h = 2 * TRAJ_PI * rng_uniform(r);
        for (int t = 0; t < T; t++) {
            double speed = rng_rayleigh(r, cfg->speed_scale);
            double turn = dt * cfg->turn_sd * rng_normal(r);
            float px = pos[2 * t], py = pos[2 * t + 1];
            /* wall rule: angle between the heading and the outward wall
             * direction, wrapped to [-pi, pi]:  a = wrap(h - (n + pi));
             * near a wall and heading towards it, turn parallel to it:
             * h += sign(a) (pi/2 - |a|), speed *= wall_slow */
            /* (the wall's normal and the angle only inside the border
             * region, where they are used: same values, no atan2 and
             * remainder for the steps away from the walls) */
            WallDist dw = wall_dist(a, px, py);
            if (wall_below(&dw, a, px, py, cfg->border_region)) {
                double n;
                dw.lo = dw.hi = arena_wall(a, px, py, &n); /* the normal, and dw exact for step_inside */
                double aw = remainder(h - (n + TRAJ_PI), 2 * TRAJ_PI);
                if (fabs(aw) < 0.5 * TRAJ_PI) {
                    h += (aw >= 0 ? 1.0 : -1.0) * (0.5 * TRAJ_PI - fabs(aw));
                    speed *= cfg->wall_slow;
                }
            }
            /* v_t = speed dt (cos h, sin h), reflected at a wall */
            float vx, vy;
            step_inside(a, px, py, speed * dt * cos(h), speed * dt * sin(h), margin, &dw, &h, &vx, &vy);
            v[2 * t] = vx;
            v[2 * t + 1] = vy;
            pos[2 * t + 2] = px + vx;
            pos[2 * t + 3] = py + vy;
            /* h_{t+1} = h_t + dt * w, kept in [0, 2 pi) (fmod returns an
             * argument already in [0, 2 pi) unchanged, so only the others
             * go through it) */
            h += turn;
            if (!(h >= 0 && h < 2 * TRAJ_PI)) {
                h = fmod(h, 2 * TRAJ_PI);
                if (h < 0) h += 2 * TRAJ_PI;
            }
        }
    }
}
