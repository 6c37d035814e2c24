#!/usr/bin/env bash
# Parses the Swift the iOS package ships: the bindings generated from the built cdylib and
# every .swift file under ios/, with tree-sitter-swift (PyPI) in a cached venv. Fails on
# any ERROR or MISSING node, naming file:line. There is no Swift compiler here, so this
# catches syntax, not types (see docs/bindings.md).
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

echo "==> parsing the generated Swift and ios/"
mapfile -t files < <({ find "$KEYWAY_BINDINGS/swift" -name '*.swift'; find ios -name '*.swift' -not -path '*/.build/*' -not -path '*/Generated/*'; } | sort)
set +e
"$python" scripts/lib/parse_swift.py "${files[@]}" | tee "$out/report.txt"
status=${PIPESTATUS[0]}
set -e
failed=$(grep -c '^.*\.swift:[0-9]*:' "$out/report.txt" | tr -d ' ' || true)
failed_files=$(sed -n 's/^\(.*\.swift\):[0-9]*:.*/\1/p' "$out/report.txt" | sort -u | wc -l)
if [ "$status" -eq 0 ]; then verdict=ok; else verdict=FAILED; fi
echo "test result: $verdict. $((${#files[@]} - failed_files)) passed; $failed_files failed (Swift files parsed; $failed problems)"
[ "$verdict" = ok ]
