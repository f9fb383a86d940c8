//! The operator grid: every numeric, conversion and SIMD operator (`ops.rs`) evaluated
//! on the cross product of its operand types' edge values (`fuzz::edges`) on each
//! engine, the outcomes compared bit for bit and by trap kind.
//!
//! The module is generated programmatically: one exported function per operator that
//! takes the operands as parameters and returns the result, so one compiled module
//! serves every operand combination. Results are compared bit for bit and traps by
//! kind, with one latitude the spec gives: a NaN lane of a float arithmetic result may
//! differ in sign and payload between engines (our two do differ: which operand's
//! payload `min`/`max`/`add` propagate), but each must obey the spec's NaN rule
//! (canonical when every NaN operand is canonical, arithmetic otherwise), which is
//! checked. Relaxed SIMD operators are compared between our engines only (for a
//! reference their results are a set). See RATIONALE.md ("The operator grid").

pub mod ops;

use std::fmt;

use runtime::{Config, Engine, Instance, Module, Store, Strategy, TrapKind, Value};

use crate::fuzz::edges;
pub use ops::{Op, Ty};

/// The outcome of one operator on one operand tuple.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The result's bits (v128: all 128).
    Value(u128),
    Trap(TrapKind),
    /// Anything else (an API error): never expected.
    Error(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Value(v) => write!(f, "{v:#x}"),
            Outcome::Trap(k) => write!(f, "trap: {k}"),
            Outcome::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// The grid's module: the operators, and the binary with function `f{i}` for `ops[i]`.
pub struct Grid {
    pub ops: Vec<Op>,
    pub wasm: Vec<u8>,
}

impl Grid {
    /// The grid of every operator in `ops::all()`.
    pub fn new() -> anyhow::Result<Grid> {
        Grid::of(ops::all())
    }

    /// The grid of `ops` only.
    pub fn of(ops: Vec<Op>) -> anyhow::Result<Grid> {
        let mut text = String::from("(module\n");
        for (i, op) in ops.iter().enumerate() {
            let params: Vec<&str> = op.params.iter().map(|t| t.text()).collect();
            let gets: String = (0..op.params.len())
                .map(|p| format!("local.get {p} "))
                .collect();
            text.push_str(&format!(
                "(func (export \"f{i}\") (param {}) (result {}) {gets}{})\n",
                params.join(" "),
                op.result.text(),
                op.instr
            ));
        }
        text.push(')');
        let buf = wast::parser::ParseBuffer::new(&text)?;
        let mut wat = wast::parser::parse::<wast::Wat>(&buf)?;
        Ok(Grid {
            ops,
            wasm: wat.encode()?,
        })
    }

    /// How many evaluations one engine makes.
    pub fn size(&self) -> usize {
        self.ops.iter().map(|op| operands(op).len()).sum()
    }
}

/// The edge values of `ty`, as bits.
pub fn edge_values(ty: Ty) -> Vec<u128> {
    match ty {
        Ty::I32 => edges::I32.iter().map(|&v| u128::from(v)).collect(),
        Ty::I64 => edges::I64.iter().map(|&v| u128::from(v)).collect(),
        Ty::F32 => edges::F32.iter().map(|&v| u128::from(v)).collect(),
        Ty::F64 => edges::F64.iter().map(|&v| u128::from(v)).collect(),
        Ty::V128 => edges::V128.to_vec(),
    }
}

/// The cross product of `op`'s operand edge values, in a fixed order.
pub fn operands(op: &Op) -> Vec<Vec<u128>> {
    let mut tuples = vec![Vec::new()];
    for ty in &op.params {
        let values = edge_values(*ty);
        tuples = tuples
            .iter()
            .flat_map(|t| {
                values.iter().map(move |v| {
                    let mut t = t.clone();
                    t.push(*v);
                    t
                })
            })
            .collect();
    }
    tuples
}

fn to_value(ty: Ty, bits: u128) -> Value {
    match ty {
        Ty::I32 => Value::I32(bits as u32 as i32),
        Ty::I64 => Value::I64(bits as u64 as i64),
        Ty::F32 => Value::F32(bits as u32),
        Ty::F64 => Value::F64(bits as u64),
        Ty::V128 => Value::V128(bits),
    }
}

fn bits(v: &Value) -> Option<u128> {
    Some(match v {
        Value::I32(x) => u128::from(*x as u32),
        Value::I64(x) => u128::from(*x as u64),
        Value::F32(x) => u128::from(*x),
        Value::F64(x) => u128::from(*x),
        Value::V128(x) => *x,
        _ => return None,
    })
}

/// One engine's outcomes: `outcomes[i][j]` is operator `i` on `operands(&ops[i])[j]`.
#[derive(Debug, Clone)]
pub struct Results {
    pub engine: String,
    pub outcomes: Vec<Vec<Outcome>>,
}

/// Evaluates the whole grid on one of our engines.
pub fn run(grid: &Grid, strategy: Strategy) -> anyhow::Result<Results> {
    let engine = Engine::new(Config::new(strategy).features(crate::fuzz::generate::FEATURES))?;
    let module = Module::from_binary(&engine, &grid.wasm)?;
    let store = Store::new(&engine);
    let instance = Instance::new(&store, &module, None)?;
    let mut outcomes = Vec::with_capacity(grid.ops.len());
    for (i, op) in grid.ops.iter().enumerate() {
        let func = instance
            .get_func(&store, &format!("f{i}"))
            .ok_or_else(|| anyhow::anyhow!("no export f{i}"))?;
        let mut row = Vec::new();
        for tuple in operands(op) {
            let args: Vec<Value> = (op.params.iter().zip(&tuple))
                .map(|(ty, b)| to_value(*ty, *b))
                .collect();
            row.push(match func.call(&store, &args) {
                Ok(vals) => match vals.as_slice() {
                    [v] => bits(v).map_or_else(|| Outcome::Error(format!("{v:?}")), Outcome::Value),
                    other => Outcome::Error(format!("{} results", other.len())),
                },
                Err(e) => match e.trap_kind() {
                    Some(k) => Outcome::Trap(k),
                    None => Outcome::Error(e.to_string()),
                },
            });
        }
        outcomes.push(row);
    }
    Ok(Results {
        engine: strategy.name().to_string(),
        outcomes,
    })
}

/// How two results are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Our two engines: bit for bit, except the NaN lanes of a float arithmetic result,
    /// which may differ in payload and sign as the spec allows, but each must obey the
    /// spec's NaN rule (canonical when every NaN operand is, arithmetic otherwise).
    Ours,
    /// A reference runtime: as `Ours`, relaxed operators skipped (their results are a set).
    Reference,
}

/// One operand tuple on which two engines differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub instr: String,
    pub operands: Vec<u128>,
    pub left: (String, Outcome),
    pub right: (String, Outcome),
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let operands: Vec<String> = self.operands.iter().map(|v| format!("{v:#x}")).collect();
        write!(
            f,
            "{} ({}): {} gives {}, {} gives {}",
            self.instr,
            operands.join(", "),
            self.left.0,
            self.left.1,
            self.right.0,
            self.right.1
        )
    }
}

/// Float operators whose NaN results the spec leaves open (`nans` in the spec's
/// numerics): the arithmetic ones. Bit operations on floats (`abs`, `neg`, `copysign`,
/// `pmin`/`pmax`, lane moves) keep their operand's bits and are compared exactly.
const ARITHMETIC: &[&str] = &[
    "add",
    "sub",
    "mul",
    "div",
    "min",
    "max",
    "sqrt",
    "ceil",
    "floor",
    "trunc",
    "nearest",
    "demote_f64",
    "promote_f32",
    "demote_f64x2_zero",
    "promote_low_f32x4",
    "relaxed_min",
    "relaxed_max",
    "relaxed_madd",
    "relaxed_nmadd",
];

/// `(operand lane width, result lane width)` of a float arithmetic operator, `None` for
/// every other operator.
fn nan_lanes(op: &Op) -> Option<(u32, u32)> {
    let (shape, name) = op.instr.split_once('.')?;
    if !ARITHMETIC.contains(&name) {
        return None;
    }
    match (shape, name) {
        ("f32" | "f32x4", "demote_f64" | "demote_f64x2_zero") => Some((64, 32)),
        ("f64" | "f64x2", "promote_f32" | "promote_low_f32x4") => Some((32, 64)),
        ("f32" | "f32x4", _) => Some((32, 32)),
        ("f64" | "f64x2", _) => Some((64, 64)),
        _ => None,
    }
}

fn lanes(v: u128, width: u32, ty: Ty) -> impl Iterator<Item = u128> {
    let n = if ty == Ty::V128 { 128 / width } else { 1 };
    let mask = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::from(u64::MAX)
    };
    (0..n).map(move |i| (v >> (i * width)) & mask)
}

fn is_nan(bits: u128, width: u32) -> bool {
    match width {
        32 => f32::from_bits(bits as u32).is_nan(),
        _ => f64::from_bits(bits as u64).is_nan(),
    }
}

/// A NaN whose payload is exactly the quiet bit (either sign).
fn is_canonical(bits: u128, width: u32) -> bool {
    let magnitude = bits & !(1u128 << (width - 1));
    magnitude
        == if width == 32 {
            0x7fc0_0000
        } else {
            0x7ff8_0000_0000_0000
        }
}

/// A NaN with the quiet bit set.
fn is_arithmetic(bits: u128, width: u32) -> bool {
    is_nan(bits, width) && bits & (1u128 << (width - if width == 32 { 10 } else { 13 })) != 0
}

/// Whether a NaN result lane obeys the spec's rule for these operands: canonical when
/// every NaN among the operands' lanes is canonical (or there is none), arithmetic
/// otherwise. (Per vector, not per lane: looser for lane-mixing conversions, never
/// stricter than the spec.)
fn nan_allowed(op: &Op, operands: &[u128], lane: u128, (input, output): (u32, u32)) -> bool {
    let all_canonical =
        op.params.iter().zip(operands).all(|(ty, v)| {
            lanes(*v, input, *ty).all(|l| !is_nan(l, input) || is_canonical(l, input))
        });
    if all_canonical {
        is_canonical(lane, output)
    } else {
        is_arithmetic(lane, output)
    }
}

/// Whether `a` and `b` are the same outcome of `op` on `operands` under the rules.
fn same(op: &Op, operands: &[u128], a: &Outcome, b: &Outcome) -> bool {
    let (Outcome::Value(x), Outcome::Value(y), Some(widths)) = (a, b, nan_lanes(op)) else {
        return a == b;
    };
    let width = widths.1;
    lanes(*x, width, op.result)
        .zip(lanes(*y, width, op.result))
        .all(|(l, r)| match (is_nan(l, width), is_nan(r, width)) {
            (true, true) => {
                nan_allowed(op, operands, l, widths) && nan_allowed(op, operands, r, widths)
            }
            _ => l == r,
        })
}

/// Every operand tuple on which `a` and `b` differ under `rule`.
pub fn differences(grid: &Grid, a: &Results, b: &Results, rule: Rule) -> Vec<Difference> {
    let mut out = Vec::new();
    for (i, op) in grid.ops.iter().enumerate() {
        if rule == Rule::Reference && op.relaxed {
            continue;
        }
        for (j, tuple) in operands(op).into_iter().enumerate() {
            let (x, y) = (&a.outcomes[i][j], &b.outcomes[i][j]);
            if !same(op, &tuple, x, y) {
                out.push(Difference {
                    instr: op.instr.clone(),
                    operands: tuple,
                    left: (a.engine.clone(), x.clone()),
                    right: (b.engine.clone(), y.clone()),
                });
            }
        }
    }
    out
}

/// `harness grid`: the whole grid on both engines; `Ok(true)` when they agree.
pub fn run_cli() -> anyhow::Result<bool> {
    let start = std::time::Instant::now();
    let grid = Grid::new()?;
    let interp = run(&grid, Strategy::Interpreter)?;
    let native = run(&grid, Strategy::Native)?;
    let diffs = differences(&grid, &interp, &native, Rule::Ours);
    let engines = if cfg!(feature = "reference-wasmi") {
        "interp, native, wasmi"
    } else {
        "interp, native"
    };
    #[cfg(feature = "reference-wasmi")]
    let diffs = {
        let wasmi = crate::fuzz::reference::grid_results(&grid)?;
        let mut all = diffs;
        all.extend(differences(&grid, &interp, &wasmi, Rule::Reference));
        all
    };
    for d in &diffs {
        println!("{d}");
    }
    println!(
        "operator grid ({engines}): {} operators, {} evaluations per engine, {} differences, {:.2} s",
        grid.ops.len(),
        grid.size(),
        diffs.len(),
        start.elapsed().as_secs_f64()
    );
    Ok(diffs.is_empty())
}
