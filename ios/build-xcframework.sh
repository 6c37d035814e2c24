#!/usr/bin/env bash
# Builds ios/KeywayFFI.xcframework and ios/Sources/Keyway/Generated/*.swift, what
# Package.swift needs. Runs on a Mac with Xcode 15+ and rustup:
#   rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin
#   bash ios/build-xcframework.sh            # the mobile profile; PROFILE=debug for a debug build
# Steps: the static library for each Apple target (cargo), the Swift bindings, header and
# modulemap from it (the in-repo uniffi-bindgen, library mode), one fat simulator library
# (lipo), then `xcodebuild -create-xcframework` with the headers beside each library.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/.."
profile="${PROFILE:-mobile}"
# Cargo names the debug profile `dev`; its folder is `debug`.
cargo_profile="$profile"; [ "$profile" = debug ] && cargo_profile=dev
target_dir="${CARGO_TARGET_DIR:-$PWD/target}"
work="$target_dir/xcframework"
device=aarch64-apple-ios
simulators=(aarch64-apple-ios-sim x86_64-apple-ios)
mac=aarch64-apple-darwin

[ "$(uname -s)" = Darwin ] || { echo "build-xcframework.sh needs macOS with Xcode" >&2; exit 1; }

echo "==> libkeyway_ffi.a for each Apple target ($profile)"
export IPHONEOS_DEPLOYMENT_TARGET=15.0 MACOSX_DEPLOYMENT_TARGET=12.0
for triple in "$device" "${simulators[@]}" "$mac"; do
  cargo build --locked --profile "$cargo_profile" -p keyway-ffi --lib --target "$triple"
done
lib() { echo "$target_dir/$1/$profile/libkeyway_ffi.a"; }

echo "==> Swift bindings, header and modulemap (uniffi-bindgen, library mode)"
rm -rf "$work" && mkdir -p "$work/generated" "$work/headers" "$work/simulator"
cargo build --locked -p uniffi-bindgen
"$target_dir/debug/uniffi-bindgen" generate --library "$(lib "$device")" --config uniffi.toml \
  --language swift --out-dir "$work/generated"
# Two uniffi components, one C module: KeywayFFI.h and KeywayCoreFFI.h, one modulemap.
cp "$work/generated/"*.h "$work/headers/"
# Inside an XCFramework's Headers the modulemap must be named module.modulemap.
cp "$work/generated/KeywayFFI.modulemap" "$work/headers/module.modulemap"
mkdir -p "$here/Sources/Keyway/Generated"
rm -f "$here/Sources/Keyway/Generated/"*.swift
cp "$work/generated/"*.swift "$here/Sources/Keyway/Generated/"

echo "==> one simulator library for arm64 and x86_64 (lipo)"
lipo -create "$(lib "${simulators[0]}")" "$(lib "${simulators[1]}")" -output "$work/simulator/libkeyway_ffi.a"

echo "==> KeywayFFI.xcframework"
rm -rf "$here/KeywayFFI.xcframework"
xcodebuild -create-xcframework \
  -library "$(lib "$device")" -headers "$work/headers" \
  -library "$work/simulator/libkeyway_ffi.a" -headers "$work/headers" \
  -library "$(lib "$mac")" -headers "$work/headers" \
  -output "$here/KeywayFFI.xcframework"
echo "built $here/KeywayFFI.xcframework; add the package at $here to the app (File > Add Package Dependencies > Add Local)"
