//! The `spectest` host module that spec tests import from, as the reference
//! interpreter defines it (`print*` do nothing here: the tests never check output).

use runtime::{
    Caller, FuncType, HostModuleBuilder, Instance, MemoryType, RefType, Result, Store, TableType,
    ValType, Value,
};

fn nop(_: &mut Caller<'_>, _: &[Value], _: &mut [Value]) -> Result<()> {
    Ok(())
}

/// Instantiates `spectest` in `store` under its name.
pub fn register(store: &Store) -> Result<Instance> {
    use ValType::*;
    let prints: [(&str, &[ValType]); 7] = [
        ("print", &[]),
        ("print_i32", &[I32]),
        ("print_i64", &[I64]),
        ("print_f32", &[F32]),
        ("print_f64", &[F64]),
        ("print_i32_f32", &[I32, F32]),
        ("print_f64_f64", &[F64, F64]),
    ];
    let mut builder = HostModuleBuilder::new("spectest");
    for (name, params) in prints {
        builder = builder.func(name, FuncType::new(params.iter().copied(), []), nop);
    }
    builder
        .global("global_i32", Value::I32(666), false)
        .global("global_i64", Value::I64(666), false)
        .global("global_f32", Value::f32(666.6), false)
        .global("global_f64", Value::f64(666.6), false)
        .table(
            "table",
            TableType {
                element: RefType::FUNCREF,
                min: 10,
                max: Some(20),
                table64: false,
            },
            Value::FuncRef(None),
        )
        .memory("memory", MemoryType::new(1, Some(2)))
        .instantiate(store)
}
