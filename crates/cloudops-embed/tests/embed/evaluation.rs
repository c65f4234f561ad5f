//! Top-1 accuracy on the labelled evaluation set, per category.

use std::collections::BTreeMap;

use cloudops_core::{Estate, LookupRequest, demo};

use crate::support;

fn accuracy(estate: &Estate) -> (BTreeMap<String, (usize, usize)>, Vec<String>) {
    let resources = demo::generate(&demo::DemoConfig::default());
    let queries = demo::evaluation_set(&resources);
    let mut per_category: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for labelled in &queries {
        let response = estate
            .lookup(&LookupRequest {
                query: labelled.query.clone(),
                limit: Some(5),
                ..Default::default()
            })
            .expect("lookup");
        let top = response.results.first().map(|r| r.resource.arn.as_str());
        let entry = per_category.entry(labelled.category.clone()).or_default();
        entry.1 += 1;
        if top == Some(labelled.expected_arn.as_str()) {
            entry.0 += 1;
        } else {
            failures.push(format!(
                "[{}] {:?}: expected {}, got {:?}",
                labelled.category,
                labelled.query,
                labelled.expected_arn,
                response.results.iter().take(3).map(|r| &r.resource.name).collect::<Vec<_>>()
            ));
        }
    }
    (per_category, failures)
}

fn report(per_category: &BTreeMap<String, (usize, usize)>) -> f64 {
    let (mut right, mut total) = (0, 0);
    for (category, (hits, count)) in per_category {
        eprintln!("{category:<15} {hits:>3}/{count:<3} {:.3}", *hits as f64 / *count as f64);
        right += hits;
        total += count;
    }
    let overall = right as f64 / total as f64;
    eprintln!("{:<15} {right:>3}/{total:<3} {overall:.3}", "overall");
    overall
}

#[test]
fn the_set_is_large_and_covers_every_category() {
    let resources = demo::generate(&demo::DemoConfig::default());
    let queries = demo::evaluation_set(&resources);
    assert!(queries.len() >= 150, "only {} labelled queries", queries.len());
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for query in &queries {
        *counts.entry(query.category.as_str()).or_default() += 1;
    }
    for category in
        ["exact", "id_arn", "partial", "near_duplicate", "typo", "semantic", "scoped", "tag"]
    {
        assert!(counts.get(category).copied().unwrap_or(0) >= 15, "{category}: {counts:?}");
    }
}

#[test]
fn hybrid_top1_accuracy() {
    let fixture = support::demo_estate();
    let (per_category, failures) = accuracy(&fixture.estate);
    let overall = report(&per_category);
    for failure in &failures {
        eprintln!("miss: {failure}");
    }
    assert!(overall >= 0.95, "overall top-1 accuracy {overall:.3} < 0.95");
    for (category, (hits, count)) in &per_category {
        let value = *hits as f64 / *count as f64;
        // Without the model, descriptions that share no word with the resource cannot be found.
        let floor = if category == "semantic" && !fixture.estate.is_semantic() { 0.5 } else { 0.9 };
        assert!(value >= floor, "{category}: {value:.3} < {floor}");
    }
}

#[test]
fn lexical_only_accuracy_on_identifier_categories() {
    let fixture = support::lexical_demo_estate();
    let (per_category, _) = accuracy(&fixture.estate);
    report(&per_category);
    for category in ["exact", "id_arn", "partial", "near_duplicate", "typo", "scoped", "tag"] {
        let (hits, count) = per_category[category];
        assert!(hits as f64 / count as f64 >= 0.9, "{category}: {hits}/{count}");
    }
}
