/* simd.h -- the two builds of the model's element-wise code and which one
 * runs.
 *
 * The element-wise kernels of the float network (model/rnn.c: the cell
 * step, the loss, the per-row backward), the place-cell codes
 * (model/place.c) and the hidden noise's Box-Muller blocks (model/rng.c)
 * are compiled twice on x86-64 with GCC: for the baseline (SSE2) and,
 * with SIMD_FMA, for AVX2 + FMA.  All give the same bits on both builds
 * (element-wise loops or sums into fixed lanes, -ffp-contract=off, and
 * the only fused operations are the fmaf of model/fastexp.h, rounded once
 * on either build; tests/test_fastmath.c, tests/test_place.c and
 * tests/test_rng.c compare them).  One switch, simd_fma_, says which
 * build the modules run: set
 * from the CPU before main, changed only by simd_select.
 *
 * Elsewhere (another compiler or architecture) there is one build and
 * simd_fma_ is 0. */
#ifndef SWEEP_SIMD_H
#define SWEEP_SIMD_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SIMD_HAVE_FMA_BUILD 1
#define SIMD_FMA __attribute__((target("avx2,fma")))
#else
#define SIMD_HAVE_FMA_BUILD 0
#define SIMD_FMA
#endif

/* 1: the AVX2 + FMA build runs; 0: the baseline.  Read by the modules'
 * dispatch; written only by simd_select (and the load-time choice). */
extern int simd_fma_;

/* 1 if this CPU can run the AVX2 + FMA build (0 where there is none). */
int simd_cpu_fma(void);

/* simd_select(-1) returns which build runs (1 AVX2 + FMA, 0 baseline);
 * 0 forces the baseline, 1 the AVX2 + FMA build if the CPU has it (the
 * tests run both).  Not thread-safe against networks or encodes running
 * at the same time. */
int simd_select(int set);

#endif
