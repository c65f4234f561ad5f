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

# The session's environment: the data directory and moto's endpoint and credentials.
spec() { # TOOL ARGUMENTS-JSON [REPEAT]
    "$venv/bin/python" - "$cloudops" "$1" "$2" "${3:-0}" <<'PY'
import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "CLOUDOPS_"))}
print(json.dumps({"command": sys.argv[1], "args": ["mcp"], "env": env, "repeat": int(sys.argv[4]),
                  "calls": [{"tool": sys.argv[2], "arguments": json.loads(sys.argv[3])}]}))
PY
}

# An execution to ask the status of.
answer="$(spec request_execution '{"request": "Stop pg-instance-main1"}' |
    "$venv/bin/python" crates/app-cli/tests/cli/mcp_client.py)"
id="$(echo "$answer" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["calls"][0]["structuredContent"]["execution_id"])')" ||
    { echo "request_execution failed: $answer" >&2; exit 1; }

bench() { # RUNS TOOL ARGUMENTS-JSON
    spec "$2" "$3" "$1" | "$venv/bin/python" crates/app-cli/tests/cli/mcp_client.py >"$work/answer.json"
    "$venv/bin/python" - "$2" "$3" "$work/answer.json" <<'PY'
import json, sys
tool, arguments = sys.argv[1], json.loads(sys.argv[2])
answer = json.load(open(sys.argv[3]))
first = answer["calls"][0]
times = sorted(answer["latencies_ms"][0])
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"| `{tool}` {json.dumps(arguments)} | {len(times)} | {pick(0.5):.2f} | {pick(0.99):.2f} | {max(times):.2f} | {answer['first_ms'][0]:.0f} | {'error' if first.get('isError') else 'ok'} |")
PY
}

echo "| call | runs | p50 ms | p99 ms | max ms | first call of the session, ms (opens the estate) | answer |"
echo "|---|---|---|---|---|---|---|"
bench "$runs" find_resources '{"query": "pg-instance-main1"}'
bench "$runs" find_resources '{"query": "the bucket with the postgres dumps"}'
bench "$runs" find_resources '{"query": "checkout", "type": "ec2_instance", "limit": 50}'
bench "$runs" execution_status "{\"id\": \"$id\"}"
bench "$slow_runs" plan_action '{"request": "Stop pg-instance-main1"}'
bench "$slow_runs" plan_action '{"request": "how many databases have no backups?"}'
bench "$slow_runs" request_execution '{"request": "Stop pg-instance-main1"}'

# What an agent without CloudOps runs for the first lookup (an AWS-CLI-calling MCP server):
# one `aws` process per call, against the same moto, in the same run.
"$venv/bin/python" - "$venv/bin/aws" "$slow_runs" <<'PY'
import subprocess, sys, time
aws, runs = sys.argv[1], int(sys.argv[2])
times = []
for _ in range(runs):
    started = time.perf_counter()
    subprocess.run([aws, "rds", "describe-db-instances", "--region", "us-east-1",
                    "--endpoint-url", __import__("os").environ["AWS_ENDPOINT_URL"],
                    "--output", "json"], check=False, capture_output=True)
    times.append((time.perf_counter() - started) * 1000.0)
times.sort()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"| for comparison: `aws rds describe-db-instances` (one region of one account, by hand) | {runs} | {pick(0.5):.2f} | {pick(0.99):.2f} | {max(times):.2f} | | ok |")
PY
