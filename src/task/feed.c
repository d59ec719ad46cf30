/* feed.c -- the training batches, in line or one step ahead (feed.h).
 *
 * Legend: B batch, T training steps, N hidden, D code width.
 *
 * The thread's protocol, every field under mu:
 *   slot states   FREE -> BUSY (the thread makes it) -> READY -> IN_USE
 *                 (handed out by feed_next) -> FREE (at the next feed_next)
 *   make_at       the slot the thread fills next; take_at the slot
 *                 feed_next hands out next.  Both alternate 0, 1, 0, ...
 *                 from feed_start, so batches come out in the order made.
 *   to_make       batches the thread may still begin (feed_start's count).
 * The thread makes a batch when to_make > 0 and slot make_at is FREE, with
 * mu released, from the streams the last batch left (r_traj, r_noise).
 */
#include "task/feed.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One batch into s from the streams rt and rn (advanced past it), codes
 * from the cells pc: trajectories, noise (sigma > 0), p0 (B, D) and
 * target (B, T, D).  The same arithmetic as train.c's evaluation batches. */
static void make_batch(FeedBatch *s, const Feed *f, const PlaceCells *pc, Rng *rt, Rng *rn)
{
    int B = f->B, T = f->T, D = place_dim(pc);
    traj_generate(&s->tb, f->arena, f->cfg, rt);
    if (f->sigma > 0) rng_normal_fill(rn, s->noise, (size_t)B * T * f->N, (float)f->sigma);
    for (int b = 0; b < B; b++)
        place_encode(pc, s->tb.pos + ((size_t)b * (T + 1) + 1) * 2, (size_t)T, s->target + (size_t)b * T * D);
    feed_encode_starts(pc, &s->tb, s->start, s->p0);
    s->r_traj = *rt;
    s->r_noise = *rn;
}

static void *feed_main(void *arg)
{
    Feed *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->quit && !(f->to_make > 0 && f->state[f->make_at] == FEED_FREE)) pthread_cond_wait(&f->cv, &f->mu);
        if (f->quit) break;
        int k = f->make_at;
        Rng rt = f->r_traj, rn = f->r_noise;
        f->state[k] = FEED_BUSY;
        f->to_make--;
        pthread_mutex_unlock(&f->mu);
        double c0 = thread_cpu_s();
        make_batch(&f->slot[k], f, f->pc, &rt, &rn);
        double c = thread_cpu_s() - c0;
        pthread_mutex_lock(&f->mu);
        f->cpu_s += c;
        f->r_traj = rt;
        f->r_noise = rn;
        f->state[k] = FEED_READY;
        f->make_at = k ^ 1;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

int feed_alloc(Feed *f, const TaskConfig *cfg, const Arena *a, const PlaceCells *pc, int B, int T, int N,
               float *noise, int threaded)
{
    memset(f, 0, sizeof *f);
    f->B = B;
    f->T = T;
    f->N = N;
    f->sigma = cfg->noise;
    f->cfg = cfg;
    f->arena = a;
    f->pc = pc;
    f->in_use = -1;
    if (threaded) {
        if (place_copy(&f->own_pc, pc) != 0) goto fail;
        f->pc = &f->own_pc;
        f->noise_owned = 1;
    }
    size_t D = (size_t)place_dim(pc), BT = (size_t)B * (size_t)T;
    for (int k = 0; k < (threaded ? 2 : 1); k++) {
        FeedBatch *s = &f->slot[k];
        if (traj_alloc(&s->tb, B, T) != 0) goto fail;
        s->target = malloc(BT * D * sizeof *s->target);
        s->p0 = malloc((size_t)B * D * sizeof *s->p0);
        s->start = malloc((size_t)B * 2 * sizeof *s->start);
        if (!s->target || !s->p0 || !s->start) goto fail;
        if (f->sigma > 0) {
            s->noise = f->noise_owned ? malloc(BT * (size_t)N * sizeof *s->noise) : noise;
            if (!s->noise) goto fail;
        }
    }
    if (threaded) {
        if (pthread_mutex_init(&f->mu, NULL) != 0) goto fail;
        if (pthread_cond_init(&f->cv, NULL) != 0) {
            pthread_mutex_destroy(&f->mu);
            goto fail;
        }
        /* the thread takes no signals: the caller's thread handles them */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        int rc = pthread_create(&f->th, NULL, feed_main, f);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (rc != 0) {
            pthread_cond_destroy(&f->cv);
            pthread_mutex_destroy(&f->mu);
            goto fail;
        }
        f->started = 1;
    }
    return 0;
fail:
    feed_free(f); /* started is 0: mu and cv are not touched */
    return -1;
}

void feed_free(Feed *f)
{
    if (f->started) {
        pthread_mutex_lock(&f->mu);
        f->quit = 1;
        pthread_cond_broadcast(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->th, NULL);
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->mu);
    }
    for (int k = 0; k < 2; k++) {
        FeedBatch *s = &f->slot[k];
        traj_free(&s->tb);
        free(s->target);
        free(s->p0);
        free(s->start);
        if (f->noise_owned) free(s->noise);
    }
    place_free(&f->own_pc);
    memset(f, 0, sizeof *f);
}

void feed_start(Feed *f, const Rng *r_traj, const Rng *r_noise, long count)
{
    if (!f->started) {
        f->r_traj = *r_traj;
        f->r_noise = *r_noise;
        f->to_make = count;
        return;
    }
    pthread_mutex_lock(&f->mu);
    while (f->state[0] == FEED_BUSY || f->state[1] == FEED_BUSY) pthread_cond_wait(&f->cv, &f->mu);
    f->state[0] = f->state[1] = FEED_FREE;
    f->make_at = f->take_at = 0;
    f->in_use = -1;
    f->r_traj = *r_traj;
    f->r_noise = *r_noise;
    f->to_make = count;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

const FeedBatch *feed_next(Feed *f)
{
    if (!f->started) {
        if (f->to_make <= 0) return NULL;
        f->to_make--;
        make_batch(&f->slot[0], f, f->pc, &f->r_traj, &f->r_noise);
        return &f->slot[0];
    }
    pthread_mutex_lock(&f->mu);
    if (f->in_use >= 0) {
        f->state[f->in_use] = FEED_FREE;
        f->in_use = -1;
        pthread_cond_broadcast(&f->cv);
    }
    int k = f->take_at;
    while (f->state[k] != FEED_READY) {
        if (f->state[k] == FEED_FREE && f->to_make <= 0) {
            pthread_mutex_unlock(&f->mu);
            return NULL;
        }
        pthread_cond_wait(&f->cv, &f->mu);
    }
    f->state[k] = FEED_IN_USE;
    f->in_use = k;
    f->take_at = k ^ 1;
    pthread_mutex_unlock(&f->mu);
    return &f->slot[k];
}

double feed_thread_cpu_s(Feed *f)
{
    if (!f->started) return 0.0;
    pthread_mutex_lock(&f->mu);
    double c = f->cpu_s;
    pthread_mutex_unlock(&f->mu);
    return c;
}

void feed_encode_starts(const PlaceCells *pc, const TrajBatch *tb, float *start, float *p0)
{
    for (int b = 0; b < tb->B; b++) {
        const float *p = tb->pos + (size_t)b * (tb->T + 1) * 2;
        start[2 * b] = p[0];
        start[2 * b + 1] = p[1];
    }
    place_encode(pc, start, (size_t)tb->B, p0);
}
