;; f64 matrix multiply C = A * B of n x n matrices (n <= 256): float arithmetic and
;; strided loads. Returns the trace of C truncated to i64.
(module
  (memory 25)  ;; 3 matrices of 256*256 f64 = 1.5 MiB
  (func $init (param $n i32)
    (local $i i32) (local $total i32)
    (local.set $total (i32.mul (local.get $n) (local.get $n)))
    (loop $l
      (f64.store (i32.shl (local.get $i) (i32.const 3))
        (f64.convert_i32_u (i32.rem_u (local.get $i) (i32.const 17))))
      (f64.store (i32.add (i32.const 524288) (i32.shl (local.get $i) (i32.const 3)))
        (f64.div (f64.convert_i32_u (i32.rem_u (local.get $i) (i32.const 13))) (f64.const 7)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $total)))))
  (func (export "run") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $k i32) (local $sum f64) (local $trace f64)
    (if (i32.gt_u (local.get $n) (i32.const 256)) (then (local.set $n (i32.const 256))))
    (call $init (local.get $n))
    (loop $li
      (local.set $j (i32.const 0))
      (loop $lj
        (local.set $sum (f64.const 0))
        (local.set $k (i32.const 0))
        (loop $lk
          (local.set $sum (f64.add (local.get $sum)
            (f64.mul
              (f64.load (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $k)) (i32.const 3)))
              (f64.load offset=524288 (i32.shl (i32.add (i32.mul (local.get $k) (local.get $n)) (local.get $j)) (i32.const 3))))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br_if $lk (i32.lt_u (local.get $k) (local.get $n))))
        (f64.store offset=1048576 (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 3))
          (local.get $sum))
        (if (i32.eq (local.get $i) (local.get $j))
          (then (local.set $trace (f64.add (local.get $trace) (local.get $sum)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $lj (i32.lt_u (local.get $j) (local.get $n))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $li (i32.lt_u (local.get $i) (local.get $n))))
    (i64.trunc_f64_s (local.get $trace))))
