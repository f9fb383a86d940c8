//! Metering without a dispatch of its own (issue 16; RATIONALE.md, "Fuel",
//! "Interruption"): the last pass over a metering function's code.
//!
//! Metering is translated into instructions of its own, `CheckInterrupt` (function
//! entries, loop headers) and `ConsumeFuel` (the charge points of `module/fuel.rs`), and
//! they stay where they are: they may be branch targets, and exactness rests on each
//! charge point being charged exactly when control passes it. What costs is dispatching
//! them, one instruction each, and most of them are dispatched on a loop's back edge
//! (the header's check and charge). So a back edge gets a *metered form*
//! (`bytecode::for_each_instr`): the same branch, which does the work of the metering
//! instruction at its target itself and jumps past it, with the same effects in the
//! same order and one dispatch fewer. The metering instruction stays in place for every
//! other way in (the loop's entry, a fused counter's unfused branch, a `br_table` entry).
//! The forms: `BrFuel`/`BrCheck` (`br`), `I32AddImmBr{LtU,LtS,Ne}{Fuel,Check}` (fused
//! loop counters). One form per kind of work rather than flags, so that a form tests
//! nothing it need not: a `*Check` form only checks the interrupt flag (with fuel on
//! too, the `ConsumeFuel` after the `CheckInterrupt` is dispatched).
//!
//! Other places were measured and left alone (instruction counts, RATIONALE.md): forms
//! of the other conditional branches (one instruction deciding on the comparison at run
//! time, for lack of instruction tags) and of calls and returns cost more than the
//! dispatches they saved.

use crate::interp::bytecode::Instr;

/// Gives the metered form to each `br` and fused loop counter whose target is a
/// `CheckInterrupt` or a `ConsumeFuel`. Nothing moves and nothing is removed, so every
/// target stays valid. Runs after the other peephole passes, which look for the
/// unmetered forms.
pub(super) fn use_metered_forms(instrs: &mut [Instr]) {
    for pc in 0..instrs.len() {
        let landing = |target: u32| Some((Landing::at(instrs.get(target as usize)?)?, target + 1));
        if let Some(metered) = metered_form(&instrs[pc], landing) {
            instrs[pc] = metered;
        }
    }
}

/// The metering instruction at a branch target, which a metered form does itself.
#[derive(Debug, Clone, Copy)]
enum Landing {
    Check,
    Fuel(u32),
}

impl Landing {
    fn at(instr: &Instr) -> Option<Landing> {
        match *instr {
            Instr::CheckInterrupt => Some(Landing::Check),
            Instr::ConsumeFuel { amount } => Some(Landing::Fuel(amount)),
            _ => None,
        }
    }
}

/// The metered form of `instr`, if it has one and its target is metering; `landing`
/// gives the metering at a target and the index past it. An amount too large for a
/// counter's field is left to the `ConsumeFuel`.
fn metered_form(instr: &Instr, landing: impl Fn(u32) -> Option<(Landing, u32)>) -> Option<Instr> {
    use Landing::{Check, Fuel};
    // The arms of the fused counters, alike but for their instructions' names (the
    // amount must fit a counter form's byte).
    macro_rules! forms {
        ($($plain:ident => $check:ident, $fuel:ident;)*) => {
            match *instr {
                Instr::Br { target } => match landing(target)? {
                    (Check, target) => Instr::BrCheck { target },
                    (Fuel(amount), target) => Instr::BrFuel { amount, target },
                },
                $(Instr::$plain { step, dst, rhs, target } => match landing(target)? {
                    (Check, target) => Instr::$check { step, dst, rhs, target },
                    (Fuel(amount), target) => Instr::$fuel {
                        amount: u8::try_from(amount).ok()?,
                        step,
                        dst,
                        rhs,
                        target,
                    },
                },)*
                _ => return None,
            }
        };
    }
    Some(forms! {
        I32AddImmBrLtU => I32AddImmBrLtUCheck, I32AddImmBrLtUFuel;
        I32AddImmBrLtS => I32AddImmBrLtSCheck, I32AddImmBrLtSFuel;
        I32AddImmBrNe => I32AddImmBrNeCheck, I32AddImmBrNeFuel;
    })
}

#[cfg(test)]
mod tests {
    use super::super::translate;
    use crate::interp::bytecode::Instr;
    use crate::module::parse;

    /// The translated instructions of every function of `wat`, targets made absolute
    /// again (`Code::new` stores them relative to the next instruction).
    fn functions(wat: &str, interruptible: bool, fuel: bool) -> Vec<Vec<Instr>> {
        let bytes = wat::parse_str(wat).unwrap();
        let info = parse(bytes.into(), wasmparser::WasmFeatures::default()).unwrap();
        (0..info.bodies.len())
            .map(|f| {
                let scratch = &mut super::super::Scratch::default();
                let code = translate(&info, f, interruptible, fuel, scratch).unwrap();
                let mut instrs: Vec<Instr> = code.instrs.iter().copied().collect();
                for (pc, instr) in instrs.iter_mut().enumerate() {
                    if let Some(rel) = target_of(instr) {
                        instr.set_target(rel.wrapping_add(pc as u32 + 1));
                    }
                }
                instrs
            })
            .collect()
    }

    fn target_of(instr: &Instr) -> Option<u32> {
        struct Target(Option<u32>);
        impl crate::interp::bytecode::OperandVisitor for Target {
            fn slot(&mut self, _: u32) {}
            fn wide(&mut self, _: u32) {}
            fn target(&mut self, t: u32) {
                self.0 = Some(t);
            }
            fn entries(&mut self, _: u32) {}
            fn ends(&mut self) {}
            fn extra_slot(&mut self) {}
            fn extra_imm(&mut self) {}
            fn skips_next(&mut self) {}
            fn simd_operands(&mut self, _: crate::interp::simd::SimdOp, _: u32, _: u32, _: u32) {}
        }
        let mut t = Target(None);
        instr.visit_operands(&mut t);
        t.0
    }

    /// Checks that every metered form does exactly the metering it skips: the
    /// instruction just before its target is the `ConsumeFuel` of the same amount (or
    /// the `CheckInterrupt`); returns how many metered forms there are.
    fn check_forms(instrs: &[Instr]) -> usize {
        let fuel = |amount: u32| Instr::ConsumeFuel { amount };
        let mut forms = 0;
        for (pc, instr) in instrs.iter().enumerate() {
            let before = |target: u32| instrs[target as usize - 1];
            let ok = match *instr {
                Instr::BrFuel { amount, target } => before(target) == fuel(amount),
                Instr::I32AddImmBrLtUFuel { amount, target, .. }
                | Instr::I32AddImmBrLtSFuel { amount, target, .. }
                | Instr::I32AddImmBrNeFuel { amount, target, .. } => {
                    before(target) == fuel(amount.into())
                }
                Instr::BrCheck { target }
                | Instr::I32AddImmBrLtUCheck { target, .. }
                | Instr::I32AddImmBrLtSCheck { target, .. }
                | Instr::I32AddImmBrNeCheck { target, .. } => {
                    before(target) == Instr::CheckInterrupt
                }
                _ => continue,
            };
            assert!(ok, "{pc}: {instr:?} in {instrs:#?}");
            forms += 1;
        }
        forms
    }

    const KERNELS: [&str; 4] = [
        include_str!("../../../../benches/kernels/sieve.wat"),
        include_str!("../../../../benches/kernels/dispatch.wat"),
        include_str!("../../../../benches/kernels/fib.wat"),
        include_str!("../../../../benches/kernels/indirect.wat"),
    ];

    #[test]
    fn metered_forms_do_the_metering_they_skip() {
        for (interruptible, fuel) in [(true, false), (false, true), (true, true)] {
            let mut forms = 0;
            for wat in KERNELS {
                for instrs in functions(wat, interruptible, fuel) {
                    forms += check_forms(&instrs);
                }
            }
            assert!(
                forms >= 5,
                "{forms} metered forms ({interruptible}, {fuel})"
            );
        }
    }

    #[test]
    fn no_metered_forms_without_metering() {
        for wat in KERNELS {
            for instrs in functions(wat, false, false) {
                assert_eq!(check_forms(&instrs), 0);
                assert!(
                    !instrs
                        .iter()
                        .any(|i| matches!(i, Instr::CheckInterrupt | Instr::ConsumeFuel { .. }))
                );
            }
        }
    }

    /// Sieve's inner loop, with fuel: its back edge charges the header, so only the
    /// body's `ConsumeFuel` is dispatched on the way round.
    #[test]
    fn sieve_inner_loop_back_edge_charges_the_header() {
        let sieve = &functions(KERNELS[0], false, true)[0];
        let store8 = sieve
            .iter()
            .position(|i| matches!(i, Instr::I32Store8 { .. }))
            .unwrap();
        let Instr::BrFuel { amount, target } = sieve[store8 + 2] else {
            panic!("{sieve:#?}")
        };
        assert_eq!(sieve[target as usize - 1], Instr::ConsumeFuel { amount });
        assert!(
            matches!(sieve[target as usize], Instr::BrI32GeU { .. }),
            "{sieve:#?}"
        );
    }

    /// Only functions that call check the interrupt flag on entry: `indirect`'s four
    /// leaves do not, its `run` (a `call_indirect` in a loop) does.
    #[test]
    fn leaves_do_not_check_on_entry() {
        let funcs = functions(KERNELS[3], true, false);
        for leaf in &funcs[..4] {
            assert!(!leaf.contains(&Instr::CheckInterrupt), "{leaf:#?}");
        }
        assert_eq!(funcs[4][0], Instr::CheckInterrupt);
    }

    /// Amounts too large for a form's field stay with their `ConsumeFuel`.
    #[test]
    fn large_amounts_are_not_fused() {
        let body = "(drop (i32.const 0))".repeat(200);
        let wat = format!(
            "(module (func (param i32) (local i32)
               (loop $l {body}
                 (local.set 1 (i32.add (local.get 1) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get 1) (local.get 0))))))"
        );
        let instrs = &functions(&wat, false, true)[0];
        check_forms(instrs);
        assert!(
            instrs
                .iter()
                .any(|i| matches!(i, Instr::I32AddImmBrLtU { .. })),
            "{instrs:#?}"
        );
    }
}
