//! Structured-query latency: counts, groups, filters and listings from the index's columns,
//! and questions read and answered, at several estate sizes; against a scan of every
//! resource (what answering without the index costs) in the same run. Prints a Markdown
//! table for `docs/benchmarks.md`.
//!
//! Run: `cargo run --release -p cloudops-core --example bench_query -- 3000 100000`
//! (`--index DIR` keeps each size's estate under `DIR/<size>-query` and reuses it; the
//! estates are the demo estate grown with `demo::grown`, on core's hashing embedder, since
//! queries never embed).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use cloudops_core::{Estate, EstateConfig, GroupKey, QueryRequest, demo};

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// The measured queries: (kind, filters, group keys, listing limit).
const QUERIES: &[(&str, &str, &[&str], usize)] = &[
    ("count", "type:ec2_instance state:running", &[], 0),
    ("count", "-tag:owner", &[], 0),
    ("count", "type:rds_instance automated_backups_enabled=false", &[], 0),
    ("count", "engine=postgres multi_az=false", &[], 0),
    ("count", "created>30d type:ec2_instance", &[], 0),
    ("count", "name:checkout env:staging", &[], 0),
    ("group by 1", "type:ec2_instance", &["region"], 0),
    ("group by 1", "", &["type"], 0),
    ("group by 1", "-state:running", &["tag:team"], 0),
    ("group by 2", "", &["account", "state"], 0),
    ("group by 2", "type:ec2_instance", &["region", "instance_type"], 0),
    ("list 20", "type:ec2_instance state:stopped", &[], 20),
    ("list 20", "tag:env=prod", &[], 20),
];

const QUESTIONS: &[&str] = &[
    "how many databases have no backups?",
    "count the EC2 instances per region in development",
    "which instances have no owner tag?",
    "how many load balancers are in eu-west-1?",
    "instances stopped for more than a week",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut sizes = Vec::new();
    let mut index_dir: Option<PathBuf> = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--index" => index_dir = args.next().map(PathBuf::from),
            size => sizes.push(size.parse::<usize>()?),
        }
    }
    if sizes.is_empty() {
        sizes.push(3_000);
    }
    let mut rows = Vec::new();
    for size in sizes {
        let temporary = tempfile::tempdir()?;
        let path = match &index_dir {
            Some(dir) => dir.join(format!("{size}-query")),
            None => temporary.path().join("estate"),
        };
        let estate = Estate::open(&path, EstateConfig::default())?;
        let resources = demo::grown(size);
        if estate.len()? != resources.len() {
            let started = Instant::now();
            estate.upsert(&resources)?;
            eprintln!("{size}: built in {:.1} s", started.elapsed().as_secs_f64());
        }
        let count = estate.len()?;
        drop(resources);

        let requests: Vec<(&str, QueryRequest)> = QUERIES
            .iter()
            .map(|(kind, text, keys, limit)| {
                let mut request = QueryRequest::parse(text).expect("query");
                request.group_by = keys.iter().map(|k| GroupKey::parse(k).expect("key")).collect();
                request.limit = *limit;
                (*kind, request)
            })
            .collect();
        let mut by_kind: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
        let rounds = if count > 200_000 { 20 } else { 100 };
        for (_, request) in &requests {
            estate.query(request)?;
        }
        for _ in 0..rounds {
            for (kind, request) in &requests {
                let started = Instant::now();
                let answer = estate.query(request)?;
                by_kind.entry(kind).or_default().push(started.elapsed().as_secs_f64() * 1e3);
                std::hint::black_box(answer);
            }
            for question in QUESTIONS {
                let started = Instant::now();
                let read = estate.read_question(question)?;
                let answer = estate.query(&QueryRequest { limit: 20, ..read.request })?;
                by_kind.entry("question").or_default().push(started.elapsed().as_secs_f64() * 1e3);
                std::hint::black_box(answer);
            }
        }
        // Without the index's columns: every resource decoded and tested.
        let mut scan = Vec::new();
        for _ in 0..(if count > 200_000 { 3 } else { 10 }) {
            let started = Instant::now();
            let mut per_region: BTreeMap<String, usize> = BTreeMap::new();
            estate.for_each(|resource| {
                if resource.resource_type.as_str() == "ec2_instance" {
                    *per_region.entry(resource.region).or_default() += 1;
                }
                Ok(())
            })?;
            scan.push(started.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(per_region);
        }
        let mut row = |kind: &str, times: &mut Vec<f64>| {
            times.sort_by(f64::total_cmp);
            rows.push(format!(
                "| {count} | {kind} | {:.2} ms | {:.2} ms | {} |",
                percentile(times, 0.5),
                percentile(times, 0.99),
                times.len()
            ));
        };
        let mut all: Vec<f64> = by_kind.values().flatten().copied().collect();
        for (kind, times) in &mut by_kind {
            row(kind, times);
        }
        row("**every query and question**", &mut all);
        row("scan of every resource (group EC2 by region, no index)", &mut scan);
    }
    println!("| resources | kind | p50 | p99 | runs |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    Ok(())
}
