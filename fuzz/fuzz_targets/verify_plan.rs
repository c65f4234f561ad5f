//! Fuzzes the client's check of a server's plan. Bytes starting with `{` are two JSON
//! documents, a request and a plan; other bytes are edits to a real plan. Either way the
//! check never panics, a refusal says why without echoing control characters, and a plan
//! that passes runs the playbook's commands with no lower risk than the client's own.
#![no_main]

use std::sync::{Arc, OnceLock};

use cloudops_core::{EnrichedRequest, PlanResponse, RiskLevel, Script, Step};
use cloudops_playbooks::{Library, Planner, verify_plan};
use libfuzzer_sys::fuzz_target;

fn planner() -> &'static Planner {
    static PLANNER: OnceLock<Planner> = OnceLock::new();
    PLANNER.get_or_init(|| {
        Planner::new(Library::builtin(), Arc::new(cloudops_core::HashEmbedder))
            .expect("the built-in library indexes")
    })
}

/// A real plan with a timestamp, a rollback and verification steps, and its request.
fn baseline() -> &'static (EnrichedRequest, PlanResponse) {
    static BASELINE: OnceLock<(EnrichedRequest, PlanResponse)> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let request: EnrichedRequest = serde_json::from_str(
            r#"{"prompt": "stop pg-instance-main1 with a snapshot",
                "identified_resources": [{
                    "resource_type": "rds_instance", "id": "pg-instance-main1",
                    "arn": "arn:aws:rds:us-west-2:123456789012:db:pg-instance-main1",
                    "account_id": "123456789012", "region": "us-west-2",
                    "current_state": "available", "tags": {"env": "prod"},
                    "engine": "postgres", "multi_az": true,
                    "constraints": {"has_read_replicas": false, "can_stop": true}}]}"#,
        )
        .expect("the fixture parses");
        let plan = planner()
            .plan_with_playbook(
                &request,
                "aws_rds_stop_instance_with_snapshot",
                0.9,
                "202601010000",
            )
            .expect("the fixture plans");
        (request, plan)
    })
}

/// Reads edits from the fuzzer's bytes.
struct Edits<'a>(&'a [u8]);

impl Edits<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*first)
    }

    fn text(&mut self) -> Option<String> {
        let length = usize::from(self.byte()? % 40).min(self.0.len());
        let (text, rest) = self.0.split_at(length);
        self.0 = rest;
        Some(String::from_utf8_lossy(text).into_owned())
    }

    fn index(&mut self, length: usize) -> Option<usize> {
        Some(usize::from(self.byte()?) % length.max(1))
    }

    fn script<'p>(&mut self, plan: &'p mut PlanResponse) -> Option<&'p mut Script> {
        Some(match self.byte()? % 3 {
            0 => &mut plan.script,
            1 => &mut plan.rollback,
            _ => &mut plan.verification,
        })
    }

    fn step<'p>(&mut self, plan: &'p mut PlanResponse) -> Option<&'p mut Step> {
        let script = self.script(plan)?;
        let index = self.index(script.steps.len())?;
        script.steps.get_mut(index)
    }

    /// Applies one edit; `None` when the bytes ran out.
    fn apply(&mut self, plan: &mut PlanResponse) -> Option<()> {
        match self.byte()? % 12 {
            0 => self.step(plan)?.command = self.text()?,
            1 => {
                let step = self.step(plan)?;
                let index = self.index(step.args.len())?;
                let text = self.text()?;
                if let Some(arg) = step.args.get_mut(index) {
                    *arg = text;
                }
            }
            2 => {
                let step = self.step(plan)?;
                let index = self.index(step.args.len() + 1)?;
                let text = self.text()?;
                step.args.insert(index.min(step.args.len()), text);
            }
            3 => {
                let step = self.step(plan)?;
                let index = self.index(step.args.len())?;
                if index < step.args.len() {
                    step.args.remove(index);
                }
            }
            4 => {
                let copy = self.step(plan)?.clone();
                self.script(plan)?.steps.push(copy);
            }
            5 => {
                let script = self.script(plan)?;
                let index = self.index(script.steps.len())?;
                if index < script.steps.len() {
                    script.steps.remove(index);
                }
            }
            6 => self.step(plan)?.step_id = self.text()?,
            7 => {
                let account = if self.byte()? % 2 == 0 { None } else { Some(self.text()?) };
                self.step(plan)?.account_id = account;
            }
            8 => {
                let byte = self.byte()?;
                plan.risk_assessment.level = match byte % 4 {
                    0 => RiskLevel::Low,
                    1 => RiskLevel::Medium,
                    2 => RiskLevel::High,
                    _ => RiskLevel::Critical,
                };
                plan.approval_required = byte & 0x80 != 0;
                plan.risk_assessment.reasons.push(self.text()?);
            }
            9 => {
                let text = self.text()?;
                let reference = plan.playbook.as_mut()?;
                if self.byte()? % 2 == 0 { reference.id = text } else { reference.version = text }
            }
            10 => {
                let text = self.text()?;
                let step = self.step(plan)?;
                if text.len() % 2 == 0 {
                    step.expect = Some(text);
                } else {
                    step.capture.insert(text.clone(), text);
                }
            }
            _ => plan.executable = !plan.executable,
        }
        Some(())
    }
}

/// What holds for any request and plan.
fn check(request: &EnrichedRequest, plan: &PlanResponse) -> bool {
    match verify_plan(planner().library(), request, plan) {
        Ok(verified) => {
            assert!(verified.risk.level >= plan.risk_assessment.level);
            assert!(verified.approval_required || !plan.approval_required);
            assert_eq!(plan.playbook.as_ref().map(|p| &p.id), Some(&verified.playbook.playbook.id));
            for step in
                plan.script.steps.iter().chain(&plan.rollback.steps).chain(&plan.verification.steps)
            {
                assert!(step.command.starts_with("aws "));
                assert!(step.args.iter().all(|arg| !arg.chars().any(char::is_control)));
            }
            assert!(verified.risk.reasons.iter().all(|r| !r.chars().any(char::is_control)));
            true
        }
        Err(refusal) => {
            assert!(!refusal.reasons.is_empty());
            let shown = refusal.to_string();
            assert!(!shown.chars().any(char::is_control), "{shown:?}");
            false
        }
    }
}

fn commands(plan: &PlanResponse) -> Vec<&str> {
    let steps =
        plan.script.steps.iter().chain(&plan.rollback.steps).chain(&plan.verification.steps);
    steps.map(|step| step.command.as_str()).collect()
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        let mut documents =
            serde_json::Deserializer::from_slice(data).into_iter::<serde_json::Value>();
        let (Some(Ok(request)), Some(Ok(plan))) = (documents.next(), documents.next()) else {
            return;
        };
        let (Ok(request), Ok(plan)) = (
            serde_json::from_value::<EnrichedRequest>(request),
            serde_json::from_value::<PlanResponse>(plan),
        ) else {
            return;
        };
        check(&request, &plan);
        return;
    }
    let (request, original) = baseline();
    let mut plan = original.clone();
    let mut edits = Edits(data);
    // Every edit reads at least one byte; one that finds nothing to edit is skipped.
    while !edits.0.is_empty() {
        let _ = edits.apply(&mut plan);
    }
    let verified = check(request, &plan);
    if plan == *original {
        assert!(verified, "the planner's own plan verifies");
    }
    if verified {
        // Only the timestamp, descriptions and presentation may have changed.
        assert_eq!(commands(&plan), commands(original));
    }
});
