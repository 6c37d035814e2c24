#!/usr/bin/env bash
# The whole Keyway test suite, from a fresh machine of the `rust` kind.
# Installs what it needs (as root, with apt-get), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/setup.sh
keyway_setup

echo "==> cargo test (workspace)"
cargo test --workspace --locked
