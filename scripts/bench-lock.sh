#!/usr/bin/env bash
# Reference-lock figures for BENCHMARKS.md: instructions per unlock on the lock side,
# persistence included (callgrind counts instructions, not time, so the figure repeats
# on a busy machine; the time an fsync waits for the disk is not an instruction).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
cargo build -q --release -p keyway-lock --example lock_figures
bin=${CARGO_TARGET_DIR:-target}/release/examples/lock_figures
for path in standard fast; do
  for storage in memory file; do
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
      --toggle-collect='*lock_side_work*' "$bin" "$path" "$storage" "$n" >/dev/null 2>&1
    total=$(grep -E '^summary:' "$out" | awk '{print $2}')
    rm -f "$out"
    echo "$path, $storage storage: $((total / n)) instructions per unlock (callgrind, $n unlocks)"
  done
done
