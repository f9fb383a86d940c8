//! The human-readable report: a row per file (passed / failed / skipped per engine), a
//! summary per engine that spells out what was skipped and why, and the first failure
//! of every failing file.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::report::{JsonReport, format_failure};

const PATH_WIDTH: usize = 44;

pub fn render(report: &JsonReport) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:PATH_WIDTH$}", "file");
    for e in &report.engines {
        let _ = write!(out, "  {:>26}", format!("{e}: pass / fail / skip"));
    }
    out.push('\n');
    for f in &report.files {
        let _ = write!(out, "{:PATH_WIDTH$}", f.path);
        let mut failing = false;
        for e in &report.engines {
            match f.engines.get(e) {
                Some(r) => {
                    failing |= r.failed > 0;
                    let _ = write!(out, "  {:>10} {:>6} {:>8}", r.passed, r.failed, r.skipped);
                }
                None => {
                    let _ = write!(out, "  {:>26}", "-");
                }
            }
        }
        if failing {
            out.push_str("  FAIL");
        }
        out.push('\n');
    }

    out.push_str("\nsummary (suites: ");
    out.push_str(&report.suites.join(", "));
    out.push_str(")\n");
    for e in &report.engines {
        let Some(t) = report.totals.get(e) else {
            continue;
        };
        let _ = writeln!(
            out,
            "  {e}: {} files ({} failing): {} passed, {} failed, {} skipped",
            t.files, t.files_failed, t.passed, t.failed, t.skipped
        );
        if t.skipped > 0 {
            out.push_str("    skipped assertions (not passed, not run):\n");
            let mut grouped: BTreeMap<&str, u64> = BTreeMap::new();
            for (why, n) in &t.skip_reasons {
                *grouped.entry(skip_group(why)).or_default() += *n;
            }
            let mut reasons: Vec<_> = grouped.into_iter().collect();
            reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            for (why, n) in reasons {
                let _ = writeln!(out, "      {n:>7}  {why}");
            }
        }
    }

    by_folder(report, &mut out);

    let mut first = true;
    for f in &report.files {
        for (e, r) in &f.engines {
            let Some(failure) = r.failures.first() else {
                continue;
            };
            if first {
                out.push_str("\nfirst failure of each failing file:\n");
                first = false;
            }
            let more = r.failed - 1;
            let _ = writeln!(out, "[{e}] {}", format_failure(&f.path, failure));
            if more > 0 {
                let _ = writeln!(out, "    (+{more} more failures in this file)");
            }
        }
    }
    out
}

/// One line per folder (`wasm-v3`, `memory64`, ...) with each engine's passed / failed /
/// skipped assertions, when the files come from more than one: where a suite like `3.0`
/// stands, proposal by proposal.
fn by_folder(report: &JsonReport, out: &mut String) {
    let mut folders: Vec<(&str, Vec<[u64; 3]>)> = Vec::new();
    for f in &report.files {
        let folder = f.path.split_once('/').map_or("", |(folder, _)| folder);
        if folders.last().is_none_or(|(last, _)| *last != folder) {
            folders.push((folder, vec![[0; 3]; report.engines.len()]));
        }
        let counts = &mut folders.last_mut().expect("just pushed").1;
        for (e, count) in report.engines.iter().zip(counts.iter_mut()) {
            if let Some(r) = f.engines.get(e) {
                count[0] += r.passed;
                count[1] += r.failed;
                count[2] += r.skipped;
            }
        }
    }
    if folders.len() < 2 {
        return;
    }
    let _ = write!(out, "\nby folder{:width$}", "", width = PATH_WIDTH - 9);
    for e in &report.engines {
        let _ = write!(out, "  {:>26}", format!("{e}: pass / fail / skip"));
    }
    out.push('\n');
    for (folder, counts) in folders {
        let _ = write!(out, "  {folder:w$}", w = PATH_WIDTH - 2);
        for [passed, failed, skipped] in counts {
            let _ = write!(out, "  {passed:>10} {failed:>6} {skipped:>8}");
        }
        out.push('\n');
    }
}

/// The summary's line for a skip reason: every reason the runtime gives for refusing the
/// GC proposal (which type or instruction follows in parentheses) counts under one, so the
/// GC skip count reads at a glance.
fn skip_group(why: &str) -> &str {
    const GC: &str = "garbage collection is not supported yet";
    if why.starts_with(GC) { GC } else { why }
}
