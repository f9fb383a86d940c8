//! The operator grid (harness/src/grid/): every numeric, conversion and SIMD operator on
//! the cross product of its operand types' edge values, on both engines (and on wasmi
//! with the `reference-wasmi` feature): no difference allowed.

use harness::grid::{self, Difference, Grid, Outcome, Rule};
use runtime::Strategy;

fn show(diffs: &[Difference]) -> String {
    let mut lines: Vec<String> = diffs.iter().take(40).map(|d| d.to_string()).collect();
    if diffs.len() > 40 {
        lines.push(format!("... and {} more", diffs.len() - 40));
    }
    lines.join("\n")
}

#[test]
fn every_operator_agrees_on_every_edge_operand() {
    let grid = Grid::new().unwrap();
    let interp = grid::run(&grid, Strategy::Interpreter).unwrap();
    let native = grid::run(&grid, Strategy::Native).unwrap();
    eprintln!(
        "operator grid: {} operators, {} evaluations per engine",
        grid.ops.len(),
        grid.size()
    );
    assert!(grid.ops.len() >= 400, "{} operators", grid.ops.len());
    let diffs = grid::differences(&grid, &interp, &native, Rule::Exact);
    assert!(
        diffs.is_empty(),
        "{} differences:\n{}",
        diffs.len(),
        show(&diffs)
    );
    // Every kind of outcome occurs, so the grid reaches traps as well as results.
    let all = || interp.outcomes.iter().flatten();
    assert!(!all().any(|o| matches!(o, Outcome::Error(_))));
    for kind in [
        runtime::TrapKind::IntegerDivideByZero,
        runtime::TrapKind::IntegerOverflow,
        runtime::TrapKind::InvalidConversionToInteger,
    ] {
        assert!(all().any(|o| *o == Outcome::Trap(kind)), "no {kind} trap");
    }
    #[cfg(feature = "reference-wasmi")]
    {
        let wasmi = harness::fuzz::reference::grid_results(&grid).unwrap();
        let diffs = grid::differences(&grid, &interp, &wasmi, Rule::Spec);
        assert!(
            diffs.is_empty(),
            "{} differences with wasmi:\n{}",
            diffs.len(),
            show(&diffs)
        );
    }
}

/// The comparison must be able to fail: a wrong result, a wrong trap kind and a NaN
/// payload planted in one engine's outcomes are each reported, exactly there.
#[test]
fn a_planted_wrong_outcome_is_detected() {
    let ops: Vec<_> = grid::ops::all()
        .into_iter()
        .filter(|op| ["i32.div_s", "f32.neg", "i16x8.add_sat_s"].contains(&op.instr.as_str()))
        .collect();
    assert_eq!(ops.len(), 3);
    let grid = Grid::of(ops).unwrap();
    let interp = grid::run(&grid, Strategy::Interpreter).unwrap();
    let native = grid::run(&grid, Strategy::Native).unwrap();
    assert!(grid::differences(&grid, &interp, &native, Rule::Exact).is_empty());

    let plant = |op: usize, edit: &dyn Fn(&Outcome) -> Option<Outcome>| {
        let mut lying = native.clone();
        let j = (lying.outcomes[op].iter())
            .position(|o| edit(o).is_some())
            .expect("an outcome to change");
        lying.outcomes[op][j] = edit(&lying.outcomes[op][j]).unwrap();
        (j, lying)
    };
    // i32.div_s: MIN / -1 reported as divide by zero instead of overflow.
    let (j, lying) = plant(0, &|o| {
        (*o == Outcome::Trap(runtime::TrapKind::IntegerOverflow))
            .then_some(Outcome::Trap(runtime::TrapKind::IntegerDivideByZero))
    });
    let diffs = grid::differences(&grid, &interp, &lying, Rule::Exact);
    assert_eq!(diffs.len(), 1, "{}", show(&diffs));
    assert_eq!(diffs[0].operands, grid::operands(&grid.ops[0])[j]);
    assert_eq!(
        diffs[0].operands,
        vec![i32::MIN as u32 as u128, u32::MAX as u128]
    );
    // f32.neg of a NaN with one payload bit flipped: a difference between our engines,
    // but not under the spec's NaN rule.
    let (_, lying) = plant(1, &|o| match o {
        Outcome::Value(v) if f32::from_bits(*v as u32).is_nan() => Some(Outcome::Value(v ^ 2)),
        _ => None,
    });
    assert_eq!(
        grid::differences(&grid, &interp, &lying, Rule::Exact).len(),
        1
    );
    assert!(grid::differences(&grid, &interp, &lying, Rule::Spec).is_empty());
    // i16x8.add_sat_s: one lane wraps instead of saturating.
    let (_, lying) = plant(2, &|o| match o {
        Outcome::Value(v) if *v & 0xffff == 0x7fff => Some(Outcome::Value(v ^ 0xffff)),
        _ => None,
    });
    assert_eq!(
        grid::differences(&grid, &interp, &lying, Rule::Spec).len(),
        1
    );
}
