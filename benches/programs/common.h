/* Freestanding helpers shared by the benchmark programs: no libc on wasm32. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int i32;
typedef unsigned long usize;

#ifdef __wasm__
#define EXPORT(name) __attribute__((export_name(name)))

/* clang lowers struct copies and zeroing to these calls, so they must exist. */
void *memcpy(void *dst, const void *src, usize n) {
    u8 *d = dst;
    const u8 *s = src;
    while (n--) *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, usize n) {
    u8 *d = dst;
    while (n--) *d++ = (u8)c;
    return dst;
}
#else
/* A native build (for reference results and the native-C baseline) links libc. */
#define EXPORT(name)
#endif

/* xorshift32: deterministic input data, the same on every engine. */
static u32 rng_state = 2463534242u;
static u32 rng(void) {
    u32 x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

#endif
