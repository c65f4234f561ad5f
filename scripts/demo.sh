#!/usr/bin/env bash
# The main job on the embedded default, no AWS account needed: a local AWS stand-in (moto)
# seeded with the demo estate (3 accounts × 3 regions, 3,187 resources), then the whole flow
# as an operator runs it — `estate sync`, a lookup, a question about the estate, and
# `ask "Stop pg-instance-main1"`:
# plan, client-side verification, approval, execution with the AWS CLI, the index refreshed,
# the audit trail verified.
#
#   scripts/demo.sh            # the flow above
#   scripts/demo.sh "pg main"  # the same set-up, then look this up instead of asking
#
# On a terminal the approval is asked (answer y); without one the demo approves with --yes.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
venv="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"

# A C compiler and Python's venv (Debian's python3 comes without it): installed when this is
# root or may sudo without a password, else named with the one line to run, before anything
# is built (never found missing inside a build script).
scripts/system-deps.sh demo

# The model makes description queries work; without it the demo still runs, lexically.
scripts/fetch-model.sh || echo "note: model not installed; running without semantic search" >&2
scripts/fetch-aws-tools.sh

# Only what the demo runs: the CLI (planning in-process), in the release profile the tests
# use. Not the desktop app, whose GTK/WebKitGTK and Node.js a fresh machine may lack.
cargo build --release --locked -p app-cli --bin cloudops
cloudops="$CARGO_TARGET_DIR/release/cloudops"

# A fresh moto and a fresh data directory each run: the estate lives in moto's memory.
export CLOUDOPS_HOME="${CLOUDOPS_HOME:-$PWD/.demo-home}"
rm -rf "$CLOUDOPS_HOME"
mkdir -p "$CLOUDOPS_HOME"
source scripts/moto-lib.sh
start_moto "$CLOUDOPS_HOME/moto.log"
trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT

# moto's base credentials; each demo account is reached by assuming a role in it, exactly as
# a real AWS organization would be. The AWS CLI the executor runs is the venv's.
export AWS_ENDPOINT_URL="$MOTO_ENDPOINT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export PATH="$venv/bin:$PATH"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo "seeding moto at $AWS_ENDPOINT_URL with the demo estate (about a minute)"
"$venv/bin/python" scripts/seed-moto.py --endpoint "$AWS_ENDPOINT_URL" --cloudops "$cloudops" \
    --manifest "$CLOUDOPS_HOME/manifest.json" --config "$CLOUDOPS_HOME/config.toml"

step cloudops estate sync
"$cloudops" estate sync

if (($#)); then
    step cloudops find "$*"
    exec "$cloudops" find "$*"
fi

step cloudops find "pg main" --limit 3
"$cloudops" find "pg main" --limit 3

step cloudops ask "how many databases have no backups per region?"
"$cloudops" ask "how many databases have no backups per region?"

approve=()
[[ -t 0 ]] || approve=(--yes)
step cloudops ask "Stop pg-instance-main1" "${approve[@]}"
"$cloudops" ask "Stop pg-instance-main1" "${approve[@]}"

step cloudops find pg-instance-main1
"$cloudops" find pg-instance-main1

step cloudops history
"$cloudops" history
step cloudops history verify
"$cloudops" history verify
