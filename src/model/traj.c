/* traj.c -- random-walk trajectories that stay inside the arena.
 *
 * Legend: B batch (trajectories), T steps, H = ceil(T / 2) pairs of steps.
 *
 * Raudies & Hasselmo 2012, in the form of Sorscher et al. 2019
 * (trajectory_generator.py, read for the conventions), with the move taken
 * along the heading AFTER the wall turn and reflected at walls, so that no
 * position leaves the arena (docs/model-task.md explains the choice).
 */
#include "model/traj.h"

#include "model/simd.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    tb->Bcap = B;
    size_t H = ((size_t)T + 1) / 2;
    tb->v = malloc((size_t)B * (size_t)T * 2 * sizeof *tb->v);
    tb->pos = malloc((size_t)B * ((size_t)T + 1) * 2 * sizeof *tb->pos);
    tb->field = malloc(4 * (size_t)B * H * sizeof *tb->field);
    tb->draw = malloc(4 * (size_t)B * H * sizeof *tb->draw);
    tb->walk = malloc((size_t)TRAJ_WALK_ * (size_t)B * sizeof *tb->walk);
    if (!tb->v || !tb->pos || !tb->field || !tb->draw || !tb->walk) goto fail;
    return 0;
fail:
    traj_free(tb);
    return -1;
}

void traj_free(TrajBatch *tb)
{
    free(tb->v);
    free(tb->pos);
    free(tb->field);
    free(tb->draw);
    free(tb->walk);
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

/* The series' coefficients, highest power first, for Horner's rule in z:
 *   S(z) = -1/3! + z/5! - ... + z^7/17!          (sin r = r + r z S(z))
 *   K(z) = 1/2! - z/4! + ... + z^8/18!           (cos r = 1 - z K(z)) */
static const double traj_sin_c_[] = {1.0 / 355687428096000.0, -1.0 / 1307674368000.0, 1.0 / 6227020800.0,
                                     -1.0 / 39916800.0,       1.0 / 362880.0,         -1.0 / 5040.0,
                                     1.0 / 120.0,             -1.0 / 6.0};
static const double traj_cos_c_[] = {1.0 / 6402373705728000.0, -1.0 / 20922789888000.0, 1.0 / 87178291200.0,
                                     -1.0 / 479001600.0,       1.0 / 3628800.0,         -1.0 / 40320.0,
                                     1.0 / 720.0,              -1.0 / 24.0,             1.0 / 2.0};
enum { TRAJ_NS_ = sizeof traj_sin_c_ / sizeof traj_sin_c_[0], TRAJ_NK_ = sizeof traj_cos_c_ / sizeof traj_cos_c_[0] };

/* c[0] z^(n-1) + ... + c[n-1] by Horner's rule, unrolled (so that the loop
 * over trajectories around it vectorises) */
static inline __attribute__((always_inline)) double traj_horner_(const double *c, int n, double z)
{
    double p = c[0];
#pragma GCC unroll 16
    for (int i = 1; i < n; i++) p = c[i] + z * p;
    return p;
}

/* sin x and cos x in double for |x| < 2^20, element-wise and without
 * branches, so that the loop over trajectories vectorises (libm's sin and
 * cos are calls), and the same bits wherever it runs (the Makefile
 * compiles traj.o with -ffp-contract=off):
 *   k = round(x 2/pi) (by adding 1.5 2^52), q = k mod 4;
 *   r = (x - k P1) - k P2, |r| <= pi/4 (+ rounding), with P1 = pi/2
 *     rounded to 33 bits (k P1 and x - k P1 exact) and P2 = pi/2 - P1
 *     (Cody & Waite 1980);
 *   sin r = r + r z S(z), cos r = 1 - z K(z), z = r^2: the Taylor series
 *     to r^17 and r^18 (remainders < 1e-19 on |r| <= pi/4);
 *   (sin x, cos x) = (s, c), (c, -s), (-s, -c), (-c, s) for q = 0 .. 3.
 * Max error against libm: tests/test_traj.c (test_sincos). */
static inline __attribute__((always_inline)) void traj_sincos_(double x, double *sn, double *cs)
{
    const double t = x * 0.63661977236758134308 + 0x1.8p52;
    uint64_t tb;
    memcpy(&tb, &t, sizeof tb);
    const double k = t - 0x1.8p52;
    const double r = (x - k * 0x1.921fb544p+0) - k * 0x1.0b4611a626331p-34;
    const double z = r * r;
    const double s = r + (r * z) * traj_horner_(traj_sin_c_, TRAJ_NS_, z);
    const double c = 1.0 - z * traj_horner_(traj_cos_c_, TRAJ_NK_, z);
    uint64_t bs, bc;
    memcpy(&bs, &s, sizeof bs);
    memcpy(&bc, &c, sizeof bc);
    const uint64_t swap = (uint64_t)0 - (tb & 1);  /* q odd: exchange */
    uint64_t rs = (bs & ~swap) | (bc & swap), rc = (bc & ~swap) | (bs & swap);
    rs ^= (tb & 2) << 62;       /* q = 2, 3: sin negated */
    rc ^= ((tb + 1) & 2) << 62; /* q = 1, 2: cos negated */
    memcpy(sn, &rs, sizeof rs);
    memcpy(cs, &rc, sizeof rc);
}

void traj_sincos(double x, double *sn, double *cs) { traj_sincos_(x, sn, cs); }

/* (sin h, cos h) of n headings, on either build (model/simd.h), same bits */
static inline __attribute__((always_inline)) void sincos_fill_body_(const double *restrict h, double *restrict sn,
                                                                    double *restrict cs, int n)
{
    for (int i = 0; i < n; i++) traj_sincos_(h[i], &sn[i], &cs[i]);
}
SIMD_FMA static void sincos_fill_fma_(const double *h, double *sn, double *cs, int n) { sincos_fill_body_(h, sn, cs, n); }
static void sincos_fill_base_(const double *h, double *sn, double *cs, int n) { sincos_fill_body_(h, sn, cs, n); }

void traj_generate(TrajBatch *tb, const Arena *a, const TaskConfig *cfg, Rng *r)
{
    const int B = tb->B, T = tb->T;
    const size_t H = ((size_t)T + 1) / 2, plane = (size_t)tb->Bcap * H;
    const double dt = cfg->dt;
    const double margin = TRAJ_MARGIN * a->size;
    double *hd = tb->walk, *sn = tb->walk + tb->Bcap, *cs = tb->walk + 2 * (size_t)tb->Bcap; /* (B) each */
    /* The draws, trajectory after trajectory: start, heading, H words for
     * the speeds, H for the turns (traj.h) */
    for (int b = 0; b < B; b++) {
        float *pos = tb->pos + (size_t)b * ((size_t)T + 1) * 2; /* (T+1, 2) */
        /* start uniform in the arena, at least margin from any wall once
         * rounded to float (so the first step can move) */
        for (;;) {
            double x, y;
            arena_sample(a, r, &x, &y);
            pos[0] = (float)x;
            pos[1] = (float)y;
            if (!arena_contains(a, pos[0], pos[1])) continue;
            WallDist dw = wall_dist(a, pos[0], pos[1]);
            if (!wall_below(&dw, a, pos[0], pos[1], margin)) break; /* dw >= margin */
        }
        hd[b] = 2 * TRAJ_PI * rng_uniform(r);
        rng_fields(r, tb->field + (size_t)b * H, tb->field + plane + (size_t)b * H, H);
        rng_fields(r, tb->field + 2 * plane + (size_t)b * H, tb->field + 3 * plane + (size_t)b * H, H);
    }
    /* speed_t = speed_scale R, R ~ Rayleigh(1);  turn_t = dt turn_sd Z, Z ~ N(0, 1) */
    const float *ra = tb->draw, *rb = tb->draw + plane, *za = tb->draw + 2 * plane, *zb = tb->draw + 3 * plane;
    rng_fields_rayleigh(tb->field, tb->draw, (size_t)B * H);
    rng_fields_rayleigh(tb->field + plane, tb->draw + plane, (size_t)B * H);
    rng_fields_normal(tb->field + 2 * plane, tb->field + 3 * plane, tb->draw + 2 * plane, tb->draw + 3 * plane,
                      (size_t)B * H);
    /* The walk, step after step across the trajectories (their headings'
     * sines and cosines in one vectorised pass a step) */
    for (int t = 0; t < T; t++) {
        if (simd_fma_ > 0)
            sincos_fill_fma_(hd, sn, cs, B);
        else
            sincos_fill_base_(hd, sn, cs, B);
        const size_t j = (size_t)(t / 2);
        const float *rt = t % 2 ? rb : ra, *zt = t % 2 ? zb : za;
        for (int b = 0; b < B; b++) {
            float *pos = tb->pos + (size_t)b * ((size_t)T + 1) * 2; /* (T+1, 2) */
            float *v = tb->v + (size_t)b * (size_t)T * 2;            /* (T, 2) */
            double h = hd[b], sh = sn[b], ch = cs[b];
            double speed = cfg->speed_scale * (double)rt[(size_t)b * H + j];
            double turn = dt * cfg->turn_sd * (double)zt[(size_t)b * H + j];
            float px = pos[2 * t], py = pos[2 * t + 1];
            /* wall rule: angle between the heading and the outward wall
             * direction, wrapped to [-pi, pi]:  a = wrap(h - (n + pi));
             * near a wall and heading towards it, turn parallel to it:
             * h += sign(a) (pi/2 - |a|), speed *= wall_slow
             * (the wall's normal and the angle only inside the border
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
                    traj_sincos_(h, &sh, &ch);
                }
            }
            /* v_t = speed dt (cos h, sin h), reflected at a wall */
            float vx, vy;
            step_inside(a, px, py, speed * dt * ch, speed * dt * sh, margin, &dw, &h, &vx, &vy);
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
            hd[b] = h;
        }
    }
}
