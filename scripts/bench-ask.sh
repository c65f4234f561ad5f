#!/usr/bin/env bash
# What `cloudops ask` costs on top of doing the same by hand with the AWS CLI, against moto:
#   ask:     cloudops ask "Stop pg-instance-main1" --yes   (resolve, the re-read of the target
#            before planning, plan, verify, credentials, the AWS CLI stop + the verification
#            describe, the targeted refresh, the audit)
#   by hand: aws rds stop-db-instance … ; aws rds describe-db-instances … (the same two calls)
# Stops and starts alternate, so every run does real work. Prints the median and p90 of each,
# and of the re-read before planning alone (the proposal's `freshness.reread_ms`).
#
#   scripts/bench-ask.sh [RUNS]     (default 15; uses the release build the tests use)
#   CLOUDOPS_BIN=path/to/cloudops scripts/bench-ask.sh   (measure that build)
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${1:-15}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
venv="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
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

endpoint="$MOTO_ENDPOINT"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-west-2 AWS_DEFAULT_REGION=us-west-2
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export CLOUDOPS_HOME="$work/home"
mkdir -p "$CLOUDOPS_HOME"
aws=("$venv/bin/aws" --endpoint-url "$endpoint" --output json)
"${aws[@]}" rds create-db-instance --db-instance-identifier pg-instance-main1 \
    --db-instance-class db.t3.medium --engine postgres --master-username postgres \
    --master-user-password not-a-real-password --allocated-storage 20 \
    --tags Key=env,Value=production >/dev/null
cat >"$CLOUDOPS_HOME/config.toml" <<EOF
[[accounts]]
name = "production"
regions = ["us-west-2"]
[estate]
semantic = false
[sync]
endpoint_url = "$endpoint"
cloudtrail = false
[ask]
aws_cli = "$venv/bin/aws"
expect_interval_secs = 1
EOF
"$cloudops" estate sync >/dev/null 2>&1

now() { date +%s%N; }
ask_ms=()
hand_ms=()
reread_ms=()
for _ in $(seq "$runs"); do
    start=$(now)
    "$cloudops" ask "Stop pg-instance-main1" --yes --json </dev/null >"$work/ask.json" 2>/dev/null
    ask_ms+=($((($(now) - start) / 1000000)))
    reread_ms+=("$("$venv/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["freshness"]["reread_ms"])' "$work/ask.json")")
    "$cloudops" ask "Start pg-instance-main1" --yes </dev/null >/dev/null 2>&1

    start=$(now)
    "${aws[@]}" rds stop-db-instance --db-instance-identifier pg-instance-main1 >/dev/null
    "${aws[@]}" rds describe-db-instances --db-instance-identifier pg-instance-main1 \
        --query 'DBInstances[0].DBInstanceStatus' --output text >/dev/null
    hand_ms+=($((($(now) - start) / 1000000)))
    "${aws[@]}" rds start-db-instance --db-instance-identifier pg-instance-main1 >/dev/null
    "$cloudops" estate sync >/dev/null 2>&1
done

"$venv/bin/python" - "${ask_ms[*]}" "${hand_ms[*]}" "${reread_ms[*]}" <<'EOF'
import statistics, sys
def summary(text):
    values = sorted(int(v) for v in text.split())
    p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
    return statistics.median(values), p90
ask, hand, reread = summary(sys.argv[1]), summary(sys.argv[2]), summary(sys.argv[3])
print(f"runs: {len(sys.argv[1].split())}")
print(f"cloudops ask (stop + verification + refresh + audit): median {ask[0]:.0f} ms, p90 {ask[1]} ms")
print(f"by hand (aws stop + aws describe):                    median {hand[0]:.0f} ms, p90 {hand[1]} ms")
print(f"overhead of ask: {ask[0] - hand[0]:.0f} ms ({ask[0] / hand[0]:.2f}x)")
print(f"of which the re-read of the target before planning:   median {reread[0]:.0f} ms, p90 {reread[1]} ms")
EOF
