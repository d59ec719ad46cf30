/* test_feed.c -- the training batches in line and by the data thread
 * (task/feed.h): the same batches bit for bit, in order, the count obeyed,
 * a restart from saved streams, every target code.
 *
 * Dimensions: B batch, T steps, N hidden, D code width.  No wall time is
 * asserted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "model/arena.h"
#include "model/place.h"
#include "model/rng.h"
#include "task/feed.h"
#include "testlib.h"

enum { NB = 7 }; /* batches compared */

static int same(const void *a, const void *b, size_t n) { return memcmp(a, b, n) == 0; }

/* Everything of batch x equals batch y (B, T, N, D as given). */
static int same_batch(const FeedBatch *x, const FeedBatch *y, int B, int T, int N, int D, int noise)
{
    size_t BT = (size_t)B * T;
    return same(x->tb.v, y->tb.v, BT * 2 * sizeof(float)) &&
           same(x->tb.pos, y->tb.pos, (size_t)B * (T + 1) * 2 * sizeof(float)) &&
           same(x->target, y->target, BT * D * sizeof(float)) && same(x->p0, y->p0, (size_t)B * D * sizeof(float)) &&
           (!noise || same(x->noise, y->noise, BT * N * sizeof(float))) && same(&x->r_traj, &y->r_traj, sizeof(Rng)) &&
           same(&x->r_noise, &y->r_noise, sizeof(Rng));
}

/* A copy of one batch (the feed's slots are reused). */
typedef struct Copy { FeedBatch b; } Copy;

static int copy_batch(Copy *c, const FeedBatch *x, int B, int T, int N, int D)
{
    size_t BT = (size_t)B * T;
    memset(c, 0, sizeof *c);
    if (traj_alloc(&c->b.tb, B, T) != 0) return -1;
    c->b.target = malloc(BT * D * sizeof(float));
    c->b.p0 = malloc((size_t)B * D * sizeof(float));
    c->b.noise = malloc(BT * N * sizeof(float));
    if (!c->b.target || !c->b.p0 || !c->b.noise) return -1;
    memcpy(c->b.tb.v, x->tb.v, BT * 2 * sizeof(float));
    memcpy(c->b.tb.pos, x->tb.pos, (size_t)B * (T + 1) * 2 * sizeof(float));
    memcpy(c->b.target, x->target, BT * D * sizeof(float));
    memcpy(c->b.p0, x->p0, (size_t)B * D * sizeof(float));
    if (x->noise) memcpy(c->b.noise, x->noise, BT * N * sizeof(float));
    c->b.r_traj = x->r_traj;
    c->b.r_noise = x->r_noise;
    return 0;
}

static void copy_free(Copy *c)
{
    traj_free(&c->b.tb);
    free(c->b.target);
    free(c->b.p0);
    free(c->b.noise);
}

/* The batches of cfg in line, then with the thread: the same. */
static void check_target(int target, double noise)
{
    TaskConfig cfg;
    config_defaults(&cfg);
    cfg.target = target;
    cfg.n_place = 48;
    cfg.noise = noise;
    cfg.seed = 3;
    const int B = 16, T = 9, N = 24;
    Arena a;
    PlaceCells pc;
    Rng rp, rt0, rn0;
    rng_seed(&rp, 3, RNG_PLACE);
    rng_seed(&rt0, 3, RNG_TRAIN_TRAJ);
    rng_seed(&rn0, 3, RNG_TRAIN_NOISE);
    TEST_CHECK(arena_init(&a, &cfg) == 0 && place_init(&pc, &cfg, &a, &rp) == 0, "set-up of target %d",
               target);
    int D = place_dim(&pc);
    float *noise_buf = malloc((size_t)B * T * N * sizeof(float));
    Copy ref[NB];
    Feed f;
    /* in line: NB batches, then NULL */
    TEST_CHECK(feed_alloc(&f, &cfg, &a, &pc, B, T, N, noise_buf, 0) == 0, "feed_alloc in line");
    feed_start(&f, &rt0, &rn0, NB);
    int ok = 1;
    for (int k = 0; k < NB; k++) {
        const FeedBatch *x = feed_next(&f);
        ok = ok && x && (noise > 0 ? x->noise == noise_buf : x->noise == NULL) && copy_batch(&ref[k], x, B, T, N, D) == 0;
    }
    TEST_CHECK(ok, "in line: %d batches (noise %g)", NB, noise);
    TEST_CHECK(feed_next(&f) == NULL, "in line: a batch past the count");
    TEST_CHECK(feed_thread_cpu_s(&f) == 0.0, "in line: thread time");
    feed_free(&f);

    /* threaded: the same batches, in order, then NULL */
    TEST_CHECK(feed_alloc(&f, &cfg, &a, &pc, B, T, N, noise_buf, 1) == 0, "feed_alloc threaded");
    feed_start(&f, &rt0, &rn0, NB);
    int nsame = 0;
    for (int k = 0; k < NB; k++) {
        const FeedBatch *x = feed_next(&f);
        if (x && x->noise != noise_buf && same_batch(x, &ref[k].b, B, T, N, D, noise > 0)) nsame++;
    }
    TEST_CHECK(nsame == NB, "threaded: %d of %d batches the same as in line (target %d, noise %g)", nsame, NB,
               target, noise);
    TEST_CHECK(feed_next(&f) == NULL, "threaded: a batch past the count");

    /* a restart from the streams after batch 2 (as a resume does): batches
     * 3, 4 again; the batch made ahead for the old start is dropped */
    feed_start(&f, &ref[2].b.r_traj, &ref[2].b.r_noise, 3);
    const FeedBatch *x3 = feed_next(&f);
    TEST_CHECK(x3 && same_batch(x3, &ref[3].b, B, T, N, D, noise > 0), "threaded restart: batch 3 differs");
    feed_start(&f, &ref[4].b.r_traj, &ref[4].b.r_noise, 2); /* while batch 4 may be in the making */
    const FeedBatch *x5 = feed_next(&f);
    const FeedBatch *x6 = feed_next(&f);
    TEST_CHECK(x5 && x6 && same_batch(x5, &ref[5].b, B, T, N, D, noise > 0) &&
                   same_batch(x6, &ref[6].b, B, T, N, D, noise > 0),
               "threaded restart mid-way: batches 5, 6 differ");
    TEST_CHECK(feed_next(&f) == NULL, "threaded restart: a batch past the count");
    TEST_CHECK(feed_thread_cpu_s(&f) > 0.0, "threaded: the thread made nothing");
    feed_free(&f);
    feed_free(&f); /* safe twice */

    /* released while the thread may be making a batch (ASan and valgrind
     * runs of this test see a leak or a bad access; a hang never ends) */
    TEST_CHECK(feed_alloc(&f, &cfg, &a, &pc, B, T, N, noise_buf, 1) == 0, "feed_alloc threaded (2)");
    feed_start(&f, &rt0, &rn0, 1000);
    feed_free(&f);

    for (int k = 0; k < NB; k++) copy_free(&ref[k]);
    free(noise_buf);
    place_free(&pc);
}

/* place_copy: the same codes from the copy, its own scratch. */
static void check_place_copy(void)
{
    TaskConfig cfg;
    config_defaults(&cfg);
    cfg.target = TARGET_DOG;
    cfg.n_place = 32;
    Arena a;
    PlaceCells pc, cp;
    Rng r;
    rng_seed(&r, 1, RNG_PLACE);
    TEST_CHECK(arena_init(&a, &cfg) == 0 && place_init(&pc, &cfg, &a, &r) == 0, "place set-up");
    TEST_CHECK(place_copy(&cp, &pc) == 0, "place_copy");
    TEST_CHECK(cp.work != pc.work && cp.d2 != pc.d2 && cp.top != pc.top && cp.centres != pc.centres,
               "place_copy shares scratch");
    float pos[6] = {0.1f, 0.2f, -0.5f, 0.3f, 0.7f, -0.9f}, c1[96], c2[96];
    place_encode(&pc, pos, 3, c1);
    place_encode(&cp, pos, 3, c2);
    TEST_CHECK(memcmp(c1, c2, sizeof c1) == 0, "place_copy's codes differ");
    place_free(&cp);
    place_free(&pc);
}

int main(void)
{
    check_target(TARGET_DOG, 0.01);
    check_target(TARGET_GAUSSIAN, 0.0);
    check_target(TARGET_CARTESIAN, 0.02);
    check_place_copy();
    return test_summary("test_feed");
}
