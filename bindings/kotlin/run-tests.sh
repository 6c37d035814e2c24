#!/usr/bin/env bash
# The generated Kotlin, run for real on the JVM: builds the workspace once and generates
# the bindings from the debug keyway-ffi cdylib (scripts/lib/bindings.sh), compiles
# them with the Kotlin tests, and runs the journeys against the reference backend (over
# HTTPS, with a CA made for the run by `keyway-backend dev-certs`) and `keyway-lock serve`,
# each in its own process.
#
# Needs: Java 17 and npm (on the machine), Debian's libjna-java and junit4 (installed by
# scripts/lib/setup.sh). kotlinc comes from npm's `kotlin-compiler` into a cache folder
# ($KEYWAY_CACHE, default ~/.cache/keyway), never into the repo.
# Prints `test result: ok. N passed; M failed` (the test command counts it); exits
# non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

source scripts/lib/kotlin.sh
source scripts/lib/bindings.sh
kotlin_home=$(keyway_kotlin_home)
junit=$(keyway_junit_classpath)

keyway_bindings
target="$KEYWAY_TARGET"
library="$target/debug/libkeyway_ffi.so"
out="$target/kotlin-tests"
rm -rf "$out"
mkdir -p "$out/classes"

classpath="$junit:$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"

echo "==> compiling the generated Kotlin with the tests"
mapfile -t sources < <(find "$KEYWAY_BINDINGS/kotlin" bindings/kotlin/tests -name '*.kt' | sort)
"$kotlin_home/bin/kotlinc" -nowarn -jvm-target 17 -cp "$classpath" -d "$out/classes" "${sources[@]}"

echo "==> running the Kotlin journeys on the JVM"
keyway_junit_run "Kotlin on the JVM" "$out/junit.txt" "$out/classes:$classpath" \
  -Djna.library.path="$target/debug" \
  -Dkeyway.backend="$target/debug/keyway-backend" -Dkeyway.lock="$target/debug/keyway-lock" \
  -Dkeyway.ffi="$library" \
  -- app.keyway.test.JourneysTest app.keyway.test.ErrorsTest app.keyway.test.ErrorMessagesTest \
  app.keyway.test.OperationsTest app.keyway.test.ReadinessTest app.keyway.test.TlsTest \
  app.keyway.test.KeyStatesTest app.keyway.test.SharesTest app.keyway.test.DoorcodeTest \
  app.keyway.test.ProfileTest app.keyway.test.PushTest
