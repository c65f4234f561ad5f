//! Lookup latency percentiles, build throughput, and memory/disk per resource, at several
//! estate sizes. Prints a Markdown table for `docs/benchmarks.md`.
//!
//! Run: `cargo run --release -p cloudops-core --example bench_report -- 3000 100000 1000000`
//! (needs the model from `scripts/fetch-model.sh` for the semantic numbers; add
//! `--no-model` to measure the lexical-only configuration).

use std::time::Instant;

use cloudops_core::{Estate, EstateConfig, LookupRequest, demo};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let semantic = !args.iter().any(|a| a == "--no-model");
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![3_000] } else { sizes };

    println!(
        "| resources | semantic | build (resources/s) | distinct texts embedded | disk/resource | RSS after build | lookup p50 | lookup p99 | lookups with embedding |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for size in sizes {
        // At the design's size, the design's estate itself (where every evaluation query has
        // its answer); larger estates grow it with the same generator.
        let config = if size <= 3_187 {
            demo::DemoConfig::default()
        } else {
            demo::DemoConfig::with_total(size)
        };
        let resources = demo::generate(&config);
        let directory = tempfile::tempdir()?;
        let config = EstateConfig { semantic, ..EstateConfig::default() };
        let estate = Estate::open(directory.path(), config)?;
        let started = Instant::now();
        // Progress on stderr (every 50,000 resources) shows where time and memory go.
        let mut next_report = 50_000;
        let report = estate.upsert_with_progress(&resources, &mut |progress| {
            if progress.done >= next_report || progress.done == progress.total {
                next_report += 50_000;
                eprintln!(
                    "  {}/{} after {:.0} s, RSS {:.0} MiB",
                    progress.done,
                    progress.total,
                    started.elapsed().as_secs_f64(),
                    rss_mib()
                );
            }
        })?;
        let build_seconds = started.elapsed().as_secs_f64();
        let rss = rss_mib();
        let stats = estate.stats()?;

        // The evaluation queries of the default estate are valid here too (the landmarks and
        // the generator's naming are the same); at larger sizes they simply have more
        // near-duplicates to beat.
        let default_estate = demo::generate(&demo::DemoConfig::default());
        let queries: Vec<String> =
            demo::evaluation_set(&default_estate).into_iter().map(|q| q.query).collect();
        // Warm up caches once, as an interactive session would be.
        for query in queries.iter().take(10) {
            estate.lookup(&LookupRequest { query: query.clone(), ..Default::default() })?;
        }
        let mut latencies = Vec::new();
        let mut slowest: Vec<(f64, &str, bool)> = Vec::new();
        let mut with_embedding = 0;
        for _ in 0..3 {
            for query in &queries {
                let started = Instant::now();
                let response =
                    estate.lookup(&LookupRequest { query: query.clone(), ..Default::default() })?;
                let milliseconds = started.elapsed().as_secs_f64() * 1000.0;
                latencies.push(milliseconds);
                slowest.push((milliseconds, query, response.semantic));
                with_embedding += usize::from(response.semantic);
            }
        }
        if std::env::var_os("CLOUDOPS_BENCH_SLOWEST").is_some() {
            slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
            for (milliseconds, query, semantic) in slowest.iter().take(12) {
                eprintln!("{milliseconds:8.2} ms  semantic={semantic}  {query}");
            }
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "| {} | {} | {:.0} | {} | {:.1} KiB | {:.0} MiB | {:.2} ms | {:.2} ms | {}/{} |",
            stats.resources,
            if estate.is_semantic() { "MiniLM" } else { "off" },
            resources.len() as f64 / build_seconds,
            report.embedded,
            stats.disk_bytes as f64 / stats.resources as f64 / 1024.0,
            rss,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            with_embedding,
            latencies.len(),
        );
    }
    Ok(())
}
