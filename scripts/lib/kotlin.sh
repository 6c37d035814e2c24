#!/usr/bin/env bash
# For the test command's JVM steps: kotlinc, from npm's `kotlin-compiler` into a cache folder
# ($KEYWAY_CACHE, default ~/.cache/keyway), never into the repo; the JVM test classpath; one
# way to run JUnit and read its verdict. Every JVM step (bindings/kotlin/run-tests.sh,
# android/check-shared.sh, android/check-main.sh) uses this one install and this one verdict.
#   source scripts/lib/kotlin.sh; keyway_kotlin_home   # prints the kotlin-compiler folder

KEYWAY_KOTLIN_VERSION=2.4.20

keyway_kotlin_home() {
  local cache="${KEYWAY_CACHE:-$HOME/.cache/keyway}"
  local home="$cache/kotlin-$KEYWAY_KOTLIN_VERSION/node_modules/kotlin-compiler"
  if [ ! -x "$home/bin/kotlinc" ]; then
    echo "==> installing kotlinc $KEYWAY_KOTLIN_VERSION (npm: kotlin-compiler) into $cache" >&2
    mkdir -p "$cache/kotlin-$KEYWAY_KOTLIN_VERSION"
    npm install --silent --no-save --no-audit --no-fund --prefix "$cache/kotlin-$KEYWAY_KOTLIN_VERSION" \
      "kotlin-compiler@$KEYWAY_KOTLIN_VERSION" >/dev/null
    chmod +x "$home"/bin/* 2>/dev/null || true
  fi
  echo "$home"
}

# The JVM test classpath every Kotlin step shares: JNA, JUnit 4 and Hamcrest from Debian
# (libjna-java, junit4; installed by scripts/lib/setup.sh). Fails naming what is missing.
#   classpath=$(keyway_junit_classpath)
keyway_junit_classpath() {
  local jar jars=(/usr/share/java/jna.jar /usr/share/java/junit4.jar /usr/share/java/hamcrest-core.jar)
  for jar in "${jars[@]}"; do
    [ -f "$jar" ] || { echo "missing $jar (Debian: libjna-java, junit4)" >&2; return 1; }
  done
  local IFS=:
  echo "${jars[*]}"
}

# Runs JUnit 4 test classes on the JVM (Kotlin's stdlib added to CLASSPATH), keeps the
# report in REPORT, and prints the verdict line (keyway_junit_verdict); fails if they failed:
#   keyway_junit_run LABEL REPORT CLASSPATH [JVM_OPTION...] -- TEST_CLASS...
keyway_junit_run() {
  local label="$1" report="$2" classpath="$3" jvm=() status=0
  shift 3
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    jvm+=("$1")
    shift
  done
  [ "${1:-}" = -- ] || { echo "keyway_junit_run: no -- before the test classes" >&2; return 2; }
  shift
  java "${jvm[@]}" -cp "$classpath:$(keyway_kotlin_home)/lib/kotlin-stdlib.jar" org.junit.runner.JUnitCore "$@" \
    | tee "$report" || status=$?
  keyway_junit_verdict "$report" "$status" "$label"
}

# Prints the test command's summary line for a JUnit 4 run and fails if it failed:
#   keyway_junit_verdict REPORT EXIT_STATUS LABEL
# (JUnit 4 ends its report with `OK (N tests)` or `Tests run: N,  Failures: M`.)
keyway_junit_verdict() {
  local report="$1" status="$2" label="$3" run failed verdict
  if grep -q '^OK (' "$report"; then
    run=$(sed -n 's/^OK (\([0-9]*\) tests\{0,1\})$/\1/p' "$report"); failed=0
  else
    run=$(sed -n 's/^Tests run: \([0-9]*\), *Failures: \([0-9]*\).*/\1/p' "$report")
    failed=$(sed -n 's/^Tests run: \([0-9]*\), *Failures: \([0-9]*\).*/\2/p' "$report")
  fi
  run=${run:-0}; failed=${failed:-1}
  if [ "$status" -eq 0 ] && [ "$failed" -eq 0 ]; then verdict=ok; else verdict=FAILED; fi
  echo "test result: $verdict. $((run - failed)) passed; $failed failed ($label)"
  [ "$verdict" = ok ]
}

# Prints a folder of the generated Kotlin bindings compiled to classes: the one
# bindings/kotlin/run-tests.sh compiled (the test command runs it first), else generates
# and compiles them into OUT/bindings (needs cargo):
#   bindings=$(keyway_kotlin_bindings OUT)
keyway_kotlin_bindings() {
  local out="$1" kotlin_home generated
  [ -n "${KEYWAY_BINDINGS:-}" ] || { echo "keyway_kotlin_bindings: call keyway_bindings (scripts/lib/bindings.sh) first" >&2; return 1; }
  if [ -f "$KEYWAY_TARGET/kotlin-tests/classes/app/keyway/Keyway.class" ] &&
    [ "$KEYWAY_TARGET/kotlin-tests/classes/app/keyway/Keyway.class" -nt "$KEYWAY_BINDINGS/.stamp" ]; then
    echo "$KEYWAY_TARGET/kotlin-tests/classes"
    return
  fi
  kotlin_home=$(keyway_kotlin_home)
  echo "==> compiling the generated Kotlin bindings" >&2
  rm -rf "$out/bindings"
  mkdir -p "$out/bindings"
  mapfile -t generated < <(find "$KEYWAY_BINDINGS/kotlin" -name '*.kt')
  "$kotlin_home/bin/kotlinc" -nowarn -jvm-target 17 \
    -cp "$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar:/usr/share/java/jna.jar" -d "$out/bindings" "${generated[@]}" >&2
  echo "$out/bindings"
}
