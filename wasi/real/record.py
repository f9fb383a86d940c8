#!/usr/bin/env python3
"""Records the expected output of every case of cases.json by running it on wasmtime
(the PyPI wheel `wasmtime`, a prebuilt wasmtime: another runtime than ours), into
expected/. Usage: wasi/real/record.py [PROGRAMS_DIR] (default target/real-programs).
Fetches the wheel into PROGRAMS_DIR/download when it is missing."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
WHEEL = "wasmtime==50.0.1"


def load_wasmtime(programs):
    site = os.path.join(programs, "download", "wasmtime-wheel")
    if not os.path.isdir(os.path.join(site, "wasmtime")):
        subprocess.run(["pip", "download", "--quiet", "--no-deps", WHEEL, "-d", os.path.join(programs, "download")], check=True)
        wheel = [f for f in os.listdir(os.path.join(programs, "download")) if f.startswith("wasmtime-50.0.1")][0]
        shutil.unpack_archive(os.path.join(programs, "download", wheel), site, "zip")
    sys.path.insert(0, site)
    import wasmtime  # noqa: E402

    return wasmtime


def case_dirs(case, scratch):
    """A case's preopens as (host, guest) pairs, with `$scratch` replaced by `scratch`."""
    return [(scratch if h == "$scratch" else os.path.join(HERE, h), g) for h, g in case["dirs"]]


def run(wasmtime, wasm, args, dirs, stdout_path, engine=None):
    """Runs `wasm`'s `_start` on wasmtime; a fresh default engine (no cache) unless one is given."""
    engine = engine or wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    cfg = wasmtime.WasiConfig()
    cfg.argv = [os.path.basename(wasm)] + args
    cfg.stdout_file = stdout_path
    cfg.inherit_stderr()
    for host, guest in dirs:
        cfg.preopen_dir(host, guest)
    store.set_wasi(cfg)
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, wasm))
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as e:
        if e.code != 0:
            raise SystemExit(f"{wasm}: exit code {e.code}")


def main():
    programs = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("REAL_PROGRAMS", os.path.join(ROOT, "target", "real-programs"))
    wasmtime = load_wasmtime(programs)
    cases = json.load(open(os.path.join(HERE, "cases.json")))["cases"]
    os.makedirs(os.path.join(HERE, "expected"), exist_ok=True)
    for case in cases:
        with tempfile.TemporaryDirectory() as scratch:
            dirs = case_dirs(case, scratch)
            out = os.path.join(HERE, "expected", case["name"] + ".stdout")
            run(wasmtime, os.path.join(programs, case["wasm"]), case["args"], dirs, out)
            for f in case["files"]:
                shutil.copy(os.path.join(scratch, f), os.path.join(HERE, "expected", f"{case['name']}.{f}"))
        print("recorded", case["name"])


if __name__ == "__main__":  # benches/real/ imports this file's helpers
    main()
