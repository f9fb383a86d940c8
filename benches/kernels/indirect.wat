;; call_indirect through a table of 4 functions of one signature, n calls.
(module
  (type $op (func (param i32) (result i32)))
  (table 4 funcref)
  (elem (i32.const 0) $inc $dbl $neg $rot)
  (func $inc (type $op) (i32.add (local.get 0) (i32.const 1)))
  (func $dbl (type $op) (i32.shl (local.get 0) (i32.const 1)))
  (func $neg (type $op) (i32.sub (i32.const 0) (local.get 0)))
  (func $rot (type $op) (i32.rotl (local.get 0) (i32.const 3)))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (local.set $acc (i32.const 1))
    (loop $l
      (local.set $acc
        (call_indirect (type $op) (local.get $acc) (i32.and (local.get $i) (i32.const 3))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))
