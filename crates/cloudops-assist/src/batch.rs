//! Batches: the same step of several targets run as one AWS CLI call.
//!
//! A verified fleet plan has one step per target ("stop i-1", "stop i-2", …), and each is run,
//! recorded and reported per target. Where the AWS API takes a list in place of the one value
//! (`ec2 stop-instances --instance-ids i-1 i-2 …`), running the targets' steps one by one costs
//! an AWS CLI process each (most of a fleet's wall time) for nothing. This module knows which
//! calls take such a list, and how to read each target's result from the one answer:
//!
//! - a **change** applies to every listed target or to none (EC2 refuses the whole call when
//!   any id is wrong or denied): exit 0 means each target's step succeeded, and where the
//!   answer lists the targets (`StoppingInstances[]`), each must be in it;
//! - a **waiter** succeeds when every target reached the state;
//! - a **read** with an expected value (`describe-instances --query
//!   Reservations[0].Instances[0].State.Name`) is asked for every target's id and value at
//!   once (`Reservations[].Instances[].[InstanceId,State.Name]`), and each target is judged on
//!   its own line.
//!
//! A batched call that fails is never read as a result: the workflow then runs each target's
//! step on its own, so every target gets its own answer (EC2 refuses such a call as a whole,
//! so nothing of it changed). Only steps that differ in that one value, in the same account and
//! region, with no captured values, share a call. The plan, its verification and its audit stay
//! per target: batching changes how many processes run, not what is done.

use cloudops_core::Step;

/// What kind of call a batch is, for reading each target's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Changes every listed target or none; `listed`: the answer names each target.
    Change { listed: bool },
    /// Waits until every listed target reached a state.
    Wait,
    /// Reads one field of every listed target, judged against the step's expected value.
    Read { field: String },
}

/// How a step can share a call with the same step of other targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Batch {
    /// Steps with the same key share a call: the command, every argument but the target's
    /// value, the account and the expected value.
    pub key: String,
    /// The most targets in one call.
    pub max: usize,
    /// How each target's result is read.
    pub kind: Kind,
    /// Where the target's value is in the arguments.
    value_at: usize,
}

/// Targets per call: EC2 takes up to 1,000 ids in these calls and advises smaller batches;
/// 100 keeps each call's request and answer small, and a fleet of 100 (the planner's limit)
/// one call.
const MAX_PER_CALL: usize = 100;

const CHANGE_LISTED: Kind = Kind::Change { listed: true };
const CHANGE: Kind = Kind::Change { listed: false };
const READ: Kind = Kind::Read { field: String::new() };

/// The calls that take a list where the plan has one value: the command, the option whose
/// value is the target's, and how each target's result is read.
const RULES: &[(&str, &str, Kind)] = &[
    ("aws ec2 stop-instances", "--instance-ids", CHANGE_LISTED),
    ("aws ec2 start-instances", "--instance-ids", CHANGE_LISTED),
    ("aws ec2 terminate-instances", "--instance-ids", CHANGE_LISTED),
    ("aws ec2 reboot-instances", "--instance-ids", CHANGE),
    ("aws ec2 create-tags", "--resources", CHANGE),
    ("aws ec2 delete-tags", "--resources", CHANGE),
    ("aws ec2 wait instance-running", "--instance-ids", Kind::Wait),
    ("aws ec2 wait instance-stopped", "--instance-ids", Kind::Wait),
    ("aws ec2 wait instance-terminated", "--instance-ids", Kind::Wait),
    ("aws ec2 wait instance-status-ok", "--instance-ids", Kind::Wait),
    ("aws ec2 describe-instances", "--instance-ids", READ),
];

/// The query a batchable read of one instance uses; the field follows it.
const ONE_INSTANCE: &str = "Reservations[0].Instances[0].";

/// How `step` can share a call, or `None` when it must run on its own.
pub(crate) fn batch_of(step: &Step) -> Option<Batch> {
    let (_, option, kind) = RULES.iter().find(|(command, ..)| *command == step.command)?;
    if !step.capture.is_empty() || step.args.iter().any(|arg| arg.contains("{{")) {
        return None;
    }
    let mut at = step.args.iter().enumerate().filter(|(_, arg)| arg == option);
    let (option_at, _) = at.next()?;
    if at.next().is_some() {
        return None;
    }
    let value = step.args.get(option_at + 1)?;
    if value.is_empty() || value.starts_with('-') {
        return None;
    }
    let mut kind = kind.clone();
    match &mut kind {
        Kind::Read { field } => {
            if step.expect.is_none() || option_value(step, "--output") != Some("text") {
                return None;
            }
            let read = option_value(step, "--query")?.strip_prefix(ONE_INSTANCE)?;
            let plain = |c: char| c.is_ascii_alphanumeric() || c == '.';
            if read.is_empty() || !read.chars().all(plain) || read.contains("..") {
                return None;
            }
            *field = read.to_owned();
        }
        Kind::Change { .. } | Kind::Wait if step.expect.is_some() => return None,
        Kind::Change { .. } | Kind::Wait => {}
    }
    let mut key = vec![step.command.as_str(), step.account_id.as_deref().unwrap_or_default()];
    key.extend(
        step.args.iter().enumerate().map(
            |(i, arg)| {
                if i == option_at + 1 { "\u{0}" } else { arg.as_str() }
            },
        ),
    );
    key.push(step.expect.as_deref().unwrap_or_default());
    Some(Batch { key: key.join("\u{1f}"), max: MAX_PER_CALL, kind, value_at: option_at + 1 })
}

fn option_value<'s>(step: &'s Step, option: &str) -> Option<&'s str> {
    step.args.windows(2).find(|pair| pair[0] == option).map(|pair| pair[1].as_str())
}

impl Batch {
    /// The target's value in `step` (one of this batch's).
    pub(crate) fn value<'s>(&self, step: &'s Step) -> &'s str {
        &step.args[self.value_at]
    }

    /// `step` (one of this batch's) made into the call for every value in `values`.
    pub(crate) fn merged(&self, step: &Step, values: &[&str]) -> Step {
        let mut args: Vec<String> = step.args[..self.value_at].to_vec();
        args.extend(values.iter().map(|value| (*value).to_owned()));
        args.extend(step.args[self.value_at + 1..].iter().cloned());
        if let Kind::Read { field } = &self.kind
            && let Some(at) = args.iter().position(|arg| arg == "--query")
        {
            args[at + 1] = format!("Reservations[].Instances[].[InstanceId,{field}]");
        }
        Step { args, ..step.clone() }
    }

    /// Whether the target whose value is `value` had its share of a successful call, and if
    /// not, why: the answer (`stdout`) judged for that target alone.
    pub(crate) fn judge(
        &self,
        value: &str,
        expect: Option<&str>,
        stdout: &str,
    ) -> std::result::Result<(), String> {
        match &self.kind {
            Kind::Wait | Kind::Change { listed: false } => Ok(()),
            Kind::Change { listed: true } => {
                let listed = serde_json::from_str::<serde_json::Value>(stdout)
                    .map(|answer| mentions(&answer, value))
                    .unwrap_or(false);
                if listed {
                    Ok(())
                } else {
                    Err("AWS's answer to the call does not list it".into())
                }
            }
            Kind::Read { .. } => {
                let expected = expect.unwrap_or_default().trim();
                let observed = stdout.lines().find_map(|line| {
                    let mut fields = line.split('\t');
                    (fields.next()?.trim() == value).then(|| fields.next().unwrap_or("").trim())
                });
                match observed {
                    Some(observed) if observed == expected => Ok(()),
                    Some(observed) => Err(format!("expected {expected:?}, observed {observed:?}")),
                    None => Err(format!("expected {expected:?}, observed nothing for it")),
                }
            }
        }
    }
}

/// Whether `value` is a string anywhere in `answer`.
fn mentions(answer: &serde_json::Value, value: &str) -> bool {
    match answer {
        serde_json::Value::String(text) => text == value,
        serde_json::Value::Array(items) => items.iter().any(|item| mentions(item, value)),
        serde_json::Value::Object(fields) => fields.values().any(|item| mentions(item, value)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(command: &str, args: &[&str], expect: Option<&str>) -> Step {
        Step {
            step_id: "1".into(),
            command: command.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            description: String::new(),
            account_id: Some("111111111111".into()),
            capture: Default::default(),
            expect: expect.map(str::to_owned),
            target: None,
        }
    }

    fn stop(id: &str, region: &str) -> Step {
        step("aws ec2 stop-instances", &["--instance-ids", id, "--region", region], None)
    }

    fn state(id: &str, expect: &str) -> Step {
        step(
            "aws ec2 describe-instances",
            &[
                "--instance-ids",
                id,
                "--query",
                "Reservations[0].Instances[0].State.Name",
                "--output",
                "text",
                "--region",
                "us-east-1",
            ],
            Some(expect),
        )
    }

    #[test]
    fn the_same_step_of_two_targets_shares_a_call_only_in_one_account_and_region() {
        let (a, b) = (batch_of(&stop("i-1", "us-east-1")), batch_of(&stop("i-2", "us-east-1")));
        let a = a.expect("stop-instances is batchable");
        assert_eq!(Some(&a.key), b.as_ref().map(|b| &b.key));
        assert_ne!(Some(a.key.clone()), batch_of(&stop("i-3", "eu-west-1")).map(|b| b.key));
        let mut other_account = stop("i-4", "us-east-1");
        other_account.account_id = Some("222222222222".into());
        assert_ne!(Some(a.key.clone()), batch_of(&other_account).map(|b| b.key));
        let merged = a.merged(&stop("i-1", "us-east-1"), &["i-1", "i-2", "i-9"]);
        assert_eq!(merged.args, ["--instance-ids", "i-1", "i-2", "i-9", "--region", "us-east-1"]);
        assert_eq!(merged.command, "aws ec2 stop-instances");
    }

    #[test]
    fn steps_that_cannot_share_a_call_run_alone() {
        // Not a list-taking call, a captured value, a value that reads as an option, the
        // option twice, an expected value on a change, a read whose query is not one field.
        let lone = [
            step("aws rds reboot-db-instance", &["--db-instance-identifier", "db"], None),
            step("aws ec2 stop-instances", &["--instance-ids", "{{ steps.1.id }}"], None),
            step("aws ec2 stop-instances", &["--instance-ids", "--force"], None),
            step(
                "aws ec2 stop-instances",
                &["--instance-ids", "i-1", "--instance-ids", "i-2"],
                None,
            ),
            step("aws ec2 stop-instances", &["--instance-ids", "i-1"], Some("x")),
            step(
                "aws ec2 describe-instances",
                &["--instance-ids", "i-1", "--query", "Reservations[0]", "--output", "text"],
                Some("x"),
            ),
            step(
                "aws ec2 describe-instances",
                &["--instance-ids", "i-1", "--query", "Reservations[0].Instances[0].Tags[?x]"],
                Some("x"),
            ),
        ];
        for step in &lone {
            assert_eq!(batch_of(step), None, "{step:?}");
        }
        let mut captured = stop("i-1", "us-east-1");
        captured.capture.insert("id".into(), "StoppingInstances[0].InstanceId".into());
        assert_eq!(batch_of(&captured), None);
    }

    #[test]
    fn a_change_is_judged_per_target_by_the_answer_listing_it() {
        let batch = batch_of(&stop("i-1", "us-east-1")).expect("batch");
        let answer = r#"{"StoppingInstances": [
            {"InstanceId": "i-1", "CurrentState": {"Name": "stopping"}},
            {"InstanceId": "i-2", "CurrentState": {"Name": "stopping"}}]}"#;
        assert_eq!(batch.judge("i-1", None, answer), Ok(()));
        assert_eq!(batch.judge("i-2", None, answer), Ok(()));
        assert!(batch.judge("i-3", None, answer).is_err());
        assert!(batch.judge("i-1", None, "not json").is_err());
        // A call whose answer lists nothing (reboot) succeeds for every target or none.
        let reboot = step("aws ec2 reboot-instances", &["--instance-ids", "i-1"], None);
        assert_eq!(batch_of(&reboot).expect("batch").judge("i-1", None, ""), Ok(()));
    }

    #[test]
    fn a_read_asks_for_every_target_and_judges_each_line() {
        let one = state("i-1", "stopped");
        let batch = batch_of(&one).expect("batch");
        assert_eq!(batch.key, batch_of(&state("i-2", "stopped")).expect("batch").key);
        assert_ne!(batch.key, batch_of(&state("i-2", "running")).expect("batch").key);
        let merged = batch.merged(&one, &["i-1", "i-2"]);
        assert_eq!(
            merged.args,
            [
                "--instance-ids",
                "i-1",
                "i-2",
                "--query",
                "Reservations[].Instances[].[InstanceId,State.Name]",
                "--output",
                "text",
                "--region",
                "us-east-1"
            ]
        );
        let answer = "i-2\tstopping\ni-1\tstopped\n";
        assert_eq!(batch.judge("i-1", Some("stopped"), answer), Ok(()));
        assert_eq!(
            batch.judge("i-2", Some("stopped"), answer),
            Err(r#"expected "stopped", observed "stopping""#.into())
        );
        assert!(batch.judge("i-3", Some("stopped"), answer).is_err());
        // A value that is a prefix of another target's is not that target's.
        assert!(batch.judge("i-", Some("stopped"), answer).is_err());
    }
}
