//! Generation aimed at the blind spots (`fuzz/blind_spots.rs`): the patterns occur, stack
//! exhaustion is reached and compared, unintended link failures are rare, and bugs in
//! these areas, planted in one engine, are caught.

use std::convert::Infallible;

use harness::fuzz::blind_spots::is_added;
use harness::fuzz::input::seed_bytes;
use harness::fuzz::observe::{Observation, Outcome};
use harness::fuzz::plan::Plan;
use harness::fuzz::shape::Shape;
use harness::fuzz::{Case, FuzzOptions, Oracle, RuntimeSubject, Subject, Verdict, driver};
use runtime::{Strategy, TrapKind};
use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{BlockType, Instruction as I, MemArg, ValType};
use wasmparser::{Operator, Parser, Payload, TypeRef};

#[test]
fn patterns_occur_exhaustion_is_compared_and_links_fail_only_on_purpose() {
    let opts = FuzzOptions {
        seeds: 0..1500,
        out: std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-blind-spots"),
        ..FuzzOptions::default()
    };
    let summary = driver::run(&opts).unwrap();
    let s = &summary.stats;
    let b = &s.blind_spots;
    eprintln!("{s}");
    assert!(summary.divergences.is_empty(), "divergences: {s}");
    for kind in [
        "memory_copy",
        "memory_grow",
        "memory_init",
        "table_copy",
        "table_grow",
        "table_init",
        "deep",
        "mutual",
        "tail",
    ] {
        let n = b.modules.get(kind).copied().unwrap_or(0);
        assert!(n >= 5, "{kind} in only {n} modules: {s}");
    }
    for op in [
        "memory_copy_forward",
        "memory_copy_backward",
        "table_copy_forward",
        "table_copy_backward",
        "memory_grow_to_max",
        "memory_grow_failed",
        "table_grow_to_max",
        "table_grow_failed",
        "init_fitting",
        "init_len0_after_drop",
        "drops",
    ] {
        assert!(b.ops.get(op).copied().unwrap_or(0) > 0, "no {op}: {s}");
    }
    for trap in ["memory.init after data.drop", "table.init after elem.drop"] {
        assert!(
            b.edge_traps.get(trap).copied().unwrap_or(0) > 0,
            "no {trap}: {s}"
        );
    }
    assert!(
        b.exhausted_modules * 100 >= s.modules,
        "fewer than 1% of the modules exhaust the stack: {s}"
    );
    assert!(b.exhausted_calls > 0 && b.calls_after_exhaustion > 0, "{s}");
    assert!(b.recursion_returned > 0, "{s}");
    assert!(b.link_intended > 0, "{s}");
    assert!(
        b.link_unintended * 100 < s.modules,
        "1% or more of the modules fail to link unintentionally: {s}"
    );
}

/// The native engine with its observation changed by `perturb`.
struct Lying {
    inner: RuntimeSubject,
    perturb: fn(&mut Observation),
}

impl Subject for Lying {
    fn name(&self) -> &str {
        "lying-native"
    }
    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let mut obs = self.inner.observe(wasm, shape, plan);
        obs.engine = self.name().to_string();
        (self.perturb)(&mut obs);
        obs
    }
}

fn oracle_with(native: Box<dyn Subject>) -> Oracle {
    Oracle {
        subjects: vec![
            Box::new(RuntimeSubject::new(Strategy::Interpreter).unwrap()),
            native,
        ],
    }
}

fn exhausted_step(o: &Observation) -> Option<usize> {
    o.steps
        .iter()
        .position(|s| is_added(&s.export) && s.outcome.is_exhaustion())
}

/// The first seeds whose case has an exhausting call to an added function, with a
/// call after it.
fn exhausting_cases(n: usize) -> Vec<Case> {
    let honest = Oracle::ours().unwrap();
    let mut found = Vec::new();
    for seed in 0..3000 {
        let Some(case) = Case::from_input(&seed_bytes(seed)) else {
            continue;
        };
        let Some(c) = honest.check(&case) else {
            continue;
        };
        if let Some(i) = exhausted_step(&c.observations[0])
            && i + 1 < c.observations[0].steps.len()
        {
            assert_eq!(c.verdict, Verdict::Agree, "seed {seed}");
            found.push(case);
            if found.len() == n {
                break;
            }
        }
    }
    assert_eq!(found.len(), n, "too few seeds reach exhaustion");
    found
}

/// Checks the oracle reports a divergence at the step `perturb` changes, on cases that
/// reach exhaustion.
fn assert_caught(perturb: fn(&mut Observation), observable: &str) {
    let lying = oracle_with(Box::new(Lying {
        inner: RuntimeSubject::new(Strategy::Native).unwrap(),
        perturb,
    }));
    for case in exhausting_cases(3) {
        let c = lying.check(&case).unwrap();
        let Verdict::Diverged(d) = &c.verdict else {
            panic!("not caught: {:?}", c.verdict);
        };
        assert!(
            d.observable.starts_with(observable),
            "caught as {d} instead of {observable}"
        );
    }
}

#[test]
fn exhaustion_misreported_as_another_trap_is_caught() {
    assert_caught(
        |o| {
            if let Some(i) = exhausted_step(o) {
                o.steps[i].outcome = Outcome::Trap(TrapKind::Unreachable);
            }
        },
        "outcome",
    );
}

#[test]
fn a_store_unusable_after_exhaustion_is_caught() {
    assert_caught(
        |o| {
            if let Some(i) = exhausted_step(o) {
                for s in &mut o.steps[i + 1..] {
                    s.outcome = Outcome::Trap(TrapKind::CallStackExhausted);
                }
            }
        },
        "outcome",
    );
}

#[test]
fn a_bounded_recursion_that_exhausts_on_one_engine_is_caught() {
    // A stack limit too small for 511 frames: the bounded calls exhaust on one side.
    assert_caught(
        |o| {
            for s in o.steps.iter_mut() {
                let recursion = s.export.contains("deep") || s.export.contains("mutual");
                if is_added(&s.export) && recursion && matches!(s.outcome, Outcome::Returned(_)) {
                    s.outcome = Outcome::Trap(TrapKind::CallStackExhausted);
                    return;
                }
            }
        },
        "outcome",
    );
}

/// Rewrites every `memory.copy` within one 32-bit memory so that a copy to a higher,
/// overlapping address runs front to back one byte at a time (the classic memmove bug:
/// it reads bytes it already overwrote); other copies stay as they are.
struct ForwardCopy {
    memory64: Vec<bool>,
    /// Parameter count of each function type, and type of each defined function.
    params: Vec<u32>,
    func_types: Vec<u32>,
    defined: usize,
}

impl Reencode for ForwardCopy {
    type Error = Infallible;

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        body: wasmparser::FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Infallible>> {
        let params = self.params[self.func_types[self.defined] as usize];
        self.defined += 1;
        let mut locals = Vec::new();
        let mut count = params;
        for l in body.get_locals_reader()? {
            let (n, t) = l?;
            count += n;
            locals.push((n, self.val_type(t)?));
        }
        let (dst, src, len) = (count, count + 1, count + 2);
        locals.push((3, ValType::I32));
        let mut f = wasm_encoder::Function::new(locals);
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            let op = ops.read()?;
            let m = match op {
                Operator::MemoryCopy { dst_mem, src_mem }
                    if dst_mem == src_mem && !self.memory64[dst_mem as usize] =>
                {
                    dst_mem
                }
                other => {
                    f.instruction(&self.instruction(other)?);
                    continue;
                }
            };
            let byte = MemArg {
                offset: 0,
                align: 0,
                target: wasm_encoder::MemArgTarget::Memory(m),
                ordering: None,
            };
            let bump = |l: u32, d: i32| [I::LocalGet(l), I::I32Const(d), I::I32Add, I::LocalSet(l)];
            let mut seq = vec![
                I::LocalSet(len),
                I::LocalSet(src),
                I::LocalSet(dst),
                I::Block(BlockType::Empty),
                I::LocalGet(src),
                I::LocalGet(dst),
                I::I32LtU,
                I::LocalGet(dst),
                I::LocalGet(src),
                I::LocalGet(len),
                I::I32Add,
                I::I32LtU,
                I::I32And,
                I::I32Eqz,
                I::If(BlockType::Empty),
                I::LocalGet(dst),
                I::LocalGet(src),
                I::LocalGet(len),
                I::MemoryCopy {
                    src_mem: m,
                    dst_mem: m,
                },
                I::Br(1),
                I::End,
                I::Loop(BlockType::Empty),
                I::LocalGet(len),
                I::I32Eqz,
                I::BrIf(1),
                I::LocalGet(dst),
                I::LocalGet(src),
                I::I32Load8U(byte),
                I::I32Store8(byte),
            ];
            seq.extend(bump(dst, 1));
            seq.extend(bump(src, 1));
            seq.extend(bump(len, -1));
            seq.extend([I::Br(0), I::End, I::End]);
            for i in &seq {
                f.instruction(i);
            }
        }
        code.function(&f);
        Ok(())
    }
}

fn forward_copy(wasm: &[u8]) -> Option<Vec<u8>> {
    let mut r = ForwardCopy {
        memory64: Vec::new(),
        params: Vec::new(),
        func_types: Vec::new(),
        defined: 0,
    };
    for p in Parser::new(0).parse_all(wasm) {
        match p.ok()? {
            Payload::TypeSection(t) => {
                for g in t {
                    for sub in g.ok()?.into_types() {
                        r.params.push(sub.unwrap_func().params().len() as u32);
                    }
                }
            }
            Payload::ImportSection(i) => {
                for imp in i.into_imports() {
                    if let TypeRef::Memory(m) = imp.ok()?.ty {
                        r.memory64.push(m.memory64);
                    }
                }
            }
            Payload::MemorySection(s) => {
                for m in s {
                    r.memory64.push(m.ok()?.memory64);
                }
            }
            Payload::FunctionSection(s) => {
                for t in s {
                    r.func_types.push(t.ok()?);
                }
            }
            _ => {}
        }
    }
    let mut module = wasm_encoder::Module::new();
    r.parse_core_module(&mut module, Parser::new(0), wasm)
        .ok()?;
    Some(module.finish())
}

/// The native engine running a module whose overlapping forward copies are broken.
struct BrokenMemmove(RuntimeSubject);

impl Subject for BrokenMemmove {
    fn name(&self) -> &str {
        "native-broken-memmove"
    }
    fn observe(&self, wasm: &[u8], shape: &Shape, plan: &Plan) -> Observation {
        let broken = forward_copy(wasm).expect("a generated module re-encodes");
        let mut obs = self.0.observe(&broken, shape, plan);
        obs.engine = self.name().to_string();
        obs
    }
}

#[test]
fn a_memmove_that_copies_front_to_back_is_caught_by_the_overlapping_copies() {
    let honest = Oracle::ours().unwrap();
    let broken = oracle_with(Box::new(BrokenMemmove(
        RuntimeSubject::new(Strategy::Native).unwrap(),
    )));
    let (mut in_added, mut elsewhere) = (0, 0);
    for seed in 0..400 {
        let Some(case) = Case::from_input(&seed_bytes(seed)) else {
            continue;
        };
        assert!(
            matches!(honest.check(&case).unwrap().verdict, Verdict::Agree),
            "seed {seed}: honest engines disagree"
        );
        if let Verdict::Diverged(d) = broken.check(&case).unwrap().verdict {
            if is_added(&d.export) {
                assert!(d.export.contains("memory_copy"), "seed {seed}: {d}");
                in_added += 1;
            } else {
                elsewhere += 1;
            }
        }
    }
    eprintln!("broken memmove caught in {in_added} added functions, {elsewhere} elsewhere");
    assert!(
        in_added >= 5,
        "caught only {in_added} times by the added copies"
    );
}
