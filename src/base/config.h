/* config.h -- TaskConfig: every setting of one task, and the settings table.
 *
 * A TaskConfig is a plain value (no pointers): copy it, send it over MPI as
 * bytes, hash it.  Its scalar fields are generated from settings.def, so
 * the table and the struct cannot disagree.  Integers, booleans and enum
 * indices are `int`; reals are `double` (the model converts to float).
 */
#ifndef SWEEP_CONFIG_H
#define SWEEP_CONFIG_H

#include <stddef.h>

#define SWEEP_MAX_EVAL_NOISE 16

/* ---- enums (value = index into the name lists below) ----------------- */
typedef enum { ACT_RELU = 0, ACT_TANH, ACT_NONE, ACT_COUNT } Activation;
typedef enum {
    CELL_VANILLA = 0, CELL_LEAKY, CELL_ADAPTIVE, CELL_MOMENTUM,
    CELL_ADAPTIVE_MOMENTUM, CELL_COUNT
} CellType;
typedef enum {
    ARENA_SQUARE = 0, ARENA_CIRCLE, ARENA_TRIANGLE, ARENA_HEXAGON,
    ARENA_TMAZE, ARENA_COUNT
} ArenaShape;
typedef enum { TARGET_GAUSSIAN = 0, TARGET_DOG, TARGET_CARTESIAN, TARGET_COUNT } TargetCode;
typedef enum { SCORE_MEAN_DIFF = 0, SCORE_MIN_MAX, SCORE_COUNT } ScoreVariant;
typedef enum { SAVE_NONE = 0, SAVE_ALL, SAVE_TOP, SAVE_COUNT } SaveMaps;

/* NULL-terminated name lists, indexed by the enums above. */
extern const char *const config_enum_ACT[];
extern const char *const config_enum_CELL[];
extern const char *const config_enum_ARENA[];
extern const char *const config_enum_TARGET[];
extern const char *const config_enum_SCORE[];
extern const char *const config_enum_SAVE[];

/* ---- the struct ------------------------------------------------------ */
#define SETTING_CTYPE_INT int
#define SETTING_CTYPE_REAL double
#define SETTING_CTYPE_BOOL int
#define SETTING_CTYPE_ENUM_ACT int
#define SETTING_CTYPE_ENUM_CELL int
#define SETTING_CTYPE_ENUM_ARENA int
#define SETTING_CTYPE_ENUM_TARGET int
#define SETTING_CTYPE_ENUM_SCORE int
#define SETTING_CTYPE_ENUM_SAVE int

typedef struct TaskConfig {
#define SETTING(section, key, kind, def, lo, hi, unit, doc) SETTING_CTYPE_##kind key;
#include "base/settings.def"
#undef SETTING
    int n_eval_noise;                             /* >= 1 */
    double eval_noise[SWEEP_MAX_EVAL_NOISE];      /* sigma levels for the error curves */
} TaskConfig;

/* ---- the table, for code that walks every setting -------------------- */
typedef enum { KIND_INT = 0, KIND_REAL, KIND_BOOL, KIND_ENUM } SettingKind;

typedef struct SettingDesc {
    const char *section;          /* "model", "task", ... */
    const char *key;              /* "hidden", ... */
    SettingKind kind;
    const char *const *names;     /* enum names (KIND_ENUM), else NULL */
    double def, lo, hi;
    const char *unit, *doc;
    size_t offset;                /* offsetof(TaskConfig, key) */
} SettingDesc;

extern const SettingDesc config_settings[];
extern const int config_n_settings;

/* Look a setting up by key (keys are unique across sections); NULL if none. */
const SettingDesc *config_find(const char *key);

/* Fill every field with its default; eval_noise = {0.0}. */
void config_defaults(TaskConfig *cfg);

/* Read / write one setting as a double (enum index, 0/1 for bool). */
double config_get(const TaskConfig *cfg, const SettingDesc *d);
void config_set(TaskConfig *cfg, const SettingDesc *d, double v);

/* Format a setting's value for humans/tables ("relu", "0.001", "true").
 * Returns buf. */
char *config_format(const TaskConfig *cfg, const SettingDesc *d, char *buf, size_t len);

/* Parse an enum name for setting d; returns the index or -1. */
int config_enum_index(const SettingDesc *d, const char *name);

/* Cross-field checks that a single range cannot express (tau >= dt for
 * cells that use tau, decode_k <= n_place, ...).  On failure writes the
 * offending key to *key and a message (no trailing newline) to msg and
 * returns -1; 0 if valid. */
int config_validate(const TaskConfig *cfg, const char **key, char *msg, size_t len);

/* Settings the task's cell does not use (tau for vanilla; lambda_a, b_a for
 * cells without adaptation; lambda_v for cells without momentum).  Returns
 * 1 if setting d is ignored by cfg's cell, else 0.  Tasks that differ only
 * in ignored settings are the same network (spec.c de-duplicates them). */
int config_ignored(const TaskConfig *cfg, const SettingDesc *d);

/* Derived quantities. */
int config_eval_len(const TaskConfig *cfg);      /* round(eval_len_factor * seq_len), >= 1 */
int config_n_logged(const TaskConfig *cfg);      /* logged points: steps/log_every + 1 (step 0 .. steps) */
double config_alpha(const TaskConfig *cfg);      /* dt / tau, or 1 for vanilla */

#endif
