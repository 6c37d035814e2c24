#!/usr/bin/env bash
# Runs the README's test command as a newcomer would: a fresh clone of main in a temporary
# folder, an empty CARGO_HOME (only the rustup toolchain is shared), an empty home folder
# (so ~/.cache, ~/.npm and pip's cache are empty too) and no target folder. Prints how
# long the cold run took; record it in BENCHMARKS.md ("Cold test command").
#
#   bash scripts/fresh-clone-check.sh [BRANCH]      default: main
#
# Run it before saying an issue that touches set-up is resolved. It does not remove
# Debian packages the machine already holds (that would break the machine for the rest
# of the session): scripts/lib/setup.sh installs its list with `dpkg -s` checks, so a
# missing package shows up only on a new machine — keep that list complete.
# Then runs `bash scripts/demo.sh` in the same state. The logs are kept beside the clone; the folder is removed at the end unless KEEP=1.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
branch=${1:-main}

work=$(mktemp -d "${TMPDIR:-/tmp}/keyway-fresh.XXXXXX")
log="$work/test.log"
cleanup() {
  if [ "${KEEP:-0}" = 1 ]; then
    echo "kept $work"
  else
    rm -rf "$work/clone" "$work/home"
    echo "log kept at $log"
  fi
}
trap cleanup EXIT

git clone --quiet --branch "$branch" "$repo" "$work/clone"
# The test command expects ../shared beside the repo, as CI lays it.
[ -d "$repo/../shared" ] && ln -s "$(cd "$repo/../shared" && pwd)" "$work/shared"
mkdir -p "$work/home"

# The toolchain stays (rustup's, called directly from its sysroot); everything cargo
# installed before (cargo-deny, cargo-fuzz in ~/.cargo/bin) is out of reach, as on a new machine.
toolchain_bin="$(rustc --print sysroot)/bin"
old_cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
fresh_env() {
  export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  export HOME="$work/home"
  export CARGO_HOME="$HOME/.cargo"
  PATH="$CARGO_HOME/bin:$toolchain_bin:$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$old_cargo_bin" | paste -sd:)"
  export PATH
  unset CARGO_TARGET_DIR KEYWAY_CACHE XDG_CACHE_HOME RUSTUP_TOOLCHAIN
}

echo "==> fresh clone of $branch at $(git -C "$work/clone" rev-parse --short HEAD) in $work/clone"
echo "==> CARGO_HOME=$work/home/.cargo, HOME=$work/home (empty); log: $log"
started=$(date +%s)
set +e
(
  cd "$work/clone"
  fresh_env
  bash .ci/run
) >"$log" 2>&1
status=$?
took=$(($(date +%s) - started))
# Then the main job, from the same state (the README's other command).
demo_started=$(date +%s)
(
  cd "$work/clone"
  fresh_env
  bash scripts/demo.sh
) >"$work/demo.log" 2>&1
demo_status=$?
demo_took=$(($(date +%s) - demo_started))
set -e

echo "==> the last lines of the run:"
tail -n 20 "$log"
printf 'cold test command: %s (%dm %02ds, exit %d) on %s, %s cores\n' \
  "$([ $status -eq 0 ] && echo passed || echo FAILED)" $((took / 60)) $((took % 60)) "$status" \
  "$(date -u +%Y-%m-%d)" "$(nproc)"
printf 'demo after it: %s (%dm %02ds, exit %d); log: %s\n' \
  "$([ $demo_status -eq 0 ] && echo passed || echo FAILED)" $((demo_took / 60)) $((demo_took % 60)) "$demo_status" "$work/demo.log"
[ $status -eq 0 ] && [ $demo_status -eq 0 ]
