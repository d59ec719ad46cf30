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
/* Cell types, one row each of cells.def: CELL_VANILLA = 0, CELL_LEAKY, ... */
typedef enum {
#define CELL(id, name, adapts, momentum, uses_tau, gates) CELL_##id,
#include "base/cells.def"
#undef CELL
    CELL_COUNT
} CellType;
typedef enum {
    ARENA_SQUARE = 0, ARENA_CIRCLE, ARENA_TRIANGLE, ARENA_HEXAGON,
    ARENA_TMAZE, ARENA_COUNT
} ArenaShape;
typedef enum { TARGET_GAUSSIAN = 0, TARGET_DOG, TARGET_CARTESIAN, TARGET_COUNT } TargetCode;
/* Network input per step (the `input` setting): velocity = the displacement
 * (dx, dy) of the step (Sorscher et al. 2019), I = 2; speed_heading = (speed
 * |d| / dt, cos theta, sin theta) with theta the direction of the
 * displacement (Cueva & Wei 2018, Banino et al. 2018), I = 3. */
typedef enum { INPUT_VELOCITY = 0, INPUT_SPEED_HEADING, INPUT_COUNT } InputCode;
typedef enum { SCORE_MEAN_DIFF = 0, SCORE_MIN_MAX, SCORE_COUNT } ScoreVariant;
typedef enum { SAVE_NONE = 0, SAVE_ALL, SAVE_TOP, SAVE_COUNT } SaveMaps;
/* Who makes a task's training batches (task/feed.h): the run setting
 * train.data_thread (spec.h; not a TaskConfig field: it changes no result)
 * and TaskHooks.data_thread (task/train.h). */
typedef enum {
    DATA_THREAD_AUTO = 0, /* a second thread when the task has a spare core (task_data_thread_on) */
    DATA_THREAD_OFF,      /* in line, between two steps */
    DATA_THREAD_ON,       /* a second thread, one batch ahead */
    DATA_THREAD_COUNT
} DataThread;
extern const char *const config_data_thread_names[]; /* "auto", "off", "on", NULL */

/* NULL-terminated name lists, indexed by the enums above. */
extern const char *const config_enum_ACT[];
extern const char *const config_enum_CELL[];
extern const char *const config_enum_ARENA[];
extern const char *const config_enum_TARGET[];
extern const char *const config_enum_INPUT[];
extern const char *const config_enum_SCORE[];
extern const char *const config_enum_SAVE[];

/* ---- cell properties (the columns of cells.def) ---------------------- */
/* Bit c of each mask is cell c's flag, so the predicates below are a shift
 * and a mask of a constant (they run once per row and step in the model). */
enum {
    CELL_ADAPTS_MASK_ = 0
#define CELL(id, name, adapts, momentum, uses_tau, gates) | ((adapts) << CELL_##id)
#include "base/cells.def"
#undef CELL
};
enum {
    CELL_MOMENTUM_MASK_ = 0
#define CELL(id, name, adapts, momentum, uses_tau, gates) | ((momentum) << CELL_##id)
#include "base/cells.def"
#undef CELL
};
enum {
    CELL_USES_TAU_MASK_ = 0
#define CELL(id, name, adapts, momentum, uses_tau, gates) | ((uses_tau) << CELL_##id)
#include "base/cells.def"
#undef CELL
};
/* G, stacked gate blocks of a gated cell (cells.def's last column), 0 for the others */
static const unsigned char cell_gates_[CELL_COUNT + 1] = {
#define CELL(id, name, adapts, momentum, uses_tau, gates) gates,
#include "base/cells.def"
#undef CELL
    0};
_Static_assert(CELL_COUNT <= 31, "the cell property masks are int bit sets");

/* 1: the cell subtracts the adaptation a_t from its drive (lambda_a, b_a). */
static inline int cell_adapts(int cell)
{
    return (unsigned)cell < CELL_COUNT && ((CELL_ADAPTS_MASK_ >> cell) & 1);
}
/* 1: the cell integrates a momentum m_t, h_t = h_{t-1} + m_t (lambda_v). */
static inline int cell_has_momentum(int cell)
{
    return (unsigned)cell < CELL_COUNT && ((CELL_MOMENTUM_MASK_ >> cell) & 1);
}
/* 1: the cell leaks with alpha = dt / tau (tau); 0: alpha = 1. */
static inline int cell_uses_tau(int cell)
{
    return (unsigned)cell < CELL_COUNT && ((CELL_USES_TAU_MASK_ >> cell) & 1);
}

/* G > 0: a gated cell (gru, lstm, ugrnn) with G stacked gate blocks; 0: not gated. */
static inline int cell_gates(int cell)
{
    return (unsigned)cell < CELL_COUNT ? cell_gates_[cell] : 0;
}
/* I, network inputs per step for the `input` setting (InputCode). */
static inline int input_dim(int input)
{
    return input == INPUT_SPEED_HEADING ? 3 : 2;
}

/* ---- the struct ------------------------------------------------------ */
#define SETTING_CTYPE_INT int
#define SETTING_CTYPE_REAL double
#define SETTING_CTYPE_BOOL int
#define SETTING_CTYPE_ENUM_ACT int
#define SETTING_CTYPE_ENUM_CELL int
#define SETTING_CTYPE_ENUM_ARENA int
#define SETTING_CTYPE_ENUM_TARGET int
#define SETTING_CTYPE_ENUM_INPUT int
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

/* Settings the task does not use: tau for cells that do not use it,
 * lambda_a and b_a for cells without adaptation, lambda_v for cells without
 * momentum, activation for the gated cells (cells.def), and the settings of options that are off.  Returns
 * 1 if setting d is ignored by cfg's cell, else 0.  Tasks that differ only
 * in ignored settings are the same network (spec.c de-duplicates them). */
int config_ignored(const TaskConfig *cfg, const SettingDesc *d);

/* Derived quantities. */
int config_eval_len(const TaskConfig *cfg);      /* round(eval_len_factor * seq_len), >= 1 */
int config_n_snapshots(const TaskConfig *cfg);   /* snapshots: steps/snapshot_every + 1, 0 when off */
int config_n_logged(const TaskConfig *cfg);      /* logged points: steps/log_every + 1 (step 0 .. steps) */
double config_alpha(const TaskConfig *cfg);      /* dt / tau, or 1 for cells without tau */

#endif
