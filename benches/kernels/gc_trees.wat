;; GC kernel (issue 15): binary trees, the classic allocation benchmark. A long-lived
;; tree of depth 12 stays alive while `n` trees of depth 8 (511 nodes each) are built,
;; walked and dropped, each with a small array beside it; the collector runs many times
;; and must keep the long-lived tree intact. Result: n * 511 + 8191 (every node counted).
(module
  (type $node (struct (field $left (ref null $node)) (field $right (ref null $node))))
  (type $bytes (array (mut i8)))

  (func $make (param $depth i32) (result (ref $node))
    (if (result (ref $node)) (i32.eqz (local.get $depth))
      (then (struct.new $node (ref.null $node) (ref.null $node)))
      (else
        (struct.new $node
          (call $make (i32.sub (local.get $depth) (i32.const 1)))
          (call $make (i32.sub (local.get $depth) (i32.const 1)))))))

  ;; The number of nodes of the tree `t`.
  (func $count (param $t (ref $node)) (result i32)
    (local $left (ref null $node))
    (local.set $left (struct.get $node $left (local.get $t)))
    (if (result i32) (ref.is_null (local.get $left))
      (then (i32.const 1))
      (else
        (i32.add (i32.const 1)
          (i32.add
            (call $count (ref.as_non_null (local.get $left)))
            (call $count (ref.as_non_null (struct.get $node $right (local.get $t)))))))))

  (func (export "run") (param $n i32) (result i32)
    (local $long (ref null $node))
    (local $sum i32)
    (local $scratch (ref null $bytes))
    (local.set $long (call $make (i32.const 12)))
    (block $done
      (loop $again
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $scratch (array.new_default $bytes (i32.const 24)))
        (array.set $bytes (local.get $scratch) (i32.const 0) (local.get $n))
        (local.set $sum (i32.add (local.get $sum) (call $count (call $make (i32.const 8)))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $again)))
    (i32.add (local.get $sum) (call $count (ref.as_non_null (local.get $long))))))
