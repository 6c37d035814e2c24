#!/usr/bin/env bash
# The main job: the demo (`keyway-sandbox demo`) — the reference backend, reference locks and the member
# journeys on this machine. Installs what it needs on a fresh machine of the `rust` kind.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/setup.sh
keyway_setup

cargo run --locked --quiet -p keyway-sandbox -- demo
