#!/usr/bin/env bash
# The size of the library the apps link: `libkeyway_ffi.so` built with the repo's `mobile`
# profile (the one android/build-native.sh and ios/build-xcframework.sh use) for this
# machine (x86_64 Linux), stripped of symbols, in bytes and MiB, and with --crates the 15
# crates that weigh most in it. The figure is in BENCHMARKS.md;
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
  # cargo bloat refuses a library that is also a staticlib, so the same idea by hand:
  # every symbol's size, charged to the crate its demangled path starts with; C and
  # assembly symbols (SQLite, ring's primitives) have no path and are counted together.
  nm -S --size-sort -C "$target/mobile/libkeyway_ffi.so" | python3 -c '
import collections, re, sys
sizes = collections.Counter()
for line in sys.stdin:
    fields = line.rstrip("\n").split(" ", 3)
    if len(fields) < 4 or fields[2] not in "tTrRdDbBwWvV":
        continue
    m = re.match(r"^<?(?:&(?:mut )?)?(?:dyn )?([A-Za-z_][A-Za-z0-9_]*)::", fields[3])
    sizes[m.group(1) if m else "(C and assembly: SQLite, ring)"] += int(fields[1], 16)
total = sum(sizes.values())
print(f"symbol bytes: {total}; the 15 largest crates:")
for name, size in sizes.most_common(15):
    print(f"{size:>10}  {100 * size / total:5.1f} %  {name}")
'
fi
