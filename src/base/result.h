/* result.h -- TaskResult: everything one task produces, as the worker holds
 * it before writing it to the result file (h5out.c).
 *
 * Dimensions: L logged training points, S evaluation noise levels,
 * E evaluation steps, N hidden units, G rate-map bins per side, M stored
 * rate maps, K snapshots, C unit classes (base/gridclass.h).
 * Sizes follow from the TaskConfig alone (result_alloc), so every task of a
 * sweep can be laid out in fixed-size datasets before it runs.
 * Ownership: result_alloc allocates every array; result_free releases them.
 */
#ifndef SWEEP_RESULT_H
#define SWEEP_RESULT_H

#include "base/config.h"
#include "base/gridclass.h"

/* Status codes, as stored in /tasks/status. */
typedef enum {
    TASK_PENDING = 0,   /* not run (or not finished) */
    TASK_DONE = 1,      /* trained, evaluated, written */
    TASK_DIVERGED = 2,  /* loss became NaN/inf; curves up to then kept */
    TASK_FAILED = 3     /* an error (allocation, I/O, ...); see message */
} TaskStatus;

extern const char *const result_status_names[];

/* The replay evaluation of one task (model/replay.h computes it; the
 * metrics' definitions are in docs/replay.md).  Legend: R replay starts,
 * H replay steps, G bins per side, K stored replays. */
typedef struct ReplayResult {
    int R, H, G;            /* replay_starts, replay_steps, ratemap_bins */
    int n_keep;             /* K = min(replay_keep, replay_starts) */
    int n_in;               /* G_in, in-arena bins */
    float sigma;            /* sigma_r used */
    float speed_cm;         /* cm per step */
    float real_step_cm;     /* mean |v_t| of the R real trajectories of H steps, cm per step */
    float speed_ratio;      /* speed_cm / real_step_cm (temporal compression when > 1) */
    float spread_cm2;       /* cm^2; NaN when R < 2 or burn_in > H */
    float coverage;         /* in [0, 1] */
    float mean_first_visit; /* steps; NaN when no in-arena bin is visited */
    float outside;          /* in [0, 1] */
    float kl;               /* nats; NaN when no in-arena position after burn-in */
    float kl_uniform;       /* D(U || P_real), U uniform on the in-arena bins */
    float kl_untrained;     /* kl of the same architecture at its RNG_INIT weights */
    float *traj;            /* (K, H+1, 2) decoded positions x_0..x_H of replays 0..K-1, m */
    float *occ;             /* (G, G) replay occupancy (t >= burn_in), probability per
                               in-arena bin, unsmoothed; NaN outside the arena; row = y bin */
    float *occ_real;        /* (G, G) occupancy of the real trajectories, same convention */
} ReplayResult;
 /* "pending", "done", ... */

typedef struct TaskResult {
    int status;            /* TaskStatus */
    char message[256];     /* why it diverged / failed; "" when done */
    double wall_s;         /* wall seconds of the whole task */
    double train_s;        /* of which training */
    double eval_s;         /* of which evaluation and scoring */

    /* training curves, NaN past the point where the task stopped */
    int n_log;             /* L = config_n_logged() */
    int *log_step;         /* (L) optimiser step of each logged point */
    float *train_loss;     /* (L) loss (cross-entropy + penalties) on the training batch */
    float *train_err_cm;   /* (L) mean decoding error, cm, on the training batch */

    /* error curves on held-out trajectories */
    int n_levels;          /* S = cfg->n_eval_noise */
    int eval_len;          /* E = config_eval_len() */
    float *eval_err_cm;    /* (S, E) mean decoding error, cm, at each step */

    /* per-unit spatial scores (NaN for a unit with a flat rate map) */
    int n_units;           /* N = cfg->hidden */
    float *score60;        /* (N) */
    float *score90;        /* (N) */
    float *border;         /* (N) */
    signed char *mask60;   /* (N) index 0..9 of the ring mask that won score60, -1 if none */

    /* shuffle null of score60 (gridnull.h; docs/spatial.md "Shuffle null") */
    float *grid_p;         /* (N) (1 + #null >= score60) / (1 + n_null); NaN: no score or no null */
    signed char *grid_null;/* (N) 1 if score60 > null_threshold, 0 if not, -1 if no null */

    /* per-unit geometry and class (score/gridgeom.h; docs/spatial.md, "Grid
     * geometry and classification"); NaN / -1 for a task not scored */
    signed char *grid_class; /* (N) GridClass code (base/gridclass.h), -1 if not scored */
    signed char *n_peaks;  /* (N) SAC peaks on the first ring (6 for a hexagonal lattice), -1 if not scored */
    float *spacing_cm;     /* (N) median distance of the six nearest SAC peaks, cm; NaN with < 6 peaks */
    float *orientation_deg;/* (N) axis of the six nearest to 0, degrees in [-90, 90); NaN with < 6 peaks */
    float *ellipticity;    /* (N) minor / major axis of the ellipse through the six, (0, 1]; NaN with < 6 */
    float *band;           /* (N) band score, [0, 1] */
    float *ramp_r2;        /* (N) R^2 of the best plane, [0, 1] */
    float *coherence;      /* (N) spatial coherence, [-1, 1] */
    float *spatial_info;   /* (N) Skaggs spatial information, bits per spike (rate-map occupancy) */

    /* rate maps (only when cfg->save_ratemaps != none) */
    int bins;              /* G */
    int n_maps;            /* M: N (all), save_top_k (top) or 0 */
    int *map_unit;         /* (M) unit index of each stored map */
    float *ratemaps;       /* (M, G, G), row = y bin, column = x bin; NaN = unvisited */
    float *map_peaks;      /* (M, 6, 2) the six nearest SAC peaks of each stored map, lag (x, y) in bins
                              (x = column, y = row of the SAC, zero lag = 0); NaN when absent */

    /* gridness over training (cfg->snapshot_every > 0): snapshot k scores
     * the network after snap_step[k] = k * snapshot_every updates, on the
     * rate maps of snapshot_trajectories fixed trajectories (RNG_SNAPSHOT),
     * classes with class_score60_min (no null); -1 / NaN until recorded */
    int n_snap;            /* K = config_n_snapshots() */
    int *snap_step;        /* (K) optimiser updates before snapshot k */
    float *snap_max_score60;  /* (K) best unit's score60 */
    float *snap_mean_score60; /* (K) mean score60 (NaN units skipped) */
    float *snap_grid_frac;    /* (K) fraction of units with score60 > grid_threshold */
    float *snap_frac;      /* (C, K) fraction of the N units in each class, class-major */

    /* summary */
    float final_loss;      /* loss at the last logged point */
    float final_err_cm;    /* mean over steps of eval_err_cm at noise level 0 of the list */
    float grid_frac;       /* fraction of units with score60 > grid_threshold */
    float max_score60;
    float mean_score60;
    float null_threshold;  /* null_percentile of the null of score60; NaN: no null (null_shuffles = 0, ...) */
    float grid_frac_null;  /* fraction of the N units with score60 > null_threshold; NaN: no null */
    /* fraction of the N units in each class (frac_class[c] = frac_<name>,
     * fields generated from GRIDCLASS_TABLE); NaN when not scored */
    union {
        float frac_class[GRIDCLASS_N];
        struct {
#define RESULT_FRAC_FIELD_(NAME, name) float frac_##name;
            GRIDCLASS_TABLE(RESULT_FRAC_FIELD_)
#undef RESULT_FRAC_FIELD_
        };
    };
    float grid_spacing_cm;    /* mean spacing_cm of the GRID units; NaN without one */
    float grid_orient_sd_deg; /* circular s.d. of their orientation mod 60, degrees; NaN without one */
    float grid_ellipticity;   /* mean ellipticity of the GRID units; NaN without one */
    int steps_done;        /* optimiser steps actually taken */

    /* replay evaluation (model/replay.h; docs/replay.md): allocated when
     * cfg->replay, else zeroed (traj == NULL) */
    ReplayResult replay;
} TaskResult;

/* Allocate every array for cfg, fill floats with NaN, status = pending.
 * Returns 0, or -1 on allocation failure (nothing left allocated). */
int result_alloc(TaskResult *r, const TaskConfig *cfg);

/* Number of floats of TaskResult.map_peaks per stored map (6 peaks x 2). */
#define RESULT_PEAK_FLOATS 12
void result_free(TaskResult *r);

/* Sizes of a ReplayResult from cfg (R, H, G, K), arrays allocated and
 * filled with NaN.  Returns 0, or -1 (out of memory; nothing left
 * allocated).  result_alloc calls it when cfg->replay. */
int result_replay_alloc(ReplayResult *out, const TaskConfig *cfg);

/* Release; safe on a zeroed or already-freed result. */
void result_replay_free(ReplayResult *out);

#endif
