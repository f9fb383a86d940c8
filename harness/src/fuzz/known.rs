//! Known issues of the reference runtimes, and the check that explains a reference
//! difference by one of them.
//!
//! When our two engines agree and a reference differs, the difference fails the run
//! (like a divergence) unless a known issue of that reference explains it: the case is
//! re-run on every subject in a form that avoids the issue (`fuzz/workaround.rs`), and
//! it counts as explained only when then every subject agrees and, for a bug, our
//! engines observe on the rewritten module what they observed on the original (so the
//! rewrite changed nothing but the path around the issue; a rewrite for a choice the
//! spec leaves open may change the NaN bits our engines chose). A module that uses a feature the reference
//! does not implement is not compared (counted, by feature).

use crate::fuzz::compare::{Verdict, compare};
use crate::fuzz::observe::{Observation, Outcome, Step};
use crate::fuzz::oracle::{Case, Checked, Oracle};
use crate::fuzz::workaround::{Workarounds, rewrite};

/// One known issue of a reference runtime.
pub struct KnownIssue {
    /// How the statistics name it.
    pub name: &'static str,
    /// The reference runtimes that have it (subject names).
    pub engines: &'static [&'static str],
    /// The rewrite that avoids it.
    pub avoid: Workarounds,
    /// Whether the rewrite keeps what our engines observe exactly (checked). Not so for
    /// a rewrite that makes NaN bits canonical: their bits were the engines' choice.
    pub keeps_ours: bool,
}

/// Every known issue, in the order they are tried.
pub const KNOWN: &[KnownIssue] = &[
    // wasmi 2.0.0 inverts a `select` whose condition is a comparison it fuses into the
    // select (harness/README.md; spec-testsuite/regressions/select_eqz_condition.wast).
    KnownIssue {
        name: "wasmi select bug",
        engines: &["wasmi"],
        avoid: Workarounds {
            select_via_global: true,
            relaxed_as_ours: false,
        },
        keeps_ours: true,
    },
    // Not a bug: relaxed SIMD lets each engine pick among several results. Both
    // references fuse `relaxed_madd`/`relaxed_nmadd` (wasmtime even in its deterministic
    // profile), our engines round twice, and the NaN a multiply-add returns has the
    // engine's sign and payload (wasmtime negates `a` for `nmadd`, we negate `a*b`);
    // wasmi also wraps the pair sums of `i32x4.relaxed_dot_i8x16_i7x16_add_s` to 16 bits.
    KnownIssue {
        name: "relaxed SIMD choice",
        engines: &["wasmi", "wasmtime"],
        avoid: Workarounds {
            select_via_global: false,
            relaxed_as_ours: true,
        },
        keeps_ours: false,
    },
];

/// Wasm 3.0 features (names of `features::WASM3`) a reference does not implement: a
/// module that uses one is not compared with it.
pub fn unsupported(engine: &str) -> &'static [&'static str] {
    match engine {
        "wasmi" => &["typed func refs", "exceptions", "GC"],
        _ => &[],
    }
}

/// What a reference difference turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    /// Explained by the known issues named (joined with ` + ` when it took more than one),
    /// or not compared (`NAME lacks FEATURE`).
    Explained(String),
    Unexplained,
}

/// Explains the reference difference of `checked` (a `ReferenceOnly` verdict of `case`
/// on `oracle`), or says it cannot.
pub fn triage(oracle: &Oracle, case: &Case, checked: &Checked) -> Triage {
    let Verdict::ReferenceOnly(d) = &checked.verdict else {
        return Triage::Unexplained;
    };
    let engine = d.right.0.as_str();
    let reference = checked.observations.iter().find(|o| o.engine == engine);
    let lacks = unsupported(engine);
    if !lacks.is_empty() && reference.is_some_and(|o| o.compile.is_err()) {
        let used = crate::fuzz::features::used(&case.wasm, crate::fuzz::generate::FEATURES);
        if let Some(f) = used.iter().find(|f| lacks.contains(f)) {
            return Triage::Explained(format!("{engine} lacks {f} (not compared)"));
        }
    }
    let issues: Vec<&KnownIssue> = (KNOWN.iter())
        .filter(|k| k.engines.contains(&engine))
        .collect();
    // Each issue alone first, so a case is put down to the one issue that explains it;
    // then all of them together, for a case that meets two.
    for k in &issues {
        if explains(oracle, case, checked, k.avoid, k.keeps_ours) {
            return Triage::Explained(k.name.to_string());
        }
    }
    if issues.len() > 1 {
        let all = (issues.iter()).fold(Workarounds::default(), |acc, k| acc.union(k.avoid));
        let keeps_ours = issues.iter().all(|k| k.keeps_ours);
        if explains(oracle, case, checked, all, keeps_ours) {
            let names: Vec<&str> = issues.iter().map(|k| k.name).collect();
            return Triage::Explained(names.join(" + "));
        }
    }
    Triage::Unexplained
}

/// Whether the case, rewritten around `avoid`, makes every subject agree, and (when
/// `keeps_ours`) our engines (the first two subjects) observe what they observed before.
fn explains(
    oracle: &Oracle,
    case: &Case,
    checked: &Checked,
    avoid: Workarounds,
    keeps_ours: bool,
) -> bool {
    let Some(wasm) = rewrite(&case.wasm, avoid) else {
        return false;
    };
    let rewritten = Case {
        wasm,
        plan_bytes: case.plan_bytes.clone(),
    };
    let Some(again) = oracle.check(&rewritten) else {
        return false;
    };
    if !matches!(again.verdict, Verdict::Agree | Verdict::Exhausted { .. }) {
        return false;
    }
    if !keeps_ours {
        return true;
    }
    let ours = checked.observations.iter().zip(&again.observations).take(2);
    ours.into_iter().all(|(before, after)| {
        let (before, after) = without_fuel(before, after);
        matches!(
            compare(&before, &after),
            Verdict::Agree | Verdict::Exhausted { .. }
        )
    })
}

/// Two observations of one engine, before and after a rewrite, without what the rewrite
/// changes by design where fuel is metered: it adds operators, so the fuel left differs,
/// and a call may run out of fuel at another point. The fuel left is dropped, and the
/// steps from the first that ran out of fuel on either side.
fn without_fuel(before: &Observation, after: &Observation) -> (Observation, Observation) {
    let ran_out = |s: &Step| s.outcome == Outcome::Trap(runtime::TrapKind::OutOfFuel);
    let keep = (before.steps.iter().zip(&after.steps))
        .position(|(x, y)| ran_out(x) || ran_out(y))
        .unwrap_or(usize::MAX);
    let strip = |o: &Observation| {
        let mut o = o.clone();
        o.steps.truncate(keep);
        for s in &mut o.steps {
            s.state.fuel = None;
        }
        o
    };
    (strip(before), strip(after))
}

/// A module from its text form (tests and handwritten cases).
pub fn wat_to_wasm(text: &str) -> anyhow::Result<Vec<u8>> {
    let buf = wast::parser::ParseBuffer::new(text)?;
    let mut wat = wast::parser::parse::<wast::Wat>(&buf)?;
    Ok(wat.encode()?)
}
