#!/usr/bin/env bash
# The whole Keyway test suite, from a fresh machine of the `rust` kind.
# Installs what it needs (as root, with apt-get), then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/setup.sh
keyway_setup

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "==> cargo test (workspace: protocol, lock, backend, core, journeys, demo, bindings)"
cargo test --workspace --locked 2>&1 | tee "$log"

echo "==> crash safety: the app killed with SIGKILL at every kill point, restarted, nothing lost"
cargo test -p keyway-e2e --features crash-points --test crash_safety --locked -- --nocapture 2>&1 | tee -a "$log"

echo "==> cargo deny: licences, bans, sources (advisories when a database is present)"
scripts/lib/deny.sh

echo "==> Kotlin on the JVM: generated bindings, journeys against the backend and served locks"
bash bindings/kotlin/run-tests.sh 2>&1 | tee -a "$log"

echo "==> Android shell: its pure Kotlin compiled against the generated bindings, JUnit on the JVM"
bash android/check-shared.sh 2>&1 | tee -a "$log"

echo "==> Android shell: src/main compiled against the API 35 stubs, GattTransport on a fake GATT stack, packaging checks"
bash android/check-main.sh 2>&1 | tee -a "$log"

echo "==> Swift: the generated bindings and ios/ parsed with tree-sitter-swift"
bash scripts/check-swift.sh 2>&1 | tee -a "$log"

echo "==> fuzz targets: build, replay past crashes, a few seconds each on their seeds"
scripts/fuzz.sh build
scripts/fuzz.sh regress
scripts/fuzz.sh smoke 3

# One closing line for the whole run: every cargo test summary added up.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "keyway: %d passed, %d failed\n", p, f }' "$log"
