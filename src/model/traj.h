/* traj.h -- the random-walk trajectory generator (path-integration task).
 *
 * Legend: B batch (trajectories), T steps, H = ceil(T / 2) pairs of steps.
 *
 * The generator of Raudies & Hasselmo 2012 as used by Sorscher et al. 2019
 * (cfg: dt, border_region, turn_sd, speed_scale, wall_slow), with one
 * change: every position stays inside the arena (the reference moves along
 * the heading from before the wall turn and lets ~0.7% of positions leave
 * the box).  Per step t, at position p_t with heading h_t:
 *   speed s ~ Rayleigh(speed_scale), turn rate w ~ N(0, turn_sd)
 *   wall rule: d, n = distance and inward-normal angle of the nearest wall;
 *     a = wrap(h_t - (n + pi)) (angle between heading and the outward
 *     direction); if d < border_region and |a| < pi/2:
 *     h_t += sign(a) * (pi/2 - |a|), s *= wall_slow
 *   move along the turned heading: step = s * dt * (cos h_t, sin h_t); a
 *     step that would touch a wall is reflected there (specular, the
 *     heading follows the reflection), stopping 1e-5 * arena_size short of
 *     each contact; if that fails (more than 8 contacts, or the net step
 *     would cut a re-entrant corner) the step is shortened to stop short
 *     of the first contact instead (docs/model-task.md)
 *   v_t = the actual step; p_{t+1} = p_t + v_t;  h_{t+1} = h_t + dt * w
 * Positions are float and p_{t+1} is computed as the float sum p_t + v_t,
 * so a float cumulative sum of v from pos[b][0] reproduces pos exactly.
 *
 * Ownership: traj_alloc allocates v, pos and the scratch; traj_free
 * releases them.
 */
#ifndef SWEEP_TRAJ_H
#define SWEEP_TRAJ_H

#include "model/arena.h"
#include "base/config.h"
#include "model/rng.h"

#include <stdint.h>

typedef struct TrajBatch {
    int B, T;
    int Bcap;    /* trajectories the arrays hold (a view may use fewer) */
    float *v;    /* (B, T, 2) displacement input v_t, m */
    float *pos;  /* (B, T+1, 2) positions, m; pos[b][0] = start */
    /* traj_generate's scratch, H = ceil(T / 2) step pairs (one allocation
     * each; a view with fewer trajectories may share them): */
    int32_t *field; /* (4, Bcap, H) the random words' 24-bit fields: speeds a, b; turns a, b */
    float *draw;    /* (4, Bcap, H) Rayleigh(1) of steps 2j, 2j+1; N(0, 1) of steps 2j, 2j+1 */
    double *walk;   /* (TRAJ_WALK_, Bcap) the walk's state across trajectories (traj.c) */
} TrajBatch;

enum { TRAJ_WALK_ = 3 };

/* Allocate for B >= 1 trajectories of T >= 1 steps (contents undefined).
 * Returns 0, or -1 (bad sizes or out of memory; tb left empty). */
int traj_alloc(TrajBatch *tb, int B, int T);

/* Release the arrays; safe on a zeroed or already-freed TrajBatch. */
void traj_free(TrajBatch *tb);

/* Fill tb (all B trajectories of T steps) from r.  Start uniform in the
 * arena (at least 1e-5 * arena_size from any wall), heading uniform in
 * [0, 2 pi).  Draws, per trajectory in order: start (arena_sample),
 * heading (rng_uniform), then H = ceil(T / 2) words for the speeds and H
 * words for the turns (rng_fields: word j gives steps 2j and 2j + 1,
 * Rayleigh by inversion and Box-Muller, rng.h), so the numbers depend only
 * on r, B, T, the arena and cfg, and B calls with one trajectory give
 * what one call with B gives. */
void traj_generate(TrajBatch *tb, const Arena *a, const TaskConfig *cfg, Rng *r);

/* sin x and cos x in double for |x| < 2^20, as the walk computes them
 * (its own polynomial, not libm's: traj.c; within a few 1e-16 of libm). */
void traj_sincos(double x, double *sn, double *cs);

#endif
