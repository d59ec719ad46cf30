/* result.c -- allocation of a TaskResult. */
#include "base/result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const result_status_names[] = {"pending", "done", "diverged", "failed", NULL};

static void fill_nan(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}

int result_alloc(TaskResult *r, const TaskConfig *cfg)
{
    memset(r, 0, sizeof *r);
    r->status = TASK_PENDING;
    r->n_log = config_n_logged(cfg);
    r->n_levels = cfg->n_eval_noise;
    r->eval_len = config_eval_len(cfg);
    r->n_units = cfg->hidden;
    r->bins = cfg->ratemap_bins;
    r->n_maps = cfg->save_ratemaps == SAVE_ALL ? cfg->hidden
              : cfg->save_ratemaps == SAVE_TOP ? (cfg->save_top_k < cfg->hidden ? cfg->save_top_k : cfg->hidden)
              : 0;
    size_t L = (size_t)r->n_log, N = (size_t)r->n_units, M = (size_t)r->n_maps;
    size_t G2 = (size_t)r->bins * (size_t)r->bins;
    r->n_snap = config_n_snapshots(cfg);
    size_t K = (size_t)r->n_snap, K1 = K ? K : 1;
    r->log_step = calloc(L, sizeof *r->log_step);
    r->train_loss = malloc(L * sizeof(float));
    r->train_err_cm = malloc(L * sizeof(float));
    r->eval_err_cm = malloc((size_t)r->n_levels * (size_t)r->eval_len * sizeof(float));
    r->score60 = malloc(N * sizeof(float));
    r->score90 = malloc(N * sizeof(float));
    r->border = malloc(N * sizeof(float));
    r->mask60 = malloc(N);
    r->grid_p = malloc(N * sizeof(float));
    r->grid_null = malloc(N);
    r->map_unit = calloc(M ? M : 1, sizeof *r->map_unit);
    r->ratemaps = malloc((M ? M * G2 : 1) * sizeof(float));
    r->map_peaks = malloc((M ? M * RESULT_PEAK_FLOATS : 1) * sizeof(float));
    r->grid_class = malloc(N);
    r->n_peaks = malloc(N);
    float **unit_f[] = {&r->spacing_cm, &r->orientation_deg, &r->ellipticity, &r->band, &r->ramp_r2,
                        &r->coherence, &r->spatial_info};
    int nf = (int)(sizeof unit_f / sizeof unit_f[0]), bad = 0;
    for (int i = 0; i < nf; i++) bad |= !(*unit_f[i] = malloc(N * sizeof(float)));
    r->snap_step = malloc(K1 * sizeof *r->snap_step);
    r->snap_max_score60 = malloc(K1 * sizeof(float));
    r->snap_mean_score60 = malloc(K1 * sizeof(float));
    r->snap_grid_frac = malloc(K1 * sizeof(float));
    r->snap_frac = malloc(GRIDCLASS_N * K1 * sizeof(float));
    if (bad || !r->log_step || !r->train_loss || !r->train_err_cm || !r->eval_err_cm || !r->score60 ||
        !r->score90 || !r->border || !r->mask60 || !r->grid_p || !r->grid_null || !r->map_unit || !r->ratemaps ||
        !r->map_peaks || !r->grid_class || !r->n_peaks || !r->snap_step || !r->snap_max_score60 ||
        !r->snap_mean_score60 || !r->snap_grid_frac || !r->snap_frac)
        goto fail;
    if (cfg->replay && result_replay_alloc(&r->replay, cfg) != 0) goto fail;
    int k = cfg->log_every;
    for (size_t i = 0; i < L; i++) {
        long s = (long)i * k;
        r->log_step[i] = (int)(s > cfg->steps ? cfg->steps : s);
    }
    fill_nan(r->train_loss, L);
    fill_nan(r->train_err_cm, L);
    fill_nan(r->eval_err_cm, (size_t)r->n_levels * (size_t)r->eval_len);
    fill_nan(r->score60, N);
    fill_nan(r->score90, N);
    fill_nan(r->border, N);
    memset(r->mask60, -1, N);
    fill_nan(r->grid_p, N);
    memset(r->grid_null, -1, N);
    fill_nan(r->ratemaps, M * G2);
    fill_nan(r->map_peaks, M * RESULT_PEAK_FLOATS);
    memset(r->grid_class, -1, N);
    memset(r->n_peaks, -1, N);
    for (int i = 0; i < nf; i++) fill_nan(*unit_f[i], N);
    for (size_t j = 0; j < K; j++) r->snap_step[j] = -1;
    fill_nan(r->snap_max_score60, K);
    fill_nan(r->snap_mean_score60, K);
    fill_nan(r->snap_grid_frac, K);
    fill_nan(r->snap_frac, GRIDCLASS_N * K);
    fill_nan(r->frac_class, GRIDCLASS_N);
    r->grid_spacing_cm = r->grid_orient_sd_deg = r->grid_ellipticity = NAN;
    r->final_loss = r->final_err_cm = r->grid_frac = r->max_score60 = r->mean_score60 = NAN;
    r->null_threshold = r->grid_frac_null = NAN;
    return 0;
fail:
    result_free(r);
    return -1;
}

void result_free(TaskResult *r)
{
    free(r->log_step);
    free(r->train_loss);
    free(r->train_err_cm);
    free(r->eval_err_cm);
    free(r->score60);
    free(r->score90);
    free(r->border);
    free(r->mask60);
    free(r->grid_p);
    free(r->grid_null);
    free(r->map_unit);
    free(r->ratemaps);
    free(r->map_peaks);
    free(r->grid_class);
    free(r->n_peaks);
    free(r->spacing_cm);
    free(r->orientation_deg);
    free(r->ellipticity);
    free(r->band);
    free(r->ramp_r2);
    free(r->coherence);
    free(r->spatial_info);
    free(r->snap_step);
    free(r->snap_max_score60);
    free(r->snap_mean_score60);
    free(r->snap_grid_frac);
    free(r->snap_frac);
    result_replay_free(&r->replay);
    memset(r, 0, sizeof *r);
}

int result_replay_alloc(ReplayResult *out, const TaskConfig *cfg)
{
    memset(out, 0, sizeof *out);
    out->R = cfg->replay_starts;
    out->H = cfg->replay_steps;
    out->G = cfg->ratemap_bins;
    out->n_keep = cfg->replay_keep < cfg->replay_starts ? cfg->replay_keep : cfg->replay_starts;
    if (out->R < 1 || out->H < 1 || out->G < 1 || out->n_keep < 0) goto fail;
    size_t nt = (size_t)out->n_keep * ((size_t)out->H + 1) * 2, ng = (size_t)out->G * out->G;
    out->traj = malloc((nt ? nt : 1) * sizeof(float));
    out->occ = malloc(ng * sizeof(float));
    out->occ_real = malloc(ng * sizeof(float));
    if (!out->traj || !out->occ || !out->occ_real) goto fail;
    for (size_t i = 0; i < nt; i++) out->traj[i] = NAN;
    for (size_t i = 0; i < ng; i++) out->occ[i] = out->occ_real[i] = NAN;
    out->sigma = out->speed_cm = out->real_step_cm = out->speed_ratio = out->spread_cm2 = NAN;
    out->coverage = out->mean_first_visit = out->outside = NAN;
    out->kl = out->kl_uniform = out->kl_untrained = NAN;
    return 0;
fail:
    result_replay_free(out);
    return -1;
}

void result_replay_free(ReplayResult *out)
{
    free(out->traj);
    free(out->occ);
    free(out->occ_real);
    memset(out, 0, sizeof *out);
}
