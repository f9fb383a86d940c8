;; A loop over many live locals: register pressure and local traffic.
(module
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $a i32) (local $b i32) (local $c i32) (local $d i32)
    (local $e i32) (local $f i32) (local $g i32) (local $h i32)
    (local.set $a (i32.const 1)) (local.set $b (i32.const 2)) (local.set $c (i32.const 3))
    (local.set $d (i32.const 4))
    (loop $top
      (local.set $e (i32.add (local.get $a) (local.get $b)))
      (local.set $f (i32.xor (local.get $c) (local.get $e)))
      (local.set $g (i32.mul (local.get $d) (i32.const 31)))
      (local.set $h (i32.rotl (local.get $f) (i32.const 7)))
      (local.set $a (i32.add (local.get $b) (local.get $h)))
      (local.set $b (i32.sub (local.get $c) (local.get $g)))
      (local.set $c (i32.add (local.get $d) (local.get $i)))
      (local.set $d (i32.xor (local.get $e) (local.get $a)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $top (i32.lt_u (local.get $i) (local.get $n))))
    (i32.add (i32.add (local.get $a) (local.get $b)) (i32.add (local.get $c) (local.get $d)))))
