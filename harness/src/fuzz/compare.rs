//! Compares two observations of one case: the first observable that differs.

use std::fmt;
use std::sync::Arc;

use crate::fuzz::observe::{HostCall, Observation, Outcome, State, Step, Val, show_vals};

/// The first difference between two engines on one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// What differs: `compile`, `outcome`, `host calls`, `global NAME`, `memory NAME`,
    /// `table NAME`, `steps`.
    pub observable: String,
    /// The step it was seen after: the export called (`<instantiate>` for instantiation)
    /// and its arguments, and its position (0 = instantiation).
    pub export: String,
    pub args: Vec<Val>,
    pub step: usize,
    /// `(engine, what it showed)` for each side.
    pub left: (String, String),
    pub right: (String, String),
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "divergence in {} after step {} ({}{})",
            self.observable,
            self.step,
            self.export,
            show_vals(&self.args)
        )?;
        writeln!(f, "  {:>7}: {}", self.left.0, self.left.1)?;
        write!(f, "  {:>7}: {}", self.right.0, self.right.1)
    }
}

/// The result of comparing two observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every observable agreed.
    Agree,
    /// One side exhausted its call stack at this step, in a function wasm-smith wrote:
    /// compared up to it, then stopped (stack depths differ by design; exhaustion in the
    /// blind-spot functions is compared as an outcome).
    Exhausted {
        step: usize,
    },
    Diverged(Divergence),
    /// Our engines agree with each other, the reference runtime (`--reference`) differs:
    /// a bug both our engines share, or one of the reference's; triage by hand.
    ReferenceOnly(Divergence),
}

fn first_diff<T: PartialEq>(a: &[T], b: &[T]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or_else(|| (a.len() != b.len()).then(|| a.len().min(b.len())))
}

fn show_opt<T: fmt::Display>(v: Option<&T>) -> String {
    v.map_or_else(|| "(nothing)".to_string(), |v| v.to_string())
}

/// Compares `a` and `b` step by step.
pub fn compare(a: &Observation, b: &Observation) -> Verdict {
    let div = |observable: &str, step: usize, s: Option<&Step>, l: String, r: String| {
        Verdict::Diverged(Divergence {
            observable: observable.to_string(),
            export: s.map_or_else(|| "<compile>".to_string(), |s| s.export.clone()),
            args: s.map_or_else(Vec::new, |s| s.args.clone()),
            step,
            left: (a.engine.clone(), l),
            right: (b.engine.clone(), r),
        })
    };
    if a.compile.is_ok() != b.compile.is_ok() {
        let show = |c: &Result<(), String>| match c {
            Ok(()) => "compiled".to_string(),
            Err(e) => format!("compile error: {e}"),
        };
        return div("compile", 0, None, show(&a.compile), show(&b.compile));
    }
    let lenient = [a, b]
        .iter()
        .any(|o| o.engine == "wasmi" || o.engine == "wasmtime");
    for (i, (x, y)) in a.steps.iter().zip(&b.steps).enumerate() {
        // In wasm-smith's code the depth is unknown, so exhaustion may fall between the
        // engines' limits: stop comparing there. The blind-spot functions recurse either
        // safely shallow or without bound (`fuzz/blind_spots.rs`): there exhaustion is an
        // outcome like any other, and the comparison goes on.
        let exhausted = x.outcome.is_exhaustion() || y.outcome.is_exhaustion();
        if exhausted && !crate::fuzz::blind_spots::is_added(&x.export) {
            return Verdict::Exhausted { step: i };
        }
        // A reference does not meter our engine fuel: where ours ran out, in the call or
        // in a host function's call back, it went on (and may end otherwise, e.g. at the
        // fuel global's `unreachable`).
        let out_of_fuel = |o: &Outcome| *o == Outcome::Trap(runtime::TrapKind::OutOfFuel);
        let ran_out = |s: &Step| {
            out_of_fuel(&s.outcome)
                || (s.host_calls.iter().flat_map(|c| &c.effects)).any(|e| {
                    matches!(e, crate::fuzz::effects::Effected::Called { outcome, .. } if out_of_fuel(outcome))
                })
        };
        if lenient && (ran_out(x) || ran_out(y)) {
            return Verdict::Exhausted { step: i };
        }
        let same = x.outcome.same_class(&y.outcome)
            || lenient && same_for_reference(&x.outcome, &y.outcome);
        if !same {
            return div(
                "outcome",
                i,
                Some(x),
                x.outcome.to_string(),
                y.outcome.to_string(),
            );
        }
        let host_calls = (x.host_calls.iter().zip(&y.host_calls))
            .position(|(cx, cy)| !same_host_call(cx, cy, lenient))
            .or_else(|| {
                let n = x.host_calls.len().min(y.host_calls.len());
                (x.host_calls.len() != y.host_calls.len()).then_some(n)
            });
        if let Some(k) = host_calls {
            return div(
                &format!("host calls (call #{k})"),
                i,
                Some(x),
                show_opt(x.host_calls.get(k)),
                show_opt(y.host_calls.get(k)),
            );
        }
        let before = i.checked_sub(1).map(|p| (&a.steps[p], &b.steps[p]));
        if let Some(d) = compare_state(i, x, y, before, &div) {
            return d;
        }
    }
    if a.steps.len() != b.steps.len() {
        let n = a.steps.len().min(b.steps.len());
        return div(
            "steps",
            n,
            a.steps.get(n).or(b.steps.get(n)),
            format!("{} steps", a.steps.len()),
            format!("{} steps", b.steps.len()),
        );
    }
    Verdict::Agree
}

/// Two host calls agree: same function and arguments, same effects, the outcomes of
/// calls back compared like export calls' (error wording aside, the references' trap
/// naming allowed for).
fn same_host_call(x: &HostCall, y: &HostCall, lenient: bool) -> bool {
    use crate::fuzz::effects::Effected::Called;
    x.func == y.func
        && x.args == y.args
        && x.effects.len() == y.effects.len()
        && (x.effects.iter().zip(&y.effects)).all(|(ex, ey)| match (ex, ey) {
            (
                Called {
                    export: nx,
                    args: ax,
                    outcome: ox,
                },
                Called {
                    export: ny,
                    args: ay,
                    outcome: oy,
                },
            ) => {
                nx == ny && ax == ay && (ox.same_class(oy) || lenient && same_for_reference(ox, oy))
            }
            _ => ex == ey,
        })
}

/// The memory snapshot `name` of a step, if it has one.
fn memory<'s>(step: &'s Step, name: &str) -> Option<&'s Arc<[u8]>> {
    (step.state.memories.iter()).find_map(|(n, m)| (n == name).then_some(m))
}

/// `before`: the previous step of each side, which compared equal.
fn compare_state(
    i: usize,
    x: &Step,
    y: &Step,
    before: Option<(&Step, &Step)>,
    div: &impl Fn(&str, usize, Option<&Step>, String, String) -> Verdict,
) -> Option<Verdict> {
    // Compared by name: runtimes list exports in different orders (ours in declaration
    // order, wasmi sorted).
    // Fuel left, where both engines meter it, unless a call stack ran out on the way
    // (the engines' depths differ by design, and so does the fuel they used).
    let exhausted = |s: &Step| {
        s.outcome.is_exhaustion()
            || (s.host_calls.iter().flat_map(|c| &c.effects)).any(|e| {
                matches!(e, crate::fuzz::effects::Effected::Called { outcome, .. }
                    if outcome.is_exhaustion())
            })
    };
    if let (Some(fx), Some(fy)) = (x.state.fuel, y.state.fuel)
        && fx != fy
        && !exhausted(x)
        && !exhausted(y)
    {
        return Some(div("fuel left", i, Some(x), fx.to_string(), fy.to_string()));
    }
    let (sx, sy) = (sorted(&x.state), sorted(&y.state));
    let (sx, sy) = (&sx, &sy);
    for (what, nx, ny) in [
        ("globals", names(&sx.globals), names(&sy.globals)),
        ("memories", names(&sx.memories), names(&sy.memories)),
        ("tables", names(&sx.tables), names(&sy.tables)),
    ] {
        if nx != ny {
            return Some(div(what, i, Some(x), nx.join(","), ny.join(",")));
        }
    }
    for (&(name, gx), &(_, gy)) in sx.globals.iter().zip(&sy.globals) {
        if gx != gy {
            return Some(div(
                &format!("global {name}"),
                i,
                Some(x),
                gx.to_string(),
                gy.to_string(),
            ));
        }
    }
    for (&(name, mx), &(_, my)) in sx.memories.iter().zip(&sy.memories) {
        // Whole memories first (shared snapshots, then memcmp); the offset only on a
        // mismatch. A memory neither side changed since the previous step (a subject
        // shares an unchanged snapshot with its previous one) compared equal there: no
        // need to compare its bytes again, which was most of the comparing.
        let unchanged = before.is_some_and(|(bx, by)| {
            memory(bx, name).is_some_and(|p| Arc::ptr_eq(p, mx))
                && memory(by, name).is_some_and(|p| Arc::ptr_eq(p, my))
        });
        if unchanged || Arc::ptr_eq(mx, my) || mx[..] == my[..] {
            continue;
        }
        if mx.len() != my.len() {
            return Some(div(
                &format!("memory {name} size"),
                i,
                Some(x),
                format!("{} bytes", mx.len()),
                format!("{} bytes", my.len()),
            ));
        }
        if let Some(off) = first_diff(&mx[..], &my[..]) {
            let window = |m: &[u8]| {
                let end = (off + 8).min(m.len());
                format!(
                    "byte {off:#x} = {:#04x} (bytes {off:#x}.. {:02x?})",
                    m[off],
                    &m[off..end]
                )
            };
            return Some(div(
                &format!("memory {name} contents"),
                i,
                Some(x),
                window(mx),
                window(my),
            ));
        }
    }
    for (&(name, tx), &(_, ty)) in sx.tables.iter().zip(&sy.tables) {
        if tx.len() != ty.len() {
            return Some(div(
                &format!("table {name} size"),
                i,
                Some(x),
                format!("{} elements", tx.len()),
                format!("{} elements", ty.len()),
            ));
        }
        if let Some(k) = first_diff(tx, ty) {
            return Some(div(
                &format!("table {name} element {k}"),
                i,
                Some(x),
                tx[k].to_string(),
                ty[k].to_string(),
            ));
        }
    }
    // The values above name objects by number, so they agreed on which objects are the
    // same; what is left is what the objects hold (`objects.rs`).
    let (ox, oy) = (&x.state.objects, &y.state.objects);
    if let Some(k) = first_diff(ox, oy) {
        return Some(div(
            &format!("GC object #{k}"),
            i,
            Some(x),
            show_opt(ox.get(k)),
            show_opt(oy.get(k)),
        ));
    }
    None
}

fn names<T>(v: &[(&String, &T)]) -> Vec<String> {
    v.iter().map(|(n, _)| n.to_string()).collect()
}

/// wasmi and wasmtime report `call_indirect` past a table's end as `out of bounds table
/// access`; the spec (and our engines) say `undefined element`. wasmtime has one `null
/// reference` trap for `call_ref`, `ref.as_non_null` and `throw_ref` of null.
fn same_for_reference(x: &Outcome, y: &Outcome) -> bool {
    use runtime::TrapKind::{
        NullExceptionReference, NullFunctionReference, NullReference, TableOutOfBounds,
        UndefinedElement,
    };
    let (Outcome::Trap(x), Outcome::Trap(y)) = (x, y) else {
        return false;
    };
    let table = |k| matches!(k, UndefinedElement | TableOutOfBounds);
    let null = |k| {
        matches!(
            k,
            NullReference | NullFunctionReference | NullExceptionReference
        )
    };
    table(*x) && table(*y) || null(*x) && null(*y)
}

/// A state's items by name, borrowed (memories are not copied).
struct Sorted<'a> {
    globals: Vec<(&'a String, &'a Val)>,
    memories: Vec<(&'a String, &'a Arc<[u8]>)>,
    tables: Vec<(&'a String, &'a Vec<Val>)>,
}

fn by_name<T>(items: &[(String, T)]) -> Vec<(&String, &T)> {
    let mut v: Vec<(&String, &T)> = items.iter().map(|(n, x)| (n, x)).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn sorted(s: &State) -> Sorted<'_> {
    Sorted {
        globals: by_name(&s.globals),
        memories: by_name(&s.memories),
        tables: by_name(&s.tables),
    }
}
