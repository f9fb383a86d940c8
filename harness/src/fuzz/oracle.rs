//! The differential oracle: one case (module + plan) through every subject, each
//! observation compared with the first's.

use std::panic::{AssertUnwindSafe, catch_unwind};

use arbitrary::Unstructured;
use runtime::Strategy;

use crate::fuzz::compare::{Divergence, Verdict, compare};
use crate::fuzz::observe::Observation;
use crate::fuzz::plan::{Plan, plan};
use crate::fuzz::shape::{Shape, shape};
use crate::fuzz::subject::{RuntimeSubject, Subject};

/// A module and the bytes its plan is drawn from: everything a run depends on.
#[derive(Debug, Clone)]
pub struct Case {
    pub wasm: Vec<u8>,
    pub plan_bytes: Vec<u8>,
}

impl Case {
    /// The case of fuzz input `bytes`: a generated module, and the rest of the input
    /// for the plan. `None` when the generator gives up on the input.
    pub fn from_input(bytes: &[u8]) -> Option<Case> {
        Case::generate(bytes).map(|(case, ..)| case)
    }

    /// [`Case::from_input`], with the generator configuration the module was made with
    /// and how many of its constants were steered to edge values.
    pub fn generate(bytes: &[u8]) -> Option<(Case, wasm_smith::Config, u32)> {
        let mut u = Unstructured::new(bytes);
        let g = crate::fuzz::generate::generated(&mut u).ok()?;
        let rest = u.take_rest().to_vec();
        let case = Case {
            wasm: g.wasm,
            plan_bytes: rest,
        };
        Some((case, g.config, g.steered_consts))
    }
}

/// What the oracle made of one case.
#[derive(Debug, Clone)]
pub struct Checked {
    pub shape: Shape,
    pub plan: Plan,
    /// One per subject, in the oracle's order.
    pub observations: Vec<Observation>,
    pub verdict: Verdict,
}

pub struct Oracle {
    pub subjects: Vec<Box<dyn Subject>>,
}

impl Oracle {
    /// Our two engines: the interpreter, then the native engine.
    pub fn ours() -> runtime::Result<Oracle> {
        Ok(Oracle {
            subjects: vec![
                Box::new(RuntimeSubject::new(Strategy::Interpreter)?),
                Box::new(RuntimeSubject::new(Strategy::Native)?),
            ],
        })
    }

    pub fn with(mut self, subject: Box<dyn Subject>) -> Oracle {
        self.subjects.push(subject);
        self
    }

    /// Runs `case` on every subject and compares. A subject that panics is a
    /// divergence (observable `panic`). `None` when the module does not parse.
    pub fn check(&self, case: &Case) -> Option<Checked> {
        let shape = shape(&case.wasm)?;
        let mut plan = plan(&shape, &case.plan_bytes);
        if !self.subjects.iter().all(|s| s.applies_host_effects()) {
            plan.without_host_effects();
        }
        let mut observations = Vec::new();
        for s in &self.subjects {
            let run = catch_unwind(AssertUnwindSafe(|| s.observe(&case.wasm, &shape, &plan)));
            match run {
                Ok(o) => observations.push(o),
                Err(p) => {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "panic".into());
                    let verdict = Verdict::Diverged(Divergence {
                        observable: "panic".into(),
                        export: "<any>".into(),
                        args: vec![],
                        step: 0,
                        left: (s.name().to_string(), format!("panicked: {msg}")),
                        right: ("expected".into(), "no panic".into()),
                    });
                    return Some(Checked {
                        shape,
                        plan,
                        observations,
                        verdict,
                    });
                }
            }
        }
        let verdict = self.verdict(&observations);
        Some(Checked {
            shape,
            plan,
            observations,
            verdict,
        })
    }

    /// Compares every observation with the first; the first divergence (or exhaustion
    /// stop) wins. Subjects after the second are references: when our two engines agree
    /// and a reference differs, the verdict is `ReferenceOnly`.
    pub fn verdict(&self, observations: &[Observation]) -> Verdict {
        let mut verdict = Verdict::Agree;
        for (i, other) in observations.iter().enumerate().skip(1) {
            match compare(&observations[0], other) {
                Verdict::Agree | Verdict::ReferenceOnly(_) => {}
                Verdict::Diverged(d) if i >= 2 => {
                    if verdict == Verdict::Agree {
                        verdict = Verdict::ReferenceOnly(d);
                    }
                }
                d @ Verdict::Diverged(_) => return d,
                e @ Verdict::Exhausted { .. } => {
                    if !matches!(verdict, Verdict::Exhausted { .. }) {
                        verdict = e;
                    }
                }
            }
        }
        verdict
    }
}
