//! Retrieval accuracy over a labelled set of operator prompts (`retrieval_set.yaml`): the
//! planner must pick the right playbook from the prompt and the resource's type.

use std::sync::Arc;

use cloudops_core::Embedder;
use cloudops_playbooks::{Library, Planner};
use serde::Deserialize;

use crate::support::{planner, request, resource};

#[derive(Debug, Deserialize)]
struct Labelled {
    prompt: String,
    resource_type: String,
    playbook: String,
}

fn labelled() -> Vec<Labelled> {
    serde_yaml_ng::from_str(include_str!("retrieval_set.yaml")).expect("retrieval_set.yaml parses")
}

fn accuracy(planner: &Planner) -> (f64, Vec<String>) {
    let set = labelled();
    let mut wrong = Vec::new();
    for case in &set {
        let mut target = resource(&case.resource_type, "");
        // The prompt names the resource; the planner must not be helped by our fixture's name.
        target.name = None;
        let plan =
            planner.plan_at(&request(&case.prompt, vec![target]), "202611260930").expect("plans");
        let chosen = plan.playbook.map(|p| p.id).unwrap_or_else(|| "(none)".into());
        if chosen != case.playbook {
            wrong.push(format!("{:?}: got {chosen}, want {}", case.prompt, case.playbook));
        }
    }
    (1.0 - wrong.len() as f64 / set.len() as f64, wrong)
}

#[test]
fn the_planner_picks_the_labelled_playbook() {
    assert!(labelled().len() >= 120);
    let (score, wrong) = accuracy(planner());
    eprintln!("retrieval accuracy without the model: {score:.3}");
    assert!(score >= 0.9, "accuracy {score:.3}; wrong: {wrong:#?}");
}

#[test]
fn with_minilm_when_installed() {
    let directory = cloudops_embed::default_model_dir();
    let Some(directory) = directory.filter(|d| cloudops_embed::model_present(d)) else {
        assert!(
            std::env::var_os("CLOUDOPS_REQUIRE_MODEL").is_none(),
            "the model is required but missing"
        );
        eprintln!("MiniLM not installed; skipped");
        return;
    };
    let model: Arc<dyn Embedder> =
        Arc::new(cloudops_embed::MiniLmEmbedder::load(&directory).expect("model loads"));
    let planner = Planner::new(Library::builtin(), model).expect("indexes");
    let (score, wrong) = accuracy(&planner);
    eprintln!("retrieval accuracy with MiniLM: {score:.3}");
    assert!(score >= 0.9, "accuracy {score:.3}; wrong: {wrong:#?}");
}
