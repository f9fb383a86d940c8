//! Validation and translation of a body in one decode (RATIONALE.md, "Interpreter
//! compile: one decode per body").
//!
//! Each operator is decoded once and visited twice: first by wasmparser's validator for
//! the function, then, if that accepts it, by the translator. So the translator only ever
//! sees a valid prefix of the body, as it did when `module::parse` validated every body
//! before translation, and every error is the one that validation alone would give, with
//! the same kind (invalid: `module::parse` classes whatever its body validation refuses,
//! undecodable bytes included, as invalid), message and offset.

use wasmparser::{
    BinaryReaderError, FrameKind, FrameStack, FuncValidator, FunctionBody, Operator,
    ValidatorResources, VisitOperator, VisitSimdOperator,
};

use super::{FuncCode, Nesting, Scratch, Translator};
use crate::error::{CompileErrorKind, Error, Result};
use crate::module::ModuleInfo;

fn invalid(e: BinaryReaderError) -> Error {
    Error::from_wasmparser(CompileErrorKind::Invalid, &e)
}

/// Validates and translates defined function `defined`, whose body `body` is not
/// validated yet, with `validator` (made for this body) and `scratch`'s buffers; also says whether the body makes
/// or reads GC objects (`ModuleInfo::uses_objects`). The decoding follows
/// `FuncValidator::validate` step by step (the locals with the body's reader as it
/// comes, the operators with the validator's features), so it accepts and refuses
/// exactly what that does.
pub(crate) fn translate_validating(
    info: &ModuleInfo,
    defined: usize,
    body: &FunctionBody<'_>,
    validator: &mut FuncValidator<ValidatorResources>,
    scratch: &mut Scratch,
) -> Result<(FuncCode, bool)> {
    let mut t = Translator::new(info, defined, false, scratch);
    let mut reader = body.get_binary_reader();
    for _ in 0..reader.read_var_u32().map_err(invalid)? {
        let offset = reader.original_position();
        let count = reader.read().map_err(invalid)?;
        let ty = reader.read().map_err(invalid)?;
        validator
            .define_locals(offset, count, ty)
            .map_err(invalid)?;
        t.declare_locals(count, ty)?;
    }
    reader.set_features(*validator.features());
    let mut uses_objects = false;
    while !reader.eof() {
        let mut both = Both {
            validator: validator.visitor(reader.original_position()),
            translator: &mut t,
            uses_objects: &mut uses_objects,
        };
        reader.visit_operator(&mut both).map_err(invalid)??;
    }
    reader
        .finish_expression(&validator.visitor(reader.original_position()))
        .map_err(invalid)?;
    Ok((t.finish(false, scratch)?, uses_objects))
}

/// One operator's visitor: the validator's (`V`, for the operator's offset), then the
/// translator's.
struct Both<'t, 'i, V> {
    validator: V,
    translator: &'t mut Translator<'i>,
    uses_objects: &'t mut bool,
}

impl<V: FrameStack> FrameStack for Both<'_, '_, V> {
    /// The validator's control stack: it is what tells the decoder that the body ended.
    fn current_frame(&self) -> Option<FrameKind> {
        self.validator.current_frame()
    }
}

/// What an operator does to the nesting of blocks, by its name in wasmparser's list.
macro_rules! nesting {
    (Block) => {
        Nesting::Open
    };
    (Loop) => {
        Nesting::Open
    };
    (If) => {
        Nesting::Open
    };
    (TryTable) => {
        Nesting::Open
    };
    (Else) => {
        Nesting::Else
    };
    (End) => {
        Nesting::End
    };
    ($other:ident) => {
        Nesting::Other
    };
}

/// Given wasmparser's list of operators, the visit methods of `Both`: validate (a
/// refusal is the module's error), note a GC operator that makes or reads objects, then
/// translate, or skip in unreachable code as `translate` does.
macro_rules! visit_both {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                self.validator.$visit($($($arg.clone()),*)?).map_err(invalid)?;
                visit_both!(@objects $proposal self $op $({ $($arg),* })?);
                if self.translator.reachable {
                    self.translator.$visit($($($arg),*)?)
                } else {
                    self.translator.skip_unreachable(nesting!($op));
                    Ok(())
                }
            }
        )*
    };
    (@objects gc $self:ident $op:ident $({ $($arg:ident),* })?) => {
        let op = Operator::$op { $($($arg: $arg.clone()),*)? };
        if !crate::module::gc_operator_without_objects(&op) {
            *$self.uses_objects = true;
        }
    };
    (@objects $proposal:ident $self:ident $op:ident $($args:tt)?) => {};
}

/// The same for the SIMD operators, which the validator visits through its SIMD visitor.
macro_rules! visit_both_simd {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $(
            fn $visit(&mut self $($(, $arg: $argty)*)?) -> Self::Output {
                match self.validator.simd_visitor() {
                    Some(v) => v.$visit($($($arg.clone()),*)?).map_err(invalid)?,
                    None => return Err(no_simd_validator()),
                }
                if self.translator.reachable {
                    VisitSimdOperator::$visit(&mut *self.translator $($(, $arg)*)?)
                } else {
                    self.translator.skip_unreachable(Nesting::Other);
                    Ok(())
                }
            }
        )*
    };
}

/// wasmparser's validator visits SIMD operators whenever it is built with them, as ours
/// is (the `simd` feature of the workspace's dependency).
fn no_simd_validator() -> Error {
    Error::internal("interpreter: the validator does not visit SIMD operators")
}

#[allow(clippy::clone_on_copy)]
impl<'a, V> VisitOperator<'a> for Both<'_, '_, V>
where
    V: VisitOperator<'a, Output = wasmparser::Result<()>>,
{
    type Output = Result<()>;

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = Self::Output>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(visit_both);
}

#[allow(clippy::clone_on_copy)]
impl<'a, V> VisitSimdOperator<'a> for Both<'_, '_, V>
where
    V: VisitOperator<'a, Output = wasmparser::Result<()>>,
{
    wasmparser::for_each_visit_simd_operator!(visit_both_simd);
}
