;; A bytecode interpreter's shape: a loop around a br_table over 8 opcodes, reading a
;; generated program from memory. Runs the 1024-byte program n times.
(module
  (memory 1)
  (func $gen
    (local $i i32) (local $x i32)
    (local.set $x (i32.const 12345))
    (loop $l
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const 1103515245)) (i32.const 12345)))
      (i32.store8 (local.get $i) (i32.and (i32.shr_u (local.get $x) (i32.const 16)) (i32.const 7)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1024)))))
  (func (export "run") (param $n i32) (result i32)
    (local $pc i32) (local $acc i32) (local $round i32)
    (call $gen)
    (local.set $acc (i32.const 1))
    (loop $rounds
      (local.set $pc (i32.const 0))
      (loop $step
        (block $next
          (block $op7 (block $op6 (block $op5 (block $op4
          (block $op3 (block $op2 (block $op1 (block $op0
            (br_table $op0 $op1 $op2 $op3 $op4 $op5 $op6 $op7 (i32.load8_u (local.get $pc))))
            (local.set $acc (i32.add (local.get $acc) (i32.const 7))) (br $next))
            (local.set $acc (i32.sub (local.get $acc) (i32.const 3))) (br $next))
            (local.set $acc (i32.mul (local.get $acc) (i32.const 3))) (br $next))
            (local.set $acc (i32.xor (local.get $acc) (i32.const 0x5a5a))) (br $next))
            (local.set $acc (i32.rotl (local.get $acc) (i32.const 5))) (br $next))
            (local.set $acc (i32.add (local.get $acc) (local.get $pc))) (br $next))
            (local.set $acc (i32.shr_u (local.get $acc) (i32.const 1))) (br $next))
          (local.set $acc (i32.or (local.get $acc) (i32.const 1))))
        (local.set $pc (i32.add (local.get $pc) (i32.const 1)))
        (br_if $step (i32.lt_u (local.get $pc) (i32.const 1024))))
      (local.set $round (i32.add (local.get $round) (i32.const 1)))
      (br_if $rounds (i32.lt_u (local.get $round) (local.get $n))))
    (local.get $acc)))
