//! Instantiates one workload on one engine `count` times inside `icount_measured` (after
//! one unmeasured instantiation), each instance dropped at once, as the `instantiate`
//! benchmark does: give callgrind `--toggle-collect=icount_measured` to profile the
//! instantiation path only, and divide by `count`:
//! `valgrind --tool=callgrind --toggle-collect=icount_measured
//! target/release/examples/profile_instantiate native lz 100`.
//! Without valgrind it prints the mean wall time per instantiation.

use anyhow::Result;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, engine, workload, count] = &args[..] else {
        anyhow::bail!("usage: profile_instantiate ENGINE WORKLOAD COUNT");
    };
    let r = benches::runner(engine)?;
    let w = benches::workload(workload)?;
    let count: u32 = count.parse()?;
    let compiled = r.compile(&w.wasm)?;
    drop(compiled.instantiate()?);
    let mut out = Ok(());
    let start = std::time::Instant::now();
    benches::icount_measured(&mut || {
        out = (0..count).try_for_each(|_| compiled.instantiate().map(drop));
    });
    out?;
    let per = start.elapsed() / count.max(1);
    println!("{workload} on {engine}: {count} instantiations, {per:?} each");
    Ok(())
}
