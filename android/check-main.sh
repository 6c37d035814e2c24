#!/usr/bin/env bash
# The Android shell itself (android/src/main, with src/shared) compiled by kotlinc against
# compile-only stubs of the Android API 35, generated from the platform's published API
# signature text (android/stubs), then GattTransport and KeystoreSecureStore driven on the
# JVM through a fake Android Bluetooth stack (android/src/jvmTest), and the 16 KB page
# alignment checker proved on host-built libraries.
#
# - A call whose name, parameters or types differ from Android's fails the compile; the
#   script proves it on a scratch copy with a deliberately wrong call.
# - Prints the number of files compiled, and `test result:` lines the test command counts.
# Needs: python3, javac (openjdk-17-jdk-headless), cc, kotlinc (scripts/lib/kotlin.sh), and
# the generated bindings (keyway_kotlin_bindings) with target/debug/libkeyway_ffi.so.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/kotlin.sh
kotlin_home=$(keyway_kotlin_home)
kotlinc="$kotlin_home/bin/kotlinc"

source scripts/lib/bindings.sh
keyway_bindings
target="$KEYWAY_TARGET"
out="$target/android-main"
rm -rf "$out"
mkdir -p "$out"
bindings=$(keyway_kotlin_bindings "$out")
deps="$bindings:/usr/share/java/jna.jar:$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"
checks_passed=0

echo "==> Android API 35 stubs from android/stubs/android-35-trimmed.txt"
for flavour in strict open; do
  python3 android/stubs/generate_stubs.py android/stubs/android-35-trimmed.txt "$out/stubs-src/$flavour" \
    $([ "$flavour" = open ] && echo --open)
  mapfile -t stub_sources < <(find "$out/stubs-src/$flavour" -name '*.java' | sort)
  mkdir -p "$out/stubs/$flavour"
  javac -nowarn -d "$out/stubs/$flavour" "${stub_sources[@]}"
done

echo "==> compiling android/src/main and android/src/shared against the stubs"
mapfile -t sources < <(find android/src/main android/src/shared -name '*.kt' | sort)
"$kotlinc" -Werror -jvm-target 17 -module-name keyway-android -cp "$out/stubs/strict:$deps" \
  -d "$out/classes" "${sources[@]}"
echo "compiled ${#sources[@]} Kotlin files (android/src/main: $(find android/src/main -name '*.kt' | wc -l), android/src/shared: $(find android/src/shared -name '*.kt' | wc -l)) against ${#stub_sources[@]} Android API classes"
checks_passed=$((checks_passed + 1))

echo "==> the compile must refuse a wrong Android call (scratch copy of GattTransport.kt)"
scratch="$out/scratch"
mkdir -p "$scratch"
cp -r android/src/main android/src/shared "$scratch/"
gatt_file="$scratch/main/kotlin/app/keyway/android/GattTransport.kt"
# connectGatt(Context, BluetoothGattCallback, int) does not exist: the autoConnect flag is missing.
sed -i 's/device.connectGatt(context, false, link, BluetoothDevice.TRANSPORT_LE)/device.connectGatt(context, link, BluetoothDevice.TRANSPORT_LE)/' "$gatt_file"
grep -q 'device.connectGatt(context, link, BluetoothDevice.TRANSPORT_LE)' "$gatt_file" \
  || { echo "the self-check could not plant its wrong call" >&2; exit 1; }
mapfile -t scratch_sources < <(find "$scratch" -name '*.kt' | sort)
if "$kotlinc" -jvm-target 17 -module-name keyway-android -cp "$out/stubs/strict:$deps" -d "$scratch/classes" \
  "${scratch_sources[@]}" > "$scratch/compile.txt" 2>&1; then
  echo "a wrong connectGatt call compiled: the stubs do not check the shell" >&2
  exit 1
fi
grep -q 'GattTransport.kt:.*connectGatt\|GattTransport.kt.*error' "$scratch/compile.txt" \
  || { echo "the wrong call failed, but not where it was planted:" >&2; cat "$scratch/compile.txt" >&2; exit 1; }
echo "refused as it should be: $(grep -m1 'error:' "$scratch/compile.txt")"
checks_passed=$((checks_passed + 1))

echo "==> the 16 KB page-alignment checker on host-built libraries"
printf 'int keyway_page_probe(void) { return 16; }\n' > "$out/probe.c"
cc -shared -fPIC -o "$out/probe-16k.so" "$out/probe.c" -Wl,-z,max-page-size=16384
cc -shared -fPIC -o "$out/probe-4k.so" "$out/probe.c" -Wl,-z,max-page-size=4096
python3 android/check_elf_alignment.py "$out/probe-16k.so"
if python3 android/check_elf_alignment.py "$out/probe-4k.so"; then
  echo "the checker accepted a library linked for 4 KB pages" >&2
  exit 1
fi
checks_passed=$((checks_passed + 1))

echo "==> the Maven repository folder and its POM (a stand-in AAR: the SDK's AAR build cannot run here)"
mkdir -p "$out/aar"
cp android/src/main/AndroidManifest.xml "$out/aar/AndroidManifest.xml"
(cd "$out/classes" && jar cf "$out/aar/classes.jar" .)
(cd "$out/aar" && jar cfM "$out/keyway-android-standin.aar" AndroidManifest.xml classes.jar)
python3 android/package_maven.py "$out/keyway-android-standin.aar" "$out/maven"
pom=$(find "$out/maven" -name 'keyway-android-*.pom')
python3 android/package_maven.py --check-pom "$pom"
(cd "$(dirname "$pom")" && for f in *.aar *.pom; do
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$(cat "$f.sha256")" ] || { echo "$f.sha256 is wrong" >&2; exit 1; }
done)
sed 's|<version>5.17.0</version>|<version>5.15.0</version>|' "$pom" > "$out/old-jna.pom"
if python3 android/package_maven.py --check-pom "$out/old-jna.pom" > /dev/null; then
  echo "the POM check accepted JNA 5.15 (not 16 KB-aligned)" >&2
  exit 1
fi
checks_passed=$((checks_passed + 1))

echo "==> android/gradlew's bootstrap on a local stand-in distribution (checksum checked)"
dist="$out/gradlew-test"
mkdir -p "$dist/project/gradle/wrapper" "$dist/zip/gradle-0.0-standin/bin"
printf '#!/bin/sh\necho "stand-in gradle ran with: $*"\n' > "$dist/zip/gradle-0.0-standin/bin/gradle"
chmod +x "$dist/zip/gradle-0.0-standin/bin/gradle"
(cd "$dist/zip" && zip -q -r "$dist/gradle-0.0-standin-bin.zip" gradle-0.0-standin)
cp android/gradlew "$dist/project/gradlew"
sum=$(sha256sum "$dist/gradle-0.0-standin-bin.zip" | cut -d' ' -f1)
printf 'distributionUrl=file://%s\ndistributionSha256Sum=%s\n' "$dist/gradle-0.0-standin-bin.zip" "$sum" \
  > "$dist/project/gradle/wrapper/gradle-wrapper.properties"
GRADLE_USER_HOME="$dist/home" "$dist/project/gradlew" tasks | grep -q "stand-in gradle ran with: -p $dist/project tasks" \
  || { echo "gradlew did not run the distribution it unpacked" >&2; exit 1; }
printf 'distributionUrl=file://%s\ndistributionSha256Sum=%s\n' "$dist/gradle-0.0-standin-bin.zip" "$(printf '0%.0s' $(seq 64))" \
  > "$dist/project/gradle/wrapper/gradle-wrapper.properties"
if GRADLE_USER_HOME="$dist/home-bad" "$dist/project/gradlew" tasks > /dev/null 2>&1; then
  echo "gradlew ran a distribution whose checksum is wrong" >&2
  exit 1
fi
checks_passed=$((checks_passed + 1))
echo "test result: ok. $checks_passed passed; 0 failed (Android shell compiled against API 35 stubs, wrong call refused, ELF page alignment, Maven POM, gradlew bootstrap)"

echo "==> compiling the fake Android Bluetooth stack and its tests"
test_cp="$out/stubs/open:$out/classes:$deps:$(keyway_junit_classpath)"
mapfile -t test_sources < <(find android/src/jvmTest -name '*.kt' | sort)
"$kotlinc" -Werror -jvm-target 17 -module-name keyway-android -Xfriend-paths="$out/classes" -cp "$test_cp" \
  -d "$out/test-classes" "${test_sources[@]}"

echo "==> GattTransport and KeystoreSecureStore on the fake stack"
mapfile -t tests < <(cd android/src/jvmTest/kotlin && find . -name '*Test.kt' | sed 's|^\./||; s|\.kt$||; s|/|.|g' | sort)
keyway_junit_run "Android shell on a fake GATT stack" "$out/junit.txt" "$out/test-classes:$test_cp" \
  -Djna.library.path="$target/debug" -- "${tests[@]}"
