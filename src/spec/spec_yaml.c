/* spec_yaml.c -- YAML events -> YDoc tree, with alias and depth limits. */
#include "spec/spec_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec/spec.h"

typedef struct Anchor {
    char *name;
    int node;
} Anchor;

typedef struct Builder {
    YDoc *doc;
    int stack[SPEC_MAX_DEPTH + 1];   /* open collections */
    int depth;
    Anchor *anchors;                  /* (n_anchors) */
    int n_anchors, cap_anchors;
    long expanded;                    /* nodes so far, aliases expanded */
} Builder;

static int new_node(YDoc *doc, int type, const yaml_mark_t *m)
{
    if (doc->n_nodes == doc->cap) {
        int cap = doc->cap ? 2 * doc->cap : 64;
        YNode *p = realloc(doc->nodes, (size_t)cap * sizeof *p);
        if (!p) return -1;
        doc->nodes = p;
        doc->cap = cap;
    }
    YNode *n = &doc->nodes[doc->n_nodes];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    n->size = 1;
    n->height = 1;
    return doc->n_nodes++;
}

static int add_kid(YDoc *doc, int parent, int kid)
{
    YNode *p = &doc->nodes[parent];
    if (p->n == p->cap) {
        int cap = p->cap ? 2 * p->cap : 8;
        int *k = realloc(p->kids, (size_t)cap * sizeof *k);
        if (!k) return -1;
        p->kids = k;
        p->cap = cap;
    }
    p->kids[p->n++] = kid;
    return 0;
}

static int add_anchor(Builder *b, const char *name, int node)
{
    if (b->n_anchors == b->cap_anchors) {
        int cap = b->cap_anchors ? 2 * b->cap_anchors : 8;
        Anchor *a = realloc(b->anchors, (size_t)cap * sizeof *a);
        if (!a) return -1;
        b->anchors = a;
        b->cap_anchors = cap;
    }
    char *s = strdup(name);
    if (!s) return -1;
    b->anchors[b->n_anchors].name = s;
    b->anchors[b->n_anchors].node = node;
    b->n_anchors++;
    return 0;
}

static int find_anchor(const Builder *b, const char *name)
{
    for (int i = b->n_anchors - 1; i >= 0; i--) /* a redefined anchor: the latest wins */
        if (strcmp(b->anchors[i].name, name) == 0) return b->anchors[i].node;
    return -1;
}

/* Attach node (fresh or aliased) to the open collection, or make it the root. */
/* Count `nodes` more nodes (aliases expanded) of nesting height `height`
 * below the open collections against SPEC_MAX_NODES and SPEC_MAX_DEPTH.
 * Returns 0, or -1 with msg set ("<what>more than N nodes" or the depth). */
static int admit(Builder *b, long nodes, int height, const char *what, char *msg, size_t msglen)
{
    b->expanded += nodes;
    if (b->expanded > SPEC_MAX_NODES) {
        snprintf(msg, msglen, "%smore than %d nodes", what, SPEC_MAX_NODES);
        return -1;
    }
    if (b->depth + height > SPEC_MAX_DEPTH) {
        snprintf(msg, msglen, "nesting deeper than %d levels", SPEC_MAX_DEPTH);
        return -1;
    }
    return 0;
}

static int attach(Builder *b, int node)
{
    if (b->depth == 0) {
        b->doc->root = node;
        return 0;
    }
    return add_kid(b->doc, b->stack[b->depth - 1], node);
}

void ydoc_free(YDoc *doc)
{
    if (!doc) return;
    for (int i = 0; i < doc->n_nodes; i++) {
        free(doc->nodes[i].str);
        free(doc->nodes[i].kids);
    }
    free(doc->nodes);
    memset(doc, 0, sizeof *doc);
    doc->root = -1;
}

static const char *or_empty(const char *s) { return s ? s : ""; }

int ydoc_parse(YDoc *doc, const char *text, size_t len, int *line, int *col, char *msg, size_t msglen)
{
    yaml_parser_t parser;
    yaml_event_t ev;
    Builder b;
    int rc = -1, have_event = 0, n_docs = 0, done = 0;

    memset(doc, 0, sizeof *doc);
    doc->root = -1;
    memset(&b, 0, sizeof b);
    b.doc = doc;
    *line = 1;
    *col = 1;
    snprintf(msg, msglen, "out of memory");
    if (!yaml_parser_initialize(&parser)) return -1;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    while (!done) {
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_READER_ERROR) {
                /* libyaml decodes ahead of its marks: locate the bad byte
                 * from its offset (columns count characters, as the marks do) */
                size_t off = parser.problem_offset < len ? parser.problem_offset : len;
                *line = 1;
                *col = 1;
                for (size_t i = 0; i < off; i++) {
                    if (text[i] == '\n') {
                        ++*line;
                        *col = 1;
                    } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
                        ++*col;
                    }
                }
            } else {
                *line = (int)parser.problem_mark.line + 1;
                *col = (int)parser.problem_mark.column + 1;
            }
            if (parser.context)
                snprintf(msg, msglen, "YAML syntax error: %s %s (line %d, column %d)", or_empty(parser.problem),
                         parser.context, (int)parser.context_mark.line + 1, (int)parser.context_mark.column + 1);
            else
                snprintf(msg, msglen, "YAML syntax error: %s", parser.problem ? parser.problem : "cannot parse");
            goto fail;
        }
        have_event = 1;
        const yaml_mark_t *m = &ev.start_mark;
        *line = (int)m->line + 1;
        *col = (int)m->column + 1;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++n_docs > 1) {
                snprintf(msg, msglen, "a spec is one YAML document, found a second one");
                goto fail;
            }
            break;
        case YAML_ALIAS_EVENT: {
            const char *name = (const char *)ev.data.alias.anchor;
            int target = find_anchor(&b, name);
            if (target < 0) {
                snprintf(msg, msglen, "unknown alias *%s (anchors must be defined, and complete, before use)", name);
                goto fail;
            }
            if (admit(&b, doc->nodes[target].size, doc->nodes[target].height, "aliases expand to ", msg, msglen) < 0)
                goto fail;
            if (attach(&b, target) < 0) goto fail;
            break;
        }
        case YAML_SCALAR_EVENT: {
            if (admit(&b, 1, 1, "", msg, msglen) < 0) goto fail;
            int k = new_node(doc, YNODE_SCALAR, m);
            if (k < 0) goto fail;
            YNode *n = &doc->nodes[k];
            n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            n->str = malloc(ev.data.scalar.length + 1);
            if (!n->str) goto fail;
            memcpy(n->str, ev.data.scalar.value, ev.data.scalar.length);
            n->str[ev.data.scalar.length] = '\0';
            if (attach(&b, k) < 0) goto fail;
            if (ev.data.scalar.anchor && add_anchor(&b, (const char *)ev.data.scalar.anchor, k) < 0) goto fail;
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: {
            if (admit(&b, 1, 1, "", msg, msglen) < 0) goto fail;
            int k = new_node(doc, ev.type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP, m);
            if (k < 0) goto fail;
            if (attach(&b, k) < 0) goto fail;
            b.stack[b.depth++] = k;
            /* the anchor is registered at the end event, when the node is
             * complete: an alias inside its own anchor is an error */
            if (ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor != NULL
                                                     : ev.data.mapping_start.anchor != NULL) {
                /* remember the name on the node's slot via the anchor list,
                 * with a negative node until the end event */
                const char *name = (const char *)(ev.type == YAML_SEQUENCE_START_EVENT
                                                      ? ev.data.sequence_start.anchor
                                                      : ev.data.mapping_start.anchor);
                if (add_anchor(&b, name, -1 - k) < 0) goto fail;
            }
            break;
        }
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            int k = b.stack[--b.depth];
            YNode *n = &doc->nodes[k];
            long size = 1;
            int h = 0;
            for (int i = 0; i < n->n; i++) {
                const YNode *c = &doc->nodes[n->kids[i]];
                size += c->size;
                if (c->height > h) h = c->height;
            }
            n->size = size;
            n->height = h + 1;
            for (int i = b.n_anchors - 1; i >= 0; i--)
                if (b.anchors[i].node == -1 - k) {
                    b.anchors[i].node = k;
                    break;
                }
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
        have_event = 0;
    }
    rc = 0;
fail: /* msg still says "out of memory" unless an error above set it */
    if (have_event) yaml_event_delete(&ev);
    yaml_parser_delete(&parser);
    for (int i = 0; i < b.n_anchors; i++) free(b.anchors[i].name);
    free(b.anchors);
    return rc;
}
