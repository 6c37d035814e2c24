#!/usr/bin/env bash
# The generated Kotlin, run for real on the JVM: builds the keyway-ffi cdylib (debug),
# generates the Kotlin (and Swift) bindings with the in-repo uniffi-bindgen, compiles
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

KOTLIN_VERSION=2.4.20
cache="${KEYWAY_CACHE:-$HOME/.cache/keyway}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
out="$target/kotlin-tests"

kotlin_home="$cache/kotlin-$KOTLIN_VERSION/node_modules/kotlin-compiler"
if [ ! -x "$kotlin_home/bin/kotlinc" ]; then
  echo "==> installing kotlinc $KOTLIN_VERSION (npm: kotlin-compiler) into $cache"
  mkdir -p "$cache/kotlin-$KOTLIN_VERSION"
  npm install --silent --no-save --no-audit --no-fund --prefix "$cache/kotlin-$KOTLIN_VERSION" "kotlin-compiler@$KOTLIN_VERSION" >/dev/null
  chmod +x "$kotlin_home"/bin/* 2>/dev/null || true
fi
for jar in /usr/share/java/jna.jar /usr/share/java/junit4.jar /usr/share/java/hamcrest-core.jar; do
  [ -f "$jar" ] || { echo "missing $jar (Debian: libjna-java, junit4)" >&2; exit 1; }
done

echo "==> building keyway-ffi (cdylib), uniffi-bindgen, keyway-backend, keyway-lock"
cargo build --locked -p keyway-ffi -p uniffi-bindgen -p keyway-backend -p keyway-lock --bins --lib
library="$target/debug/libkeyway_ffi.so"

echo "==> generating Kotlin and Swift from $library"
rm -rf "$out"
mkdir -p "$out/generated/kotlin" "$out/generated/swift" "$out/classes"
"$target/debug/uniffi-bindgen" generate --library "$library" --config uniffi.toml \
  --language kotlin --out-dir "$out/generated/kotlin" --no-format
"$target/debug/uniffi-bindgen" generate --library "$library" --config uniffi.toml \
  --language swift --out-dir "$out/generated/swift" --no-format

classpath="/usr/share/java/jna.jar:/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar"
classpath="$classpath:$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"

echo "==> compiling the generated Kotlin with the tests"
mapfile -t sources < <(find "$out/generated/kotlin" bindings/kotlin/tests -name '*.kt' | sort)
"$kotlin_home/bin/kotlinc" -nowarn -jvm-target 17 -cp "$classpath" -d "$out/classes" "${sources[@]}"

echo "==> running the Kotlin journeys on the JVM"
report="$out/junit.txt"
set +e
java -Djna.library.path="$target/debug" \
  -Dkeyway.backend="$target/debug/keyway-backend" -Dkeyway.lock="$target/debug/keyway-lock" \
  -Dkeyway.ffi="$library" \
  -cp "$out/classes:$classpath:$kotlin_home/lib/kotlin-stdlib.jar" \
  org.junit.runner.JUnitCore app.keyway.test.JourneysTest app.keyway.test.ErrorsTest app.keyway.test.TlsTest | tee "$report"
status=${PIPESTATUS[0]}
set -e

# JUnit 4 ends with `OK (N tests)` or `Tests run: N,  Failures: M`.
if grep -q '^OK (' "$report"; then
  run=$(sed -n 's/^OK (\([0-9]*\) tests\{0,1\})$/\1/p' "$report"); failed=0
else
  run=$(sed -n 's/^Tests run: \([0-9]*\), *Failures: \([0-9]*\).*/\1/p' "$report")
  failed=$(sed -n 's/^Tests run: \([0-9]*\), *Failures: \([0-9]*\).*/\2/p' "$report")
fi
run=${run:-0}; failed=${failed:-1}
passed=$((run > failed ? run - failed : 0))
if [ "$status" -eq 0 ] && [ "$failed" -eq 0 ]; then verdict=ok; else verdict=FAILED; fi
echo "test result: $verdict. $passed passed; $failed failed (Kotlin on the JVM)"
[ "$verdict" = ok ]
