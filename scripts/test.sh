#!/usr/bin/env bash
# The whole Keyway test suite, from a fresh machine of the `rust` kind.
# Installs what it needs (as root, with apt-get), fetches every crate both lock files
# name, then runs every step. A failing step does not hide the others: each prints its
# own result, the run goes on, and the script exits non-zero at the end if any failed.
# Closing lines: the minutes each step took, then `keyway: N passed, M failed`.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/setup.sh
keyway_setup

log=$(mktemp)
trap 'rm -f "$log"' EXIT
timings=()
failed_steps=()

# step LABEL COMMAND…: runs one step, its output kept for the closing count.
step() {
  local label=$1 started=$SECONDS status=0
  shift
  echo "==> $label"
  set +e
  "$@" 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
  set -e
  local took=$((SECONDS - started))
  if [ "$status" -eq 0 ]; then
    timings+=("$(printf '%-10s %6ss  ok' "$label" "$took")")
  else
    timings+=("$(printf '%-10s %6ss  FAILED (exit %s)' "$label" "$took" "$status")")
    failed_steps+=("$label")
    # The closing count must show a failed step even when it failed before any test ran.
    echo "test result: FAILED. 0 passed; 1 failed ($label step)" >>"$log"
  fi
}

# The protocol, lock, backend, core, sandbox (demo and bench), journeys, client and bindings crates.
step workspace cargo test --workspace --locked

# The app killed with SIGKILL at every kill point, restarted, nothing lost.
step crash cargo test --workspace --features keyway-e2e/crash-points --test crash_safety --locked -- --nocapture

# Licences, bans, sources (advisories when a database is present).
step deny scripts/lib/deny.sh

# The generated Kotlin on the JVM: journeys against the backend and served locks.
step kotlin bash bindings/kotlin/run-tests.sh

# The Android shell's Kotlin compiled against the generated bindings, JUnit on the JVM.
step android bash android/check-shared.sh

# android/src/main compiled against the Android API stubs, the fake-GATT tests, the ELF
# alignment, POM and gradlew checks.
step android-main bash android/check-main.sh

# The generated Swift and ios/ parsed with tree-sitter-swift.
step swift bash scripts/check-swift.sh

# The fuzz targets: built, past crashes replayed, a few seconds each on their seeds.
step fuzz bash -c 'scripts/fuzz.sh build && scripts/fuzz.sh regress && scripts/fuzz.sh smoke 3'

echo
echo "where the minutes went:"
printf '  %s\n' "${timings[@]}"
printf '  %-10s %6ss\n' total "$SECONDS"

# One closing line for the whole run: every step's summary added up.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "keyway: %d passed, %d failed\n", p, f }' "$log"
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}" >&2
  exit 1
fi
