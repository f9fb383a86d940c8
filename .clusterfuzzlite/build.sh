#!/bin/bash -eu
# Builds the cargo-fuzz targets of fuzz/ the way OSS-Fuzz and ClusterFuzzLite expect:
# one binary per target in $OUT, each with a seed corpus $OUT/<target>_seed_corpus.zip
# and an options file. Runs from the repository root (the Dockerfile's WORKDIR); the
# infrastructure sets $OUT, $SRC, $WORK, $SANITIZER and RUSTFLAGS (with -Zsanitizer=...
# and --cfg fuzzing). To try it outside the container, see fuzz/README.md.

cd "${REPO_DIR:-$PWD}"
test -f fuzz/Cargo.toml || { echo "build.sh: run it from the repository root" >&2; exit 1; }

TARGETS="differential no_panic"
FUZZ_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/fuzz/target}"

# The targets, instrumented for libFuzzer (and the sanitizer RUSTFLAGS names, if any).
# -O: release, without debug assertions; OSS-Fuzz's cargo wrapper turns this into a
# coverage build when SANITIZER=coverage.
cargo fuzz build -O
for t in $TARGETS; do
    cp "$FUZZ_TARGET_DIR/x86_64-unknown-linux-gnu/release/$t" "$OUT/"
done

# Seed corpora: the spec testsuite's modules for no_panic, the stable driver's seed
# inputs for differential (harness/src/fuzz/corpus.rs says why), written by the targets
# just built (FUZZ_WRITE_SEED_CORPUS: write and exit before fuzzing).
CORPUS="${WORK:-/tmp}/fuzz-seed-corpus"
rm -rf "$CORPUS"
for t in $TARGETS; do
    ASAN_OPTIONS=detect_leaks=0 FUZZ_WRITE_SEED_CORPUS="$CORPUS/$t" "$OUT/$t"
    rm -f "$OUT/${t}_seed_corpus.zip"
    (cd "$CORPUS/$t" && zip -q -r "$OUT/${t}_seed_corpus.zip" .)
done

# differential inputs are 8 KiB stable-driver seeds; let mutations keep that length.
printf '[libfuzzer]\nmax_len = 8192\n' > "$OUT/differential.options"
printf '[libfuzzer]\nmax_len = 65536\n' > "$OUT/no_panic.options"
