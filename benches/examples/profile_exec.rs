//! Runs one workload's `run(n)` on one engine inside `icount_measured`, the function to
//! give callgrind's `--toggle-collect`, so that a profile shows execution only:
//! `valgrind --tool=callgrind --toggle-collect=icount_measured --dump-instr=yes
//! target/release/examples/profile_exec interp fib 20`.

use anyhow::Result;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, engine, workload, n] = &args[..] else {
        anyhow::bail!("usage: profile_exec ENGINE WORKLOAD N");
    };
    let r = benches::runner(engine)?;
    let w = benches::workload(workload)?;
    let n: i32 = n.parse()?;
    let compiled = r.compile(&w.wasm)?;
    let mut inst = compiled.instantiate()?;
    let mut out = Ok(0);
    benches::icount_measured(&mut || out = inst.run(n));
    println!("{workload}({n}) on {engine} = {}", out?);
    Ok(())
}
