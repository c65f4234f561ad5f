#!/usr/bin/env bash
# What glibc's malloc settings cost and save in a sync (docs/benchmarks.md, desktop app,
# "the allocator's mapping threshold"): full `cloudops estate sync` runs of the seed-sized
# estate into fresh data directories against one seeded moto, the settings alternating round
# by round, each printing the sync's summary line (wall time, AWS calls, index phase) and the
# process's peak RSS. `MALLOC_ARENA_MAX=2` in every run, as the desktop app caps its arenas.
#
# Usage: scripts/bench-sync-allocator.sh [ROUNDS] [SETTING ...]
#   SETTING: `default` (glibc's own) or space-separated VAR=VALUE assignments, for example
#   "MALLOC_MMAP_THRESHOLD_=262144" (what the desktop app sets). Defaults: 3 rounds of
#   `default` and `MALLOC_MMAP_THRESHOLD_=262144`.
# Env: CARGO_TARGET_DIR (default ~/.cache/cloudops/target), CLOUDOPS_VENV, BENCH_DIR (keep the
# run's files there; default a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${1:-3}"
shift || true
SETTINGS=("$@")
((${#SETTINGS[@]})) || SETTINGS=(default "MALLOC_MMAP_THRESHOLD_=262144")
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [ROUNDS] [SETTING ...]" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time is needed (apt-get install -y time)" >&2; exit 1; }

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
VENV="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
scripts/fetch-aws-tools.sh >/dev/null
# The whole workspace in release, as the tests build it (see scripts/bench-sync.sh).
cargo build --quiet --workspace --release --locked --bins
CLOUDOPS="$CARGO_TARGET_DIR/release/cloudops"

WORK="${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/cloudops-bench-alloc.XXXXXX")}"
mkdir -p "$WORK/seed"
source scripts/moto-lib.sh
start_moto "$WORK/moto.log"
trap 'kill "$MOTO_PID" 2>/dev/null || true; [[ -n "${BENCH_DIR:-}" ]] || rm -rf "$WORK"' EXIT

export AWS_ENDPOINT_URL="$MOTO_ENDPOINT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
echo "== seeding moto at $AWS_ENDPOINT_URL"
"$VENV/bin/python" scripts/seed-moto.py --endpoint "$AWS_ENDPOINT_URL" --cloudops "$CLOUDOPS" \
    --manifest "$WORK/seed/manifest.json" --config "$WORK/seed/config.toml" >"$WORK/seed.log"

for ((round = 1; round <= ROUNDS; round++)); do
    for index in "${!SETTINGS[@]}"; do
        setting="${SETTINGS[$index]}"
        assignments=()
        [[ "$setting" == default ]] || read -ra assignments <<<"$setting"
        home="$WORK/round-$round-setting-$index"
        mkdir -p "$home"
        cp "$WORK/seed/config.toml" "$home/"
        if ! env "${assignments[@]}" MALLOC_ARENA_MAX=2 CLOUDOPS_HOME="$home" \
            CLOUDOPS_KEYCHAIN_SERVICE="cloudops-bench-$$" \
            /usr/bin/time -f "peak RSS %M KiB" -o "$home/time.txt" \
            "$CLOUDOPS" estate sync >"$home/sync.txt" 2>"$home/sync.err"; then
            echo "error: the sync with '$setting' failed; see $home/sync.err" >&2
            exit 1
        fi
        echo "round $round, $setting: $(grep '^synced' "$home/sync.txt"); $(cat "$home/time.txt")"
    done
done
