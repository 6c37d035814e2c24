#!/usr/bin/env bash
# Fuzzing the Keyway protocol decoders with cargo-fuzz (libFuzzer). See docs/fuzzing.md.
#
#   scripts/fuzz.sh build                   build every target (installs cargo-fuzz if missing)
#   scripts/fuzz.sh smoke [seconds]         run each target for a few seconds (default 5) on its
#                                           seeds; fails on any crash; prints executions per target
#   scripts/fuzz.sh run <target> <seconds> [libFuzzer args…]
#                                           a longer run, with a corpus kept in fuzz/corpus/<target>
#   scripts/fuzz.sh regress                 replay fuzz/regressions/<target>/* (inputs that crashed)
#   scripts/fuzz.sh seeds                   regenerate fuzz/seeds/ with the protocol crate
#   scripts/fuzz.sh list                    the targets
#
# Environment:
#   FUZZ_TARGET_DIR   cargo target dir for fuzz builds (default: $CARGO_TARGET_DIR, else fuzz/target)
#   FUZZ_SANITIZER    none (default), address, leak… Anything but none needs rustc's unstable
#                     -Zsanitizer, unlocked on the stable toolchain with RUSTC_BOOTSTRAP=1.
#   FUZZ_JOBS         cargo build jobs (default: all cores)
#   RUSTC_WRAPPER     when unset, scripts/lib/fuzz-rustc-wrapper.sh: only the project's own
#                     crates get coverage instrumentation, not p256, ring…
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TARGETS=(credential bundle receipt advertisement frames phone_response lock_request roundtrip lock_frames state_file
  links pasted_links api_answer cached_rows stored_session keypad anchor_update)
CARGO_FUZZ_VERSION=0.13.2
SANITIZER=${FUZZ_SANITIZER:-none}
TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$ROOT/fuzz/target}}
HOST=$(rustc -vV | sed -n 's/^host: //p')
BIN_DIR=$TARGET_DIR/$HOST/release
# Flags every run gets: a per-input time limit, a memory limit, inputs up to 4 KiB.
LIBFUZZER_FLAGS=(-timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1)

export CARGO_TARGET_DIR=$TARGET_DIR
# Coverage instrumentation for the project's own crates only (see the wrapper).
if [ -z "${RUSTC_WRAPPER:-}" ]; then
  export RUSTC_WRAPPER=$ROOT/scripts/lib/fuzz-rustc-wrapper.sh
  export KEYWAY_FUZZ_INSTRUMENT_ROOT=$ROOT
  # Cargo does not fingerprint the wrapper: a cfg in RUSTFLAGS makes it rebuild when it changes.
  export RUSTFLAGS="${RUSTFLAGS:-} --cfg keyway_fuzz_wrapper=\"2\""
fi
if [ "$SANITIZER" != none ]; then
  # cargo-fuzz passes -Zsanitizer=…; the stable toolchain accepts it only in bootstrap mode.
  export RUSTC_BOOTSTRAP=1
fi

die() {
  echo "fuzz.sh: $*" >&2
  exit 2
}

is_target() {
  local t
  for t in "${TARGETS[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}

ensure_cargo_fuzz() {
  if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz $CARGO_FUZZ_VERSION"
    # The tool's own release profile (fat LTO, one codegen unit) triples its build time
    # on two cores, for a program that runs for seconds: plain optimisation is enough.
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
      cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
  fi
}

# Builds the named targets (all when none are named): optimised, with debug assertions
# and overflow checks, coverage instrumentation, and the sanitizer chosen above.
build() {
  ensure_cargo_fuzz
  # Fails if fuzz/Cargo.lock would have to change: the committed lock is what gets built.
  cargo fetch --locked --manifest-path fuzz/Cargo.toml -q

  [ -n "${FUZZ_JOBS:-}" ] && export CARGO_BUILD_JOBS=$FUZZ_JOBS
  if [ $# -eq 0 ]; then
    echo "==> cargo fuzz build (all targets, sanitizer: $SANITIZER, target dir: $TARGET_DIR)"
    cargo fuzz build --release --debug-assertions --sanitizer "$SANITIZER"
  else
    local t
    for t in "$@"; do
      echo "==> cargo fuzz build $t (sanitizer: $SANITIZER)"
      cargo fuzz build --release --debug-assertions --sanitizer "$SANITIZER" "$t"
    done
  fi
  for t in "${@:-${TARGETS[@]}}"; do
    [ -x "$BIN_DIR/$t" ] || die "built, but $BIN_DIR/$t is missing"
  done
}

# Executions from a libFuzzer log: the final stats line, else the last status line.
executions() {
  local n
  n=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$1" | tail -1)
  [ -z "$n" ] && n=$(sed -n 's/^#\([0-9][0-9]*\)[[:space:]].*/\1/p' "$1" | tail -1)
  echo "${n:-0}"
}

# What a crash log says: the panic message (not the backtrace) and libFuzzer's summary.
crash_summary() {
  grep -m1 -A3 'panicked at' "$1" || true
  grep -E '^(==[0-9]+== ?ERROR|SUMMARY|artifact_prefix|Base64)' "$1" || grep -v '^#' "$1" | tail -20
}

# fuzz_one <target> <seconds> <corpus dir> <artifact dir> <log> [libFuzzer args…]
fuzz_one() {
  local t=$1 secs=$2 corpus=$3 artifacts=$4 log=$5
  shift 5
  mkdir -p "$corpus" "$artifacts"
  local rc=0
  # New inputs go to the first directory; the checked-in seeds are only read.
  "$BIN_DIR/$t" "${LIBFUZZER_FLAGS[@]}" -max_total_time="$secs" -artifact_prefix="$artifacts/" "$@" \
    "$corpus" "fuzz/seeds/$t" >"$log" 2>&1 || rc=$?
  return $rc
}

smoke() {
  local secs=${1:-5}
  [[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "smoke: seconds must be a positive integer"
  build
  local work
  work=$(mktemp -d "${TMPDIR:-/tmp}/keyway-fuzz-smoke.XXXXXX")
  local failed=() rows=() t
  for t in "${TARGETS[@]}"; do
    local log=$work/$t.log rc=0 started ended
    echo "==> $t: ${secs}s"
    started=$(date +%s)
    fuzz_one "$t" "$secs" "$work/corpus/$t" "$work/artifacts/$t" "$log" || rc=$?
    ended=$(date +%s)
    local execs crashes=0 status=ok
    execs=$(executions "$log")
    if [ $rc -ne 0 ]; then
      crashes=$(find "$work/artifacts/$t" -type f | wc -l)
      [ "$crashes" -eq 0 ] && crashes=1
      status="CRASH (exit $rc)"
      failed+=("$t")
      mkdir -p fuzz/artifacts/$t
      cp "$work/artifacts/$t"/* fuzz/artifacts/$t/ 2>/dev/null || true
      echo "---- $t crashed ----"
      crash_summary "$log"
      echo "---- crashing inputs copied to fuzz/artifacts/$t/ ----"
    fi
    rows+=("$(printf '%-16s %8s %12s %10s %8s  %s' "$t" "$((ended - started))" "$execs" \
      "$((execs / (ended - started > 0 ? ended - started : 1)))" "$crashes" "$status")")
  done
  echo
  printf '%-16s %8s %12s %10s %8s  %s\n' target seconds executions exec/s crashes result
  printf '%s\n' "${rows[@]}"
  rm -rf "$work"
  echo "test result: $([ ${#failed[@]} -eq 0 ] && echo ok || echo FAILED). $((${#TARGETS[@]} - ${#failed[@]})) passed; ${#failed[@]} failed (fuzz targets, ${secs}s each)"
  if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh smoke: crashes in: ${failed[*]}" >&2
    return 1
  fi
}

run() {
  [ $# -ge 2 ] || die "usage: scripts/fuzz.sh run <target> <seconds> [libFuzzer args…]"
  local t=$1 secs=$2
  shift 2
  is_target "$t" || die "unknown target '$t' (targets: ${TARGETS[*]})"
  [[ $secs =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "run: seconds must be a positive integer"
  build "$t"
  local log rc=0
  log=$(mktemp "${TMPDIR:-/tmp}/keyway-fuzz-$t.XXXXXX")
  echo "==> $t: ${secs}s, corpus fuzz/corpus/$t, crashes to fuzz/artifacts/$t/ (log: $log)"
  fuzz_one "$t" "$secs" "fuzz/corpus/$t" "fuzz/artifacts/$t" "$log" "$@" || rc=$?
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::|==|.*panicked)' "$log" || true
  local execs
  execs=$(executions "$log")
  printf '\n%-16s %8s %12s %10s  %s\n' target seconds executions exec/s result
  printf '%-16s %8s %12s %10s  %s\n' "$t" "$secs" "$execs" "$((execs / secs))" \
    "$([ $rc -eq 0 ] && echo ok || echo "CRASH (exit $rc)")"
  if [ $rc -ne 0 ]; then
    crash_summary "$log"
    return 1
  fi
}

regress() {
  build
  local t f failed=0 count=0
  for t in "${TARGETS[@]}"; do
    [ -d "fuzz/regressions/$t" ] || continue
    for f in "fuzz/regressions/$t"/*; do
      [ -f "$f" ] || continue
      case $f in *.md | *.txt) continue ;; esac
      count=$((count + 1))
      if "$BIN_DIR/$t" -runs=1 "$f" >/dev/null 2>&1; then
        echo "ok    $t $f"
      else
        echo "CRASH $t $f"
        failed=$((failed + 1))
      fi
    done
  done
  echo "$count regression inputs, $failed crash"
  echo "test result: $([ $failed -eq 0 ] && echo ok || echo FAILED). $((count - failed)) passed; $failed failed (fuzz regressions replayed)"
  [ $failed -eq 0 ]
}

seeds() {
  unset RUSTC_WRAPPER
  cargo run --locked --release --manifest-path fuzz/Cargo.toml --example gen_seeds
}

cmd=${1:-help}
shift || true
case $cmd in
  build)
    for t in "$@"; do is_target "$t" || die "unknown target '$t'"; done
    build "$@"
    ;;
  smoke) smoke "$@" ;;
  run) run "$@" ;;
  regress) regress ;;
  seeds) seeds ;;
  list) printf '%s\n' "${TARGETS[@]}" ;;
  help | -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) die "unknown command '$cmd' (build, smoke, run, regress, seeds, list)" ;;
esac
