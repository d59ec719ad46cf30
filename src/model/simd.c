/* simd.c -- which build of the element-wise code runs (simd.h). */
#include "model/simd.h"

int simd_fma_ = 0;

int simd_cpu_fma(void)
{
#if SIMD_HAVE_FMA_BUILD
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
#else
    return 0;
#endif
}

/* chosen before main (no race between threads that use the kernels) */
__attribute__((constructor)) static void simd_init_(void) { simd_fma_ = simd_cpu_fma(); }

int simd_select(int set)
{
    if (set == 0) simd_fma_ = 0;
    if (set > 0) simd_fma_ = simd_cpu_fma();
    return simd_fma_;
}
