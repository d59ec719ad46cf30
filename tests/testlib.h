/* testlib.h -- a minimal test harness for the C unit tests.
 *
 * TEST_CHECK(cond, fmt, ...) records a failure (with file and line) and
 * goes on; TEST_CLOSE(a, b, atol, rtol) checks |a-b| <= atol + rtol*|b|.
 * test_summary() prints "NAME: N passed, N failed" and returns the exit
 * status: non-zero if anything failed, and also if no check ran at all (a
 * test that checked nothing proves nothing; tests/t_harness.sh checks
 * this).  Header-only; one test program per file.
 */
#ifndef SWEEP_TESTLIB_H
#define SWEEP_TESTLIB_H

#include <math.h>
#include <stdio.h>

static int test_passed_, test_failed_;

#define TEST_CHECK(cond, ...)                                                  \
    do {                                                                       \
        if (cond) {                                                            \
            test_passed_++;                                                    \
        } else {                                                               \
            test_failed_++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);    \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
        }                                                                      \
    } while (0)

#define TEST_CLOSE(a, b, atol, rtol)                                           \
    do {                                                                       \
        double ta_ = (double)(a), tb_ = (double)(b);                           \
        TEST_CHECK(fabs(ta_ - tb_) <= (atol) + (rtol) * fabs(tb_),             \
                   "%s = %.9g, %s = %.9g", #a, ta_, #b, tb_);                  \
    } while (0)

static inline int test_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, test_passed_, test_failed_);
    if (test_passed_ + test_failed_ == 0) {
        fprintf(stderr, "FAIL %s: no check was made\n", name);
        return 1;
    }
    return test_failed_ ? 1 : 0;
}

#endif
