/* fuzz_spec.c -- libFuzzer harness for the spec parser, validator and
 * expander (src/spec/spec.c, src/spec/spec_yaml.c, src/base/config.c, src/spec/sha256.c).
 *
 * Each input is a candidate spec file.  It goes through spec_load_string;
 * when it parses, the task table is printed (to /dev/null) and the summary
 * formatted, exactly as `sweep --dry-run` does; then spec_free.  Built with
 * -fsanitize=fuzzer,address,undefined (tests/fuzz/run.sh), so a crash, an
 * out-of-bounds access, undefined behaviour or a leak stops the run.
 *
 * Beyond "no crash", the harness checks the contract of spec.h and aborts
 * (a libFuzzer crash, with the input saved) when it is broken:
 *   - a failed load leaves a zeroed Spec and one error line
 *     "fuzz.yaml:LINE:COL: ..." (1-based, no newline, no control
 *     character: the message quotes spec text and goes to a terminal);
 *   - a successful load has 1 <= n_tasks <= n_combos <= SPEC_MAX_COMBOS,
 *     n_merged = n_combos - n_tasks, every axis value inside its setting's
 *     range, every task valid under config_validate, a 64-digit hash;
 *   - loading the same bytes again gives the same hash and task count
 *     (no dependence on uninitialised memory or hidden state);
 *   - spec_free leaves a zeroed Spec.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "spec/spec.h"

static FILE *devnull;

static void violated(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_spec: contract violated: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static int all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

static void check_error(const Spec *s, const char *err)
{
    int line = 0, col = 0, used = 0;
    if (!all_zero(s, sizeof *s)) violated("a failed load left the Spec non-zero", err);
    if (err[0] == '\0') violated("a failed load gave no message", NULL);
    if (strchr(err, '\n')) violated("the error message is not one line", err);
    for (const unsigned char *p = (const unsigned char *)err; *p; p++)
        if (*p < 0x20 || *p == 0x7f) violated("the error message holds a control character", err);
    if (sscanf(err, "fuzz.yaml:%d:%d:%n", &line, &col, &used) != 2 || used == 0)
        violated("the error message does not start with fuzz.yaml:LINE:COL:", err);
    if (line < 1 || col < 1) violated("the error location is not 1-based", err);
}

static void check_spec(const Spec *s)
{
    char buf[64];
    if (s->n_tasks < 1 || s->n_tasks > s->n_combos || s->n_combos > SPEC_MAX_COMBOS) {
        snprintf(buf, sizeof buf, "%d tasks, %d combinations", s->n_tasks, s->n_combos);
        violated("task counts out of bounds", buf);
    }
    if (s->n_merged != s->n_combos - s->n_tasks) violated("n_merged != n_combos - n_tasks", NULL);
    if (strlen(s->hash) != 64 || strspn(s->hash, "0123456789abcdef") != 64) violated("bad hash", s->hash);
    if (!s->canonical || !s->tasks) violated("a loaded spec has no canonical text or tasks", NULL);
    if (s->n_axes < 0 || s->n_axes > config_n_settings) violated("axis count out of bounds", NULL);
    long combos = 1;
    for (int a = 0; a < s->n_axes; a++) {
        const SpecAxis *ax = &s->axes[a];
        if (!ax->d || ax->n < 1) violated("an axis without setting or values", NULL);
        if (a > 0 && ax->d <= s->axes[a - 1].d) violated("axes not in settings.def order", ax->d->key);
        combos *= ax->n;
        for (int i = 0; i < ax->n; i++) {
            double v = ax->values[i];
            int ok;
            if (ax->d->kind == KIND_ENUM) {
                int m = 0;
                while (ax->d->names[m]) m++;
                ok = v >= 0 && v < m && v == (int)v;
            } else if (ax->d->kind == KIND_BOOL) {
                ok = v == 0 || v == 1;
            } else {
                ok = v >= ax->d->lo && v <= ax->d->hi;
            }
            if (!ok) violated("an axis value outside its setting's range", ax->d->key);
            if (ax->vline[i] < 1 || ax->vcol[i] < 1) violated("an axis value without a location", ax->d->key);
        }
    }
    if (combos != s->n_combos) violated("n_combos is not the product of the axis sizes", NULL);
    for (int t = 0; t < s->n_tasks; t++) {
        const char *key = NULL;
        char msg[512];
        if (config_validate(&s->tasks[t], &key, msg, sizeof msg) != 0) violated("an invalid task was kept", msg);
    }
    if (strlen(s->output) == 0) violated("empty output file name", NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    if (!devnull) {
        perror("fuzz_spec: /dev/null");
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Spec s, again;
    char err[1024], err2[1024], sum[768];
    if (spec_load_string(&s, "fuzz.yaml", (const char *)data, size, err, sizeof err) < 0) {
        check_error(&s, err);
        spec_free(&s); /* safe on a failed Spec: part of the contract */
        return 0;
    }
    check_spec(&s);
    spec_print_tasks(&s, devnull);
    spec_summary(&s, sum, sizeof sum);
    if (strchr(sum, '\n')) violated("the summary is not one line", sum);
    /* the expensive re-parse only for small sweeps, to keep the fuzzer fast */
    if (s.n_combos <= 4096) {
        if (spec_load_string(&again, "fuzz.yaml", (const char *)data, size, err2, sizeof err2) < 0)
            violated("the same bytes failed on a second load", err2);
        if (strcmp(again.hash, s.hash) != 0 || again.n_tasks != s.n_tasks)
            violated("a second load gave another hash or task count", again.hash);
        spec_free(&again);
    }
    spec_free(&s);
    if (!all_zero(&s, sizeof s)) violated("spec_free left the Spec non-zero", NULL);
    return 0;
}
