"""Adapter for the WASI testsuite's own runner (wasi-testsuite/run-tests, doc/adapters.md):
turns a test into a `wasi-run run` command line.

    cargo build --release -p wasi-preview1
    cp -r ../shared/wasi-testsuite /tmp/wts && chmod -R u+w /tmp/wts
    python3.12 -m pip install -r /tmp/wts/test-runner/requirements/prod.txt
    python3.12 /tmp/wts/run-tests -r wasi/adapter/wasi_run.py

(The suite's runner writes into the tests' directories, so it runs on a writable copy;
the Rust runner, `cargo test -p wasi-preview1 --test testsuite`, copies each test's
directory itself and reads the shared copy as it is.)

Environment: WASI_RUN is the binary (default: target/release/wasi-run of this checkout),
WASI_RUN_ENGINE the engine, `interp` or `native` (default: native).
"""

import os
import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Tuple

_DEFAULT_BINARY = Path(__file__).resolve().parents[2] / "target" / "release" / "wasi-run"
WASI_RUN = os.getenv("WASI_RUN", str(_DEFAULT_BINARY))
ENGINE = os.getenv("WASI_RUN_ENGINE", "native")


def get_name() -> str:
    return f"wasi-run ({ENGINE})"


def get_version() -> str:
    result = subprocess.run([WASI_RUN, "--version"], encoding="UTF-8",
                            capture_output=True, check=True)
    return result.stdout.split()[1]


def get_wasi_versions() -> List[str]:
    return ["wasm32-wasip1"]


def get_wasi_worlds() -> List[str]:
    return ["wasi:cli/command"]


def get_timeout_seconds() -> float:
    # The interpreter is slower than the JIT, and a test is one process start each.
    return 60.0


def compute_argv(test_path: str,
                 args_env_root: Tuple[List[str], Dict[str, str], Optional[str]],
                 proposals: List[str],
                 wasi_world: str,
                 wasi_version: str) -> List[str]:
    args, env, root = args_env_root
    argv = [WASI_RUN, "run", "--engine", ENGINE]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    if root:
        argv += ["--dir", f"{root}::/"]
    argv += ["--argv0", Path(test_path).name, test_path]
    argv += args
    return argv
