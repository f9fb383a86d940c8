#!/usr/bin/env python3
"""Times the real programs of wasi/real/ (cases.json) end to end, one process per run, on our
two engines, wasmtime (the PyPI wheel, as wasi/real/record.py uses it) and Node's `node:wasi`,
and prints a markdown table (benches/README.md, "Real programs").

    benches/real/run.py [--reps N] [--out FILE] [--wasi-run BIN] [--programs DIR]
                        [--note TEXT] [--cases REGEX] [--columns COL,...] [--skip COL:REGEX]...
                        [--timeout SECONDS | --timeout COL=SECONDS]...

Columns: native-cold, native-warm, interp, wasmtime-cold, wasmtime-warm, node. Every run's
stdout (and the files a case leaves) is compared with wasi/real/expected/: a wrong run is
reported as WRONG, never timed. It builds nothing: it runs the given `wasi-run`."""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
REAL = os.path.join(ROOT, "wasi", "real")
sys.path.insert(0, REAL)
import record  # noqa: E402  (wasi/real/record.py: case_dirs, load_wasmtime, WHEEL)

COLUMNS = ["native-cold", "native-warm", "interp", "wasmtime-cold", "wasmtime-warm", "node"]
NO_CACHE = "n/a (no cache in this build)"


class Failure(Exception):
    """A run that did not produce the expected result (its cell says so instead of a time)."""


class Timeout(Exception):
    pass


def load():
    return "%.2f, %.2f, %.2f" % os.getloadavg()


def run_process(cmd, stdout_path, timeout):
    """Runs `cmd` with its stdout in `stdout_path`; returns (wall seconds, exit code, stderr)."""
    with open(stdout_path, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the whole group: node or python and any child
            proc.communicate()
            raise Timeout
        return time.perf_counter() - start, proc.returncode, err.decode(errors="replace")


def check(case, guest_stdout, scratch):
    def same(path, expected):
        with open(path, "rb") as a, open(os.path.join(REAL, "expected", expected), "rb") as b:
            return a.read() == b.read()

    if not same(guest_stdout, case["name"] + ".stdout"):
        raise Failure("stdout differs from expected/%s.stdout" % case["name"])
    for f in case["files"]:
        path = os.path.join(scratch, f)
        if not os.path.exists(path) or not same(path, "%s.%s" % (case["name"], f)):
            raise Failure("%s differs from expected/%s.%s" % (f, case["name"], f))


class Bench:
    def __init__(self, opts, work):
        self.opts = opts
        self.work = work  # a temporary directory for caches, scratch directories and outputs
        self.programs = opts.programs
        help_text = subprocess.run([opts.wasi_run, "run", "--help"], capture_output=True, text=True).stdout
        self.has_cache = "--cache-dir" in help_text
        self.has_no_cache = "--no-cache" in help_text
        self.native_warm_cache = os.path.join(work, "native-cache")
        self.wasmtime_cache_config = os.path.join(work, "wasmtime-cache.toml")
        with open(self.wasmtime_cache_config, "w") as f:
            f.write('[cache]\ndirectory = "%s"\n' % os.path.join(work, "wasmtime-cache"))
        self.host_overhead = {"wasmtime": [], "node": []}

    def command(self, column, case, dirs, guest_stdout, empty_dir):
        """The command line of one run, and the host it runs on (None: ours, timed as a process)."""
        wasm = os.path.join(self.programs, case["wasm"])
        if column in ("native-cold", "native-warm", "interp"):
            cmd = [self.opts.wasi_run, "run", "--engine", "interp" if column == "interp" else "native"]
            if column == "native-cold" and self.has_cache:
                cmd += ["--cache-dir", empty_dir]
            elif column == "native-warm":
                cmd += ["--cache-dir", self.native_warm_cache]
            elif column == "interp" and self.has_no_cache:
                cmd += ["--no-cache"]
            for host, guest in dirs:
                cmd += ["--dir", "%s::%s" % (host, guest)]
            return cmd + ["--argv0", os.path.basename(wasm), wasm, *case["args"]], None
        spec = {"wasm": wasm, "args": case["args"], "dirs": dirs, "stdout": guest_stdout}
        if column.startswith("wasmtime"):
            spec["programs"] = self.programs
            spec["cache_config"] = self.wasmtime_cache_config if column == "wasmtime-warm" else None
            return [sys.executable, os.path.join(HERE, "wasmtime_run.py"), json.dumps(spec)], "wasmtime"
        return ["node", "--no-warnings", os.path.join(HERE, "node_run.mjs"), json.dumps(spec)], "node"

    def run_once(self, column, case, timeout):
        """One checked run; returns its time in seconds (the runtime's own for wasmtime and Node)."""
        scratch = tempfile.mkdtemp(dir=self.work, prefix="scratch-")
        empty_dir = tempfile.mkdtemp(dir=self.work, prefix="cold-cache-")  # a cold run's own cache
        guest_stdout = os.path.join(self.work, "guest.stdout")
        host_stdout = os.path.join(self.work, "host.stdout")
        cmd, host = self.command(column, case, record.case_dirs(case, scratch), guest_stdout, empty_dir)
        try:
            wall, code, err = run_process(cmd, guest_stdout if host is None else host_stdout, timeout)
            if code != 0:
                raise Failure("exit code %d: %s" % (code, err.strip()[-500:]))
            check(case, guest_stdout, scratch)
        finally:
            shutil.rmtree(scratch)
            shutil.rmtree(empty_dir)
        if host is None:
            return wall
        with open(host_stdout) as f:
            inner = float(f.read().split()[-1])
        self.host_overhead[host].append(wall - inner)
        return inner

    def timeout_for(self, column):
        return self.opts.timeouts.get(column, self.opts.timeouts["default"])

    def case_row(self, case, columns):
        """Times one case on every column, the repetitions interleaved across columns so that a
        change in the machine's load hits all of them alike. Returns {column: [seconds] or str}."""
        results = {}
        for column in columns:
            if column == "native-warm" and not self.has_cache:
                results[column] = NO_CACHE
            elif any(c == column and re.search(r, case["name"]) for c, r in self.opts.skip):
                results[column] = "skipped"
            else:
                results[column] = []
        live = [c for c in columns if isinstance(results[c], list)]
        for column in [c for c in live if c.endswith("-warm")]:
            self.attempt(results, column, case, "priming the cache: ")  # untimed: fills the cache
        for rep in range(self.opts.reps):
            for column in [c for c in live if isinstance(results[c], list)]:
                seconds = self.attempt(results, column, case, "")
                if seconds is not None:
                    results[column].append(seconds)
                    print("  %-14s %-13s run %d: %.3f s" % (case["name"], column, rep + 1, seconds), file=sys.stderr)
        return results

    def attempt(self, results, column, case, what):
        try:
            return self.run_once(column, case, self.timeout_for(column))
        except Timeout:
            results[column] = "timeout (> %g s)" % self.timeout_for(column)
        except Failure as e:
            results[column] = "WRONG"
            self.failed = True
            print("  %s on %s: %s%s" % (case["name"], column, what, e), file=sys.stderr)
        return None


def seconds_text(s):
    return "%.3g s" % s if s >= 1 else "%.3g ms" % (s * 1000)


def cell(result):
    if isinstance(result, str):
        return result
    return "%s (%s)" % (seconds_text(statistics.median(result)), seconds_text(min(result)))


def ratio(ours, theirs):
    if isinstance(ours, list) and isinstance(theirs, list) and ours and theirs:
        return "%.2f" % (statistics.median(ours) / statistics.median(theirs))
    return "n/a"


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], capture_output=True, text=True).stdout.strip()


def shown_path(path):
    relative = os.path.relpath(path, ROOT)
    return path if relative.startswith("..") else relative


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def parse_args():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--wasi-run", default=os.path.join(target, "release", "wasi-run"), help="our binary (default: target/release/wasi-run)")
    p.add_argument("--programs", default=os.environ.get("REAL_PROGRAMS", os.path.join(ROOT, "target", "real-programs")), help="where wasi/real/fetch.sh put the programs")
    p.add_argument("--reps", type=int, default=3, help="timed runs per cell (default 3); the cell is median (min)")
    p.add_argument("--out", help="also write the markdown to this file")
    p.add_argument("--note", default="", help="a sentence put before the table's header (e.g. where the binary comes from)")
    p.add_argument("--cases", default="", help="only the cases whose name matches this regex")
    p.add_argument("--columns", default=",".join(COLUMNS), help="comma-separated subset of " + ", ".join(COLUMNS))
    p.add_argument("--skip", action="append", default=[], metavar="COL:REGEX", help="leave out the cases matching REGEX on column COL (repeatable)")
    p.add_argument("--timeout", action="append", default=[], metavar="[COL=]SECONDS", help="per-run limit, for all columns or one (default 300)")
    opts = p.parse_args()
    opts.columns = [c for c in opts.columns.split(",") if c]
    opts.skip = [tuple(s.split(":", 1)) for s in opts.skip]
    opts.timeouts = {"default": 300.0}
    for t in opts.timeout:
        column, _, value = t.rpartition("=")
        opts.timeouts[column or "default"] = float(value)
    for column in opts.columns + [c for c, _ in opts.skip] + [c for c in opts.timeouts if c != "default"]:
        if column not in COLUMNS:
            p.error("unknown column %r (columns: %s)" % (column, ", ".join(COLUMNS)))
    if not os.access(opts.wasi_run, os.X_OK):
        p.error("%s: no such binary (build it: cargo build --release -p wasi-preview1)" % opts.wasi_run)
    for wasm in ("python.wasm", "resvg.wasm", "sqlite.wasm"):
        if not os.path.exists(os.path.join(opts.programs, wasm)):
            p.error("%s missing: run wasi/real/fetch.sh (or pass --programs)" % os.path.join(opts.programs, wasm))
    return opts


def main():
    opts = parse_args()
    cases = [c for c in json.load(open(os.path.join(REAL, "cases.json")))["cases"] if re.search(opts.cases, c["name"])]
    record.load_wasmtime(opts.programs)  # fetches the wheel once, before any run is timed
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    with tempfile.TemporaryDirectory(prefix="real-bench-") as work:
        bench = Bench(opts, work)
        bench.failed = False
        for case in cases:
            before = load()
            print("%s (load %s)" % (case["name"], before), file=sys.stderr)
            results = bench.case_row(case, opts.columns)
            rows.append((case, results, before, load()))
    finished = datetime.datetime.now(datetime.timezone.utc)
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD") + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")

    lines = [
        "Run %s–%s UTC, this checkout at commit %s, `%s` (built %s UTC, %s); %d cores (`nproc`), %s; %s; wasmtime %s (PyPI wheel, default config: "
        "Cranelift, parallel compilation); Node %s. %d timed runs per cell: median (min), seconds of one whole run."
        % (started.strftime("%Y-%m-%d %H:%M"), finished.strftime("%H:%M"), commit, shown_path(opts.wasi_run),
           datetime.datetime.fromtimestamp(os.path.getmtime(opts.wasi_run), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
           "with `--cache-dir`" if bench.has_cache else "no code cache in this build", os.cpu_count(), cpu_model(),
           "load average (`uptime`: 1, 5, 15 min) before → after each case in the last column",
           record.WHEEL.split("==")[1], node_version, opts.reps),
        "",
    ]
    if opts.note:
        lines[0] = opts.note + " " + lines[0]
    overhead = {h: statistics.median(v) for h, v in bench.host_overhead.items() if v}
    if overhead:
        lines += [
            "Ours: the `wasi-run` process, start to exit. wasmtime and Node: the runtime's own time, from creating the "
            "engine (reading the module, for Node) to the guest's exit; their host's start-up, left out, was "
            + ", ".join("%s %s" % (h, seconds_text(s)) for h, s in overhead.items())
            + " (median process time minus that).",
            "",
        ]
    names = {"native-cold": "native cold", "native-warm": "native warm", "interp": "interp", "wasmtime-cold": "wasmtime cold",
             "wasmtime-warm": "wasmtime warm", "node": "Node"}
    header = [names[c] for c in opts.columns]
    ratios = []
    if "native-cold" in opts.columns and "wasmtime-cold" in opts.columns:
        ratios.append(("native/wasmtime cold", "native-cold", "wasmtime-cold"))
    if "native-warm" in opts.columns and "wasmtime-warm" in opts.columns:
        ratios.append(("native/wasmtime warm", "native-warm", "wasmtime-warm"))
    lines.append("| case | " + " | ".join(header + [r[0] for r in ratios]) + " | load before → after |")
    lines.append("|---|" + "---:|" * (len(header) + len(ratios)) + "---|")
    for case, results, before, after in rows:
        cells = [cell(results[c]) for c in opts.columns] + [ratio(results[a], results[b]) for _, a, b in ratios]
        lines.append("| %s | %s | %s → %s |" % (case["name"], " | ".join(cells), before, after))
    markdown = "\n".join(lines) + "\n"
    print(markdown)
    if opts.out:
        with open(opts.out, "w") as f:
            f.write(markdown)
    sys.exit(1 if bench.failed else 0)


if __name__ == "__main__":
    main()
