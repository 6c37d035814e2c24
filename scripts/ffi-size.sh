#!/usr/bin/env bash
# The size of the library the apps link: `libkeyway_ffi.so` built with the repo's `mobile`
# profile (the one android/build-native.sh and ios/build-xcframework.sh use) for this
# machine (x86_64 Linux), stripped of symbols, in bytes and MiB, and the 15 crates that
# weigh most in it (cargo bloat, installed if missing). The figure is in BENCHMARKS.md;
# an Android arm64 build differs.
#   bash scripts/ffi-size.sh [--crates]
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --locked --profile mobile -p keyway-ffi --lib --quiet
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
strip --strip-all -o "$stripped" "$target/mobile/libkeyway_ffi.so"
bytes=$(stat -c %s "$stripped")
awk -v b="$bytes" 'BEGIN { printf "libkeyway_ffi.so, mobile profile, stripped: %d bytes (%.2f MiB)\n", b, b / 1048576 }'
if [ "${1:-}" = --crates ]; then
  cargo bloat --version >/dev/null 2>&1 || cargo install --locked cargo-bloat --version 0.12.1 --quiet
  cargo bloat --locked --profile mobile -p keyway-ffi --lib --crates -n 15
fi
