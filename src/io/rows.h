/* rows.h -- the /tasks row, driven by io/columns.def and base/settings.def.
 *
 * A row is the id column, one column per setting, then the other result
 * columns of columns.def (docs/results-format.md).  This module is the only
 * place that knows the row's layout: the compound type, the fill row,
 * packing a task's settings and TaskResult into a row and reading a row
 * back, the /tasks attributes that name the result columns for readers,
 * the status names and the merge rule between them, and the markdown table
 * of the columns (`sweep --columns`).
 *
 * Rows in memory have exactly the file's packed little-endian layout (no
 * conversion on x86).  Nothing here allocates; nothing is collective.
 */
#ifndef SWEEP_ROWS_H
#define SWEEP_ROWS_H

#include <hdf5.h>
#include <stddef.h>
#include <stdio.h>

#include "base/config.h"
#include "base/result.h"

typedef enum { ROWS_I32, ROWS_F32, ROWS_F64, ROWS_STR } RowsType;
typedef enum { ROWS_FROM_ID, ROWS_FROM_RANK, ROWS_FROM_STATUS, ROWS_FROM_RES, ROWS_FROM_REPLAY } RowsFrom;
typedef enum { ROWS_KEY, ROWS_INFO, ROWS_METRIC } RowsRole;

/* One row of columns.def. */
typedef struct RowsColumn {
    const char *name;
    RowsType type;
    size_t width;          /* bytes of a ROWS_STR column, else 0 */
    const char *unit;
    RowsFrom from;
    size_t field_off;      /* offsetof(TaskResult, field) (STATUS, RES, REPLAY) */
    size_t field_size;     /* sizeof that member */
    const char *field;     /* "replay.kl", ...; "" for ID and RANK */
    RowsRole role;
    int show, show_w;      /* position and width in `sweep status` (0: not shown) */
    const char *doc;
} RowsColumn;

/* ROWS_COL_<name>: index of a column in rows_columns. */
enum {
#define COLUMN(name, type, width, unit, from, field, role, show, show_w, doc) ROWS_COL_##name,
#include "io/columns.def"
#undef COLUMN
    ROWS_N_COLUMNS
};

enum {
    ROWS_N_SETTINGS = 0
#define SETTING(section, key, kind, def, lo, hi, unit, doc) +1
#include "base/settings.def"
#undef SETTING
};

extern const RowsColumn rows_columns[ROWS_N_COLUMNS];

/* Byte offsets of every column in a packed row. */
typedef struct RowLayout {
    size_t size;                          /* bytes of one row */
    size_t off_col[ROWS_N_COLUMNS];       /* columns.def, in its order */
    size_t off_set[ROWS_N_SETTINGS];      /* settings.def, in its order */
    size_t width_set[ROWS_N_SETTINGS];    /* string width of enum settings, else 0 */
} RowLayout;

void rows_layout(RowLayout *l);

/* The compound type of a row (file and memory).  The caller closes it
 * (H5Tclose).  Returns the type, or -1. */
hid_t rows_type_create(const RowLayout *l);

/* The fill row (l->size bytes): no task, every number missing, status
 * pending. */
void rows_fill(const RowLayout *l, unsigned char *row);

/* Row of task `id` with config cfg (settings it ignores as NaN / -1 / "")
 * and, when res != NULL, its results with the given status and rank;
 * without res every result column holds its fill value. */
void rows_pack(const RowLayout *l, unsigned char *row, int id, const TaskConfig *cfg, const TaskResult *res,
               int status, int rank);

/* The result columns of a row back into res (status, message, timings,
 * summaries; the REPLAY columns only when res->replay.traj) and *rank
 * (may be NULL).  An unknown status reads as TASK_PENDING. */
void rows_unpack(const RowLayout *l, const unsigned char *row, TaskResult *res, int *rank);

/* Copy a fixed-width string field (NUL-padded, maybe unterminated) into
 * out (outlen > 0 bytes, always terminated). */
void rows_get_str(const unsigned char *p, size_t width, char *out, size_t outlen);

/* A status name ("done") as a TaskStatus, or -1. */
int rows_status_index(const char *name);

/* The merge rule: how much a row with this status is preferred when a
 * task appears in several files (done > diverged > failed > pending);
 * higher wins.  `sweep merge` and analysis/sweep_results.py (through the
 * status_order attribute) follow it. */
int rows_status_preference(int status);

/* Write the /tasks attributes that describe the columns to readers:
 * result_columns, result_units, result_roles and status_order
 * (docs/results-format.md).  Returns 0 or -1. */
int rows_write_attrs(hid_t d_tasks);

/* The markdown table of the /tasks columns (docs/results-format.md embeds
 * it verbatim; `sweep --columns`). */
void rows_print_columns_table(FILE *out);

#endif
