//! Behaviour of the estate handle: the design's lookups, persistence, incremental upserts,
//! format versioning, bad input.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cloudops_core::{
    Embedder, Error, ErrorKind, Estate, EstateConfig, HashEmbedder, LookupRequest, MatchKind,
    Resource, demo,
};

use crate::support;

fn find(estate: &Estate, query: &str) -> cloudops_core::LookupResponse {
    estate
        .lookup(&LookupRequest { query: query.into(), limit: Some(10), ..Default::default() })
        .expect("lookup")
}

#[test]
fn hostile_queries_do_not_fail() {
    let estate = &support::lexical_demo_estate().estate;
    for query in [
        "",
        " ",
        "\u{0}\u{7}",
        "=",
        "a=",
        ":x",
        &"x".repeat(10_000),
        "arn:",
        "i-",
        "日本語 データベース",
        "\"'; rm -rf /",
    ] {
        estate.lookup(&LookupRequest { query: query.into(), ..Default::default() }).expect(query);
    }
}

fn resource(name: &str, state: &str) -> Resource {
    crate::support::instance(name, state, "us-west-2", "sandbox", &[("app", "demo")])
}

/// Counts the texts it is asked to embed.
struct CountingEmbedder(Arc<AtomicUsize>);

impl Embedder for CountingEmbedder {
    fn name(&self) -> &str {
        "counting"
    }
    fn is_semantic(&self) -> bool {
        true
    }
    fn embed(&self, texts: &[&str]) -> cloudops_core::Result<Vec<Vec<f32>>> {
        self.0.fetch_add(texts.len(), Ordering::SeqCst);
        HashEmbedder.embed(texts)
    }
}

/// The estate in `directory` with a [`CountingEmbedder`] counting into `calls`.
fn counting_estate(directory: &std::path::Path, calls: &Arc<AtomicUsize>) -> Estate {
    Estate::open_with_embedder(
        directory,
        EstateConfig::default(),
        Box::new(CountingEmbedder(calls.clone())),
    )
    .expect("open")
}

#[test]
fn upserts_reembed_only_changed_text_and_persist() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let calls = Arc::new(AtomicUsize::new(0));
    let open = || counting_estate(directory.path(), &calls);
    let estate = open();
    // Numbered siblings share one embedded text.
    let fleet: Vec<Resource> =
        (1..=20).map(|n| resource(&format!("web-prod-{n:02}"), "running")).collect();
    let report = estate.upsert(&fleet).expect("upsert");
    assert_eq!((report.added, report.changed, report.unchanged), (20, 0, 0));
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one distinct text");

    // Same content: nothing rewritten, nothing embedded.
    let report = estate.upsert(&fleet).expect("upsert");
    assert_eq!((report.added, report.changed, report.unchanged, report.embedded), (0, 0, 20, 0));

    // A later sync seeing the same content is not a change either.
    let seen_again: Vec<Resource> = fleet
        .iter()
        .map(|r| Resource { last_seen: "2030-01-01T00:00:00Z".into(), ..r.clone() })
        .collect();
    let report = estate.upsert(&seen_again).expect("upsert");
    assert_eq!((report.changed, report.unchanged), (0, 20));

    // A state change rewrites the resource but keeps its vector.
    let mut changed = fleet.clone();
    changed[3].state = "stopped".into();
    let report = estate.upsert(&changed).expect("upsert");
    assert_eq!((report.changed, report.unchanged, report.embedded), (1, 19, 0));
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // A new purpose tag changes the embedded text.
    changed[5].tags.insert("purpose".into(), "reporting".into());
    let report = estate.upsert(&changed).expect("upsert");
    assert_eq!((report.changed, report.embedded), (1, 1));
    drop(estate);

    // Reopening neither rebuilds nor re-embeds, and sees the latest state.
    let before = calls.load(Ordering::SeqCst);
    let estate = open();
    assert_eq!(calls.load(Ordering::SeqCst), before);
    let response = find(&estate, "web-prod-04");
    assert_eq!(response.results[0].resource.state, "stopped");
    assert_eq!(estate.stats().expect("stats").resources, 20);

    // Updates and removals of resources written by an earlier process persist too.
    let mut later = changed.clone();
    later[7].state = "terminated".into();
    let report = estate.upsert(&later).expect("upsert");
    assert_eq!(report.changed, 1);
    estate.remove(&[fleet[9].arn.clone()]).expect("remove");
    drop(estate);
    let estate = open();
    assert_eq!(estate.get(&fleet[7].arn).expect("get").expect("present").state, "terminated");
    assert!(estate.get(&fleet[9].arn).expect("get").is_none(), "removal persisted");
    let report = estate.upsert(&later[..9]).expect("upsert");
    assert_eq!((report.changed, report.unchanged), (0, 9), "nothing to rewrite after reopening");

    // Removal by ARN.
    let removed = estate.remove(&[fleet[0].arn.clone(), "arn:aws:none".into()]).expect("remove");
    assert_eq!(removed, 1);
    assert!(estate.get(&fleet[0].arn).expect("get").is_none());
    assert!(find(&estate, "web-prod-01").results.iter().all(|r| r.resource.name != "web-prod-01"));
}

/// A counting estate holding `orders-api` and `billing-worker`.
fn two_services(directory: &std::path::Path, calls: &Arc<AtomicUsize>) -> Estate {
    let estate = counting_estate(directory, calls);
    estate
        .upsert(&[resource("orders-api", "running"), resource("billing-worker", "running")])
        .expect("upsert");
    estate
}

#[test]
fn a_single_letter_is_answered_without_a_query_embedding() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let calls = Arc::new(AtomicUsize::new(0));
    let estate = two_services(directory.path(), &calls);
    let before = calls.load(Ordering::SeqCst);
    let response = find(&estate, "o");
    assert!(!response.semantic);
    assert_eq!(calls.load(Ordering::SeqCst), before, "one letter is not embedded");
    // Two letters that decide nothing lexically are (the counter does see lookups).
    find(&estate, "zq");
    assert_eq!(calls.load(Ordering::SeqCst), before + 1);
}

#[test]
fn a_lexical_only_lookup_skips_the_query_embedding_and_says_so() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let calls = Arc::new(AtomicUsize::new(0));
    let estate = two_services(directory.path(), &calls);
    let before = calls.load(Ordering::SeqCst);
    let lookup = |query: &str, lexical_only| {
        estate
            .lookup(&LookupRequest { query: query.into(), lexical_only, ..Default::default() })
            .expect(query)
    };
    // Undecided lexically: the full lookup embeds the query, the lexical-only one does not
    // and says the answer may change.
    let first = lookup("zq orders", true);
    assert_eq!(calls.load(Ordering::SeqCst), before, "no query embedding");
    assert!(first.semantic_skipped && !first.semantic);
    let full = lookup("zq orders", false);
    assert_eq!(calls.load(Ordering::SeqCst), before + 1);
    assert!(!full.semantic_skipped);
    // An exact name is the answer either way: nothing to refine.
    let exact = lookup("orders-api", true);
    assert!(!exact.semantic_skipped);
    assert_eq!(exact.results[0].resource.name, "orders-api");
    assert_eq!(calls.load(Ordering::SeqCst), before + 1);
}

#[test]
fn a_different_embedder_reembeds_on_open() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let estate = Estate::open_with_embedder(
        directory.path(),
        EstateConfig::default(),
        Box::new(HashEmbedder),
    )
    .expect("open");
    estate.upsert(&[resource("a-1", "running"), resource("b-1", "running")]).expect("upsert");
    drop(estate);
    let calls = Arc::new(AtomicUsize::new(0));
    let estate = counting_estate(directory.path(), &calls);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(estate.stats().expect("stats").resources, 2);
}

#[test]
fn unreadable_format_versions_are_refused() {
    let directory = tempfile::tempdir().expect("temporary directory");
    drop(Estate::open(directory.path(), EstateConfig::default()).expect("open"));
    std::fs::write(
        directory.path().join("FORMAT.json"),
        r#"{"format_version": 99, "embedder": "hash-trigram-v1"}"#,
    )
    .expect("write");
    let error = Estate::open(directory.path(), EstateConfig::default())
        .expect_err("version 99 must be refused");
    assert_eq!(error.kind(), ErrorKind::Conflict);
    assert!(error.to_string().contains("format version 99"), "{error}");
}

#[test]
fn one_opener_at_a_time() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let config = EstateConfig::default;
    let first = Estate::open(directory.path(), config()).expect("open");
    first.upsert(&[resource("a-1", "running")]).expect("upsert");
    for second in [
        Estate::open(directory.path(), config()),
        Estate::open_with_embedder(directory.path(), config(), Box::new(HashEmbedder)),
        // A model is loaded only after the lock was taken: here it is never loaded.
        Estate::open_loading(directory.path(), config(), || {
            panic!("the embedder was loaded although the estate is in use")
        }),
    ] {
        let error = second.expect_err("a second opener must wait");
        assert_eq!(error.kind(), ErrorKind::Conflict);
        assert!(error.to_string().contains("in use by another cloudops process"), "{error}");
    }
    // The refused openers touched nothing: the first still works, and once it is closed
    // the next opener gets in and sees its write.
    assert_eq!(first.stats().expect("stats").resources, 1);
    drop(first);
    let next = Estate::open(directory.path(), config()).expect("open after the first closed");
    assert!(next.get(&resource("a-1", "running").arn).expect("get").is_some());
}

#[test]
fn an_embedder_that_cannot_load_leaves_a_warning_and_the_hashing_embedder() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let estate = Estate::open_loading(directory.path(), EstateConfig::default(), || {
        Err("the model is somewhere else".to_owned())
    })
    .expect("open");
    assert!(!estate.is_semantic());
    assert_eq!(
        estate.warnings(),
        ["running without semantic search: the model is somewhere else".to_owned()]
    );
    estate.upsert(&[resource("a-1", "running")]).expect("upsert");
    assert_eq!(find(&estate, "a-1").results[0].resource.name, "a-1");
}

/// The write-ahead log's closed segments in an estate directory.
fn closed_log_segments(directory: &std::path::Path) -> usize {
    std::fs::read_dir(directory.join("vectors/wal"))
        .expect("the log directory")
        .filter(|entry| {
            entry.as_ref().expect("entry").file_name().to_string_lossy().starts_with("closed-")
        })
        .count()
}

#[test]
fn the_write_ahead_log_keeps_one_closed_segment_and_updates_still_apply() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let config = EstateConfig::default;
    let mut fleet = demo::generate(&demo::DemoConfig::with_total(3_000));
    let estate = Estate::open(directory.path(), config()).expect("open");
    // Each pass rewrites every resource: about 10 MiB of log, more than one 8 MiB segment.
    for pass in 0..3 {
        for resource in &mut fleet {
            resource.last_seen = format!("2030-01-0{}T00:00:00Z", pass + 1);
            resource.state = if pass % 2 == 0 { "stopped" } else { "running" }.into();
        }
        estate.upsert(&fleet).expect("upsert");
    }
    drop(estate);
    assert!(closed_log_segments(directory.path()) > 1, "the passes closed several segments");

    // Reopening keeps the newest closed segment only, and numbering goes on from it: an
    // update and a removal of points written before are applied, and survive a reopen.
    let estate = Estate::open(directory.path(), config()).expect("reopen");
    assert_eq!(closed_log_segments(directory.path()), 1);
    let mut changed = fleet[7].clone();
    changed.state = "terminated".into();
    assert_eq!(estate.upsert(std::slice::from_ref(&changed)).expect("upsert").changed, 1);
    assert_eq!(estate.remove(&[fleet[9].arn.clone()]).expect("remove"), 1);
    drop(estate);
    let estate = Estate::open(directory.path(), config()).expect("reopen");
    assert_eq!(estate.get(&fleet[7].arn).expect("get").expect("present").state, "terminated");
    assert!(estate.get(&fleet[9].arn).expect("get").is_none(), "removal persisted");
    assert_eq!(estate.stats().expect("stats").resources, fleet.len() - 1);
}

#[test]
fn invalid_resources_are_rejected_with_their_fault() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let estate = Estate::open(directory.path(), EstateConfig::default()).expect("open");
    let mut bad = resource("x", "running");
    bad.arn.clear();
    let error = estate.upsert(&[bad]).expect_err("empty ARN");
    assert!(matches!(error, Error::InvalidInput(_)), "{error}");
    assert_eq!(estate.stats().expect("stats").resources, 0, "nothing written");
}

/// Indexes a small demo estate in `directory` without the model and closes it; returns the
/// configuration to reopen it with.
fn indexed_and_closed(directory: &std::path::Path) -> EstateConfig {
    let config = EstateConfig::default();
    let estate = Estate::open(directory, config.clone()).expect("open");
    estate.upsert(&demo::generate(&demo::DemoConfig::with_total(200))).expect("upsert");
    config
}

#[test]
fn the_lexical_index_is_rebuilt_when_it_lags_the_vectors() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let config = indexed_and_closed(directory.path());
    std::fs::remove_dir_all(directory.path().join("lexical")).expect("remove lexical index");
    let estate = Estate::open(directory.path(), config).expect("reopen");
    assert_eq!(find(&estate, "pg-instance-main1").results[0].matched_by, MatchKind::ExactName);
}

#[test]
fn a_lexical_index_of_another_layout_is_rebuilt_from_the_vectors() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let config = indexed_and_closed(directory.path());
    // An index with the same number of documents but another schema (an older version's).
    let lexical = directory.path().join("lexical");
    std::fs::remove_dir_all(&lexical).expect("remove lexical index");
    std::fs::create_dir_all(&lexical).expect("lexical directory");
    let mut schema = tantivy::schema::Schema::builder();
    let arn = schema.add_text_field("arn", tantivy::schema::STRING | tantivy::schema::STORED);
    let old = tantivy::Index::create_in_dir(&lexical, schema.build()).expect("old index");
    let mut writer: tantivy::IndexWriter = old.writer(15_000_000).expect("writer");
    let stored = demo::generate(&demo::DemoConfig::with_total(200));
    for resource in &stored {
        writer.add_document(tantivy::doc!(arn => resource.arn.clone())).expect("add");
    }
    writer.commit().expect("commit");
    drop((writer, old));

    let estate = Estate::open(directory.path(), config).expect("reopen");
    assert_eq!(find(&estate, "pg-instance-main1").results[0].matched_by, MatchKind::ExactName);
    let partial = find(&estate, "pg-main1");
    assert_eq!(partial.results[0].resource.name, "pg-instance-main1");
}

#[test]
fn identifiers_the_estate_lacks_find_near_misses_without_a_query_embedding() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let calls = Arc::new(AtomicUsize::new(0));
    let estate = counting_estate(directory.path(), &calls);
    estate.upsert(&demo::generate(&demo::DemoConfig::default())).expect("upsert");
    let before = calls.load(Ordering::SeqCst);
    // A deleted instance's ARN and id: nothing exact, no embedding of an identifier, and no
    // resource offered because it shares the account number or the `i-` prefix.
    for query in
        ["arn:aws:ec2:us-west-2:123456789012:instance/i-0fffffffffffffff1", "i-0fffffffffffffff1"]
    {
        let response = find(&estate, query);
        assert!(response.results.is_empty(), "{query}: {:?}", response.results.first());
    }
    // An RDS ARN carries the name: a near miss on it finds the instance.
    let near = find(&estate, "arn:aws:rds:us-east-1:123456789012:db:pg-instance-main9");
    assert_eq!(near.results[0].resource.name, "pg-instance-main1");
    assert!(near.results[0].matched_by != MatchKind::ExactArn);
    assert_eq!(calls.load(Ordering::SeqCst), before, "identifiers are never embedded");
}
