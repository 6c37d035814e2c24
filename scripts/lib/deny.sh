#!/usr/bin/env bash
# cargo deny over the workspace and the fuzz crate: licences (allow-list), bans (no
# aws-lc/OpenSSL, duplicates reported), sources (crates.io only). The advisory check
# needs RustSec's database, which is fetched from GitHub: this machine cannot reach it,
# so `advisories` runs only when a copy is already present (never fetched here, never
# committed). See deny.toml and docs/security.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

CARGO_DENY_VERSION=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qF "$CARGO_DENY_VERSION"; then
  echo "==> installing cargo-deny $CARGO_DENY_VERSION (once; kept in ~/.cargo/bin)"
  # The tool's own release profile (fat LTO, one codegen unit) triples its build time
  # on two cores, for a program that runs for seconds: plain optimisation is enough.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
fi

checks=(licenses bans sources)
# cargo-deny keeps its databases under $CARGO_HOME/advisory-dbs/<name>-<hash>/.
db_root=${CARGO_HOME:-$HOME/.cargo}/advisory-dbs
if compgen -G "$db_root/*/crates" >/dev/null; then
  checks+=(advisories)
else
  echo "cargo deny: no advisory database in $db_root (it comes from GitHub, out of reach here): advisories not checked"
fi

for manifest in Cargo.toml fuzz/Cargo.toml; do
  # --offline reads only what is on disk: first fetch every crate the lock file names, for
  # every platform (a build on Linux never downloads windows-sys and the like).
  cargo fetch --locked --manifest-path "$manifest" --quiet
  echo "==> cargo deny check ${checks[*]} ($manifest)"
  cargo deny --offline --manifest-path "$manifest" --config deny.toml check "${checks[@]}"
done
echo "test result: ok. 2 passed; 0 failed (cargo deny: the workspace and the fuzz crate)"
