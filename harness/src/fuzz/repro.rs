//! Divergence reports and reproducer files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::fuzz::compare::Divergence;
use crate::fuzz::oracle::{Case, Checked};
use crate::fuzz::plan::{ImportPlan, Plan};

/// The report text of a divergence: what differs, then the plan (host imports and
/// calls) so the case can be read without running it.
pub fn report(label: &str, case: &Case, checked: &Checked, d: &Divergence) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "case: {label}");
    let _ = writeln!(s, "{d}");
    s.push_str(&plan_text(&checked.plan));
    let _ = writeln!(s, "\nsteps (engine {}):", checked.observations[0].engine);
    for (i, step) in checked.observations[0].steps.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {i}: {}{} -> {} ({} host calls)",
            step.export,
            crate::fuzz::observe::show_vals(&step.args),
            step.outcome,
            step.host_calls.len()
        );
        if i > d.step + 1 {
            break;
        }
    }
    let _ = writeln!(
        s,
        "\nreplay: cargo run --release -p harness -- fuzz --replay case.wasm  (reads case.plan beside it)"
    );
    let _ = write!(
        s,
        "wasm: {} bytes, plan: {} bytes",
        case.wasm.len(),
        case.plan_bytes.len()
    );
    s
}

/// The plan in words: the host imports (and the one left out, if any), then the calls.
pub fn plan_text(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nhost imports:");
    for (i, imp) in plan.imports.iter().enumerate() {
        let omitted = if plan.omit == Some(i) {
            " (omitted: link error expected)"
        } else {
            ""
        };
        let what = match &imp.plan {
            ImportPlan::Func { ty, exit, .. } => match exit {
                Some((m, c)) => format!("func {ty}, exits with {c} when hash % {m} == 0"),
                None => format!("func {ty}"),
            },
            ImportPlan::Tag { ty } => format!("tag {ty}"),
            ImportPlan::Global { value, mutable } => {
                format!("global {}{value}", if *mutable { "mut " } else { "" })
            }
            ImportPlan::Memory {
                min,
                max,
                memory64,
                writes,
            } => format!(
                "memory {}{min}..{max:?} pages, {} writes",
                if *memory64 { "i64 " } else { "" },
                writes.len()
            ),
            ImportPlan::Table {
                element,
                min,
                max,
                table64,
                elems,
            } => format!(
                "table {}{element} {min}..{max:?}, {} elements set",
                if *table64 { "i64 " } else { "" },
                elems.len()
            ),
        };
        let _ = writeln!(s, "  {}.{}: {what}{omitted}", imp.module, imp.name);
    }
    let _ = writeln!(s, "\ncalls planned:");
    for call in &plan.calls {
        let _ = writeln!(
            s,
            "  {}{}",
            call.export,
            crate::fuzz::observe::show_vals(&call.args)
        );
    }
    s
}

/// Writes `case.wasm`, `case.wat`, `case.plan` (the plan's input bytes) and
/// `report.txt` into `dir/label/`; returns that folder.
pub fn write(dir: &Path, label: &str, case: &Case, report: &str) -> std::io::Result<PathBuf> {
    let folder = dir.join(label);
    std::fs::create_dir_all(&folder)?;
    std::fs::write(folder.join("case.wasm"), &case.wasm)?;
    let wat = wasmprinter::print_bytes(&case.wasm)
        .unwrap_or_else(|e| format!(";; wasmprinter failed: {e}\n"));
    std::fs::write(folder.join("case.wat"), wat)?;
    std::fs::write(folder.join("case.plan"), &case.plan_bytes)?;
    std::fs::write(folder.join("report.txt"), report)?;
    Ok(folder)
}
