/* A small LZ77-style compressor (hash-chain-free, one candidate per hash) and its
   decompressor: byte loads and stores, hashing, branches. run(n) compresses n * 64 KiB
   of generated text, decompresses it, checks the round trip and returns the
   compressed size. */
#include "common.h"

#define MAX_IN (4 << 20)
#define HASH_BITS 14
static u8 input[MAX_IN];
static u8 packed[MAX_IN + MAX_IN / 8 + 16];
static u8 unpacked[MAX_IN];
static u32 table[1 << HASH_BITS];

static const char *words[16] = {"the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ",
                                "dog ", "wasm ", "runtime ", "engine ", "native ", "interp ",
                                "bench ", "table ", "memory "};

static usize generate(usize len) {
    usize n = 0;
    while (n < len) {
        const char *w = words[rng() & 15];
        while (*w && n < len) input[n++] = (u8)*w++;
        if ((rng() & 7) == 0 && n < len) input[n++] = (u8)('A' + rng() % 26);
    }
    return n;
}

static u32 hash4(const u8 *p) {
    u32 v = (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* Format: a token byte; high bit clear = literal run of (token + 1) bytes; set =
   match of length (token & 0x7f) + 4 at a 16-bit distance that follows. */
static usize compress(usize len) {
    usize ip = 0, op = 0, lit_start = 0;
    for (usize i = 0; i < (1u << HASH_BITS); i++) table[i] = 0;
    while (ip + 4 <= len) {
        u32 h = hash4(input + ip);
        usize cand = table[h];
        table[h] = (u32)ip;
        usize dist = ip - cand;
        if (cand < ip && dist < 65536 && input[cand] == input[ip] && input[cand + 1] == input[ip + 1] &&
            input[cand + 2] == input[ip + 2] && input[cand + 3] == input[ip + 3]) {
            while (lit_start < ip) {
                usize run = ip - lit_start > 128 ? 128 : ip - lit_start;
                packed[op++] = (u8)(run - 1);
                for (usize k = 0; k < run; k++) packed[op++] = input[lit_start + k];
                lit_start += run;
            }
            usize m = 4;
            while (ip + m < len && m < 131 && input[cand + m] == input[ip + m]) m++;
            packed[op++] = (u8)(0x80 | (m - 4));
            packed[op++] = (u8)dist;
            packed[op++] = (u8)(dist >> 8);
            ip += m;
            lit_start = ip;
        } else {
            ip++;
        }
    }
    while (lit_start < len) {
        usize run = len - lit_start > 128 ? 128 : len - lit_start;
        packed[op++] = (u8)(run - 1);
        for (usize k = 0; k < run; k++) packed[op++] = input[lit_start + k];
        lit_start += run;
    }
    return op;
}

static usize decompress(usize plen) {
    usize ip = 0, op = 0;
    while (ip < plen) {
        u8 t = packed[ip++];
        if (t & 0x80) {
            usize m = (usize)(t & 0x7f) + 4;
            usize dist = (usize)packed[ip] | (usize)packed[ip + 1] << 8;
            ip += 2;
            for (usize k = 0; k < m; k++, op++) unpacked[op] = unpacked[op - dist];
        } else {
            for (usize k = 0; k <= t; k++) unpacked[op++] = packed[ip++];
        }
    }
    return op;
}

EXPORT("run") u32 run(u32 blocks) {
    usize len = (usize)blocks << 16;
    if (len > MAX_IN) len = MAX_IN;
    rng_state = 2463534242u;
    len = generate(len);
    usize plen = compress(len);
    if (decompress(plen) != len) return 0xFFFFFFFFu;
    for (usize i = 0; i < len; i++)
        if (unpacked[i] != input[i]) return 0xFFFFFFFEu;
    return (u32)plen;
}
