/* config.c -- defaults, the settings table and cross-field validation. */
#include "base/config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const config_enum_ACT[] = {"relu", "tanh", "none", NULL};
const char *const config_enum_CELL[] = {
#define CELL(id, name, adapts, momentum, uses_tau, gates) #name,
#include "base/cells.def"
#undef CELL
    NULL};
const char *const config_enum_ARENA[] = {"square", "circle", "triangle", "hexagon", "tmaze", NULL};
const char *const config_enum_TARGET[] = {"gaussian", "dog", "cartesian", NULL};
const char *const config_enum_INPUT[] = {"velocity", "speed_heading", NULL};
const char *const config_enum_SCORE[] = {"mean_diff", "min_max", NULL};
const char *const config_enum_SAVE[] = {"none", "all", "top", NULL};
const char *const config_data_thread_names[] = {"auto", "off", "on", NULL};

#define SETTING_KIND_INT KIND_INT, NULL
#define SETTING_KIND_REAL KIND_REAL, NULL
#define SETTING_KIND_BOOL KIND_BOOL, NULL
#define SETTING_KIND_ENUM_ACT KIND_ENUM, config_enum_ACT
#define SETTING_KIND_ENUM_CELL KIND_ENUM, config_enum_CELL
#define SETTING_KIND_ENUM_ARENA KIND_ENUM, config_enum_ARENA
#define SETTING_KIND_ENUM_TARGET KIND_ENUM, config_enum_TARGET
#define SETTING_KIND_ENUM_INPUT KIND_ENUM, config_enum_INPUT
#define SETTING_KIND_ENUM_SCORE KIND_ENUM, config_enum_SCORE
#define SETTING_KIND_ENUM_SAVE KIND_ENUM, config_enum_SAVE

const SettingDesc config_settings[] = {
#define SETTING(section, key, kind, def, lo, hi, unit, doc) \
    {#section, #key, SETTING_KIND_##kind, (double)(def), (double)(lo), (double)(hi), unit, doc, offsetof(TaskConfig, key)},
#include "base/settings.def"
#undef SETTING
};
const int config_n_settings = (int)(sizeof config_settings / sizeof config_settings[0]);

const SettingDesc *config_find(const char *key)
{
    for (int i = 0; i < config_n_settings; i++)
        if (strcmp(config_settings[i].key, key) == 0) return &config_settings[i];
    return NULL;
}

double config_get(const TaskConfig *cfg, const SettingDesc *d)
{
    const char *p = (const char *)cfg + d->offset;
    if (d->kind == KIND_REAL) return *(const double *)p;
    return (double)*(const int *)p;
}

void config_set(TaskConfig *cfg, const SettingDesc *d, double v)
{
    char *p = (char *)cfg + d->offset;
    if (d->kind == KIND_REAL)
        *(double *)p = v;
    else
        *(int *)p = (int)v;
}

void config_defaults(TaskConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < config_n_settings; i++)
        config_set(cfg, &config_settings[i], config_settings[i].def);
    cfg->n_eval_noise = 1;
    cfg->eval_noise[0] = 0.0;
}

char *config_format(const TaskConfig *cfg, const SettingDesc *d, char *buf, size_t len)
{
    double v = config_get(cfg, d);
    switch (d->kind) {
    case KIND_INT: snprintf(buf, len, "%d", (int)v); break;
    case KIND_REAL: snprintf(buf, len, "%.9g", v); break;
    case KIND_BOOL: snprintf(buf, len, "%s", v != 0 ? "true" : "false"); break;
    case KIND_ENUM: snprintf(buf, len, "%s", d->names[(int)v]); break;
    }
    return buf;
}

int config_enum_index(const SettingDesc *d, const char *name)
{
    if (d->kind != KIND_ENUM) return -1;
    for (int i = 0; d->names[i]; i++)
        if (strcmp(d->names[i], name) == 0) return i;
    return -1;
}

int config_ignored(const TaskConfig *cfg, const SettingDesc *d)
{
    /* the cell's settings, by the properties of its row of cells.def */
    if (strcmp(d->key, "tau") == 0) return !cell_uses_tau(cfg->cell);
    if (strcmp(d->key, "lambda_a") == 0 || strcmp(d->key, "b_a") == 0) return !cell_adapts(cfg->cell);
    if (strcmp(d->key, "lambda_v") == 0) return !cell_has_momentum(cfg->cell);
    if (strcmp(d->key, "activation") == 0) return cell_gates(cfg->cell) > 0; /* fixed sigmoid / tanh */
    if (strcmp(d->key, "surround_scale") == 0) return cfg->target != TARGET_DOG;
    if (strcmp(d->key, "place_sigma") == 0 || strcmp(d->key, "decode_k") == 0)
        return cfg->target == TARGET_CARTESIAN;
    if (strcmp(d->key, "save_top_k") == 0) return cfg->save_ratemaps != SAVE_TOP;
    if (strcmp(d->key, "null_percentile") == 0 || strcmp(d->key, "null_units") == 0 ||
        strcmp(d->key, "null_min_shift") == 0)
        return cfg->null_shuffles == 0;
    if (strncmp(d->key, "replay_", 7) == 0) return !cfg->replay;
    if (strcmp(d->key, "snapshot_trajectories") == 0) return cfg->snapshot_every == 0;
    return 0;
}

int config_eval_len(const TaskConfig *cfg)
{
    long n = lround(cfg->eval_len_factor * cfg->seq_len);
    return n < 1 ? 1 : (int)n;
}

int config_n_snapshots(const TaskConfig *cfg)
{
    return cfg->snapshot_every > 0 ? cfg->steps / cfg->snapshot_every + 1 : 0;
}

int config_n_logged(const TaskConfig *cfg)
{
    int k = cfg->log_every;
    return cfg->steps / k + 1 + (cfg->steps % k != 0);
}

double config_alpha(const TaskConfig *cfg)
{
    if (!cell_uses_tau(cfg->cell)) return 1.0;
    return cfg->dt / cfg->tau;
}

int config_validate(const TaskConfig *cfg, const char **key, char *msg, size_t len)
{
    if (cell_uses_tau(cfg->cell) && !(cfg->tau >= cfg->dt)) {
        *key = "tau";
        snprintf(msg, len, "tau must be >= dt (%g s) so that alpha = dt/tau <= 1, got %g", cfg->dt, cfg->tau);
        return -1;
    }
    if (cfg->target != TARGET_CARTESIAN && cfg->decode_k > cfg->n_place) {
        *key = "decode_k";
        snprintf(msg, len, "decode_k (%d) must not exceed n_place (%d)", cfg->decode_k, cfg->n_place);
        return -1;
    }
    if (cfg->border_region * 2 >= cfg->arena_size) {
        *key = "border_region";
        snprintf(msg, len, "border_region (%g m) must be less than half the arena size (%g m)",
                 cfg->border_region, cfg->arena_size);
        return -1;
    }
    /* T-maze corridors are arena_size / 5 wide (arena.h, ARENA_TMAZE_WIDTH_FRAC) */
    if (cfg->arena == ARENA_TMAZE && cfg->border_region * 2 >= 0.2 * cfg->arena_size) {
        *key = "border_region";
        snprintf(msg, len, "border_region (%g m) must be less than half the T-maze corridor width (%g m)",
                 cfg->border_region, 0.2 * cfg->arena_size);
        return -1;
    }
    if (cfg->replay && cfg->replay_burn_in >= cfg->replay_steps) {
        *key = "replay_burn_in";
        snprintf(msg, len, "replay_burn_in (%d steps) must be less than replay_steps (%d)", cfg->replay_burn_in,
                 cfg->replay_steps);
        return -1;
    }
    if (cfg->n_eval_noise < 1 || cfg->n_eval_noise > SWEEP_MAX_EVAL_NOISE) {
        *key = "eval_noise";
        snprintf(msg, len, "eval_noise must list 1 to %d levels", SWEEP_MAX_EVAL_NOISE);
        return -1;
    }
    for (int i = 0; i < cfg->n_eval_noise; i++) {
        if (!(cfg->eval_noise[i] >= 0) || !isfinite(cfg->eval_noise[i])) {
            *key = "eval_noise";
            snprintf(msg, len, "eval_noise levels must be finite and >= 0, got %g", cfg->eval_noise[i]);
            return -1;
        }
    }
    return 0;
}
