//! Robustness: random bytes and mutations of valid modules must never make the runtime
//! panic, whether compiling, instantiating (with a host module that satisfies the
//! imports) or calling exports. Bad bytes must come back as `Error::Compile` with a
//! message.
//!
//! Execution is limited to modules that cannot run for long: no `loop`, few call sites
//! and a small call-depth limit (on the interpreter; the native engine's recursion ends
//! at the machine stack's limit); memories are capped by a custom allocator.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::strategy::Strategy as PropStrategy;
use proptest::test_runner::{
    Config as PropConfig, FileFailurePersistence, TestCaseError, TestRunner,
};
use runtime::{
    Config, Engine, Error, HostModuleBuilder, Instance, LinearMemory, MemoryAllocator, Module,
    RefType, Store, Strategy, Value, module::ImportType,
};

use crate::common::{engine_test_name, engine_with};

on_both_engines!(
    seeds_are_valid,
    mutated_modules_do_not_panic,
    random_bytes_do_not_panic,
    random_sections_do_not_panic,
    random_text_does_not_panic,
    mutations_reach_instantiation_and_calls,
    every_prefix_of_every_seed,
    every_single_byte_change_of_small_seeds,
    bad_bytes_are_compile_errors_with_messages,
    foreign_instance_handles_do_not_panic,
);

// ---------------------------------------------------------------------------------------
// Seeds: valid modules covering every section and many instructions.

const SEEDS: &[&str] = &[
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

fn seed_binaries() -> &'static [Vec<u8>] {
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

fn seeds_are_valid(strategy: Strategy) {
    let engine = small_engine(strategy);
    let bins = seed_binaries();
    assert!(
        bins.len() >= SEEDS.len() - 2,
        "too many seeds fail to parse"
    );
    let mut compiled = 0;
    for b in bins {
        if Module::from_binary(&engine, b).is_ok() {
            compiled += 1;
        }
    }
    // All but the deliberately odd ones (atomics without the threads feature) compile.
    assert!(
        compiled >= bins.len() - 2,
        "{compiled} of {} compile",
        bins.len()
    );
}

// ---------------------------------------------------------------------------------------
// Driving one input through the runtime.

/// Refuses memories over 4 MiB so mutated limits cannot allocate gigabytes.
struct CappedAllocator;

const CAP: usize = 4 << 20;

struct CappedMemory(Vec<u8>, usize);

impl LinearMemory for CappedMemory {
    fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }
    fn reallocate(&mut self, new_len: usize) -> Option<&mut [u8]> {
        if new_len > CAP.min(self.1) || new_len < self.0.len() {
            return None;
        }
        self.0.resize(new_len, 0);
        Some(&mut self.0)
    }
}

impl MemoryAllocator for CappedAllocator {
    fn allocate(&self, initial: usize, max: usize) -> Option<Box<dyn LinearMemory>> {
        (initial <= CAP).then(|| Box::new(CappedMemory(vec![0; initial], max)) as _)
    }
}

/// An engine with small limits; the native engine ignores `max_call_depth` and
/// `max_value_stack` (the machine stack bounds it).
fn small_engine(strategy: Strategy) -> Engine {
    engine_with(Config {
        max_call_depth: 6,
        max_value_stack: 64 * 1024,
        ..Config::new(strategy)
    })
}

/// Whether running this module's code is known to finish quickly.
fn bounded_execution(m: &Module) -> bool {
    let info = m.info();
    let mut call_sites = 0;
    for i in 0..info.bodies.len() {
        let body = info.body_reader(i);
        let Ok(mut ops) = body.get_operators_reader() else {
            return false;
        };
        while !ops.eof() {
            let Ok(op) = ops.read() else { return false };
            let name = format!("{op:?}");
            if name.starts_with("Loop") {
                return false;
            }
            if name.starts_with("Call") || name.starts_with("ReturnCall") {
                call_sites += 1;
            }
        }
    }
    call_sites <= 6
}

/// Builds host modules exporting something of the right type for every import.
fn satisfy_imports(store: &Store, m: &Module) -> bool {
    let info = m.info();
    let mut by_module: BTreeMap<&str, HostModuleBuilder> = BTreeMap::new();
    for import in &info.imports {
        let b = by_module
            .remove(import.module.as_str())
            .unwrap_or_else(|| HostModuleBuilder::new(import.module.clone()));
        let b = match &import.ty {
            ImportType::Func(t) => {
                let Some(ty) = info.types.get(*t as usize) else {
                    return false;
                };
                // Results are pre-filled with zero values: return them as they are.
                b.func(import.name.clone(), (**ty).clone(), |_, _, _| Ok(()))
            }
            ImportType::Memory(mt) => {
                if mt.min > 64 {
                    return false;
                }
                b.memory(import.name.clone(), *mt)
            }
            ImportType::Table(tt) => {
                if tt.min > 10_000 {
                    return false;
                }
                let init = match tt.element {
                    RefType::FuncRef => Value::FuncRef(None),
                    RefType::ExternRef => Value::ExternRef(None),
                };
                b.table(import.name.clone(), *tt, init)
            }
            ImportType::Global(gt) => b.global(
                import.name.clone(),
                Value::default_for(gt.content),
                gt.mutable,
            ),
        };
        by_module.insert(import.module.as_str(), b);
    }
    by_module
        .into_values()
        .all(|b| b.instantiate(store).is_ok())
}

/// Compiles, instantiates and calls; returns a description of a contract violation
/// (not a panic: those are caught by the caller).
fn drive(engine: &Engine, bytes: &[u8]) -> Result<(), String> {
    let m = match Module::from_binary(engine, bytes) {
        Ok(m) => m,
        Err(Error::Compile(c)) if !c.message.is_empty() => return Ok(()),
        Err(e) => {
            return Err(format!(
                "compile error is not a CompileError with a message: {e:?}"
            ));
        }
    };
    let info = m.info();
    if info.tables.iter().any(|t| t.min > 100_000) || info.memories.iter().any(|m| m.min > 64) {
        return Ok(());
    }
    let bounded = bounded_execution(&m);
    if info.start.is_some() && !bounded {
        return Ok(());
    }
    let store = Store::new(engine);
    store
        .set_memory_allocator(Arc::new(CappedAllocator))
        .unwrap();
    if !satisfy_imports(&store, &m) {
        return Ok(());
    }
    let inst = match Instance::new(&store, &m, None) {
        Ok(i) => i,
        Err(Error::Compile(e)) => return Err(format!("instantiation gave a compile error: {e}")),
        Err(_) => return Ok(()),
    };
    if !bounded {
        return Ok(());
    }
    for (name, ext) in inst.exports(&store) {
        let Some(f) = ext.into_func() else { continue };
        let Ok(ty) = f.ty(&store) else {
            return Err(format!("export {name}: no type"));
        };
        let args: Vec<Value> = ty.params().iter().map(|t| Value::default_for(*t)).collect();
        match f.call(&store, &args) {
            Ok(results) => {
                if results.len() != ty.results().len()
                    || results.iter().zip(ty.results()).any(|(v, t)| v.ty() != *t)
                {
                    return Err(format!(
                        "export {name}: results {results:?} do not match {ty}"
                    ));
                }
            }
            Err(Error::Compile(e)) => return Err(format!("call gave a compile error: {e}")),
            Err(_) => {}
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `drive` under `catch_unwind`: Err with the input when it panics or breaks a contract.
fn check(engine: &Engine, bytes: &[u8]) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(|| drive(engine, bytes))) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(format!(
            "{why}\ninput ({} bytes): {}",
            bytes.len(),
            hex(bytes)
        )),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!(
                "runtime panicked: {msg}\ninput ({} bytes): {}",
                bytes.len(),
                hex(bytes)
            ))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize, usize),
    Truncate(usize),
    /// Replace the LEB128 starting at a position with the encoding of a value.
    PatchLeb(usize, u64, bool),
    /// Patch the size (or, with `true`, the first LEB of the payload, usually a count)
    /// of the n-th section.
    PatchSection(usize, u64, bool),
    /// Swap two sections (breaks the order rules).
    SwapSections(usize, usize),
    /// Duplicate a whole section.
    DupSection(usize),
    /// Set a byte inside a section's payload, past its first LEB (often a count): keeps
    /// the framing intact, so the change reaches the section's own decoder (or, in a
    /// data segment or a constant, survives validation).
    PayloadByte(usize, usize, u8),
}

fn interesting_u64() -> impl PropStrategy<Value = u64> {
    prop_oneof![
        Just(0u64),
        Just(1),
        Just(0x7f),
        Just(0x80),
        Just(0x3fff),
        Just(0x4000),
        Just(0xffff),
        Just(0x1_0000),
        Just(0x7fff_ffff),
        Just(0x8000_0000),
        Just(0xffff_ffff),
        Just(0x1_0000_0000),
        Just(u64::MAX),
        0u64..300,
        any::<u64>(),
    ]
}

fn mutation() -> impl PropStrategy<Value = Mutation> {
    let pos = any::<usize>();
    prop_oneof![
        (pos, 0u8..8).prop_map(|(p, b)| Mutation::FlipBit(p, b)),
        (pos, any::<u8>()).prop_map(|(p, b)| Mutation::SetByte(p, b)),
        (pos, prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(p, v)| Mutation::Insert(p, v)),
        (pos, 1usize..16).prop_map(|(p, n)| Mutation::Delete(p, n)),
        (pos, 1usize..32, pos).prop_map(|(a, n, b)| Mutation::Duplicate(a, n, b)),
        pos.prop_map(Mutation::Truncate),
        (pos, interesting_u64(), any::<bool>()).prop_map(|(p, v, o)| Mutation::PatchLeb(p, v, o)),
        (any::<usize>(), interesting_u64(), any::<bool>())
            .prop_map(|(s, v, c)| Mutation::PatchSection(s, v, c)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapSections(a, b)),
        any::<usize>().prop_map(Mutation::DupSection),
        (any::<usize>(), any::<usize>(), any::<u8>())
            .prop_map(|(s, o, v)| Mutation::PayloadByte(s, o, v)),
    ]
}

/// Reads an unsigned LEB128 at `pos`: (value, length), tolerating garbage.
fn read_leb(bytes: &[u8], pos: usize) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for i in 0..10 {
        let b = *bytes.get(pos + i)?;
        value |= ((b & 0x7f) as u64).checked_shl(7 * i as u32).unwrap_or(0);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// LEB128 of `v`; `overlong` pads to 5 bytes (or more) with continuation bytes.
fn leb(mut v: u64, overlong: bool) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    if overlong {
        while out.len() < 5 {
            *out.last_mut().unwrap() |= 0x80;
            out.push(0);
        }
    }
    out
}

/// Top-level sections: (start of the id byte, start of the size LEB, payload range).
fn sections(bytes: &[u8]) -> Vec<(usize, usize, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let Some((size, n)) = read_leb(bytes, pos + 1) else {
            break;
        };
        let start = pos + 1 + n;
        let end = start.saturating_add(size as usize);
        if end > bytes.len() {
            break;
        }
        out.push((pos, pos + 1, start..end));
        pos = end;
    }
    out
}

fn replace_leb(bytes: &mut Vec<u8>, pos: usize, v: u64, overlong: bool) {
    let len = read_leb(bytes, pos).map(|(_, n)| n).unwrap_or(1);
    let end = (pos + len).min(bytes.len());
    bytes.splice(pos..end, leb(v, overlong));
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    let len = bytes.len();
    let at = |p: usize| if len == 0 { 0 } else { p % len };
    match m {
        Mutation::FlipBit(p, b) => {
            if len > 0 {
                bytes[at(*p)] ^= 1 << b;
            }
        }
        Mutation::SetByte(p, v) => {
            if len > 0 {
                bytes[at(*p)] = *v;
            }
        }
        Mutation::Insert(p, v) => {
            let p = if len == 0 { 0 } else { p % (len + 1) };
            bytes.splice(p..p, v.iter().copied());
        }
        Mutation::Delete(p, n) => {
            if len > 0 {
                let p = at(*p);
                bytes.drain(p..(p + n).min(len));
            }
        }
        Mutation::Duplicate(a, n, b) => {
            if len > 0 {
                let a = at(*a);
                let chunk = bytes[a..(a + n).min(len)].to_vec();
                let b = b % (len + 1);
                bytes.splice(b..b, chunk);
            }
        }
        Mutation::Truncate(p) => bytes.truncate(if len == 0 { 0 } else { p % len }),
        Mutation::PatchLeb(p, v, o) => {
            if len > 0 {
                replace_leb(bytes, at(*p), *v, *o);
            }
        }
        Mutation::PatchSection(s, v, count) => {
            let secs = sections(bytes);
            if secs.is_empty() {
                return;
            }
            let (_, size_at, payload) = secs[s % secs.len()].clone();
            if *count {
                if !payload.is_empty() {
                    replace_leb(bytes, payload.start, *v, false);
                }
            } else {
                replace_leb(bytes, size_at, *v, false);
            }
        }
        Mutation::SwapSections(a, b) => {
            let secs = sections(bytes);
            if secs.len() < 2 {
                return;
            }
            let (a, b) = (a % secs.len(), b % secs.len());
            let (a, b) = (a.min(b), a.max(b));
            if a == b {
                return;
            }
            let whole = |i: usize| secs[i].0..secs[i].2.end;
            let (ra, rb) = (whole(a), whole(b));
            let sa = bytes[ra.clone()].to_vec();
            let sb = bytes[rb.clone()].to_vec();
            let mut out = bytes[..ra.start].to_vec();
            out.extend_from_slice(&sb);
            out.extend_from_slice(&bytes[ra.end..rb.start]);
            out.extend_from_slice(&sa);
            out.extend_from_slice(&bytes[rb.end..]);
            *bytes = out;
        }
        Mutation::PayloadByte(s, o, v) => {
            let secs = sections(bytes);
            if secs.is_empty() {
                return;
            }
            let (_, _, payload) = secs[s % secs.len()].clone();
            let skip = read_leb(bytes, payload.start).map_or(0, |(_, n)| n);
            let from = payload.start + skip;
            if from < payload.end {
                bytes[from + o % (payload.end - from)] = *v;
            }
        }
        Mutation::DupSection(s) => {
            let secs = sections(bytes);
            if secs.is_empty() {
                return;
            }
            let (id_at, _, payload) = secs[s % secs.len()].clone();
            let sec = bytes[id_at..payload.end].to_vec();
            bytes.splice(payload.end..payload.end, sec);
        }
    }
}

fn prop_config(cases: u32) -> PropConfig {
    PropConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::Off)),
        max_shrink_iters: 2000,
        ..PropConfig::default()
    }
}

/// Runs `test` on `cases` inputs drawn from `inputs`; on a failure, panics with the
/// shrunk input and the engine's name.
fn run_cases<S: PropStrategy>(
    strategy: Strategy,
    cases: u32,
    inputs: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let mut runner = TestRunner::new(prop_config(cases));
    if let Err(e) = runner.run(&inputs, test) {
        panic!("{} engine: {e}", engine_test_name(strategy));
    }
}

fn mutated_modules_do_not_panic(strategy: Strategy) {
    let engine = small_engine(strategy);
    let inputs = (any::<usize>(), prop::collection::vec(mutation(), 1..5));
    run_cases(strategy, 4000, inputs, |(seed, muts)| {
        let bins = seed_binaries();
        let mut bytes = bins[seed % bins.len()].clone();
        for m in &muts {
            apply(&mut bytes, m);
        }
        if let Err(why) = check(&engine, &bytes) {
            prop_assert!(
                false,
                "seed {}, mutations {:?}: {}",
                seed % bins.len(),
                muts,
                why
            );
        }
        Ok(())
    });
}

fn random_bytes_do_not_panic(strategy: Strategy) {
    let engine = small_engine(strategy);
    let inputs = (any::<bool>(), prop::collection::vec(any::<u8>(), 0..256));
    run_cases(strategy, 1000, inputs, |(with_header, body)| {
        let mut bytes = if with_header {
            b"\0asm\x01\0\0\0".to_vec()
        } else {
            Vec::new()
        };
        bytes.extend_from_slice(&body);
        if let Err(why) = check(&engine, &bytes) {
            prop_assert!(false, "{}", why);
        }
        Ok(())
    });
}

fn random_sections_do_not_panic(strategy: Strategy) {
    let engine = small_engine(strategy);
    let inputs = prop::collection::vec((0u8..14, prop::collection::vec(any::<u8>(), 0..40)), 0..6);
    run_cases(strategy, 1000, inputs, |sections| {
        // Well-framed sections with random payloads reach deeper into the decoder.
        let mut bytes = b"\0asm\x01\0\0\0".to_vec();
        for (id, payload) in &sections {
            bytes.push(*id);
            bytes.extend(leb(payload.len() as u64, false));
            bytes.extend_from_slice(payload);
        }
        if let Err(why) = check(&engine, &bytes) {
            prop_assert!(false, "{}", why);
        }
        Ok(())
    });
}

fn random_text_does_not_panic(strategy: Strategy) {
    let engine = small_engine(strategy);
    let inputs = "\\PC{0,64}|\\(module[ a-z0-9()$\"._]{0,64}";
    run_cases(strategy, 300, inputs, |s| {
        // Module::new takes text too: the text path must not panic either.
        let r = catch_unwind(AssertUnwindSafe(|| Module::new(&engine, s.as_bytes())));
        match r {
            Err(_) => prop_assert!(false, "panicked on text {:?}", s),
            Ok(Err(Error::Compile(c))) => {
                prop_assert!(!c.message.is_empty(), "empty message for {:?}", s)
            }
            Ok(Err(e)) => prop_assert!(false, "not a compile error for {:?}: {:?}", s, e),
            Ok(Ok(_)) => {}
        }
        Ok(())
    });
}

fn mutations_reach_instantiation_and_calls(strategy: Strategy) {
    // The pipeline is only worth something if mutated inputs get past the decoder:
    // run a fixed-seed batch and check that each stage is reached.
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{RngAlgorithm, TestRng};
    let mut runner = TestRunner::new_with_rng(
        prop_config(400),
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let engine = small_engine(strategy);
    let bins = seed_binaries();
    let (mut compiled, mut instantiated, mut called) = (0, 0, 0);
    let inputs = (any::<usize>(), prop::collection::vec(mutation(), 1..3));
    for _ in 0..400 {
        let (seed, muts) = inputs.new_tree(&mut runner).unwrap().current();
        let mut bytes = bins[seed % bins.len()].clone();
        for m in &muts {
            apply(&mut bytes, m);
        }
        check(&engine, &bytes).unwrap();
        // Count the stages with a local re-run of the same steps.
        if let Ok(m) = Module::from_binary(&engine, &bytes) {
            compiled += 1;
            let store = Store::new(&engine);
            store
                .set_memory_allocator(Arc::new(CappedAllocator))
                .unwrap();
            if m.info().memories.iter().all(|m| m.min <= 64)
                && m.info().start.is_none()
                && satisfy_imports(&store, &m)
                && let Ok(inst) = Instance::new(&store, &m, None)
            {
                instantiated += 1;
                if bounded_execution(&m)
                    && inst
                        .exports(&store)
                        .iter()
                        .any(|(_, e)| e.into_func().is_some())
                {
                    called += 1;
                }
            }
        }
    }
    eprintln!("of 400 mutants: {compiled} compiled, {instantiated} instantiated, {called} called");
    // Most mutants are rejected by the decoder or validator; a few dozen get through.
    assert!(compiled >= 15, "only {compiled} of 400 mutants compiled");
    assert!(
        instantiated >= 10,
        "only {instantiated} of 400 mutants instantiated"
    );
    assert!(
        called >= 5,
        "only {called} of 400 mutants had exports called"
    );
}

fn every_prefix_of_every_seed(strategy: Strategy) {
    // Truncation at every length: each prefix compiles or is a CompileError.
    let engine = small_engine(strategy);
    for (i, bin) in seed_binaries().iter().enumerate() {
        for len in 0..bin.len() {
            if let Err(why) = check(&engine, &bin[..len]) {
                panic!("seed {i}, prefix {len}: {why}");
            }
        }
    }
}

fn every_single_byte_change_of_small_seeds(strategy: Strategy) {
    // Exhaustive for the first bytes of each seed: set each to a few telling values.
    let engine = small_engine(strategy);
    for (i, bin) in seed_binaries().iter().enumerate() {
        for pos in 8..bin.len().min(80) {
            for v in [0x00, 0x01, 0x7f, 0x80, 0xff] {
                let mut b = bin.clone();
                b[pos] = v;
                if let Err(why) = check(&engine, &b) {
                    panic!("seed {i}, byte {pos} := {v:#x}: {why}");
                }
            }
        }
    }
}

fn bad_bytes_are_compile_errors_with_messages(strategy: Strategy) {
    let engine = small_engine(strategy);
    let cases: &[(&str, &[u8])] = &[
        ("empty", b""),
        ("bad magic", b"\0asx\x01\0\0\0"),
        ("bad version", b"\0asm\x02\0\0\0"),
        ("short header", b"\0as"),
        ("unknown section", b"\0asm\x01\0\0\0\x20\x00"),
        ("section too long", b"\0asm\x01\0\0\0\x01\x05\x00"),
        (
            "overlong leb",
            b"\0asm\x01\0\0\0\x01\x81\x80\x80\x80\x80\x00",
        ),
        // type section: one func type with an invalid value type 0x40
        (
            "bad valtype",
            b"\0asm\x01\0\0\0\x01\x05\x01\x60\x01\x40\x00",
        ),
        // function section referencing type 5 of none
        ("bad type index", b"\0asm\x01\0\0\0\x03\x02\x01\x05"),
    ];
    for (what, bytes) in cases {
        match Module::from_binary(&engine, bytes) {
            Err(Error::Compile(c)) => {
                assert!(!c.message.is_empty(), "{what}: empty message");
                assert!(!c.to_string().is_empty());
            }
            other => panic!("{what}: expected a compile error, got {other:?}"),
        }
    }
    // Invalid (well-formed) code too.
    let invalid = wat::parse_str(r#"(module (func (result i32) i64.const 0))"#).unwrap();
    match Module::from_binary(&engine, &invalid) {
        Err(Error::Compile(c)) => {
            assert_eq!(c.kind, runtime::CompileErrorKind::Invalid, "{c}");
            assert!(!c.message.is_empty());
        }
        other => panic!("expected an invalid-module error, got {other:?}"),
    }
}

fn foreign_instance_handles_do_not_panic(strategy: Strategy) {
    // Handles used with another store must be refused, not index out of bounds.
    let engine = small_engine(strategy);
    let big = Store::new(&engine);
    let small = Store::new(&engine);
    let m = Module::new(&engine, r#"(module (func (export "f")))"#).unwrap();
    let mut last = None;
    for _ in 0..5 {
        last = Some(Instance::new(&big, &m, None).unwrap());
    }
    let inst = last.unwrap();
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _ = inst.get_export(&small, "f");
        let _ = inst.exports(&small);
        let _ = inst.name(&small);
        let _ = inst.exit_code(&small);
        let _ = inst.on_close(&small, |_| Ok(()));
        let _ = inst.close_with_exit_code(&small, 0);
    }));
    assert!(
        r.is_ok(),
        "a handle from another store made the runtime panic"
    );
    assert!(inst.exports(&small).is_empty());
    assert!(inst.on_close(&small, |_| Ok(())).is_err());
}
