#!/usr/bin/env bash
# Protocol figures for BENCHMARKS.md: wire sizes, ATT packet counts, and the lock-side
# instruction count per unlock path (callgrind counts instructions, not time, so the
# figure repeats on a busy machine).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
cargo build -q --release -p keyway-protocol --features testkit --example figures
bin=target/release/examples/figures
"$bin" sizes
for path in standard fast; do
  out=$(mktemp)
  valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
    --toggle-collect='*lock_side_work*' "$bin" "$path" "$n" >/dev/null 2>&1
  total=$(grep -E '^summary:' "$out" | awk '{print $2}')
  rm -f "$out"
  echo "$path: $((total / n)) instructions per unlock on the lock side (callgrind, $n unlocks)"
done
