/* spec.h -- the YAML sweep spec: parse, validate, expand, de-duplicate, hash.
 *
 * A spec file (docs/spec.md) gives fixed settings in sections (model, task,
 * place, train, eval), an output section, and a `sweep:` section of axes.
 * spec_load() turns it into a base TaskConfig plus the list of tasks: the
 * cartesian product of the axes, expanded in settings.def order (the first
 * axis of the table varies slowest), each task put in canonical form
 * (settings its cell ignores reset to their defaults) and duplicates dropped,
 * keeping the first.  Task id = index into tasks[].
 *
 * Every error is one line "FILE:LINE:COL: section.key: message" (1-based
 * line and column of the offending YAML node).
 *
 * Ownership: spec_load / spec_load_string fill a Spec that owns every
 * pointer in it; spec_free releases them (safe on a zeroed or failed Spec).
 */
#ifndef SWEEP_SPEC_H
#define SWEEP_SPEC_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/config.h"

/* Limits: a bigger spec is an error, never an out-of-memory. */
#define SPEC_MAX_COMBOS 1000000     /* cartesian product size */
#define SPEC_MAX_NODES 100000       /* YAML nodes after alias expansion */
#define SPEC_MAX_DEPTH 64           /* YAML nesting depth */
#define SPEC_MAX_SAMPLES 100000     /* samples of one random axis */
#define SPEC_MAX_BYTES (16u << 20)  /* spec file size */

typedef enum {
    SPEC_AXIS_LIST = 0,     /* tau: [0.02, 0.1] */
    SPEC_AXIS_RANGE,        /* seed: {range: [0, 10]} or [start, stop, step]; stop exclusive */
    SPEC_AXIS_UNIFORM,      /* noise: {uniform: [0, 0.1], samples: 8} (reals) */
    SPEC_AXIS_LOGUNIFORM,   /* lr: {loguniform: [1e-5, 1e-2], samples: 8} (reals, bounds > 0) */
    SPEC_AXIS_RANDINT       /* hidden: {randint: [64, 512], samples: 4} (ints, inclusive) */
} SpecAxisKind;

extern const char *const spec_axis_kind_names[];   /* "list", "range", ... */

typedef struct SpecAxis {
    const SettingDesc *d;   /* the setting this axis varies */
    int n;                  /* number of values, >= 1 */
    double *values;         /* (n) as in config_set: enum index, 0/1, int, real */
    int *vline, *vcol;      /* (n) 1-based location of each value (the
                               distribution node for drawn values) */
    int line, col;          /* location of the axis key */
    int kind;               /* SpecAxisKind */
    double a, b, step;      /* range: start, stop, step; distributions: bounds */
    int samples;            /* distributions: number of draws */
} SpecAxis;

typedef struct Spec {
    char *path;             /* as given (the name in error messages) */
    char *text;             /* the file's bytes, NUL-terminated */
    size_t text_len;
    char name[128];         /* top-level name: ("" if none) */
    char *description;      /* top-level description: ("" if none) */
    uint64_t sweep_seed;    /* seed of the random-search draws (default 0) */
    TaskConfig base;        /* fixed settings with defaults filled */
    int n_axes;
    SpecAxis *axes;         /* (n_axes) in settings.def order */
    int n_combos;           /* cartesian product size before de-duplication */
    int n_tasks;
    TaskConfig *tasks;      /* (n_tasks) expanded, canonical, de-duplicated */
    int n_merged;           /* n_combos - n_tasks */
    char merge_note[512];   /* why tasks merged ("vanilla ignores tau"), "" if none */
    char *canonical;        /* the canonical text that is hashed */
    char hash[65];          /* SHA-256 hex of canonical */
    /* output section: not part of the hash (does not change results) */
    char output[4096];      /* result file, default "results.h5" */
    double time_limit;      /* seconds, 0 = none */
    double progress_every;  /* seconds between progress lines, default 30 */
    int sync;               /* output.sync: 1 "task" (fsync per task, default), 0 "none" (h5out.h) */
    /* train run settings: not part of the hash either (docs/spec.md, "Run settings of the train section") */
    double checkpoint_every;/* train.checkpoint_every: seconds of training between checkpoints, 0 = off (900) */
    int threads_given;      /* 1: the spec sets train.threads (fixed or as an axis); else the
                               environment may choose it (spec_threads_from_env) */
    double stop_grace;      /* train.stop_grace: on a drain, a task expected to need longer than this
                               checkpoints and stops; shorter ones finish (120 s) */
    int data_thread;        /* train.data_thread (DataThread, config.h): who makes the training
                               batches; auto (default) = a second thread where the rank has a spare
                               core (docs/spec.md, "Run settings of the train section") */
} Spec;

/* Read and parse the file at path.  Returns 0, or -1 with err filled
 * ("file:line:col: section.key: message", no trailing newline). */
int spec_load(Spec *s, const char *path, char *err, size_t errlen);

/* The same from memory; name is used as the path in messages.  text need
 * not be NUL-terminated. */
int spec_load_string(Spec *s, const char *name, const char *text, size_t len, char *err, size_t errlen);

void spec_free(Spec *s);

/* OpenBLAS threads per task from the environment, for a spec that does not
 * set train.threads: SLURM_CPUS_PER_TASK (what `sbatch --cpus-per-task=k`
 * sets) when it is a whole number in [1, 1024], else 0 (the spec's
 * default, 1).  Sets every task's threads to it when it is not 0 and
 * returns it; a spec that sets threads is left alone (0).  The hash does
 * not change: docs/performance.md, "Threads per rank". */
int spec_threads_from_env(Spec *s);

/* Every task's threads (and the base's) set to k >= 1. */
void spec_set_threads(Spec *s, int k);

/* Index of the axis over setting d, or -1 if d is not an axis. */
int spec_axis_index(const Spec *s, const SettingDesc *d);
/* 1 if setting d is an axis of the spec, else 0. */
int spec_is_axis(const Spec *s, const SettingDesc *d);

/* The dry-run table: one row per task (id and every axis value, "-" where
 * the task's cell ignores the setting), then the counts. */
void spec_print_tasks(const Spec *s, FILE *out);

/* One line "N combinations, M tasks[: K merged because ...]" into buf. */
char *spec_summary(const Spec *s, char *buf, size_t len);

/* The markdown table of every setting (section, key, type, default, range,
 * unit, description), as docs/spec.md embeds it. */
void spec_print_settings_table(FILE *out);

#endif
