#!/usr/bin/env python3
"""Seeds a running moto server with the design's seed-sized estate (issue 4).

2,500 EC2 instances, 150 RDS DB instances (read replicas included), 430 S3 buckets,
85 Lambda functions and 22 ELBv2 load balancers, spread deterministically (fixed seed) over
three accounts reached by assume-role from the base credentials and three regions. Writes a
JSON manifest of what must be found (per account, region and service: counts, states and the
exact names; spot checks with full expected state and tags) and, optionally, the CloudOps
`config.toml` for this estate.

Run it with the venv's Python (scripts/fetch-aws-tools.sh installs boto3 with moto):

    ~/.cache/cloudops/venv/bin/moto_server -H 127.0.0.1 -p 5000 &
    ~/.cache/cloudops/venv/bin/python scripts/seed-moto.py \\
        --endpoint http://127.0.0.1:5000 --manifest /tmp/seed/manifest.json \\
        [--config /tmp/seed/home/config.toml] [--seed 7] [--threads 6] [--full]

Base credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default: moto's
`testing`/`testing`, i.e. account 123456789012). The server must be fresh: seeding twice into
the same server fails (bucket names are global in moto as in AWS).
"""

import argparse
import json
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed

import boto3
from botocore.config import Config

MANIFEST_FORMAT = 1

# (name, account id). Not moto's default account (123456789012): an assume-role that quietly
# did not happen must land resources in the wrong account, so a test can fail.
ACCOUNTS = [
    ("production", "111111111111"),
    ("staging", "222222222222"),
    ("development", "333333333333"),
]
ROLE_NAME = "OrganizationAccountAccessRole"
REGIONS = ["us-east-1", "us-west-2", "eu-west-1"]
TOTALS = {"ec2": 2500, "rds": 150, "s3": 430, "lambda": 85, "elbv2": 22}
SERVICES = list(TOTALS)

APPS = [
    "checkout", "payments", "orders", "inventory", "search", "catalog", "auth", "billing",
    "notifications", "analytics", "reporting", "recommendations", "shipping", "cart", "users",
    "gateway", "ledger", "fraud", "pricing", "media", "loyalty", "reviews", "returns",
]
ROLES = ["web", "api", "worker", "batch", "cache", "consumer", "scheduler"]
TEAMS = ["core", "platform", "data", "growth", "sre", "commerce", "identity"]
OWNERS = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
]
INSTANCE_TYPES = ["t3.micro", "t3.medium", "m5.large", "m5.xlarge", "c5.2xlarge", "r5.large"]
# moto's built-in images: Amazon Linux and Ubuntu report no Platform (Linux), the Windows
# image reports Platform=windows. moto reports an `ebs` root device for all of them.
LINUX_AMIS = ["ami-760aaa0f", "ami-785db401"]
WINDOWS_AMI = "ami-12c6146b"
DB_CLASSES = ["db.t3.medium", "db.r5.large", "db.r6g.xlarge", "db.m5.large", "db.r5.2xlarge"]
DB_ENGINES = [("postgres", "pg", ["14.7", "15.4", "16.1"]), ("mysql", "mysql", ["8.0.35"])]
BUCKET_PURPOSES = [
    "assets", "logs", "uploads", "exports", "backups", "artifacts", "reports", "media",
    "config", "archive", "data", "tmp",
]
LAMBDA_VERBS = [
    ("sync", "Synchronizes {app} records with the downstream store"),
    ("cleanup", "Deletes expired {app} records every hour"),
    ("notify", "Sends {app} notifications to subscribers"),
    ("export", "Exports {app} data to the reporting bucket"),
    ("validate", "Validates incoming {app} events before processing"),
    ("aggregate", "Aggregates {app} metrics into daily rollups"),
    ("reindex", "Rebuilds the {app} search index from the primary database"),
]
LAMBDA_RUNTIMES = ["python3.12", "nodejs20.x", "java21", "provided.al2023"]
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
ENV_SPELLINGS = {
    "production": ["prod", "production", "prod"],
    "staging": ["staging", "stg"],
    "development": ["dev", "development"],
}
REGION_SHORT = {"us-east-1": "use1", "us-west-2": "usw2", "eu-west-1": "euw1"}

# Creates are not idempotent: a retried RunInstances whose first attempt succeeded would
# make the estate larger than the manifest says. Fail instead, loudly.
CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, read_timeout=300, connect_timeout=10)


# --------------------------------------------------------------------------------------------
# The plan: every resource, decided up front from the seed alone.
# --------------------------------------------------------------------------------------------

class Plan:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.ec2_fleets = []  # dicts, see add_fleet
        self.rds = []  # dicts in creation order (a replica after its primary)
        self.s3 = []
        self.lambdas = []
        self.elbs = []
        self.names = defaultdict(set)  # (service, account, region) -> names

    def claim(self, service, account, region, name):
        taken = self.names[(service, account, region)]
        if name in taken:
            return False
        taken.add(name)
        return True

    def base_tags(self, app, account):
        rng = self.rng
        tags = {
            "env": rng.choice(ENV_SPELLINGS[account]),
            "service": app,
            "team": rng.choice(TEAMS),
            "owner": f"{rng.choice(OWNERS)}@example.com",
        }
        if rng.random() < 0.4:
            tags["cost-center"] = f"cc-{100 + rng.randrange(40)}"
        return tags


def account_id(name):
    return dict(ACCOUNTS)[name]


def make_plan(seed):
    plan = Plan(seed)
    add_landmarks(plan)
    add_ec2(plan, TOTALS["ec2"] - sum(len(f["names"]) for f in plan.ec2_fleets))
    add_rds(plan, TOTALS["rds"] - len(plan.rds))
    add_s3(plan, TOTALS["s3"] - len(plan.s3))
    add_lambda(plan, TOTALS["lambda"] - len(plan.lambdas))
    add_elb(plan, TOTALS["elbv2"] - len(plan.elbs))
    return plan


def add_landmarks(plan):
    """Hand-written resources shared with the built-in demo estate (cloudops-core demo.rs)."""
    # The design's example: a Multi-AZ production Postgres 14.7 in us-west-2 with no replicas.
    plan.claim("rds", "production", "us-west-2", "pg-instance-main1")
    plan.rds.append({
        "account": "production", "region": "us-west-2", "name": "pg-instance-main1",
        "engine": "postgres", "engine_version": "14.7", "instance_class": "db.r5.xlarge",
        "multi_az": True, "deletion_protection": True, "backup_retention": 7,
        "storage": 200, "state": "available", "replica_of": None, "replicas": [],
        "tags": {"Name": "pg-instance-main1", "environment": "production", "app": "main",
                 "team": "core", "owner": "dba@example.com"},
    })
    plan.claim("rds", "production", "us-east-1", "analytics-warehouse-pg")
    plan.rds.append({
        "account": "production", "region": "us-east-1", "name": "analytics-warehouse-pg",
        "engine": "postgres", "engine_version": "15.4", "instance_class": "db.r6g.4xlarge",
        "multi_az": True, "deletion_protection": True, "backup_retention": 14,
        "storage": 1000, "state": "available", "replica_of": None, "replicas": [],
        "tags": {"env": "prod", "app": "analytics", "purpose": "data-warehouse",
                 "team": "data"},
    })
    buckets = [
        ("acme-pg-dumps-prod", "us-west-2", {"purpose": "database-backups", "app": "main"}),
        ("acme-ml-training-datasets", "us-east-1",
         {"purpose": "machine-learning", "team": "data"}),
        ("acme-cdn-static-assets-prod", "us-east-1",
         {"purpose": "website-static-content", "app": "web"}),
        ("acme-invoices-archive", "eu-west-1",
         {"purpose": "invoice-pdf-archive", "app": "billing"}),
        ("acme-terraform-state", "us-west-2",
         {"purpose": "infrastructure-as-code-state", "team": "platform"}),
        ("acme-cloudtrail-audit-logs", "us-east-1",
         {"purpose": "security-audit-trail", "team": "security"}),
        ("acme-customer-support-attachments", "us-west-2",
         {"purpose": "support-ticket-files", "app": "support"}),
    ]
    for name, region, tags in buckets:
        plan.claim("s3", "all", "global", name)
        plan.s3.append({
            "account": "production", "region": region, "name": name,
            "tags": dict(tags, env="prod"), "versioning": "Enabled", "encryption": "aws:kms",
            "public_access_blocked": True,
        })
    functions = [
        ("img-thumbnailer-prod", "Generates thumbnails for uploaded product photos",
         "nodejs20.x"),
        ("orders-refund-processor-prod", "Processes refund requests from the orders queue",
         "python3.12"),
        ("nightly-cost-report", "Emails the nightly AWS cost report to the finance team",
         "python3.12"),
        ("user-signup-welcome-email", "Sends a welcome email to new users after they register",
         "nodejs20.x"),
        ("stripe-webhook-handler", "Receives payment webhooks from Stripe and records them",
         "provided.al2023"),
        ("log-shipper-elastic", "Ships CloudWatch log groups to the Elasticsearch cluster",
         "python3.12"),
        ("pdf-invoice-renderer", "Renders customer invoices as PDF documents", "java21"),
        ("fraud-score-model", "Scores transactions for fraud with the latest ML model",
         "python3.12"),
        ("slack-oncall-pager", "Posts on-call alerts to the incident Slack channel",
         "nodejs20.x"),
        ("db-snapshot-pruner", "Deletes RDS snapshots older than thirty days", "python3.12"),
    ]
    for name, description, runtime in functions:
        plan.claim("lambda", "production", "us-west-2", name)
        plan.lambdas.append({
            "account": "production", "region": "us-west-2", "name": name,
            "description": description, "runtime": runtime, "memory": 512, "timeout": 60,
            "tags": {"env": "production", "team": "platform"},
        })
    hosts = [
        ("jenkins-ci-master", "us-west-2", "continuous-integration"),
        ("bastion-prod-use1", "us-east-1", "ssh-jump-host"),
        ("vpn-gateway-prod", "us-west-2", "openvpn-endpoint"),
        ("grafana-monitoring", "us-west-2", "dashboards"),
        ("kafka-broker-prod-1", "us-east-1", "event-streaming"),
        ("kafka-broker-prod-2", "us-east-1", "event-streaming"),
    ]
    for name, region, purpose in hosts:
        plan.claim("ec2", "production", region, name)
        plan.ec2_fleets.append({
            "account": "production", "region": region, "names": [name], "launch": "single",
            "instance_type": "m5.large", "ami": LINUX_AMIS[0], "az": 0,
            "tags": {"env": "prod", "purpose": purpose, "team": "sre"},
            "termination_protection": True, "stopped": [],
        })


def add_ec2(plan, total):
    rng = plan.rng
    made = 0
    while made < total:
        # A fleet: one app, role, account and region, with numbered siblings.
        app, role = rng.choice(APPS), rng.choice(ROLES)
        account = rng.choice(ACCOUNTS)[0]
        region = rng.choice(REGIONS)
        size = min(2 + rng.randrange(24 if account == "production" else 8), total - made)
        env = ENV_SHORT[account]
        hint = f"-{REGION_SHORT[region]}" if rng.random() < 0.3 else ""
        names, number = [], 1
        while len(names) < size:
            name = f"{app}-{role}-{env}{hint}-{number:02d}"
            number += 1
            if plan.claim("ec2", account, region, name):
                names.append(name)
        stop_chance = 0.04 if account == "production" else 0.2
        tags = plan.base_tags(app, account)
        tags["role"] = role
        plan.ec2_fleets.append({
            "account": account, "region": region, "names": names,
            # Batches are one reservation; "single" fleets (like an Auto Scaling group's
            # launches) are one reservation per instance, so DescribeInstances really pages.
            "launch": "batch" if rng.random() < 0.6 else "single",
            "instance_type": rng.choice(INSTANCE_TYPES),
            "ami": WINDOWS_AMI if rng.random() < 0.08 else rng.choice(LINUX_AMIS),
            "az": rng.randrange(3),
            "tags": tags,
            "termination_protection": account == "production" and rng.random() < 0.3,
            "stopped": [n for n in names if rng.random() < stop_chance],
        })
        made += size


def add_rds(plan, total):
    rng = plan.rng
    made = 0
    attempts = 0
    while made < total:
        attempts += 1
        app = rng.choice(APPS)
        engine, short, versions = rng.choice(DB_ENGINES)
        account = rng.choice(ACCOUNTS)[0]
        region = rng.choice(REGIONS)
        env = ENV_SHORT[account]
        serial = f"-{attempts}" if attempts > len(APPS) * 12 else ""
        name = f"{app}-{short}-{env}{serial}"
        if not plan.claim("rds", account, region, name):
            continue
        production = account == "production"
        replicas = 0
        if production and rng.random() < 0.35:
            replicas = min(1 + rng.randrange(2), total - made - 1)
        tags = plan.base_tags(app, account)
        tags["engine"] = short
        primary = {
            "account": account, "region": region, "name": name, "engine": engine,
            "engine_version": rng.choice(versions), "instance_class": rng.choice(DB_CLASSES),
            "multi_az": production and rng.random() < 0.7,
            "deletion_protection": production or rng.random() < 0.2,
            "backup_retention": 0 if account == "development" else 7,
            "storage": 20 * (1 + rng.randrange(25)),
            # A DB instance with read replicas cannot be stopped (nor can a replica).
            "state": "stopped" if replicas == 0 and rng.random() < 0.08 else "available",
            "replica_of": None, "replicas": [], "tags": tags,
        }
        plan.rds.append(primary)
        made += 1
        for number in range(1, replicas + 1):
            replica_name = f"{name}-replica-{number}"
            plan.claim("rds", account, region, replica_name)
            primary["replicas"].append(replica_name)
            plan.rds.append(dict(
                primary, name=replica_name, multi_az=False, deletion_protection=False,
                state="available", replica_of=name, replicas=[],
                tags=dict(tags, role="read-replica"),
            ))
            made += 1


def add_s3(plan, total):
    rng = plan.rng
    made = 0
    attempts = 0
    while made < total:
        attempts += 1
        app, purpose = rng.choice(APPS), rng.choice(BUCKET_PURPOSES)
        account = rng.choice(ACCOUNTS)[0]
        region = rng.choice(REGIONS)
        env = ENV_SHORT[account]
        serial = f"-{attempts}" if attempts > len(APPS) * len(BUCKET_PURPOSES) else ""
        name = f"acme-{app}-{purpose}-{env}-{REGION_SHORT[region]}{serial}"
        # Bucket names are global: across accounts, in AWS and in moto.
        if not plan.claim("s3", "all", "global", name):
            continue
        tags = None
        if rng.random() < 0.85:
            tags = plan.base_tags(app, account)
            tags["purpose"] = purpose
        roll = rng.random()
        versioning = "Enabled" if roll < 0.4 else "Suspended" if roll < 0.5 else "Disabled"
        roll = rng.random()
        encryption = "AES256" if roll < 0.5 else "aws:kms" if roll < 0.6 else "none"
        plan.s3.append({
            "account": account, "region": region, "name": name, "tags": tags,
            "versioning": versioning, "encryption": encryption,
            "public_access_blocked": rng.random() < 0.7,
        })
        made += 1


def add_lambda(plan, total):
    rng = plan.rng
    made = 0
    attempts = 0
    while made < total:
        attempts += 1
        app = rng.choice(APPS)
        verb, description = rng.choice(LAMBDA_VERBS)
        serial = f"-{attempts}" if attempts > len(APPS) * len(LAMBDA_VERBS) else ""
        name = f"{app}-{verb}{serial}"
        region = rng.choice(REGIONS)
        # The same function deployed to every account, under the same name.
        for account, _ in ACCOUNTS:
            if made >= total or not plan.claim("lambda", account, region, name):
                continue
            tags = plan.base_tags(app, account) if rng.random() < 0.9 else None
            plan.lambdas.append({
                "account": account, "region": region, "name": name,
                "description": description.replace("{app}", app),
                "runtime": rng.choice(LAMBDA_RUNTIMES), "memory": 128 << rng.randrange(4),
                "timeout": rng.choice([3, 15, 30, 60, 300]), "tags": tags,
            })
            made += 1


def add_elb(plan, total):
    rng = plan.rng
    made = 0
    attempts = 0
    while made < total:
        attempts += 1
        app = rng.choice(APPS)
        account = rng.choice(ACCOUNTS)[0]
        region = rng.choice(REGIONS)
        kind = "alb" if rng.random() < 0.75 else "nlb"
        serial = f"-{attempts}" if attempts > len(APPS) * 6 else ""
        name = f"{app}-{kind}-{ENV_SHORT[account]}{serial}"
        if not plan.claim("elbv2", account, region, name):
            continue
        plan.elbs.append({
            "account": account, "region": region, "name": name,
            "type": "application" if kind == "alb" else "network",
            "scheme": "internet-facing" if rng.random() < 0.6 else "internal",
            "deletion_protection": account == "production",
            "tags": plan.base_tags(app, account),
        })
        made += 1


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
        fleets = [f for f in self.plan.ec2_fleets
                  if f["account"] == account and f["region"] == region]
        ec2 = self.client("ec2", account, region)
        subnets = ec2.describe_subnets(
            Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        subnets = [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])]
        ids_by_name, stop, reservations = {}, [], 0
        for fleet in fleets:
            common = {
                "ImageId": fleet["ami"],
                "InstanceType": fleet["instance_type"],
                "SubnetId": subnets[fleet["az"] % len(subnets)],
                "DisableApiTermination": fleet["termination_protection"],
            }
            if fleet["launch"] == "batch" and len(fleet["names"]) > 1:
                n = len(fleet["names"])
                answer = ec2.run_instances(
                    MinCount=n, MaxCount=n,
                    TagSpecifications=[{"ResourceType": "instance",
                                        "Tags": tag_list(fleet["tags"])}],
                    **common)
                self.count("ec2:RunInstances")
                reservations += 1
                for name, instance in zip(fleet["names"], answer["Instances"]):
                    ec2.create_tags(Resources=[instance["InstanceId"]],
                                    Tags=[{"Key": "Name", "Value": name}])
                    self.count("ec2:CreateTags")
                    ids_by_name[name] = instance["InstanceId"]
            else:
                for name in fleet["names"]:
                    tags = dict(fleet["tags"], Name=name)
                    answer = ec2.run_instances(
                        MinCount=1, MaxCount=1,
                        TagSpecifications=[{"ResourceType": "instance",
                                            "Tags": tag_list(tags)}],
                        **common)
                    self.count("ec2:RunInstances")
                    reservations += 1
                    ids_by_name[name] = answer["Instances"][0]["InstanceId"]
            if fleet["termination_protection"]:
                # moto 5.2.5's RunInstances ignores DisableApiTermination (AWS honours it);
                # ModifyInstanceAttribute does set it.
                for name in fleet["names"]:
                    ec2.modify_instance_attribute(InstanceId=ids_by_name[name],
                                                  DisableApiTermination={"Value": True})
                    self.count("ec2:ModifyInstanceAttribute")
            stop.extend(ids_by_name[n] for n in fleet["stopped"])
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
        made = stopped = 0
        for db in self.plan.rds:
            if db["account"] != account or db["region"] != region:
                continue
            if db["replica_of"]:
                answer = rds.create_db_instance_read_replica(
                    DBInstanceIdentifier=db["name"],
                    SourceDBInstanceIdentifier=db["replica_of"],
                    DBInstanceClass=db["instance_class"],
                    MultiAZ=False, DeletionProtection=False, Tags=tag_list(db["tags"]))
                self.count("rds:CreateDBInstanceReadReplica")
            else:
                answer = rds.create_db_instance(
                    DBInstanceIdentifier=db["name"], Engine=db["engine"],
                    EngineVersion=db["engine_version"], DBInstanceClass=db["instance_class"],
                    AllocatedStorage=db["storage"], MasterUsername="dbadmin",
                    MasterUserPassword="not-a-real-password", MultiAZ=db["multi_az"],
                    DeletionProtection=db["deletion_protection"],
                    BackupRetentionPeriod=db["backup_retention"], Tags=tag_list(db["tags"]))
                self.count("rds:CreateDBInstance")
            self.note(("rds", account, region, db["name"]),
                      {"arn": answer["DBInstance"]["DBInstanceArn"]})
            made += 1
        for db in self.plan.rds:
            if db["account"] == account and db["region"] == region and db["state"] == "stopped":
                rds.stop_db_instance(DBInstanceIdentifier=db["name"])
                self.count("rds:StopDBInstance")
                stopped += 1
        return f"{made} DB instances ({stopped} stopped)"

    # S3 ---------------------------------------------------------------------------------

    def seed_s3(self, account, region):
        s3 = self.client("s3", account, region)
        made = 0
        for bucket in self.plan.s3:
            if bucket["account"] != account or bucket["region"] != region:
                continue
            name = bucket["name"]
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
            if bucket["versioning"] != "Disabled":
                s3.put_bucket_versioning(
                    Bucket=name, VersioningConfiguration={"Status": bucket["versioning"]})
                self.count("s3:PutBucketVersioning")
            if bucket["encryption"] != "none":
                rule = {"SSEAlgorithm": bucket["encryption"]}
                if bucket["encryption"] == "aws:kms":
                    rule["KMSMasterKeyID"] = "alias/aws/s3"
                s3.put_bucket_encryption(
                    Bucket=name,
                    ServerSideEncryptionConfiguration={
                        "Rules": [{"ApplyServerSideEncryptionByDefault": rule}]})
                self.count("s3:PutBucketEncryption")
            if bucket["public_access_blocked"]:
                s3.put_public_access_block(
                    Bucket=name,
                    PublicAccessBlockConfiguration={
                        "BlockPublicAcls": True, "IgnorePublicAcls": True,
                        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
                self.count("s3:PutPublicAccessBlock")
            made += 1
        return f"{made} buckets"

    # Lambda -----------------------------------------------------------------------------

    def create_lambda_role(self, account):
        iam = self.client("iam", account, "us-east-1")
        arn = iam.create_role(RoleName=LAMBDA_ROLE,
                              AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"]
        self.count("iam:CreateRole")
        return arn

    def seed_lambda(self, account, region, role_arn):
        client = self.client("lambda", account, region)
        made = 0
        for function in self.plan.lambdas:
            if function["account"] != account or function["region"] != region:
                continue
            extra = {"Tags": function["tags"]} if function["tags"] else {}
            answer = client.create_function(
                FunctionName=function["name"], Runtime=function["runtime"], Role=role_arn,
                Handler=handler_of(function["runtime"]), Code={"ZipFile": EMPTY_ZIP},
                Description=function["description"], MemorySize=function["memory"],
                Timeout=function["timeout"], **extra)
            self.count("lambda:CreateFunction")
            self.note(("lambda", account, region, function["name"]),
                      {"arn": answer["FunctionArn"]})
            made += 1
        return f"{made} functions"

    # ELBv2 ------------------------------------------------------------------------------

    def seed_elbv2(self, account, region):
        balancers = [b for b in self.plan.elbs
                     if b["account"] == account and b["region"] == region]
        if not balancers:
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
        for balancer in balancers:
            # Scheme explicitly: moto omits it from DescribeLoadBalancers otherwise.
            answer = elbv2.create_load_balancer(
                Name=balancer["name"], Subnets=subnets[:2], Scheme=balancer["scheme"],
                Type=balancer["type"], Tags=tag_list(balancer["tags"]))
            self.count("elbv2:CreateLoadBalancer")
            arn = answer["LoadBalancers"][0]["LoadBalancerArn"]
            if balancer["deletion_protection"]:
                elbv2.modify_load_balancer_attributes(
                    LoadBalancerArn=arn,
                    Attributes=[{"Key": "deletion_protection.enabled", "Value": "true"}])
                self.count("elbv2:ModifyLoadBalancerAttributes")
            self.note(("elbv2", account, region, balancer["name"]),
                      {"arn": arn, "vpc_id": vpc, "subnet_ids": sorted(subnets[:2])})
        # moto creates balancers `provisioning` and turns them `active` on the first
        # DescribeLoadBalancers: settle them now, so every reader sees the same state.
        elbv2.describe_load_balancers()
        self.count("elbv2:DescribeLoadBalancers")
        return f"{len(balancers)} load balancers"

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


def handler_of(runtime):
    if runtime.startswith("python"):
        return "app.handler"
    if runtime.startswith("nodejs"):
        return "index.handler"
    if runtime.startswith("java"):
        return "com.example.Handler::handleRequest"
    return "bootstrap"


# --------------------------------------------------------------------------------------------
# Manifest and config
# --------------------------------------------------------------------------------------------

def expected(plan):
    """(service, account, region) -> {name: expected record} for every planned resource."""
    out = defaultdict(dict)
    for fleet in plan.ec2_fleets:
        for name in fleet["names"]:
            out[("ec2", fleet["account"], fleet["region"])][name] = {
                "state": "stopped" if name in fleet["stopped"] else "running",
                "tags": dict(fleet["tags"], Name=name),
                "attributes": {
                    "instance_type": fleet["instance_type"],
                    "platform": "windows" if fleet["ami"] == WINDOWS_AMI else "linux",
                },
                "constraints": {"deletion_protection": fleet["termination_protection"],
                                "termination_protection": fleet["termination_protection"]},
            }
    for db in plan.rds:
        attributes = {"engine": db["engine"], "engine_version": db["engine_version"],
                      "instance_class": db["instance_class"], "multi_az": db["multi_az"]}
        if db["replica_of"]:
            attributes["read_replica_source"] = db["replica_of"]
        out[("rds", db["account"], db["region"])][db["name"]] = {
            "state": db["state"], "tags": db["tags"], "attributes": attributes,
            "constraints": {
                "deletion_protection": db["deletion_protection"],
                "has_read_replicas": bool(db["replicas"]),
                "is_read_replica": bool(db["replica_of"]),
                "multi_az": db["multi_az"],
            },
            "read_replicas": db["replicas"],
        }
    for bucket in plan.s3:
        out[("s3", bucket["account"], bucket["region"])][bucket["name"]] = {
            "state": "available", "tags": bucket["tags"] or {},
            "attributes": {"versioning": bucket["versioning"],
                           "encryption": bucket["encryption"],
                           "public_access_blocked": bucket["public_access_blocked"]},
        }
    for function in plan.lambdas:
        out[("lambda", function["account"], function["region"])][function["name"]] = {
            "state": "Active", "tags": function["tags"] or {},
            "attributes": {"runtime": function["runtime"],
                           "description": function["description"],
                           "memory_size": function["memory"], "timeout": function["timeout"],
                           "handler": handler_of(function["runtime"])},
        }
    for balancer in plan.elbs:
        out[("elbv2", balancer["account"], balancer["region"])][balancer["name"]] = {
            "state": "active", "tags": balancer["tags"],
            "attributes": {"type": balancer["type"], "scheme": balancer["scheme"]},
            "constraints": {"deletion_protection": balancer["deletion_protection"]},
        }
    return out


def arn_of(service, account, region, name, learnt):
    number = account_id(account)
    if service == "ec2":
        return f"arn:aws:ec2:{region}:{number}:instance/{learnt['id']}"
    if service == "s3":
        return f"arn:aws:s3:::{name}"
    return learnt["arn"]


def spot_check_keys(records):
    """A few resources of every kind and corner, chosen deterministically and spread over
    the accounts and regions."""
    keys = [("rds", "production", "us-west-2", "pg-instance-main1")]

    def of(service):
        return [(scope, name, record) for scope, names in sorted(records.items())
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

    ec2, rds, s3, lam, elb = of("ec2"), of("rds"), of("s3"), of("lambda"), of("elbv2")
    wanted = []
    for number, (account, _) in enumerate(ACCOUNTS):
        # Each account's checks in a different region, and again shifted per service.
        at = lambda shift: (account, REGIONS[(number + shift) % len(REGIONS)])  # noqa: E731
        wanted += [
            pick(ec2, lambda r: r["state"] == "stopped", *at(0)),
            pick(ec2, lambda r: r["state"] == "running" and "cost-center" in r["tags"], *at(1)),
            pick(s3, lambda r: r["tags"] and r["attributes"]["versioning"] == "Enabled", *at(2)),
            pick(lam, lambda r: r["tags"], *at(0)),
            pick(elb, lambda r: True, *at(1)),
            pick(rds, lambda r: not r["constraints"]["is_read_replica"], *at(2)),
        ]
    wanted += [
        pick(ec2, lambda r: r["constraints"]["termination_protection"], "production",
             "us-east-1"),
        pick(ec2, lambda r: r["attributes"]["platform"] == "windows", "staging", "us-west-2"),
        pick(rds, lambda r: len(r["read_replicas"]) == 2, "production", "us-east-1"),
        pick(rds, lambda r: len(r["read_replicas"]) == 1, "production", "us-west-2"),
        pick(rds, lambda r: r["state"] == "stopped", "development", "us-east-1"),
        pick(rds, lambda r: r["attributes"]["engine"] == "mysql", "staging", "eu-west-1"),
        pick(s3, lambda r: not r["tags"], "staging", "us-east-1"),
        pick(s3, lambda r: r["attributes"]["versioning"] == "Suspended", "development",
             "us-west-2"),
        pick(s3, lambda r: r["attributes"]["versioning"] == "Disabled", "development",
             "eu-west-1"),
        pick(s3, lambda r: r["attributes"]["encryption"] == "none"
             and not r["attributes"]["public_access_blocked"], "production", "eu-west-1"),
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
            record = records[("rds", account, region)][name]
            source = record["attributes"].get("read_replica_source")
            for other in ([source] if source else []) + record["read_replicas"]:
                if ("rds", account, region, other) not in keys:
                    keys.append(("rds", account, region, other))
    return keys


def build_manifest(plan, seeder, seed, base_account, include_all):
    records = expected(plan)
    accounts = []
    for name, number in ACCOUNTS:
        regions = {}
        for region in REGIONS:
            counts, states, names = {}, {}, {}
            for service in SERVICES:
                scope = records.get((service, name, region), {})
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
        record = records[(service, account, region)][name]
        learnt = seeder.created.get(key, {})
        out = {
            "service": service, "account_id": account_id(account), "account_name": account,
            "region": region, "name": name,
            "id": learnt.get("id", name),
            "arn": arn_of(service, account, region, name, learnt),
            "state": record["state"], "tags": record["tags"],
            "attributes": dict(record["attributes"]),
            "constraints": dict(record.get("constraints", {})),
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
        "seed": seed,
        "base_account_id": base_account,
        "regions": REGIONS,
        "services": SERVICES,
        "totals": dict(TOTALS),
        "accounts": accounts,
        "spot_checks": [full_record(k) for k in spot_check_keys(records)],
    }
    if include_all:
        manifest["resources"] = [
            full_record((service, account, region, name))
            for (service, account, region), scope in sorted(records.items())
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

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="the moto server, http://HOST:PORT")
    parser.add_argument("--manifest", required=True, help="where to write the JSON manifest")
    parser.add_argument("--config", help="where to write the CloudOps config.toml")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (default 7)")
    parser.add_argument("--threads", type=int, default=6, help="concurrent jobs (default 6)")
    parser.add_argument("--full", action="store_true",
                        help="also list every resource with its expected state and tags")
    args = parser.parse_args()

    started = time.monotonic()
    plan = make_plan(args.seed)
    planned = {"ec2": sum(len(f["names"]) for f in plan.ec2_fleets), "rds": len(plan.rds),
               "s3": len(plan.s3), "lambda": len(plan.lambdas), "elbv2": len(plan.elbs)}
    assert planned == TOTALS, planned

    seeder = Seeder(args.endpoint, plan)
    base_key = os.environ.get("AWS_ACCESS_KEY_ID", "testing")
    base_secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "testing")
    try:
        base_account = seeder.assume_roles(base_key, base_secret)
    except Exception as error:  # noqa: BLE001 - the message says what to do
        raise SystemExit(f"seed-moto: cannot reach moto at {args.endpoint} ({error}); "
                         "start it with ~/.cache/cloudops/venv/bin/moto_server -H 127.0.0.1 "
                         "-p PORT")
    seeder.log(f"assumed {ROLE_NAME} in {len(ACCOUNTS)} accounts from base account "
               f"{base_account}")
    lambda_roles = {name: seeder.create_lambda_role(name) for name, _ in ACCOUNTS}

    # The largest jobs first, so the pool does not end waiting on one long EC2 job.
    jobs = []
    for account, _ in ACCOUNTS:
        for region in REGIONS:
            size = sum(len(f["names"]) for f in plan.ec2_fleets
                       if f["account"] == account and f["region"] == region)
            jobs.append((size, "ec2", account, region, seeder.seed_ec2, ()))
            jobs.append((0, "rds", account, region, seeder.seed_rds, ()))
            jobs.append((0, "s3", account, region, seeder.seed_s3, ()))
            jobs.append((0, "lambda", account, region, seeder.seed_lambda,
                         (lambda_roles[account],)))
            jobs.append((0, "elbv2", account, region, seeder.seed_elbv2, ()))
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
    seeder.log(f"seeded {sum(TOTALS.values())} resources with {sum(seeder.calls.values())} "
               f"API calls in {seeded:.1f}s")

    # Read everything back: the manifest must describe what moto holds, not what was asked.
    records = expected(plan)
    census, buckets, problems = {}, {}, []
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
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
                want = records.get((service, account, region), {})
                names, states = found[service]
                if names != sorted(want):
                    problems.append(f"{account}/{region} {service}: moto has {len(names)}, "
                                    f"planned {len(want)}")
                elif states is not None and states != Counter(r["state"] for r in want.values()):
                    problems.append(f"{account}/{region} {service}: states {dict(states)}")
    if problems:
        for problem in problems:
            print(f"seed-moto: {problem}", file=sys.stderr)
        raise SystemExit("seed-moto: moto does not hold the planned estate")
    # Termination protection is not in DescribeInstances: read it for the spot checks.
    for service, account, region, name in spot_check_keys(records):
        if service != "ec2":
            continue
        instance_id = seeder.created[(service, account, region, name)]["id"]
        answer = seeder.client("ec2", account, region).describe_instance_attribute(
            InstanceId=instance_id, Attribute="disableApiTermination")
        want = records[(service, account, region)][name]["constraints"]["termination_protection"]
        if answer["DisableApiTermination"]["Value"] != want:
            problems.append(f"{account}/{region} ec2 {name}: termination protection "
                            f"{answer['DisableApiTermination']['Value']}, planned {want}")
    if problems:
        for problem in problems:
            print(f"seed-moto: {problem}", file=sys.stderr)
        raise SystemExit("seed-moto: moto does not hold the planned estate")
    seeder.log("read back: every account, region and service holds exactly the planned "
               "resources and states (and the spot checks' termination protection)")

    manifest = build_manifest(plan, seeder, args.seed, base_account, args.full)
    write_file(args.manifest, json.dumps(manifest, indent=1, sort_keys=False) + "\n")
    if args.config:
        write_config(args.config, args.endpoint)
    print(f"manifest: {args.manifest}" + (f"\nconfig:   {args.config}" if args.config else ""))
    for account in manifest["accounts"]:
        totals = ", ".join(f"{s} {n}" for s, n in account["totals"].items())
        print(f"  {account['name']:<12} {account['id']}  {totals}")
    print(f"calls: " + ", ".join(f"{op} {n}" for op, n in sorted(seeder.calls.items())))
    print(f"seed time: {seeded:.1f}s (total with read-back {time.monotonic() - started:.1f}s)")


if __name__ == "__main__":
    main()
