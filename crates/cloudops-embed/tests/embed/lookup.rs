//! The design's lookups on the demo estate, with the MiniLM model when installed: exact
//! names, partial names, scopes, tags, states, ambiguity.

use cloudops_core::{Estate, LookupRequest, MatchKind, ResourceType};

use crate::support;

fn find(estate: &Estate, query: &str) -> cloudops_core::LookupResponse {
    estate
        .lookup(&LookupRequest { query: query.into(), limit: Some(10), ..Default::default() })
        .expect("lookup")
}

#[test]
fn design_example_exact_name_is_a_perfect_match() {
    let estate = &support::demo_estate().estate;
    let response = find(estate, "Stop pg-instance-main1");
    let top = &response.results[0];
    assert_eq!(top.resource.name, "pg-instance-main1");
    assert_eq!(top.resource.resource_type, ResourceType::RdsInstance);
    assert_eq!(top.resource.region, "us-west-2");
    assert_eq!(top.resource.account_id, "123456789012");
    assert_eq!(top.matched_by, MatchKind::ExactName);
    assert_eq!(top.score, 1.0);
    assert!(!response.ambiguous);
    assert_eq!(response.results.len(), 1);
}

#[test]
fn design_example_partial_names() {
    let estate = &support::demo_estate().estate;
    for query in ["pg-main", "pg-main1", "stop pg-main1"] {
        let response = find(estate, query);
        assert_eq!(response.results[0].resource.name, "pg-instance-main1", "{query}");
    }
}

#[test]
fn design_example_production_database() {
    let estate = &support::demo_estate().estate;
    let response = find(estate, "production database");
    assert!(!response.results.is_empty());
    for result in &response.results {
        assert_eq!(result.resource.resource_type, ResourceType::RdsInstance);
        assert_eq!(result.resource.environment().as_deref(), Some("production"));
    }
    assert!(response.ambiguous, "many production databases: the operator must choose");
}

#[test]
fn design_example_tag_filters() {
    let estate = &support::demo_estate().estate;
    let response = find(estate, "env=prod app=main");
    assert!(!response.results.is_empty());
    for result in &response.results {
        assert_eq!(result.resource.tags.get("app").map(String::as_str), Some("main"));
        assert_eq!(result.resource.environment().as_deref(), Some("production"));
    }
    let names: Vec<&str> = response.results.iter().map(|r| r.resource.name.as_str()).collect();
    assert!(names.contains(&"pg-instance-main1"), "{names:?}");
}

#[test]
fn scopes_filter_results() {
    let estate = &support::demo_estate().estate;
    let response = find(estate, "reboot the checkout servers in staging");
    assert!(!response.results.is_empty());
    for result in &response.results {
        assert_eq!(result.resource.resource_type, ResourceType::Ec2Instance);
        assert_eq!(result.resource.account_name, "staging");
        assert!(result.resource.name.starts_with("checkout"), "{}", result.resource.name);
    }
    let europe = find(estate, "payments servers in europe");
    for result in &europe.results {
        assert!(result.resource.region.starts_with("eu-"));
    }
}

#[test]
fn the_state_filter_narrows_words_and_filter_only_lookups() {
    let estate = &support::demo_estate().estate;
    let states = |response: &cloudops_core::LookupResponse| -> Vec<String> {
        response.results.iter().map(|r| r.resource.state.to_lowercase()).collect()
    };
    let all = estate
        .lookup(&LookupRequest { query: "checkout".into(), limit: Some(200), ..Default::default() })
        .expect("lookup");
    let all_states = states(&all);
    assert!(all_states.iter().any(|s| s == "stopped"), "{all_states:?}");
    assert!(all_states.iter().any(|s| s == "running"), "{all_states:?}");

    for state in ["stopped", "RUNNING"] {
        let narrowed = estate
            .lookup(&LookupRequest {
                query: "checkout".into(),
                state: Some(state.into()),
                limit: Some(200),
                ..Default::default()
            })
            .expect("lookup");
        assert!(!narrowed.results.is_empty(), "{state}");
        assert!(states(&narrowed).iter().all(|s| *s == state.to_lowercase()), "{state}");
    }

    // No words, only filters: the explorer's "list what is stopped in staging".
    let listing = estate
        .lookup(&LookupRequest {
            query: String::new(),
            account: Some("staging".into()),
            state: Some("stopped".into()),
            limit: Some(1000),
            ..Default::default()
        })
        .expect("lookup");
    assert!(!listing.results.is_empty());
    for result in &listing.results {
        assert_eq!(result.resource.account_name, "staging");
        assert_eq!(result.resource.state.to_lowercase(), "stopped");
        assert_eq!(result.matched_by, MatchKind::Filter);
    }
}

#[test]
fn near_duplicates_are_ambiguous_unless_named() {
    let estate = &support::demo_estate().estate;
    let response = find(estate, "checkout web");
    assert!(
        response.ambiguous,
        "{:?}",
        response.results.iter().map(|r| &r.resource.name).collect::<Vec<_>>()
    );
}

#[test]
fn out_of_scope_matches_are_flagged_not_guessed() {
    let estate = &support::demo_estate().estate;
    let response = find(estate, "img-thumbnailer-prod in staging");
    assert!(response.ambiguous);
    assert!(response.notes.iter().any(|note| note.contains("outside")), "{:?}", response.notes);
}

#[test]
fn unknown_things_find_nothing_rather_than_anything() {
    let estate = &support::demo_estate().estate;
    let response = find(estate, "zzqxv-nonexistent-9999");
    assert!(response.results.iter().all(|r| r.score < 0.9) || response.results.is_empty());
}
