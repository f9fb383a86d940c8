//! The interpreter validates each function body as it translates it (one decode per
//! body, `interp/translate/validating.rs`), unless metering is on: then `module::parse`
//! validates every body first, as for the native engine. Both ways must accept and
//! refuse the same modules with the same error (kind, message, offset): checked here on
//! every module of every spec suite, the rejected ones (`assert_invalid`,
//! `assert_malformed`) above all, and on modules with several errors, where the order
//! in which the checks run decides which error is reported.

use runtime::{Config, Engine, Module, Strategy};
use spec_testsuite::{Suite, WasmFeatures};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastDirective, Wat};

/// The two interpreters for `features`: one pass, and validation first (interruptible,
/// which only adds checks to the code, not to what compiles).
fn engines(features: WasmFeatures) -> (Engine, Engine) {
    let one_pass = Config::new(Strategy::Interpreter).features(features);
    let validate_first = one_pass.clone().interruptible(true);
    (
        Engine::new(one_pass).unwrap(),
        Engine::new(validate_first).unwrap(),
    )
}

/// The outcome of compiling `bytes`: `Ok` or the error's full text.
fn outcome(engine: &Engine, bytes: &[u8]) -> Result<(), String> {
    match Module::from_binary(engine, bytes) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("{e:?}")),
    }
}

/// The binary of a directive's module, if it has one we can encode.
fn binary(q: &mut QuoteWat<'_>) -> Option<Vec<u8>> {
    match q {
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) => None,
        q => q.encode().ok(),
    }
}

#[test]
fn one_pass_and_validation_first_agree_on_every_spec_module() {
    let mut names = Suite::known_names();
    names.retain(|n| n != "regressions");
    names.push("regressions".into());
    let (mut compared, mut rejected) = (0, 0);
    let mut disagreements = Vec::new();
    for name in names {
        let suite = Suite::by_name(&name).expect("known suite");
        for file in &suite.files {
            let (one_pass, validate_first) = engines(file.features);
            let mut lexer = Lexer::new(file.source);
            lexer.allow_confusing_unicode(true);
            let buf = ParseBuffer::new_with_lexer(lexer).expect("spec file lexes");
            let wast = parser::parse::<Wast>(&buf).expect("spec file parses");
            for directive in wast.directives {
                let mut q = match directive {
                    WastDirective::Module(q)
                    | WastDirective::ModuleDefinition(q)
                    | WastDirective::AssertInvalid { module: q, .. }
                    | WastDirective::AssertMalformed { module: q, .. } => q,
                    _ => continue,
                };
                let Some(bytes) = binary(&mut q) else {
                    continue;
                };
                let (a, b) = (outcome(&one_pass, &bytes), outcome(&validate_first, &bytes));
                compared += 1;
                rejected += a.is_err() as u32;
                if a != b {
                    disagreements.push(format!(
                        "{}: one pass {a:?}, validation first {b:?}",
                        file.path_for_display
                    ));
                }
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "{} of {compared} modules:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(
        compared > 5_000 && rejected > 1_000,
        "{compared} modules, {rejected} rejected"
    );
}

/// A module with two errors reports the first one met, whichever way its bodies are
/// validated: an invalid body before a malformed data segment is invalid, and a
/// malformed body before a data count mismatch is the body's error.
#[test]
fn the_first_of_several_errors_is_reported() {
    let (one_pass, validate_first) = engines(WasmFeatures::WASM2);
    let module = |body: &[u8], data_count: Option<u8>, data: &[u8]| {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend(b"\x01\x04\x01\x60\0\0"); // type 0: [] -> []
        m.extend(b"\x03\x02\x01\0"); // one function of type 0
        m.extend(b"\x05\x03\x01\0\x01"); // a memory of one page
        if let Some(n) = data_count {
            m.extend([12, 1, n]);
        }
        let mut code = vec![1, body.len() as u8];
        code.extend(body);
        m.push(10);
        m.push(code.len() as u8);
        m.extend(code);
        m.push(11);
        m.push(data.len() as u8);
        m.extend(data);
        m
    };
    let cases = [
        // i32.add on an empty stack; the data segment's memory index runs past the end.
        module(b"\0\x6a\x0b", None, b"\x01\x00\x41"),
        // An unknown opcode; one data segment where the data count said two.
        module(b"\0\xff\x0b", Some(2), b"\x01\x00\x41\0\x0b\0"),
        // Operators after the body's end; a valid passive segment.
        module(b"\0\x0b\x01", None, b"\x01\x01\0"),
        // Control frames left open; a data count of zero and one segment.
        module(b"\0\x02\x40\x0b", Some(0), b"\x01\x01\0"),
    ];
    for bytes in cases {
        let a = outcome(&one_pass, &bytes);
        let b = outcome(&validate_first, &bytes);
        assert!(a.is_err(), "{bytes:?} compiled");
        assert_eq!(a, b, "{bytes:?}");
    }
}
