//! Fleets: a plural or quantified mention ("stop all the orders-api servers in development")
//! acts on exactly the whole matching set, skips the members in the wrong state, runs per
//! target, and reports and audits every target; what AWS itself (moto) says afterwards is
//! the judge, not the index.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ask::Stack;

/// Five orders-api instances running in development and a sixth stopped there; one orders-api
/// instance in staging and an orders worker in development (neither is in the fleet); then a
/// sync. (The stack already has web-1, in staging.)
fn estate(proxy: Option<&[&str]>) -> Stack {
    let stack = Stack::new(proxy);
    let mut stop = Vec::new();
    for (name, env, stopped) in [
        ("orders-api-dev-01", "development", false),
        ("orders-api-dev-02", "development", false),
        ("orders-api-dev-03", "development", false),
        ("orders-api-dev-04", "development", false),
        ("orders-api-dev-05", "development", false),
        ("orders-api-dev-06", "development", true),
        ("orders-api-stg-01", "staging", false),
        ("orders-worker-dev-01", "development", false),
    ] {
        let id = stack.run_instance(name, &[("env", env)]);
        if stopped {
            stop.push(id);
        }
    }
    let mut args = vec!["ec2", "stop-instances", "--instance-ids"];
    args.extend(stop.iter().map(String::as_str));
    stack.aws(&args);
    let synced = stack.cloudops(&["estate", "sync", "--full"]);
    assert!(synced.status.success(), "{}", String::from_utf8_lossy(&synced.stderr));
    stack
}

/// Every instance's state, by its Name tag, as moto says.
fn states(stack: &Stack) -> BTreeMap<String, String> {
    let answer = stack.aws(&["ec2", "describe-instances"]);
    let mut states = BTreeMap::new();
    for reservation in answer["Reservations"].as_array().expect("reservations") {
        for instance in reservation["Instances"].as_array().expect("instances") {
            let name = instance["Tags"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|t| t["Key"] == "Name")
                .and_then(|t| t["Value"].as_str())
                .unwrap_or_default()
                .to_owned();
            states.insert(name, instance["State"]["Name"].as_str().expect("state").to_owned());
        }
    }
    states
}

/// The id of the instance named `name`, as moto says.
fn instance_id(stack: &Stack, name: &str) -> String {
    let answer = stack.aws(&[
        "ec2",
        "describe-instances",
        "--filters",
        &format!("Name=tag:Name,Values={name}"),
    ]);
    answer["Reservations"][0]["Instances"][0]["InstanceId"]
        .as_str()
        .expect("an instance")
        .to_owned()
}

/// The per-target results of an answer: name → result.
fn results(answer: &Value) -> BTreeMap<String, String> {
    answer["targets"]
        .as_array()
        .unwrap_or_else(|| panic!("no targets: {answer:#}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().expect("name").to_owned(),
                t["result"].as_str().expect("result").to_owned(),
            )
        })
        .collect()
}

/// The `target` records of an execution in the audit trail: name or ARN → result.
fn audited(stack: &Stack, execution_id: &str) -> Vec<String> {
    stack
        .events(execution_id)
        .iter()
        .filter(|r| r["event"] == "target")
        .map(|r| r["result"].as_str().expect("result").to_owned())
        .collect()
}

const FLEET: [&str; 6] = [
    "orders-api-dev-01",
    "orders-api-dev-02",
    "orders-api-dev-03",
    "orders-api-dev-04",
    "orders-api-dev-05",
    "orders-api-dev-06",
];

#[test]
fn all_the_orders_api_servers_in_development_are_stopped_and_no_other() {
    // Through the (fault-free) proxy, which counts the calls.
    let stack = estate(Some(&[]));
    let before = states(&stack);
    let (code, answer, stderr) =
        stack.ask(&["stop all the orders-api servers in development", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("6 resources match"), "{stderr}");

    // The whole set, shown and complete; no other resource.
    let fleet = &answer["fleet"];
    assert_eq!(fleet["total"], 6, "{fleet:#}");
    assert_eq!(fleet["complete"], true, "{fleet:#}");
    let mut members: Vec<&str> = fleet["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["name"].as_str().expect("name"))
        .collect();
    members.sort_unstable();
    assert_eq!(members, FLEET);
    assert!(
        fleet["groups"]
            .as_array()
            .expect("groups")
            .iter()
            .any(|g| g["by"] == "state" && g["value"] == "running" && g["count"] == 5),
        "{fleet:#}"
    );

    // The stopped one is left out with its reason; the plan acts on the other five.
    let skipped = answer["plan"]["skipped"].as_array().expect("skipped");
    assert_eq!(skipped.len(), 1, "{:#}", answer["plan"]);
    assert_eq!(skipped[0]["name"].as_str().map(|n| n.starts_with("orders-api-dev-06")), Some(true));
    assert!(skipped[0]["reason"].as_str().expect("reason").contains("stopped"));
    assert_eq!(answer["request"]["identified_resources"].as_array().expect("ids").len(), 6);

    // One result per target; moto agrees.
    let results = results(&answer);
    assert_eq!(results.values().filter(|r| *r == "ok").count(), 5, "{results:?}");
    assert_eq!(results.values().filter(|r| *r == "skipped").count(), 1, "{results:?}");
    assert_eq!(answer["outcome"], "succeeded");
    let after = states(&stack);
    for (name, state) in &after {
        if FLEET.contains(&name.as_str()) {
            assert_eq!(state, "stopped", "{name}: {after:?}");
        } else {
            assert_eq!(state, &before[name], "{name} is not in the fleet and changed: {after:?}");
        }
    }
    assert_eq!(after["orders-api-stg-01"], "running");
    assert_eq!(after["orders-worker-dev-01"], "running");

    // The five stops were one call (the workflow's batch), each target still judged on its
    // own line of the answer.
    assert_eq!(stack.ec2_calls("StopInstances"), 1);
    assert!(stderr.contains("(the same call)"), "{stderr}");

    // Every target is in the audit trail.
    let id = answer["execution_id"].as_str().expect("id");
    let mut audited = audited(&stack, id);
    audited.sort();
    assert_eq!(audited, ["ok", "ok", "ok", "ok", "ok", "skipped"]);
}

#[test]
fn one_failing_target_leaves_the_others_done_reported_and_audited() {
    // "AWS" refuses every StopInstances call that names orders-api-dev-03 (as IAM refuses a
    // call naming a resource the caller may not touch): the call for the five is refused as a
    // whole, and each target then runs on its own.
    let stack = estate(Some(&[]));
    let denied = instance_id(&stack, "orders-api-dev-03");
    assert_eq!(stack.proxy(&format!("/__proxy_fail?action=StopInstances&value={denied}")), "ok");
    let (code, answer, stderr) =
        stack.ask(&["stop all the orders-api servers in development", "--yes"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(answer["outcome"], "partial", "{stderr}");
    let results = results(&answer);
    let failed: Vec<&String> =
        results.iter().filter(|(_, r)| *r == "failed").map(|(n, _)| n).collect();
    assert_eq!(failed.len(), 1, "{results:?}");
    assert_eq!(results.values().filter(|r| *r == "ok").count(), 4, "{results:?}");
    assert_eq!(results.values().filter(|r| *r == "skipped").count(), 1, "{results:?}");
    let failed_name = failed[0].split(' ').next().expect("name").to_owned();
    assert_eq!(failed_name, "orders-api-dev-03", "{results:?}");
    assert_eq!(stack.ec2_calls("StopInstances"), 1 + 5, "one refused call for five, then one each");
    let message = &answer["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .find(|t| t["result"] == "failed")
        .expect("failed target")["message"];
    assert!(message.as_str().expect("message").contains("nothing of it was changed"), "{message}");

    // The failing call changed nothing and was not rolled back; the others are stopped.
    let after = states(&stack);
    for name in &FLEET[..5] {
        let expected = if name == &failed_name { "running" } else { "stopped" };
        assert_eq!(after[*name], expected, "{name}: {after:?}");
    }
    assert_eq!(after["orders-api-stg-01"], "running");
    assert_eq!(after["orders-worker-dev-01"], "running");

    let id = answer["execution_id"].as_str().expect("id");
    let mut audited = audited(&stack, id);
    audited.sort();
    assert_eq!(audited, ["failed", "ok", "ok", "ok", "ok", "skipped"]);
    let events = stack.events(id);
    let finished = events.last().expect("events");
    assert_eq!(finished["event"], "finished");
    assert_eq!(finished["outcome"], "partial");
    // No rollback command ran.
    assert!(!events.iter().any(|r| r["event"] == "command" && r["phase"] == "rollback"));
}
