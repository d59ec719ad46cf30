/* feed.h -- the training batches of a task, made in line or one step ahead
 * by a second thread.
 *
 * Legend: B batch, T training steps, N hidden, D code width (place_dim).
 *
 * A batch is what one training step consumes (docs/model-training.md):
 *   trajectories  traj_generate from the RNG_TRAIN_TRAJ stream
 *   noise         sigma * xi from the RNG_TRAIN_NOISE stream (nothing
 *                 drawn when sigma == 0)
 *   codes         p0 of the start positions, target of pos 1..T
 * Batch k of a task depends only on the two streams after batch k - 1, so
 * making batch k + 1 while step k runs changes no number: the batches, and
 * so every result, are the same bit for bit with and without the thread
 * (tests/test_feed.c, tests/t_data_thread.sh).
 *
 * In line (threaded = 0), feed_next makes the batch when asked.  With the
 * thread (threaded = 1), a second thread makes the next batch into the
 * other of two slots while the caller uses the current one, at most one
 * batch ahead and never past the last batch asked for (feed_start's count).
 * The thread uses its own copy of the place cells (their scratch is not
 * shared) and touches nothing else of the caller's: arena and settings are
 * read only.  It calls no BLAS.
 *
 * Ownership: feed_alloc allocates the slots (and the thread's place cells);
 * feed_free stops the thread and releases them.  In line, the one slot's
 * noise is the caller's buffer `noise` (borrowed, at least B T N floats):
 * the caller may use it between batches, as train.c's evaluation does.
 * With the thread, both slots own their noise.  A FeedBatch returned by
 * feed_next stays valid, unchanged, until the next feed_next, feed_start
 * or feed_free.  A Feed is driven by one thread (the caller's). */
#ifndef SWEEP_FEED_H
#define SWEEP_FEED_H

#include <pthread.h>

#include "base/config.h"
#include "model/arena.h"
#include "model/place.h"
#include "model/rng.h"
#include "model/traj.h"

typedef struct FeedBatch {
    TrajBatch tb;          /* (B, T) trajectories */
    float *target;         /* (B, T, D) codes of pos[b][1..T] */
    float *p0;             /* (B, D) codes of the start positions */
    float *start;          /* (B, 2) the start positions, gathered */
    float *noise;          /* (B T, N) sigma * xi; feed_next hands out NULL when sigma == 0 */
    Rng r_traj, r_noise;   /* the two streams after this batch */
} FeedBatch;

enum { FEED_FREE = 0, FEED_BUSY, FEED_READY, FEED_IN_USE };

typedef struct Feed {
    int B, T, N;
    double sigma;          /* cfg->noise */
    const TaskConfig *cfg; /* borrowed, read only */
    const Arena *arena;    /* borrowed, read only */
    const PlaceCells *pc;  /* the codes' cells: the caller's (in line) or own_pc */
    PlaceCells own_pc;     /* the thread's copy (threaded) */
    FeedBatch slot[2];     /* slot 0 in line; 0 and 1 with the thread */
    int noise_owned;       /* slot noise allocated here (threaded) */
    /* the streams where the next batch to make starts */
    Rng r_traj, r_noise;
    /* thread state, under mu */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int started;           /* the thread exists (threaded, once feed_alloc succeeded) */
    int quit;
    int state[2];          /* FEED_FREE .. FEED_IN_USE */
    long to_make;          /* batches the thread may still make (feed_start's count, minus made) */
    int make_at;           /* slot the thread fills next */
    int take_at;           /* slot feed_next hands out next */
    int in_use;            /* slot handed out last, or -1 */
    long epoch;            /* bumped by feed_start: a batch made for an older start is dropped */
    double cpu_s;          /* CPU seconds the thread spent making batches */
} Feed;

/* Set up for batches of B trajectories of T steps, hidden width N, the
 * noise level and codes of cfg.  noise (B T N floats) is the caller's
 * buffer the in-line slot borrows; with threaded, the thread is started.
 * Returns 0, or -1 (out of memory, or the thread could not start; nothing
 * left allocated). */
int feed_alloc(Feed *f, const TaskConfig *cfg, const Arena *a, const PlaceCells *pc, int B, int T, int N,
               float *noise, int threaded);

/* Stop the thread (waiting for a batch it is making) and release
 * everything; safe on a zeroed or already-freed Feed. */
void feed_free(Feed *f);

/* Begin (again) from the streams r_traj, r_noise: the next feed_next
 * returns the batch these streams make, and at most count batches are made
 * (the thread starts on the first at once).  A batch made ahead for an
 * earlier start is dropped. */
void feed_start(Feed *f, const Rng *r_traj, const Rng *r_noise, long count);

/* The next batch (made now, or waited for).  Releases the batch handed out
 * before; the thread starts on the one after.  Returns NULL when the count
 * of feed_start is used up. */
const FeedBatch *feed_next(Feed *f);

/* CPU seconds the thread has spent making batches (0 in line). */
double feed_thread_cpu_s(Feed *f);

/* The start codes of batch tb: start (B, 2) = pos[b][0] gathered, p0
 * (B, D) = their codes from pc.  Training batches (feed_next) and
 * train.c's evaluation batches both make them here. */
void feed_encode_starts(const PlaceCells *pc, const TrajBatch *tb, float *start, float *p0);

#endif
