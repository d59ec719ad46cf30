/* test_spec.c -- the YAML sweep spec: every shipped spec parses, bad specs
 * give one clear error at the right line and column, expansion order and
 * de-duplication, random search, the canonical hash, SHA-256 vectors, and
 * docs/spec.md's settings table matches settings.def.  Runs from the
 * repository root (tests/run.sh does). */
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "spec/sha256.h"
#include "spec/spec.h"
#include "testlib.h"

static int load(Spec *s, const char *text, char *err, size_t len)
{
    return spec_load_string(s, "t.yaml", text, strlen(text), err, len);
}

/* ---- SHA-256 (FIPS 180-4 examples) ------------------------------------ */
static void test_sha256(void)
{
    char hex[65];
    sha256_hex("", 0, hex);
    TEST_CHECK(strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == 0, "%s", hex);
    sha256_hex("abc", 3, hex);
    TEST_CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0, "%s", hex);
    const char *m2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(m2, strlen(m2), hex);
    TEST_CHECK(strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0, "%s", hex);
    /* one million 'a', fed in uneven pieces through the streaming API */
    Sha256 st;
    unsigned char d[32], a[997];
    memset(a, 'a', sizeof a);
    sha256_init(&st);
    size_t left = 1000000;
    while (left) {
        size_t k = left < sizeof a ? left : sizeof a;
        sha256_update(&st, a, k);
        left -= k;
    }
    sha256_final(&st, d);
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    TEST_CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0, "%s", hex);
}

/* ---- shipped specs ------------------------------------------------------ */
static void test_shipped(void)
{
    glob_t g;
    char err[1024];
    int rc = glob("sweeps/*.yaml", 0, NULL, &g);
    TEST_CHECK(rc == 0 && g.gl_pathc >= 6, "sweeps/*.yaml: %d files (run from the repository root)",
               rc == 0 ? (int)g.gl_pathc : 0);
    for (size_t i = 0; rc == 0 && i < g.gl_pathc; i++) {
        Spec s;
        int r = spec_load(&s, g.gl_pathv[i], err, sizeof err);
        TEST_CHECK(r == 0, "%s: %s", g.gl_pathv[i], err);
        if (r == 0) {
            TEST_CHECK(s.n_tasks >= 1 && s.n_tasks <= s.n_combos, "%s", g.gl_pathv[i]);
            TEST_CHECK(strlen(s.hash) == 64, "%s", g.gl_pathv[i]);
            TEST_CHECK(s.name[0] != '\0', "%s has a name", g.gl_pathv[i]);
        }
        spec_free(&s);
    }
    if (rc == 0) globfree(&g);

    Spec s;
    TEST_CHECK(spec_load(&s, "sweeps/smoke.yaml", err, sizeof err) == 0, "%s", err);
    TEST_CHECK(s.n_combos == 8 && s.n_tasks == 6, "smoke: %d combos, %d tasks", s.n_combos, s.n_tasks);
    TEST_CHECK(s.tasks[0].hidden == 32 && s.tasks[0].steps == 60, "smoke is tiny");
    TEST_CHECK(s.base.n_eval_noise >= 2, "smoke has several eval_noise levels");
    TEST_CHECK(strcmp(s.output, "smoke.h5") == 0, "%s", s.output);
    TEST_CHECK(s.sync == 1, "output.sync defaults to task (1), got %d", s.sync);
    spec_free(&s);

    TEST_CHECK(spec_load(&s, "sweeps/leak_vs_noise.yaml", err, sizeof err) == 0, "%s", err);
    TEST_CHECK(s.n_tasks >= 100 && s.n_tasks <= 1000, "leak_vs_noise: %d tasks", s.n_tasks);
    const char *want[] = {"cell", "tau", "noise", "seed"};
    TEST_CHECK(s.n_axes == 4, "leak_vs_noise axes: %d", s.n_axes);
    for (int a = 0; a < 4 && a < s.n_axes; a++)
        TEST_CHECK(strcmp(s.axes[a].d->key, want[a]) == 0, "axis %d is %s", a, s.axes[a].d->key);
    TEST_CHECK(s.tasks[0].hidden == 512 && s.tasks[0].n_place == 512, "leak_vs_noise scale");
    spec_free(&s);

    TEST_CHECK(spec_load(&s, "sweeps/no-such-spec.yaml", err, sizeof err) < 0, "missing file");
    TEST_CHECK(strstr(err, "no-such-spec.yaml") && strstr(err, "cannot open"), "%s", err);
    spec_free(&s);
}

/* ---- bad specs --------------------------------------------------------- */
typedef struct Bad {
    const char *text;
    const char *msg;   /* expected substring */
    int line, col;     /* expected location; col 0 = not checked */
} Bad;

static char bomb[2048], deep[512], long_noise[512];

static void make_generated(void)
{
    /* billion laughs: each level is 10 aliases of the previous */
    size_t o = (size_t)snprintf(bomb, sizeof bomb, "a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'h'; c++) {
        o += (size_t)snprintf(bomb + o, sizeof bomb - o, "%c: &%c [", c, c);
        for (int i = 0; i < 10; i++) o += (size_t)snprintf(bomb + o, sizeof bomb - o, "%s*%c", i ? ", " : "", c - 1);
        o += (size_t)snprintf(bomb + o, sizeof bomb - o, "]\n");
    }
    o = (size_t)snprintf(deep, sizeof deep, "sweep:\n  tau: ");
    for (int i = 0; i < 100; i++) deep[o++] = '[';
    deep[o] = '\0';
    o = (size_t)snprintf(long_noise, sizeof long_noise, "eval:\n  eval_noise: [");
    for (int i = 0; i < 17; i++) o += (size_t)snprintf(long_noise + o, sizeof long_noise - o, "%s0.0%d", i ? ", " : "", i);
    snprintf(long_noise + o, sizeof long_noise - o, "]\n");
}

static void test_bad(void)
{
    make_generated();
    const Bad bad[] = {
        {"model:\n  hiden: 512\n", "model.hiden: unknown key 'hiden' (did you mean 'hidden'?)", 2, 3},
        {"modle:\n  hidden: 5\n", "unknown section 'modle' (did you mean 'model'?)", 1, 1},
        {"model:\n  tau: fast\n", "model.tau: expected a non-negative number, got \"fast\"", 2, 8},
        {"model:\n  cell: leaky\n  tau: 0.01\n", "model.tau: tau must be >= dt", 3, 8},
        {"model:\n  noise: -0.1\n", "model.noise: expected a non-negative number, got -0.1", 2, 10},
        {"sweep:\n  tau: []\n", "sweep.tau: empty axis", 2, 8},
        {"model:\n  hidden: 0\n", "model.hidden: expected an integer in [1, 65536], got 0", 2, 11},
        {"model:\n  hidden: 5\n  hidden: 6\n", "model.hidden: duplicate key", 3, 3},
        {"model: {}\nmodel: {}\n", "model: duplicate key (first given at 1:1)", 2, 1},
        {"model:\n  hidden: [1, 2\n", "YAML syntax error", 3, 1},
        {"model:\n\thidden: 5\n", "YAML syntax error", 2, 1},
        {bomb, "aliases expand to more than 100000 nodes", 5, 0},
        {deep, "nesting deeper than 64 levels", 2, 0},
        {"model:\n  tau: 0.1\nsweep:\n  tau: [0.1, 0.2]\n", "sweep.tau: 'tau' is both a fixed setting (model.tau at 2:8)", 4, 3},
        {"sweep:\n  tau: [[0.1], 0.2]\n", "sweep.tau: expected a non-negative number, got a list", 2, 9},
        {"sweep:\n  lr: {normal: [0, 1], samples: 3}\n", "sweep.lr: unknown key 'normal'", 2, 8},
        {"sweep:\n  lr: {samples: 3}\n", "needs one of range, uniform, loguniform, randint", 2, 7},
        {"sweep:\n  lr: {loguniform: [0, 1e-2], samples: 4}\n", "loguniform bounds must be > 0, got 0", 2, 21},
        {"sweep:\n  lr: {uniform: [0.1, 0.01], samples: 4}\n", "uniform needs low < high", 2, 17},
        {"sweep:\n  lr: {uniform: [0, 1]}\n", "uniform needs 'samples: n'", 2, 7},
        {"sweep:\n  lr: {uniform: [0, 1], samples: 2.5}\n", "samples must be an integer", 2, 34},
        {"sweep:\n  hidden: {uniform: [1, 5], samples: 2}\n", "uniform draws real numbers, but hidden is an integer", 2, 11},
        {"sweep:\n  tau: {range: [1, 5]}\n", "range draws integers, but tau is a real number", 2, 8},
        {"sweep:\n  seed: {range: [0, 10, 0]}\n", "range step must not be 0", 2, 17},
        {"sweep:\n  seed: {range: [5, 0]}\n", "empty axis", 2, 17},
        {"sweep:\n  seed: {randint: [5, 1], samples: 2}\n", "randint needs low <= high", 2, 19},
        {"sweep:\n  seed: {range: [0, 3], samples: 2}\n", "range takes no 'samples'", 2, 34},
        {"model:\n  cell: leakey\n", "model.cell: expected one of vanilla, leaky", 2, 9},
        {"model:\n  cell: leakey\n", "(did you mean 'leaky'?)", 2, 9},
        {"model:\n  hidden: 1.5\n", "got 1.5 (not an integer)", 2, 11},
        {"train:\n  lr: 1e400\n", "train.lr: expected a number in [0, 10], got \"1e400\" (out of range", 2, 7},
        {"", "empty spec", 1, 1},
        {"# only a comment\n", "empty spec", 1, 1},
        {long_noise, "eval.eval_noise: expected a list of 1 to 16 noise levels, got 17", 2, 15},
        {"eval:\n  eval_noise: []\n", "expected a list of 1 to 16 noise levels, got 0", 2, 15},
        {"eval:\n  eval_noise: [0, -1]\n", "expected a non-negative noise level, got -1", 2, 19},
        {"eval:\n  eval_noise: 0.1\n", "expected a list of 1 to 16 noise levels, got \"0.1\"", 2, 15},
        {"sweep:\n  seed: 3\n", "sweep.seed: an axis is a list of values", 2, 9},
        {"sweep:\n  eval_noise: [0, 1]\n", "eval_noise is a list setting, not an axis", 2, 3},
        {"sweep:\n  hiden: [1, 2]\n", "sweep.hiden: unknown key 'hiden' (did you mean 'hidden'?)", 2, 3},
        {"train:\n  hidden: 5\n", "train.hidden: 'hidden' belongs in section 'model', not 'train'", 2, 3},
        {"hidden: 5\n", "hidden: settings go in their section: write it under 'model:'", 1, 1},
        {"model:\n  bias: maybe\n", "model.bias: expected true or false, got \"maybe\"", 2, 9},
        {"model:\n  hidden: \"512\"\n", "expected an integer in [1, 65536], got the string \"512\"", 2, 11},
        {"model:\n  hidden: *x\n", "unknown alias *x", 2, 11},
        {"model: {}\n---\nmodel: {}\n", "found a second one", 2, 1},
        {"place:\n  n_place: 2\nsweep:\n  decode_k: [1, 3]\n", "sweep.decode_k: decode_k (3) must not exceed n_place (2)", 4, 17},
        {"model:\n  cell: leaky\nsweep:\n  tau: [0.1, 0.01]\n", "sweep.tau: tau must be >= dt (0.02 s)", 4, 14},
        {"task:\n  arena_size: 0.05\n  border_region: 0.03\n", "task.border_region: border_region (0.03 m) must be less than half", 3, 18},
        {"output:\n  time_limit: -5\n", "output.time_limit: expected a number of seconds >= 0, got -5", 2, 15},
        {"output:\n  progress_every: 0\n", "output.progress_every: expected a number of seconds > 0, got 0", 2, 19},
        {"output:\n  fil: x.h5\n", "output.fil: unknown key 'fil' (did you mean 'file'?)", 2, 3},
        {"output:\n  sync: always\n", "output.sync: expected 'task' or 'none', got always", 2, 9},
        {"output:\n  sync: [task]\n", "output.sync: expected a string", 2, 9},
        {"output:\n  sync: none\n  sync: task\n", "output.sync: duplicate key (first given at 2:3)", 3, 3},
        {"train:\n  checkpoint_every: -1\n", "train.checkpoint_every: expected a number of seconds >= 0, got -1", 2, 21},
        {"train:\n  stop_grace: soon\n", "train.stop_grace: expected a number of seconds >= 0", 2, 15},
        {"train:\n  checkpoint_every: 5\n  checkpoint_every: 6\n", "train.checkpoint_every: duplicate key (first given at 2:3)", 3, 3},
        {"sweep:\n  checkpoint_every: [60, 120]\n", "sweep.checkpoint_every: 'checkpoint_every' is a run setting (train section), not an axis", 2, 3},
        {"train:\n  data_thread: yes\n", "train.data_thread: expected 'auto', 'off' or 'on', got yes", 2, 16},
        {"train:\n  data_thread: [on]\n", "train.data_thread: expected a string", 2, 16},
        {"train:\n  data_thread: on\n  data_thread: off\n", "train.data_thread: duplicate key (first given at 2:3)", 3, 3},
        {"sweep:\n  data_thread: [on, off]\n", "sweep.data_thread: 'data_thread' is a run setting (train section), not an axis", 2, 3},
        {"sweep_seed: -1\n", "sweep_seed: expected an integer in [0, 2^64 - 1], got \"-1\"", 1, 13},
        {"sweep:\n  tau: [0.1, 0.1]\n", "sweep.tau: duplicate value 0.1 (also at 2:9)", 2, 14},
        {"place:\n  n_place: 2\n", "place.n_place: decode_k (3) must not exceed n_place (2)", 2, 12},
        {"place:\n  n_place: 2\nsweep:\n  seed: [0, 1]\n", "place.n_place: decode_k (3) must not exceed", 2, 12},
        {"sweep:\n  n_place: [512, 2]\n", "sweep.n_place: decode_k (3) must not exceed n_place (2)", 2, 18},
        {"model: 5\n", "model: expected a mapping of settings, got \"5\"", 1, 8},
        {"- 1\n- 2\n", "a spec is a mapping of sections", 1, 1},
        {"? [a, b]\n: 1\n", "a key must be a name, got a list", 1, 3},
        {"sweep:\n  seed: {range: [0, 2000]}\n  hidden: {range: [1, 1001]}\n", "more than 1000000 combinations", 2, 3},
        {"sweep:\n  lr: {uniform: [0, 20], samples: 2}\n", "uniform bound must be a number in [0, 10], got 20", 2, 21},
        {"sweep:\n  lr: {uniform: [0, 1], randint: [0, 1], samples: 2}\n", "one distribution per axis", 2, 25},
        {"model:\n  hidden:\n", "model.hidden: expected an integer in [1, 65536], got nothing", 2, 10},
        {"name: [a]\n", "name: expected a string, got a list", 1, 7},
    };
    int n = (int)(sizeof bad / sizeof bad[0]);
    TEST_CHECK(n >= 25, "%d bad specs", n);
    for (int i = 0; i < n; i++) {
        Spec s;
        char err[1024] = "";
        int rc = load(&s, bad[i].text, err, sizeof err);
        TEST_CHECK(rc < 0, "bad spec %d accepted: %s", i, bad[i].msg);
        if (rc == 0) {
            spec_free(&s);
            continue;
        }
        int line = 0, col = 0;
        TEST_CHECK(sscanf(err, "t.yaml:%d:%d:", &line, &col) == 2, "bad spec %d: no location in '%s'", i, err);
        TEST_CHECK(strstr(err, bad[i].msg) != NULL, "bad spec %d: '%s' lacks '%s'", i, err, bad[i].msg);
        TEST_CHECK(line == bad[i].line, "bad spec %d: line %d, want %d (%s)", i, line, bad[i].line, err);
        if (bad[i].col) TEST_CHECK(col == bad[i].col, "bad spec %d: column %d, want %d (%s)", i, col, bad[i].col, err);
        TEST_CHECK(strchr(err, '\n') == NULL, "bad spec %d: one line", i);
        TEST_CHECK(s.tasks == NULL && s.axes == NULL && s.canonical == NULL, "failed spec is empty");
        spec_free(&s);
    }
}

/* ---- expansion, order, de-duplication ------------------------------------ */
static void test_expand(void)
{
    Spec s;
    char err[1024];
    /* YAML order seed then hidden; table order is hidden (model) then seed (train) */
    int rc = load(&s, "sweep:\n  seed: [0, 1, 2]\n  hidden: [8, 16]\n", err, sizeof err);
    TEST_CHECK(rc == 0, "%s", err);
    if (rc == 0) {
        TEST_CHECK(s.n_axes == 2 && s.n_combos == 6 && s.n_tasks == 6, "%d axes, %d tasks", s.n_axes, s.n_tasks);
        TEST_CHECK(strcmp(s.axes[0].d->key, "hidden") == 0, "first axis %s", s.axes[0].d->key);
        int want_h[] = {8, 8, 8, 16, 16, 16}, want_s[] = {0, 1, 2, 0, 1, 2};
        for (int t = 0; t < 6; t++)
            TEST_CHECK(s.tasks[t].hidden == want_h[t] && s.tasks[t].seed == want_s[t], "task %d: hidden %d seed %d", t,
                       s.tasks[t].hidden, s.tasks[t].seed);
        TEST_CHECK(spec_is_axis(&s, config_find("seed")) && !spec_is_axis(&s, config_find("tau")), "spec_is_axis");
        TEST_CHECK(s.tasks[0].n_place == 512 && s.tasks[0].dt == 0.02, "defaults filled");
    }
    spec_free(&s);

    /* vanilla x 3 taus = 1 task */
    rc = load(&s, "model:\n  cell: vanilla\nsweep:\n  tau: [0.05, 0.1, 0.2]\n", err, sizeof err);
    TEST_CHECK(rc == 0, "%s", err);
    if (rc == 0) {
        TEST_CHECK(s.n_combos == 3 && s.n_tasks == 1 && s.n_merged == 2, "%d combos %d tasks", s.n_combos, s.n_tasks);
        TEST_CHECK(strstr(s.merge_note, "vanilla ignores tau") != NULL, "note: %s", s.merge_note);
        TEST_CHECK(s.tasks[0].tau == 0.1, "canonical tau = default, got %g", s.tasks[0].tau);
        char buf[512];
        spec_summary(&s, buf, sizeof buf);
        TEST_CHECK(strstr(buf, "3 combinations, 1 task: 2 merged because vanilla ignores tau") != NULL, "%s", buf);
    }
    spec_free(&s);

    /* cells x taus: vanilla collapses, leaky keeps its taus; ids keep first occurrence */
    rc = load(&s, "sweep:\n  cell: [vanilla, leaky, momentum]\n  tau: [0.05, 0.2]\n  lambda_v: [0.5, 1]\n", err, sizeof err);
    TEST_CHECK(rc == 0, "%s", err);
    if (rc == 0) {
        /* vanilla: 1; leaky: 2 taus (lambda_v ignored); momentum: 2 x 2 */
        TEST_CHECK(s.n_combos == 12 && s.n_tasks == 7, "%d combos %d tasks", s.n_combos, s.n_tasks);
        TEST_CHECK(s.tasks[0].cell == CELL_VANILLA && s.tasks[1].cell == CELL_LEAKY && s.tasks[1].tau == 0.05,
                   "order after merge");
        TEST_CHECK(strstr(s.merge_note, "vanilla ignores tau") && strstr(s.merge_note, "ignores lambda_v"), "%s",
                   s.merge_note);
        char *txt = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&txt, &len);
        spec_print_tasks(&s, f);
        fclose(f);
        TEST_CHECK(txt && strstr(txt, "id") && strstr(txt, "lambda_v") && strstr(txt, "12 combinations, 7 tasks"),
                   "%s", txt ? txt : "");
        TEST_CHECK(txt && strstr(txt, " 6  momentum"), "row 6 is momentum: %s", txt ? txt : "");
        free(txt);
    }
    spec_free(&s);

    /* ranges */
    rc = load(&s, "sweep:\n  seed: {range: [0, 10, 3]}\n  hidden: {range: [10, 0, -4]}\n", err, sizeof err);
    TEST_CHECK(rc == 0, "%s", err);
    if (rc == 0) {
        TEST_CHECK(s.axes[0].n == 3 && s.axes[0].values[0] == 10 && s.axes[0].values[2] == 2, "hidden range");
        TEST_CHECK(s.axes[1].n == 4 && s.axes[1].values[3] == 9, "seed range");
        TEST_CHECK(s.n_tasks == 12, "%d", s.n_tasks);
    }
    spec_free(&s);

    /* no sweep section: one task, the base */
    rc = load(&s, "name: one\nmodel:\n  hidden: 64\n", err, sizeof err);
    TEST_CHECK(rc == 0 && s.n_tasks == 1 && s.tasks[0].hidden == 64 && strcmp(s.name, "one") == 0, "%s", err);
    spec_free(&s);
}

/* ---- random search ------------------------------------------------------- */
static int draw(const char *text, Spec *s)
{
    char err[1024];
    int rc = load(s, text, err, sizeof err);
    TEST_CHECK(rc == 0, "%s", err);
    return rc;
}

static void test_random(void)
{
    Spec a, b, c, d;
    const char *t1 = "sweep_seed: 7\nsweep:\n  lr: {loguniform: [1e-5, 1e-2], samples: 8}\n"
                     "  hidden: {randint: [16, 20], samples: 6}\n  noise: {uniform: [0.001, 0.03], samples: 3}\n";
    const char *t2 = "sweep_seed: 8\nsweep:\n  lr: {loguniform: [1e-5, 1e-2], samples: 8}\n"
                     "  hidden: {randint: [16, 20], samples: 6}\n  noise: {uniform: [0.001, 0.03], samples: 3}\n";
    /* same seed, another axis added: lr's draws do not move */
    const char *t3 = "sweep:\n  lr: {loguniform: [1e-5, 1e-2], samples: 8}\n  seed: [0, 1]\nsweep_seed: 7\n";
    if (draw(t1, &a) || draw(t1, &b) || draw(t2, &c) || draw(t3, &d)) goto out;
    int ilr = spec_axis_index(&a, config_find("lr")), ih = spec_axis_index(&a, config_find("hidden")),
        in = spec_axis_index(&a, config_find("noise"));
    TEST_CHECK(ilr >= 0 && ih >= 0 && in >= 0, "axes found");
    if (ilr < 0 || ih < 0 || in < 0) goto out;
    int same = 1, differ = 0, distinct_lr = 1;
    for (int i = 0; i < 8; i++) {
        double x = a.axes[ilr].values[i];
        same &= x == b.axes[ilr].values[i];
        differ |= x != c.axes[ilr].values[i];
        TEST_CHECK(x >= 1e-5 && x <= 1e-2, "lr %g in bounds", x);
        TEST_CHECK(x == d.axes[spec_axis_index(&d, config_find("lr"))].values[i], "lr draws independent of other axes");
        for (int j = 0; j < i; j++) distinct_lr &= x != a.axes[ilr].values[j];
    }
    TEST_CHECK(same, "same sweep_seed, same values");
    TEST_CHECK(differ, "another sweep_seed, other values");
    TEST_CHECK(distinct_lr, "eight distinct draws");
    /* loguniform spreads over decades: not all in the top decade */
    int low = 0;
    for (int i = 0; i < 8; i++) low += a.axes[ilr].values[i] < 1e-3;
    TEST_CHECK(low >= 1, "loguniform reaches the lower decades");
    for (int i = 0; i < 6; i++) {
        double h = a.axes[ih].values[i];
        TEST_CHECK(h >= 16 && h <= 20 && h == (int)h, "randint %g in [16, 20]", h);
    }
    for (int i = 0; i < 3; i++) {
        double x = a.axes[in].values[i];
        TEST_CHECK(x >= 0.001 && x < 0.03, "uniform %g", x);
    }
    /* the drawn values join the product; repeated randint draws merge */
    TEST_CHECK(a.n_combos == 8 * 6 * 3, "%d combos", a.n_combos);
    TEST_CHECK(a.n_tasks <= a.n_combos && a.n_tasks % 24 == 0, "%d tasks", a.n_tasks);
    if (a.n_tasks < a.n_combos) TEST_CHECK(strstr(a.merge_note, "repeated values") != NULL, "%s", a.merge_note);
    TEST_CHECK(strcmp(a.hash, b.hash) == 0 && strcmp(a.hash, c.hash) != 0, "hash follows sweep_seed");
out:
    spec_free(&a);
    spec_free(&b);
    spec_free(&c);
    spec_free(&d);
}

/* ---- canonical hash ---------------------------------------------------------- */

static void test_hash(void)
{
    char err[1024];
    Spec s0, s;
    const char *base = "name: h\n"
                       "model:\n  hidden: 64\n  activation: tanh\n  cell: leaky\n"
                       "train:\n  lr: 0.001\n  steps: 100\n"
                       "eval:\n  eval_noise: [0, 0.01]\n"
                       "sweep:\n  tau: [0.05, 0.1]\n  seed: {range: [0, 3]}\n"
                       "  noise: {uniform: [0, 0.01], samples: 2}\n";
    int rc = load(&s0, base, err, sizeof err);
    TEST_CHECK(rc == 0, "%s", err);
    if (rc) return;
    TEST_CHECK(strstr(s0.canonical, "model.hidden 64\n") && strstr(s0.canonical, "sweep.tau list"), "%s", s0.canonical);
    for (int i = 0; i < config_n_settings; i++) {
        char k[128];
        snprintf(k, sizeof k, "%s.%s ", config_settings[i].section, config_settings[i].key);
        TEST_CHECK(strstr(s0.canonical, k) != NULL, "canonical lists %s", k);
    }
    const char *same[] = {
        /* keys and sections reordered, flow style, comments, other number spellings */
        "# a comment\nsweep: {seed: {range: [0, 3]}, noise: {samples: 2, uniform: [0.0, 1e-2]}, tau: [5e-2, 0.10]}\n"
        "eval: {eval_noise: [0.0, 1.0e-2]}\ntrain: {steps: 100, lr: 1e-3}\nmodel: {cell: leaky, activation: tanh, hidden: 64}\n"
        "name: h\n",
        /* output, name and description do not change results */
        "name: other\ndescription: words\noutput:\n  file: x.h5\n  time_limit: 60\n  progress_every: 2\n  sync: none\n"
        "model:\n  hidden: 64\n  activation: tanh\n  cell: leaky\n"
        "train:\n  lr: 0.001\n  steps: 100\n  checkpoint_every: 60\n  stop_grace: 30\n  data_thread: on\n"
        "eval:\n  eval_noise: [0, 0.01]\n"
        "sweep:\n  tau: [0.05, 0.1]\n  seed: {range: [0, 3]}\n  noise: {uniform: [0, 0.01], samples: 2}\n",
        /* a default written out is the default */
        "name: h\nmodel:\n  hidden: 64\n  activation: tanh\n  cell: leaky\n  bias: false\n"
        "train:\n  lr: 0.001\n  steps: 100\n  batch: 200\n"
        "eval:\n  eval_noise: [0, 0.01]\n"
        "sweep:\n  tau: [0.05, 0.1]\n  seed: {range: [0, 3]}\n  noise: {uniform: [0, 0.01], samples: 2}\n",
    };
    for (int i = 0; i < 3; i++) {
        rc = load(&s, same[i], err, sizeof err);
        TEST_CHECK(rc == 0, "same %d: %s", i, err);
        if (rc == 0) {
            TEST_CHECK(strcmp(s.hash, s0.hash) == 0, "same %d: hash changed", i);
            TEST_CHECK(s.sync == (i == 1 ? 0 : 1), "same %d: output.sync read as %d", i, s.sync);
            TEST_CHECK(s.data_thread == (i == 1 ? DATA_THREAD_ON : DATA_THREAD_AUTO), "same %d: train.data_thread read as %d",
                       i, s.data_thread);
            TEST_CHECK(s.n_tasks == s0.n_tasks && memcmp(s.tasks, s0.tasks, (size_t)s.n_tasks * sizeof *s.tasks) == 0,
                       "same %d: same tasks in the same order", i);
        }
        spec_free(&s);
    }
    /* every single change of a value changes the hash */
    const char *from[] = {"hidden: 64", "tanh", "leaky", "lr: 0.001", "steps: 100", "[0, 0.01]\n",
                          "[0.05, 0.1]", "[0, 3]", "samples: 2", "uniform: [0, 0.01]"};
    const char *to[] = {"hidden: 65", "relu", "momentum", "lr: 0.002", "steps: 101", "[0, 0.02]\n",
                        "[0.05, 0.11]", "[0, 4]", "samples: 3", "uniform: [0, 0.02]"};
    for (int i = 0; i < 10; i++) {
        char txt[2048];
        const char *p = strstr(base, from[i]);
        TEST_CHECK(p != NULL, "variant %d", i);
        if (!p) continue;
        snprintf(txt, sizeof txt, "%.*s%s%s", (int)(p - base), base, to[i], p + strlen(from[i]));
        rc = load(&s, txt, err, sizeof err);
        TEST_CHECK(rc == 0, "variant %d: %s", i, err);
        if (rc == 0) TEST_CHECK(strcmp(s.hash, s0.hash) != 0, "variant %d (%s): hash unchanged", i, to[i]);
        spec_free(&s);
    }
    char txt[2048];
    snprintf(txt, sizeof txt, "sweep_seed: 1\n%s", base);
    rc = load(&s, txt, err, sizeof err);
    TEST_CHECK(rc == 0 && strcmp(s.hash, s0.hash) != 0, "sweep_seed changes the hash");
    spec_free(&s);
    spec_free(&s0);
}

/* ---- robustness: truncations and mutations never crash ---------------------- */
static void test_fuzz(void)
{
    Spec s;
    char err[1024];
    if (spec_load(&s, "sweeps/smoke.yaml", err, sizeof err) < 0) {
        TEST_CHECK(0, "%s", err);
        return;
    }
    size_t n = s.text_len;
    char *text = malloc(n + 1);
    memcpy(text, s.text, n + 1);
    spec_free(&s);
    int ok = 1;
    for (size_t k = 0; k <= n; k++) {
        Spec t;
        int rc = spec_load_string(&t, "t.yaml", text, k, err, sizeof err);
        int line, col;
        if (rc < 0 && sscanf(err, "t.yaml:%d:%d:", &line, &col) != 2) ok = 0;
        if (rc == 0 && t.n_tasks < 1) ok = 0;
        spec_free(&t);
    }
    TEST_CHECK(ok, "every prefix of smoke.yaml loads or fails with a location");
    uint64_t x = 12345;
    static const char junk[] = "[]{}:,-&*!|>'\"#%@` \n\t0a.";
    ok = 1;
    for (int it = 0; it < 2000; it++) {
        char *m = malloc(n + 1);
        memcpy(m, text, n + 1);
        for (int j = 0; j < 3; j++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            size_t pos = (size_t)(x >> 33) % n;
            m[pos] = junk[(x >> 20) % (sizeof junk - 1)];
        }
        Spec t;
        int rc = spec_load_string(&t, "t.yaml", m, n, err, sizeof err);
        int line, col;
        if (rc < 0 && sscanf(err, "t.yaml:%d:%d:", &line, &col) != 2) ok = 0;
        spec_free(&t);
        free(m);
    }
    TEST_CHECK(ok, "mutated specs load or fail with a location");
    free(text);
}

/* ---- docs/spec.md carries the table generated from settings.def --------------- */
static void test_docs(void)
{
    char *table = NULL, *doc = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&table, &tlen);
    spec_print_settings_table(f);
    fclose(f);
    f = fopen("docs/spec.md", "rb");
    TEST_CHECK(f != NULL, "docs/spec.md exists");
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        doc = calloc((size_t)n + 1, 1);
        TEST_CHECK(doc && fread(doc, 1, (size_t)n, f) == (size_t)n, "read docs/spec.md");
        fclose(f);
    }
    if (doc) {
        TEST_CHECK(strstr(doc, table) != NULL,
                   "docs/spec.md's settings table is stale: regenerate it with `sweep --settings`");
        for (int i = 0; i < config_n_settings; i++) {
            char k[96];
            snprintf(k, sizeof k, "`%s`", config_settings[i].key);
            TEST_CHECK(strstr(doc, k) != NULL, "docs/spec.md mentions %s", k);
        }
    }
    free(doc);
    free(table);
}

int main(void)
{
    test_sha256();
    test_shipped();
    test_bad();
    test_expand();
    test_random();
    test_hash();
    test_fuzz();
    test_docs();
    return test_summary("test_spec");
}
