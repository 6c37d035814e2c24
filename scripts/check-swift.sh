#!/usr/bin/env bash
# Parses the Swift the iOS package ships: the bindings generated from the built cdylib and
# every .swift file under ios/, with tree-sitter-swift (PyPI) in a cached venv. Fails on
# any ERROR or MISSING node, naming file:line. There is no Swift compiler here, so this
# catches syntax, not types (see docs/bindings.md). It also runs ios/release.sh on a throw-away
# zip and checks the release Package.swift (url, checksum, sources) before parsing it too, and
# parses each ```swift sample of docs/bindings.md (lines reported as the document's).
# Prints `test result: ok. N passed; M failed` (one per file; the test command counts it).
set -euo pipefail
cd "$(dirname "$0")/.."

TREE_SITTER_VERSION=0.26.1
TREE_SITTER_SWIFT_VERSION=0.7.4
cache="${KEYWAY_CACHE:-$HOME/.cache/keyway}"
venv="$cache/tree-sitter-$TREE_SITTER_VERSION-swift-$TREE_SITTER_SWIFT_VERSION"

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import tree_sitter, tree_sitter_swift' 2>/dev/null; then
  echo "==> installing tree-sitter $TREE_SITTER_VERSION and tree-sitter-swift $TREE_SITTER_SWIFT_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "tree-sitter==$TREE_SITTER_VERSION" "tree-sitter-swift==$TREE_SITTER_SWIFT_VERSION"
fi
python="$venv/bin/python"

source scripts/lib/bindings.sh
keyway_bindings
out="$KEYWAY_TARGET/swift-check"
rm -rf "$out" && mkdir -p "$out"

# The checker must be able to fail: a broken file has to be reported with its line.
printf 'import Foundation\n\nfunc broken( {\n' > "$out/broken.swift"
if "$python" scripts/lib/parse_swift.py "$out/broken.swift" > "$out/broken.txt"; then
  echo "the Swift parse check accepted a broken file" >&2
  exit 1
fi
grep -q "broken.swift:3:" "$out/broken.txt" || { echo "the Swift parse check did not name the broken line" >&2; cat "$out/broken.txt" >&2; exit 1; }

echo "==> the release package: ios/release.sh on a throw-away XCFramework zip"
# Only the zip needs a Mac; the checksum, the manifest and the sources are written here.
release="$out/release"
zip="$out/KeywayFFI.xcframework.zip"
url="https://downloads.example.com/keyway/0.0.0-check/KeywayFFI.xcframework.zip"
"$python" - "$zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("KeywayFFI.xcframework/Info.plist", "<plist version=\"1.0\"><dict/></plist>\n")
PY
release_passed=0 release_failed=0
check() { # check NAME COMMAND...: one release test, counted
  if "${@:2}" > "$out/check.txt" 2>&1; then release_passed=$((release_passed + 1))
  else release_failed=$((release_failed + 1)); echo "release check failed: $1" >&2; cat "$out/check.txt" >&2; fi
}
expected_checksum=$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$zip")
check "the writer runs from a zip built elsewhere" \
  bash ios/release.sh --url "$url" --zip "$zip" --generated "$KEYWAY_BINDINGS/swift" --out "$release"
check "Package.swift names the zip's URL" grep -qF "url: \"$url\"," "$release/Package.swift"
check "Package.swift carries the zip's SHA-256 as its checksum" \
  grep -qF "checksum: \"$expected_checksum\"" "$release/Package.swift"
check "the binary target is the downloaded KeywayFFI, not a local path" \
  bash -c "grep -q 'binaryTarget(' '$release/Package.swift' && ! grep -q 'path: \"KeywayFFI' '$release/Package.swift'"
check "the generated bindings are in the package" bash -c '
  for f in "$0"/*.swift; do cmp "$f" "$1/Sources/Keyway/$(basename "$f")" || exit 1; done' "$KEYWAY_BINDINGS/swift" "$release"
check "every shell source and test is in the package" bash -c '
  for f in ios/Sources/Keyway/*.swift; do cmp "$f" "$0/Sources/Keyway/$(basename "$f")" || exit 1; done
  for f in ios/Tests/KeywayTests/*.swift; do cmp "$f" "$0/Tests/KeywayTests/$(basename "$f")" || exit 1; done' "$release"
check "a plain-http URL is refused" bash -c '! bash ios/release.sh --url http://example.com/K.zip --zip "$0" --generated "$1" --out "$2"' \
  "$zip" "$KEYWAY_BINDINGS/swift" "$out/refused"
check "a file that is not a zip is refused" bash -c '! bash ios/release.sh --url "$0" --zip "$1/KeywayCore.swift" --generated "$1" --out "$2"' \
  "$url" "$KEYWAY_BINDINGS/swift" "$out/refused"
check "without a zip, building one off a Mac is refused with the reason" bash -c '
  [ "$(uname -s)" = Darwin ] && exit 0
  ! bash ios/release.sh --url "$0" --out "$1" 2> "$1.err" && grep -q "needs macOS" "$1.err"' "$url" "$out/refused"
if [ "$release_failed" -eq 0 ]; then verdict=ok; else verdict=FAILED; fi
echo "test result: $verdict. $release_passed passed; $release_failed failed (release package checks)"

echo "==> parsing the generated Swift, ios/, the release package and docs/bindings.md's Swift samples"
"$python" scripts/lib/swift_blocks.py docs/bindings.md "$out/docs" > /dev/null
mapfile -t files < <({ find "$KEYWAY_BINDINGS/swift" "$release" "$out/docs" -name '*.swift'; find ios -name '*.swift' -not -path '*/.build/*' -not -path '*/Generated/*'; } | sort)
set +e
"$python" scripts/lib/parse_swift.py "${files[@]}" | tee "$out/report.txt"
status=${PIPESTATUS[0]}
set -e
failed=$(grep -c '^.*\.swift:[0-9]*:' "$out/report.txt" | tr -d ' ' || true)
failed_files=$(sed -n 's/^\(.*\.swift\):[0-9]*:.*/\1/p' "$out/report.txt" | sort -u | wc -l)
if [ "$status" -eq 0 ]; then verdict=ok; else verdict=FAILED; fi
echo "test result: $verdict. $((${#files[@]} - failed_files)) passed; $failed_files failed (Swift files parsed; $failed problems)"
[ "$verdict" = ok ] && [ "$release_failed" -eq 0 ]
