#!/usr/bin/env bash
# The estate sync benchmark (docs/benchmarks.md, "Estate sync"): in one run against one moto
# holding the seed-sized estate (scripts/seed-moto.py: 2,500 EC2, 150 RDS, 430 S3, 85 Lambda,
# 22 ELBv2 over 3 assumed-role accounts × 3 regions):
#   1. `cloudops estate sync` (full; tags, attributes and EC2 termination protection included)
#   2. the same estate listed with the AWS CLI v1 (scripts/list-estate-awscli.sh, tags
#      included), sequentially and with --parallel 2
#   3. a few changes (instances stopped, buckets retagged and deleted, functions added), then
#      `cloudops estate sync` again (incremental) — and once more with nothing changed
# and prints the wall times, the API share of each sync and the ratios.
#
# Usage: scripts/bench-sync.sh [--skip-cli] [--reads tags|attributes|all]
# Env:   CARGO_TARGET_DIR (default ~/.cache/cloudops/target), CLOUDOPS_VENV, BENCH_DIR
#        (keep the run's files there; default a temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."

SKIP_CLI=0
READS=tags
while (($#)); do
    case "$1" in
    --skip-cli) SKIP_CLI=1 ;;
    --reads) READS="$2"; shift ;;
    *) echo "usage: $0 [--skip-cli] [--reads tags|attributes|all]" >&2; exit 2 ;;
    esac
    shift
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/cloudops/target}"
VENV="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"
scripts/fetch-aws-tools.sh >/dev/null
command -v jq >/dev/null || { echo "error: jq is needed (apt-get install -y jq)" >&2; exit 1; }

# The whole workspace in release, as the tests build it: a build of app-cli alone unifies features
# differently and rebuilds the AWS SDK.
cargo build --quiet --workspace --release --locked --bins
CLOUDOPS="$CARGO_TARGET_DIR/release/cloudops"

WORK="${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/cloudops-bench-sync.XXXXXX")}"
mkdir -p "$WORK"
source scripts/moto-lib.sh
start_moto "$WORK/moto.log"
trap 'kill "$MOTO_PID" 2>/dev/null || true; [[ -n "${BENCH_DIR:-}" ]] || rm -rf "$WORK"' EXIT

export AWS_ENDPOINT_URL="$MOTO_ENDPOINT" AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export CLOUDOPS_HOME="$WORK/home" CLOUDOPS_KEYCHAIN_SERVICE="cloudops-bench-$$"
echo "== seeding moto at $AWS_ENDPOINT_URL"
"$VENV/bin/python" scripts/seed-moto.py --endpoint "$AWS_ENDPOINT_URL" --cloudops "$CLOUDOPS" \
    --manifest "$WORK/manifest.json" --config "$CLOUDOPS_HOME/config.toml" >"$WORK/seed.log"

now() { date +%s.%N; }
seconds() { python3 -c "print(f'{$2 - $1:.1f}')"; }

echo "== cloudops estate sync (full)"
start=$(now)
"$CLOUDOPS" estate sync --json >"$WORK/full.json" 2>"$WORK/full.err"
full=$(seconds "$start" "$(now)")

cli_seq="-" cli_par="-"
if ((!SKIP_CLI)); then
    echo "== AWS CLI listing, sequential (--reads $READS)"
    start=$(now)
    scripts/list-estate-awscli.sh --endpoint "$AWS_ENDPOINT_URL" --manifest "$WORK/manifest.json" \
        --reads "$READS" >"$WORK/cli-seq.log" 2>&1
    cli_seq=$(seconds "$start" "$(now)")
    echo "== AWS CLI listing, --parallel 2"
    start=$(now)
    scripts/list-estate-awscli.sh --endpoint "$AWS_ENDPOINT_URL" --manifest "$WORK/manifest.json" \
        --reads "$READS" --parallel 2 >"$WORK/cli-par.log" 2>&1
    cli_par=$(seconds "$start" "$(now)")
fi

echo "== changes: 5 instances stopped, 3 buckets retagged, 2 buckets deleted, 2 functions added"
creds=$("$VENV/bin/aws" sts assume-role --role-arn arn:aws:iam::111111111111:role/OrganizationAccountAccessRole \
    --role-session-name bench --query Credentials --output json)
export AWS_ACCESS_KEY_ID=$(jq -r .AccessKeyId <<<"$creds") AWS_SECRET_ACCESS_KEY=$(jq -r .SecretAccessKey <<<"$creds")
export AWS_SESSION_TOKEN=$(jq -r .SessionToken <<<"$creds")
aws() { "$VENV/bin/aws" --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
# Whole answers first, then the first few: `head` in a pipeline would break the CLI's pipe.
running=$(aws ec2 describe-instances --filters Name=instance-state-name,Values=running \
    --query 'Reservations[].Instances[].InstanceId' --output text)
ids=$(tr '\t' '\n' <<<"$running" | sed -n 1,5p | tr '\n' ' ')
# shellcheck disable=SC2086
aws ec2 stop-instances --instance-ids $ids >/dev/null
listed=$(aws s3api list-buckets --query 'Buckets[].Name' --output text)
buckets=$(tr '\t' '\n' <<<"$listed" | sed -n 1,5p)
for bucket in $(sed -n 1,3p <<<"$buckets"); do
    aws s3api put-bucket-tagging --bucket "$bucket" --tagging 'TagSet=[{Key=bench,Value=retagged}]'
done
for bucket in $(sed -n 4,5p <<<"$buckets"); do aws s3api delete-bucket --bucket "$bucket"; done
role=$(aws iam get-role --role-name lambda-execution --query Role.Arn --output text)
printf 'PK\005\006\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >"$WORK/empty.zip"
for fn in bench-added-1 bench-added-2; do
    aws lambda create-function --function-name "$fn" --runtime python3.12 --role "$role" \
        --handler app.handler --zip-file "fileb://$WORK/empty.zip" --region us-east-1 >/dev/null
done
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
unset AWS_SESSION_TOKEN

echo "== cloudops estate sync (incremental, after the changes)"
start=$(now)
"$CLOUDOPS" estate sync --json >"$WORK/incremental.json" 2>"$WORK/incremental.err"
incremental=$(seconds "$start" "$(now)")
echo "== cloudops estate sync (incremental, nothing changed)"
start=$(now)
"$CLOUDOPS" estate sync --json >"$WORK/unchanged.json" 2>"$WORK/unchanged.err"
unchanged=$(seconds "$start" "$(now)")

summary() {
    jq -r --arg wall "$2" --arg name "$1" '
        "\($name): wall \($wall) s; scopes \(.scopes | length), failed \([.scopes[] | select(.error != null)] | length); " +
        "read \(.totals.read), added \(.totals.added), changed \(.totals.changed), unchanged \(.totals.unchanged), removed \(.totals.removed), embedded \(.totals.embedded); " +
        "AWS time summed over scopes \([.scopes[].api_ms] | add / 1000 | floor) s, index time \([.scopes[].index_ms] | add / 1000 * 10 | floor / 10) s"' "$3"
}
echo
echo "== results ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
summary "full sync" "$full" "$WORK/full.json"
summary "incremental (changed)" "$incremental" "$WORK/incremental.json"
summary "incremental (unchanged)" "$unchanged" "$WORK/unchanged.json"
echo "AWS CLI listing (--reads $READS): sequential $cli_seq s, --parallel 2 $cli_par s"
if [[ "$cli_seq" != "-" ]]; then
    python3 -c "print(f'ratios: full sync / CLI sequential = {$full/$cli_seq:.3f}; full sync / CLI parallel 2 = {$full/$cli_par:.3f}')"
fi
python3 -c "print(f'ratios: incremental (changed) / full = {$incremental/$full:.2f}; incremental (unchanged) / full = {$unchanged/$full:.2f}')"
