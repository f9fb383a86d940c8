;; memory.fill and memory.copy over 8 MiB ranges, n rounds. Returns a byte checksum.
(module
  (memory 256)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (memory.fill (i32.const 0) (i32.and (local.get $i) (i32.const 255)) (i32.const 8388608))
      (memory.copy (i32.const 8388608) (i32.const 0) (i32.const 8388608))
      (memory.copy (i32.const 1) (i32.const 8388608) (i32.const 8388607))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add (i32.load8_u (i32.const 0)) (i32.load8_u (i32.const 16777215)))))
