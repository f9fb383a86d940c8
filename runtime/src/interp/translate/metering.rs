//! Metered forms (`interp/metered.rs`): the last pass over a metering function's code.

use crate::interp::bytecode::Instr;
use crate::interp::metered::BranchCmp;

/// Gives the metered form to each branch that leads to metering: one whose target, or
/// (not taken) whose next instruction, is a `CheckInterrupt` or a `ConsumeFuel`. A form
/// taken carries the metering it does and its target moves past it; nothing else
/// moves and nothing is removed, so every other way in (a fused counter's unfused
/// branch, a `br_table` entry, an exception's landing pad, a call) still runs the
/// metering instructions. Runs after the other peephole passes, which look for the
/// unmetered forms.
pub(super) fn use_metered_forms(instrs: &mut [Instr]) {
    for pc in 0..instrs.len() {
        let at = |k: u32| Landing::at(instrs.get(k as usize));
        if let Some(metered) = metered_form(&instrs[pc], pc as u32, at) {
            instrs[pc] = metered;
        }
    }
}

/// What a metered form can do where control lands: check the interrupt flag, or
/// charge an amount.
#[derive(Debug, Clone, Copy)]
enum Landing {
    Check,
    Fuel(u32),
}

impl Landing {
    fn at(instr: Option<&Instr>) -> Option<Landing> {
        match instr? {
            Instr::CheckInterrupt => Some(Landing::Check),
            &Instr::ConsumeFuel { amount } => Some(Landing::Fuel(amount)),
            _ => None,
        }
    }
}

/// The metered form of the instruction `instr` at index `pc`, if it has one and leads to
/// metering; `at` says what metering is at an index. A conditional branch forwards
/// meters where it is not taken if a `ConsumeFuel` is there (a loop's exit test, an
/// `if`), else where it is taken; one backwards (a loop's back edge, taken on every
/// iteration but the last) where it is taken if it can, else where it is not. Amounts
/// too large for the form's field are left to the `ConsumeFuel`.
fn metered_form(instr: &Instr, pc: u32, at: impl Fn(u32) -> Option<Landing>) -> Option<Instr> {
    use Landing::{Check, Fuel};
    let past = |target: u32| target + 1;
    if let Some((cmp, lhs, rhs, target)) = BranchCmp::of_branch(instr) {
        let not_taken = match at(pc + 1) {
            Some(Fuel(amount)) => u16::try_from(amount).ok(),
            _ => None,
        };
        let taken = at(target);
        return Some(match (taken, not_taken) {
            (_, Some(amount)) if target > pc || taken.is_none() => Instr::BrCmpFuelElse {
                cmp,
                amount,
                lhs,
                rhs,
                target,
            },
            (Some(Check), _) => Instr::BrCmpCheck {
                cmp,
                lhs,
                rhs,
                target: past(target),
            },
            (Some(Fuel(amount)), _) => Instr::BrCmpFuel {
                cmp,
                amount: u16::try_from(amount).ok()?,
                lhs,
                rhs,
                target: past(target),
            },
            (None, _) => return None,
        });
    }
    let landing = |target| Some((at(target)?, past(target)));
    Some(match *instr {
        Instr::Br { target } => match landing(target)? {
            (Check, target) => Instr::BrCheck { target },
            (Fuel(amount), target) => Instr::BrFuel { amount, target },
        },
        Instr::I32AddImmBrLtU {
            step,
            dst,
            rhs,
            target,
        } => match landing(target)? {
            (Check, target) => Instr::I32AddImmBrLtUCheck {
                step,
                dst,
                rhs,
                target,
            },
            (Fuel(amount), target) => {
                let amount = u8::try_from(amount).ok()?;
                Instr::I32AddImmBrLtUFuel {
                    amount,
                    step,
                    dst,
                    rhs,
                    target,
                }
            }
        },
        Instr::I32AddImmBrLtS {
            step,
            dst,
            rhs,
            target,
        } => match landing(target)? {
            (Check, target) => Instr::I32AddImmBrLtSCheck {
                step,
                dst,
                rhs,
                target,
            },
            (Fuel(amount), target) => {
                let amount = u8::try_from(amount).ok()?;
                Instr::I32AddImmBrLtSFuel {
                    amount,
                    step,
                    dst,
                    rhs,
                    target,
                }
            }
        },
        Instr::I32AddImmBrNe {
            step,
            dst,
            rhs,
            target,
        } => match landing(target)? {
            (Check, target) => Instr::I32AddImmBrNeCheck {
                step,
                dst,
                rhs,
                target,
            },
            (Fuel(amount), target) => {
                let amount = u8::try_from(amount).ok()?;
                Instr::I32AddImmBrNeFuel {
                    amount,
                    step,
                    dst,
                    rhs,
                    target,
                }
            }
        },
        _ => return None,
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
                let code = translate(&info, f, interruptible, fuel).unwrap();
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
    /// instruction just before a metered target is the `ConsumeFuel` of the same amount
    /// (or the `CheckInterrupt`), and a `BrCmpFuelElse` is followed by its
    /// `ConsumeFuel`; returns how many metered forms there are.
    fn check_forms(instrs: &[Instr]) -> usize {
        let fuel = |amount: u32| Instr::ConsumeFuel { amount };
        let mut forms = 0;
        for (pc, instr) in instrs.iter().enumerate() {
            let before = |target: u32| instrs[target as usize - 1];
            let ok = match *instr {
                Instr::BrFuel { amount, target } => before(target) == fuel(amount),
                Instr::BrCmpFuel { amount, target, .. } => before(target) == fuel(amount.into()),
                Instr::I32AddImmBrLtUFuel { amount, target, .. }
                | Instr::I32AddImmBrLtSFuel { amount, target, .. }
                | Instr::I32AddImmBrNeFuel { amount, target, .. } => {
                    before(target) == fuel(amount.into())
                }
                Instr::BrCheck { target }
                | Instr::BrCmpCheck { target, .. }
                | Instr::I32AddImmBrLtUCheck { target, .. }
                | Instr::I32AddImmBrLtSCheck { target, .. }
                | Instr::I32AddImmBrNeCheck { target, .. } => {
                    before(target) == Instr::CheckInterrupt
                }
                Instr::BrCmpFuelElse { amount, .. } => instrs[pc + 1] == fuel(amount.into()),
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
                forms >= 10,
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

    /// Sieve's inner loop, with fuel: the exit test charges the body where it is not
    /// taken, the back edge the header where it is taken, so that no `ConsumeFuel` is
    /// dispatched on the way round.
    #[test]
    fn sieve_inner_loop_dispatches_no_charge() {
        let sieve = &functions(KERNELS[0], false, true)[0];
        let store8 = sieve
            .iter()
            .position(|i| matches!(i, Instr::I32Store8 { .. }))
            .unwrap();
        assert!(
            matches!(sieve[store8 - 2], Instr::BrCmpFuelElse { .. }),
            "{sieve:#?}"
        );
        assert!(
            matches!(sieve[store8 + 2], Instr::BrFuel { .. }),
            "{sieve:#?}"
        );
        let Instr::BrFuel { target, .. } = sieve[store8 + 2] else {
            unreachable!()
        };
        assert_eq!(target as usize, store8 - 2, "{sieve:#?}");
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
