#!/usr/bin/env python3
"""One run of a real program on wasmtime (the PyPI wheel), for run.py. Argument: a JSON spec
{"programs", "wasm", "args", "dirs": [[host, guest]], "stdout", "cache_config"}. The guest's
stdout goes to the file `stdout`; this process prints the seconds from creating the Engine to the
guest's exit (Python's start-up and loading the wheel's library are left out). With
`cache_config` (a wasmtime cache TOML file) the Engine uses wasmtime's on-disk code cache;
without it, a default Engine compiles from scratch."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "wasi", "real"))
import record  # noqa: E402  (wasi/real/record.py: loads the wheel, runs a case)

spec = json.loads(sys.argv[1])
wasmtime = record.load_wasmtime(spec["programs"])
start = time.perf_counter()
config = wasmtime.Config()
if spec["cache_config"]:
    config.cache = spec["cache_config"]
engine = wasmtime.Engine(config)
record.run(wasmtime, spec["wasm"], spec["args"], spec["dirs"], spec["stdout"], engine=engine)
print(time.perf_counter() - start)
