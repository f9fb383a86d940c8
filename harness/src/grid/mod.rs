//! The operator grid: every numeric, conversion and SIMD operator (`ops.rs`) evaluated
//! on the cross product of its operand types' edge values (`fuzz::edges`) on each
//! engine, the outcomes compared bit for bit and by trap kind.
//!
//! The module is generated programmatically: one exported function per operator that
//! takes the operands as parameters and returns the result, so one compiled module
//! serves every operand combination. Our two engines must agree exactly, NaN payloads
//! included (both are deterministic; a payload difference is a bug in one of them).
//! A reference runtime is compared by the spec's rules instead: where both results are
//! NaN (a scalar float, or a float lane of a float-shaped v128 result) any NaN matches,
//! since conforming engines may differ in payloads; relaxed SIMD operators are not
//! compared with it (their results are a set). See RATIONALE.md ("The operator grid").

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
    /// Bit for bit, NaN payloads included: our two engines.
    Exact,
    /// The spec's latitude: any NaN matches any NaN (per float lane), relaxed operators
    /// are skipped. For a reference runtime.
    Spec,
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

/// The float lane width of an operator's v128 result (`None`: integer lanes).
fn float_lanes(op: &Op) -> Option<u32> {
    let shape = op.instr.split('.').next()?;
    let name = op.instr.split_whitespace().next()?;
    // Comparisons and conversions to integer lanes yield integer lanes.
    let int_result = [
        "eq",
        "ne",
        "lt",
        "gt",
        "le",
        "ge",
        "trunc_sat",
        "relaxed_trunc",
    ]
    .iter()
    .any(|p| name.split('.').nth(1).is_some_and(|n| n.starts_with(p)));
    match shape {
        "f32x4" if !int_result => Some(32),
        "f64x2" if !int_result => Some(64),
        _ => None,
    }
}

fn is_nan(bits: u128, width: u32) -> bool {
    match width {
        32 => f32::from_bits(bits as u32).is_nan(),
        _ => f64::from_bits(bits as u64).is_nan(),
    }
}

/// Whether `a` and `b` are the same result of `op` under `rule`.
fn same(op: &Op, a: &Outcome, b: &Outcome, rule: Rule) -> bool {
    if a == b || rule == Rule::Exact {
        return a == b;
    }
    let (Outcome::Value(x), Outcome::Value(y)) = (a, b) else {
        return false;
    };
    let lanes = match op.result {
        Ty::F32 => Some(32),
        Ty::F64 => Some(64),
        Ty::V128 => float_lanes(op),
        Ty::I32 | Ty::I64 => None,
    };
    let Some(width) = lanes else {
        return false;
    };
    let mask = if width == 32 {
        u128::from(u32::MAX)
    } else {
        u128::from(u64::MAX)
    };
    (0..(if op.result == Ty::V128 {
        128 / width
    } else {
        1
    }))
        .all(|lane| {
            let (l, r) = ((x >> (lane * width)) & mask, (y >> (lane * width)) & mask);
            l == r || (is_nan(l, width) && is_nan(r, width))
        })
}

/// Every operand tuple on which `a` and `b` differ under `rule`.
pub fn differences(grid: &Grid, a: &Results, b: &Results, rule: Rule) -> Vec<Difference> {
    let mut out = Vec::new();
    for (i, op) in grid.ops.iter().enumerate() {
        if rule == Rule::Spec && op.relaxed {
            continue;
        }
        for (j, tuple) in operands(op).into_iter().enumerate() {
            let (x, y) = (&a.outcomes[i][j], &b.outcomes[i][j]);
            if !same(op, x, y, rule) {
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
