#!/usr/bin/env bash
# The Android shell's pure-Kotlin parts (android/src/shared: DER → raw signatures, the
# GATT 133 retry, per-peripheral queues, the Flow adapters, the scan budget, GATT request
# matching), compiled with kotlinc against the generated Kotlin and tested with JUnit on the
# JVM. android/check-main.sh compiles the android.* half against the API stubs.
#
# Uses the generated Kotlin classes bindings/kotlin/run-tests.sh compiled (the test command
# runs it first); without them, generates and compiles the bindings itself (kotlin.sh).
# Prints `test result: ok. N passed; M failed` (the test command counts it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/kotlin.sh
kotlin_home=$(keyway_kotlin_home)

source scripts/lib/bindings.sh
keyway_bindings
target="$KEYWAY_TARGET"
out="$target/android-shared"
rm -rf "$out"
mkdir -p "$out/classes"
bindings=$(keyway_kotlin_bindings "$out")

classpath="$bindings:$(keyway_junit_classpath):$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"

echo "==> compiling android/src/shared with its tests"
mapfile -t sources < <(find android/src/shared android/src/test -name '*.kt' | sort)
"$kotlin_home/bin/kotlinc" -Werror -jvm-target 17 -cp "$classpath" -d "$out/classes" "${sources[@]}"

echo "==> running the Android shell's JVM tests"
mapfile -t tests < <(cd android/src/test/kotlin && find . -name '*Test.kt' | sed 's|^\./||; s|\.kt$||; s|/|.|g' | sort)
keyway_junit_run "Android shell's pure Kotlin on the JVM" "$out/junit.txt" "$out/classes:$classpath" \
  -Djna.library.path="$target/debug" -- "${tests[@]}"
