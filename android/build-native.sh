#!/usr/bin/env bash
# Builds what the AAR packages from Rust: libkeyway_ffi.so for arm64-v8a, armeabi-v7a and
# x86_64 with cargo-ndk (release; the app's packaging strips them), and the Kotlin bindings generated from one of
# them with the in-repo uniffi-bindgen. Called by Gradle's preBuild; runs on its own too:
#   bash android/build-native.sh [OUT]      (OUT defaults to android/build/rust)
# Needs: the Android NDK (ANDROID_NDK_HOME), `cargo install cargo-ndk`, and
# `rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-$here/build/rust}" && cd "${1:-$here/build/rust}" && pwd)"
cd "$here/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"

echo "==> libkeyway_ffi.so for each ABI (cargo-ndk)"
rm -rf "$out/jniLibs" "$out/kotlin"
cargo ndk --platform 26 -t arm64-v8a -t armeabi-v7a -t x86_64 -o "$out/jniLibs" \
  build --locked --release -p keyway-ffi

echo "==> the Kotlin bindings (library mode, from the arm64 library)"
cargo build --locked -p uniffi-bindgen
"$target/debug/uniffi-bindgen" generate --library "$out/jniLibs/arm64-v8a/libkeyway_ffi.so" \
  --config uniffi.toml --language kotlin --out-dir "$out/kotlin" --no-format
