#!/usr/bin/env bash
# Unlock timings through btleplug on the virtual BlueZ, next to the simulated radio, for
# BENCHMARKS.md: median time from `unlock()` to the door open, by phase. The example
# starts its own private dbus-daemon (Debian package dbus-daemon).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
keyway_setup
n=${1:-20}
cargo run -q --release -p keyway-sandbox --example bench_btleplug -- "$n"
