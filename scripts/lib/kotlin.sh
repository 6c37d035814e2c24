#!/usr/bin/env bash
# kotlinc for the test command's JVM steps, from npm's `kotlin-compiler` into a cache folder
# ($KEYWAY_CACHE, default ~/.cache/keyway), never into the repo. Same version and folder as
# bindings/kotlin/run-tests.sh, so the two share one install.
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
