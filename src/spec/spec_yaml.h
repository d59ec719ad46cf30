/* spec_yaml.h -- a small YAML document tree for the spec parser (spec.c),
 * built from libyaml's event API so that every limit is ours: aliases are
 * shared (not copied) but counted at their expanded size, the expanded node
 * count is capped (SPEC_MAX_NODES, no "billion laughs"), the nesting depth
 * is capped (SPEC_MAX_DEPTH), and every node keeps its 1-based line/column.
 * Duplicate keys are left to the caller (spec.c checks them per mapping).
 * Internal to the spec module.
 */
#ifndef SWEEP_SPEC_YAML_H
#define SWEEP_SPEC_YAML_H

#include <stddef.h>

typedef enum { YNODE_SCALAR = 0, YNODE_SEQ, YNODE_MAP } YNodeType;

typedef struct YNode {
    int type;          /* YNodeType */
    int line, col;     /* 1-based start of the node */
    int plain;         /* scalar written without quotes / block style */
    char *str;         /* scalar text (NUL-terminated), NULL for collections */
    int n;             /* children: items (seq) or 2 * pairs (map: key, value, ...) */
    int cap;
    int *kids;         /* (n) node indices into YDoc.nodes */
    long size;         /* nodes in the subtree, aliases expanded */
    int height;        /* 1 for a scalar */
} YNode;

typedef struct YDoc {
    YNode *nodes;      /* (n_nodes) owned */
    int n_nodes, cap;
    int root;          /* index of the root node, -1 for an empty stream */
} YDoc;

/* Parse text (len bytes).  Returns 0, or -1 with *line, *col (1-based) and
 * msg set.  The doc is left freeable either way. */
int ydoc_parse(YDoc *doc, const char *text, size_t len, int *line, int *col, char *msg, size_t msglen);
void ydoc_free(YDoc *doc);

#endif
