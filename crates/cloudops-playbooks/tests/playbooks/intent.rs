//! Issue 26's evaluation of the planner over the labelled prompts of
//! `cloudops-core/tests/data/intent/` (`tune.jsonl` tunes, `held_out.jsonl` measures): the
//! right playbook for actions (none, for operations the library does not have), and no
//! executable plan for any other prompt.

use cloudops_core::{IntentClass, PlanResponse};
use cloudops_playbooks::Planner;
use serde::Deserialize;

use crate::support::{planner, request, resource};

#[derive(Debug, Deserialize)]
struct Labelled {
    prompt: String,
    class: IntentClass,
    playbook: Option<String>,
    resource_type: String,
}

fn labelled(file: &str) -> Vec<Labelled> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cloudops-core/tests/data/intent")
        .join(file);
    let text = std::fs::read_to_string(&path).expect("the labelled set is readable");
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

fn plan(planner: &Planner, case: &Labelled) -> PlanResponse {
    let mut target = resource(&case.resource_type, "");
    // The prompt names the resource; the fixture's name must not help.
    target.name = None;
    planner.plan_at(&request(&case.prompt, vec![target]), "202611260930").expect("plans")
}

struct Score {
    actions: usize,
    right: usize,
    wrong: Vec<String>,
    non_actions: usize,
    executable: Vec<String>,
}

fn evaluate(planner: &Planner, set: &[Labelled]) -> Score {
    let mut score =
        Score { actions: 0, right: 0, wrong: Vec::new(), non_actions: 0, executable: Vec::new() };
    for case in set {
        let plan = plan(planner, case);
        let chosen = plan.playbook.as_ref().map(|p| p.id.clone());
        if case.class == IntentClass::Action {
            score.actions += 1;
            let right = match &case.playbook {
                Some(expected) => chosen.as_ref() == Some(expected),
                None => chosen.is_none() && !plan.executable,
            };
            if right {
                score.right += 1;
            } else {
                score.wrong.push(format!(
                    "{:?}: got {}, want {}",
                    case.prompt,
                    chosen.as_deref().unwrap_or("(none)"),
                    case.playbook.as_deref().unwrap_or("(none)")
                ));
            }
        } else {
            score.non_actions += 1;
            if plan.executable {
                score.executable.push(format!("{:?} ({})", case.prompt, case.class));
            }
            assert_ne!(plan.intent_class, Some(IntentClass::Action), "{}", case.prompt);
        }
    }
    score
}

fn report(name: &str, score: &Score) -> f64 {
    let accuracy = score.right as f64 / score.actions as f64;
    eprintln!(
        "{name}: correct playbook on {}/{} actions ({accuracy:.3}); executable plans from non-action prompts: {}/{}",
        score.right,
        score.actions,
        score.executable.len(),
        score.non_actions
    );
    for line in &score.wrong {
        eprintln!("  wrong: {line}");
    }
    accuracy
}

#[test]
fn tune_set_without_the_model() {
    let score = evaluate(planner(), &labelled("tune.jsonl"));
    report("tune", &score);
    assert!(score.executable.is_empty(), "{:#?}", score.executable);
}

/// Issue 26's targets on the held-out prompts: no executable plan from a non-action prompt,
/// and at least 0.97 of the actions planned with the right playbook.
#[test]
fn held_out_set_without_the_model() {
    let score = evaluate(planner(), &labelled("held_out.jsonl"));
    let accuracy = report("held out", &score);
    assert!(score.executable.is_empty(), "{:#?}", score.executable);
    assert!(accuracy >= 0.97, "accuracy {accuracy:.3}; wrong: {:#?}", score.wrong);
}

#[test]
fn questions_and_negations_are_declined_and_hypotheticals_previewed() {
    let db = || resource("rds_instance", "");
    let question = planner()
        .plan_at(&request("is pg-instance-main1 stopped?", vec![db()]), "202611260930")
        .expect("plans");
    assert!(!question.executable && question.script.steps.is_empty());
    assert_eq!(question.intent_class, Some(IntentClass::Question));
    assert!(
        question.explain_plan.contains("questions are answered by the client, nothing was planned"),
        "{}",
        question.explain_plan
    );
    let negated = planner()
        .plan_at(&request("don't stop pg-instance-main1", vec![db()]), "202611260930")
        .expect("plans");
    assert!(!negated.executable && negated.playbook.is_none() && negated.script.steps.is_empty());
    let preview = planner()
        .plan_at(&request("what if I stop pg-instance-main1", vec![db()]), "202611260930")
        .expect("plans");
    assert!(!preview.executable, "{}", preview.explain_plan);
    assert!(preview.explain_plan.starts_with("Preview only"), "{}", preview.explain_plan);
    assert_eq!(preview.playbook.map(|p| p.id).as_deref(), Some("aws_rds_stop_instance"));
    // A playbook chosen outside retrieval is not rendered for a question either.
    let chosen = planner()
        .plan_with_playbook(
            &request("is it stopped?", vec![db()]),
            "aws_rds_stop_instance",
            0.9,
            "202611260930",
        )
        .expect("plans");
    assert!(!chosen.executable && chosen.script.steps.is_empty());
}

#[test]
fn an_operation_needs_words_for_it_not_just_a_resource_type() {
    for (prompt, kind) in [
        ("encrypt the disk of web-prod-01", "ec2_instance"),
        ("make pg-instance-main1 faster", "rds_instance"),
        ("encrypt pg-instance-main1", "rds_instance"),
    ] {
        let plan = planner()
            .plan_at(&request(prompt, vec![resource(kind, "")]), "202611260930")
            .expect("plans");
        assert!(plan.playbook.is_none() && !plan.executable, "{prompt}: {:?}", plan.playbook);
        assert!(
            plan.explain_plan.contains(&format!("operations this library has for {kind}")),
            "{}",
            plan.explain_plan
        );
    }
}
