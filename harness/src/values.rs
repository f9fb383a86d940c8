//! Converting `.wast` arguments to runtime values, and matching results against
//! `.wast` expectations (exact bits, NaN patterns, reference patterns, v128 lanes).
//!
//! Floats are compared by bits, never by `==`: the spec asserts exact results, including
//! the sign of zero and NaN payloads, except where a NaN pattern says otherwise.

use runtime::{AnyRef, ExternRef, Value};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::token::{F32, F64};

/// How an actual value compares with an expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Yes,
    No,
    /// The expectation needs something this harness cannot represent (GC references).
    Unsupported(String),
}

/// A `.wast` argument as a runtime value; `Err` names what is not supported.
pub fn to_value(arg: &WastArgCore<'_>) -> Result<Value, String> {
    Ok(match arg {
        WastArgCore::I32(v) => Value::I32(*v),
        WastArgCore::I64(v) => Value::I64(*v),
        WastArgCore::F32(f) => Value::F32(f.bits),
        WastArgCore::F64(f) => Value::F64(f.bits),
        WastArgCore::V128(v) => Value::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(heap) => match null_kind(heap) {
            Some(NullKind::Func) => Value::FuncRef(None),
            Some(NullKind::Extern) => Value::ExternRef(None),
            Some(NullKind::Exn) => Value::ExnRef(None),
            Some(NullKind::Any) => Value::AnyRef(None),
            None => return Err(format!("ref.null of heap type {heap:?}")),
        },
        // The spec harness's host references are plain numbers; ExternRef carries one,
        // and `ref.host` is one made internal (`any.convert_extern`).
        WastArgCore::RefExtern(n) => Value::ExternRef(Some(ExternRef::host(*n))),
        WastArgCore::RefHost(n) => Value::AnyRef(Some(AnyRef::Host(*n))),
    })
}

enum NullKind {
    Func,
    Extern,
    Exn,
    Any,
}

/// Which null reference a heap type denotes: one per hierarchy (the bottom types of Wasm
/// 3.0 are the same nulls). `None` for shared heap types.
fn null_kind(heap: &HeapType<'_>) -> Option<NullKind> {
    match heap {
        HeapType::Abstract { ty, .. } => match ty {
            AbstractHeapType::Func | AbstractHeapType::NoFunc => Some(NullKind::Func),
            AbstractHeapType::Extern | AbstractHeapType::NoExtern => Some(NullKind::Extern),
            AbstractHeapType::Exn | AbstractHeapType::NoExn => Some(NullKind::Exn),
            AbstractHeapType::Any
            | AbstractHeapType::Eq
            | AbstractHeapType::I31
            | AbstractHeapType::Struct
            | AbstractHeapType::Array
            | AbstractHeapType::None => Some(NullKind::Any),
            _ => None,
        },
        HeapType::Concrete(_) | HeapType::Exact(_) => Some(NullKind::Func),
    }
}

/// Whether `actual` satisfies `expected`.
pub fn matches(expected: &WastRetCore<'_>, actual: &Value) -> Match {
    let yes = |b: bool| if b { Match::Yes } else { Match::No };
    match (expected, actual) {
        (WastRetCore::I32(e), Value::I32(a)) => yes(e == a),
        (WastRetCore::I64(e), Value::I64(a)) => yes(e == a),
        (WastRetCore::F32(p), Value::F32(a)) => yes(f32_matches(p, *a)),
        (WastRetCore::F64(p), Value::F64(a)) => yes(f64_matches(p, *a)),
        (WastRetCore::V128(p), Value::V128(a)) => yes(v128_matches(p, *a)),
        (WastRetCore::RefNull(None), Value::FuncRef(r)) => yes(r.is_none()),
        (WastRetCore::RefNull(None), Value::ExternRef(r)) => yes(r.is_none()),
        (WastRetCore::RefNull(None), Value::ExnRef(r)) => yes(r.is_none()),
        (WastRetCore::RefNull(None), Value::AnyRef(r)) => yes(r.is_none()),
        (WastRetCore::RefNull(Some(heap)), _) => match (null_kind(heap), actual) {
            (Some(NullKind::Func), Value::FuncRef(r)) => yes(r.is_none()),
            (Some(NullKind::Extern), Value::ExternRef(r)) => yes(r.is_none()),
            (Some(NullKind::Exn), Value::ExnRef(r)) => yes(r.is_none()),
            (Some(NullKind::Any), Value::AnyRef(r)) => yes(r.is_none()),
            (Some(_), _) => Match::No,
            (None, _) => Match::Unsupported(format!("ref.null {heap:?}")),
        },
        (WastRetCore::RefExtern(None), Value::ExternRef(r)) => yes(r.is_some()),
        (WastRetCore::RefExtern(Some(n)) | WastRetCore::RefHost(n), Value::ExternRef(r)) => {
            yes(*r == Some(ExternRef::host(*n)))
        }
        // The index in `ref.func $f` is the module's, which the embedding API does not
        // map back; any non-null funcref is accepted.
        (WastRetCore::RefFunc(_), Value::FuncRef(r)) => yes(r.is_some()),
        (WastRetCore::Either(options), _) => {
            let mut any_unsupported = None;
            for option in options {
                match matches(option, actual) {
                    Match::Yes => return Match::Yes,
                    Match::No => {}
                    Match::Unsupported(why) => any_unsupported = Some(why),
                }
            }
            any_unsupported.map_or(Match::No, Match::Unsupported)
        }
        (WastRetCore::RefHost(n), Value::AnyRef(r)) => yes(*r == Some(AnyRef::Host(*n))),
        (WastRetCore::RefAny, Value::AnyRef(r)) => yes(r.is_some()),
        // `eq` holds `i31`s and objects, every kind but host references.
        (WastRetCore::RefEq, Value::AnyRef(r)) => yes(matches!(
            r,
            Some(AnyRef::I31(_) | AnyRef::Struct(_) | AnyRef::Array(_))
        )),
        (WastRetCore::RefI31, Value::AnyRef(r)) => yes(matches!(r, Some(AnyRef::I31(_)))),
        (WastRetCore::RefStruct, Value::AnyRef(r)) => yes(matches!(r, Some(AnyRef::Struct(_)))),
        (WastRetCore::RefArray, Value::AnyRef(r)) => yes(matches!(r, Some(AnyRef::Array(_)))),
        (WastRetCore::RefI31Shared, _) => Match::Unsupported("shared references".into()),
        _ => Match::No,
    }
}

fn f32_matches(p: &NanPattern<F32>, bits: u32) -> bool {
    match p {
        NanPattern::Value(v) => v.bits == bits,
        // Canonical: quiet NaN with an all-zero payload, either sign.
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        // Arithmetic: any quiet NaN (exponent all ones, top payload bit set).
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
    }
}

fn f64_matches(p: &NanPattern<F64>, bits: u64) -> bool {
    const QUIET: u64 = 0x7ff8_0000_0000_0000;
    match p {
        NanPattern::Value(v) => v.bits == bits,
        NanPattern::CanonicalNan => bits & 0x7fff_ffff_ffff_ffff == QUIET,
        NanPattern::ArithmeticNan => bits & QUIET == QUIET,
    }
}

fn v128_matches(p: &V128Pattern, bits: u128) -> bool {
    let b = bits.to_le_bytes();
    let lane = |i: usize, size: usize| {
        let mut out = [0u8; 8];
        out[..size].copy_from_slice(&b[i * size..(i + 1) * size]);
        u64::from_le_bytes(out)
    };
    match p {
        V128Pattern::I8x16(v) => (0..16).all(|i| lane(i, 1) as u8 == v[i] as u8),
        V128Pattern::I16x8(v) => (0..8).all(|i| lane(i, 2) as u16 == v[i] as u16),
        V128Pattern::I32x4(v) => (0..4).all(|i| lane(i, 4) as u32 == v[i] as u32),
        V128Pattern::I64x2(v) => (0..2).all(|i| lane(i, 8) == v[i] as u64),
        V128Pattern::F32x4(v) => (0..4).all(|i| f32_matches(&v[i], lane(i, 4) as u32)),
        V128Pattern::F64x2(v) => (0..2).all(|i| f64_matches(&v[i], lane(i, 8))),
    }
}

/// A value for a failure message: floats show their value and bits, since two
/// different NaNs (or 0 and -0) print alike otherwise.
pub fn show_value(v: &Value) -> String {
    match v {
        Value::F32(b) => format!("f32:{} ({b:#010x})", f32::from_bits(*b)),
        Value::F64(b) => format!("f64:{} ({b:#018x})", f64::from_bits(*b)),
        other => other.to_string(),
    }
}

pub fn show_values(vs: &[Value]) -> String {
    let parts: Vec<String> = vs.iter().map(show_value).collect();
    format!("[{}]", parts.join(", "))
}

pub fn show_expected(e: &WastRetCore<'_>) -> String {
    fn nan32(p: &NanPattern<F32>) -> String {
        match p {
            NanPattern::Value(v) => show_value(&Value::F32(v.bits)),
            NanPattern::CanonicalNan => "f32:nan:canonical".into(),
            NanPattern::ArithmeticNan => "f32:nan:arithmetic".into(),
        }
    }
    fn nan64(p: &NanPattern<F64>) -> String {
        match p {
            NanPattern::Value(v) => show_value(&Value::F64(v.bits)),
            NanPattern::CanonicalNan => "f64:nan:canonical".into(),
            NanPattern::ArithmeticNan => "f64:nan:arithmetic".into(),
        }
    }
    match e {
        WastRetCore::I32(v) => format!("i32:{v}"),
        WastRetCore::I64(v) => format!("i64:{v}"),
        WastRetCore::F32(p) => nan32(p),
        WastRetCore::F64(p) => nan64(p),
        WastRetCore::V128(p) => format!("v128:{}", show_v128(p)),
        WastRetCore::RefNull(None) => "ref.null".into(),
        WastRetCore::RefNull(Some(h)) => match null_kind(h) {
            Some(NullKind::Func) => "funcref:null".into(),
            Some(NullKind::Extern) => "externref:null".into(),
            Some(NullKind::Exn) => "exnref:null".into(),
            Some(NullKind::Any) => "anyref:null".into(),
            None => format!("ref.null {h:?}"),
        },
        WastRetCore::RefExtern(None) => "externref:non-null".into(),
        WastRetCore::RefExtern(Some(n)) => format!("externref:{n}"),
        WastRetCore::RefHost(n) => format!("externref:{n} or anyref:host:{n}"),
        WastRetCore::RefFunc(_) => "funcref:non-null".into(),
        WastRetCore::Either(options) => {
            let parts: Vec<String> = options.iter().map(show_expected).collect();
            format!("either({})", parts.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

fn show_v128(p: &V128Pattern) -> String {
    fn join<T: ToString>(xs: impl IntoIterator<Item = T>) -> String {
        xs.into_iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
    match p {
        V128Pattern::I8x16(v) => format!("i8x16 {}", join(v)),
        V128Pattern::I16x8(v) => format!("i16x8 {}", join(v)),
        V128Pattern::I32x4(v) => format!("i32x4 {}", join(v)),
        V128Pattern::I64x2(v) => format!("i64x2 {}", join(v)),
        V128Pattern::F32x4(v) => format!("f32x4 {:?}", v.iter().map(f32_pat).collect::<Vec<_>>()),
        V128Pattern::F64x2(v) => format!("f64x2 {:?}", v.iter().map(f64_pat).collect::<Vec<_>>()),
    }
}

fn f32_pat(p: &NanPattern<F32>) -> String {
    match p {
        NanPattern::Value(v) => format!("{:#010x}", v.bits),
        NanPattern::CanonicalNan => "nan:canonical".into(),
        NanPattern::ArithmeticNan => "nan:arithmetic".into(),
    }
}

fn f64_pat(p: &NanPattern<F64>) -> String {
    match p {
        NanPattern::Value(v) => format!("{:#018x}", v.bits),
        NanPattern::CanonicalNan => "nan:canonical".into(),
        NanPattern::ArithmeticNan => "nan:arithmetic".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_patterns() {
        assert!(f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0000));
        assert!(f32_matches(&NanPattern::CanonicalNan, 0xffc0_0000));
        assert!(!f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0001));
        assert!(f32_matches(&NanPattern::ArithmeticNan, 0x7fc0_0001));
        assert!(!f32_matches(&NanPattern::ArithmeticNan, 0x7f80_0001));
        assert!(f64_matches(
            &NanPattern::CanonicalNan,
            0xfff8_0000_0000_0000
        ));
        assert!(!f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff0_0000_0000_0001
        ));
        assert!(f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff8_0000_0000_0001
        ));
    }

    #[test]
    fn v128_lanes() {
        let bits =
            u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(v128_matches(&V128Pattern::I32x4([1, 2, 3, -1]), bits));
        assert!(!v128_matches(&V128Pattern::I32x4([1, 2, 3, 4]), bits));
    }
}

#[cfg(test)]
mod any_tests {
    use super::*;
    use runtime::I31;
    use wast::parser::{self, ParseBuffer};

    /// The `.wast` result `(text)`, parsed (the parser reads inside the parentheses).
    fn with_ret<R>(text: &str, f: impl FnOnce(&WastRetCore<'_>) -> R) -> R {
        let buf = ParseBuffer::new(text.trim_matches(['(', ')'])).unwrap();
        let ret: WastRetCore<'_> = parser::parse(&buf).unwrap();
        f(&ret)
    }

    /// The `.wast` argument `(text)`, parsed.
    fn with_arg<R>(text: &str, f: impl FnOnce(&WastArgCore<'_>) -> R) -> R {
        let buf = ParseBuffer::new(text.trim_matches(['(', ')'])).unwrap();
        let arg: WastArgCore<'_> = parser::parse(&buf).unwrap();
        f(&arg)
    }

    #[test]
    fn any_hierarchy_results_are_checked() {
        let i31 = Value::AnyRef(Some(AnyRef::I31(I31::wrapping(5))));
        let host = Value::AnyRef(Some(AnyRef::Host(2)));
        let null = Value::AnyRef(None);
        let check = |ret: &str, v: &Value| with_ret(ret, |r| matches(r, v));
        for (ret, value, expected) in [
            ("(ref.i31)", &i31, Match::Yes),
            ("(ref.i31)", &host, Match::No),
            ("(ref.i31)", &null, Match::No),
            ("(ref.eq)", &i31, Match::Yes),
            ("(ref.eq)", &host, Match::No),
            ("(ref.any)", &host, Match::Yes),
            ("(ref.any)", &null, Match::No),
            ("(ref.struct)", &i31, Match::No),
            ("(ref.host 2)", &host, Match::Yes),
            ("(ref.host 3)", &host, Match::No),
            ("(ref.null any)", &null, Match::Yes),
            ("(ref.null none)", &null, Match::Yes),
            ("(ref.null)", &null, Match::Yes),
            ("(ref.null any)", &i31, Match::No),
            ("(ref.null extern)", &null, Match::No),
        ] {
            assert_eq!(check(ret, value), expected, "{ret} against {value}");
        }
    }

    #[test]
    fn any_hierarchy_arguments_convert() {
        let value = |arg: &str| with_arg(arg, to_value);
        assert_eq!(
            value("(ref.host 4)"),
            Ok(Value::AnyRef(Some(AnyRef::Host(4))))
        );
        assert_eq!(
            value("(ref.extern 4)"),
            Ok(Value::ExternRef(Some(ExternRef::host(4))))
        );
        assert_eq!(value("(ref.null eq)"), Ok(Value::AnyRef(None)));
        assert_eq!(value("(ref.null none)"), Ok(Value::AnyRef(None)));
    }
}
