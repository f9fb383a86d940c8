//! Errors: one typed enum for everything the runtime reports, with the spec's wording
//! where the spec testsuite checks it (trap messages, "unknown import",
//! "incompatible import type").

use std::fmt;

mod backtrace;
pub(crate) use backtrace::FrameNames;
pub use backtrace::{Backtrace, FrameInfo};

/// Why execution trapped.
///
/// Spec: <https://webassembly.github.io/spec/core/exec/runtime.html#results> (a trap
/// carries no payload in the spec; the kinds are the testsuite's messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrapKind {
    Unreachable,
    IntegerDivideByZero,
    IntegerOverflow,
    InvalidConversionToInteger,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallTypeMismatch,
    UndefinedElement,
    UninitializedElement,
    CallStackExhausted,
    /// `call_ref` or `return_call_ref` of a null reference.
    NullFunctionReference,
    /// `ref.as_non_null` of a null reference.
    NullReference,
    /// `throw_ref` of a null exnref.
    NullExceptionReference,
    /// `i31.get_s` or `i31.get_u` of a null reference.
    NullI31Reference,
    /// `ref.cast` of a reference not of the target type.
    CastFailure,
    /// Stopped by an [`InterruptHandle`](crate::InterruptHandle) (not a Wasm trap: the
    /// embedder asked for it).
    Interrupted,
    /// The store's fuel ran out (`Config::consume_fuel`; not a Wasm trap either).
    OutOfFuel,
    /// A `struct.get` or `struct.set` of a null reference.
    NullStructReference,
    /// An `array.*` operator on a null reference.
    NullArrayReference,
    /// An array index or range past the array's length.
    ArrayOutOfBounds,
    /// A GC allocation found no space in the store's heap even after a collection, the
    /// heap at its limit (4 GiB, what 32-bit object offsets reach); the spec sets no
    /// limit, so a trap of the embedding, but never an abort.
    GcHeapExhausted,
}

impl TrapKind {
    /// The message the spec testsuite expects for this trap.
    pub fn message(self) -> &'static str {
        match self {
            TrapKind::Unreachable => "unreachable",
            TrapKind::IntegerDivideByZero => "integer divide by zero",
            TrapKind::IntegerOverflow => "integer overflow",
            TrapKind::InvalidConversionToInteger => "invalid conversion to integer",
            TrapKind::MemoryOutOfBounds => "out of bounds memory access",
            TrapKind::TableOutOfBounds => "out of bounds table access",
            TrapKind::IndirectCallTypeMismatch => "indirect call type mismatch",
            TrapKind::UndefinedElement => "undefined element",
            TrapKind::UninitializedElement => "uninitialized element",
            TrapKind::CallStackExhausted => "call stack exhausted",
            TrapKind::NullFunctionReference => "null function reference",
            TrapKind::NullReference => "null reference",
            TrapKind::NullExceptionReference => "null exception reference",
            TrapKind::NullI31Reference => "null i31 reference",
            TrapKind::CastFailure => "cast failure",
            TrapKind::Interrupted => "interrupted",
            TrapKind::OutOfFuel => "all fuel consumed",
            TrapKind::NullStructReference => "null structure reference",
            TrapKind::NullArrayReference => "null array reference",
            TrapKind::ArrayOutOfBounds => "out of bounds array access",
            TrapKind::GcHeapExhausted => "out of GC heap memory",
        }
    }
}

impl fmt::Display for TrapKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// A trap: its kind, optionally where it happened (e.g. `data[2]`), and the Wasm frames
/// it unwound when it came out of Wasm code (`Trap::backtrace`).
#[derive(Debug, Clone)]
pub struct Trap {
    pub kind: TrapKind,
    pub context: Option<String>,
    backtrace: Option<Box<Backtrace>>,
}

impl Trap {
    pub fn new(kind: TrapKind) -> Trap {
        Trap {
            kind,
            context: None,
            backtrace: None,
        }
    }

    pub fn with_context(kind: TrapKind, context: impl Into<String>) -> Trap {
        Trap {
            kind,
            context: Some(context.into()),
            backtrace: None,
        }
    }

    /// The Wasm frames the trap unwound, innermost first; `None` for a trap that no Wasm
    /// code raised or passed through (e.g. a segment out of bounds at instantiation).
    pub fn backtrace(&self) -> Option<&Backtrace> {
        self.backtrace.as_deref()
    }

    /// The backtrace to append frames to, made empty if there is none yet.
    pub(crate) fn backtrace_mut(&mut self) -> &mut Backtrace {
        self.backtrace.get_or_insert_with(Default::default)
    }
}

/// Two traps are equal when their kind and context are: the backtrace says where the
/// trap happened, not what it is (the engines differ in how deep recursion goes).
impl PartialEq for Trap {
    fn eq(&self, other: &Trap) -> bool {
        self.kind == other.kind && self.context == other.context
    }
}

impl Eq for Trap {}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.context {
            Some(c) => write!(f, "{c}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for Trap {}

impl From<TrapKind> for Trap {
    fn from(kind: TrapKind) -> Trap {
        Trap::new(kind)
    }
}

/// Why bytes did not become a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileErrorKind {
    /// The bytes are not a well-formed binary (or the text did not parse).
    Malformed,
    /// Well-formed but rejected by validation.
    Invalid,
    /// Valid, but uses something this engine does not implement yet.
    Unsupported,
    /// The runtime broke one of its own rules while compiling (a translator bug caught by
    /// a check). Never a property of the module: the spec runner counts it as a failure.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    pub kind: CompileErrorKind,
    pub message: String,
    /// Byte offset in the binary, when known.
    pub offset: Option<u64>,
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            CompileErrorKind::Malformed => "malformed module",
            CompileErrorKind::Invalid => "invalid module",
            CompileErrorKind::Unsupported => "unsupported",
            CompileErrorKind::Internal => "internal error",
        };
        match self.offset {
            Some(o) => write!(f, "{what}: {} (at offset {o:#x})", self.message),
            None => write!(f, "{what}: {}", self.message),
        }
    }
}

/// Why an import could not be linked. The two kinds are the spec testsuite's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkErrorKind {
    UnknownImport,
    IncompatibleImportType,
}

/// A link error, worded like wazero's: `import func[env.f]: incompatible import type:
/// signature mismatch: (i32) -> () != () -> ()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkError {
    pub kind: LinkErrorKind,
    /// `func`, `table`, `memory` or `global`.
    pub extern_kind: &'static str,
    pub module: String,
    pub name: String,
    pub detail: String,
}

impl fmt::Display for LinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            LinkErrorKind::UnknownImport => "unknown import",
            LinkErrorKind::IncompatibleImportType => "incompatible import type",
        };
        write!(
            f,
            "import {}[{}.{}]: {kind}: {}",
            self.extern_kind, self.module, self.name, self.detail
        )
    }
}

/// A request to end the module with an exit code, raised by a host function (like WASI's
/// `proc_exit`) or returned by calls into a module that was closed with a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitError {
    pub code: u32,
}

impl fmt::Display for ExitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "module closed with exit code {}", self.code)
    }
}

/// An exception (Wasm 3.0 exception handling) that left Wasm code uncaught, or one the
/// embedder made to throw from a host function: a handle to the exception object, which
/// lives in its store (its tag and payload are read through the store, `Exception::tag`
/// and `Exception::values`). A host function returns `Err(Error::Exception(e))` to throw
/// it into the calling Wasm code, where a `try_table` may catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Exception {
    /// The id of the store that holds it.
    pub(crate) store: u64,
    /// Its index among the store's exceptions.
    pub(crate) index: u32,
}

/// Every error the runtime returns.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Compile(CompileError),
    #[error("{0}")]
    Link(LinkError),
    #[error("{0}")]
    Trap(Trap),
    #[error("{0}")]
    Exit(ExitError),
    /// The start function failed; `func` names it (`function[3]` or its debug name).
    #[error("start {func} failed: {source}")]
    Start { func: String, source: Box<Error> },
    /// Instantiation failed for a reason that is not a link error or a trap, e.g. a
    /// name that is already registered.
    #[error("{0}")]
    Instantiation(String),
    /// An error raised by a host function.
    #[error("{0}")]
    Host(String),
    /// The embedder used the API wrongly: a handle from another store, arguments of the
    /// wrong type, an engine that is not built.
    #[error("{0}")]
    Usage(String),
    /// An exception that no handler caught (or, from a host function, one to throw).
    #[error("uncaught exception")]
    Exception(Exception),
    /// Several errors, e.g. from closing every module of a store.
    #[error("{}", join(.0))]
    Multiple(Vec<Error>),
}

fn join(errors: &[Error]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// A compile error of `kind` with no byte offset.
    pub(crate) fn compile(kind: CompileErrorKind, message: impl Into<String>) -> Error {
        Error::Compile(CompileError {
            kind,
            message: message.into(),
            offset: None,
        })
    }

    /// The module is valid but uses `what`, which this engine does not implement.
    pub(crate) fn unsupported(what: impl Into<String>) -> Error {
        Error::compile(CompileErrorKind::Unsupported, what)
    }

    /// The engine has no SIMD (or not on this host) and the module uses it.
    pub(crate) fn simd_unsupported() -> Error {
        Error::unsupported("SIMD is not supported by this engine yet")
    }

    /// A failed internal check while compiling: a bug of ours, not of the module.
    pub(crate) fn internal(what: impl Into<String>) -> Error {
        Error::compile(CompileErrorKind::Internal, what)
    }

    /// wasmparser's decoding or validation error `e`, as `kind`, with its offset.
    pub(crate) fn from_wasmparser(
        kind: CompileErrorKind,
        e: &wasmparser::BinaryReaderError,
    ) -> Error {
        Error::Compile(CompileError {
            kind,
            message: e.message().to_string(),
            offset: Some(e.offset()),
        })
    }

    pub fn host(message: impl Into<String>) -> Error {
        Error::Host(message.into())
    }

    pub fn exit(code: u32) -> Error {
        Error::Exit(ExitError { code })
    }

    /// The trap kind behind this error, looking through start-function wrapping.
    pub fn trap_kind(&self) -> Option<TrapKind> {
        match self {
            Error::Trap(t) => Some(t.kind),
            Error::Start { source, .. } => source.trap_kind(),
            _ => None,
        }
    }

    /// The Wasm backtrace of the trap behind this error (looking through start-function
    /// wrapping).
    pub fn backtrace(&self) -> Option<&Backtrace> {
        match self {
            Error::Trap(t) => t.backtrace(),
            Error::Start { source, .. } => source.backtrace(),
            _ => None,
        }
    }

    /// The backtrace of this error if it is a trap, made empty if it has none yet: where
    /// an engine appends the frames of a trap leaving Wasm code.
    pub(crate) fn trap_backtrace_mut(&mut self) -> Option<&mut Backtrace> {
        match self {
            Error::Trap(t) => Some(t.backtrace_mut()),
            _ => None,
        }
    }

    /// The exception behind this error, if an exception escaped (looking through
    /// start-function wrapping).
    pub fn exception(&self) -> Option<Exception> {
        match self {
            Error::Exception(e) => Some(*e),
            Error::Start { source, .. } => source.exception(),
            _ => None,
        }
    }

    /// The exit code behind this error, if it is an exit request.
    pub fn exit_code(&self) -> Option<u32> {
        match self {
            Error::Exit(e) => Some(e.code),
            _ => None,
        }
    }
}

impl From<Exception> for Error {
    fn from(e: Exception) -> Error {
        Error::Exception(e)
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Error {
        Error::Trap(t)
    }
}

impl From<TrapKind> for Error {
    fn from(k: TrapKind) -> Error {
        Error::Trap(Trap::new(k))
    }
}

impl From<CompileError> for Error {
    fn from(e: CompileError) -> Error {
        Error::Compile(e)
    }
}

impl From<LinkError> for Error {
    fn from(e: LinkError) -> Error {
        Error::Link(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
