#!/usr/bin/env bash
# The one build the JVM, Android and Swift steps share: every workspace crate with the
# feature set `cargo test --workspace` resolves (libraries, binaries and tests, so the
# artifacts the workspace tests built are reused as they are, and a crate is never rebuilt
# with other features), then the Kotlin and Swift bindings generated once from the
# debug `libkeyway_ffi.so` into $target/bindings/{kotlin,swift}.
#   source scripts/lib/bindings.sh; keyway_bindings   # sets KEYWAY_TARGET, KEYWAY_BINDINGS

keyway_bindings() {
  KEYWAY_TARGET="${CARGO_TARGET_DIR:-$PWD/target}"
  KEYWAY_BINDINGS="$KEYWAY_TARGET/bindings"
  local library="$KEYWAY_TARGET/debug/libkeyway_ffi.so"
  # Same packages, targets and profile as `cargo test --workspace`: nothing new to compile
  # after it but the uniffi-bindgen binary.
  cargo build --locked --workspace --lib --bins --tests --quiet
  if [ ! -f "$KEYWAY_BINDINGS/.stamp" ] || [ "$library" -nt "$KEYWAY_BINDINGS/.stamp" ]; then
    echo "==> generating Kotlin and Swift from $library" >&2
    rm -rf "$KEYWAY_BINDINGS"
    mkdir -p "$KEYWAY_BINDINGS/kotlin" "$KEYWAY_BINDINGS/swift"
    local language
    for language in kotlin swift; do
      "$KEYWAY_TARGET/debug/uniffi-bindgen" generate --library "$library" --config uniffi.toml \
        --language "$language" --out-dir "$KEYWAY_BINDINGS/$language" --no-format >/dev/null
    done
    touch "$KEYWAY_BINDINGS/.stamp"
  fi
  export KEYWAY_TARGET KEYWAY_BINDINGS
}
