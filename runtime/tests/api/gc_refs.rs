//! The part of GC that needs no heap object (issue 15, step 2b), on both engines:
//! `i31`s, `ref.eq`, the conversions between `any` and `extern`, casts to every type
//! that can occur without struct and array types, and `anyref` values through the API
//! (arguments, results, globals, tables).

use runtime::{
    AnyRef, Config, Error, ExternRef, I31, Module, Store, Strategy, TrapKind, Value, WasmFeatures,
};

use crate::common::{call, engine_with, engine3, i32s, instantiate, setup3, trap_kind};

on_both_engines!(
    i31_wraps_to_31_bits_and_extends_both_ways,
    casts_to_abstract_types_test_the_reference_kind,
    casts_in_the_exception_hierarchy,
    ref_cast_returns_the_reference_or_traps,
    br_on_cast_and_br_on_cast_fail_branch_both_ways,
    casts_to_concrete_function_types_compare_canonical_types,
    ref_eq_compares_i31_values_and_nulls,
    conversions_between_any_and_extern_round_trip,
    anyrefs_pass_through_functions_globals_and_tables,
    constant_expressions_make_i31s,
    operators_on_objects_compile,
    struct_and_array_types_are_declared_and_their_nulls_used,
    calls_through_a_supertype_accept_subtyped_functions,
    function_subtypes_cross_modules_and_the_api,
);

fn i31(v: i32) -> Value {
    Value::AnyRef(Some(AnyRef::I31(I31::wrapping(v))))
}

fn host(n: u32) -> Value {
    Value::ExternRef(Some(ExternRef::host(n)))
}

fn i31_wraps_to_31_bits_and_extends_both_ways(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (func (export "get") (param i32) (result i32 i32)
            (i31.get_s (ref.i31 (local.get 0)))
            (i31.get_u (ref.i31 (local.get 0))))
          (func (export "make") (param i32) (result i31ref) (ref.i31 (local.get 0)))
          (func (export "get_s") (param i31ref) (result i32) (i31.get_s (local.get 0)))
          (func (export "get_u") (param i31ref) (result i32) (i31.get_u (local.get 0))))"#,
    );
    for (v, s, u) in [
        (0, 0, 0),
        (1, 1, 1),
        (-1, -1, 0x7fff_ffff),
        (0x3fff_ffff, 0x3fff_ffff, 0x3fff_ffff),
        (0x4000_0000, -0x4000_0000, 0x4000_0000),
        (i32::MAX, -1, 0x7fff_ffff),
        (i32::MIN, 0, 0),
        (i32::MIN + 5, 5, 5),
    ] {
        let got = i32s(call(&store, &instance, "get", &[Value::I32(v)]));
        assert_eq!(got, [s, u], "ref.i31 {v:#x}");
        let made = call(&store, &instance, "make", &[Value::I32(v)]).unwrap();
        assert_eq!(made, [i31(v)], "ref.i31 {v:#x} through the API");
        let back = i32s(call(&store, &instance, "get_s", &[i31(v)]));
        assert_eq!(back, [s], "i31.get_s of an API i31 {v:#x}");
    }
    for name in ["get_s", "get_u"] {
        assert_eq!(
            trap_kind(call(&store, &instance, name, &[Value::AnyRef(None)])),
            TrapKind::NullI31Reference,
            "{name} of null"
        );
    }
}

/// `ref.test` against each abstract type, on null, an `i31` and a host reference made
/// internal, and in the extern hierarchy on the same values made external.
fn casts_to_abstract_types_test_the_reference_kind(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (func (export "any") (param anyref) (result i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
            (ref.test (ref any) (local.get 0))
            (ref.test anyref (local.get 0))
            (ref.test (ref eq) (local.get 0))
            (ref.test eqref (local.get 0))
            (ref.test (ref i31) (local.get 0))
            (ref.test i31ref (local.get 0))
            (ref.test (ref struct) (local.get 0))
            (ref.test arrayref (local.get 0))
            (ref.test (ref none) (local.get 0))
            (ref.test nullref (local.get 0)))
          (func (export "extern") (param anyref) (result i32 i32 i32 i32)
            (ref.test (ref extern) (extern.convert_any (local.get 0)))
            (ref.test externref (extern.convert_any (local.get 0)))
            (ref.test (ref noextern) (extern.convert_any (local.get 0)))
            (ref.test nullexternref (extern.convert_any (local.get 0))))
          (func (export "internal") (param externref) (result anyref)
            (any.convert_extern (local.get 0))))"#,
    );
    let internal_host = call(&store, &instance, "internal", &[host(9)]).unwrap()[0].clone();
    assert_eq!(internal_host, Value::AnyRef(Some(AnyRef::Host(9))));
    let cases = [
        ("null", Value::AnyRef(None), [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]),
        ("i31", i31(-3), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]),
        ("host", internal_host, [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
    ];
    for (what, value, expected) in cases {
        let got = i32s(call(&store, &instance, "any", std::slice::from_ref(&value)));
        assert_eq!(got, expected, "any hierarchy, {what}");
        let non_null = i32::from(what != "null");
        let got = i32s(call(&store, &instance, "extern", &[value]));
        assert_eq!(
            got,
            [non_null, 1, 0, 1 - non_null],
            "extern hierarchy, {what}"
        );
    }
}

/// The exception hierarchy's casts: `exn` admits every exception, `noexn` only null.
fn casts_in_the_exception_hierarchy(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (tag $e)
          (func (export "caught") (result i32 i32 i32 i32)
            (local $x exnref)
            (local.set $x
              (block $h (result exnref)
                (try_table (catch_all_ref $h) (throw $e))
                (unreachable)))
            (ref.test (ref exn) (local.get $x))
            (ref.test (ref noexn) (local.get $x))
            (ref.test (ref exn) (ref.null exn))
            (ref.test nullexnref (ref.null exn))))"#,
    );
    assert_eq!(i32s(call(&store, &instance, "caught", &[])), [1, 0, 0, 1]);
}

fn ref_cast_returns_the_reference_or_traps(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (func (export "to_i31") (param anyref) (result i32)
            (i31.get_s (ref.cast (ref i31) (local.get 0))))
          (func (export "to_eq") (param anyref) (result eqref) (ref.cast eqref (local.get 0)))
          (func (export "to_struct") (param anyref) (result structref)
            (ref.cast structref (local.get 0)))
          (func (export "to_none") (param anyref) (result i32)
            (ref.is_null (ref.cast nullref (local.get 0)))))"#,
    );
    let cast = |name, v| call(&store, &instance, name, &[v]);
    assert_eq!(cast("to_i31", i31(-7)).unwrap(), [Value::I32(-7)]);
    assert_eq!(cast("to_eq", i31(8)).unwrap(), [i31(8)]);
    assert_eq!(
        cast("to_eq", Value::AnyRef(None)).unwrap(),
        [Value::AnyRef(None)]
    );
    assert_eq!(
        cast("to_struct", Value::AnyRef(None)).unwrap(),
        [Value::AnyRef(None)]
    );
    assert_eq!(
        cast("to_none", Value::AnyRef(None)).unwrap(),
        [Value::I32(1)]
    );
    let host = Value::AnyRef(Some(AnyRef::Host(1)));
    for (name, value) in [
        ("to_i31", Value::AnyRef(None)),
        ("to_i31", host.clone()),
        ("to_eq", host),
        ("to_struct", i31(1)),
        ("to_none", i31(0)),
    ] {
        assert_eq!(
            trap_kind(cast(name, value.clone())),
            TrapKind::CastFailure,
            "{name} of {value}"
        );
    }
}

/// Each function returns 1 when the branch was taken, 0 when execution fell through,
/// with the reference checked on both paths.
fn br_on_cast_and_br_on_cast_fail_branch_both_ways(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (func (export "on_cast") (param anyref) (result i32 i32)
            (local $null i32)
            (block $taken (result i31ref)
              (br_on_cast $taken anyref i31ref (local.get 0))
              (local.set $null (ref.is_null))
              (return (i32.const 0) (local.get $null)))
            (local.set $null (ref.is_null))
            (i32.const 1)
            (local.get $null))
          (func (export "on_cast_value") (param anyref) (result i32)
            (block $taken (result (ref i31))
              (br_on_cast $taken anyref (ref i31) (local.get 0))
              (drop)
              (return (i32.const -100)))
            (i31.get_s))
          (func (export "on_cast_fail") (param anyref) (result i32)
            (block $failed (result anyref)
              (br_on_cast_fail $failed anyref (ref i31) (local.get 0))
              (return (i31.get_u)))
            (drop)
            (i32.const -1))
          (func (export "in_loop") (param i32) (result i32)
            (local $sum i32)
            (local $r anyref)
            (loop $next
              (local.set $r
                (select (result anyref)
                  (ref.i31 (local.get 0))
                  (ref.null any)
                  (i32.and (local.get 0) (i32.const 1))))
              (block $null (result anyref)
                (br_on_cast_fail $null anyref (ref i31) (local.get $r))
                (i31.get_s)
                (local.get $sum)
                (i32.add)
                (local.set $sum)
                (ref.null any))
              (drop)
              (br_if $next (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
            (local.get $sum)))"#,
    );
    let on_cast = |v| i32s(call(&store, &instance, "on_cast", &[v]));
    assert_eq!(on_cast(i31(4)), [1, 0], "i31: taken");
    assert_eq!(
        on_cast(Value::AnyRef(None)),
        [1, 1],
        "null, to a nullable type: taken"
    );
    let host = Value::AnyRef(Some(AnyRef::Host(2)));
    assert_eq!(on_cast(host.clone()), [0, 0], "host: not taken");
    let value = |name, v| i32s(call(&store, &instance, name, &[v]));
    assert_eq!(value("on_cast_value", i31(-9)), [-9]);
    assert_eq!(value("on_cast_value", host.clone()), [-100]);
    assert_eq!(value("on_cast_fail", i31(-9)), [0x7fff_fff7]);
    assert_eq!(value("on_cast_fail", Value::AnyRef(None)), [-1]);
    assert_eq!(value("on_cast_fail", host), [-1]);
    // Odd counters become i31s (summed), even ones null (skipped): 9 + 7 + 5 + 3 + 1.
    assert_eq!(value("in_loop", Value::I32(10)), [25]);
}

/// A function reference is of a concrete type when its function's type is (here:
/// equal, as subtype declarations are not supported yet), however the type was spelled
/// in the module that defined the function.
fn casts_to_concrete_function_types_compare_canonical_types(strategy: Strategy) {
    let store = Store::new(&engine3(strategy));
    instantiate(
        &store,
        r#"(module
          (type $unary (func (param i32) (result i32)))
          (func (export "neg") (type $unary) (i32.sub (i32.const 0) (local.get 0))))"#,
        Some("other"),
    );
    let instance = instantiate(
        &store,
        r#"(module
          (type $nullary (func (result i32)))
          (type $unary (func (param i32) (result i32)))
          (import "other" "neg" (func $neg (type $unary)))
          (func $one (type $nullary) (i32.const 1))
          (func $id (type $unary) (local.get 0))
          (table $t 4 funcref)
          (elem (table $t) (i32.const 0) func $one $id $neg)
          (func (export "test") (param i32) (result i32 i32 i32 i32 i32)
            (ref.test (ref $unary) (table.get $t (local.get 0)))
            (ref.test (ref null $unary) (table.get $t (local.get 0)))
            (ref.test (ref $nullary) (table.get $t (local.get 0)))
            (ref.test (ref func) (table.get $t (local.get 0)))
            (ref.test nullfuncref (table.get $t (local.get 0))))
          (func (export "apply") (param i32 i32) (result i32)
            (call_ref $unary (local.get 1)
              (ref.cast (ref $unary) (table.get $t (local.get 0)))))
          (func (export "branch") (param i32) (result i32)
            (block $hit (result (ref $unary))
              (br_on_cast $hit funcref (ref $unary) (table.get $t (local.get 0)))
              (drop)
              (return (i32.const -1)))
            (drop)
            (i32.const 1)))"#,
        None,
    );
    let test = |i| i32s(call(&store, &instance, "test", &[Value::I32(i)]));
    assert_eq!(test(0), [0, 0, 1, 1, 0], "$one");
    assert_eq!(test(1), [1, 1, 0, 1, 0], "$id");
    assert_eq!(test(2), [1, 1, 0, 1, 0], "$neg, from another module");
    assert_eq!(test(3), [0, 1, 0, 0, 1], "null");
    let apply = |i, x| call(&store, &instance, "apply", &[Value::I32(i), Value::I32(x)]);
    assert_eq!(apply(1, 5).unwrap(), [Value::I32(5)]);
    assert_eq!(apply(2, 5).unwrap(), [Value::I32(-5)]);
    assert_eq!(trap_kind(apply(0, 5)), TrapKind::CastFailure);
    assert_eq!(trap_kind(apply(3, 5)), TrapKind::CastFailure);
    let branch = |i| i32s(call(&store, &instance, "branch", &[Value::I32(i)]));
    assert_eq!(
        [branch(0), branch(1), branch(2), branch(3)],
        [[-1], [1], [1], [-1]]
    );
}

fn ref_eq_compares_i31_values_and_nulls(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (func (export "eq") (param eqref eqref) (result i32)
            (ref.eq (local.get 0) (local.get 1)))
          (func (export "wrapped") (param i32 i32) (result i32)
            (ref.eq (ref.i31 (local.get 0)) (ref.i31 (local.get 1)))))"#,
    );
    let eq = |a, b| i32s(call(&store, &instance, "eq", &[a, b]))[0];
    let null = Value::AnyRef(None);
    assert_eq!(eq(null.clone(), null.clone()), 1);
    assert_eq!(eq(null.clone(), i31(0)), 0);
    assert_eq!(eq(i31(0), null), 0);
    assert_eq!(eq(i31(5), i31(5)), 1);
    assert_eq!(eq(i31(5), i31(-5)), 0);
    let wrapped = |a, b| {
        i32s(call(
            &store,
            &instance,
            "wrapped",
            &[Value::I32(a), Value::I32(b)],
        ))[0]
    };
    // Equal in their low 31 bits: the same i31.
    assert_eq!(wrapped(-1, i32::MAX), 1);
    assert_eq!(wrapped(3, 3 | i32::MIN), 1);
    assert_eq!(wrapped(3, 4), 0);
}

fn conversions_between_any_and_extern_round_trip(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (func (export "internalize") (param externref) (result anyref)
            (any.convert_extern (local.get 0)))
          (func (export "externalize") (param anyref) (result externref)
            (extern.convert_any (local.get 0)))
          (func (export "round_trip") (param externref) (result externref)
            (extern.convert_any (any.convert_extern (local.get 0))))
          (func (export "i31_out") (param i32) (result externref)
            (extern.convert_any (ref.i31 (local.get 0))))
          (func (export "i31_in") (param externref) (result i32)
            (i31.get_s (ref.cast i31ref (any.convert_extern (local.get 0))))))"#,
    );
    let one = |name, v| call(&store, &instance, name, &[v]).unwrap()[0].clone();
    assert_eq!(
        one("internalize", host(3)),
        Value::AnyRef(Some(AnyRef::Host(3)))
    );
    assert_eq!(
        one("internalize", Value::ExternRef(None)),
        Value::AnyRef(None)
    );
    assert_eq!(
        one("externalize", Value::AnyRef(Some(AnyRef::Host(3)))),
        host(3)
    );
    let external_i31 = ExternRef::from_any(AnyRef::I31(I31::wrapping(-2)));
    assert_eq!(
        one("externalize", i31(-2)),
        Value::ExternRef(Some(external_i31))
    );
    assert_eq!(one("round_trip", host(u32::MAX)), host(u32::MAX));
    assert_eq!(
        one("round_trip", Value::ExternRef(None)),
        Value::ExternRef(None)
    );
    let out = one("i31_out", Value::I32(-40));
    assert_eq!(
        out,
        Value::ExternRef(Some(ExternRef::from_any(AnyRef::I31(I31::wrapping(-40)))))
    );
    assert_eq!(one("i31_in", out), Value::I32(-40));
    assert_eq!(
        trap_kind(call(&store, &instance, "i31_in", &[host(1)])),
        TrapKind::CastFailure
    );
}

fn anyrefs_pass_through_functions_globals_and_tables(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (global $g (export "g") (mut anyref) (ref.null any))
          (global $i (export "i") (mut i31ref) (ref.i31 (i32.const 1)))
          (table $t (export "t") 2 anyref)
          (func (export "swap") (param anyref eqref) (result eqref anyref)
            (local.get 1) (local.get 0))
          (func (export "stash") (param anyref)
            (global.set $g (local.get 0))
            (table.set $t (i32.const 1) (local.get 0)))
          (func (export "global_i31") (result i32) (i31.get_u (global.get $i)))
          (func (export "table_is_i31") (param i32) (result i32)
            (ref.test (ref i31) (table.get $t (local.get 0)))))"#,
    );
    let host = Value::AnyRef(Some(AnyRef::Host(77)));
    assert_eq!(
        call(&store, &instance, "swap", &[host.clone(), i31(6)]).unwrap(),
        [i31(6), host.clone()]
    );
    call(&store, &instance, "stash", &[i31(-12)]).unwrap();
    let g = instance.get_global(&store, "g").unwrap();
    let t = instance.get_table(&store, "t").unwrap();
    assert_eq!(g.get(&store).unwrap(), i31(-12));
    assert_eq!(t.get(&store, 1).unwrap(), i31(-12));
    assert_eq!(t.get(&store, 0).unwrap(), Value::AnyRef(None));
    g.set(&store, host.clone()).unwrap();
    assert_eq!(g.get(&store).unwrap(), host);
    t.set(&store, 0, i31(3)).unwrap();
    assert_eq!(
        call(&store, &instance, "table_is_i31", &[Value::I32(0)]).unwrap(),
        [Value::I32(1)]
    );
    let i = instance.get_global(&store, "i").unwrap();
    assert_eq!(i.get(&store).unwrap(), i31(1));
    i.set(&store, i31(0x7fff_ffff)).unwrap();
    assert_eq!(
        call(&store, &instance, "global_i31", &[]).unwrap(),
        [Value::I32(0x7fff_ffff)]
    );
    // The API checks values against the types: a host reference is no `eq`, null no
    // `(ref i31)`... nor is an externref an anyref.
    let usage = |r: runtime::Result<()>| matches!(r, Err(Error::Usage(_)));
    assert!(usage(i.set(&store, host.clone())));
    assert!(usage(i.set(&store, Value::ExternRef(None))));
    assert!(call(&store, &instance, "swap", &[host.clone(), host]).is_err());
    assert!(call(&store, &instance, "swap", &[Value::ExternRef(None), i31(1)]).is_err());
}

fn constant_expressions_make_i31s(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (global $a (export "a") i31ref (ref.i31 (i32.const -1)))
          (global $b (export "b") externref (extern.convert_any (ref.i31 (i32.const 7))))
          (global $c (export "c") anyref (any.convert_extern (extern.convert_any (global.get $a))))
          (table $t (export "t") 3 i31ref (ref.i31 (i32.const 42)))
          (elem (table $t) (i32.const 1) i31ref (ref.i31 (i32.add (i32.const 1) (i32.const 2))))
          (func (export "sum") (result i32)
            (i32.add (i31.get_s (table.get $t (i32.const 0)))
              (i31.get_s (table.get $t (i32.const 1))))))"#,
    );
    let global = |name| {
        instance
            .get_global(&store, name)
            .unwrap()
            .get(&store)
            .unwrap()
    };
    assert_eq!(global("a"), i31(-1));
    assert_eq!(
        global("b"),
        Value::ExternRef(Some(ExternRef::from_any(AnyRef::I31(I31::wrapping(7)))))
    );
    assert_eq!(global("c"), i31(-1));
    let t = instance.get_table(&store, "t").unwrap();
    assert_eq!(t.get(&store, 2).unwrap(), i31(42));
    assert_eq!(
        call(&store, &instance, "sum", &[]).unwrap(),
        [Value::I32(45)]
    );
}

/// What makes or uses heap objects is refused, with the one reason the spec harness
/// counts.
/// Modules whose bodies or constant expressions make or read objects compile on both
/// engines (what they do: `gc_objects.rs`).
fn operators_on_objects_compile(strategy: Strategy) {
    let engine = engine3(strategy);
    for wat in [
        "(module (type $s (struct)) (func (drop (struct.new $s))))",
        "(module (type $a (array i8)) (func (drop (array.new_default $a (i32.const 1)))))",
        "(module (type $s (struct (field i32))) (global (ref $s) (struct.new_default $s)))",
        "(module (type $s (struct (field i32)))
           (func (param (ref $s)) (result i32) (struct.get $s 0 (local.get 0))))",
        "(module (func (param arrayref) (result i32) (array.len (local.get 0))))",
    ] {
        Module::new(&engine, wat).unwrap_or_else(|e| panic!("{wat}: {e}"));
    }
}

/// Both engines charge casts and their branches the same fuel (`module/fuel.rs`: a
/// `br_on_cast` ends a run), and a cast failure leaves the same amount.
#[test]
fn casts_cost_the_same_fuel_on_both_engines() {
    let wat = r#"(module
      (func (export "run") (param i32) (result i32)
        (local $sum i32)
        (loop $next
          (block $miss (result anyref)
            (br_on_cast_fail $miss anyref (ref i31)
              (select (result anyref)
                (ref.i31 (local.get 0))
                (ref.null any)
                (i32.and (local.get 0) (i32.const 1))))
            (i31.get_s)
            (local.get $sum)
            (i32.add)
            (local.set $sum)
            (ref.null any))
          (drop)
          (br_if $next (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))))
        (local.get $sum))
      (func (export "fail") (param anyref) (result i32)
        (i31.get_u (ref.cast (ref i31) (local.get 0)))))"#;
    let fuel_left = |strategy| {
        let config = Config::new(strategy)
            .features(WasmFeatures::WASM3 - WasmFeatures::THREADS)
            .consume_fuel(true);
        let store = Store::new(&engine_with(config));
        let instance = instantiate(&store, wat, None);
        store.set_fuel(1_000_000).unwrap();
        let sum = call(&store, &instance, "run", &[Value::I32(100)]).unwrap();
        assert_eq!(sum, [Value::I32(2500)]);
        let after_run = store.fuel().unwrap();
        let failed = call(&store, &instance, "fail", &[Value::AnyRef(None)]);
        assert_eq!(trap_kind(failed), TrapKind::CastFailure);
        (after_run, store.fuel().unwrap())
    };
    let interp = fuel_left(Strategy::Interpreter);
    assert!(interp.0 < 1_000_000 && interp.1 < interp.0, "{interp:?}");
    assert_eq!(interp, fuel_left(Strategy::Native));
}

/// Function types may declare supertypes (GC's subtyping, without objects): a call
/// through a supertype accepts a function of a subtype, never the reverse, and casts
/// follow the declared chain.
fn calls_through_a_supertype_accept_subtyped_functions(strategy: Strategy) {
    let (store, instance) = setup3(
        strategy,
        r#"(module
          (type $top (sub (func (param i32) (result i32))))
          (type $mid (sub $top (func (param i32) (result i32))))
          (type $leaf (sub final $mid (func (param i32) (result i32))))
          (type $other (sub final (func (param i32) (result i32))))
          (func $double (type $leaf) (i32.add (local.get 0) (local.get 0)))
          (func $inc (type $mid) (i32.add (local.get 0) (i32.const 1)))
          (func $neg (type $top) (i32.sub (i32.const 0) (local.get 0)))
          (func $same (type $other) (local.get 0))
          (table $t 4 funcref)
          (elem (table $t) (i32.const 0) func $double $inc $neg $same)
          (func (export "via_top") (param i32 i32) (result i32)
            (call_indirect $t (type $top) (local.get 0) (local.get 1)))
          (func (export "via_mid") (param i32 i32) (result i32)
            (call_indirect $t (type $mid) (local.get 0) (local.get 1)))
          (func (export "via_leaf") (param i32 i32) (result i32)
            (call_indirect $t (type $leaf) (local.get 0) (local.get 1)))
          (func (export "ref_top") (param i32) (result i32)
            (call_ref $top (local.get 0) (ref.func $double)))
          (func (export "test_mid") (param i32) (result i32)
            (ref.test (ref $mid) (table.get $t (local.get 0))))
          (func (export "cast_top") (param i32) (result i32)
            (call_ref $top (i32.const 5)
              (ref.cast (ref $top) (table.get $t (local.get 0)))))
          (elem declare func $double))"#,
    );
    let run = |name: &str, args: &[Value]| call(&store, &instance, name, args);
    let i = Value::I32;
    // Through $top: every function of the chain; $other is unrelated (the same
    // signature, but final: another type, where a non-final `(sub (func ...))` without
    // supertype would have been $top itself, types being structural).
    assert_eq!(run("via_top", &[i(21), i(0)]).unwrap(), [i(42)]);
    assert_eq!(run("via_top", &[i(21), i(1)]).unwrap(), [i(22)]);
    assert_eq!(run("via_top", &[i(21), i(2)]).unwrap(), [i(-21)]);
    let mismatch = |r: runtime::Result<Vec<Value>>| {
        assert_eq!(trap_kind(r), TrapKind::IndirectCallTypeMismatch);
    };
    mismatch(run("via_top", &[i(21), i(3)]));
    // Through $mid: $leaf and $mid, not their supertype.
    assert_eq!(run("via_mid", &[i(4), i(0)]).unwrap(), [i(8)]);
    assert_eq!(run("via_mid", &[i(4), i(1)]).unwrap(), [i(5)]);
    mismatch(run("via_mid", &[i(4), i(2)]));
    // Through $leaf: only $leaf. Calls alternate, so a cached hit for one expected
    // type never stands in for another.
    for _ in 0..3 {
        assert_eq!(run("via_leaf", &[i(3), i(0)]).unwrap(), [i(6)]);
        mismatch(run("via_leaf", &[i(3), i(1)]));
        assert_eq!(run("via_top", &[i(3), i(0)]).unwrap(), [i(6)]);
        assert_eq!(run("via_mid", &[i(3), i(1)]).unwrap(), [i(4)]);
    }
    assert_eq!(run("ref_top", &[i(7)]).unwrap(), [i(14)]);
    let tests: Vec<Value> = (0..4)
        .map(|k| run("test_mid", &[i(k)]).unwrap()[0].clone())
        .collect();
    assert_eq!(tests, [i(1), i(1), i(0), i(0)]);
    assert_eq!(run("cast_top", &[i(1)]).unwrap(), [i(6)]);
    assert_eq!(trap_kind(run("cast_top", &[i(3)])), TrapKind::CastFailure);
}

/// A function import declared with a supertype accepts an export of a subtype, and
/// the API admits such a function into a table of the supertype's references.
fn function_subtypes_cross_modules_and_the_api(strategy: Strategy) {
    let store = Store::new(&engine3(strategy));
    let types = r#"(type $top (sub (func (result i32))))
                   (type $leaf (sub $top (func (result i32))))"#;
    let lib = instantiate(
        &store,
        &format!(
            r#"(module {types}
              (func (export "seven") (type $leaf) (i32.const 7))
              (func (export "top") (type $top) (i32.const 1)))"#
        ),
        Some("lib"),
    );
    let user = instantiate(
        &store,
        &format!(
            r#"(module {types}
              (import "lib" "seven" (func $f (type $top)))
              (table (export "t") 1 (ref null $top))
              (func (export "run") (result i32) (call $f)))"#
        ),
        None,
    );
    assert_eq!(call(&store, &user, "run", &[]).unwrap(), [Value::I32(7)]);
    // The reverse: an export of the supertype does not satisfy an import of the subtype.
    let reverse = format!(r#"(module {types} (import "lib" "top" (func (type $leaf))))"#);
    let m = Module::new(store.engine(), &reverse).unwrap();
    assert!(
        runtime::Instance::new(&store, &m, None).is_err(),
        "{reverse}"
    );
    // The API: a function of $leaf fits a table of (ref null $top).
    let table = user.get_table(&store, "t").unwrap();
    let seven = lib.get_func(&store, "seven").unwrap();
    table.set(&store, 0, Value::FuncRef(Some(seven))).unwrap();
    // A function of $top does not fit a table of (ref null $leaf).
    let leaf_table = instantiate(
        &store,
        &format!(r#"(module {types} (table (export "t") 1 (ref null $leaf)))"#),
        None,
    )
    .get_table(&store, "t")
    .unwrap();
    let top = lib.get_func(&store, "top").unwrap();
    assert!(
        leaf_table
            .set(&store, 0, Value::FuncRef(Some(top)))
            .is_err()
    );
    leaf_table
        .set(&store, 0, Value::FuncRef(Some(seven)))
        .unwrap();
}

/// Struct and array types can be declared, in recursion groups with function types,
/// and their references used while they can only be null: casts, globals, tables and
/// the API, and function types of such groups across modules.
fn struct_and_array_types_are_declared_and_their_nulls_used(strategy: Strategy) {
    let store = Store::new(&engine3(strategy));
    let types = r#"(rec (type $node (struct (field (ref null $node)) (field $f (ref null $fn))))
                        (type $fn (func (param (ref null $node)) (result i32))))
                   (type $bytes (array (mut i8)))"#;
    instantiate(
        &store,
        &format!(
            r#"(module {types}
              (func (export "is_null") (type $fn) (ref.is_null (local.get 0))))"#
        ),
        Some("lib"),
    );
    let user = instantiate(
        &store,
        &format!(
            r#"(module {types}
              (import "lib" "is_null" (func $is_null (type $fn)))
              (global (export "g") (mut (ref null $node)) (ref.null $node))
              (table (export "t") 2 (ref null $bytes))
              (table $fns 1 funcref)
              (elem (table $fns) (i32.const 0) func $is_null)
              (func (export "call") (result i32)
                (call_indirect $fns (type $fn) (ref.null none) (i32.const 0)))
              (func (export "test_node") (param anyref) (result i32)
                (ref.test (ref null $node) (local.get 0)))
              (func (export "test_bytes") (param anyref) (result i32)
                (ref.test (ref $bytes) (local.get 0)))
              (func (export "cast_node") (param anyref) (result i32)
                (ref.is_null (ref.cast (ref null $node) (local.get 0)))))"#
        ),
        None,
    );
    let run = |name: &str, args: &[Value]| call(&store, &user, name, args);
    let i31 = Value::AnyRef(Some(AnyRef::I31(I31::wrapping(1))));
    assert_eq!(run("call", &[]).unwrap(), [Value::I32(1)]);
    assert_eq!(
        run("test_node", &[Value::AnyRef(None)]).unwrap(),
        [Value::I32(1)]
    );
    assert_eq!(
        run("test_node", std::slice::from_ref(&i31)).unwrap(),
        [Value::I32(0)]
    );
    assert_eq!(
        run("test_bytes", &[Value::AnyRef(None)]).unwrap(),
        [Value::I32(0)]
    );
    assert_eq!(
        run("cast_node", &[Value::AnyRef(None)]).unwrap(),
        [Value::I32(1)]
    );
    assert_eq!(
        trap_kind(run("cast_node", std::slice::from_ref(&i31))),
        TrapKind::CastFailure
    );
    // Through the API, nulls of these types are `AnyRef(None)`, and an i31 does not fit.
    let g = user.get_global(&store, "g").unwrap();
    assert_eq!(g.get(&store).unwrap(), Value::AnyRef(None));
    assert!(g.set(&store, i31.clone()).is_err());
    let t = user.get_table(&store, "t").unwrap();
    assert_eq!(t.get(&store, 1).unwrap(), Value::AnyRef(None));
    assert!(t.set(&store, 0, i31).is_err());
}
