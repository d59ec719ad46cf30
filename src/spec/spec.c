/* spec.c -- the YAML sweep spec: parse, validate, expand, de-duplicate, hash.
 *
 * Legend: A axes, C combinations (cartesian product), T tasks after
 * de-duplication, K settings in settings.def.
 *
 * Flow: text -> YDoc (spec_yaml.c, limits on aliases and depth) -> walk the
 * sections (every key checked against settings.def, every value against its
 * kind and range) -> axes in table order -> expand the product, put each
 * task in canonical form (config_ignored -> default), config_validate it,
 * drop duplicates -> canonical text -> SHA-256.
 */
#include "spec/spec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "spec/sha256.h"
#include "spec/spec_yaml.h"

const char *const spec_axis_kind_names[] = {"list", "range", "uniform", "loguniform", "randint", NULL};

/* ---- parse context and errors ---------------------------------------- */

typedef struct Loc {
    int line, col;       /* 0 = not given */
} Loc;

/* K, counted at compile time from the same table as config_n_settings */
enum {
    SPEC_N_SETTINGS = 0
#define SETTING(section, key, kind, def, lo, hi, unit, doc) +1
#include "base/settings.def"
#undef SETTING
};
enum { MAX_SETTINGS = 128 };              /* Ctx's per-setting arrays */
_Static_assert((int)SPEC_N_SETTINGS <= (int)MAX_SETTINGS, "settings.def has more rows than Ctx's per-setting arrays hold");

typedef struct Ctx {
    Spec *s;
    const YDoc *doc;
    char *err;
    size_t errlen;
    Loc fixed[MAX_SETTINGS];      /* (K) where each fixed setting was given */
    Loc axis_at[MAX_SETTINGS];    /* (K) where each axis key was given */
    int axis_node[MAX_SETTINGS];  /* (K) value node of each axis, -1 if none */
    Loc eval_noise_at;
    Loc train_run_at[3]; /* where train.checkpoint_every / stop_grace / data_thread were given */
} Ctx;

static int fail_at(Ctx *c, int line, int col, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int fail_at(Ctx *c, int line, int col, const char *where, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line < 1) line = 1;
    if (col < 1) col = 1;
    char raw[5200];     /* path (up to 4096) + message */
    if (where && *where)
        snprintf(raw, sizeof raw, "%s:%d:%d: %s: %s", c->s->path, line, col, where, msg);
    else
        snprintf(raw, sizeof raw, "%s:%d:%d: %s", c->s->path, line, col, msg);
    /* the message quotes the spec's own text: escape control characters so
     * that it stays one line and cannot drive the user's terminal */
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)raw; *p && o + 5 < c->errlen; p++) {
        if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(c->err + o, c->errlen - o, *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : "\\x%02x", *p);
        else
            c->err[o++] = (char)*p;
    }
    if (c->errlen) c->err[o < c->errlen ? o : c->errlen - 1] = '\0';
    return -1;
}

static const YNode *node(const Ctx *c, int k) { return &c->doc->nodes[k]; }

static int is_null(const YNode *n)
{
    return n->type == YNODE_SCALAR && n->plain &&
           (n->str[0] == '\0' || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
            strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0);
}

/* "got ..." phrase for a node. */
static const char *got(const YNode *n, char *buf, size_t len)
{
    if (n->type == YNODE_SEQ)
        snprintf(buf, len, "a list");
    else if (n->type == YNODE_MAP)
        snprintf(buf, len, "a mapping");
    else if (is_null(n))
        snprintf(buf, len, "nothing");
    else if (strlen(n->str) > 60)
        snprintf(buf, len, "\"%.57s...\"", n->str);
    else
        snprintf(buf, len, "\"%s\"", n->str);
    return buf;
}

/* ---- suggestions ------------------------------------------------------ */

static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 1000;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Closest candidate to word, or NULL if none is close enough. */
static const char *closest(const char *word, const char *const *cands, int n)
{
    const char *best = NULL;
    int bd = 1000;
    for (int i = 0; i < n; i++) {
        int d = edit_distance(word, cands[i]);
        if (d < bd) {
            bd = d;
            best = cands[i];
        }
    }
    int len = (int)strlen(word);
    int limit = len <= 3 ? 1 : len <= 8 ? 2 : 3;
    return bd <= limit ? best : NULL;
}

/* ---- scalar values ----------------------------------------------------- */

/* 0 ok, -1 not a number, -2 out of the double range */
static int parse_number(const YNode *n, double *v)
{
    if (n->type != YNODE_SCALAR || !n->plain || n->str[0] == '\0') return -1;
    for (const char *p = n->str; *p; p++)
        if (!strchr("0123456789+-.eE_", *p)) return -1;
    char tmp[128];
    size_t k = 0;
    for (const char *p = n->str; *p && k + 1 < sizeof tmp; p++)
        if (*p != '_') tmp[k++] = *p;   /* 100_000 */
    tmp[k] = '\0';
    char *end;
    errno = 0;
    double x = strtod(tmp, &end);
    if (end == tmp || *end != '\0') return -1;
    if (errno == ERANGE || !isfinite(x)) return -2;
    *v = x;
    return 0;
}

static void fmt_num(char *buf, size_t len, double x)
{
    snprintf(buf, len, "%.10g", x);
}

static void expectation(const SettingDesc *d, char *buf, size_t len)
{
    char lo[32], hi[32];
    fmt_num(lo, sizeof lo, d->lo);
    fmt_num(hi, sizeof hi, d->hi);
    switch (d->kind) {
    case KIND_INT: snprintf(buf, len, "an integer in [%s, %s]", lo, hi); break;
    case KIND_REAL:
        if (d->hi >= 1e6 && d->lo == 0)
            snprintf(buf, len, "a non-negative number");
        else if (d->hi >= 1e6)
            snprintf(buf, len, "a number >= %s", lo);
        else
            snprintf(buf, len, "a number in [%s, %s]", lo, hi);
        break;
    case KIND_BOOL: snprintf(buf, len, "true or false"); break;
    case KIND_ENUM: {
        size_t o = (size_t)snprintf(buf, len, "one of");
        for (int i = 0; d->names[i] && o < len; i++)
            o += (size_t)snprintf(buf + o, len - o, "%s %s", i ? "," : "", d->names[i]);
        break;
    }
    }
}

/* Read node k as a value of setting d into *out (as in config_set). */
static int setting_value(Ctx *c, const SettingDesc *d, int k, const char *where, double *out)
{
    const YNode *n = node(c, k);
    char exp[256], g[96];
    expectation(d, exp, sizeof exp);
    if (n->type != YNODE_SCALAR || is_null(n))
        return fail_at(c, n->line, n->col, where, "expected %s, got %s", exp, got(n, g, sizeof g));
    if (d->kind == KIND_ENUM) {
        int i = config_enum_index(d, n->str);
        if (i < 0) {
            int m = 0;
            while (d->names[m]) m++;
            const char *sug = closest(n->str, (const char *const *)d->names, m);
            if (sug)
                return fail_at(c, n->line, n->col, where, "expected %s, got %s (did you mean '%s'?)", exp,
                               got(n, g, sizeof g), sug);
            return fail_at(c, n->line, n->col, where, "expected %s, got %s", exp, got(n, g, sizeof g));
        }
        *out = i;
        return 0;
    }
    if (d->kind == KIND_BOOL) {
        static const char *const t[] = {"true", "True", "TRUE"}, *const f[] = {"false", "False", "FALSE"};
        for (int i = 0; i < 3 && n->plain; i++) {
            if (strcmp(n->str, t[i]) == 0) { *out = 1; return 0; }
            if (strcmp(n->str, f[i]) == 0) { *out = 0; return 0; }
        }
        return fail_at(c, n->line, n->col, where, "expected %s, got %s", exp, got(n, g, sizeof g));
    }
    double x;
    int rc = parse_number(n, &x);
    if (rc == -2)
        return fail_at(c, n->line, n->col, where, "expected %s, got %s (out of range of a double)", exp,
                       got(n, g, sizeof g));
    if (rc < 0) {
        if (!n->plain)
            return fail_at(c, n->line, n->col, where, "expected %s, got the string %s", exp, got(n, g, sizeof g));
        return fail_at(c, n->line, n->col, where, "expected %s, got %s", exp, got(n, g, sizeof g));
    }
    if (d->kind == KIND_INT && x != floor(x))
        return fail_at(c, n->line, n->col, where, "expected %s, got %s (not an integer)", exp, n->str);
    if (!(x >= d->lo && x <= d->hi))
        return fail_at(c, n->line, n->col, where, "expected %s, got %s", exp, n->str);
    *out = x == 0 ? 0 : x; /* -0 is 0 */
    return 0;
}

/* A plain number node, for distribution bounds and output settings. */
static int plain_number(Ctx *c, int k, const char *where, const char *what, double *out)
{
    const YNode *n = node(c, k);
    char g[96];
    int rc = parse_number(n, out);
    if (rc == -2) return fail_at(c, n->line, n->col, where, "%s out of range: %s", what, n->str);
    if (rc < 0) return fail_at(c, n->line, n->col, where, "expected %s, got %s", what, got(n, g, sizeof g));
    return 0;
}

static int scalar_string(Ctx *c, int k, const char *where, char *dst, size_t cap)
{
    const YNode *n = node(c, k);
    char g[96];
    if (n->type != YNODE_SCALAR || is_null(n))
        return fail_at(c, n->line, n->col, where, "expected a string, got %s", got(n, g, sizeof g));
    if (strlen(n->str) >= cap)
        return fail_at(c, n->line, n->col, where, "longer than %zu characters", cap - 1);
    strcpy(dst, n->str);
    return 0;
}

/* ---- sections ---------------------------------------------------------- */

static const char *const section_names[] = {"model", "task", "place", "train", "eval", "replay"};
enum { N_SECTIONS = 6 };
_Static_assert(sizeof section_names / sizeof section_names[0] == N_SECTIONS, "N_SECTIONS != section_names");
static const char *const top_keys[] = {"name", "description", "sweep_seed", "model", "task", "place",
                                       "train", "eval", "replay", "output", "sweep"};
enum { N_TOP = 11 };
_Static_assert(sizeof top_keys / sizeof top_keys[0] == N_TOP, "N_TOP != top_keys");
static const char *const output_keys[] = {"file", "time_limit", "progress_every", "sync"};
/* Run settings of the train section: how a task is kept safe while it
 * trains and who makes its batches, not what it computes (not hashed, not
 * /tasks columns, not axes; docs/spec.md, "Run settings of the train
 * section"). */
static const char *const train_run_keys[] = {"checkpoint_every", "stop_grace", "data_thread"};
enum { N_TRAIN_RUN_KEYS = 3 };
_Static_assert(sizeof train_run_keys / sizeof train_run_keys[0] == N_TRAIN_RUN_KEYS, "N_TRAIN_RUN_KEYS");
_Static_assert(sizeof ((Ctx *)0)->train_run_at / sizeof(Loc) == N_TRAIN_RUN_KEYS, "Ctx.train_run_at");

/* A train run setting (index j of train_run_keys) from value node vk. */
static int parse_train_run_key(Ctx *c, int j, const YNode *kn, int vk, const char *where)
{
    const YNode *vn = node(c, vk);
    double x;
    if (c->train_run_at[j].line)
        return fail_at(c, kn->line, kn->col, where, "duplicate key (first given at %d:%d)", c->train_run_at[j].line,
                       c->train_run_at[j].col);
    c->train_run_at[j] = (Loc){kn->line, kn->col};
    if (j == 2) { /* data_thread: auto, off, on */
        char v[64];
        if (scalar_string(c, vk, where, v, sizeof v) < 0) return -1;
        for (int m = 0; m < DATA_THREAD_COUNT; m++)
            if (strcmp(v, config_data_thread_names[m]) == 0) {
                c->s->data_thread = m;
                return 0;
            }
        return fail_at(c, vn->line, vn->col, where, "expected 'auto', 'off' or 'on', got %s", vn->str);
    }
    if (plain_number(c, vk, where, j == 0 ? "a number of seconds >= 0 (0 = no checkpoints)" : "a number of seconds >= 0",
                     &x) < 0)
        return -1;
    if (!(x >= 0) || !isfinite(x))
        return fail_at(c, vn->line, vn->col, where, "expected a number of seconds >= 0, got %s", vn->str);
    if (j == 0)
        c->s->checkpoint_every = x;
    else
        c->s->stop_grace = x;
    return 0;
}

/* Every key a section may hold (for suggestions): settings + eval_noise. */
enum { N_ALL_KEYS = MAX_SETTINGS + 1 };   /* capacity of all_keys' arrays */
static int all_keys(const char **keys, int cap)
{
    int n = 0;
    for (int i = 0; i < config_n_settings && n < cap; i++) keys[n++] = config_settings[i].key;
    if (n < cap) keys[n++] = "eval_noise";
    return n;
}

/* Unknown key: the error, with a suggestion. */
static int unknown_key(Ctx *c, const YNode *kn, const char *where, const char *const *cands, int n)
{
    const char *sug = closest(kn->str, cands, n);
    if (sug) return fail_at(c, kn->line, kn->col, where, "unknown key '%s' (did you mean '%s'?)", kn->str, sug);
    return fail_at(c, kn->line, kn->col, where, "unknown key '%s'", kn->str);
}

static int check_key_node(Ctx *c, const YNode *kn, const char *where)
{
    char g[96];
    if (kn->type != YNODE_SCALAR || is_null(kn))
        return fail_at(c, kn->line, kn->col, where, "a key must be a name, got %s", got(kn, g, sizeof g));
    return 0;
}

static int parse_eval_noise(Ctx *c, int k)
{
    const YNode *n = node(c, k);
    char g[96];
    const char *where = "eval.eval_noise";
    if (n->type != YNODE_SEQ)
        return fail_at(c, n->line, n->col, where, "expected a list of 1 to %d noise levels, got %s",
                       SWEEP_MAX_EVAL_NOISE, got(n, g, sizeof g));
    if (n->n < 1 || n->n > SWEEP_MAX_EVAL_NOISE)
        return fail_at(c, n->line, n->col, where, "expected a list of 1 to %d noise levels, got %d",
                       SWEEP_MAX_EVAL_NOISE, n->n);
    for (int i = 0; i < n->n; i++) {
        const YNode *it = node(c, n->kids[i]);
        double x;
        if (plain_number(c, n->kids[i], where, "a non-negative noise level", &x) < 0) return -1;
        if (x < 0) return fail_at(c, it->line, it->col, where, "expected a non-negative noise level, got %s", it->str);
        c->s->base.eval_noise[i] = x;
    }
    c->s->base.n_eval_noise = n->n;
    return 0;
}

static int parse_section(Ctx *c, const char *section, int k)
{
    const YNode *n = node(c, k);
    char g[96], where[160];
    const char *keys[N_ALL_KEYS];
    int nkeys = all_keys(keys, N_ALL_KEYS);
    if (is_null(n)) return 0; /* "model:" with nothing under it */
    if (n->type != YNODE_MAP)
        return fail_at(c, n->line, n->col, section, "expected a mapping of settings, got %s", got(n, g, sizeof g));
    for (int i = 0; i < n->n; i += 2) {
        const YNode *kn = node(c, n->kids[i]);
        if (check_key_node(c, kn, section) < 0) return -1;
        snprintf(where, sizeof where, "%s.%s", section, kn->str);
        if (strcmp(section, "eval") == 0 && strcmp(kn->str, "eval_noise") == 0) {
            if (c->eval_noise_at.line)
                return fail_at(c, kn->line, kn->col, where, "duplicate key (first given at %d:%d)",
                               c->eval_noise_at.line, c->eval_noise_at.col);
            c->eval_noise_at = (Loc){kn->line, kn->col};
            if (parse_eval_noise(c, n->kids[i + 1]) < 0) return -1;
            continue;
        }
        if (strcmp(section, "train") == 0) {
            int j = 0;
            while (j < N_TRAIN_RUN_KEYS && strcmp(kn->str, train_run_keys[j]) != 0) j++;
            if (j < N_TRAIN_RUN_KEYS) {
                if (parse_train_run_key(c, j, kn, n->kids[i + 1], where) < 0) return -1;
                continue;
            }
        }
        const SettingDesc *d = config_find(kn->str);
        if (!d) {
            if (strcmp(kn->str, "eval_noise") == 0)
                return fail_at(c, kn->line, kn->col, where, "'eval_noise' belongs in section 'eval'");
            return unknown_key(c, kn, where, keys, nkeys);
        }
        if (strcmp(d->section, section) != 0)
            return fail_at(c, kn->line, kn->col, where, "'%s' belongs in section '%s', not '%s'", d->key,
                           d->section, section);
        int idx = (int)(d - config_settings);
        if (c->fixed[idx].line)
            return fail_at(c, kn->line, kn->col, where, "duplicate key (first given at %d:%d)", c->fixed[idx].line,
                           c->fixed[idx].col);
        const YNode *vn = node(c, n->kids[i + 1]);
        c->fixed[idx] = (Loc){vn->line, vn->col};
        double v;
        if (setting_value(c, d, n->kids[i + 1], where, &v) < 0) return -1;
        config_set(&c->s->base, d, v);
    }
    return 0;
}

static int parse_output(Ctx *c, int k)
{
    const YNode *n = node(c, k);
    char g[96], where[160];
    Loc seen[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}};
    if (is_null(n)) return 0;
    if (n->type != YNODE_MAP)
        return fail_at(c, n->line, n->col, "output", "expected a mapping, got %s", got(n, g, sizeof g));
    for (int i = 0; i < n->n; i += 2) {
        const YNode *kn = node(c, n->kids[i]);
        int vk = n->kids[i + 1];
        if (check_key_node(c, kn, "output") < 0) return -1;
        snprintf(where, sizeof where, "output.%s", kn->str);
        int j = 0;
        while (j < 4 && strcmp(kn->str, output_keys[j]) != 0) j++;
        if (j == 4) {
            if (config_find(kn->str))
                return fail_at(c, kn->line, kn->col, where, "'%s' belongs in section '%s', not 'output'",
                               kn->str, config_find(kn->str)->section);
            return unknown_key(c, kn, where, output_keys, 4);
        }
        if (seen[j].line)
            return fail_at(c, kn->line, kn->col, where, "duplicate key (first given at %d:%d)", seen[j].line,
                           seen[j].col);
        seen[j] = (Loc){kn->line, kn->col};
        const YNode *vn = node(c, vk);
        double x;
        if (j == 0) {
            if (scalar_string(c, vk, where, c->s->output, sizeof c->s->output) < 0) return -1;
        } else if (j == 1) {
            if (plain_number(c, vk, where, "a number of seconds >= 0 (0 = no limit)", &x) < 0) return -1;
            if (x < 0)
                return fail_at(c, vn->line, vn->col, where, "expected a number of seconds >= 0, got %s", vn->str);
            c->s->time_limit = x;
        } else if (j == 2) {
            if (plain_number(c, vk, where, "a number of seconds > 0", &x) < 0) return -1;
            if (!(x > 0))
                return fail_at(c, vn->line, vn->col, where, "expected a number of seconds > 0, got %s", vn->str);
            c->s->progress_every = x;
        } else {
            char v[64];
            if (scalar_string(c, vk, where, v, sizeof v) < 0) return -1;
            if (strcmp(v, "task") == 0)
                c->s->sync = 1;
            else if (strcmp(v, "none") == 0)
                c->s->sync = 0;
            else
                return fail_at(c, vn->line, vn->col, where, "expected 'task' or 'none', got %s", vn->str);
        }
    }
    return 0;
}

/* ---- axes ----------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Each random axis draws from its own stream: (sweep_seed, key), so adding
 * or removing another axis does not change its values. */
static uint64_t axis_stream(uint64_t sweep_seed, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the key */
    for (const char *p = key; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    uint64_t x = sweep_seed ^ h;
    splitmix64(&x);
    return x;
}

static int axis_alloc(SpecAxis *ax, int n)
{
    ax->n = n;
    ax->values = calloc((size_t)n, sizeof *ax->values);
    ax->vline = calloc((size_t)n, sizeof *ax->vline);
    ax->vcol = calloc((size_t)n, sizeof *ax->vcol);
    return ax->values && ax->vline && ax->vcol ? 0 : -1;
}

static int parse_list_axis(Ctx *c, SpecAxis *ax, int k, const char *where)
{
    const YNode *n = node(c, k);
    if (n->n == 0) return fail_at(c, n->line, n->col, where, "empty axis: give at least one value");
    if (axis_alloc(ax, n->n) < 0) return fail_at(c, n->line, n->col, where, "out of memory");
    for (int i = 0; i < n->n; i++) {
        const YNode *it = node(c, n->kids[i]);
        double v;
        if (setting_value(c, ax->d, n->kids[i], where, &v) < 0) return -1;
        for (int j = 0; j < i; j++)
            if (ax->values[j] == v)
                return fail_at(c, it->line, it->col, where, "duplicate value %s (also at %d:%d)", it->str,
                               ax->vline[j], ax->vcol[j]);
        ax->values[i] = v;
        ax->vline[i] = it->line;
        ax->vcol[i] = it->col;
    }
    return 0;
}

/* A distribution or range: {uniform|loguniform|randint: [lo, hi], samples: n}
 * or {range: [start, stop(, step)]}. */
static int parse_dist_axis(Ctx *c, SpecAxis *ax, int k, const char *where)
{
    const YNode *n = node(c, k);
    const SettingDesc *d = ax->d;
    static const char *const dkeys[] = {"range", "uniform", "loguniform", "randint", "samples"};
    int kind = -1, bounds = -1, samples_node = -1;
    Loc seen[5] = {{0, 0}};
    char g[96];
    for (int i = 0; i < n->n; i += 2) {
        const YNode *kn = node(c, n->kids[i]);
        if (check_key_node(c, kn, where) < 0) return -1;
        int j = 0;
        while (j < 5 && strcmp(kn->str, dkeys[j]) != 0) j++;
        if (j == 5) return unknown_key(c, kn, where, dkeys, 5);
        if (seen[j].line)
            return fail_at(c, kn->line, kn->col, where, "duplicate key '%s' (first given at %d:%d)", kn->str,
                           seen[j].line, seen[j].col);
        seen[j] = (Loc){kn->line, kn->col};
        if (j == 4) {
            samples_node = n->kids[i + 1];
            continue;
        }
        if (kind >= 0)
            return fail_at(c, kn->line, kn->col, where, "one distribution per axis: both '%s' and '%s'",
                           spec_axis_kind_names[kind], kn->str);
        kind = j + SPEC_AXIS_RANGE; /* dkeys order = SpecAxisKind order from RANGE */
        bounds = n->kids[i + 1];
    }
    if (kind < 0)
        return fail_at(c, n->line, n->col, where,
                       "an axis mapping needs one of range, uniform, loguniform, randint");
    ax->kind = kind;
    const char *kname = spec_axis_kind_names[kind];
    int want_int = kind == SPEC_AXIS_RANGE || kind == SPEC_AXIS_RANDINT;
    if (want_int && d->kind != KIND_INT)
        return fail_at(c, n->line, n->col, where, "%s draws integers, but %s is %s", kname, d->key,
                       d->kind == KIND_REAL ? "a real number (use uniform, loguniform or a list)"
                                            : "not numeric (use a list)");
    if (!want_int && d->kind != KIND_REAL)
        return fail_at(c, n->line, n->col, where, "%s draws real numbers, but %s is %s", kname, d->key,
                       d->kind == KIND_INT ? "an integer (use randint, range or a list)" : "not numeric (use a list)");
    const YNode *bn = node(c, bounds);
    int nb_max = kind == SPEC_AXIS_RANGE ? 3 : 2;
    if (bn->type != YNODE_SEQ || bn->n < 2 || bn->n > nb_max)
        return fail_at(c, bn->line, bn->col, where, "%s expects [%s], got %s", kname,
                       kind == SPEC_AXIS_RANGE ? "start, stop] or [start, stop, step" : "low, high",
                       bn->type == YNODE_SEQ ? "a list of another length" : got(bn, g, sizeof g));
    double v[3] = {0, 0, 1};
    for (int i = 0; i < bn->n; i++) {
        const YNode *it = node(c, bn->kids[i]);
        if (plain_number(c, bn->kids[i], where, want_int ? "an integer" : "a number", &v[i]) < 0) return -1;
        if (want_int && v[i] != floor(v[i]))
            return fail_at(c, it->line, it->col, where, "expected an integer, got %s", it->str);
        if (i < 2 && kind != SPEC_AXIS_RANGE && !(v[i] >= d->lo && v[i] <= d->hi)) {
            char e[256];
            expectation(d, e, sizeof e);
            return fail_at(c, it->line, it->col, where, "%s bound must be %s, got %s", kname, e, it->str);
        }
    }
    const YNode *lo_n = node(c, bn->kids[0]);
    ax->a = v[0];
    ax->b = v[1];
    ax->step = v[2];
    if (kind == SPEC_AXIS_RANGE) {
        if (samples_node >= 0) {
            const YNode *sn = node(c, samples_node);
            return fail_at(c, sn->line, sn->col, where, "range takes no 'samples'");
        }
        if (v[2] == 0) return fail_at(c, bn->line, bn->col, where, "range step must not be 0");
        double cnt = ceil((v[1] - v[0]) / v[2]);
        if (cnt <= 0)
            return fail_at(c, bn->line, bn->col, where, "empty axis: range [%g, %g) with step %g has no values",
                           v[0], v[1], v[2]);
        if (cnt > SPEC_MAX_COMBOS)
            return fail_at(c, bn->line, bn->col, where, "range has more than %d values", SPEC_MAX_COMBOS);
        double last = v[0] + (cnt - 1) * v[2];
        double mn = fmin(v[0], last), mx = fmax(v[0], last);
        if (mn < d->lo || mx > d->hi) {
            char e[256];
            expectation(d, e, sizeof e);
            return fail_at(c, bn->line, bn->col, where, "range values must be %s, got %g to %g", e, v[0], last);
        }
        if (axis_alloc(ax, (int)cnt) < 0) return fail_at(c, n->line, n->col, where, "out of memory");
        for (int i = 0; i < ax->n; i++) {
            ax->values[i] = v[0] + i * v[2];
            ax->vline[i] = bn->line;
            ax->vcol[i] = bn->col;
        }
        return 0;
    }
    if (samples_node < 0) return fail_at(c, n->line, n->col, where, "%s needs 'samples: n'", kname);
    const YNode *sn = node(c, samples_node);
    double ns;
    if (plain_number(c, samples_node, where, "a number of samples", &ns) < 0) return -1;
    if (ns != floor(ns) || ns < 1 || ns > SPEC_MAX_SAMPLES)
        return fail_at(c, sn->line, sn->col, where, "samples must be an integer in [1, %d], got %s",
                       SPEC_MAX_SAMPLES, sn->str);
    ax->samples = (int)ns;
    if (kind == SPEC_AXIS_LOGUNIFORM && !(v[0] > 0))
        return fail_at(c, lo_n->line, lo_n->col, where, "loguniform bounds must be > 0, got %s", lo_n->str);
    if (kind == SPEC_AXIS_RANDINT ? !(v[0] <= v[1]) : !(v[0] < v[1]))
        return fail_at(c, bn->line, bn->col, where, "%s needs low %s high, got [%g, %g]", kname,
                       kind == SPEC_AXIS_RANDINT ? "<=" : "<", v[0], v[1]);
    if (axis_alloc(ax, ax->samples) < 0) return fail_at(c, n->line, n->col, where, "out of memory");
    uint64_t st = axis_stream(c->s->sweep_seed, d->key);
    for (int i = 0; i < ax->n; i++) {
        double x;
        if (kind == SPEC_AXIS_RANDINT) {
            uint64_t span = (uint64_t)(v[1] - v[0]) + 1, lim = UINT64_MAX - UINT64_MAX % span, r;
            do r = splitmix64(&st); while (r >= lim);
            x = v[0] + (double)(r % span);
        } else {
            double u = (double)(splitmix64(&st) >> 11) * 0x1.0p-53; /* [0, 1) */
            if (kind == SPEC_AXIS_UNIFORM)
                x = v[0] + (v[1] - v[0]) * u;
            else
                x = exp(log(v[0]) + (log(v[1]) - log(v[0])) * u);
            if (x < v[0]) x = v[0];   /* rounding of exp/log */
            if (x > v[1]) x = v[1];
        }
        ax->values[i] = x;
        ax->vline[i] = n->line;
        ax->vcol[i] = n->col;
    }
    return 0;
}

static int parse_sweep(Ctx *c, int k)
{
    const YNode *n = node(c, k);
    char g[96], where[160];
    const char *keys[N_ALL_KEYS];
    int nkeys = all_keys(keys, N_ALL_KEYS);
    if (is_null(n)) return 0;
    if (n->type != YNODE_MAP)
        return fail_at(c, n->line, n->col, "sweep", "expected a mapping of axes (key: [values]), got %s",
                       got(n, g, sizeof g));
    for (int i = 0; i < n->n; i += 2) {
        const YNode *kn = node(c, n->kids[i]);
        if (check_key_node(c, kn, "sweep") < 0) return -1;
        snprintf(where, sizeof where, "sweep.%s", kn->str);
        if (strcmp(kn->str, "eval_noise") == 0)
            return fail_at(c, kn->line, kn->col, where,
                           "eval_noise is a list setting, not an axis (every task is evaluated at every level)");
        const SettingDesc *d = config_find(kn->str);
        if (!d) {
            for (int j = 0; j < N_TOP; j++)
                if (strcmp(kn->str, top_keys[j]) == 0)
                    return fail_at(c, kn->line, kn->col, where, "'%s' cannot be an axis", kn->str);
            for (int j = 0; j < N_TRAIN_RUN_KEYS; j++)
                if (strcmp(kn->str, train_run_keys[j]) == 0)
                    return fail_at(c, kn->line, kn->col, where,
                                   "'%s' is a run setting (train section), not an axis: it does not change results",
                                   kn->str);
            return unknown_key(c, kn, where, keys, nkeys);
        }
        int idx = (int)(d - config_settings);
        if (c->axis_at[idx].line)
            return fail_at(c, kn->line, kn->col, where, "duplicate key (first given at %d:%d)", c->axis_at[idx].line,
                           c->axis_at[idx].col);
        c->axis_at[idx] = (Loc){kn->line, kn->col};
        c->axis_node[idx] = n->kids[i + 1];
        const YNode *vn = node(c, n->kids[i + 1]);
        if (vn->type == YNODE_SCALAR)
            return fail_at(c, vn->line, vn->col, where,
                           "an axis is a list of values ([a, b, ...]) or a distribution "
                           "({uniform: [low, high], samples: n}), got %s",
                           got(vn, g, sizeof g));
    }
    return 0;
}

/* Build s->axes in table order from the axis nodes found by parse_sweep. */
static int build_axes(Ctx *c)
{
    Spec *s = c->s;
    int n = 0;
    for (int i = 0; i < config_n_settings; i++) n += c->axis_node[i] >= 0;
    if (n == 0) return 0;
    s->axes = calloc((size_t)n, sizeof *s->axes);
    if (!s->axes) return fail_at(c, 1, 1, "", "out of memory");
    for (int i = 0; i < config_n_settings; i++) {
        if (c->axis_node[i] < 0) continue;
        const SettingDesc *d = &config_settings[i];
        char where[160];
        snprintf(where, sizeof where, "sweep.%s", d->key);
        if (c->fixed[i].line)
            return fail_at(c, c->axis_at[i].line, c->axis_at[i].col, where,
                           "'%s' is both a fixed setting (%s.%s at %d:%d) and an axis; remove one", d->key,
                           d->section, d->key, c->fixed[i].line, c->fixed[i].col);
        SpecAxis *ax = &s->axes[s->n_axes++];
        ax->d = d;
        ax->line = c->axis_at[i].line;
        ax->col = c->axis_at[i].col;
        const YNode *vn = node(c, c->axis_node[i]);
        int rc = vn->type == YNODE_SEQ ? parse_list_axis(c, ax, c->axis_node[i], where)
                                       : parse_dist_axis(c, ax, c->axis_node[i], where);
        if (rc < 0) return -1;
    }
    return 0;
}

/* ---- top level ------------------------------------------------------------ */

static int parse_top(Ctx *c)
{
    Spec *s = c->s;
    const YDoc *doc = c->doc;
    char g[96];
    Loc seen[N_TOP];
    memset(seen, 0, sizeof seen);
    if (doc->root < 0 || is_null(node(c, doc->root)))
        return fail_at(c, 1, 1, "", "empty spec: expected a mapping of sections (model, task, ..., sweep)");
    const YNode *r = node(c, doc->root);
    if (r->type != YNODE_MAP)
        return fail_at(c, r->line, r->col, "", "a spec is a mapping of sections (model:, sweep:, ...), got %s",
                       got(r, g, sizeof g));
    int sweep_node = -1;
    for (int i = 0; i < r->n; i += 2) {
        const YNode *kn = node(c, r->kids[i]);
        int vk = r->kids[i + 1];
        if (check_key_node(c, kn, "") < 0) return -1;
        int j = 0;
        while (j < N_TOP && strcmp(kn->str, top_keys[j]) != 0) j++;
        if (j == N_TOP) {
            const SettingDesc *d = config_find(kn->str);
            if (d)
                return fail_at(c, kn->line, kn->col, kn->str, "settings go in their section: write it under '%s:'",
                               d->section);
            if (strcmp(kn->str, "eval_noise") == 0)
                return fail_at(c, kn->line, kn->col, kn->str, "settings go in their section: write it under 'eval:'");
            const char *sug = closest(kn->str, top_keys, N_TOP);
            if (sug)
                return fail_at(c, kn->line, kn->col, kn->str, "unknown section '%s' (did you mean '%s'?)", kn->str, sug);
            return fail_at(c, kn->line, kn->col, kn->str,
                           "unknown section '%s' (sections: model, task, place, train, eval, output, sweep)",
                           kn->str);
        }
        if (seen[j].line)
            return fail_at(c, kn->line, kn->col, kn->str, "duplicate key (first given at %d:%d)", seen[j].line,
                           seen[j].col);
        seen[j] = (Loc){kn->line, kn->col};
        const YNode *vn = node(c, vk);
        if (j == 0) {
            if (scalar_string(c, vk, "name", s->name, sizeof s->name) < 0) return -1;
        } else if (j == 1) {
            if (vn->type != YNODE_SCALAR)
                return fail_at(c, vn->line, vn->col, "description", "expected a string, got %s", got(vn, g, sizeof g));
            free(s->description);
            s->description = strdup(vn->str);
            if (!s->description) return fail_at(c, vn->line, vn->col, "description", "out of memory");
        } else if (j == 2) {
            const char *p = vn->str;
            int ok = vn->type == YNODE_SCALAR && vn->plain && *p;
            for (; ok && *p; p++) ok = *p >= '0' && *p <= '9';
            errno = 0;
            unsigned long long x = ok ? strtoull(vn->str, NULL, 10) : 0;
            if (!ok || errno == ERANGE)
                return fail_at(c, vn->line, vn->col, "sweep_seed", "expected an integer in [0, 2^64 - 1], got %s",
                               got(vn, g, sizeof g));
            s->sweep_seed = (uint64_t)x;
        } else if (j >= 3 && j < 3 + N_SECTIONS) {
            if (parse_section(c, section_names[j - 3], vk) < 0) return -1;
        } else if (j == 3 + N_SECTIONS) {
            if (parse_output(c, vk) < 0) return -1;
        } else {
            sweep_node = vk;
        }
    }
    /* the axes last: random draws need sweep_seed, wherever it was written */
    if (sweep_node >= 0 && parse_sweep(c, sweep_node) < 0) return -1;
    return build_axes(c);
}

/* ---- expansion ------------------------------------------------------------- */

static uint64_t config_key_hash(const TaskConfig *t)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; i < config_n_settings; i++) {
        double v = config_get(t, &config_settings[i]);
        if (v == 0) v = 0; /* -0 */
        unsigned char b[sizeof v];
        memcpy(b, &v, sizeof v);
        for (size_t j = 0; j < sizeof v; j++) h = (h ^ b[j]) * 0x100000001b3ull;
    }
    return h;
}

static int config_same(const TaskConfig *a, const TaskConfig *b)
{
    for (int i = 0; i < config_n_settings; i++)
        if (config_get(a, &config_settings[i]) != config_get(b, &config_settings[i])) return 0;
    return 1;
}

static void canonicalize(TaskConfig *t)
{
    for (int i = 0; i < config_n_settings; i++)
        if (config_ignored(t, &config_settings[i])) config_set(t, &config_settings[i], config_settings[i].def);
}

/* The enum value that makes t ignore d ("vanilla" for tau), or NULL. */
static const char *ignore_cause(const TaskConfig *t, const SettingDesc *d)
{
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *e = &config_settings[i];
        if (e->kind != KIND_ENUM || e == d) continue;
        int cur = (int)config_get(t, e);
        for (int v = 0; e->names[v]; v++) {
            if (v == cur) continue;
            TaskConfig u = *t;
            config_set(&u, e, v);
            if (!config_ignored(&u, d)) return e->names[cur];
        }
    }
    return NULL;
}

static void note_reason(Spec *s, const char *reason)
{
    if (strstr(s->merge_note, reason)) return;
    size_t o = strlen(s->merge_note);
    if (o + strlen(reason) + 3 >= sizeof s->merge_note) return;
    snprintf(s->merge_note + o, sizeof s->merge_note - o, "%s%s", o ? ", " : "", reason);
}

static void explain_merge(Spec *s, const TaskConfig *t)
{
    int any = 0;
    for (int a = 0; a < s->n_axes; a++) {
        const SettingDesc *d = s->axes[a].d;
        if (s->axes[a].n < 2 || !config_ignored(t, d)) continue;
        const char *cause = ignore_cause(t, d);
        char r[160];
        if (cause)
            snprintf(r, sizeof r, "%s ignores %s", cause, d->key);
        else
            snprintf(r, sizeof r, "%s is ignored", d->key);
        note_reason(s, r);
        any = 1;
    }
    if (!any) note_reason(s, "repeated values drawn");
}

static int validate_task(Ctx *c, const TaskConfig *t, const int *idx)
{
    const char *key = NULL, *key2 = NULL;
    char msg[512], scratch[512], where[160];
    if (config_validate(t, &key, msg, sizeof msg) == 0) return 0;
    const SettingDesc *d = key ? config_find(key) : NULL;
    if (!d) {
        if (key && strcmp(key, "eval_noise") == 0)
            return fail_at(c, c->eval_noise_at.line, c->eval_noise_at.col, "eval.eval_noise", "%s", msg);
        return fail_at(c, 1, 1, key ? key : "", "%s", msg);
    }
    int a = spec_axis_index(c->s, d);
    if (a >= 0) {
        SpecAxis *ax = &c->s->axes[a];
        snprintf(where, sizeof where, "sweep.%s", d->key);
        return fail_at(c, ax->vline[idx[a]], ax->vcol[idx[a]], where, "%s", msg);
    }
    int i = (int)(d - config_settings);
    snprintf(where, sizeof where, "%s.%s", d->section, d->key);
    if (c->fixed[i].line) return fail_at(c, c->fixed[i].line, c->fixed[i].col, where, "%s", msg);
    /* d is at its default: blame the given value whose default would make
     * the task valid (n_place: 2 against the default decode_k 3) */
    for (int j = 0; j < c->s->n_axes; j++) {
        TaskConfig u = *t;
        config_set(&u, c->s->axes[j].d, c->s->axes[j].d->def);
        if (config_validate(&u, &key2, scratch, sizeof scratch) == 0) {
            snprintf(where, sizeof where, "sweep.%s", c->s->axes[j].d->key);
            return fail_at(c, c->s->axes[j].vline[idx[j]], c->s->axes[j].vcol[idx[j]], where, "%s", msg);
        }
    }
    for (int k = 0; k < config_n_settings; k++) {
        if (!c->fixed[k].line) continue;
        TaskConfig u = *t;
        config_set(&u, &config_settings[k], config_settings[k].def);
        if (config_validate(&u, &key2, scratch, sizeof scratch) == 0) {
            snprintf(where, sizeof where, "%s.%s", config_settings[k].section, config_settings[k].key);
            return fail_at(c, c->fixed[k].line, c->fixed[k].col, where, "%s", msg);
        }
    }
    return fail_at(c, 1, 1, where, "%s", msg);
}

static int expand(Ctx *c)
{
    Spec *s = c->s;
    long combos = 1;
    int *idx = NULL, *table = NULL;
    int rc = -1;
    for (int a = 0; a < s->n_axes; a++) {
        combos *= s->axes[a].n;
        if (combos > SPEC_MAX_COMBOS) {
            fail_at(c, s->axes[a].line, s->axes[a].col, "sweep",
                    "the sweep expands to more than %d combinations", SPEC_MAX_COMBOS);
            goto fail;
        }
    }
    s->n_combos = (int)combos;
    size_t cap = 16;
    while (cap < 2 * (size_t)combos) cap *= 2;
    idx = calloc((size_t)s->n_axes + 1, sizeof *idx);
    table = malloc(cap * sizeof *table);
    size_t task_cap = combos < 1024 ? (size_t)combos : 1024; /* grows: merged combos need no room */
    s->tasks = malloc(task_cap * sizeof *s->tasks);
    if (!idx || !table || !s->tasks) {
        fail_at(c, 1, 1, "sweep", "out of memory expanding %ld combinations", combos);
        goto fail;
    }
    for (size_t i = 0; i < cap; i++) table[i] = -1;
    for (long k = 0; k < combos; k++) {
        TaskConfig t = s->base;
        for (int a = 0; a < s->n_axes; a++) config_set(&t, s->axes[a].d, s->axes[a].values[idx[a]]);
        canonicalize(&t);
        if (validate_task(c, &t, idx) < 0) goto fail;
        size_t h = (size_t)(config_key_hash(&t) & (cap - 1));
        while (table[h] >= 0 && !config_same(&s->tasks[table[h]], &t)) h = (h + 1) & (cap - 1);
        if (table[h] >= 0) {
            explain_merge(s, &t);
        } else {
            if ((size_t)s->n_tasks == task_cap) {
                size_t ncap = 2 * task_cap < (size_t)combos ? 2 * task_cap : (size_t)combos;
                TaskConfig *p = realloc(s->tasks, ncap * sizeof *p);
                if (!p) {
                    fail_at(c, 1, 1, "sweep", "out of memory expanding %ld combinations", combos);
                    goto fail;
                }
                s->tasks = p;
                task_cap = ncap;
            }
            table[h] = s->n_tasks;
            s->tasks[s->n_tasks++] = t;
        }
        for (int a = s->n_axes - 1; a >= 0; a--) { /* the last axis varies fastest */
            if (++idx[a] < s->axes[a].n) break;
            idx[a] = 0;
        }
    }
    s->n_merged = s->n_combos - s->n_tasks;
    rc = 0;
fail:
    free(idx);
    free(table);
    return rc;
}

/* ---- canonical text and hash ------------------------------------------------ */

typedef struct Buf {
    char *p;
    size_t n, cap;
    int oom;
} Buf;

static void bprintf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bprintf(Buf *b, const char *fmt, ...)
{
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = 1; return; }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = b->cap ? b->cap : 4096;
        while (cap <= b->n + (size_t)k) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
}

static void canon_value(Buf *b, const SettingDesc *d, double v)
{
    switch (d->kind) {
    case KIND_INT: bprintf(b, "%.0f", v); break;
    case KIND_REAL: bprintf(b, "%.17g", v); break;
    case KIND_BOOL: bprintf(b, "%s", v != 0 ? "true" : "false"); break;
    case KIND_ENUM: bprintf(b, "%s", d->names[(int)v]); break;
    }
}

/* Every setting of the base config (defaults filled), eval_noise,
 * sweep_seed and each axis, in table order.  Output settings, name and
 * description are left out: they do not change any result. */
static int build_canonical(Spec *s)
{
    Buf b = {0};
    bprintf(&b, "sweep-spec-canonical 1\nsweep_seed %llu\n", (unsigned long long)s->sweep_seed);
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        bprintf(&b, "%s.%s ", d->section, d->key);
        canon_value(&b, d, config_get(&s->base, d));
        bprintf(&b, "\n");
    }
    bprintf(&b, "eval.eval_noise");
    for (int i = 0; i < s->base.n_eval_noise; i++) bprintf(&b, " %.17g", s->base.eval_noise[i]);
    bprintf(&b, "\n");
    for (int a = 0; a < s->n_axes; a++) {
        const SpecAxis *ax = &s->axes[a];
        bprintf(&b, "sweep.%s %s", ax->d->key, spec_axis_kind_names[ax->kind]);
        if (ax->kind == SPEC_AXIS_RANGE) bprintf(&b, " %.17g %.17g %.17g", ax->a, ax->b, ax->step);
        if (ax->kind >= SPEC_AXIS_UNIFORM) bprintf(&b, " %.17g %.17g samples %d", ax->a, ax->b, ax->samples);
        bprintf(&b, " values");
        for (int i = 0; i < ax->n; i++) {
            bprintf(&b, " ");
            canon_value(&b, ax->d, ax->values[i]);
        }
        bprintf(&b, "\n");
    }
    if (b.oom || !b.p) {
        free(b.p);
        return -1;
    }
    s->canonical = b.p;
    sha256_hex(s->canonical, b.n, s->hash);
    return 0;
}

/* ---- public ------------------------------------------------------------------ */

void spec_free(Spec *s)
{
    if (!s) return;
    for (int a = 0; a < s->n_axes; a++) {
        free(s->axes[a].values);
        free(s->axes[a].vline);
        free(s->axes[a].vcol);
    }
    free(s->axes);
    free(s->tasks);
    free(s->canonical);
    free(s->description);
    free(s->text);
    free(s->path);
    memset(s, 0, sizeof *s);
}

int spec_load_string(Spec *s, const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    YDoc doc;
    Ctx *c = NULL;
    int line, col, rc = -1;
    char msg[512];
    memset(s, 0, sizeof *s);
    memset(&doc, 0, sizeof doc);
    doc.root = -1;
    if (errlen) err[0] = '\0';
    s->path = strdup(name ? name : "<spec>");
    s->text = malloc(len + 1);
    c = calloc(1, sizeof *c);
    if (!s->path || !s->text || !c) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "<spec>");
        goto fail;
    }
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->text_len = len;
    s->description = strdup("");
    if (!s->description) {
        snprintf(err, errlen, "%s: out of memory", s->path);
        goto fail;
    }
    config_defaults(&s->base);
    snprintf(s->output, sizeof s->output, "results.h5");
    s->time_limit = 0;
    s->progress_every = 30;
    s->checkpoint_every = 900;
    s->stop_grace = 120;
    s->data_thread = DATA_THREAD_AUTO;
    s->sync = 1;
    c->s = s;
    c->doc = &doc;
    c->err = err;
    c->errlen = errlen;
    for (int i = 0; i < config_n_settings; i++) c->axis_node[i] = -1;
    if (len > SPEC_MAX_BYTES) {
        fail_at(c, 1, 1, "", "spec larger than %u bytes", SPEC_MAX_BYTES);
        goto fail;
    }
    if (ydoc_parse(&doc, text, len, &line, &col, msg, sizeof msg) < 0) {
        fail_at(c, line, col, "", "%s", msg);
        goto fail;
    }
    if (parse_top(c) < 0) goto fail;
    if (expand(c) < 0) goto fail;
    {
        const SettingDesc *td = config_find("threads");
        s->threads_given = td && (c->fixed[td - config_settings].line != 0 || spec_is_axis(s, td));
    }
    if (build_canonical(s) < 0) {
        fail_at(c, 1, 1, "", "out of memory");
        goto fail;
    }
    rc = 0;
fail:
    ydoc_free(&doc);
    free(c);
    if (rc < 0) spec_free(s);
    return rc;
}

int spec_load(Spec *s, const char *path, char *err, size_t errlen)
{
    FILE *f = NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    memset(s, 0, sizeof *s);
    f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    for (;;) {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            if (cap > (size_t)SPEC_MAX_BYTES + 1) cap = (size_t)SPEC_MAX_BYTES + 1;
            if (n == cap) {
                snprintf(err, errlen, "%s: larger than %u bytes; not a spec", path, SPEC_MAX_BYTES);
                goto fail;
            }
            char *q = realloc(buf, cap);
            if (!q) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto fail;
            }
            buf = q;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    rc = spec_load_string(s, path, buf ? buf : "", n, err, errlen);
fail:
    if (f) fclose(f);
    free(buf);
    return rc;
}

int spec_axis_index(const Spec *s, const SettingDesc *d)
{
    for (int a = 0; a < s->n_axes; a++)
        if (s->axes[a].d == d) return a;
    return -1;
}

int spec_is_axis(const Spec *s, const SettingDesc *d) { return spec_axis_index(s, d) >= 0; }

char *spec_summary(const Spec *s, char *buf, size_t len)
{
    if (s->n_merged > 0)
        snprintf(buf, len, "%d combination%s, %d task%s: %d merged because %s", s->n_combos,
                 s->n_combos == 1 ? "" : "s", s->n_tasks, s->n_tasks == 1 ? "" : "s", s->n_merged, s->merge_note);
    else
        snprintf(buf, len, "%d combination%s, %d task%s", s->n_combos, s->n_combos == 1 ? "" : "s", s->n_tasks,
                 s->n_tasks == 1 ? "" : "s");
    return buf;
}

void spec_print_tasks(const Spec *s, FILE *out)
{
    char v[64], sum[768];
    int w[130];
    int wid = 1; /* digits of the largest id, at least 2 for "id" */
    for (int n = s->n_tasks - 1; n >= 10; n /= 10) wid++;
    if (wid < 2) wid = 2;
    for (int a = 0; a < s->n_axes && a < 130; a++) {
        w[a] = (int)strlen(s->axes[a].d->key);
        for (int t = 0; t < s->n_tasks; t++) {
            int k = (int)strlen(config_format(&s->tasks[t], s->axes[a].d, v, sizeof v));
            if (k > w[a]) w[a] = k;
        }
    }
    int na = s->n_axes < 130 ? s->n_axes : 130;
    fprintf(out, "%*s", wid, "id");
    for (int a = 0; a < na; a++) fprintf(out, "  %-*s", a == na - 1 ? 0 : w[a], s->axes[a].d->key);
    fputc('\n', out);
    for (int t = 0; t < s->n_tasks; t++) {
        fprintf(out, "%*d", wid, t);
        for (int a = 0; a < na; a++) {
            const SettingDesc *d = s->axes[a].d;
            const char *txt = config_ignored(&s->tasks[t], d) ? "-" : config_format(&s->tasks[t], d, v, sizeof v);
            fprintf(out, "  %-*s", a == na - 1 ? 0 : w[a], txt);
        }
        fputc('\n', out);
    }
    fprintf(out, "%s\n", spec_summary(s, sum, sizeof sum));
}

void spec_print_settings_table(FILE *out)
{
    static const char *const kind_name[] = {"int", "real", "bool", "enum"};
    fprintf(out, "| section | key | type | default | range | unit | description |\n");
    fprintf(out, "| --- | --- | --- | --- | --- | --- | --- |\n");
    TaskConfig def;
    config_defaults(&def);
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        char v[64], range[256], lo[32], hi[32];
        config_format(&def, d, v, sizeof v);
        if (d->kind == KIND_REAL) snprintf(v, sizeof v, "%.10g", d->def);
        fmt_num(lo, sizeof lo, d->lo);
        fmt_num(hi, sizeof hi, d->hi);
        if (d->kind == KIND_ENUM) {
            size_t o = 0;
            range[0] = '\0';
            for (int k = 0; d->names[k] && o < sizeof range; k++)
                o += (size_t)snprintf(range + o, sizeof range - o, "%s%s", k ? ", " : "", d->names[k]);
        } else if (d->kind == KIND_BOOL) {
            snprintf(range, sizeof range, "true, false");
        } else {
            snprintf(range, sizeof range, "%s .. %s", lo, hi);
        }
        fprintf(out, "| %s | `%s` | %s | %s | %s | %s | %s |\n", d->section, d->key, kind_name[d->kind], v, range,
                d->unit, d->doc);
    }
    fprintf(out, "| eval | `eval_noise` | list of real | [0] | 1 to %d levels, each >= 0 |  | "
                 "evaluation noise levels sigma: every task is evaluated at each (not an axis) |\n",
            SWEEP_MAX_EVAL_NOISE);
}

int spec_threads_from_env(Spec *s)
{
    const char *v = getenv("SLURM_CPUS_PER_TASK");
    if (s->threads_given || !v || !*v) return 0;
    char *end;
    errno = 0;
    long k = strtol(v, &end, 10);
    if (errno || *end || k < 1 || k > 1024) return 0;
    spec_set_threads(s, (int)k);
    return (int)k;
}

void spec_set_threads(Spec *s, int k)
{
    s->base.threads = k;
    for (int i = 0; i < s->n_tasks; i++) s->tasks[i].threads = k;
}
