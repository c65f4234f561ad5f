//! Questions answered from the estate (`cloudops ask QUESTION`, `cloudops query`): counts,
//! groups and lists that match what AWS itself (moto) says, read from moto, not the index;
//! with completeness and freshness; and never a plan.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ask::Stack;

/// Adds instances (some stopped, some without an owner tag), a database without automated
/// backups, buckets and a load balancer to the stack's moto, then syncs again.
fn estate() -> Stack {
    let stack = Stack::new(None);
    let mut stop = Vec::new();
    for (name, owner, stopped) in [
        ("orders-api-dev-01", Some("ana"), false),
        ("orders-api-dev-02", Some("ana"), true),
        ("orders-api-dev-03", None, true),
        ("billing-worker-01", None, false),
        ("billing-worker-02", Some("bo"), false),
    ] {
        let mut tags = vec![("env", "development")];
        tags.extend(owner.map(|owner| ("owner", owner)));
        let id = stack.run_instance(name, &tags);
        if stopped {
            stop.push(id);
        }
    }
    let mut args = vec!["ec2", "stop-instances", "--instance-ids"];
    args.extend(stop.iter().map(String::as_str));
    stack.aws(&args);
    stack.aws(&[
        "rds",
        "create-db-instance",
        "--db-instance-identifier",
        "reports-db",
        "--db-instance-class",
        "db.t3.small",
        "--engine",
        "mysql",
        "--master-username",
        "admin",
        "--master-user-password",
        "not-a-real-password",
        "--allocated-storage",
        "20",
        "--backup-retention-period",
        "0",
    ]);
    for bucket in ["orders-dumps", "billing-exports"] {
        stack.aws(&[
            "s3api",
            "create-bucket",
            "--bucket",
            bucket,
            "--create-bucket-configuration",
            "LocationConstraint=us-west-2",
        ]);
    }
    let subnets: Vec<String> = stack.aws(&["ec2", "describe-subnets"])["Subnets"]
        .as_array()
        .expect("subnets")
        .iter()
        .take(2)
        .map(|s| s["SubnetId"].as_str().expect("subnet").to_owned())
        .collect();
    let mut args = vec!["elbv2", "create-load-balancer", "--name", "orders-alb", "--subnets"];
    args.extend(subnets.iter().map(String::as_str));
    stack.aws(&args);
    let synced = stack.cloudops(&["estate", "sync", "--full"]);
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    stack
}

/// Every instance moto has, as (Name tag, state, tags).
fn instances(stack: &Stack) -> Vec<(String, String, BTreeMap<String, String>)> {
    let answer = stack.aws(&["ec2", "describe-instances"]);
    let mut all = Vec::new();
    for reservation in answer["Reservations"].as_array().expect("reservations") {
        for instance in reservation["Instances"].as_array().expect("instances") {
            let tags: BTreeMap<String, String> = instance["Tags"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| {
                    (
                        t["Key"].as_str().unwrap_or_default().to_owned(),
                        t["Value"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            let state = instance["State"]["Name"].as_str().expect("state").to_owned();
            all.push((tags.get("Name").cloned().unwrap_or_default(), state, tags));
        }
    }
    all
}

fn ask(stack: &Stack, question: &str) -> Value {
    let output = stack.cloudops(&["ask", question, "--json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{question}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let object: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert!(object.get("plan").is_none(), "{question}: a question never creates a plan");
    object["answer"].clone()
}

fn names(answer: &Value) -> Vec<String> {
    let mut names: Vec<String> = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn questions_are_answered_with_what_aws_itself_says() {
    let stack = estate();
    let truth = instances(&stack);

    let running = ask(&stack, "how many instances are running?");
    let expected = truth.iter().filter(|(_, state, _)| state == "running").count();
    assert_eq!(running["total"], expected, "{running:#}");
    assert_eq!(running["count"], true);
    assert_eq!(running["complete"], true, "{running:#}");
    let as_of = running["as_of"].as_str().expect("as_of");
    assert!(cloudops_core::time::parse_rfc3339(as_of).is_some(), "{as_of}");

    let per_state = ask(&stack, "count the instances per state");
    let mut expected: BTreeMap<String, u64> = BTreeMap::new();
    for (_, state, _) in &truth {
        *expected.entry(state.clone()).or_default() += 1;
    }
    let groups: BTreeMap<String, u64> = per_state["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            (
                g["key"]["state"].as_str().expect("key").to_owned(),
                g["count"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(groups, expected, "{per_state:#}");

    let unowned = ask(&stack, "which instances have no owner tag?");
    let mut expected: Vec<String> = truth
        .iter()
        .filter(|(_, _, tags)| !tags.contains_key("owner"))
        .map(|(n, _, _)| n.clone())
        .collect();
    expected.sort();
    assert_eq!(names(&unowned), expected, "{unowned:#}");

    let stopped = ask(&stack, "list the stopped orders-api instances");
    let mut expected: Vec<String> = truth
        .iter()
        .filter(|(name, state, _)| state == "stopped" && name.starts_with("orders-api"))
        .map(|(n, _, _)| n.clone())
        .collect();
    expected.sort();
    assert_eq!(names(&stopped), expected, "{stopped:#}");

    let databases = stack.aws(&["rds", "describe-db-instances"]);
    let without: Vec<String> = databases["DBInstances"]
        .as_array()
        .expect("databases")
        .iter()
        .filter(|d| d["BackupRetentionPeriod"].as_i64() == Some(0))
        .map(|d| d["DBInstanceIdentifier"].as_str().expect("id").to_owned())
        .collect();
    let no_backups = ask(&stack, "how many databases have no backups?");
    assert_eq!(no_backups["total"], without.len(), "{no_backups:#}");
    assert_eq!(names(&no_backups), without);

    let balancers = stack.aws(&["elbv2", "describe-load-balancers"]);
    let elbs = ask(&stack, "how many load balancers are in us-west-2?");
    assert_eq!(
        elbs["total"],
        balancers["LoadBalancers"].as_array().expect("lbs").len(),
        "{elbs:#}"
    );

    // The structured form, with the same answer shape.
    let buckets =
        stack.aws(&["s3api", "list-buckets"])["Buckets"].as_array().expect("buckets").len();
    let output = stack.cloudops(&["query", "type:s3_bucket", "--count", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let counted: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(counted["total"], buckets, "{counted:#}");
    assert_eq!(counted["results"].as_array().map(Vec::len), Some(0));
    let output = stack.cloudops(&["query", "type:ec2_instance -tag:owner", "--group-by", "state"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success() && text.contains("complete: every scope"), "{text}");
    let bad = stack.cloudops(&["query", "colour:red"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown field"));

    // Saved checks: the same answers by name, and all of them counted at once.
    let output = stack.cloudops(&["check", "no-backups", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let checked: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(checked["check"], "no-backups");
    assert_eq!(checked["answer"]["total"], without.len(), "{checked:#}");
    let output = stack.cloudops(&["check", "missing-tags", "--json"]);
    let missing: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    // A first filter that starts with `-` comes after `--`, as for any command line.
    let output = stack.cloudops(&["query", "--count", "--json", "--", "-tag:owner"]);
    let unowned_everywhere: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(missing["answer"]["total"], unowned_everywhere["total"], "{missing:#}");
    assert!(missing["answer"]["query"].as_str().expect("query").contains("(-tag:owner)"));
    let output = stack.cloudops(&["check", "stopped-instances", "--days", "0", "--json"]);
    let stopped_now: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let expected = truth.iter().filter(|(_, state, _)| state == "stopped").count();
    assert_eq!(stopped_now["answer"]["total"], expected, "{stopped_now:#}");
    let output = stack.cloudops(&["check"]);
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{summary}");
    for name in cloudops_assist::CHECKS {
        assert!(summary.contains(name), "{name}: {summary}");
    }
    assert_eq!(stack.cloudops(&["check", "nonsense"]).status.code(), Some(2));
    let deprecated = ask(&stack, "which lambda functions run deprecated runtimes?");
    assert!(
        deprecated["query"].as_str().expect("query").contains("runtime=python3.8"),
        "{deprecated:#}"
    );

    // A region configured but never synced: the answer says it is incomplete, and which.
    let config = std::fs::read_to_string(stack.home().join("config.toml")).expect("config");
    std::fs::write(
        stack.home().join("config.toml"),
        config.replace(r#"regions = ["us-west-2"]"#, r#"regions = ["us-west-2", "eu-west-1"]"#),
    )
    .expect("config");
    let partial = ask(&stack, "how many instances are running?");
    assert_eq!(partial["complete"], false, "{partial:#}");
    let incomplete = partial["incomplete"].to_string();
    assert!(incomplete.contains("production/eu-west-1/ec2: never synced"), "{incomplete}");
    let text = stack.cloudops(&["ask", "how many instances are running?"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("INCOMPLETE"));
}
