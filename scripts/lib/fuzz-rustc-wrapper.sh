#!/usr/bin/env bash
# RUSTC_WRAPPER for fuzz builds (set by scripts/fuzz.sh): the fuzzing instrumentation and
# checks go to the project's own crates only.
#
# cargo-fuzz puts `-Cpasses=sancov-module` (coverage) and `-Cdebug-assertions` (which
# implies overflow checks) in RUSTFLAGS for every crate. In the crypto dependencies
# (p256, ring, aes-gcm…) they cost most of each execution of the handshake targets and
# feed libFuzzer coverage and comparisons that say nothing about the protocol. Crates
# whose manifest lies outside KEYWAY_FUZZ_INSTRUMENT_ROOT are compiled as a plain release
# build instead: without the coverage pass, debug assertions and overflow checks. Any
# sanitizer flag is left as it is.
rustc=$1
shift
root=${KEYWAY_FUZZ_INSTRUMENT_ROOT:-}
if [ -z "$root" ] || [[ ${CARGO_MANIFEST_DIR:-} == "$root"/* ]]; then
  exec "$rustc" "$@"
fi
args=()
for a in "$@"; do
  case $a in
    -Cpasses=sancov-module | -Cdebug-assertions) ;;
    *) args+=("$a") ;;
  esac
done
exec "$rustc" "${args[@]}" -Coverflow-checks=off
