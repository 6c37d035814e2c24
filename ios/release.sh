#!/usr/bin/env bash
# Builds what an app team adds with one SwiftPM URL: a folder to push to the distribution
# repository (then tag it with the version), holding a release Package.swift whose
# `KeywayFFI` binary target points at the XCFramework zip by `url:` and `checksum:`, plus the
# `Keyway` module's Swift (the generated bindings and the shell), and the zip to upload at
# that URL.
#
#   bash ios/release.sh --url https://example.com/keyway/1.4.0/KeywayFFI.xcframework.zip [--out DIR] [--zip ZIP] [--generated DIR]
#
# Steps, and where each runs:
#   1. the XCFramework zip (macOS with Xcode only): ios/build-xcframework.sh, then
#      `ditto -c -k --sequesterRsrc --keepParent`. Skipped when --zip names a built zip.
#   2. the generated Swift (anywhere): the bindings are the same for every platform, so when
#      step 1 did not run they are generated from the host-built libkeyway_ffi with the
#      in-repo uniffi-bindgen; --generated names a folder of already generated .swift files instead.
#   3. the checksum (anywhere): `swift package compute-checksum` where Swift exists; it is
#      the SHA-256 of the zip, so sha256sum (or shasum -a 256) gives the same hex elsewhere.
#   4. the release folder (anywhere): Package.swift, Sources/Keyway/*.swift, Tests/.
# The default --out is target/ios-release. scripts/check-swift.sh runs steps 2-4 on a
# throwaway zip and parses the result.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

url="" out="$target_dir/ios-release" zip="" generated=""
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="${2:-}"; shift 2 ;;
    --out) out="${2:-}"; shift 2 ;;
    --zip) zip="${2:-}"; shift 2 ;;
    --generated) generated="${2:-}"; shift 2 ;;
    *) echo "release.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

fail() { echo "release.sh: $*" >&2; exit 1; }
# SwiftPM downloads binary targets over HTTPS only, and the URL is written into a Swift string.
url_shape='^https://[A-Za-z0-9.-]+(:[0-9]+)?/[A-Za-z0-9._~/%+-]*\.zip$'
[[ "$url" =~ $url_shape ]] || fail "--url must be an https URL of the .zip (got '${url}')"
[ -n "$out" ] || fail "--out must name a folder"

if [ -z "$zip" ]; then
  [ "$(uname -s)" = Darwin ] || fail "building the XCFramework needs macOS with Xcode; pass --zip with a zip built on a Mac"
  echo "==> 1. KeywayFFI.xcframework (ios/build-xcframework.sh)"
  bash "$here/build-xcframework.sh"
  mkdir -p "$target_dir"
  zip="$target_dir/KeywayFFI.xcframework.zip"
  rm -f "$zip"
  (cd "$here" && ditto -c -k --sequesterRsrc --keepParent KeywayFFI.xcframework "$zip")
  [ -n "$generated" ] || generated="$here/Sources/Keyway/Generated"
fi
[ -f "$zip" ] || fail "no zip at $zip"
# A zip starts with a local file header, PK\3\4; anything else is not what SwiftPM unpacks.
[ "$(head -c 4 "$zip" | od -An -tx1 | tr -d ' \n')" = 504b0304 ] || fail "$zip is not a zip archive"

if [ -z "$generated" ]; then
  echo "==> 2. the Swift bindings from the host-built libkeyway_ffi"
  (cd "$root" && cargo build --locked -p keyway-ffi -p uniffi-bindgen)
  case "$(uname -s)" in Darwin) lib=libkeyway_ffi.dylib ;; *) lib=libkeyway_ffi.so ;; esac
  gen_dir="$target_dir/ios-release-generated"
  rm -rf "$gen_dir" && mkdir -p "$gen_dir"
  (cd "$root" && "$target_dir/debug/uniffi-bindgen" generate --library "$target_dir/debug/$lib" \
    --config uniffi.toml --language swift --out-dir "$gen_dir")
  generated="$gen_dir"
fi
compgen -G "$generated/*.swift" > /dev/null || fail "no generated Swift in $generated"

echo "==> 3. the SwiftPM checksum of $(basename "$zip")"
if command -v swift > /dev/null; then
  checksum="$(swift package compute-checksum "$zip")"
elif command -v sha256sum > /dev/null; then
  checksum="$(sha256sum "$zip" | cut -d' ' -f1)"   # what compute-checksum prints: SHA-256, hex
else
  checksum="$(shasum -a 256 "$zip" | cut -d' ' -f1)"
fi
[[ "$checksum" =~ ^[0-9a-f]{64}$ ]] || fail "the checksum is not 64 hex digits: $checksum"

echo "==> 4. the release package in $out"
rm -rf "$out"
mkdir -p "$out/Sources/Keyway" "$out/Tests/KeywayTests"
cp "$generated"/*.swift "$out/Sources/Keyway/"
find "$here/Sources/Keyway" -maxdepth 1 -name '*.swift' -exec cp {} "$out/Sources/Keyway/" \;
cp "$here"/Tests/KeywayTests/*.swift "$out/Tests/KeywayTests/"
cp "$here/README.md" "$out/README.md"
cat > "$out/Package.swift" <<EOF
// swift-tools-version:5.9
// Keyway for iOS and macOS, written by ios/release.sh: the Rust core as a downloaded
// XCFramework (KeywayFFI, checked against its SHA-256) and the Swift module KeywayCore (the
// generated bindings and the CoreBluetooth / Keychain / Secure Enclave shell).
import PackageDescription

let package = Package(
    name: "Keyway",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "KeywayCore", targets: ["KeywayCore"]),
    ],
    targets: [
        .binaryTarget(
            name: "KeywayFFI",
            url: "$url",
            checksum: "$checksum"
        ),
        .target(
            name: "KeywayCore",
            dependencies: ["KeywayFFI"],
            path: "Sources/Keyway",
            linkerSettings: [
                .linkedFramework("CoreBluetooth"),
                .linkedFramework("CryptoTokenKit"),
                .linkedFramework("LocalAuthentication"),
                .linkedFramework("Security"),
                .linkedFramework("SystemConfiguration"),
            ]
        ),
        .testTarget(name: "KeywayTests", dependencies: ["KeywayCore"], path: "Tests/KeywayTests"),
    ]
)
EOF
echo "url: $url"
echo "checksum: $checksum"
echo "release package: $out (push it to the distribution repository, tag the version, upload $(basename "$zip") at the url)"
