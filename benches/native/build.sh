#!/usr/bin/env bash
# Builds the native-C baseline of each benchmark program with gcc -O2 into
# $OUT (default: /tmp/bench-native): <program> N prints run(N).
set -euo pipefail
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/bench-native}
mkdir -p "$OUT"
for p in sha256 quicksort nbody lz; do
    ret=unsigned
    [ "$p" = nbody ] && ret="long long"
    gcc -O2 -DRET="$ret" -o "$OUT/$p" main.c "../programs/$p.c" -lm
done
echo "built into $OUT"
