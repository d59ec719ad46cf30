/* test_config.c -- the settings table, defaults and derived sizes. */
#include "base/config.h"
#include "base/result.h"
#include "testlib.h"

#include <string.h>

int main(void)
{
    TaskConfig c;
    config_defaults(&c);
    /* the published reference values (docs/science.md; Sorscher et al. 2019) */
    TEST_CHECK(c.hidden == 4096, "hidden %d", c.hidden);
    TEST_CHECK(c.n_place == 512, "n_place %d", c.n_place);
    TEST_CHECK(c.batch == 200, "batch %d", c.batch);
    TEST_CLOSE(c.dt, 0.02, 0, 0);
    TEST_CLOSE(c.place_sigma, 0.12, 0, 0);
    TEST_CLOSE(c.lr, 1e-4, 0, 0);
    TEST_CLOSE(c.weight_decay, 1e-4, 0, 0);
    TEST_CLOSE(c.speed_scale, 0.13 * 2 * 3.14159265358979, 1e-12, 0);
    TEST_CHECK(c.activation == ACT_RELU && c.cell == CELL_VANILLA, "enums");

    /* keys are unique, every default is within its range */
    for (int i = 0; i < config_n_settings; i++) {
        const SettingDesc *d = &config_settings[i];
        TEST_CHECK(config_find(d->key) == d, "duplicate key %s", d->key);
        if (d->kind == KIND_INT || d->kind == KIND_REAL)
            TEST_CHECK(d->def >= d->lo && d->def <= d->hi, "default of %s out of range", d->key);
    }
    const SettingDesc *tau = config_find("tau");
    TEST_CHECK(tau && config_ignored(&c, tau), "vanilla ignores tau");
    c.cell = CELL_LEAKY;
    TEST_CHECK(!config_ignored(&c, tau), "leaky uses tau");
    char buf[64];
    TEST_CHECK(strcmp(config_format(&c, config_find("cell"), buf, sizeof buf), "leaky") == 0, "%s", buf);

    /* the cells' settings (cells.def): which of tau, lambda_a, b_a, lambda_v
     * each cell uses, by name; an out-of-range cell has no property */
    {
        const char *ckeys[5] = {"tau", "lambda_a", "b_a", "lambda_v", "activation"};
        const struct { const char *name; int uses[5]; int gates; } cells[] = {
            {"vanilla", {0, 0, 0, 0, 1}, 0}, {"leaky", {1, 0, 0, 0, 1}, 0}, {"adaptive", {1, 1, 1, 0, 1}, 0},
            {"momentum", {1, 0, 0, 1, 1}, 0}, {"adaptive_momentum", {1, 1, 1, 1, 1}, 0},
            {"gru", {0, 0, 0, 0, 0}, 3}, {"lstm", {0, 0, 0, 0, 0}, 4}, {"ugrnn", {0, 0, 0, 0, 0}, 2}};
        TaskConfig u;
        config_defaults(&u);
        TEST_CHECK(CELL_COUNT == 8 && config_enum_CELL[CELL_COUNT] == NULL, "%d cells", (int)CELL_COUNT);
        for (int k = 0; k < 8; k++) {
            u.cell = config_enum_index(config_find("cell"), cells[k].name);
            TEST_CHECK(u.cell == k, "%s is cell %d", cells[k].name, u.cell);
            TEST_CHECK(cell_gates(k) == cells[k].gates, "%s has %d gate blocks", cells[k].name, cell_gates(k));
            TEST_CHECK(config_alpha(&u) == 1.0 || !cells[k].gates, "%s: alpha 1", cells[k].name);
            for (int j = 0; j < 5; j++)
                TEST_CHECK(config_ignored(&u, config_find(ckeys[j])) == !cells[k].uses[j], "%s %s %s", cells[k].name,
                           cells[k].uses[j] ? "uses" : "ignores", ckeys[j]);
            TEST_CHECK(cell_adapts(k) == cells[k].uses[1] && cell_has_momentum(k) == cells[k].uses[3] &&
                           cell_uses_tau(k) == cells[k].uses[0],
                       "%s predicates", cells[k].name);
        }
        TEST_CHECK(!cell_adapts(-1) && !cell_has_momentum(CELL_COUNT) && !cell_uses_tau(40), "no cell, no property");
    }

    const char *key = NULL;
    char msg[256];
    TEST_CHECK(config_validate(&c, &key, msg, sizeof msg) == 0, "defaults valid: %s", msg);
    c.tau = 0.01;
    TEST_CHECK(config_validate(&c, &key, msg, sizeof msg) == -1 && strcmp(key, "tau") == 0, "tau < dt rejected");

    /* replay_* settings are ignored while replay is off; the null's
     * settings while null_shuffles = 0; replay_burn_in < replay_steps */
    config_defaults(&c);
    const char *rkeys[] = {"replay_steps", "replay_starts", "replay_noise_var", "replay_burn_in", "replay_keep"};
    const char *nkeys[] = {"null_percentile", "null_units", "null_min_shift"};
    TEST_CHECK(!config_ignored(&c, config_find("replay")), "replay itself is never ignored");
    for (int i = 0; i < 5; i++) TEST_CHECK(config_ignored(&c, config_find(rkeys[i])), "replay off ignores %s", rkeys[i]);
    for (int i = 0; i < 3; i++) TEST_CHECK(!config_ignored(&c, config_find(nkeys[i])), "null on uses %s", nkeys[i]);
    TEST_CHECK(!config_ignored(&c, config_find("null_shuffles")), "null_shuffles is never ignored");
    c.replay = 1;
    c.null_shuffles = 0;
    for (int i = 0; i < 5; i++) TEST_CHECK(!config_ignored(&c, config_find(rkeys[i])), "replay on uses %s", rkeys[i]);
    for (int i = 0; i < 3; i++) TEST_CHECK(config_ignored(&c, config_find(nkeys[i])), "no null ignores %s", nkeys[i]);
    TEST_CHECK(config_validate(&c, &key, msg, sizeof msg) == 0, "replay defaults valid: %s", msg);
    c.replay_burn_in = c.replay_steps;
    TEST_CHECK(config_validate(&c, &key, msg, sizeof msg) == -1 && strcmp(key, "replay_burn_in") == 0,
               "burn-in >= replay steps rejected");
    c.replay = 0;
    TEST_CHECK(config_validate(&c, &key, msg, sizeof msg) == 0, "burn-in not checked with replay off: %s", msg);

    /* logged points: 0, K, 2K, ..., steps */
    config_defaults(&c);
    c.steps = 250; c.log_every = 100;
    TEST_CHECK(config_n_logged(&c) == 4, "n_logged %d", config_n_logged(&c));
    c.steps = 200;
    TEST_CHECK(config_n_logged(&c) == 3, "n_logged %d", config_n_logged(&c));
    c.steps = 250; c.hidden = 8; c.save_ratemaps = SAVE_TOP; c.save_top_k = 3;
    TaskResult r;
    TEST_CHECK(result_alloc(&r, &c) == 0, "alloc");
    TEST_CHECK(r.n_log == 4 && r.log_step[3] == 250 && r.log_step[2] == 200, "log steps");
    TEST_CHECK(r.n_maps == 3 && r.eval_len == 40, "sizes %d %d", r.n_maps, r.eval_len);
    result_free(&r);
    return test_summary("test_config");
}
