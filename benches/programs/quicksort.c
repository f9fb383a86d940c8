/* Quicksort of generated integers with the comparator called through a function
   pointer (call_indirect in wasm). run(n) sorts n thousand numbers, checks the order
   and returns a checksum. */
#include "common.h"

#define MAX_N (1 << 20)
static i32 values[MAX_N];

typedef int (*cmp_fn)(const i32 *, const i32 *);

static int ascending(const i32 *a, const i32 *b) { return (*a > *b) - (*a < *b); }
static int descending(const i32 *a, const i32 *b) { return (*b > *a) - (*b < *a); }

static void swap(i32 *a, i32 *b) { i32 t = *a; *a = *b; *b = t; }

static void sort(i32 *v, int lo, int hi, cmp_fn cmp) {
    while (lo < hi) {
        i32 pivot = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (cmp(&v[i], &pivot) < 0) i++;
            while (cmp(&v[j], &pivot) > 0) j--;
            if (i <= j) { swap(&v[i], &v[j]); i++; j--; }
        }
        /* Recurse into the smaller half to bound the stack. */
        if (j - lo < hi - i) { sort(v, lo, j, cmp); lo = i; }
        else { sort(v, i, hi, cmp); hi = j; }
    }
}

/* volatile so the compiler cannot turn the indirect call into a direct one. */
static cmp_fn volatile comparators[2] = {ascending, descending};

EXPORT("run") u32 run(u32 thousands) {
    int n = (int)thousands * 1000;
    if (n > MAX_N) n = MAX_N;
    rng_state = 2463534242u;
    for (int i = 0; i < n; i++) values[i] = (i32)(rng() % 1000000);
    u32 sum = 0;
    for (int pass = 0; pass < 2; pass++) {
        cmp_fn cmp = comparators[pass];
        sort(values, 0, n - 1, cmp);
        for (int i = 1; i < n; i++)
            if (cmp(&values[i - 1], &values[i]) > 0) return 0xFFFFFFFFu;
        for (int i = 0; i < n; i += 97) sum = sum * 31 + (u32)values[i];
    }
    return sum;
}
