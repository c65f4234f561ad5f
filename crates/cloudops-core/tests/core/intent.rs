//! Intent classification (issue 26): a table of prompts, and the evaluation over the
//! labelled sets in `tests/data/intent/` (`tune.jsonl` for tuning the rules,
//! `held_out.jsonl` for measuring them; the rules were never tuned on the held-out set).

use std::collections::BTreeMap;

use cloudops_core::{IntentClass, classify};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Labelled {
    prompt: String,
    class: IntentClass,
}

fn labelled(file: &str) -> Vec<Labelled> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/intent").join(file);
    let text = std::fs::read_to_string(&path).expect("the labelled set is readable");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

/// Per class: (right, total).
type PerClass = BTreeMap<&'static str, (usize, usize)>;

/// Per class, the wrong answers, and the non-action prompts classified as actions.
fn evaluate(set: &[Labelled]) -> (PerClass, Vec<String>, Vec<String>) {
    let mut per_class: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    let mut wrong = Vec::new();
    let mut unsafe_actions = Vec::new();
    for case in set {
        let got = classify(&case.prompt);
        let entry = per_class.entry(case.class.as_str()).or_default();
        entry.1 += 1;
        if got.class == case.class {
            entry.0 += 1;
        } else {
            wrong.push(format!(
                "{:?}: got {}, want {} ({:?})",
                case.prompt, got.class, case.class, got.cues
            ));
        }
        if case.class != IntentClass::Action && got.class == IntentClass::Action {
            unsafe_actions.push(case.prompt.clone());
        }
    }
    (per_class, wrong, unsafe_actions)
}

fn report(name: &str, set: &[Labelled]) -> Vec<String> {
    let (per_class, wrong, unsafe_actions) = evaluate(set);
    let right: usize = per_class.values().map(|(r, _)| r).sum();
    eprintln!(
        "{name}: {} prompts, {right} classified as labelled ({:.3})",
        set.len(),
        right as f64 / set.len() as f64
    );
    for (class, (r, t)) in &per_class {
        eprintln!("  {class:<24} {r:>3}/{t:<3} {:.3}", *r as f64 / *t as f64);
    }
    eprintln!("  non-action prompts classified action: {}", unsafe_actions.len());
    for line in &wrong {
        eprintln!("  wrong: {line}");
    }
    unsafe_actions
}

#[test]
fn prompts_are_classified() {
    use IntentClass::*;
    let table = [
        ("Stop pg-instance-main1", Action),
        ("stop pg-instance-main1", Action),
        ("please stop the checkout web servers in staging", Action),
        ("can you stop web-prod-01?", Action),
        ("stopp web-prod-01", Action),
        ("reboot all the kafka brokers", Action),
        ("make payments-pg-prod multi az", Action),
        ("web-prod-01 needs to be an m5.xlarge", Action),
        ("loadtest-pg-dev doesn't need automated backups, disable them", Action),
        ("acme-customer-support-attachments should never be public, block it", Action),
        ("encrypt the disk of web-prod-01", Action),
        ("don't stop pg-instance-main1", NegatedOrHypothetical),
        ("do not reboot web-prod-01", NegatedOrHypothetical),
        ("never delete acme-terraform-state", NegatedOrHypothetical),
        ("stop me from deleting pg-instance-main1", NegatedOrHypothetical),
        ("no need to stop it", NegatedOrHypothetical),
        ("should I stop pg-instance-main1?", NegatedOrHypothetical),
        ("what would happen if I stop pg-instance-main1", NegatedOrHypothetical),
        ("what if we reboot web-prod-01", NegatedOrHypothetical),
        ("would it be safe to terminate web-prod-01", NegatedOrHypothetical),
        ("could I delete the bucket?", NegatedOrHypothetical),
        ("count the EC2 instances per region in development", Question),
        ("is pg-instance-main1 backed up?", Question),
        ("how big is pg-instance-main1", Question),
        ("who owns pg-instance-main1", Question),
        ("list the buckets", Question),
        ("how many lambdas are there", Question),
        ("thanks!", OutOfScope),
        ("hello", OutOfScope),
        ("tell me a joke", OutOfScope),
        ("make pg-instance-main1 faster", Unclear),
        ("pg-instance-main1", Unclear),
        ("", Unclear),
        // The operator's words decide, not the names or quoted text.
        ("stop dont-stop-me-01", Action),
        ("tag web-prod-01 with note=\"what if we delete it?\"", Action),
        ("don't reboot \"reboot-now\"", NegatedOrHypothetical),
        ("is \"stop it now\" running", Question),
        ("ＳＴＯＰ web-prod-01", Action),
    ];
    let mut wrong = Vec::new();
    for (prompt, class) in table {
        let got = classify(prompt);
        if got.class != class {
            wrong.push(format!("{prompt:?}: got {} ({:?}), want {class}", got.class, got.cues));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let stop = classify("please stopp pg-instance-main1");
    assert_eq!(stop.operation.as_deref(), Some("stop"));
    assert!(classify("don't stop it").cues.contains(&"don't".to_owned()));
    assert!(classify("what if we stop it").is_preview());
    assert!(!classify("don't stop it").is_preview());
    assert!(
        classify("how many instances")
            .decline()
            .is_some_and(|m| m.contains("questions are answered by the client"))
    );
    assert_eq!(
        serde_json::to_value(IntentClass::NegatedOrHypothetical).expect("JSON"),
        "negated_or_hypothetical"
    );
}

#[test]
fn hostile_and_huge_prompts_do_not_panic() {
    for prompt in [
        "\u{0}\u{1}\u{7f}".to_owned(),
        "\"".repeat(10_000),
        "'".repeat(10_000),
        "stop ".repeat(100_000),
        "é".repeat(50_000),
        "\u{202e}pots\u{202c} web-1".to_owned(),
        "don't".repeat(5_000),
    ] {
        let _ = classify(&prompt);
    }
}

#[test]
fn the_labelled_sets_are_large_enough_and_split() {
    let (tune, held_out) = (labelled("tune.jsonl"), labelled("held_out.jsonl"));
    assert!(tune.len() + held_out.len() >= 300);
    assert!(held_out.len() * 3 >= tune.len(), "held out is about 40%");
    for case in &held_out {
        assert!(tune.iter().all(|t| t.prompt != case.prompt), "{:?} is in both sets", case.prompt);
    }
}

#[test]
fn tune_set() {
    let unsafe_actions = report("tune", &labelled("tune.jsonl"));
    assert!(unsafe_actions.is_empty(), "{unsafe_actions:#?}");
}

/// The target of issue 26: on the held-out prompts, no non-action prompt is an action.
#[test]
fn held_out_set_has_no_non_action_classified_as_action() {
    let unsafe_actions = report("held out", &labelled("held_out.jsonl"));
    assert!(unsafe_actions.is_empty(), "{unsafe_actions:#?}");
}
