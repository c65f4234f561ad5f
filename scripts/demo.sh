#!/usr/bin/env bash
# The main job on the embedded default: builds `cloudops`, loads the built-in demo estate and
# runs example lookups (or the lookup given as arguments). No AWS account needed.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
export CLOUDOPS_HOME="${CLOUDOPS_HOME:-$PWD/.demo-home}"

# The model makes description queries work; without it the demo still runs, lexically.
scripts/fetch-model.sh || echo "note: model not installed; running without semantic search" >&2

cargo build --release --locked -p app-cli --bin cloudops
cloudops="$CARGO_TARGET_DIR/release/cloudops"

"$cloudops" demo --load-only
if (($#)); then
    exec "$cloudops" find "$*"
fi
exec "$cloudops" demo
