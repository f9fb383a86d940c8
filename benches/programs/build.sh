#!/usr/bin/env bash
# Rebuilds the benchmark programs (C -> wasm32) with Debian's clang-16 and lld-16,
# installing them if missing. The built .wasm files are committed, so benchmarks run
# without a C toolchain; run this only after changing a .c file.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v clang-16 >/dev/null || ! command -v wasm-ld-16 >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq clang-16 lld-16
fi
for src in sha256 quicksort nbody lz; do
    clang-16 --target=wasm32 -O2 -nostdlib -ffreestanding -fno-builtin-memcpy \
        -fuse-ld=lld -Wl,--no-entry -Wl,--export=run -Wl,-z,stack-size=1048576 \
        -o "$src.wasm" "$src.c"
    echo "built $src.wasm ($(stat -c %s "$src.wasm") bytes)"
done
