;; Fixed-width SIMD (v128) the way vectorised code uses it; n rounds of:
;; - an f32x4 dot product of two f32 arrays of 256Ki elements (1 MiB each), fused with an
;;   axpy update a += b/256 so that every round sees new data (v128.load/store,
;;   f32x4.mul/add, two accumulators, a shuffle for the horizontal sum);
;; - a pass over 256 KiB of bytes that scrambles each 16-byte block in place (i8x16
;;   shifts, xor, add, swizzle) and counts a 16-bucket histogram of the blocks' high
;;   nibbles in i8x16 counters (i8x16.eq/sub), widened into i32x4 totals every 128 blocks
;;   (extadd_pairwise).
;; For n < 16 the arrays are n/16 of those sizes (so that tests can run a short round).
;; Returns sum over rounds of trunc(256 * dot) times 1000003, plus sum over buckets k of
;; (k + 1) * count_k.
(module
  (memory 37)  ;; a at 0, b at 1 MiB, bytes at 2 MiB (256 KiB), 16 i32x4 totals after them

  ;; a[i] = ((7i & 63) - 32) / 16, b[i] = ((13i & 31) - 16) / 8 for the first $floats
  ;; bytes of each, four lanes at a time; the first $bytes bytes from an LCG; totals zeroed.
  (func $init (param $floats i32) (param $bytes i32)
    (local $p i32) (local $idx v128) (local $x i32)
    (local.set $idx (v128.const i32x4 0 1 2 3))
    (loop $float_init
      (v128.store (local.get $p)
        (f32x4.mul
          (f32x4.convert_i32x4_s
            (i32x4.sub
              (v128.and (i32x4.mul (local.get $idx) (i32x4.splat (i32.const 7)))
                        (i32x4.splat (i32.const 63)))
              (i32x4.splat (i32.const 32))))
          (f32x4.splat (f32.const 0.0625))))
      (v128.store offset=1048576 (local.get $p)
        (f32x4.mul
          (f32x4.convert_i32x4_s
            (i32x4.sub
              (v128.and (i32x4.mul (local.get $idx) (i32x4.splat (i32.const 13)))
                        (i32x4.splat (i32.const 31)))
              (i32x4.splat (i32.const 16))))
          (f32x4.splat (f32.const 0.125))))
      (local.set $idx (i32x4.add (local.get $idx) (i32x4.splat (i32.const 4))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br_if $float_init (i32.lt_u (local.get $p) (local.get $floats))))
    (local.set $p (i32.const 0x200000))
    (local.set $x (i32.const 12345))
    (loop $byte_init
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
      (i32.store (local.get $p) (i32.rotl (local.get $x) (i32.const 16)))
      (local.set $p (i32.add (local.get $p) (i32.const 4)))
      (br_if $byte_init (i32.lt_u (local.get $p) (i32.add (i32.const 0x200000) (local.get $bytes)))))
    (memory.fill (i32.const 0x240000) (i32.const 0) (i32.const 256)))

  ;; Returns the sum of a[i] * b[i] over the first $floats bytes, and sets a[i] += b[i] / 256.
  (func $dot_axpy (param $floats i32) (result f32)
    (local $p i32) (local $acc0 v128) (local $acc1 v128) (local $a v128) (local $b v128)
    (loop $l
      (local.set $a (v128.load (local.get $p)))
      (local.set $b (v128.load offset=1048576 (local.get $p)))
      (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul (local.get $a) (local.get $b))))
      (v128.store (local.get $p)
        (f32x4.add (local.get $a) (f32x4.mul (local.get $b) (f32x4.splat (f32.const 0.00390625)))))
      (local.set $a (v128.load offset=16 (local.get $p)))
      (local.set $b (v128.load offset=1048592 (local.get $p)))
      (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul (local.get $a) (local.get $b))))
      (v128.store offset=16 (local.get $p)
        (f32x4.add (local.get $a) (f32x4.mul (local.get $b) (f32x4.splat (f32.const 0.00390625)))))
      (local.set $p (i32.add (local.get $p) (i32.const 32)))
      (br_if $l (i32.lt_u (local.get $p) (local.get $floats))))
    ;; Horizontal sum: the high half onto the low half, then lanes 0 and 1.
    (local.set $acc0 (f32x4.add (local.get $acc0) (local.get $acc1)))
    (local.set $acc0
      (f32x4.add (local.get $acc0)
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $acc0) (local.get $acc0))))
    (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0))))

  ;; Adds the 16 byte counts of $c to the i32x4 total of bucket $k.
  (func $flush (param $k i32) (param $c v128)
    (local $at i32)
    (local.set $at (i32.add (i32.const 0x240000) (i32.shl (local.get $k) (i32.const 4))))
    (v128.store (local.get $at)
      (i32x4.add (v128.load (local.get $at))
        (i32x4.extadd_pairwise_i16x8_u (i16x8.extadd_pairwise_i8x16_u (local.get $c))))))

  ;; Scrambles and counts the 128 blocks (2 KiB) from $p, in 16 i8x16 counters (one per
  ;; high-nibble value; a lane counts at most 128, so u8 does not overflow).
  (func $bytes128 (param $p i32)
    (local $v v128) (local $h v128)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128)
    (local $c4 v128) (local $c5 v128) (local $c6 v128) (local $c7 v128)
    (local $c8 v128) (local $c9 v128) (local $c10 v128) (local $c11 v128)
    (local $c12 v128) (local $c13 v128) (local $c14 v128) (local $c15 v128)
    (loop $l
      (local.set $v (v128.load (local.get $p)))
      ;; v ^= v >> 3 (per byte); v = rotate_lanes(v) + v + 0x5b
      (local.set $v (v128.xor (local.get $v) (i8x16.shr_u (local.get $v) (i32.const 3))))
      (local.set $v
        (i8x16.add
          (i8x16.swizzle (local.get $v) (v128.const i8x16 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0))
          (i8x16.add (local.get $v) (i8x16.splat (i32.const 0x5b)))))
      (v128.store (local.get $p) (local.get $v))
      (local.set $h (i8x16.shr_u (local.get $v) (i32.const 4)))
      ;; eq gives -1 in the lanes that match: subtracting it counts them.
      (local.set $c0 (i8x16.sub (local.get $c0) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 0)))))
      (local.set $c1 (i8x16.sub (local.get $c1) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 1)))))
      (local.set $c2 (i8x16.sub (local.get $c2) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 2)))))
      (local.set $c3 (i8x16.sub (local.get $c3) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 3)))))
      (local.set $c4 (i8x16.sub (local.get $c4) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 4)))))
      (local.set $c5 (i8x16.sub (local.get $c5) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 5)))))
      (local.set $c6 (i8x16.sub (local.get $c6) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 6)))))
      (local.set $c7 (i8x16.sub (local.get $c7) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 7)))))
      (local.set $c8 (i8x16.sub (local.get $c8) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 8)))))
      (local.set $c9 (i8x16.sub (local.get $c9) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 9)))))
      (local.set $c10 (i8x16.sub (local.get $c10) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 10)))))
      (local.set $c11 (i8x16.sub (local.get $c11) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 11)))))
      (local.set $c12 (i8x16.sub (local.get $c12) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 12)))))
      (local.set $c13 (i8x16.sub (local.get $c13) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 13)))))
      (local.set $c14 (i8x16.sub (local.get $c14) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 14)))))
      (local.set $c15 (i8x16.sub (local.get $c15) (i8x16.eq (local.get $h) (i8x16.splat (i32.const 15)))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      ;; until $p is a multiple of 2 KiB
      (br_if $l (i32.and (local.get $p) (i32.const 0x7f0))))
    (call $flush (i32.const 0) (local.get $c0))
    (call $flush (i32.const 1) (local.get $c1))
    (call $flush (i32.const 2) (local.get $c2))
    (call $flush (i32.const 3) (local.get $c3))
    (call $flush (i32.const 4) (local.get $c4))
    (call $flush (i32.const 5) (local.get $c5))
    (call $flush (i32.const 6) (local.get $c6))
    (call $flush (i32.const 7) (local.get $c7))
    (call $flush (i32.const 8) (local.get $c8))
    (call $flush (i32.const 9) (local.get $c9))
    (call $flush (i32.const 10) (local.get $c10))
    (call $flush (i32.const 11) (local.get $c11))
    (call $flush (i32.const 12) (local.get $c12))
    (call $flush (i32.const 13) (local.get $c13))
    (call $flush (i32.const 14) (local.get $c14))
    (call $flush (i32.const 15) (local.get $c15)))

  (func (export "run") (param $n i32) (result i64)
    (local $round i32) (local $p i32) (local $dots i64) (local $hist i64) (local $t v128)
    (local $sixteenths i32) (local $floats i32) (local $bytes i32)
    (local.set $sixteenths
      (select (local.get $n) (i32.const 16) (i32.lt_u (local.get $n) (i32.const 16))))
    (local.set $floats (i32.mul (local.get $sixteenths) (i32.const 65536)))
    (local.set $bytes (i32.mul (local.get $sixteenths) (i32.const 16384)))
    (call $init (local.get $floats) (local.get $bytes))
    (block $done
      (loop $rounds
        (br_if $done (i32.ge_s (local.get $round) (local.get $n)))
        (local.set $dots
          (i64.add (local.get $dots)
            (i64.trunc_sat_f32_s (f32.mul (call $dot_axpy (local.get $floats)) (f32.const 256)))))
        (local.set $p (i32.const 0x200000))
        (loop $blocks
          (call $bytes128 (local.get $p))
          (local.set $p (i32.add (local.get $p) (i32.const 2048)))
          (br_if $blocks (i32.lt_u (local.get $p) (i32.add (i32.const 0x200000) (local.get $bytes)))))
        (local.set $round (i32.add (local.get $round) (i32.const 1)))
        (br $rounds)))
    ;; hist = sum over buckets k of (k + 1) * (sum of the 4 lanes of total k)
    (local.set $p (i32.const 0))
    (loop $buckets
      (local.set $t (v128.load offset=0x240000 (i32.shl (local.get $p) (i32.const 4))))
      (local.set $hist
        (i64.add (local.get $hist)
          (i64.mul (i64.extend_i32_u (i32.add (local.get $p) (i32.const 1)))
            (i64.extend_i32_u
              (i32.add
                (i32.add (i32x4.extract_lane 0 (local.get $t)) (i32x4.extract_lane 1 (local.get $t)))
                (i32.add (i32x4.extract_lane 2 (local.get $t)) (i32x4.extract_lane 3 (local.get $t))))))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $buckets (i32.lt_u (local.get $p) (i32.const 16))))
    (i64.add (i64.mul (local.get $dots) (i64.const 1000003)) (local.get $hist))))
