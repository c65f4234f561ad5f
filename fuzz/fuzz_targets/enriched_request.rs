//! Fuzzes the planner's input: any bytes are either refused as JSON or as a request, or
//! planned; a plan never carries a command outside the AWS CLI or a control character.
#![no_main]

use std::sync::{Arc, OnceLock};

use cloudops_playbooks::{Library, Planner};
use libfuzzer_sys::fuzz_target;

fn planner() -> &'static Planner {
    static PLANNER: OnceLock<Planner> = OnceLock::new();
    PLANNER.get_or_init(|| {
        Planner::new(Library::builtin(), Arc::new(cloudops_core::HashEmbedder))
            .expect("the built-in library indexes")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(request) = serde_json::from_slice::<cloudops_core::EnrichedRequest>(data) else {
        return;
    };
    let Ok(plan) = planner().plan_at(&request, "202601010000") else { return };
    if !plan.executable {
        assert!(plan.script.steps.is_empty());
    }
    for step in plan.script.steps.iter().chain(&plan.rollback.steps).chain(&plan.verification.steps) {
        assert!(step.command.starts_with("aws "));
        assert!(step.args.iter().all(|arg| !arg.chars().any(char::is_control)));
    }
});
