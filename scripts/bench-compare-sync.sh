#!/usr/bin/env bash
# Two builds of `cloudops` against each other on the same full sync (docs/benchmarks.md,
# "Before and after the crate split"): one moto seeded once with the seed-sized estate, then
# full syncs into fresh data directories, alternating the builds, and the wall and index times
# of each.
#
#   scripts/bench-compare-sync.sh BEFORE_CLOUDOPS AFTER_CLOUDOPS [ROUNDS]   # default 2 rounds
#
# Build the "before" binary from its commit in a worktree with its own target dir, e.g.
#   git worktree add /tmp/before 6298995 && cd /tmp/before &&
#   CARGO_TARGET_DIR=~/.cache/cloudops/target-old cargo build --release --locked -p app-cli --bin cloudops
set -euo pipefail
cd "$(dirname "$0")/.."

(($# >= 2)) || { echo "usage: $0 BEFORE_CLOUDOPS AFTER_CLOUDOPS [ROUNDS]" >&2; exit 2; }
before="$(realpath "$1")" after="$(realpath "$2")" rounds="${3:-2}"
for binary in "$before" "$after"; do
    [[ -x "$binary" ]] || { echo "error: $binary is not an executable" >&2; exit 1; }
done
VENV="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
scripts/fetch-aws-tools.sh >/dev/null
command -v jq >/dev/null || { echo "error: jq is needed (apt-get install -y jq)" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cloudops-bench-compare.XXXXXX")"
source scripts/moto-lib.sh
start_moto "$WORK/moto.log"
trap 'kill "$MOTO_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

export AWS_ENDPOINT_URL="$MOTO_ENDPOINT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export CLOUDOPS_KEYCHAIN_SERVICE="cloudops-bench-$$"
echo "== seeding moto at $AWS_ENDPOINT_URL"
"$VENV/bin/python" scripts/seed-moto.py --endpoint "$AWS_ENDPOINT_URL" --cloudops "$after" \
    --manifest "$WORK/manifest.json" --config "$WORK/config.toml" >"$WORK/seed.log"

now() { date +%s.%N; }
sync_once() { # sync_once NAME BINARY
    local home="$WORK/home-$1-$round" start wall
    mkdir -p "$home"
    cp "$WORK/config.toml" "$home/config.toml"
    start=$(now)
    CLOUDOPS_HOME="$home" "$2" estate sync --json >"$home.json" 2>"$home.err"
    wall=$(python3 -c "print(f'{$(now) - $start:.1f}')")
    jq -r --arg name "$1" --arg wall "$wall" '
        "\($name): full sync \($wall) s; read \(.totals.read), embedded \(.totals.embedded), failed scopes \([.scopes[] | select(.error != null)] | length); index time \([.scopes[].index_ms] | add / 1000 * 10 | floor / 10) s"' \
        "$home.json"
}
echo "== $rounds rounds ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
for ((round = 1; round <= rounds; round++)); do
    sync_once before "$before"
    sync_once after "$after"
done
