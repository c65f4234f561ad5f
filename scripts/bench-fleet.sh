#!/usr/bin/env bash
# A fleet of N instances (default 100) stopped three ways, against moto, timed end to end:
#   cloudops:  cloudops ask "stop all the fleet-bench servers" --yes   (fleet resolution, the
#              re-read of every target, plan, verify, credentials, then the per-target steps,
#              batched where AWS takes a list (one stop-instances, one waiter, one describe
#              for the fleet), the rest [ask] fleet_concurrency at a time; refresh, audit)
#   by hand, the same calls: per instance, in turn: stop-instances, wait instance-stopped,
#              describe-instances (what cloudops runs, without concurrency)
#   by hand, batched: one stop-instances with every id, one wait instance-stopped (what an
#              operator who knows the ids types)
# Between runs the instances are started again (not timed) and the estate re-synced.
#
#   scripts/bench-fleet.sh [N] [RUNS]     (defaults 100 and 3; the release build the tests use)
#   CLOUDOPS_BIN=path/to/cloudops scripts/bench-fleet.sh   (measure that build)
set -euo pipefail
cd "$(dirname "$0")/.."

count="${1:-100}"
runs="${2:-3}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
venv="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
scripts/fetch-aws-tools.sh >/dev/null
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
image=$("${aws[@]}" ec2 describe-images --owners amazon --query 'Images[0].ImageId' --output text)
"${aws[@]}" ec2 run-instances --image-id "$image" --instance-type t3.micro --count "$count" \
    --tag-specifications 'ResourceType=instance,Tags=[{Key=Name,Value=fleet-bench},{Key=env,Value=staging}]' >/dev/null
mapfile -t ids < <("${aws[@]}" ec2 describe-instances --query 'Reservations[].Instances[].InstanceId' --output text | tr '\t' '\n')
cat >"$CLOUDOPS_HOME/config.toml" <<EOF
[[accounts]]
name = "staging"
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

restart() {
    "${aws[@]}" ec2 start-instances --instance-ids "${ids[@]}" >/dev/null
    "$cloudops" estate sync >/dev/null 2>&1
}

now() { date +%s%N; }
ask_ms=()
same_ms=()
batch_ms=()
for _ in $(seq "$runs"); do
    start=$(now)
    "$cloudops" ask "stop all the fleet-bench servers" --yes --json </dev/null >"$work/ask.json" 2>"$work/ask.err" || {
        cat "$work/ask.err" >&2
        exit 1
    }
    ask_ms+=($((($(now) - start) / 1000000)))
    "$venv/bin/python" - "$work/ask.json" "$count" <<'EOF'
import json, sys
answer = json.load(open(sys.argv[1]))
ok = sum(1 for t in answer["targets"] if t["result"] == "ok")
assert answer["outcome"] == "succeeded" and ok == int(sys.argv[2]), (answer["outcome"], ok)
EOF
    restart

    start=$(now)
    for id in "${ids[@]}"; do
        "${aws[@]}" ec2 stop-instances --instance-ids "$id" >/dev/null
        "${aws[@]}" ec2 wait instance-stopped --instance-ids "$id"
        "${aws[@]}" ec2 describe-instances --instance-ids "$id" \
            --query 'Reservations[0].Instances[0].State.Name' --output text >/dev/null
    done
    same_ms+=($((($(now) - start) / 1000000)))
    restart

    start=$(now)
    "${aws[@]}" ec2 stop-instances --instance-ids "${ids[@]}" >/dev/null
    "${aws[@]}" ec2 wait instance-stopped --instance-ids "${ids[@]}"
    batch_ms+=($((($(now) - start) / 1000000)))
    restart
done

"$venv/bin/python" - "$count" "${ask_ms[*]}" "${same_ms[*]}" "${batch_ms[*]}" <<'EOF'
import statistics, sys
count = sys.argv[1]
for label, text in zip(("cloudops ask (fleet)", "by hand, the same calls", "by hand, batched"), sys.argv[2:]):
    values = sorted(int(v) for v in text.split())
    print(f"{label:<26} {count} instances: median {statistics.median(values):>8.0f} ms  (runs: {values})")
EOF
