//! The relaxed SIMD pass (`harness/src/fuzz/relaxed.rs`) leaves no `relaxed_min` /
//! `relaxed_max` result uncanonicalised. With a NaN operand the engines give different
//! NaN bits there, both permitted by the spec (an arithmetic NaN, any payload, any sign):
//! the interpreter propagates the operand's NaN, the native engine gives the default NaN.
//! wasm-smith canonicalises `f64x2.max` but not the relaxed twin it also writes, so seed
//! 21102 reported a divergence in a global fed by `i8x16.bitmask` of `f64x2.relaxed_max`.

use harness::fuzz::input::seed_bytes;
use harness::fuzz::{Case, Oracle, Verdict};
use runtime::{Config, Engine, Instance, Module, Store, Strategy, Value, WasmFeatures};
use wasm_encoder::{
    CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, TypeSection,
    ValType,
};

/// Operators wasm-smith writes without canonicalising their NaN lanes.
const RELAXED_MIN_MAX: [Instruction<'static>; 4] = [
    Instruction::F32x4RelaxedMin,
    Instruction::F32x4RelaxedMax,
    Instruction::F64x2RelaxedMin,
    Instruction::F64x2RelaxedMax,
];

/// A module as wasm-smith writes it: export `fN` applies `RELAXED_MIN_MAX[N]` to its two
/// parameters, and has a `v128` local of its own, so an added local must come after it.
/// Parameters rather than constants: the pass may put an operator after a `v128.const`.
fn uncanonicalised_module() -> Vec<u8> {
    let mut types = TypeSection::new();
    types
        .ty()
        .function([ValType::V128, ValType::V128], [ValType::V128]);
    let mut funcs = FunctionSection::new();
    let mut exports = ExportSection::new();
    let mut code = CodeSection::new();
    for (index, op) in RELAXED_MIN_MAX.iter().enumerate() {
        funcs.function(0);
        exports.export(&format!("f{index}"), ExportKind::Func, index as u32);
        let mut f = Function::new([(1, ValType::V128)]);
        f.instruction(&Instruction::LocalGet(0))
            .instruction(&Instruction::LocalGet(1))
            .instruction(op)
            .instruction(&Instruction::LocalTee(2))
            .instruction(&Instruction::End);
        code.function(&f);
    }
    let mut module = wasm_encoder::Module::new();
    module
        .section(&types)
        .section(&funcs)
        .section(&exports)
        .section(&code);
    module.finish()
}

fn call(strategy: Strategy, wasm: &[u8], export: &str, a: u128, b: u128) -> u128 {
    let features = WasmFeatures::WASM2 | WasmFeatures::RELAXED_SIMD;
    let engine = Engine::new(Config::new(strategy).features(features)).unwrap();
    let module = Module::new(&engine, wasm).unwrap();
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None).unwrap();
    let f = instance.get_func(&store, export).unwrap();
    match f.call(&store, &[Value::V128(a), Value::V128(b)]).unwrap()[..] {
        [Value::V128(x)] => x,
        ref other => panic!("{export}: not one v128: {other:?}"),
    }
}

#[test]
fn relaxed_min_max_results_are_canonical_on_both_engines() {
    let wasm = uncanonicalised_module();
    // Seed 21102's operands: a NaN with every payload bit set (from `v128.not`, so never
    // canonicalised) and negative subnormals; then a signalling NaN as the second operand.
    let seed_21102 = (u128::MAX, 0x8000_8000_8000_8000_8000_8000_8000_8000);
    let f32_signalling = (
        0x8000_0001_8000_0001_8000_0001_8000_0001,
        0x7f80_0001_7f80_0001_7f80_0001_7f80_0001,
    );
    let f64_signalling = (
        0x8000_0000_0000_0001_8000_0000_0000_0001,
        0x7ff0_0000_0000_0001_7ff0_0000_0000_0001,
    );
    for seed in 0..8 {
        let (swapped, _) = harness::fuzz::relaxed::swap(&wasm, seed).expect("re-encodes");
        for (index, _) in RELAXED_MIN_MAX.iter().enumerate() {
            let export = format!("f{index}");
            let (canonical, signalling) = if index < 2 {
                (0x7fc0_0000_7fc0_0000_7fc0_0000_7fc0_0000, f32_signalling)
            } else {
                (0x7ff8_0000_0000_0000_7ff8_0000_0000_0000, f64_signalling)
            };
            for (a, b) in [seed_21102, signalling] {
                let interp = call(Strategy::Interpreter, &swapped, &export, a, b);
                let native = call(Strategy::Native, &swapped, &export, a, b);
                assert_eq!(
                    (interp, native),
                    (canonical, canonical),
                    "{export}({a:#x}, {b:#x}), seed {seed}: canonical NaNs expected on both engines"
                );
            }
        }
    }
}

/// The reported case itself: generated from seed 21102, both engines now agree.
#[test]
fn seed_21102_agrees() {
    let oracle = Oracle::ours().unwrap();
    let case = Case::from_input(&seed_bytes(21102)).unwrap();
    let checked = oracle.check(&case).unwrap();
    assert!(
        matches!(checked.verdict, Verdict::Agree),
        "{:?}",
        checked.verdict
    );
}
