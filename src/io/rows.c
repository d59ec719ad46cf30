/* rows.c -- the /tasks row from io/columns.def and base/settings.def. */
#include "io/rows.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "io/h5attr.h"

/* ---- the table ------------------------------------------------------------ */

/* where a column's value lives in a TaskResult (ID and RANK: nowhere) */
#define ROWS_OFF_ID(f) 0
#define ROWS_OFF_RANK(f) 0
#define ROWS_OFF_STATUS(f) offsetof(TaskResult, f)
#define ROWS_OFF_RES(f) offsetof(TaskResult, f)
#define ROWS_OFF_REPLAY(f) offsetof(TaskResult, f)
#define ROWS_SIZE_ID(f) 0
#define ROWS_SIZE_RANK(f) 0
#define ROWS_SIZE_STATUS(f) sizeof(((TaskResult *)0)->f)
#define ROWS_SIZE_RES(f) sizeof(((TaskResult *)0)->f)
#define ROWS_SIZE_REPLAY(f) sizeof(((TaskResult *)0)->f)
#define ROWS_NAME_ID(f) ""
#define ROWS_NAME_RANK(f) ""
#define ROWS_NAME_STATUS(f) #f
#define ROWS_NAME_RES(f) #f
#define ROWS_NAME_REPLAY(f) #f

const RowsColumn rows_columns[ROWS_N_COLUMNS] = {
#define COLUMN(name, type, width, unit, from, field, role, show, show_w, doc)                                   \
    {#name, ROWS_##type, width, unit, ROWS_FROM_##from, ROWS_OFF_##from(field), ROWS_SIZE_##from(field),        \
     ROWS_NAME_##from(field), ROWS_##role, show, show_w, doc},
#include "io/columns.def"
#undef COLUMN
};

/* A numeric column holds its TaskResult member as is: same size (STATUS
 * converts an int to its name; strings are copied up to the width). */
#define ROWS_BYTES_I32 4
#define ROWS_BYTES_F32 4
#define ROWS_BYTES_F64 8
#define ROWS_BYTES_STR 0
#define COLUMN(name, type, width, unit, from, field, role, show, show_w, doc)                                   \
    _Static_assert(ROWS_BYTES_##type == 0 || ROWS_FROM_##from == ROWS_FROM_ID ||                                \
                       ROWS_FROM_##from == ROWS_FROM_RANK || ROWS_SIZE_##from(field) == ROWS_BYTES_##type,   \
                   "columns.def: column " #name " and its TaskResult field differ in size");                    \
    _Static_assert(ROWS_BYTES_##type > 0 || (width) > 0, "columns.def: string column " #name " needs a width");
#include "io/columns.def"
#undef COLUMN

/* one frac_<name> column per class of GRIDCLASS_TABLE, in its order, each
 * holding its TaskResult.frac_class[] entry */
#define ROWS_CLASS_COL_(NAME, name)                                                                            \
    _Static_assert(ROWS_COL_frac_##name - ROWS_COL_frac_non_spatial == GRIDCLASS_##NAME,                       \
                   "columns.def: frac_" #name " out of the order of GRIDCLASS_TABLE");                         \
    _Static_assert(offsetof(TaskResult, frac_##name) == offsetof(TaskResult, frac_class) +                     \
                       GRIDCLASS_##NAME * sizeof(float),                                                        \
                   "result.h: frac_" #name " is not frac_class[GRIDCLASS_" #NAME "]");
GRIDCLASS_TABLE(ROWS_CLASS_COL_)
#undef ROWS_CLASS_COL_

static const char *const role_names[] = {"key", "info", "metric"};

/* least to most preferred: the merge rule */
static const int status_order[] = {TASK_PENDING, TASK_FAILED, TASK_DIVERGED, TASK_DONE};
enum { N_STATUS = (int)(sizeof status_order / sizeof status_order[0]) };

/* ---- layout ----------------------------------------------------------------- */

static size_t type_bytes(RowsType t, size_t width)
{
    switch (t) {
    case ROWS_I32: return 4;
    case ROWS_F32: return 4;
    case ROWS_F64: return 8;
    default: return width;
    }
}

static size_t enum_width(const SettingDesc *d)
{
    size_t w = 1;
    for (int i = 0; d->names[i]; i++)
        if (strlen(d->names[i]) > w) w = strlen(d->names[i]);
    return w;
}

void rows_layout(RowLayout *l)
{
    size_t off = 0;
    for (int c = 0; c < ROWS_N_COLUMNS; c++) {
        l->off_col[c] = off;
        off += type_bytes(rows_columns[c].type, rows_columns[c].width);
        if (c > 0) continue;
        /* the settings follow the first column (id) */
        for (int i = 0; i < config_n_settings; i++) {
            const SettingDesc *d = &config_settings[i];
            l->off_set[i] = off;
            l->width_set[i] = 0;
            if (d->kind == KIND_REAL) off += 8;
            else if (d->kind == KIND_ENUM) off += (l->width_set[i] = enum_width(d));
            else off += 4;
        }
    }
    l->size = off;
}

static hid_t str_type(size_t width)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, width) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Insert a member of type t (a ROWS_* type, or a string of width). */
static int insert(hid_t ct, const char *name, size_t off, RowsType t, size_t width)
{
    if (t == ROWS_I32) return H5Tinsert(ct, name, off, H5T_STD_I32LE) < 0 ? -1 : 0;
    if (t == ROWS_F32) return H5Tinsert(ct, name, off, H5T_IEEE_F32LE) < 0 ? -1 : 0;
    if (t == ROWS_F64) return H5Tinsert(ct, name, off, H5T_IEEE_F64LE) < 0 ? -1 : 0;
    hid_t st = str_type(width);
    if (st < 0) return -1;
    int rc = H5Tinsert(ct, name, off, st) < 0 ? -1 : 0;
    H5Tclose(st);
    return rc;
}

hid_t rows_type_create(const RowLayout *l)
{
    hid_t ct = H5Tcreate(H5T_COMPOUND, l->size);
    if (ct < 0) return -1;
    int bad = 0;
    for (int c = 0; c < ROWS_N_COLUMNS; c++) {
        const RowsColumn *col = &rows_columns[c];
        bad |= insert(ct, col->name, l->off_col[c], col->type, col->width) < 0;
        if (c > 0) continue;
        for (int i = 0; i < config_n_settings; i++) {
            const SettingDesc *d = &config_settings[i];
            RowsType t = d->kind == KIND_REAL ? ROWS_F64 : d->kind == KIND_ENUM ? ROWS_STR : ROWS_I32;
            bad |= insert(ct, d->key, l->off_set[i], t, l->width_set[i]) < 0;
        }
    }
    if (bad) {
        H5Tclose(ct);
        return -1;
    }
    return ct;
}

/* ---- packing ---------------------------------------------------------------- */

static void put_i32(unsigned char *p, int32_t v) { memcpy(p, &v, 4); }
static void put_f64(unsigned char *p, double v) { memcpy(p, &v, 8); }
static void put_f32(unsigned char *p, float v) { memcpy(p, &v, 4); }
static void put_str(unsigned char *p, size_t width, const char *s)
{
    size_t n = strnlen(s, width);
    memset(p, 0, width);
    memcpy(p, s, n);
}

void rows_get_str(const unsigned char *p, size_t width, char *out, size_t outlen)
{
    size_t n = 0;
    while (n < width && p[n]) n++;
    if (n >= outlen) n = outlen - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

/* The fill value of column c. */
static void put_fill(const RowsColumn *col, unsigned char *p)
{
    switch (col->type) {
    case ROWS_I32: put_i32(p, -1); break;
    case ROWS_F32: put_f32(p, NAN); break;
    case ROWS_F64: put_f64(p, NAN); break;
    default: put_str(p, col->width, col->from == ROWS_FROM_STATUS ? result_status_names[TASK_PENDING] : ""); break;
    }
}

void rows_fill(const RowLayout *l, unsigned char *row)
{
    memset(row, 0, l->size);
    for (int c = 0; c < ROWS_N_COLUMNS; c++) put_fill(&rows_columns[c], row + l->off_col[c]);
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        if (d->kind == KIND_REAL) put_f64(row + l->off_set[i], NAN);
        else if (d->kind != KIND_ENUM) put_i32(row + l->off_set[i], -1);
    }
}

void rows_pack(const RowLayout *l, unsigned char *row, int id, const TaskConfig *cfg, const TaskResult *res,
               int status, int rank)
{
    rows_fill(l, row);
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        unsigned char *p = row + l->off_set[i];
        int ign = config_ignored(cfg, d);
        double v = config_get(cfg, d);
        if (d->kind == KIND_REAL) put_f64(p, ign ? NAN : v);
        else if (d->kind == KIND_ENUM) put_str(p, l->width_set[i], ign ? "" : d->names[(int)v]);
        else put_i32(p, ign ? -1 : (int32_t)v);
    }
    for (int c = 0; c < ROWS_N_COLUMNS; c++) {
        const RowsColumn *col = &rows_columns[c];
        unsigned char *p = row + l->off_col[c];
        if (col->from == ROWS_FROM_ID) {
            put_i32(p, id);
            continue;
        }
        if (!res || (col->from == ROWS_FROM_REPLAY && !res->replay.traj)) continue;   /* fill value */
        const char *src = (const char *)res + col->field_off;
        switch (col->from) {
        case ROWS_FROM_RANK: put_i32(p, rank); break;
        case ROWS_FROM_STATUS: put_str(p, col->width, result_status_names[status]); break;
        default:
            if (col->type == ROWS_STR) {
                char s[512];
                size_t n = col->field_size < sizeof s ? col->field_size : sizeof s - 1;
                memcpy(s, src, n);
                s[n] = '\0';
                put_str(p, col->width, s);
            } else {
                memcpy(p, src, type_bytes(col->type, 0));
            }
            break;
        }
    }
}

void rows_unpack(const RowLayout *l, const unsigned char *row, TaskResult *res, int *rank)
{
    for (int c = 0; c < ROWS_N_COLUMNS; c++) {
        const RowsColumn *col = &rows_columns[c];
        const unsigned char *p = row + l->off_col[c];
        char *dst = (char *)res + col->field_off;
        switch (col->from) {
        case ROWS_FROM_ID: break;
        case ROWS_FROM_RANK:
            if (rank) memcpy(rank, p, 4);
            break;
        case ROWS_FROM_STATUS: {
            char name[64];
            rows_get_str(p, col->width, name, sizeof name);
            int s = rows_status_index(name);
            res->status = s < 0 ? TASK_PENDING : s;
            break;
        }
        case ROWS_FROM_REPLAY:
            if (!res->replay.traj) break;
            /* fall through */
        default:
            if (col->type == ROWS_STR)
                rows_get_str(p, col->width, dst, col->field_size);
            else
                memcpy(dst, p, type_bytes(col->type, 0));
            break;
        }
    }
}

/* ---- statuses ------------------------------------------------------------- */

int rows_status_index(const char *name)
{
    for (int i = 0; result_status_names[i]; i++)
        if (strcmp(result_status_names[i], name) == 0) return i;
    return -1;
}

int rows_status_preference(int status)
{
    for (int k = 0; k < N_STATUS; k++)
        if (status_order[k] == status) return k;
    return 0;
}

/* ---- for readers ------------------------------------------------------------ */

int rows_write_attrs(hid_t d_tasks)
{
    const char *names[ROWS_N_COLUMNS], *units[ROWS_N_COLUMNS], *roles[ROWS_N_COLUMNS], *order[N_STATUS];
    for (int c = 0; c < ROWS_N_COLUMNS; c++) {
        names[c] = rows_columns[c].name;
        units[c] = rows_columns[c].unit;
        roles[c] = role_names[rows_columns[c].role];
    }
    for (int k = 0; k < N_STATUS; k++) order[k] = result_status_names[status_order[k]];
    if (h5attr_write_strs(d_tasks, "result_columns", names, ROWS_N_COLUMNS) < 0 ||
        h5attr_write_strs(d_tasks, "result_units", units, ROWS_N_COLUMNS) < 0 ||
        h5attr_write_strs(d_tasks, "result_roles", roles, ROWS_N_COLUMNS) < 0 ||
        h5attr_write_strs(d_tasks, "status_order", order, N_STATUS) < 0)
        return -1;
    return 0;
}

void rows_print_columns_table(FILE *out)
{
    static const char *const type_names[] = {"int32", "float32", "float64", "string"};
    fprintf(out, "| column | type | unit | role | meaning | TaskResult field |\n");
    fprintf(out, "| --- | --- | --- | --- | --- | --- |\n");
    for (int c = 0; c < ROWS_N_COLUMNS; c++) {
        const RowsColumn *col = &rows_columns[c];
        char type[32], field[64];
        if (col->type == ROWS_STR)
            snprintf(type, sizeof type, "string (%zu)", col->width);
        else
            snprintf(type, sizeof type, "%s", type_names[col->type]);
        if (col->from == ROWS_FROM_ID)
            snprintf(field, sizeof field, "(the task id)");
        else if (col->from == ROWS_FROM_RANK)
            snprintf(field, sizeof field, "(the writing rank)");
        else
            snprintf(field, sizeof field, "`%s`%s", col->field,
                     col->from == ROWS_FROM_REPLAY ? " (replay on)" : col->from == ROWS_FROM_STATUS ? " (as its name)" : "");
        fprintf(out, "| `%s` | %s | %s | %s | %s | %s |\n", col->name, type, col->unit, role_names[col->role],
                col->doc, field);
        if (c == 0)
            fprintf(out, "| *every setting* | see below | see docs/spec.md | setting | the task's value of each "
                         "setting of src/base/settings.def, in table order | (TaskConfig) |\n");
    }
}
