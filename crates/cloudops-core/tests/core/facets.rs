//! The estate's facets, read from the index, against a scan of every resource; and tag
//! filters given as structured pairs.

use std::collections::BTreeMap;

use cloudops_core::{
    AccountFacet, Error, Estate, EstateConfig, FacetCount, Facets, LookupRequest, Resource,
};

use crate::support;

/// The facets as the desktop app used to compute them: a pass over every resource.
fn scanned(estate: &Estate) -> Facets {
    let mut accounts: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let (mut regions, mut types, mut states, mut tag_keys) =
        (BTreeMap::new(), BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let mut resources = 0;
    estate
        .for_each(|resource| {
            resources += 1;
            *accounts
                .entry(resource.account_id.clone())
                .or_default()
                .entry(resource.account_name.clone())
                .or_default() += 1;
            *regions.entry(resource.region.clone()).or_insert(0) += 1;
            *types.entry(resource.resource_type.as_str().to_owned()).or_insert(0) += 1;
            if !resource.state.is_empty() {
                *states.entry(resource.state.to_lowercase()).or_insert(0) += 1;
            }
            for key in resource.tags.into_keys() {
                *tag_keys.entry(key).or_insert(0) += 1;
            }
            Ok(())
        })
        .expect("scan");
    let list = |counts: BTreeMap<String, usize>| -> Vec<FacetCount> {
        counts.into_iter().map(|(value, count)| FacetCount { value, count }).collect()
    };
    let accounts = accounts
        .into_iter()
        .map(|(id, names)| {
            let count = names.values().sum();
            let name = names.iter().max_by_key(|(_, count)| **count).map(|(n, _)| n.clone());
            AccountFacet { id, name: name.unwrap_or_default(), count }
        })
        .collect();
    Facets {
        resources,
        accounts,
        regions: list(regions),
        resource_types: list(types),
        states: list(states),
        tag_keys: list(tag_keys),
    }
}

#[test]
fn facets_from_the_index_match_a_scan_of_every_resource() {
    let estate = &support::lexical_demo_estate().estate;
    let facets = estate.facets().expect("facets");
    assert_eq!(facets, scanned(estate));
    // The demo estate has something of each.
    assert_eq!(facets.resources, 3_187);
    assert!(facets.accounts.len() >= 2, "{:?}", facets.accounts);
    assert!(facets.accounts.iter().all(|account| !account.name.is_empty()));
    assert!(facets.regions.len() >= 2 && facets.states.len() >= 2 && facets.tag_keys.len() >= 2);
    assert_eq!(facets.resource_types.len(), 5);
}

fn resource(name: &str, state: &str, tags: &[(&str, &str)]) -> Resource {
    crate::support::instance(name, state, "eu-west-1", "Sandbox", tags)
}

fn small_estate(directory: &std::path::Path) -> Estate {
    let config = EstateConfig::default();
    let estate = Estate::open(directory, config).expect("open");
    estate
        .upsert(&[
            resource("web-1", "running", &[("Name", "web 1"), ("team", "data")]),
            resource("web-2", "stopped", &[("Name", "web 2"), ("team", "ops")]),
            resource("batch", "running", &[("Team", "Data")]),
        ])
        .expect("upsert");
    estate
}

fn render(facets: &[FacetCount]) -> String {
    facets
        .iter()
        .map(|facet| format!("{}:{}", facet.value, facet.count))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn facets_follow_updates_and_removals() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let estate = small_estate(directory.path());
    let facets = estate.facets().expect("facets");
    assert_eq!(facets.resources, 3);
    assert_eq!(
        facets.accounts,
        [AccountFacet { id: "111111111111".into(), name: "Sandbox".into(), count: 3 }]
    );
    assert_eq!(render(&facets.regions), "eu-west-1:3");
    assert_eq!(render(&facets.resource_types), "ec2_instance:3");
    assert_eq!(render(&facets.states), "running:2 stopped:1");
    assert_eq!(render(&facets.tag_keys), "Name:2 Team:1 team:2");

    estate.upsert(&[resource("web-2", "running", &[("team", "ops")])]).expect("update");
    estate.remove(&[resource("batch", "", &[]).arn]).expect("remove");
    let facets = estate.facets().expect("facets");
    assert_eq!(facets.resources, 2);
    assert_eq!(facets.accounts[0].count, 2);
    assert_eq!(render(&facets.states), "running:2");
    assert_eq!(render(&facets.tag_keys), "Name:1 team:2");
    assert_eq!(facets, scanned(&estate));

    // Reopened, the same.
    drop(estate);
    let estate = small_estate(directory.path());
    assert_eq!(estate.facets().expect("facets").resources, 3, "batch written again");
    assert_eq!(estate.facets().expect("facets"), scanned(&estate));
}

fn names(estate: &Estate, request: LookupRequest) -> Vec<String> {
    let mut names: Vec<String> = estate
        .lookup(&LookupRequest { limit: Some(50), ..request })
        .expect("lookup")
        .results
        .into_iter()
        .map(|result| result.resource.name)
        .collect();
    names.sort();
    names
}

#[test]
fn structured_tags_filter_like_tags_in_the_query() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let estate = small_estate(directory.path());
    let tags = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(key, value)| ((*key).to_owned(), (*value).to_owned())).collect()
    };
    // Filter only; case-insensitive; trimmed.
    let request = LookupRequest { tags: tags(&[("team", "data")]), ..Default::default() };
    assert_eq!(names(&estate, request), ["batch", "web-1"]);
    let request = LookupRequest { tags: tags(&[(" TEAM ", " Ops ")]), ..Default::default() };
    assert_eq!(names(&estate, request), ["web-2"]);
    // A value with a space, as a pair and quoted in the query.
    let request = LookupRequest { tags: tags(&[("Name", "web 1")]), ..Default::default() };
    assert_eq!(names(&estate, request), ["web-1"]);
    let request = LookupRequest { query: r#"Name="web 2""#.into(), ..Default::default() };
    assert_eq!(names(&estate, request), ["web-2"]);
    // Pairs and the query's tags and words all hold.
    let request = LookupRequest {
        query: "web team=data".into(),
        tags: tags(&[("Name", "web 1")]),
        ..Default::default()
    };
    let response = estate.lookup(&request).expect("lookup");
    assert_eq!(response.results.len(), 1);
    assert_eq!(response.results[0].resource.name, "web-1");
    assert_eq!(
        response.understood.tags,
        [("team".to_owned(), "data".to_owned()), ("name".to_owned(), "web 1".to_owned())]
    );
    // An empty value is refused, with whose fault it is.
    let request = LookupRequest { tags: tags(&[("owner", " ")]), ..Default::default() };
    let error = estate.lookup(&request).expect_err("empty value");
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    assert!(error.to_string().contains("the value is empty"), "{error}");
}

#[test]
fn requests_without_tags_still_deserialize() {
    let request: LookupRequest = serde_json::from_str(r#"{"query": "web"}"#).expect("request");
    assert!(request.tags.is_empty());
    let request: LookupRequest =
        serde_json::from_str(r#"{"query": "", "tags": [["team", "data"]]}"#).expect("request");
    assert_eq!(request.tags, [("team".to_owned(), "data".to_owned())]);
}
