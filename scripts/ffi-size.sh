#!/usr/bin/env bash
# The size of the library the apps link: `libkeyway_ffi.so` built with the repo's release
# profile for this machine (x86_64 Linux), stripped of symbols, in bytes and MiB. The
# figure is in BENCHMARKS.md ("Build and test command"); an Android arm64 build differs.
#   bash scripts/ffi-size.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --locked --release -p keyway-ffi --lib --quiet
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip --strip-all -o "$stripped" "$target/release/libkeyway_ffi.so"
bytes=$(stat -c %s "$stripped")
awk -v b="$bytes" 'BEGIN { printf "libkeyway_ffi.so, release profile, stripped: %d bytes (%.2f MiB)\n", b, b / 1048576 }'
