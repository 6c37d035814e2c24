#!/usr/bin/env bash
# Builds what the AAR packages from Rust: libkeyway_ffi.so for arm64-v8a, armeabi-v7a and
# x86_64 with cargo-ndk (release; the app's packaging strips them), and the Kotlin bindings
# generated from one of them with the in-repo uniffi-bindgen. Called by Gradle's preBuild;
# runs on its own too:
#   bash android/build-native.sh [OUT]      (OUT defaults to android/build/rust)
# Needs: the Android NDK (ANDROID_NDK_HOME), `cargo install cargo-ndk`, and
# `rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android`.
#
# Every library is linked for 16 KB memory pages (Android 15+ devices with 16 KB pages
# refuse to load anything else, and Play rejects it for targetSdk 35+), and each one built
# is checked with check_elf_alignment.py before it is packaged.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mkdir -p "${1:-$here/build/rust}" && cd "${1:-$here/build/rust}" && pwd)"
cd "$here/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"

# The linker flag for each Android target (cargo reads CARGO_TARGET_<TRIPLE>_RUSTFLAGS).
page_size="-C link-arg=-Wl,-z,max-page-size=16384"
export CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS="$page_size ${CARGO_TARGET_AARCH64_LINUX_ANDROID_RUSTFLAGS:-}"
export CARGO_TARGET_ARMV7_LINUX_ANDROIDEABI_RUSTFLAGS="$page_size ${CARGO_TARGET_ARMV7_LINUX_ANDROIDEABI_RUSTFLAGS:-}"
export CARGO_TARGET_X86_64_LINUX_ANDROID_RUSTFLAGS="$page_size ${CARGO_TARGET_X86_64_LINUX_ANDROID_RUSTFLAGS:-}"

echo "==> libkeyway_ffi.so for each ABI (cargo-ndk, 16 KB pages)"
rm -rf "$out/jniLibs" "$out/kotlin"
cargo ndk --platform 26 -t arm64-v8a -t armeabi-v7a -t x86_64 -o "$out/jniLibs" \
  build --locked --profile mobile -p keyway-ffi

echo "==> 16 KB page alignment of every library built"
mapfile -t built < <(find "$out/jniLibs" -name '*.so' | sort)
python3 "$here/check_elf_alignment.py" "${built[@]}"

echo "==> the Kotlin bindings (library mode, from the arm64 library)"
cargo build --locked -p uniffi-bindgen
"$target/debug/uniffi-bindgen" generate --library "$out/jniLibs/arm64-v8a/libkeyway_ffi.so" \
  --config uniffi.toml --language kotlin --out-dir "$out/kotlin" --no-format
