/* sha256.h -- SHA-256 (FIPS 180-4), used to hash the canonical form of a
 * sweep spec (spec.c).  Written for this project; checked against the
 * FIPS 180-4 example vectors in tests/test_spec.c. */
#ifndef SWEEP_SHA256_H
#define SWEEP_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256 {
    uint32_t h[8];        /* chaining state */
    uint64_t n_bytes;     /* message length so far */
    unsigned char buf[64];/* pending partial block */
    size_t n_buf;         /* bytes used in buf */
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t len);
void sha256_final(Sha256 *s, unsigned char digest[32]);

/* One-shot: hex digest (64 lowercase hex digits + NUL) of data. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
