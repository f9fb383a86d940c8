//! Seeds for the mutations: valid modules covering every section and many instructions.

pub(super) const SEEDS: &[&str] = &[
    r#"(module)"#,
    r#"(module (func (export "f") (result i32) i32.const 42))"#,
    r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#,
    r#"(module
        (type $t0 (func (param i32) (result i32)))
        (type $t1 (func (param i64 f32 f64)))
        (import "env" "f" (func $f (type $t0)))
        (import "env" "mem" (memory 1 2))
        (import "env" "tab" (table 2 funcref))
        (import "env" "g" (global $g i32))
        (import "env" "gm" (global $gm (mut i64)))
        (func (export "run") (result i32) global.get $g call $f)
        (export "mem" (memory 0)))"#,
    r#"(module
        (memory (export "memory") 1)
        (data (i32.const 0) "hello world")
        (data (i32.const 100) "\00\01\02\03\ff")
        (func (export "load") (param i32) (result i32) local.get 0 i32.load)
        (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store))"#,
    r#"(module
        (table 4 funcref)
        (type $r (func (result i32)))
        (func $a (type $r) i32.const 1)
        (func $b (type $r) i32.const 2)
        (elem (i32.const 0) $a $b)
        (func (export "ci") (param i32) (result i32) local.get 0 call_indirect (type $r)))"#,
    r#"(module
        (global $g (mut i32) (i32.const 0))
        (global $h i64 (i64.const -1))
        (global $f f32 (f32.const 1.5))
        (global $d f64 (f64.const -0.0))
        (global $r funcref (ref.func $s))
        (global $e externref (ref.null extern))
        (func $s global.get $g i32.const 1 i32.add global.set $g)
        (start $s)
        (export "g" (global $g)))"#,
    r#"(module
        (memory 1)
        (data $p "passive bytes")
        (func (export "init") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 memory.init $p
            data.drop $p)
        (func (export "copy") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 memory.copy)
        (func (export "fill") (param i32 i32 i32)
            local.get 0 local.get 1 local.get 2 memory.fill))"#,
    r#"(module
        (table $t 3 10 funcref)
        (table $u 2 externref)
        (func $f)
        (elem $pe funcref (ref.func $f) (ref.null func))
        (elem declare func $f)
        (func (export "ops") (result i32)
            i32.const 0 i32.const 0 i32.const 2 table.init $t $pe
            elem.drop $pe
            i32.const 1 i32.const 0 i32.const 1 table.copy $t $t
            ref.null func i32.const 2 table.grow $t drop
            i32.const 0 ref.func $f i32.const 1 table.fill $t
            i32.const 0 table.get $t ref.is_null
            table.size $u i32.add))"#,
    r#"(module
        (func (export "num") (param i64 f32 f64) (result i64)
            local.get 0 i64.const 3 i64.div_s
            local.get 0 i64.const 7 i64.rem_u i64.add
            local.get 1 i64.trunc_sat_f32_s i64.add
            local.get 2 i64.trunc_f64_u i64.add
            i64.extend32_s
            i64.popcnt
            i64.const 5 i64.rotl))"#,
    r#"(module
        (func (export "blocks") (param i32) (result i32 i32)
            (block $b (result i32 i32)
                i32.const 1 i32.const 2
                local.get 0 br_if $b
                drop drop
                local.get 0
                (if (result i32 i32) (then i32.const 3 i32.const 4) (else i32.const 5 i32.const 6))))
        (func (export "table") (param i32) (result i32)
            (block $a (block $b (block $c
                local.get 0 br_table $a $b $c $a)
                i32.const 10 return)
                i32.const 20 return)
            i32.const 30)
        (func (export "sel") (param i32) (result f64)
            f64.const 1 f64.const 2 local.get 0 select (result f64)))"#,
    r#"(module
        (memory 1 1)
        (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
        (func (export "size") (result i32) memory.size)
        (func (export "oob") (result i64) i32.const 65535 i64.load offset=4 align=1)
        (func (export "div") (param i32) (result i32) i32.const 1 local.get 0 i32.div_u)
        (func (export "unreachable") unreachable))"#,
    r#"(module
        (type $v (func))
        (import "a" "f" (func $af))
        (import "b" "f" (func $bf (param i32) (result i32)))
        (import "a" "g" (global f64))
        (func $x call $af)
        (func $y (param i32) (result i32) local.get 0 call $bf)
        (export "x" (func $x))
        (export "y" (func $y))
        (start $x))"#,
    r#"(module
        (func $fac (export "fac") (param i64) (result i64)
            local.get 0 i64.eqz
            if (result i64) i64.const 1
            else local.get 0 local.get 0 i64.const 1 i64.sub call $fac i64.mul end)
        (func (export "loop") (param i32) (result i32) (local i32)
            (loop $l
                local.get 1 local.get 0 i32.add local.set 1
                local.get 0 i32.const 1 i32.sub local.tee 0
                br_if $l)
            local.get 1))"#,
    r#"(module
        (memory 1)
        (func (export "f32") (param f32 f32) (result f32)
            local.get 0 local.get 1 f32.min local.get 1 f32.copysign f32.sqrt f32.nearest)
        (func (export "f64") (param f64) (result i32)
            local.get 0 f64.const nan f64.eq local.get 0 f64.abs f64.const inf f64.lt i32.or)
        (func (export "conv") (param i32) (result f64)
            local.get 0 f32.convert_i32_u f64.promote_f32
            local.get 0 i64.extend_i32_s f64.convert_i64_s f64.add
            i32.const 8 f64.load f64.add
            i32.const 8 local.get 0 f64.convert_i32_s f64.store
            i32.const 16 local.get 0 i64.extend_i32_u i64.store32
            i32.const 16 i32.load16_s f64.convert_i32_s f64.add))"#,
    r#"(module
        (table 1 externref)
        (func (export "ext") (param externref) (result externref)
            i32.const 0 local.get 0 table.set 0
            i32.const 0 table.get 0)
        (func (export "null") (result i32) ref.null extern ref.is_null))"#,
    r#"(module
        (memory 0)
        (data (i32.const 0) "")
        (table 0 funcref)
        (elem (i32.const 0) func)
        (func (export "z") (result i32) memory.size))"#,
    r#"(module
        (global $base i32 (i32.const 16))
        (memory 1)
        (table 20 funcref)
        (func $a) (func $b) (func $c)
        (elem (global.get $base) $a $b $c)
        (elem (table 0) (offset (i32.const 2)) funcref (item ref.func $c) (item ref.null func))
        (data (global.get $base) "based")
        (data (memory 0) (offset (i32.const 200)) "explicit"))"#,
    r#"(module
        (import "env" "print" (func $p (param i32)))
        (memory (export "memory") 1)
        (func $main (export "_start")
            i32.const 0 i32.load8_u call $p
            i32.const 1 i32.const 2 i32.store8 offset=3
            i32.const 0 i32.const 0 i32.atomic.load drop)
        (data (i32.const 0) "\07"))"#,
    r#"(module
        (type (func (param i32 i32) (result i32)))
        (func (type 0) local.get 0 local.get 1 i32.sub)
        (func (type 0) local.get 0 local.get 1 i32.mul)
        (func (type 0) local.get 0 local.get 1 i32.shr_s)
        (func (type 0) local.get 0 local.get 1 i32.lt_u)
        (export "sub" (func 0)) (export "mul" (func 1)) (export "shr" (func 2)) (export "lt" (func 3)))"#,
    r#"(module
        (func (export "locals") (param i32) (result i64)
            (local i64 f32 f64 i32 i32 i32 i32 i32 i32 i64 i64 i64)
            local.get 0 i64.extend_i32_u local.set 1
            local.get 1 local.get 10 i64.add local.tee 11
            local.get 0 i32.eqz br_if 0
            i64.const 9 i64.xor))"#,
    r#"(module
        (memory 2 5)
        (data (i32.const 65530) "\01\02\03\04\05\06")
        (func (export "straddle") (result i64) i32.const 65530 i64.load)
        (func (export "bulk") (result i32)
            i32.const 65000 i32.const 0 i32.const 1000 memory.copy
            i32.const 131070 i32.const 9 i32.const 3 memory.fill
            memory.size))"#,
    r#"(module
        (func $nop)
        (func (export "drop_select") (param i32 i64) (result i64)
            local.get 1 local.get 1 i64.const 1 i64.add local.get 0 select
            call $nop
            nop
            (block (br 0))
            (if (local.get 0) (then (return (i64.const 77)))))
        (start $nop))"#,
    r#"(module
        (type $t (func (param i32) (result i32)))
        (import "m" "t" (table $it 1 8 funcref))
        (import "m" "mem" (memory $im 1))
        (elem (table $it) (i32.const 0) func $id)
        (func $id (type $t) local.get 0)
        (data (memory $im) (i32.const 3) "imported")
        (func (export "via") (result i32) i32.const 5 i32.const 0 call_indirect $it (type $t)))"#,
    r#"(module
        (global (export "c1") i32 (i32.const 1))
        (global (export "c2") (mut f64) (f64.const 2))
        (memory (export "m") 1)
        (table (export "t") 1 funcref)
        (func (export "f"))
        (export "f2" (func 0)))"#,
    r#"(module $named
        (func $with_name (export "n") (param $x i32) (result i32) (local $y i32)
            local.get $x local.set $y local.get $y))"#,
    r#"(module
        (func (export "trunc") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
        (func (export "ovf") (param i32) (result i32) local.get 0 i32.const -1 i32.div_s)
        (func (export "clz") (param i64) (result i64) local.get 0 i64.clz local.get 0 i64.ctz i64.add)
        (func (export "reinterp") (param f64) (result i64) local.get 0 i64.reinterpret_f64))"#,
];

pub(super) fn seed_binaries() -> &'static [Vec<u8>] {
    use std::sync::OnceLock;
    static BINS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    BINS.get_or_init(|| {
        SEEDS
            .iter()
            // A seed using something wat does not know (e.g. threads) is skipped, but
            // most must parse.
            .filter_map(|src| wat::parse_str(src).ok())
            .collect()
    })
}
