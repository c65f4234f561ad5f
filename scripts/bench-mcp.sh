#!/usr/bin/env bash
# Latency of each `cloudops mcp` tool call, end to end over stdio as an agent sees it (the
# official MCP Python client, `crates/app-cli/tests/cli/mcp_client.py`), on the demo estate
# (3,187 resources seeded into moto and synced, as scripts/demo.sh does), with the model when
# it is installed. One session; each call made once to warm up, then RUNS times.
#
#   scripts/bench-mcp.sh [RUNS]     (default 200; plan_action and request_execution RUNS/10)
#   CLOUDOPS_BIN=path/to/cloudops scripts/bench-mcp.sh   (measure that build)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-200}"
slow_runs=$((runs / 10 > 0 ? runs / 10 : 1))
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
venv="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
scripts/fetch-model.sh >/dev/null || echo "note: no model; lexical lookups only" >&2
scripts/fetch-aws-tools.sh >/dev/null
# CLOUDOPS_BIN: a `cloudops` already built (e.g. by the tests), instead of building one.
if [[ -z "${CLOUDOPS_BIN:-}" ]]; then
    cargo build --workspace --release --locked --bins -q
fi
cloudops="${CLOUDOPS_BIN:-$CARGO_TARGET_DIR/release/cloudops}"

work="$(mktemp -d)"
source scripts/moto-lib.sh
start_moto "$work/moto.log"
trap 'kill "$MOTO_PID" 2>/dev/null || true; rm -rf "$work"' EXIT
export AWS_ENDPOINT_URL="$MOTO_ENDPOINT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export CLOUDOPS_HOME="$work/home"
mkdir -p "$CLOUDOPS_HOME"
echo "seeding moto with the demo estate and syncing (a minute or two)" >&2
"$venv/bin/python" scripts/seed-moto.py --endpoint "$AWS_ENDPOINT_URL" --cloudops "$cloudops" \
    --manifest "$work/manifest.json" --config "$CLOUDOPS_HOME/config.toml" >/dev/null
"$cloudops" estate sync >/dev/null 2>&1

# An execution to ask the status of.
request='{"command": "'"$cloudops"'", "args": ["mcp"], "env": {}, "calls": [{"tool": "request_execution", "arguments": {"request": "Stop pg-instance-main1"}}]}'
id="$(echo "$request" | "$venv/bin/python" crates/app-cli/tests/cli/mcp_client.py |
    "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["calls"][0]["structuredContent"]["execution_id"])')"

bench() { # RUNS TOOL ARGUMENTS-JSON
    "$venv/bin/python" - "$1" "$2" "$3" "$cloudops" <<'PY'
import json, os, subprocess, sys
runs, tool, arguments, cloudops = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "CLOUDOPS_"))}
spec = {"command": cloudops, "args": ["mcp"], "env": env, "repeat": runs,
        "calls": [{"tool": tool, "arguments": arguments}]}
out = subprocess.run([sys.executable, "crates/app-cli/tests/cli/mcp_client.py"],
                     input=json.dumps(spec), capture_output=True, text=True, check=True)
answer = json.loads(out.stdout)
first = answer["calls"][0]
times = sorted(answer["latencies_ms"][0])
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"| `{tool}` {json.dumps(arguments)} | {len(times)} | {pick(0.5):.2f} | {pick(0.99):.2f} | {max(times):.2f} | {'error' if first.get('isError') else 'ok'} |")
PY
}

echo "| call | runs | p50 ms | p99 ms | max ms | answer |"
echo "|---|---|---|---|---|---|"
bench "$runs" find_resources '{"query": "pg-instance-main1"}'
bench "$runs" find_resources '{"query": "the bucket with the postgres dumps"}'
bench "$runs" find_resources '{"query": "checkout", "type": "ec2_instance", "limit": 50}'
bench "$runs" execution_status "{\"id\": \"$id\"}"
bench "$slow_runs" plan_action '{"request": "Stop pg-instance-main1"}'
bench "$slow_runs" plan_action '{"request": "how many databases have no backups?"}'
bench "$slow_runs" request_execution '{"request": "Stop pg-instance-main1"}'
