#!/usr/bin/env python3
"""A model of kernels/simd.wat in plain Python (f32 rounding through struct), for the
reference result in src/lib.rs: `python3 benches/kernels/simd.py 1 2 3` prints n, the sum
of the dot products, the 16 bucket counts and run(n) for each n. Slow: keep n small."""
import struct, sys
def f32(x): return struct.unpack('f', struct.pack('f', x))[0]
def run(n):
    six = n if 0 <= n < 16 else 16
    nf = six*65536//4; nb = six*16384
    a = [f32((((7*i) & 63) - 32) * 0.0625) for i in range(nf)]
    b = [f32((((13*i) & 31) - 16) * 0.125) for i in range(nf)]
    mem = bytearray(nb if nb else 4)
    x = 12345
    for p in range(0, max(nb,4), 4):
        x = (x*1103515245 + 12345) & 0xffffffff
        r = ((x << 16) | (x >> 16)) & 0xffffffff
        mem[p:p+4] = struct.pack('<I', r)
    counts = [0]*16
    dots = 0
    s = f32(1/256)
    for _ in range(n):
        acc = [[0.0]*4, [0.0]*4]
        for i in range(0, nf, 8):
            for half in range(2):
                for l in range(4):
                    j = i + 4*half + l
                    acc[half][l] = f32(acc[half][l] + f32(a[j]*b[j]))
                    a[j] = f32(a[j] + f32(b[j]*s))
        v = [f32(acc[0][l] + acc[1][l]) for l in range(4)]
        v = [f32(v[l] + v[(l+2) % 4]) for l in range(4)]
        d = f32(f32(v[0] + v[1]) * 256)
        dots += int(d)  # trunc toward zero (values are small)
        for p in range(0, nb, 16):
            blk = list(mem[p:p+16])
            blk = [c ^ (c >> 3) for c in blk]
            blk = [(blk[(k+1) % 16] + blk[k] + 0x5b) & 255 for k in range(16)]
            mem[p:p+16] = bytes(blk)
            for c in blk: counts[c >> 4] += 1
    hist = sum((k+1)*c for k, c in enumerate(counts))
    r = (dots*1000003 + hist) & (2**64-1)
    if r >= 2**63: r -= 2**64
    print(n, dots, counts, r)
for n in map(int, sys.argv[1:]):
    run(n)
