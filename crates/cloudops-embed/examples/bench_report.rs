//! Lookup latency percentiles, build throughput, and memory/disk per resource, at several
//! estate sizes. Prints a Markdown table for `docs/benchmarks.md`.
//!
//! Run: `cargo run --release -p cloudops-embed --example bench_report -- 3000 100000 1000000`
//! (needs the model from `scripts/fetch-model.sh` for the semantic numbers; add
//! `--no-model` to measure the lexical-only configuration, `--portable-kernel` to multiply the
//! 8-bit model with candle's kernels instead of the AVX-512 VNNI one, for comparison).
//!
//! `--index DIR` keeps each size's index under `DIR/<size>-<semantic|lexical>` and reuses it
//! when it already holds that estate, so the lookups can be measured again without the build
//! (about 40 minutes at 1M, most of it qdrant's HNSW graph); the build columns then say
//! "reused".
//!
//! The estates are the design's estate grown with [`demo::grown`], so every evaluation query
//! keeps its answer; the lookups are the evaluation set, three times over. Misses are
//! measured apart: ids and ARNs of another estate, which the measured one does not hold, go
//! through every stage of the lookup without an exact answer to stop at.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

use cloudops_core::{Estate, EstateConfig, LookupRequest, demo};
use cloudops_embed::{MiniLmEmbedder, ModelWeights, default_model_dir};

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// One timed lookup.
struct Timed<'a> {
    milliseconds: f64,
    query: &'a str,
    category: &'a str,
    semantic: bool,
}

fn time_lookups<'a>(
    estate: &Estate,
    queries: &'a [(String, String)],
    rounds: usize,
) -> Result<Vec<Timed<'a>>, cloudops_core::Error> {
    let mut timed = Vec::new();
    for _ in 0..rounds {
        for (category, query) in queries {
            let started = Instant::now();
            let response =
                estate.lookup(&LookupRequest { query: query.clone(), ..Default::default() })?;
            timed.push(Timed {
                milliseconds: started.elapsed().as_secs_f64() * 1000.0,
                query,
                category,
                semantic: response.semantic,
            });
        }
    }
    Ok(timed)
}

fn sorted_latencies<'a>(timed: impl Iterator<Item = &'a Timed<'a>>) -> Vec<f64> {
    let mut latencies: Vec<f64> = timed.map(|t| t.milliseconds).collect();
    latencies.sort_by(f64::total_cmp);
    latencies
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let semantic = !args.iter().any(|a| a == "--no-model");
    let portable = args.iter().any(|a| a == "--portable-kernel");
    let keep: Option<PathBuf> =
        args.iter().position(|a| a == "--index").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let sizes: Vec<usize> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || args[i - 1] != "--index")
        .filter_map(|(_, a)| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() { vec![3_000] } else { sizes };
    let show_slowest = std::env::var_os("CLOUDOPS_BENCH_SLOWEST").is_some();

    let default_estate = demo::generate(&demo::DemoConfig::default());
    let queries: Vec<(String, String)> =
        demo::evaluation_set(&default_estate).into_iter().map(|q| (q.category, q.query)).collect();
    let elsewhere = demo::generate(&demo::DemoConfig { seed: 1_000, ..Default::default() });

    println!(
        "| resources | semantic | build (resources/s) | distinct texts embedded | disk/resource | RSS after build | lookup p50 | lookup p99 | lookups with embedding | miss p50 | miss p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for size in sizes {
        let resources = demo::grown(size);
        let temporary;
        let directory = match &keep {
            Some(root) => {
                root.join(format!("{size}-{}", if semantic { "semantic" } else { "lexical" }))
            }
            None => {
                temporary = tempfile::tempdir()?;
                temporary.path().to_path_buf()
            }
        };
        let config = EstateConfig::default();
        let estate = if semantic {
            // The same model and index either way (the embedder's name is the kernel's).
            let model = default_model_dir().ok_or("no model directory")?;
            let weights =
                if portable { ModelWeights::EightBitPortable } else { ModelWeights::default() };
            let embedder = MiniLmEmbedder::load_with(&model, weights)?;
            Estate::open_with_embedder(&directory, config, Box::new(embedder))?
        } else {
            Estate::open(&directory, config)?
        };
        let (build, embedded) = if keep.is_some() && estate.len()? == resources.len() {
            eprintln!(
                "  reusing the index of {} resources in {}",
                resources.len(),
                directory.display()
            );
            ("reused".to_owned(), "reused".to_owned())
        } else {
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
            let rate = resources.len() as f64 / started.elapsed().as_secs_f64();
            (format!("{rate:.0}"), report.embedded.to_string())
        };
        let rss = rss_mib();
        let stats = estate.stats()?;

        let held: HashSet<&str> = resources.iter().map(|r| r.arn.as_str()).collect();
        let misses: Vec<(String, String)> = demo::evaluation_set(&elsewhere)
            .into_iter()
            .filter(|q| q.category == "id_arn" && !held.contains(q.expected_arn.as_str()))
            .map(|q| ("miss".to_owned(), q.query))
            .collect();

        // Warm up caches once, as an interactive session would be.
        time_lookups(&estate, &queries[..10], 1)?;
        let timed = time_lookups(&estate, &queries, 3)?;
        let missed = time_lookups(&estate, &misses, 3)?;
        let latencies = sorted_latencies(timed.iter());
        let miss_latencies = sorted_latencies(missed.iter());
        let with_embedding = timed.iter().filter(|t| t.semantic).count();

        let mut by_category: BTreeMap<&str, Vec<&Timed<'_>>> = BTreeMap::new();
        for t in timed.iter().chain(&missed) {
            by_category.entry(t.category).or_default().push(t);
        }
        eprintln!("  {size}: by category (p50 / p99 / max ms, lookups with embedding)");
        for (category, lookups) in &by_category {
            let sorted = sorted_latencies(lookups.iter().copied());
            eprintln!(
                "    {category:>15}: {:7.2} {:7.2} {:7.2}  {}/{}",
                percentile(&sorted, 0.5),
                percentile(&sorted, 0.99),
                sorted.last().copied().unwrap_or(f64::NAN),
                lookups.iter().filter(|t| t.semantic).count(),
                lookups.len()
            );
        }
        if show_slowest {
            let mut slowest: Vec<&Timed<'_>> = timed.iter().chain(&missed).collect();
            slowest.sort_by(|a, b| b.milliseconds.total_cmp(&a.milliseconds));
            for t in slowest.iter().take(12) {
                eprintln!(
                    "{:8.2} ms  {:>14}  semantic={}  {}",
                    t.milliseconds, t.category, t.semantic, t.query
                );
            }
        }
        println!(
            "| {} | {} | {build} | {embedded} | {:.1} KiB | {:.0} MiB | {:.2} ms | {:.2} ms | {}/{} | {:.2} ms | {:.2} ms |",
            stats.resources,
            match (estate.is_semantic(), portable) {
                (true, false) => "MiniLM",
                (true, true) => "MiniLM, candle's kernels",
                (false, _) => "off",
            },
            stats.disk_bytes as f64 / stats.resources as f64 / 1024.0,
            rss,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99),
            with_embedding,
            latencies.len(),
            percentile(&miss_latencies, 0.5),
            percentile(&miss_latencies, 0.99),
        );
    }
    Ok(())
}
