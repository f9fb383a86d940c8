#!/usr/bin/env python3
"""Measured kill rate of the spec suite and the differential fuzzer (issue 14, part 6).

Lists the mutants cargo-mutants generates for runtime/src/{interp,native,store}, samples
some of them deterministically (a seed), and for each one, in a scratch git worktree
detached at the measured commit: applies the mutant's diff, builds the harness, runs the
spec suite and the fuzzer on it, and records which of them kill it. Nothing is ever
committed there; the worktree is reset before every mutant.

One command (from the repository root; see harness/README.md, "Kill rate"):

    nice -n 10 python3 harness/mutants/run.py

Results go to OUT/results.jsonl, one JSON object per mutant, appended as each finishes,
so a rerun skips the mutants already done (same commit, same diff); OUT/report.md is
rewritten from it after every mutant. OUT defaults to target/mutants (under
CARGO_TARGET_DIR when set).

Verdicts are the same as running each tool in full, but cheaper for killed mutants: the
spec suite runs suite by suite, on the mutated engine only (see spec_engine), and stops at
the first suite with a failure; the fuzzer runs its seed range in two pieces (the first
few hundred seeds, then the rest) and is stopped at its first divergence or crash. A seed
is the same case whatever range it is run in, so "some seed of 0..20000 kills it" does not
depend on the split.
"""

import argparse
import hashlib
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

AREAS = ["runtime/src/interp", "runtime/src/native", "runtime/src/store"]
SPEC_SUITES = ["regressions", "1.0", "2.0", "3.0"]
FUZZ_FIRST = 500
# A dedicated build: incremental, many codegen units, for the two crates a mutant
# touches (runtime) or links (harness); dependencies keep the release settings, so they
# are built once. Measured in RATIONALE.md ("Kill rate").
BUILD_CONFIG = [
    "--config", "profile.release.package.runtime.codegen-units=256",
    "--config", "profile.release.package.harness.codegen-units=256",
]


def sh(cmd, cwd=None, env=None, timeout=None, capture=True):
    """Runs `cmd`; returns (exit code or 'timeout', stdout, stderr, seconds)."""
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, text=True,
                           stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE if capture else None,
                           errors="replace")
        return p.returncode, p.stdout or "", p.stderr or "", time.monotonic() - start
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return "timeout", out, err, time.monotonic() - start


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, text=True,
                          stdout=subprocess.PIPE).stdout.strip()


def prepare_scratch(repo, scratch, commit):
    """A worktree detached at `commit`, with no local change."""
    if not (scratch / ".git").exists():
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach",
                        str(scratch), commit], check=True)
    git(scratch, "checkout", "--quiet", "--detach", "--force", commit)
    git(scratch, "reset", "--quiet", "--hard", commit)
    git(scratch, "clean", "--quiet", "-fd", "runtime")


def list_mutants(scratch, out, commit):
    """cargo-mutants' list (with diffs) for the three areas, cached per commit."""
    cache = out / f"list-{commit[:12]}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    cmd = ["cargo", "mutants", "--list", "--json", "--diff", "--package", "runtime"]
    for area in AREAS:
        cmd += ["--file", area + "/**/*.rs"]
    code, stdout, stderr, _ = sh(cmd, cwd=scratch)
    if code != 0:
        sys.exit(f"cargo mutants --list failed ({code}):\n{stderr[-4000:]}")
    mutants = json.loads(stdout)
    cache.write_text(json.dumps(mutants))
    return mutants


def mutant_key(m):
    return m["name"]


def mutant_id(m):
    return hashlib.sha256(m["diff"].encode()).hexdigest()[:12]


def describe(m):
    """(file:line:col, what cargo-mutants calls the mutation)."""
    where, _, what = m["name"].partition(": ")
    return where, what


def git_diff(m):
    """cargo-mutants' diff names the mutation on its `+++` line; git apply wants a path."""
    body = m["diff"].split("\n", 2)[2]
    return f"--- a/{m['file']}\n+++ b/{m['file']}\n{body}"


def build(scratch, env, timeout):
    cmd = ["cargo", "build", "--release", "-p", "harness", *BUILD_CONFIG]
    code, _, stderr, secs = sh(cmd, cwd=scratch, env=env, timeout=timeout)
    if code == "timeout":
        return "build_timeout", secs, ""
    if code != 0:
        errors = [line for line in stderr.splitlines() if line.startswith("error")]
        return "build_failed", secs, "; ".join(errors[:2])[:300]
    return "built", secs, ""


def spec_engine(file):
    """The engines whose spec run can see a mutant of `file`. Each engine is its own
    backend (runtime/src/api/engine.rs picks one per strategy) and neither calls into the
    other, so an interpreter mutant cannot change what the native engine does, nor the
    reverse: running the other engine too would give the same verdict, slower. The store
    is shared: both."""
    if file.startswith("runtime/src/interp/"):
        return "interp"
    if file.startswith("runtime/src/native/"):
        return "native"
    return "both"


def run_spec(binary, timeout, engine="both", file_timeout=30):
    """Suite by suite; the first suite with a failure (or a crash, or the limit) kills."""
    total = 0.0
    for suite in SPEC_SUITES:
        cmd = [str(binary), "spec", "--suite", suite, "--engine", engine, "--timeout",
               str(file_timeout)]
        code, stdout, stderr, secs = sh(cmd, timeout=timeout)
        total += secs
        if code == 0:
            continue
        if code == "timeout":
            how, detail = "timeout", f"suite {suite} ran past {timeout} s"
        elif code == 1:
            how = "failure"
            lines = [x for x in stdout.splitlines() if re.match(r"^\[\w+\] \S+\.wast:\d+: ", x)]
            detail = f"suite {suite}: " + (lines[0] if lines else stdout.strip()[-200:])
        else:
            how = "crash"
            detail = f"suite {suite}: exit {code}: " + stderr.strip()[-200:]
        return {"killed": True, "how": how, "detail": detail[:400], "secs": round(total, 1),
                "engine": engine}
    return {"killed": False, "secs": round(total, 1), "engine": engine}


def first_finding(cmd, timeout):
    """Runs a fuzz command until its first divergence or crash line on stderr, then stops
    it (with its worker processes): one finding decides the verdict, and a mutant that
    makes every case hang would otherwise cost the case timeout per seed.
    Returns (exit code, 'killed' or 'timeout', the finding or None, stderr tail, secs)."""
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         start_new_session=True)
    fd = p.stderr.fileno()
    found, tail, buf = None, [], b""
    deadline = start + timeout
    eof = False
    while True:
        if not eof and select.select([fd], [], [], 0.2)[0]:
            chunk = os.read(fd, 65536)
            eof = not chunk
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                line = raw.decode(errors="replace")
                tail = (tail + [line])[-20:]
                if found is None and line.startswith("[fuzz] seed-") \
                        and "reproducer:" not in line:
                    found = line[len("[fuzz] "):]
        elif eof:
            time.sleep(0.2)
        if found is not None or time.monotonic() > deadline:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
            how = "killed" if found is not None else "timeout"
            return p.returncode, how, found, "\n".join(tail), time.monotonic() - start
        if eof and p.poll() is not None:
            return p.returncode, "exited", found, "\n".join(tail), time.monotonic() - start


def run_fuzz(binary, seeds, out_dir, timeout):
    """The seed range in two pieces; the first divergence or crash kills (and stops)."""
    total = 0.0
    start, end = seeds
    pieces = [(start, min(end, start + FUZZ_FIRST)), (min(end, start + FUZZ_FIRST), end)]
    for a, b in pieces:
        if a >= b:
            continue
        shutil.rmtree(out_dir, ignore_errors=True)
        cmd = [str(binary), "fuzz", "--seeds", f"{a}..{b}", "--out", str(out_dir),
               "--progress", "600"]
        code, ended, first, tail, secs = first_finding(cmd, timeout)
        total += secs
        if ended == "exited" and code == 0 and first is None:
            continue
        if first is None and ended == "timeout":
            how, first = "timeout", f"seeds {a}..{b} ran past {timeout} s"
        elif first is None:
            how, first = "driver-error", f"exit {code}: " + tail.strip()[-200:]
        elif "timeout:" in first:
            how = "hang"
        elif "exit status: 101" in first:
            how = "panic"
        elif "worker process" in first:
            how = "crash"
        else:
            how = "divergence"
        return {"killed": True, "how": how, "seeds": f"{a}..{b}", "first": first[:400],
                "secs": round(total, 1)}
    return {"killed": False, "secs": round(total, 1)}


def report(results, path, commit, args):
    done = [r for r in results if r["id"] != "baseline"]
    built = [r for r in done if r["status"] == "built"]
    spec_k = [r for r in built if r["spec"]["killed"]]
    fuzz_k = [r for r in built if r["fuzz"]["killed"]]
    missed = [r for r in built if not r["spec"]["killed"]]
    missed_fuzz = [r for r in missed if r["fuzz"]["killed"]]
    survivors = [r for r in built if not r["spec"]["killed"] and not r["fuzz"]["killed"]]

    def pct(a, b):
        return f"{100.0 * a / b:.1f}%" if b else "n/a"

    lines = [
        "# Mutation kill rate",
        "",
        f"Commit `{commit[:12]}`; sample seed {args.seed}, sample size {args.sample}; "
        f"fuzzer seeds {args.fuzz_seeds}; spec suites {','.join(SPEC_SUITES)} on both engines.",
        "",
        f"- mutants done: {len(done)} ({len(built)} built, "
        f"{sum(r['status'] == 'build_failed' for r in done)} failed to build, "
        f"{sum(r['status'] == 'build_timeout' for r in done)} build timeouts)",
        f"- killed by the spec suite: {len(spec_k)} of {len(built)} ({pct(len(spec_k), len(built))})",
        f"- killed by the fuzzer: {len(fuzz_k)} of {len(built)} ({pct(len(fuzz_k), len(built))})",
        f"- killed by the fuzzer among those the spec suite misses: {len(missed_fuzz)} of "
        f"{len(missed)} ({pct(len(missed_fuzz), len(missed))})",
        f"- killed by either: {len(built) - len(survivors)} of {len(built)}; "
        f"surviving both: {len(survivors)}",
        "",
        "| # | mutant | where | build | spec | fuzzer | cost (build/spec/fuzz s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(done, 1):
        spec = fuzz = "-"
        if r["status"] == "built":
            s, f = r["spec"], r["fuzz"]
            spec = f"killed ({s['how']})" if s["killed"] else "survived"
            fuzz = f"killed ({f['how']}, seeds {f['seeds']})" if f["killed"] else "survived"
        cost = f"{r.get('build_secs', 0):.0f}/{r.get('spec', {}).get('secs', 0):.0f}/" \
               f"{r.get('fuzz', {}).get('secs', 0):.0f}"
        what = r["what"].replace("|", "\\|")
        lines.append(f"| {i} | `{r['id']}` {what} | {r['where']} | {r['status']} | {spec} "
                     f"| {fuzz} | {cost} |")
    lines += ["", "## Details", ""]
    for r in done:
        lines.append(f"### `{r['id']}` {r['where']}")
        lines.append("")
        lines.append("```diff")
        lines.append(r["diff"].rstrip())
        lines.append("```")
        if r["status"] != "built":
            lines.append(f"- build: {r['status']} {r.get('build_error', '')}")
        else:
            if r["spec"]["killed"]:
                lines.append(f"- spec: {r['spec']['detail']}")
            if r["fuzz"]["killed"]:
                lines.append(f"- fuzzer: {r['fuzz']['first']}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")


def main():
    repo = Path(git(Path.cwd(), "rev-parse", "--show-toplevel"))
    target = Path(os.environ.get("CARGO_TARGET_DIR", repo / "target"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", type=int, default=60, help="mutants to sample")
    ap.add_argument("--seed", type=int, default=14, help="sampling seed")
    ap.add_argument("--commit", default="HEAD", help="commit to mutate (default HEAD)")
    ap.add_argument("--scratch", type=Path, default=repo.parent / "mutant-scratch",
                    help="scratch worktree (created when missing)")
    ap.add_argument("--out", type=Path, default=target / "mutants", help="results folder")
    ap.add_argument("--fuzz-seeds", default="0..20000")
    ap.add_argument("--build-timeout", type=int, default=1800)
    # A mutant that makes code loop forever would otherwise cost every file its timeout.
    # The unmutated suites take 5-40 s each (both engines, loaded machine).
    ap.add_argument("--spec-timeout", type=int, default=240, help="seconds per spec suite")
    ap.add_argument("--spec-file-timeout", type=int, default=30,
                    help="seconds per spec file (harness spec --timeout)")
    ap.add_argument("--fuzz-timeout", type=int, default=900, help="seconds per fuzz piece")
    ap.add_argument("--stop-after", type=float, default=None,
                    help="minutes after which no new mutant is started")
    ap.add_argument("--no-baseline", action="store_true",
                    help="skip checking that the unmutated commit passes both")
    args = ap.parse_args()

    started = time.monotonic()
    commit = git(repo, "rev-parse", args.commit)
    args.out.mkdir(parents=True, exist_ok=True)
    results_path = args.out / "results.jsonl"
    results = []
    if results_path.exists():
        results = [json.loads(x) for x in results_path.read_text().splitlines() if x.strip()]
    results = [r for r in results if r["commit"] == commit]
    done = {r["id"] for r in results}

    scratch = args.scratch.resolve()
    prepare_scratch(repo, scratch, commit)
    env = dict(os.environ, CARGO_TARGET_DIR=str(target), CARGO_INCREMENTAL="1")
    a, b = (int(x) for x in args.fuzz_seeds.split(".."))
    binary = args.out / "harness-mutant"

    mutants = sorted(list_mutants(scratch, args.out, commit), key=mutant_key)
    sample = random.Random(args.seed).sample(mutants, min(args.sample, len(mutants)))
    print(f"[mutants] commit {commit[:12]}: {len(mutants)} mutants listed, "
          f"{len(sample)} sampled (seed {args.seed}), {len(done)} already done", flush=True)

    todo = [None] if ("baseline" not in done and not args.no_baseline) else []
    todo += [m for m in sample if mutant_id(m) not in done]
    for m in todo:
        if args.stop_after and time.monotonic() - started > args.stop_after * 60:
            print("[mutants] --stop-after reached; rerun to continue", flush=True)
            break
        prepare_scratch(repo, scratch, commit)
        if m is None:
            rec = {"id": "baseline", "where": "-", "what": "the unmutated commit", "diff": ""}
        else:
            where, what = describe(m)
            rec = {"id": mutant_id(m), "where": where, "what": what, "diff": m["diff"]}
            ap_ = subprocess.run(["git", "-C", str(scratch), "apply", "-"], input=git_diff(m),
                                 text=True, capture_output=True)
            if ap_.returncode != 0:
                sys.exit(f"git apply failed for {rec['id']}: {ap_.stderr}")
        rec["commit"] = commit
        print(f"[mutants] {rec['id']} {rec['where']}: {rec['what']}", flush=True)
        status, secs, err = build(scratch, env, args.build_timeout)
        rec.update(status=status, build_secs=round(secs, 1))
        if err:
            rec["build_error"] = err
        if status == "built":
            shutil.copy2(target / "release" / "harness", binary)
            engine = spec_engine(m["file"]) if m is not None else "both"
            rec["spec"] = run_spec(binary, args.spec_timeout, engine, args.spec_file_timeout)
            rec["fuzz"] = run_fuzz(binary, (a, b), args.out / "fuzz-out", args.fuzz_timeout)
        prepare_scratch(repo, scratch, commit)
        print(f"[mutants]   -> {status} {json.dumps({k: rec.get(k) for k in ('spec', 'fuzz')})}",
              flush=True)
        if m is None and (status != "built" or rec["spec"]["killed"] or rec["fuzz"]["killed"]):
            sys.exit("the unmutated commit does not pass the spec suite and the fuzzer: "
                     f"{json.dumps(rec)}")
        with results_path.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        results.append(rec)
        report(results, args.out / "report.md", commit, args)
    report(results, args.out / "report.md", commit, args)
    print(f"[mutants] report: {args.out / 'report.md'}", flush=True)


if __name__ == "__main__":
    main()
