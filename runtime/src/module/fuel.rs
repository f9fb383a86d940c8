//! Fuel metering's cost table and charge points, written once for both engines.
//!
//! With [`Config::consume_fuel`](crate::Config::consume_fuel) on, every Wasm operator
//! costs [`operator_cost`] units of the store's fuel. Neither engine charges operator by
//! operator: [`MeteringPlan::of`] cuts a function body into straight-line runs, and each
//! engine subtracts the cost of a whole run where it starts (its *charge point*). A run
//! starts at the function's first operator and after every operator where control may
//! arrive other than by falling through, or may leave: after `loop` (so every iteration
//! pays), `if`, `else`, `end`, a branch, a call or a `throw`. Both engines charge exactly
//! at these points, so they run out of fuel at the same operator and leave the same fuel
//! behind. Not enough fuel for a run traps with "all fuel consumed" before any of it
//! runs and leaves the fuel as it was. Dynamic costs (host calls, bulk operations by
//! length) are charged by the store, which both engines share (`store/ops.rs`).
//! Design: RATIONALE.md, "Fuel".

use wasmparser::{FunctionBody, Operator};

use crate::error::{Error, Result};

/// What a call (direct, indirect, by reference, or tail) costs: more than a plain
/// operator, for the frame it sets up.
pub const CALL_COST: u64 = 5;
/// What the store charges on top of the `call` for running a host function.
pub const HOST_CALL_COST: u64 = 50;
/// Bytes of a bulk memory operation (`memory.fill/copy/init`) that cost one unit
/// (rounded up); table operations cost one unit per element.
pub const BYTES_PER_UNIT: u64 = 64;

/// The fuel one execution of `op` costs. Markers that do nothing at run time (`block`,
/// `loop`, `try_table`, `else`, `end`, `nop`) are free; a call costs [`CALL_COST`];
/// every other operator costs 1.
pub fn operator_cost(op: &Operator) -> u64 {
    match op {
        Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::TryTable { .. }
        | Operator::Else
        | Operator::End
        | Operator::Nop => 0,
        op if is_call(op) => CALL_COST,
        _ => 1,
    }
}

/// Whether `op` calls a function: a call of any kind, tail calls included.
pub(crate) fn is_call(op: &Operator) -> bool {
    matches!(
        op,
        Operator::Call { .. }
            | Operator::CallIndirect { .. }
            | Operator::CallRef { .. }
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. }
    )
}

/// Whether the operator after `op` starts a new straight-line run: control may arrive
/// there from elsewhere (a loop header, an arm, a join), or `op` may not fall through
/// to it (a branch, a call that does not return, a trap).
fn ends_run(op: &Operator) -> bool {
    is_call(op)
        || matches!(
            op,
            Operator::Loop { .. }
                | Operator::If { .. }
                | Operator::Else
                | Operator::End
                | Operator::Br { .. }
                | Operator::BrIf { .. }
                | Operator::BrTable { .. }
                | Operator::BrOnNull { .. }
                | Operator::BrOnNonNull { .. }
                | Operator::BrOnCast { .. }
                | Operator::BrOnCastFail { .. }
                | Operator::Return
                | Operator::Unreachable
                | Operator::Throw { .. }
                | Operator::ThrowRef
        )
}

/// Where one function charges fuel: the byte offset (in the module, as the operators
/// reader reports it) of the operator before which each run's cost is charged, with
/// that cost, in order. Runs that cost nothing have no point.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeteringPlan {
    points: Vec<(u64, u32)>,
}

impl MeteringPlan {
    /// The plan of a (validated) function body.
    pub fn of(body: &FunctionBody) -> Result<MeteringPlan> {
        let malformed = |e| Error::from_wasmparser(crate::error::CompileErrorKind::Malformed, &e);
        let mut reader = body.get_operators_reader().map_err(malformed)?;
        let mut points = Vec::new();
        let mut run: Option<(u64, u64)> = None;
        let mut close = |run: Option<(u64, u64)>| {
            if let Some((at, cost)) = run
                && cost > 0
            {
                points.push((at, u32::try_from(cost).unwrap_or(u32::MAX)));
            }
        };
        let mut starts_run = true;
        while !reader.eof() {
            let (op, at) = reader.read_with_offset().map_err(malformed)?;
            if starts_run {
                close(run.take());
                run = Some((at, 0));
            }
            if let Some((_, cost)) = &mut run {
                *cost += operator_cost(&op);
            }
            starts_run = ends_run(&op);
        }
        close(run);
        Ok(MeteringPlan { points })
    }

    /// The charge points, in order: (operator offset, amount).
    #[cfg(test)]
    pub fn points(&self) -> &[(u64, u32)] {
        &self.points
    }

    /// Walks the plan along a translator's operators.
    pub fn cursor(&self) -> FuelCursor<'_> {
        FuelCursor {
            points: &self.points,
            next: 0,
        }
    }
}

/// A translator's position in a [`MeteringPlan`].
#[derive(Debug)]
pub struct FuelCursor<'a> {
    points: &'a [(u64, u32)],
    next: usize,
}

impl FuelCursor<'_> {
    /// The amount to charge before the operator at byte offset `at`, if it starts a run.
    /// Offsets must come in increasing order (operators in body order).
    pub fn charge_at(&mut self, at: u64) -> Option<u32> {
        while let Some(&(point, amount)) = self.points.get(self.next) {
            if point > at {
                return None;
            }
            self.next += 1;
            if point == at {
                return Some(amount);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_of(wat: &str) -> Vec<u32> {
        let bytes = wat::parse_str(wat).unwrap();
        let features = wasmparser::WasmFeatures::default();
        let info = crate::module::parse(bytes.into(), features).unwrap();
        let plan = MeteringPlan::of(&info.body_reader(0)).unwrap();
        plan.points().iter().map(|p| p.1).collect()
    }

    #[test]
    fn runs_split_at_loops_branches_and_calls() {
        // entry: i32.const, local.set, loop (free) = 2; header: local.get, i32.const,
        // i32.add, local.tee, i32.const, i32.lt_u, br_if = 7; after br_if: end (free),
        // call = 5; after call: end (free) = nothing.
        let amounts = plan_of(
            r#"(module (func $f (local i32)
                 i32.const 0 local.set 0
                 (loop
                   local.get 0 i32.const 1 i32.add local.tee 0 i32.const 10 i32.lt_u
                   br_if 0)
                 call $g)
               (func $g))"#,
        );
        assert_eq!(amounts, [2, 7, 5]);
    }

    #[test]
    fn arms_are_charged_separately() {
        let amounts = plan_of(
            r#"(module (func (param i32) (result i32)
                 local.get 0
                 (if (result i32) (then i32.const 1) (else i32.const 2 i32.const 3 i32.add))
                 i32.const 4 i32.mul))"#,
        );
        // entry: local.get, if = 2; then: 1; else: 3; join: i32.const, i32.mul = 2.
        assert_eq!(amounts, [2, 1, 3, 2]);
    }

    #[test]
    fn cursor_finds_exact_offsets_only() {
        let plan = MeteringPlan {
            points: vec![(10, 1), (20, 2)],
        };
        let mut c = plan.cursor();
        assert_eq!(c.charge_at(5), None);
        assert_eq!(c.charge_at(10), Some(1));
        assert_eq!(c.charge_at(15), None);
        assert_eq!(c.charge_at(20), Some(2));
        assert_eq!(c.charge_at(30), None);
    }
}
