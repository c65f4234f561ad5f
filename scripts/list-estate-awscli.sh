#!/usr/bin/env bash
# Lists the seed estate (scripts/seed-moto.py) the way an operator would with the AWS CLI v1
# (PyPI awscli), tags included: one `aws` process per call, per account (credentials from
# `aws sts assume-role` on the account's role) and region. The reference side of the sync
# benchmark (issue 4): it prints the wall time and a RESULT line, then checks what it listed
# against the seed manifest (counts, names, states, and the spot checks' tags and attributes)
# and exits non-zero when anything differs or any call failed.
#
# What it calls (every call with an explicit --endpoint-url: awscli v1 ignores
# AWS_ENDPOINT_URL for some services, RDS among them):
#   per account:           sts assume-role; s3api list-buckets
#   per account × region:  ec2 describe-instances; rds describe-db-instances (TagList inline);
#                          lambda list-functions; elbv2 describe-load-balancers
#   per bucket:            s3api get-bucket-location (from us-east-1), then in the bucket's
#                          region get-bucket-tagging
#   per function:          lambda list-tags
#   per 20 load balancers: elbv2 describe-tags
# and with --reads attributes (the default; what the sync reads besides tags):
#   per bucket:            s3api get-bucket-versioning, get-bucket-encryption,
#                          get-public-access-block
#   per load balancer:     elbv2 describe-load-balancer-attributes (deletion protection)
# and with --reads all, also what the sync's EC2 collector reads by default:
#   per instance:          ec2 describe-instance-attribute --attribute disableApiTermination
# Listings page automatically inside one `aws` process (the CLI follows NextToken).
#
# The calls run in four dependent phases (roles; listings; per-resource calls that need a
# listing; per-bucket calls that need the bucket's region), each as a list of independent
# calls fed to `xargs -P N`: N = 1 (default) is an operator's sequential script, --parallel N
# the same calls N at a time. Either way the calls are exactly the same.
#
# Usage: scripts/list-estate-awscli.sh --endpoint http://127.0.0.1:PORT --manifest PATH
#            [--parallel N] [--reads tags|attributes|all] [--work DIR]
#        scripts/list-estate-awscli.sh --check-only --work DIR --manifest PATH
#   --work DIR keeps every answer (DIR/out), the call lists (DIR/tasks) and failures
#   (DIR/failed) for inspection; by default a temporary directory is removed at exit.
#   --check-only makes no call: it checks a listing kept with --work against the manifest.
# Env: CLOUDOPS_VENV (default ~/.cache/cloudops/venv) for `aws` and `python`;
#      AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY base credentials (default moto's testing).
# Needs jq (apt-get install -y jq).
set -euo pipefail

VENV="${CLOUDOPS_VENV:-$HOME/.cache/cloudops/venv}"

# ---- one call (run by xargs): --task "KIND ACCOUNT REGION KEY [ARGS...]" -------------------
if [[ "${1:-}" == "--task" ]]; then
    read -r -a field <<<"$2"
    kind="${field[0]}" account="${field[1]}" region="${field[2]}" key="${field[3]}"
    args=("${field[@]:4}")
    if [[ "$kind" != assume ]]; then
        # shellcheck disable=SC1090
        source "$LIST_WORK/creds/$account.env"
    fi
    absent=""
    case "$kind" in
    assume) command=(sts assume-role --role-arn "${args[0]}" --role-session-name cli-listing) ;;
    ec2-instances) command=(ec2 describe-instances) ;;
    rds-instances) command=(rds describe-db-instances) ;;
    lambda-functions) command=(lambda list-functions) ;;
    elbv2-balancers) command=(elbv2 describe-load-balancers) ;;
    s3-buckets) command=(s3api list-buckets) ;;
    s3-location) command=(s3api get-bucket-location --bucket "${args[0]}") ;;
    s3-tagging) command=(s3api get-bucket-tagging --bucket "${args[0]}") absent=NoSuchTagSet ;;
    s3-versioning) command=(s3api get-bucket-versioning --bucket "${args[0]}") ;;
    s3-encryption)
        command=(s3api get-bucket-encryption --bucket "${args[0]}")
        absent=ServerSideEncryptionConfigurationNotFoundError
        ;;
    s3-public-access-block)
        command=(s3api get-public-access-block --bucket "${args[0]}")
        absent=NoSuchPublicAccessBlockConfiguration
        ;;
    lambda-tags) command=(lambda list-tags --resource "${args[0]}") ;;
    elbv2-tags) command=(elbv2 describe-tags --resource-arns "${args[@]}") ;;
    elbv2-attributes)
        command=(elbv2 describe-load-balancer-attributes --load-balancer-arn "${args[0]}")
        ;;
    ec2-attribute)
        command=(ec2 describe-instance-attribute --instance-id "${args[0]}"
            --attribute disableApiTermination)
        ;;
    *)
        echo "list-estate-awscli: unknown task kind $kind" >&2
        exit 1
        ;;
    esac
    directory="$LIST_WORK/out/$account/$region"
    mkdir -p "$directory"
    out="$directory/$kind.$key.json"
    if "$LIST_AWS" "${command[@]}" --region "$region" --endpoint-url "$LIST_ENDPOINT" \
        >"$out" 2>"$out.err"; then
        # An empty answer prints nothing (get-bucket-versioning of a never-versioned bucket).
        [[ -s "$out" ]] || echo '{}' >"$out"
        rm -f "$out.err"
    elif [[ -n "$absent" ]] && grep -q "($absent)" "$out.err"; then
        printf '{"Absent": "%s"}\n' "$absent" >"$out"
        rm -f "$out.err"
    else
        cp "$out.err" "$LIST_WORK/failed/$kind.$account.$region.$key"
    fi
    if [[ "$kind" == assume && -s "$out" ]]; then
        jq -r '.Credentials | "export AWS_ACCESS_KEY_ID=\(.AccessKeyId)",
            "export AWS_SECRET_ACCESS_KEY=\(.SecretAccessKey)",
            "export AWS_SESSION_TOKEN=\(.SessionToken)"' "$out" >"$LIST_WORK/creds/$account.env"
    fi
    exit 0
fi

# ---- the listing ---------------------------------------------------------------------------
usage() {
    sed -n '/^# Usage:/,/^# Needs/p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

endpoint="" manifest="" parallel=1 reads=attributes work="" check_only=0
while (($#)); do
    case "$1" in
    --endpoint) endpoint="$2" && shift 2 ;;
    --manifest) manifest="$2" && shift 2 ;;
    --parallel) parallel="$2" && shift 2 ;;
    --reads) reads="$2" && shift 2 ;;
    --work) work="$2" && shift 2 ;;
    --check-only) check_only=1 && shift ;;
    -h | --help) usage ;;
    *) echo "list-estate-awscli: unknown argument $1" >&2 && usage ;;
    esac
done
[[ -n "$manifest" ]] || usage
[[ -n "$endpoint" || (check_only -eq 1 && -n "$work") ]] || usage
[[ "$reads" =~ ^(tags|attributes|all)$ ]] || usage
[[ "$parallel" =~ ^[1-9][0-9]*$ ]] || usage
[[ -f "$manifest" ]] || { echo "list-estate-awscli: no manifest at $manifest" >&2 && exit 2; }
command -v jq >/dev/null || { echo "list-estate-awscli: jq is not installed (apt-get install -y jq)" >&2 && exit 2; }
[[ -x "$VENV/bin/aws" ]] || { echo "list-estate-awscli: no aws in $VENV (scripts/fetch-aws-tools.sh)" >&2 && exit 2; }

if ((check_only)); then
    [[ -d "$work/out" ]] || { echo "list-estate-awscli: no kept listing in $work" >&2 && exit 2; }
elif [[ -n "$work" ]]; then
    rm -rf "$work/out" "$work/tasks" "$work/failed" "$work/creds"
    mkdir -p "$work"
else
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
fi
work="$(cd "$work" && pwd)"
mkdir -p "$work/out" "$work/tasks" "$work/failed" "$work/creds"

# A clean CLI: no profile, config or credentials file of the machine's user, no IMDS lookups.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
export AWS_DEFAULT_OUTPUT=json AWS_EC2_METADATA_DISABLED=true AWS_PAGER=""
export LIST_WORK="$work" LIST_ENDPOINT="$endpoint" LIST_AWS="$VENV/bin/aws"
self="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"

mapfile -t accounts < <(jq -r '.accounts[] | "\(.name) \(.role_arn)"' "$manifest")
mapfile -t regions < <(jq -r '.regions[]' "$manifest")

now() { date +%s.%N; }
# CPU seconds (user + system) of every finished child process: the `aws` processes, mostly.
# Steadier than wall time on a shared machine.
# `times` runs in this shell, not in a $(...) subshell, which would have no finished children.
children_cpu() {
    times >"$work/times"
    tail -n 1 "$work/times" |
        awk '{ for (i = 1; i <= 2; i++) { split($i, p, "m"); t += p[1] * 60 + p[2] } printf "%.1f", t }'
}
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
phase_report=()

# run_phase NAME: runs every call in tasks/NAME, $parallel at a time.
run_phase() {
    local name="$1" file="$work/tasks/$1" started calls
    calls=$(wc -l <"$file")
    started=$(now)
    if ((calls)); then
        xargs -d '\n' -n 1 -P "$parallel" "$self" --task <"$file"
    fi
    local seconds
    seconds=$(elapsed "$started" "$(now)")
    phase_report+=("$(printf '  %-12s %5d calls %8ss' "$name" "$calls" "$seconds")")
    echo "  phase $name: $calls calls in ${seconds}s" >&2
}

# out ACCOUNT REGION KIND: the answers of one kind in one scope.
answers() { compgen -G "$work/out/$1/$2/$3.*.json" || true; }

# list_estate: makes every call, phase by phase; sets calls, failed, mode, wall and cpu.
list_estate() {
    echo "== listing with the AWS CLI ($("$LIST_AWS" --version 2>&1 | cut -d' ' -f1)): ${#accounts[@]} accounts × ${#regions[@]} regions, reads=$reads, parallel=$parallel" >&2
    local started
    started=$(now)

    for line in "${accounts[@]}"; do
        read -r name role <<<"$line"
        echo "assume $name us-east-1 role $role"
    done >"$work/tasks/roles"
    run_phase roles
    for line in "${accounts[@]}"; do
        read -r name _ <<<"$line"
        [[ -s "$work/creds/$name.env" ]] || { echo "list-estate-awscli: could not assume the role of $name" >&2 && exit 1; }
    done

    for line in "${accounts[@]}"; do
        read -r name _ <<<"$line"
        echo "s3-buckets $name us-east-1 all"
        for region in "${regions[@]}"; do
            for kind in ec2-instances rds-instances lambda-functions elbv2-balancers; do
                echo "$kind $name $region all"
            done
        done
    done >"$work/tasks/listings"
    run_phase listings

    for line in "${accounts[@]}"; do
        read -r name _ <<<"$line"
        jq -r --arg a "$name" '.Buckets[].Name | "s3-location \($a) us-east-1 \(.) \(.)"' \
            "$work/out/$name/us-east-1/s3-buckets.all.json"
        for region in "${regions[@]}"; do
            scope="$work/out/$name/$region"
            jq -r --arg a "$name" --arg r "$region" \
                '.Functions[] | "lambda-tags \($a) \($r) \(.FunctionName) \(.FunctionArn)"' \
                "$scope/lambda-functions.all.json"
            jq -r --arg a "$name" --arg r "$region" '[.LoadBalancers[].LoadBalancerArn]
                | range(0; length; 20) as $i | "elbv2-tags \($a) \($r) \($i) \(.[$i:$i+20] | join(" "))"' \
                "$scope/elbv2-balancers.all.json"
            if [[ "$reads" != tags ]]; then
                jq -r --arg a "$name" --arg r "$region" '.LoadBalancers[]
                    | "elbv2-attributes \($a) \($r) \(.LoadBalancerName) \(.LoadBalancerArn)"' \
                    "$scope/elbv2-balancers.all.json"
            fi
            if [[ "$reads" == all ]]; then
                jq -r --arg a "$name" --arg r "$region" '.Reservations[].Instances[].InstanceId
                    | "ec2-attribute \($a) \($r) \(.) \(.)"' "$scope/ec2-instances.all.json"
            fi
        done
    done >"$work/tasks/per-resource"
    run_phase per-resource

    for line in "${accounts[@]}"; do
        read -r name _ <<<"$line"
        for file in $(answers "$name" us-east-1 s3-location); do
            [[ -s "$file" ]] || continue
            bucket="$(basename "$file" .json)" bucket="${bucket#s3-location.}"
            # No constraint is us-east-1; the legacy EU is eu-west-1.
            region="$(jq -r '.LocationConstraint // "us-east-1" | if . == "EU" then "eu-west-1" else . end' "$file")"
            echo "s3-tagging $name $region $bucket $bucket"
            if [[ "$reads" != tags ]]; then
                echo "s3-versioning $name $region $bucket $bucket"
                echo "s3-encryption $name $region $bucket $bucket"
                echo "s3-public-access-block $name $region $bucket $bucket"
            fi
        done
    done >"$work/tasks/per-bucket"
    run_phase per-bucket

    wall=$(elapsed "$started" "$(now)")
    children_cpu >"$work/cpu"
    cpu=$(<"$work/cpu")
    calls=$(cat "$work/tasks/"* | wc -l)
    failed=$(find "$work/failed" -type f | wc -l)
    mode=sequential
    ((parallel > 1)) && mode="parallel-$parallel"

    echo
    echo "== AWS CLI listing: $calls calls ($mode, reads=$reads) in ${wall}s wall, ${cpu}s CPU"
    printf '%s\n' "${phase_report[@]}"
    echo "  calls by operation:"
    cat "$work/tasks/"* | cut -d' ' -f1 | sort | uniq -c | sort -rn | sed 's/^/  /'
    if ((failed)); then
        echo "list-estate-awscli: $failed calls failed:" >&2
        for file in "$work/failed/"*; do
            echo "  $(basename "$file"): $(tail -n 1 "$file")" >&2
        done
    fi
}

calls=0
if ((check_only)); then
    echo "== checking the listing kept in $work (no calls)"
else
    list_estate
fi
failed=$(find "$work/failed" -type f | wc -l)

# ---- check what was listed against the manifest --------------------------------------------
verify_status=0
"$VENV/bin/python" - "$manifest" "$work/out" <<'PY' || verify_status=$?
import json, os, sys
from collections import Counter
from glob import glob

manifest_path, out = sys.argv[1:]
manifest = json.load(open(manifest_path))

def load(path):
    with open(path) as f:
        text = f.read()
    return json.loads(text) if text.strip() else {}

def answers(account, region, kind):
    return {p[len(f"{out}/{account}/{region}/{kind}."):-5]: load(p)
            for p in glob(f"{out}/{account}/{region}/{kind}.*.json")}

def tags_of(items):
    return {t["Key"]: t["Value"] for t in items or []}

# (service, account, region, name) -> what the CLI saw
found = {}
for account in manifest["accounts"]:
    a = account["name"]
    for region in manifest["regions"]:
        for answer in answers(a, region, "ec2-instances").values():
            for reservation in answer["Reservations"]:
                for i in reservation["Instances"]:
                    tags = tags_of(i.get("Tags"))
                    name = tags.get("Name", i["InstanceId"])
                    record = {"id": i["InstanceId"], "state": i["State"]["Name"], "tags": tags,
                              "attributes": {"instance_type": i["InstanceType"],
                                             "platform": i.get("Platform") or "linux"}}
                    protection = f"{out}/{a}/{region}/ec2-attribute.{i['InstanceId']}.json"
                    if os.path.exists(protection):
                        value = load(protection)["DisableApiTermination"]["Value"]
                        record["constraints"] = {"termination_protection": value,
                                                 "deletion_protection": value}
                    found[("ec2", a, region, name)] = record
        for answer in answers(a, region, "rds-instances").values():
            for d in answer["DBInstances"]:
                attributes = {"engine": d["Engine"], "engine_version": d["EngineVersion"],
                              "instance_class": d["DBInstanceClass"], "multi_az": d["MultiAZ"]}
                found[("rds", a, region, d["DBInstanceIdentifier"])] = {
                    "id": d["DBInstanceIdentifier"], "arn": d["DBInstanceArn"],
                    "state": d["DBInstanceStatus"], "tags": tags_of(d.get("TagList")),
                    "attributes": attributes,
                    "constraints": {"deletion_protection": d["DeletionProtection"],
                                    "multi_az": d["MultiAZ"],
                                    "has_read_replicas": bool(d["ReadReplicaDBInstanceIdentifiers"]),
                                    "is_read_replica": bool(d.get("ReadReplicaSourceDBInstanceIdentifier"))}}
        tags = {key: t.get("Tags", {}) for key, t in answers(a, region, "lambda-tags").items()}
        for answer in answers(a, region, "lambda-functions").values():
            for f in answer["Functions"]:
                found[("lambda", a, region, f["FunctionName"])] = {
                    "arn": f["FunctionArn"], "state": f.get("State", ""),
                    "tags": tags.get(f["FunctionName"]),
                    "attributes": {"runtime": f["Runtime"], "description": f["Description"],
                                   "memory_size": f["MemorySize"], "timeout": f["Timeout"],
                                   "handler": f["Handler"]}}
        tags = {}
        for answer in answers(a, region, "elbv2-tags").values():
            for d in answer["TagDescriptions"]:
                tags[d["ResourceArn"]] = tags_of(d["Tags"])
        attributes = {key: {x["Key"]: x["Value"] for x in v["Attributes"]}
                      for key, v in answers(a, region, "elbv2-attributes").items()}
        for answer in answers(a, region, "elbv2-balancers").values():
            for b in answer["LoadBalancers"]:
                record = {"arn": b["LoadBalancerArn"], "state": b["State"]["Code"],
                          "tags": tags.get(b["LoadBalancerArn"]),
                          "attributes": {"type": b["Type"], "scheme": b.get("Scheme")}}
                if b["LoadBalancerName"] in attributes:
                    enabled = attributes[b["LoadBalancerName"]]["deletion_protection.enabled"]
                    record["constraints"] = {"deletion_protection": enabled == "true"}
                found[("elbv2", a, region, b["LoadBalancerName"])] = record
    locations = answers(a, "us-east-1", "s3-location")
    for bucket in load(f"{out}/{a}/us-east-1/s3-buckets.all.json")["Buckets"]:
        name = bucket["Name"]
        region = (locations.get(name) or {}).get("LocationConstraint") or "us-east-1"
        region = "eu-west-1" if region == "EU" else region
        def read(kind):
            path = f"{out}/{a}/{region}/{kind}.{name}.json"
            return load(path) if os.path.exists(path) else None
        tagging = read("s3-tagging")
        record = {"state": "available",
                  "tags": None if tagging is None else tags_of(tagging.get("TagSet")),
                  "attributes": {}}
        versioning = read("s3-versioning")
        if versioning is not None:
            record["attributes"]["versioning"] = versioning.get("Status", "Disabled")
        encryption = read("s3-encryption")
        if encryption is not None:
            rules = encryption.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
            record["attributes"]["encryption"] = (
                rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] if rules else "none")
        block = read("s3-public-access-block")
        if block is not None:
            config = block.get("PublicAccessBlockConfiguration", {})
            record["attributes"]["public_access_blocked"] = bool(config) and all(config.values())
        found[("s3", a, region, name)] = record

problems = []
print()
print("== check against the manifest")
print(f"  {'service':<8} {'listed':>7} {'expected':>9} {'with tags':>10}")
for service in manifest["services"]:
    listed = [k for k in found if k[0] == service]
    tagged = sum(1 for k in listed if found[k]["tags"])
    print(f"  {service:<8} {len(listed):>7} {manifest['totals'][service]:>9} {tagged:>10}")
    if len(listed) != manifest["totals"][service]:
        problems.append(f"{service}: listed {len(listed)}, expected {manifest['totals'][service]}")
    missing_tags = [k for k in listed if found[k]["tags"] is None]
    if missing_tags:
        problems.append(f"{service}: tags not read for {len(missing_tags)}, e.g. {missing_tags[0]}")
for account in manifest["accounts"]:
    for region, expected in account["regions"].items():
        for service in manifest["services"]:
            names = sorted(k[3] for k in found if k[:3] == (service, account["name"], region))
            if names != expected["names"][service]:
                extra = sorted(set(names) - set(expected["names"][service]))
                missing = sorted(set(expected["names"][service]) - set(names))
                problems.append(f"{account['name']}/{region} {service}: {len(names)} listed, "
                                f"{len(expected['names'][service])} expected "
                                f"(missing {missing[:3]}, unexpected {extra[:3]})")
                continue
            states = dict(sorted(Counter(found[(service, account["name"], region, n)]["state"]
                                         for n in names).items()))
            if states != expected["states"][service]:
                problems.append(f"{account['name']}/{region} {service}: states {states}, "
                                f"expected {expected['states'][service]}")

checked = 0
for spot in manifest["spot_checks"]:
    key = (spot["service"], spot["account_name"], spot["region"], spot["name"])
    got = found.get(key)
    if got is None:
        problems.append(f"spot check {key}: not listed")
        continue
    checked += 1
    for field in ("id", "arn"):
        if field in got and got[field] != spot[field]:
            problems.append(f"spot check {key}: {field} {got[field]!r}, expected {spot[field]!r}")
    if got["state"] != spot["state"]:
        problems.append(f"spot check {key}: state {got['state']!r}, expected {spot['state']!r}")
    if got["tags"] != spot["tags"]:
        problems.append(f"spot check {key}: tags {got['tags']}, expected {spot['tags']}")
    for group in ("attributes", "constraints"):
        for field, value in got.get(group, {}).items():
            if field in spot[group] and spot[group][field] != value:
                problems.append(f"spot check {key}: {group}.{field} {value!r}, "
                                f"expected {spot[group][field]!r}")

print(f"  spot checks: {checked} of {len(manifest['spot_checks'])} found and compared")
if problems:
    for problem in problems:
        print(f"list-estate-awscli: {problem}", file=sys.stderr)
    print("list-estate-awscli: the listing differs from the manifest", file=sys.stderr)
    sys.exit(1)
print("  every account, region and service: exactly the manifest's resources and states")
PY

if ((!check_only)); then
    echo "RESULT mode=$mode reads=$reads calls=$calls failed=$failed wall_s=$wall cpu_s=$cpu"
fi
if ((failed || verify_status)); then
    exit 1
fi
