//! The visit methods that come from lists rather than being written by hand: wasmparser's
//! list of operators, filtered by proposal, drives the methods of the numeric operators
//! of `for_each_numeric!` (`listed_numeric!`, see `visit.rs`), of the SIMD operators of
//! `for_each_simd!` (`listed_simd!`, see `simd.rs`), and a refusal for every operator of
//! a proposal the interpreter does not implement.

/// Given wasmparser's operator list (`for_each_visit_operator!` or
/// `for_each_visit_simd_operator!`), defines the visit methods that come from lists: the
/// numeric and SIMD operators the interpreter lists, and a refusal for every operator of
/// a proposal it does not implement. The other operators of the implemented proposals
/// are written by hand.
macro_rules! generated_visits {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*) )*) => {
        $( generated_visits!(@one $proposal $op $visit $({ $($argty),* })?); )*
    };
    (@one mvp $op:ident $visit:ident $($args:tt)?) => { listed_numeric!($op => $visit); };
    (@one sign_extension $op:ident $visit:ident $($args:tt)?) => { listed_numeric!($op => $visit); };
    (@one saturating_float_to_int $op:ident $visit:ident $($args:tt)?) => {
        listed_numeric!($op => $visit);
    };
    (@one bulk_memory $($hand_written:tt)*) => {};
    (@one reference_types $($hand_written:tt)*) => {};
    (@one simd $op:ident $visit:ident $($args:tt)?) => { listed_simd!($op => $visit); };
    (@one relaxed_simd $($hand_written:tt)*) => {};
    (@one tail_call $($hand_written:tt)*) => {};
    (@one function_references $($hand_written:tt)*) => {};
    (@one exceptions $($hand_written:tt)*) => {};
    // Every GC operator (`gc.rs`).
    (@one gc $($hand_written:tt)*) => {};
    (@one $proposal:ident $op:ident $visit:ident $({ $($argty:ty),* })?) => {
        fn $visit(&mut self $($(, _: $argty)*)?) -> Self::Output {
            Err($crate::module::unsupported_operator(
                "interpreter",
                $crate::module::proposal_name!($proposal),
                stringify!($visit),
            ))
        }
    };
}
pub(super) use generated_visits;
