/* noisedraw.c -- hidden noise drawn one step at a time (noisedraw.h).
 *
 * Legend: B trajectories, T steps, N units, K = RNG_NORMAL_BLOCK.
 * Output o of the fill (o = (b T + t - 1) N + n for row (b, t), unit n)
 * is element o mod K of block o / K, and block k is made from the K / 2
 * words of the stream that start at word k K / 2.
 */
#include "model/noisedraw.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

enum { K = RNG_NORMAL_BLOCK };

int noisedraw_alloc(NoiseDraw *d, int Bmax, int N)
{
    memset(d, 0, sizeof *d);
    if (Bmax < 1 || N < 1)
        return -1;
    d->Bmax = Bmax;
    d->N = N;
    d->st = malloc((size_t)Bmax * sizeof *d->st);
    d->held = malloc((size_t)Bmax * sizeof *d->held);
    d->blk = malloc((size_t)Bmax * K * sizeof *d->blk);
    if (!d->st || !d->held || !d->blk) {
        noisedraw_free(d);
        return -1;
    }
    return 0;
}

void noisedraw_free(NoiseDraw *d)
{
    free(d->st);
    free(d->held);
    free(d->blk);
    memset(d, 0, sizeof *d);
}

void noisedraw_start(NoiseDraw *d, Rng *r, int B, int T, float sigma)
{
    assert(B >= 1 && B <= d->Bmax && T >= 1);
    const size_t TN = (size_t)T * (size_t)d->N, total = (size_t)B * TN;
    d->B = B;
    d->T = T;
    d->sigma = sigma;
    /* one walk through the stream: trajectory b's first row is in block
     * b T N / K; the fill ends after ceil(B T N / K) whole blocks */
    Rng cur = *r;
    size_t word = 0;
    for (int b = 0; b < B; b++) {
        const size_t k = (size_t)b * TN / K;
        rng_skip(&cur, k * (K / 2) - word);
        word = k * (K / 2);
        d->st[b] = cur;
        d->held[b] = k - 1; /* st[b] makes block k next (k - 1 wraps to SIZE_MAX at k = 0) */
    }
    const size_t end = (total + K - 1) / K * (K / 2);
    rng_skip(&cur, end - word);
    *r = cur;
}

void noisedraw_step(NoiseDraw *d, int t, float *xi)
{
    assert(t >= 1 && t <= d->T);
    const size_t N = (size_t)d->N, T = (size_t)d->T;
    for (int b = 0; b < d->B; b++) {
        float *blk = d->blk + (size_t)b * K, *dst = xi + (size_t)b * N;
        size_t o = ((size_t)b * T + (size_t)(t - 1)) * N;
        const size_t end = o + N;
        while (o < end) {
            const size_t k = o / K;
            if (d->held[b] != k) {
                /* a trajectory's rows are consecutive outputs and come in
                 * increasing t, so the block it needs next is the one st[b]
                 * makes next */
                assert(k == d->held[b] + 1);
                rng_normal_block(&d->st[b], blk, d->sigma);
                d->held[b] = k;
            }
            const size_t off = o - k * K, n = end - o < K - off ? end - o : K - off;
            memcpy(dst, blk + off, n * sizeof *dst);
            dst += n;
            o += n;
        }
    }
}
