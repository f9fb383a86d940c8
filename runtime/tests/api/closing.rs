//! Closing instances and stores: calls into a closed instance fail with its exit code,
//! an exit from a host function closes the calling instance, close hooks run once, in
//! reverse order for a store, with their errors joined, and names leave the registry.

use std::sync::{Arc, Mutex};

use runtime::{
    Caller, Error, ExitError, HostModuleBuilder, Instance, LinkErrorKind, Store, Strategy,
};

use crate::common::{engine, instantiate, instantiate_err};
use crate::instantiation::exit_host;

on_both_engines!(
    closed_instance_calls_fail_with_exit_code,
    closed_instance_calls_fail_through_importer,
    closed_instance_via_resolver_is_refused,
    closed_host_module_calls_fail_with_exit_code,
    exit_from_host_closes_the_calling_instance,
    exit_from_host_releases_the_name,
    exit_from_host_runs_close_hooks_with_its_code,
    store_close_is_reverse_order_and_joins_errors,
    store_close_single_error_is_not_wrapped,
    instance_close_runs_hooks_once_and_store_close_skips_it,
    close_removes_every_name_of_an_instance,
    close_hook_may_use_the_store,
);

const CALLABLE: &str = r#"(module (func (export "f") (result i32) i32.const 1))"#;

fn closed_instance_calls_fail_with_exit_code(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let inst = instantiate(&store, CALLABLE, Some("a"));
    let f = inst.get_func(&store, "f").unwrap();
    assert_eq!(inst.exit_code(&store), None);
    inst.close_with_exit_code(&store, 7).unwrap();
    assert_eq!(inst.exit_code(&store), Some(7));
    let e = f.call(&store, &[]).unwrap_err();
    assert!(matches!(e, Error::Exit(ExitError { code: 7 })), "{e:?}");
    // Closing again is a no-op: the first code stays.
    inst.close_with_exit_code(&store, 9).unwrap();
    assert_eq!(inst.exit_code(&store), Some(7));
    let e = f.call(&store, &[]).unwrap_err();
    assert_eq!(e.exit_code(), Some(7));
    // Its name left the registry and can be taken again.
    assert!(store.instance("a").is_none());
    let e = instantiate_err(
        &store,
        r#"(module (import "a" "f" (func (result i32))))"#,
        None,
    );
    assert!(
        matches!(&e, Error::Link(l) if l.kind == LinkErrorKind::UnknownImport),
        "{e:?}"
    );
    let again = instantiate(&store, CALLABLE, Some("a"));
    assert_eq!(store.instance("a"), Some(again));
}

fn closed_instance_calls_fail_through_importer(strategy: Strategy) {
    // A function imported from a closed instance and re-exported is still that
    // instance's function.
    let store = Store::new(&engine(strategy));
    let a = instantiate(&store, CALLABLE, Some("a"));
    let b = instantiate(
        &store,
        r#"(module (import "a" "f" (func $f (result i32))) (export "g" (func $f)))"#,
        None,
    );
    a.close_with_exit_code(&store, 4).unwrap();
    let e = b
        .get_func(&store, "g")
        .unwrap()
        .call(&store, &[])
        .unwrap_err();
    assert_eq!(e.exit_code(), Some(4), "{e:?}");
}

fn closed_instance_via_resolver_is_refused(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let a = instantiate(&store, CALLABLE, None);
    a.close_with_exit_code(&store, 1).unwrap();
    store.set_import_resolver(Arc::new(move |_| Some(a)));
    let e = instantiate_err(
        &store,
        r#"(module (import "a" "f" (func (result i32))))"#,
        None,
    );
    assert_eq!(
        e.to_string(),
        "import func[a.f]: unknown import: module[a] is closed"
    );
}

fn closed_host_module_calls_fail_with_exit_code(strategy: Strategy) {
    // `Instance::close_with_exit_code`: "later calls into it fail with Error::Exit(code)"
    // holds for host modules too (wazero closes host modules like any other).
    let store = Store::new(&engine(strategy));
    let env = HostModuleBuilder::new("env")
        .func_wrap("one", || 1i32)
        .instantiate(&store)
        .unwrap();
    let one = env.get_func(&store, "one").unwrap();
    env.close_with_exit_code(&store, 5).unwrap();
    assert!(store.instance("env").is_none());
    let e = one.call(&store, &[]).unwrap_err();
    assert_eq!(e.exit_code(), Some(5), "{e:?}");
}

fn exit_from_host_closes_the_calling_instance(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    exit_host(&store);
    let inst = instantiate(
        &store,
        r#"(module (import "env" "exit" (func $exit (param i32)))
            (func (export "run") i32.const 2 call $exit)
            (func (export "other") (result i32) i32.const 1))"#,
        Some("guest"),
    );
    let e = inst
        .get_func(&store, "run")
        .unwrap()
        .call(&store, &[])
        .unwrap_err();
    assert!(matches!(e, Error::Exit(ExitError { code: 2 })), "{e:?}");
    assert_eq!(inst.exit_code(&store), Some(2));
    let e = inst
        .get_func(&store, "other")
        .unwrap()
        .call(&store, &[])
        .unwrap_err();
    assert_eq!(e.exit_code(), Some(2), "{e:?}");
}

fn exit_from_host_releases_the_name(strategy: Strategy) {
    // wazero's proc_exit closes the module, which deletes it from the store's registry:
    // the name can be used again.
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env")
        .func_wrap("exit", |caller: &mut Caller<'_>| -> runtime::Result<()> {
            Err(caller.exit(1))
        })
        .instantiate(&store)
        .unwrap();
    let src = r#"(module (import "env" "exit" (func $exit)) (func (export "run") call $exit))"#;
    let inst = instantiate(&store, src, Some("guest"));
    let e = inst
        .get_func(&store, "run")
        .unwrap()
        .call(&store, &[])
        .unwrap_err();
    assert_eq!(e.exit_code(), Some(1));
    assert!(
        store.instance("guest").is_none(),
        "an instance closed by an exit request stays registered"
    );
    instantiate(&store, src, Some("guest"));
}

fn exit_from_host_runs_close_hooks_with_its_code(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    HostModuleBuilder::new("env")
        .func_wrap("exit", |caller: &mut Caller<'_>| -> runtime::Result<()> {
            Err(caller.exit(3))
        })
        .instantiate(&store)
        .unwrap();
    let inst = instantiate(
        &store,
        r#"(module (import "env" "exit" (func $exit)) (func (export "run") call $exit))"#,
        None,
    );
    let codes = Arc::new(Mutex::new(Vec::new()));
    let codes2 = codes.clone();
    inst.on_close(&store, move |code| {
        codes2.lock().unwrap().push(code);
        Ok(())
    })
    .unwrap();
    let e = inst
        .get_func(&store, "run")
        .unwrap()
        .call(&store, &[])
        .unwrap_err();
    assert_eq!(e.exit_code(), Some(3));
    // Whenever the hook runs (at exit or when the store closes), it sees the exit code
    // the instance was closed with, once.
    store.close().unwrap();
    assert_eq!(codes.lock().unwrap().as_slice(), &[3]);
}

type Log = Arc<Mutex<Vec<(String, u32)>>>;

fn record(store: &Store, inst: Instance, name: &str, log: &Log, fail: bool) {
    let log = log.clone();
    let name = name.to_string();
    inst.on_close(store, move |code| {
        log.lock().unwrap().push((name.clone(), code));
        if fail {
            Err(Error::host(format!("{name} failed")))
        } else {
            Ok(())
        }
    })
    .unwrap();
}

fn store_close_is_reverse_order_and_joins_errors(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let log: Log = Arc::default();
    let env = HostModuleBuilder::new("env")
        .func_wrap("f", || 1i32)
        .instantiate(&store)
        .unwrap();
    record(&store, env, "env", &log, true);
    let mut insts = vec![env];
    for (name, fail) in [("a", false), ("b", true), ("c", false)] {
        let inst = instantiate(
            &store,
            r#"(module (import "env" "f" (func (result i32))) (memory (export "m") 1))"#,
            Some(name),
        );
        record(&store, inst, name, &log, fail);
        insts.push(inst);
    }
    // An unnamed instance closes too.
    let anon = instantiate(&store, CALLABLE, None);
    record(&store, anon, "anon", &log, false);

    let e = store.close().unwrap_err();
    let names: Vec<String> = log.lock().unwrap().iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names, ["anon", "c", "b", "a", "env"]);
    assert!(log.lock().unwrap().iter().all(|(_, code)| *code == 0));
    match &e {
        Error::Multiple(errs) => {
            let msgs: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
            assert_eq!(msgs, ["b failed", "env failed"]);
        }
        other => panic!("expected Error::Multiple, got {other:?}"),
    }
    assert_eq!(e.to_string(), "b failed; env failed");
    for name in ["env", "a", "b", "c"] {
        assert!(store.instance(name).is_none(), "{name} still registered");
    }
    for inst in insts.iter().chain([&anon]) {
        assert_eq!(inst.exit_code(&store), Some(0));
    }
    let e = anon
        .get_func(&store, "f")
        .unwrap()
        .call(&store, &[])
        .unwrap_err();
    assert!(matches!(e, Error::Exit(ExitError { code: 0 })), "{e:?}");

    // Closing again runs no hook twice and reports nothing.
    store.close().unwrap();
    assert_eq!(log.lock().unwrap().len(), 5);
}

fn store_close_single_error_is_not_wrapped(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let log: Log = Arc::default();
    let a = instantiate(&store, CALLABLE, Some("a"));
    let b = instantiate(&store, CALLABLE, Some("b"));
    record(&store, a, "a", &log, true);
    record(&store, b, "b", &log, false);
    let e = store.close_with_exit_code(5).unwrap_err();
    assert!(matches!(&e, Error::Host(m) if m == "a failed"), "{e:?}");
    assert_eq!(
        log.lock().unwrap().as_slice(),
        &[("b".to_string(), 5), ("a".to_string(), 5)]
    );
    assert_eq!(a.exit_code(&store), Some(5));
}

fn instance_close_runs_hooks_once_and_store_close_skips_it(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let log: Log = Arc::default();
    let a = instantiate(&store, CALLABLE, Some("a"));
    let b = instantiate(&store, CALLABLE, Some("b"));
    record(&store, a, "a", &log, false);
    record(&store, a, "a2", &log, true);
    record(&store, b, "b", &log, false);
    let e = a.close_with_exit_code(&store, 2).unwrap_err();
    assert_eq!(e.to_string(), "a2 failed");
    assert!(store.instance("a").is_none());
    assert_eq!(store.instance("b"), Some(b));
    store.close().unwrap();
    assert_eq!(
        log.lock().unwrap().as_slice(),
        &[
            ("a".to_string(), 2),
            ("a2".to_string(), 2),
            ("b".to_string(), 0)
        ]
    );
    assert_eq!(a.exit_code(&store), Some(2));
}

fn close_removes_every_name_of_an_instance(strategy: Strategy) {
    let store = Store::new(&engine(strategy));
    let a = instantiate(&store, CALLABLE, Some("a"));
    store.register("alias", a).unwrap();
    assert_eq!(store.instance("alias"), Some(a));
    a.close_with_exit_code(&store, 0).unwrap();
    assert!(store.instance("a").is_none());
    assert!(store.instance("alias").is_none());
}

fn close_hook_may_use_the_store(strategy: Strategy) {
    // Hooks run without the store lock held.
    let store = Store::new(&engine(strategy));
    let a = instantiate(&store, CALLABLE, Some("a"));
    let s2 = store.clone();
    let out = Arc::new(Mutex::new(None));
    let out2 = out.clone();
    a.on_close(&store, move |_| {
        *out2.lock().unwrap() = Some(a.exports(&s2).len());
        Ok(())
    })
    .unwrap();
    store.close().unwrap();
    assert_eq!(*out.lock().unwrap(), Some(1));
}
