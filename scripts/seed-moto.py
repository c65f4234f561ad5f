#!/usr/bin/env python3
"""Seeds a running moto server with the demo estate (issue 4).

The estate is cloudops-core's built-in demo estate (crates/cloudops-core/src/demo.rs: 2,500
EC2 instances, 150 RDS DB instances with read replicas, 430 S3 buckets, 85 Lambda functions
and 22 ELBv2 load balancers), read as the JSON Lines of `cloudops estate demo`. Every record
is created in moto under its name, with its tags, state and attributes, in its account
(reached by assume-role from the base credentials) and region. Writes a JSON manifest of what
must be found (per account, region and service: counts, states and the exact names; spot
checks with full expected state and tags) and, optionally, the CloudOps `config.toml` for
this estate.

Run it with the venv's Python (scripts/fetch-aws-tools.sh installs boto3 with moto):

    ~/.cache/cloudops/venv/bin/moto_server -H 127.0.0.1 -p 5000 &
    ~/.cache/cloudops/venv/bin/python scripts/seed-moto.py \\
        --endpoint http://127.0.0.1:5000 --manifest /tmp/seed/manifest.json \\
        (--cloudops target/release/cloudops | --estate estate.jsonl | --estate -) \\
        [--config /tmp/seed/home/config.toml] [--threads 6] [--full]

Base credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default: moto's
`testing`/`testing`, i.e. account 123456789012). The server must be fresh: seeding twice into
the same server fails (bucket names are global in moto as in AWS).
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed

import boto3
from botocore.config import Config

MANIFEST_FORMAT = 1

# (name, account id). The estate's records are placed by account *name*: the demo estate's
# own ids put production in 123456789012, moto's default account, and an assume-role that
# quietly did not happen must land resources in the wrong account, so a test can fail.
ACCOUNTS = [
    ("production", "111111111111"),
    ("staging", "222222222222"),
    ("development", "333333333333"),
]
ROLE_NAME = "OrganizationAccountAccessRole"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
# Manifest service name -> the estate's resource_type.
SERVICES = {"ec2": "ec2_instance", "rds": "rds_instance", "s3": "s3_bucket",
            "lambda": "lambda_function", "elbv2": "elb_load_balancer"}
STATES = {"ec2": {"running", "stopped"}, "rds": {"available", "stopped"}, "s3": {"available"},
          "lambda": {"Active"}, "elbv2": {"active"}}
# moto's Amazon Linux image (no Platform: Linux; an `ebs` root device).
LINUX_AMI = "ami-760aaa0f"
# The smallest zip moto accepts: an empty archive (end-of-central-directory record only).
EMPTY_ZIP = b"PK\x05\x06" + b"\x00" * 18
LAMBDA_ROLE = "lambda-execution"
LAMBDA_TRUST = json.dumps({
    "Version": "2012-10-17",
    "Statement": [{
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }],
})
ENV_SHORT = {"production": "prod", "staging": "stg", "development": "dev"}

# Creates are not idempotent: a retried RunInstances whose first attempt succeeded would
# make the estate larger than the manifest says. Fail instead, loudly.
CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, read_timeout=300, connect_timeout=10)


def account_id(name):
    return dict(ACCOUNTS)[name]


# --------------------------------------------------------------------------------------------
# The plan: the estate's records, as (service, account, region) -> {name: record}.
# --------------------------------------------------------------------------------------------

def read_estate(args):
    if args.cloudops:
        try:
            done = subprocess.run([args.cloudops, "estate", "demo"], stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True)
        except OSError as error:
            raise SystemExit(f"seed-moto: cannot run {args.cloudops} ({error}); build it with "
                             "cargo build --release --bin cloudops")
        if done.returncode != 0:
            raise SystemExit(f"seed-moto: {args.cloudops} estate demo failed: {done.stderr}")
        return done.stdout.splitlines(), f"{args.cloudops} estate demo"
    if args.estate == "-":
        return sys.stdin.read().splitlines(), "stdin"
    with open(args.estate) as lines:
        return lines.read().splitlines(), args.estate


def make_plan(lines):
    """Checks every record fits what the seeder can create, and keys it by scope and name."""
    services = {v: k for k, v in SERVICES.items()}
    plan = defaultdict(dict)
    buckets = set()  # global names
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        resource = json.loads(line)
        service = services.get(resource["resource_type"])
        account, region, name = resource["account_name"], resource["region"], resource["name"]
        where = f"estate line {number} ({resource['resource_type']} {name})"
        if service is None or account not in dict(ACCOUNTS) or region not in REGIONS:
            raise SystemExit(f"seed-moto: {where}: not a service, account or region seeded "
                             f"here (services {list(SERVICES.values())}, accounts "
                             f"{[a for a, _ in ACCOUNTS]}, regions {REGIONS})")
        if resource["state"] not in STATES[service]:
            raise SystemExit(f"seed-moto: {where}: state {resource['state']!r} cannot be made")
        if name in plan[(service, account, region)] or name in buckets:
            raise SystemExit(f"seed-moto: {where}: the name is taken")
        if service == "s3":
            buckets.add(name)
        plan[(service, account, region)][name] = record(service, resource)
    for (service, account, region), scope in plan.items():
        for name, db in scope.items():
            source = db["attributes"].get("read_replica_source") if service == "rds" else None
            if source and source not in scope:
                raise SystemExit(f"seed-moto: {account}/{region} rds {name}: the source "
                                 f"{source} is not in the estate")
            if source:
                scope[source]["read_replicas"].append(name)
                scope[source]["constraints"]["has_read_replicas"] = True
    return plan


def record(service, resource):
    """What must be created and then found: state, tags, attributes and constraints in the
    shape the manifest gives them (the collector's names)."""
    attributes, constraints = resource["attributes"], resource["constraints"]
    protection = bool(constraints.get("deletion_protection"))
    out = {"state": resource["state"], "tags": resource["tags"], "constraints": {}}
    if service == "ec2":
        out["attributes"] = {"instance_type": attributes["instance_type"], "platform": "linux"}
        out["constraints"] = {"deletion_protection": protection,
                              "termination_protection": protection}
        # The demo estate's VPC id (made up) groups an instance with its fleet's siblings.
        out["fleet"] = (resource["dependencies"] or [resource["name"]])[0]
    elif service == "rds":
        out["attributes"] = {k: attributes[k] for k in
                             ("engine", "engine_version", "instance_class", "multi_az")}
        source = attributes.get("read_replica_source")
        if source:
            out["attributes"]["read_replica_source"] = source.split(":db:")[-1]
        out["constraints"] = {"deletion_protection": protection, "has_read_replicas": False,
                              "is_read_replica": bool(source),
                              "multi_az": attributes["multi_az"]}
        out["backups"] = bool(constraints.get("automated_backups_enabled"))
        out["read_replicas"] = []
    elif service == "s3":
        out["attributes"] = {k: attributes[k] for k in
                             ("versioning", "encryption", "public_access_blocked")
                             if k in attributes}
    elif service == "lambda":
        runtime = attributes["runtime"]
        out["attributes"] = {
            "runtime": runtime, "description": attributes.get("description", ""),
            "memory_size": attributes.get("memory_mb", attributes.get("memory_size", 128)),
            "timeout": attributes.get("timeout", 3), "handler": handler_of(runtime)}
    else:
        out["attributes"] = {"type": attributes["type"], "scheme": attributes["scheme"]}
        out["constraints"] = {"deletion_protection": protection}
    return out


def handler_of(runtime):
    if runtime.startswith("python"):
        return "app.handler"
    if runtime.startswith("nodejs"):
        return "index.handler"
    if runtime.startswith("java"):
        return "com.example.Handler::handleRequest"
    return "bootstrap"


# --------------------------------------------------------------------------------------------
# Seeding: one job per (account, region, service), run on a thread pool.
# --------------------------------------------------------------------------------------------

def tag_list(tags):
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


class Seeder:
    def __init__(self, endpoint, plan):
        self.endpoint = endpoint
        self.plan = plan
        self.credentials = {}  # account name -> assumed-role credentials
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.created = {}  # (service, account, region, name) -> details learnt from moto
        self.calls = Counter()

    def log(self, message):
        with self.lock:
            print(f"[{time.monotonic() - self.started:7.1f}s] {message}", flush=True)

    def note(self, key, value):
        with self.lock:
            self.created[key] = value

    def count(self, operation, n=1):
        with self.lock:
            self.calls[operation] += n

    def client(self, service, account, region):
        # A session per client: boto3 sessions are not thread-safe, clients are.
        creds = self.credentials[account]
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=region,
        )
        return session.client(service, endpoint_url=self.endpoint, config=CLIENT_CONFIG)

    def assume_roles(self, base_key, base_secret):
        sts = boto3.session.Session(
            aws_access_key_id=base_key, aws_secret_access_key=base_secret,
            region_name="us-east-1",
        ).client("sts", endpoint_url=self.endpoint, config=CLIENT_CONFIG)
        base_account = sts.get_caller_identity()["Account"]
        for name, number in ACCOUNTS:
            role_arn = f"arn:aws:iam::{number}:role/{ROLE_NAME}"
            self.credentials[name] = sts.assume_role(
                RoleArn=role_arn, RoleSessionName="cloudops-seed")["Credentials"]
            seen = self.client("sts", name, "us-east-1").get_caller_identity()["Account"]
            if seen != number:
                raise SystemExit(f"seed-moto: assumed {role_arn} but act as {seen}")
            self.count("sts:AssumeRole")
        return base_account

    # EC2 --------------------------------------------------------------------------------

    def seed_ec2(self, account, region):
        records = self.plan.get(("ec2", account, region), {})
        fleets = defaultdict(list)  # in the estate's order
        for name, instance in records.items():
            fleets[(instance["fleet"], instance["attributes"]["instance_type"])].append(name)
        ec2 = self.client("ec2", account, region)
        subnets = ec2.describe_subnets(
            Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        subnets = [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])]
        ids_by_name, reservations = {}, 0
        for number, ((_, instance_type), names) in enumerate(fleets.items()):
            common = {"ImageId": LINUX_AMI, "InstanceType": instance_type,
                      "SubnetId": subnets[number % len(subnets)]}
            # Three fleets in five are one reservation; the others (like an Auto Scaling
            # group's launches) one reservation per instance, so DescribeInstances really pages.
            if number % 5 < 3 and len(names) > 1:
                answer = ec2.run_instances(MinCount=len(names), MaxCount=len(names), **common)
                self.count("ec2:RunInstances")
                reservations += 1
                for name, instance in zip(names, answer["Instances"]):
                    ec2.create_tags(Resources=[instance["InstanceId"]],
                                    Tags=tag_list(records[name]["tags"]))
                    self.count("ec2:CreateTags")
                    ids_by_name[name] = instance["InstanceId"]
            else:
                for name in names:
                    tags = [{"ResourceType": "instance", "Tags": tag_list(records[name]["tags"])}]
                    answer = ec2.run_instances(MinCount=1, MaxCount=1, TagSpecifications=tags,
                                               **common)
                    self.count("ec2:RunInstances")
                    reservations += 1
                    ids_by_name[name] = answer["Instances"][0]["InstanceId"]
        for name, instance_id in ids_by_name.items():
            # moto 5.2.5's RunInstances ignores DisableApiTermination (AWS honours it);
            # ModifyInstanceAttribute does set it.
            if records[name]["constraints"]["termination_protection"]:
                ec2.modify_instance_attribute(InstanceId=instance_id,
                                              DisableApiTermination={"Value": True})
                self.count("ec2:ModifyInstanceAttribute")
        stop = [ids_by_name[n] for n, r in records.items() if r["state"] == "stopped"]
        for batch in chunks(stop, 200):
            ec2.stop_instances(InstanceIds=batch)
            self.count("ec2:StopInstances")
        for name, instance_id in ids_by_name.items():
            self.note(("ec2", account, region, name), {"id": instance_id})
        self.note(("ec2-reservations", account, region, None), reservations)
        return (f"{len(ids_by_name)} instances in {reservations} reservations "
                f"({len(stop)} stopped)")

    # RDS --------------------------------------------------------------------------------

    def seed_rds(self, account, region):
        rds = self.client("rds", account, region)
        records = self.plan.get(("rds", account, region), {})
        # Primaries first: a replica needs its source.
        ordered = sorted(records, key=lambda n: "read_replica_source" in records[n]["attributes"])
        for name in ordered:
            db = records[name]
            attributes, tags = db["attributes"], tag_list(db["tags"])
            protection = db["constraints"]["deletion_protection"]
            if "read_replica_source" in attributes:
                answer = rds.create_db_instance_read_replica(
                    DBInstanceIdentifier=name,
                    SourceDBInstanceIdentifier=attributes["read_replica_source"],
                    DBInstanceClass=attributes["instance_class"], MultiAZ=attributes["multi_az"],
                    DeletionProtection=protection, Tags=tags)
                self.count("rds:CreateDBInstanceReadReplica")
            else:
                answer = rds.create_db_instance(
                    DBInstanceIdentifier=name, Engine=attributes["engine"],
                    EngineVersion=attributes["engine_version"],
                    DBInstanceClass=attributes["instance_class"], AllocatedStorage=100,
                    MasterUsername="dbadmin", MasterUserPassword="not-a-real-password",
                    MultiAZ=attributes["multi_az"], DeletionProtection=protection,
                    BackupRetentionPeriod=7 if db["backups"] else 0, Tags=tags)
                self.count("rds:CreateDBInstance")
            self.note(("rds", account, region, name),
                      {"arn": answer["DBInstance"]["DBInstanceArn"]})
        stopped = [n for n in ordered if records[n]["state"] == "stopped"]
        for name in stopped:
            rds.stop_db_instance(DBInstanceIdentifier=name)
            self.count("rds:StopDBInstance")
        return f"{len(records)} DB instances ({len(stopped)} stopped)"

    # S3 ---------------------------------------------------------------------------------

    def seed_s3(self, account, region):
        s3 = self.client("s3", account, region)
        records = self.plan.get(("s3", account, region), {})
        for name, bucket in records.items():
            attributes = bucket["attributes"]
            if region == "us-east-1":
                s3.create_bucket(Bucket=name)
            else:
                s3.create_bucket(Bucket=name,
                                 CreateBucketConfiguration={"LocationConstraint": region})
            self.count("s3:CreateBucket")
            if bucket["tags"]:
                s3.put_bucket_tagging(Bucket=name,
                                      Tagging={"TagSet": tag_list(bucket["tags"])})
                self.count("s3:PutBucketTagging")
            if attributes.get("versioning", "Disabled") != "Disabled":
                s3.put_bucket_versioning(
                    Bucket=name, VersioningConfiguration={"Status": attributes["versioning"]})
                self.count("s3:PutBucketVersioning")
            if attributes.get("encryption", "none") != "none":
                rule = {"SSEAlgorithm": attributes["encryption"]}
                if attributes["encryption"] == "aws:kms":
                    rule["KMSMasterKeyID"] = "alias/aws/s3"
                s3.put_bucket_encryption(
                    Bucket=name,
                    ServerSideEncryptionConfiguration={
                        "Rules": [{"ApplyServerSideEncryptionByDefault": rule}]})
                self.count("s3:PutBucketEncryption")
            if attributes.get("public_access_blocked"):
                s3.put_public_access_block(
                    Bucket=name,
                    PublicAccessBlockConfiguration={
                        "BlockPublicAcls": True, "IgnorePublicAcls": True,
                        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
                self.count("s3:PutPublicAccessBlock")
        return f"{len(records)} buckets"

    # Lambda -----------------------------------------------------------------------------

    def create_lambda_role(self, account):
        iam = self.client("iam", account, "us-east-1")
        arn = iam.create_role(RoleName=LAMBDA_ROLE,
                              AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        self.count("iam:CreateRole")
        return arn

    def seed_lambda(self, account, region, role_arn):
        client = self.client("lambda", account, region)
        records = self.plan.get(("lambda", account, region), {})
        for name, function in records.items():
            attributes = function["attributes"]
            extra = {"Tags": function["tags"]} if function["tags"] else {}
            answer = client.create_function(
                FunctionName=name, Runtime=attributes["runtime"], Role=role_arn,
                Handler=attributes["handler"], Code={"ZipFile": EMPTY_ZIP},
                Description=attributes["description"], MemorySize=attributes["memory_size"],
                Timeout=attributes["timeout"], **extra)
            self.count("lambda:CreateFunction")
            self.note(("lambda", account, region, name), {"arn": answer["FunctionArn"]})
        return f"{len(records)} functions"

    # ELBv2 ------------------------------------------------------------------------------

    def seed_elbv2(self, account, region):
        records = self.plan.get(("elbv2", account, region), {})
        if not records:
            return "0 load balancers"
        ec2 = self.client("ec2", account, region)
        elbv2 = self.client("elbv2", account, region)
        number = [n for n, _ in ACCOUNTS].index(account) * 10 + REGIONS.index(region)
        vpc = ec2.create_vpc(CidrBlock=f"10.{100 + number}.0.0/16",
                             TagSpecifications=[{"ResourceType": "vpc", "Tags": [
                                 {"Key": "Name", "Value": f"apps-{ENV_SHORT[account]}"}]}]
                             )["Vpc"]["VpcId"]
        zones = sorted(z["ZoneName"] for z in
                       ec2.describe_availability_zones()["AvailabilityZones"])[:3]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{100 + number}.{i}.0/24",
                              AvailabilityZone=zone)["Subnet"]["SubnetId"]
            for i, zone in enumerate(zones)
        ]
        self.count("ec2:CreateVpc")
        self.count("ec2:CreateSubnet", len(subnets))
        for name, balancer in records.items():
            # Scheme explicitly: moto omits it from DescribeLoadBalancers otherwise.
            answer = elbv2.create_load_balancer(
                Name=name, Subnets=subnets[:2], Scheme=balancer["attributes"]["scheme"],
                Type=balancer["attributes"]["type"], Tags=tag_list(balancer["tags"]))
            self.count("elbv2:CreateLoadBalancer")
            arn = answer["LoadBalancers"][0]["LoadBalancerArn"]
            if balancer["constraints"]["deletion_protection"]:
                elbv2.modify_load_balancer_attributes(
                    LoadBalancerArn=arn,
                    Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}])
                self.count("elbv2:ModifyLoadBalancerAttributes")
            self.note(("elbv2", account, region, name),
                      {"arn": arn, "vpc_id": vpc, "subnet_ids": sorted(subnets[:2])})
        # moto creates balancers `provisioning` and turns them `active` on the first
        # DescribeLoadBalancers: settle them now, so every reader sees the same state.
        elbv2.describe_load_balancers()
        self.count("elbv2:DescribeLoadBalancers")
        return f"{len(records)} load balancers"

    # Checking what moto holds -----------------------------------------------------------

    def census(self, account, region):
        """Counts what moto returns in one scope, with the same reads a sync makes."""
        found = {}
        ec2 = self.client("ec2", account, region)
        names, states = [], Counter()
        for page in ec2.get_paginator("describe_instances").paginate():
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                    names.append(tags.get("Name", instance["InstanceId"]))
                    states[instance["State"]["Name"]] += 1
        found["ec2"] = (sorted(names), states)
        rds = self.client("rds", account, region)
        names, states = [], Counter()
        for page in rds.get_paginator("describe_db_instances").paginate():
            for db in page["DBInstances"]:
                names.append(db["DBInstanceIdentifier"])
                states[db["DBInstanceStatus"]] += 1
        found["rds"] = (sorted(names), states)
        client = self.client("lambda", account, region)
        names, states = [], Counter()
        for page in client.get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                names.append(function["FunctionName"])
                states[function.get("State", "")] += 1
        found["lambda"] = (sorted(names), states)
        elbv2 = self.client("elbv2", account, region)
        names, states = [], Counter()
        for page in elbv2.get_paginator("describe_load_balancers").paginate():
            for balancer in page["LoadBalancers"]:
                names.append(balancer["LoadBalancerName"])
                states[balancer["State"]["Code"]] += 1
        found["elbv2"] = (sorted(names), states)
        return found

    def bucket_census(self, account):
        s3 = self.client("s3", account, "us-east-1")
        by_region = defaultdict(list)
        for bucket in s3.list_buckets()["Buckets"]:
            location = s3.get_bucket_location(Bucket=bucket["Name"])["LocationConstraint"]
            by_region[location or "us-east-1"].append(bucket["Name"])
        return by_region


# --------------------------------------------------------------------------------------------
# Manifest and config
# --------------------------------------------------------------------------------------------

def arn_of(service, account, region, name, learnt):
    number = account_id(account)
    if service == "ec2":
        return f"arn:aws:ec2:{region}:{number}:instance/{learnt['id']}"
    if service == "s3":
        return f"arn:aws:s3:::{name}"
    return learnt["arn"]


def spot_check_keys(plan):
    """A few resources of every kind and corner, chosen deterministically and spread over
    the accounts and regions."""
    keys = [("rds", "production", "us-west-2", "pg-instance-main1")]

    def of(service):
        return [(scope, name, record) for scope, names in sorted(plan.items())
                if scope[0] == service for name, record in sorted(names.items())]

    def pick(items, test, account=None, region=None):
        # Prefer the given account and region, then any region of the account, then any.
        tiers = [[i for i in items if i[0][1] == account and i[0][2] == region],
                 [i for i in items if i[0][1] == account], items]
        for tier in tiers if account else [items]:
            for scope, name, record in tier:
                if test(record):
                    return scope, name
        return None

    def attribute(key):
        return lambda r: r["attributes"].get(key)

    ec2, rds, s3, lam, elb = of("ec2"), of("rds"), of("s3"), of("lambda"), of("elbv2")
    wanted = []
    for number, (account, _) in enumerate(ACCOUNTS):
        # Each account's checks in a different region, and again shifted per service.
        at = lambda shift: (account, REGIONS[(number + shift) % len(REGIONS)])  # noqa: E731
        wanted += [
            pick(ec2, lambda r: r["state"] == "stopped", *at(0)),
            pick(ec2, lambda r: r["state"] == "running" and "cost-center" in r["tags"], *at(1)),
            pick(s3, lambda r: r["tags"] and attribute("versioning")(r) == "Enabled", *at(2)),
            pick(lam, lambda r: r["tags"], *at(0)),
            pick(elb, lambda r: True, *at(1)),
            pick(rds, lambda r: not r["constraints"]["is_read_replica"], *at(2)),
        ]
    wanted += [
        pick(ec2, lambda r: r["constraints"]["termination_protection"], "production",
             "us-east-1"),
        pick(ec2, lambda r: not r["constraints"]["termination_protection"], "staging",
             "us-west-2"),
        pick(rds, lambda r: len(r["read_replicas"]) == 2, "production", "us-east-1"),
        pick(rds, lambda r: len(r["read_replicas"]) == 1, "production", "us-west-2"),
        pick(rds, lambda r: r["state"] == "stopped", "development", "us-east-1"),
        pick(rds, lambda r: attribute("engine")(r) == "mysql", "staging", "eu-west-1"),
        pick(rds, lambda r: attribute("engine")(r) == "aurora-postgresql", "staging",
             "us-west-2"),
        pick(rds, lambda r: attribute("engine")(r) == "mariadb", "development", "eu-west-1"),
        pick(s3, lambda r: not r["tags"], "staging", "us-east-1"),
        pick(s3, lambda r: attribute("versioning")(r) == "Suspended", "development",
             "us-west-2"),
        pick(s3, lambda r: attribute("versioning")(r) in (None, "Disabled"), "development",
             "eu-west-1"),
        pick(s3, lambda r: r["tags"].get("purpose") == "database-backups", "production",
             "us-west-2"),
        pick(lam, lambda r: not r["tags"], "development", "us-east-1"),
        pick(elb, lambda r: r["attributes"]["type"] == "network", "staging", "us-east-1"),
        pick(elb, lambda r: r["attributes"]["scheme"] == "internal", "development",
             "us-west-2"),
    ]
    for item in wanted:
        if item is None:
            continue
        (service, account, region), name = item
        key = (service, account, region, name)
        if key not in keys:
            keys.append(key)
    # Read replicas are checked with their primary.
    for service, account, region, name in list(keys):
        if service == "rds":
            record = plan[("rds", account, region)][name]
            source = record["attributes"].get("read_replica_source")
            for other in ([source] if source else []) + record["read_replicas"]:
                if ("rds", account, region, other) not in keys:
                    keys.append(("rds", account, region, other))
    return keys


def build_manifest(plan, seeder, source, base_account, include_all):
    accounts = []
    for name, number in ACCOUNTS:
        regions = {}
        for region in REGIONS:
            counts, states, names = {}, {}, {}
            for service in SERVICES:
                scope = plan.get((service, name, region), {})
                counts[service] = len(scope)
                states[service] = dict(sorted(Counter(r["state"] for r in scope.values()).items()))
                names[service] = sorted(scope)
            regions[region] = {
                "counts": counts,
                "states": states,
                "ec2_reservations": seeder.created.get(("ec2-reservations", name, region, None), 0),
                "names": names,
            }
        totals = {s: sum(regions[r]["counts"][s] for r in REGIONS) for s in SERVICES}
        accounts.append({
            "name": name,
            "id": number,
            "role_arn": f"arn:aws:iam::{number}:role/{ROLE_NAME}",
            "totals": totals,
            "regions": regions,
        })

    def full_record(key):
        service, account, region, name = key
        record = plan[(service, account, region)][name]
        learnt = seeder.created.get(key, {})
        out = {
            "service": service, "account_id": account_id(account), "account_name": account,
            "region": region, "name": name,
            "id": learnt.get("id", name),
            "arn": arn_of(service, account, region, name, learnt),
            "state": record["state"], "tags": record["tags"],
            "attributes": dict(record["attributes"]),
            "constraints": dict(record["constraints"]),
        }
        if service == "rds":
            # As ARNs, like the collector's `read_replica_source` and `read_replicas`.
            db_arn = f"arn:aws:rds:{region}:{account_id(account)}:db:"
            source = out["attributes"].get("read_replica_source")
            if source:
                out["attributes"]["read_replica_source"] = db_arn + source
            out["attributes"]["read_replicas"] = [db_arn + r for r in record["read_replicas"]]
        if service == "elbv2":
            out["attributes"]["vpc_id"] = learnt["vpc_id"]
            out["attributes"]["subnet_ids"] = learnt["subnet_ids"]
        return out

    manifest = {
        "format": MANIFEST_FORMAT,
        "generator": "scripts/seed-moto.py",
        "estate": source,
        "base_account_id": base_account,
        "regions": REGIONS,
        "services": list(SERVICES),
        "totals": {s: sum(a["totals"][s] for a in accounts) for s in SERVICES},
        "accounts": accounts,
        "spot_checks": [full_record(k) for k in spot_check_keys(plan)],
    }
    if include_all:
        manifest["resources"] = [
            full_record((service, account, region, name))
            for (service, account, region), scope in sorted(plan.items())
            for name in sorted(scope)
        ]
    return manifest


def write_config(path, endpoint):
    lines = [
        "# CloudOps client configuration for the seed estate that scripts/seed-moto.py created",
        f"# in moto at {endpoint}. The endpoint is not part of the file: point the client at it",
        f"# with AWS_ENDPOINT_URL={endpoint} and moto's base credentials",
        "# (AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing).",
        "",
    ]
    for name, number in ACCOUNTS:
        regions = ", ".join(f'"{r}"' for r in REGIONS)
        lines += [
            "[[accounts]]",
            f'name = "{name}"',
            f'role_arn = "arn:aws:iam::{number}:role/{ROLE_NAME}"',
            f"regions = [{regions}]",
            "",
        ]
    write_file(path, "\n".join(lines))


def write_file(path, text):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    temporary = f"{path}.tmp"
    with open(temporary, "w") as out:
        out.write(text)
    os.replace(temporary, path)


# --------------------------------------------------------------------------------------------

def check(seeder, plan, threads):
    """Reads everything back: the manifest must describe what moto holds, not what was asked."""
    census, buckets, problems = {}, {}, []
    with ThreadPoolExecutor(max_workers=threads) as pool:
        scope_futures = {pool.submit(seeder.census, a, r): (a, r)
                         for a, _ in ACCOUNTS for r in REGIONS}
        bucket_futures = {pool.submit(seeder.bucket_census, a): a for a, _ in ACCOUNTS}
        for future, scope in scope_futures.items():
            census[scope] = future.result()
        for future, account in bucket_futures.items():
            buckets[account] = future.result()
    for account, _ in ACCOUNTS:
        for region in REGIONS:
            found = dict(census[(account, region)])
            found["s3"] = (sorted(buckets[account].get(region, [])), None)
            for service in SERVICES:
                want = plan.get((service, account, region), {})
                names, states = found[service]
                if names != sorted(want):
                    problems.append(f"{account}/{region} {service}: moto has {len(names)}, "
                                    f"planned {len(want)}")
                elif states is not None and states != Counter(r["state"] for r in want.values()):
                    problems.append(f"{account}/{region} {service}: states {dict(states)}")
    if not problems:
        # Termination protection is not in DescribeInstances: read it for the spot checks.
        for service, account, region, name in spot_check_keys(plan):
            if service != "ec2":
                continue
            instance_id = seeder.created[(service, account, region, name)]["id"]
            answer = seeder.client("ec2", account, region).describe_instance_attribute(
                InstanceId=instance_id, Attribute="disableApiTermination")
            want = plan[(service, account, region)][name]["constraints"]["termination_protection"]
            if answer["DisableApiTermination"]["Value"] != want:
                problems.append(f"{account}/{region} ec2 {name}: termination protection "
                                f"{answer['DisableApiTermination']['Value']}, planned {want}")
    if problems:
        for problem in problems:
            print(f"seed-moto: {problem}", file=sys.stderr)
        raise SystemExit("seed-moto: moto does not hold the planned estate")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="the moto server, http://HOST:PORT")
    parser.add_argument("--manifest", required=True, help="where to write the JSON manifest")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--cloudops", metavar="BIN",
                        help="the cloudops binary: the estate is `BIN estate demo`")
    source.add_argument("--estate", metavar="FILE",
                        help="the estate as JSON Lines of Resource (`-`: standard input)")
    parser.add_argument("--config", help="where to write the CloudOps config.toml")
    parser.add_argument("--threads", type=int, default=6, help="concurrent jobs (default 6)")
    parser.add_argument("--full", action="store_true",
                        help="also list every resource with its expected state and tags")
    args = parser.parse_args()

    started = time.monotonic()
    lines, source = read_estate(args)
    plan = make_plan(lines)
    total = sum(len(scope) for scope in plan.values())

    seeder = Seeder(args.endpoint, plan)
    base_key = os.environ.get("AWS_ACCESS_KEY_ID", "testing")
    base_secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        base_account = seeder.assume_roles(base_key, base_secret)
    except Exception as error:  # noqa: BLE001 - the message says what to do
        raise SystemExit(f"seed-moto: cannot reach moto at {args.endpoint} ({error}); "
                         "start it with ~/.cache/cloudops/venv/bin/moto_server -H 127.0.0.1 "
                         "-p PORT")
    seeder.log(f"{total} resources from {source}; assumed {ROLE_NAME} in {len(ACCOUNTS)} "
               f"accounts from base account {base_account}")
    lambda_roles = {name: seeder.create_lambda_role(name) for name, _ in ACCOUNTS}

    # The largest jobs first, so the pool does not end waiting on one long EC2 job.
    jobs = []
    for account, _ in ACCOUNTS:
        for region in REGIONS:
            for service in SERVICES:
                function = getattr(seeder, f"seed_{service}")
                extra = (lambda_roles[account],) if service == "lambda" else ()
                size = len(plan.get((service, account, region), {})) if service == "ec2" else 0
                jobs.append((size, service, account, region, function, extra))
    jobs.sort(key=lambda job: -job[0])
    failures = 0
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        futures = {
            pool.submit(function, account, region, *extra): (service, account, region)
            for _, service, account, region, function, extra in jobs
        }
        for future in as_completed(futures):
            service, account, region = futures[future]
            try:
                seeder.log(f"{account}/{region} {service}: {future.result()}")
            except Exception as error:  # noqa: BLE001 - reported, then exit non-zero
                failures += 1
                seeder.log(f"{account}/{region} {service}: FAILED: {error}")
    if failures:
        raise SystemExit(f"seed-moto: {failures} jobs failed; the estate is incomplete "
                         "(restart moto before seeding again)")
    seeded = time.monotonic() - started
    seeder.log(f"seeded {total} resources with {sum(seeder.calls.values())} "
               f"API calls in {seeded:.1f}s")

    check(seeder, plan, args.threads)
    seeder.log("read back: every account, region and service holds exactly the planned "
               "resources and states (and the spot checks' termination protection)")

    manifest = build_manifest(plan, seeder, source, base_account, args.full)
    write_file(args.manifest, json.dumps(manifest, indent=1, sort_keys=False) + "\n")
    if args.config:
        write_config(args.config, args.endpoint)
    print(f"manifest: {args.manifest}" + (f"\nconfig:   {args.config}" if args.config else ""))
    for account in manifest["accounts"]:
        totals = ", ".join(f"{s} {n}" for s, n in account["totals"].items())
        print(f"  {account['name']:<12} {account['id']}  {totals}")
    print("calls: " + ", ".join(f"{op} {n}" for op, n in sorted(seeder.calls.items())))
    print(f"seed time: {seeded:.1f}s (total with read-back {time.monotonic() - started:.1f}s)")


if __name__ == "__main__":
    main()
