;; `select` whose condition is a comparison (`eqz`, `eq`), as in the guard wasm-smith puts in
;; front of every division: `select(1, x, x == 0)`. The wasmi 2.0.0 reference of our
;; differential fuzzer inverts the condition when it fuses the comparison into the select
;; (`select(a, b, eqz c)` gives `a` for nonzero c), so it returned the constant for nonzero x
;; and trapped "integer divide by zero" for x = 0: all 149 reference-only cases of a
;; 5,000-seed run vanish when the condition goes through a global first. Both of our
;; engines were right; this file keeps them so as the interpreter gains fused instructions.

(module
  (func (export "guard32") (param i32) (result i32)
    i32.const 1
    local.get 0
    local.get 0
    i32.eqz
    select)
  (func (export "guard64") (param i64) (result i64)
    i64.const 1
    local.get 0
    local.get 0
    i64.eqz
    select)
  (func (export "rem_guarded") (param i32 i32) (result i32)
    local.get 0
    i32.const 1
    local.get 1
    local.get 1
    i32.eqz
    select
    i32.rem_s)
  (func (export "div_guarded64") (param i64 i64) (result i64)
    local.get 0
    i64.const 1
    local.get 1
    local.get 1
    i64.eqz
    select
    i64.div_u)
  (func (export "guard_from_global") (result i32)
    (local i32)
    global.get 0
    i32.const 1
    local.get 0
    local.get 0
    i32.eqz
    select
    i32.rem_s)
  (func (export "select_eqz") (param i32 i32 i32) (result i32)
    local.get 0
    local.get 1
    local.get 2
    i32.eqz
    select)
  (func (export "select_eq") (param i32 i32 i32) (result i32)
    local.get 0
    local.get 1
    local.get 2
    i32.const 0
    i32.eq
    select)
  (func (export "select_lt_s64") (param i64 i64 i64) (result i64)
    local.get 0
    local.get 1
    local.get 2
    i64.const 0
    i64.lt_s
    select)
  (global (mut i32) (i32.const 2000)))

(assert_return (invoke "guard32" (i32.const 0)) (i32.const 1))
(assert_return (invoke "guard32" (i32.const -1131211069)) (i32.const -1131211069))
(assert_return (invoke "guard32" (i32.const 7)) (i32.const 7))
(assert_return (invoke "guard64" (i64.const 0)) (i64.const 1))
(assert_return (invoke "guard64" (i64.const 0x1_0000_0000)) (i64.const 0x1_0000_0000))
(assert_return (invoke "rem_guarded" (i32.const 2080467876) (i32.const -1131211069)) (i32.const 949256807))
(assert_return (invoke "rem_guarded" (i32.const 2080467876) (i32.const 0)) (i32.const 0))
(assert_return (invoke "rem_guarded" (i32.const -7) (i32.const 2)) (i32.const -1))
(assert_return (invoke "div_guarded64" (i64.const 100) (i64.const 0)) (i64.const 100))
(assert_return (invoke "div_guarded64" (i64.const 100) (i64.const 7)) (i64.const 14))
(assert_return (invoke "guard_from_global") (i32.const 0))
(assert_return (invoke "select_eqz" (i32.const 10) (i32.const 20) (i32.const 0)) (i32.const 10))
(assert_return (invoke "select_eqz" (i32.const 10) (i32.const 20) (i32.const 3)) (i32.const 20))
(assert_return (invoke "select_eq" (i32.const 10) (i32.const 20) (i32.const 0)) (i32.const 10))
(assert_return (invoke "select_eq" (i32.const 10) (i32.const 20) (i32.const -1)) (i32.const 20))
(assert_return (invoke "select_lt_s64" (i64.const 10) (i64.const 20) (i64.const -5)) (i64.const 10))
(assert_return (invoke "select_lt_s64" (i64.const 10) (i64.const 20) (i64.const 5)) (i64.const 20))
