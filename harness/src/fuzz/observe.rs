//! What one engine showed of one module, as plain data: the oracle compares two of
//! these, and a test can perturb one before the comparison (see `tests/fuzz_oracle.rs`).
//!
//! Nothing here refers to a store: functions are named by a store-independent
//! [`FuncId`], so observations of different stores (and different runtimes) compare.

use std::fmt;
use std::sync::Arc;

use runtime::TrapKind;

/// Which function a funcref points at, the same in every store.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FuncId {
    /// A function the module defines, by its module function index.
    Defined(u32),
    /// A host function, by `module.name` of its import.
    Host(String),
    /// A function the observer could not name (store function index); only seen when
    /// instantiation failed after an element segment wrote into an imported table.
    Unknown(u32),
}

impl fmt::Display for FuncId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FuncId::Defined(i) => write!(f, "func[{i}]"),
            FuncId::Host(n) => write!(f, "host:{n}"),
            FuncId::Unknown(i) => write!(f, "store-func#{i}"),
        }
    }
}

/// A value, floats as bits (compared bit for bit).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Val {
    I32(u32),
    I64(u64),
    F32(u32),
    F64(u64),
    V128(u128),
    FuncRef(Option<FuncId>),
    ExternRef(Option<u32>),
    /// An exnref, by whether it is null: exceptions are store objects that the two
    /// engines' stores number alike, but only their presence is compared.
    ExnRef(bool),
    /// A reference of the `any` hierarchy (GC), or null.
    AnyRef(Option<AnyVal>),
    /// A non-null externref carrying an internal reference (`extern.convert_any` of an
    /// `i31` or an object).
    ExternAny(AnyVal),
}

/// A non-null internal reference, without store identity: a GC object is named by its
/// number in the step's [`State::objects`] (`objects.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnyVal {
    I31(u32),
    /// A host reference made internal (`any.convert_extern`).
    Host(u32),
    /// A struct or array: its index in the step's objects, or [`UNNUMBERED`] where no
    /// numbering applies (host-call arguments as the host function hashes them) or the
    /// step's bound on objects was reached.
    Object(u32),
}

/// The number of an object seen where objects are not numbered.
pub const UNNUMBERED: u32 = u32::MAX;

impl fmt::Display for AnyVal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyVal::I31(v) => write!(f, "i31:{v}"),
            AnyVal::Host(n) => write!(f, "host:{n}"),
            AnyVal::Object(UNNUMBERED) => write!(f, "object"),
            AnyVal::Object(n) => write!(f, "object#{n}"),
        }
    }
}

/// A struct or array as a step saw it: its fields or elements, read through the
/// embedder API, references to other objects by their numbers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Object {
    pub kind: ObjectKind,
    /// The number of fields or elements.
    pub len: u32,
    /// The first of them (all, unless the step's bound on values read was reached).
    pub values: Vec<Val>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    Struct,
    Array,
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ObjectKind::Struct => "struct",
            ObjectKind::Array => "array",
        };
        write!(f, "{kind} of {} {}", self.len, show_vals(&self.values))?;
        if self.values.len() < self.len as usize {
            write!(f, " (first {} read)", self.values.len())?;
        }
        Ok(())
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::I32(v) => write!(f, "i32:{} ({v:#x})", *v as i32),
            Val::I64(v) => write!(f, "i64:{} ({v:#x})", *v as i64),
            Val::F32(v) => write!(f, "f32:{} ({v:#010x})", f32::from_bits(*v)),
            Val::F64(v) => write!(f, "f64:{} ({v:#018x})", f64::from_bits(*v)),
            Val::V128(v) => write!(f, "v128:{v:#034x}"),
            Val::FuncRef(None) => write!(f, "funcref:null"),
            Val::FuncRef(Some(id)) => write!(f, "funcref:{id}"),
            Val::ExternRef(None) => write!(f, "externref:null"),
            Val::ExternRef(Some(n)) => write!(f, "externref:{n}"),
            Val::ExnRef(false) => write!(f, "exnref:null"),
            Val::ExnRef(true) => write!(f, "exnref:non-null"),
            Val::AnyRef(None) => write!(f, "anyref:null"),
            Val::AnyRef(Some(a)) => write!(f, "anyref:{a}"),
            Val::ExternAny(a) => write!(f, "externref:{a}"),
        }
    }
}

/// Shows a list of values as `[a, b]`.
pub fn show_vals(vals: &[Val]) -> String {
    let items: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
    format!("[{}]", items.join(", "))
}

/// How a step (instantiation or one export call) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Returned(Vec<Val>),
    Trap(TrapKind),
    /// A host function asked to exit (or the instance was already closed by one).
    Exit(u32),
    /// A link error (compared by class only: the wording is the runtime's).
    Link(String),
    /// An exception escaped the call: its tag (the name the module exports it under,
    /// or `imported`) and its payload, compared exactly.
    Exception {
        tag: String,
        values: Vec<Val>,
    },
    /// Anything else (compared by class only).
    Error(String),
}

impl Outcome {
    /// What must agree between two engines.
    pub fn same_class(&self, other: &Outcome) -> bool {
        match (self, other) {
            (Outcome::Link(_), Outcome::Link(_)) | (Outcome::Error(_), Outcome::Error(_)) => true,
            _ => self == other,
        }
    }

    pub fn is_exhaustion(&self) -> bool {
        matches!(self, Outcome::Trap(TrapKind::CallStackExhausted))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Returned(v) => write!(f, "returned {}", show_vals(v)),
            Outcome::Trap(k) => write!(f, "trap: {k}"),
            Outcome::Exit(c) => write!(f, "exit({c})"),
            Outcome::Link(m) => write!(f, "link error: {m}"),
            Outcome::Exception { tag, values } => {
                write!(f, "exception {tag}{}", show_vals(values))
            }
            Outcome::Error(m) => write!(f, "error: {m}"),
        }
    }
}

/// One call of a host function, as the host saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostCall {
    /// `module.name` of the import.
    pub func: String,
    pub args: Vec<Val>,
    /// What it did to the calling instance, in order (`effects.rs`); host calls made
    /// inside a call back follow this one in the list.
    pub effects: Vec<crate::fuzz::effects::Effected>,
}

impl fmt::Display for HostCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.func, show_vals(&self.args))?;
        for (i, e) in self.effects.iter().enumerate() {
            write!(f, "{} {e}", if i == 0 { " then:" } else { ";" })?;
        }
        Ok(())
    }
}

/// Everything exported (by the module, or by the host modules it imports from), by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    pub globals: Vec<(String, Val)>,
    /// Contents; a memory that did not change since the previous step shares that
    /// step's bytes (see `subject::snapshot`).
    pub memories: Vec<(String, Arc<[u8]>)>,
    pub tables: Vec<(String, Vec<Val>)>,
    /// Engine fuel left after the step, from engines that meter it (ours, which must
    /// agree exactly: `runtime` `module/fuel.rs`); `None` from the references.
    pub fuel: Option<u64>,
    /// The GC objects reachable from the step's results, host-call arguments, globals
    /// and tables, numbered in the order they were first reached (`objects.rs`):
    /// comparing these and the numbers in the values compares the object graphs up to
    /// a bijection between the two stores' objects.
    pub objects: Vec<Object>,
    /// The store's GC heap size after the step (statistics only, not compared: it
    /// depends on when each engine collects); `None` from the references.
    pub gc_heap_bytes: Option<u64>,
}

/// Instantiation or one export call, and what could be seen after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The export called; `<instantiate>` for instantiation.
    pub export: String,
    pub args: Vec<Val>,
    pub outcome: Outcome,
    pub host_calls: Vec<HostCall>,
    pub state: State,
}

pub const INSTANTIATE: &str = "<instantiate>";

/// One engine's run of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// The engine's name (`interp`, `native`, `wasmi`).
    pub engine: String,
    /// `Err(message)` when the module did not compile; then there are no steps.
    pub compile: Result<(), String>,
    /// Instantiation first, then every export call made, in order.
    pub steps: Vec<Step>,
}

impl Observation {
    pub fn instantiated(&self) -> bool {
        self.steps
            .first()
            .is_some_and(|s| matches!(s.outcome, Outcome::Returned(_)))
    }

    /// The export calls (every step after instantiation).
    pub fn calls(&self) -> &[Step] {
        self.steps.get(1..).unwrap_or(&[])
    }
}
