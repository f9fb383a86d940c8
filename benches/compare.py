#!/usr/bin/env python3
"""Reads criterion's results and prints markdown tables.

  compare.py [--baseline NAME] [--threshold PCT] [--fail]
      Per benchmark, the latest run (`new`) against a saved criterion baseline
      (`cargo bench -p benches -- --save-baseline NAME`): change of the median time,
      flagged when it is over the threshold (default 5%). With --fail, exits 1 if any
      benchmark got slower by more than the threshold.

  compare.py --ratios [--baseline NAME]
      The results table of benches/README.md: per group and workload, the time of each
      engine and the ratios interp/wasmi and native/wasmtime (from `new`, or from the
      named baseline).

The criterion directory is $CARGO_TARGET_DIR/criterion, else target/criterion of the
workspace; --dir overrides it.
"""

import argparse
import json
import os
import sys
from pathlib import Path

GROUPS = ["compile", "instantiate", "execute"]
ENGINES = ["interp", "native", "wasmi", "wasmi-eager", "wasmtime", "wasmtime-winch", "wasmtime-pulley"]


def criterion_dir(arg):
    if arg:
        return Path(arg)
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        return Path(target) / "criterion"
    return Path(__file__).resolve().parent.parent / "target" / "criterion"


def load(root, which):
    """{(group, workload, engine): median ns} for every benchmark with a `which` result."""
    out = {}
    for est in root.glob(f"*/*/*/{which}/estimates.json"):
        engine_dir = est.parent.parent
        key = (engine_dir.parent.parent.name, engine_dir.parent.name, engine_dir.name)
        with open(est) as f:
            out[key] = json.load(f)["median"]["point_estimate"]
    return out


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def order(key):
    g, w, e = key
    return (
        GROUPS.index(g) if g in GROUPS else 99,
        w,
        ENGINES.index(e) if e in ENGINES else 99,
        e,
    )


def compare(root, baseline, threshold, fail):
    new = load(root, "new")
    base = load(root, baseline)
    if not base:
        sys.exit(f"no baseline {baseline!r} under {root} (save one with --save-baseline {baseline})")
    slower = 0
    print(f"| benchmark | {baseline} | new | change | |")
    print("|---|---:|---:|---:|---|")
    for key in sorted(set(new) | set(base), key=order):
        name = "/".join(key)
        if key not in new or key not in base:
            print(f"| {name} | {fmt_time(base[key]) if key in base else '-'} | "
                  f"{fmt_time(new[key]) if key in new else '-'} | | only in one |")
            continue
        change = (new[key] / base[key] - 1) * 100
        flag = ""
        if change > threshold:
            flag = "**slower**"
            slower += 1
        elif change < -threshold:
            flag = "faster"
        print(f"| {name} | {fmt_time(base[key])} | {fmt_time(new[key])} | {change:+.1f}% | {flag} |")
    print(f"\n{slower} benchmark(s) slower by more than {threshold}% against {baseline!r}.")
    if fail and slower:
        sys.exit(1)


def ratio(a, b):
    if a is None or b is None:
        return "-"
    return f"{a / b:.2f}"


def ratios(root, which):
    data = load(root, which)
    if not data:
        sys.exit(f"no {which!r} results under {root}")
    engines = [e for e in ENGINES if any(k[2] == e for k in data)]
    for group in GROUPS:
        workloads = sorted({k[1] for k in data if k[0] == group})
        if not workloads:
            continue
        print(f"\n**{group}** (median)\n")
        print("| workload | " + " | ".join(engines) + " | interp/wasmi | native/wasmtime |")
        print("|---" * (len(engines) + 3) + "|")
        for w in workloads:
            t = {e: data.get((group, w, e)) for e in engines}
            cells = [fmt_time(t[e]) if t[e] is not None else "-" for e in engines]
            print(f"| {w} | " + " | ".join(cells)
                  + f" | {ratio(t.get('interp'), t.get('wasmi'))}"
                  + f" | {ratio(t.get('native'), t.get('wasmtime'))} |")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--baseline", default=None, help="criterion baseline name (default: base for comparisons)")
    p.add_argument("--threshold", type=float, default=5.0, help="percent change to flag (default 5)")
    p.add_argument("--fail", action="store_true", help="exit 1 if anything is slower by more than the threshold")
    p.add_argument("--ratios", action="store_true", help="print the engine ratio tables instead")
    p.add_argument("--dir", default=None, help="criterion output directory")
    a = p.parse_args()
    root = criterion_dir(a.dir)
    if a.ratios:
        ratios(root, a.baseline or "new")
    else:
        compare(root, a.baseline or "base", a.threshold, a.fail)


if __name__ == "__main__":
    main()
