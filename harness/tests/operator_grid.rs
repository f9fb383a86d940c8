//! The operator grid (harness/src/grid/): every numeric, conversion and SIMD operator on
//! the cross product of its operand types' edge values, on both engines and on wasmi (the
//! `reference-wasmi` feature, on by default): no difference allowed.

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
    assert!(grid.ops.len() >= 385, "{} operators", grid.ops.len());
    let diffs = grid::differences(&grid, &interp, &native, Rule::Ours);
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
        let diffs = grid::differences(&grid, &interp, &wasmi, Rule::Reference);
        assert!(
            diffs.is_empty(),
            "{} differences with wasmi:\n{}",
            diffs.len(),
            show(&diffs)
        );
    }
}

/// The comparison must be able to fail: a wrong trap kind, a NaN payload bit where the
/// spec fixes it, a non-canonical NaN where it must be canonical, and a wrapped
/// saturating lane, each planted in one engine's outcomes, are each reported, exactly there.
#[test]
fn a_planted_wrong_outcome_is_detected() {
    let names = ["i32.div_s", "f32.neg", "f32.add", "i16x8.add_sat_s"];
    let ops: Vec<_> = grid::ops::all()
        .into_iter()
        .filter(|op| names.contains(&op.instr.as_str()))
        .collect();
    assert_eq!(ops.len(), names.len());
    let grid = Grid::of(ops).unwrap();
    let interp = grid::run(&grid, Strategy::Interpreter).unwrap();
    let native = grid::run(&grid, Strategy::Native).unwrap();
    assert!(grid::differences(&grid, &interp, &native, Rule::Ours).is_empty());

    let plant = |op: usize, edit: &dyn Fn(&[u128], &Outcome) -> Option<Outcome>| {
        let mut lying = native.clone();
        let tuples = grid::operands(&grid.ops[op]);
        let j = (0..tuples.len())
            .find(|&j| edit(&tuples[j], &lying.outcomes[op][j]).is_some())
            .expect("an outcome to change");
        lying.outcomes[op][j] = edit(&tuples[j], &lying.outcomes[op][j]).unwrap();
        let diffs = grid::differences(&grid, &interp, &lying, Rule::Ours);
        assert_eq!(diffs.len(), 1, "{}", show(&diffs));
        assert_eq!(diffs[0].operands, tuples[j]);
        diffs[0].clone()
    };
    // i32.div_s: MIN / -1 reported as divide by zero instead of overflow.
    let d = plant(0, &|_, o| {
        (*o == Outcome::Trap(runtime::TrapKind::IntegerOverflow))
            .then_some(Outcome::Trap(runtime::TrapKind::IntegerDivideByZero))
    });
    assert_eq!(d.operands, vec![i32::MIN as u32 as u128, u32::MAX as u128]);
    // f32.neg only flips the sign: a NaN payload bit changed is wrong.
    plant(1, &|_, o| match o {
        Outcome::Value(v) if f32::from_bits(*v as u32).is_nan() => Some(Outcome::Value(v ^ 2)),
        _ => None,
    });
    // f32.add of canonical NaNs or infinities of opposite signs: a canonical NaN is
    // required, a payload is wrong even though the other engine's result is a NaN too.
    let d = plant(2, &|args, o| match o {
        Outcome::Value(0x7fc0_0000) if args.iter().all(|a| *a & 0x7fff_ffff != 0x7fc1_2345) => {
            Some(Outcome::Value(0x7fc0_0001))
        }
        _ => None,
    });
    assert!(d.to_string().contains("0x7fc00001"), "{d}");
    // i16x8.add_sat_s: one lane wraps instead of saturating.
    plant(3, &|_, o| match o {
        Outcome::Value(v) if *v & 0xffff == 0x7fff => Some(Outcome::Value(v ^ 0xffff)),
        _ => None,
    });
}
