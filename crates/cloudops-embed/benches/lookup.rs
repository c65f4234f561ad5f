//! Criterion benchmark of lookup latency by query kind, with the model when installed.
//!
//! Sizes come from `CLOUDOPS_BENCH_SIZES` (comma-separated, default `3000`), e.g.
//! `CLOUDOPS_BENCH_SIZES=3000,100000 cargo bench -p cloudops-embed --bench lookup`.
//! Percentiles (p50/p99) come from `examples/bench_report.rs`.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

use cloudops_core::{Estate, EstateConfig, LookupRequest, demo};

const QUERIES: &[(&str, &str)] = &[
    ("exact", "pg-instance-main1"),
    ("partial", "pg-main"),
    ("typo", "chekout-sheduler-stg-03"),
    ("scoped", "checkout servers in staging"),
    ("tag", "env=prod app=main"),
    ("semantic", "the function that makes thumbnails for product pictures"),
];

fn lookup(c: &mut Criterion) {
    let sizes: Vec<usize> = std::env::var("CLOUDOPS_BENCH_SIZES")
        .unwrap_or_else(|_| "3000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let mut group = c.benchmark_group("lookup");
    for size in sizes {
        let directory = tempfile::tempdir().expect("temporary directory");
        let model =
            cloudops_embed::default_model_dir().filter(|d| cloudops_embed::model_present(d));
        let estate = match model {
            Some(model) => cloudops_embed::open_estate_with_model(
                directory.path(),
                EstateConfig::default(),
                &model,
            ),
            None => Estate::open(directory.path(), EstateConfig::default()),
        }
        .expect("open");
        estate.upsert(&demo::generate(&demo::DemoConfig::with_total(size))).expect("index");
        for (kind, query) in QUERIES {
            let request = LookupRequest { query: (*query).into(), ..Default::default() };
            group.bench_with_input(BenchmarkId::new(*kind, size), &request, |b, request| {
                b.iter(|| estate.lookup(request).expect("lookup"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
