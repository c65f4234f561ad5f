//! Times the query embedder alone: one short query at a time, as lookups use it.
//!
//! Run: `cargo run --release -p cloudops-core --example embed_speed`

use std::time::Instant;

use cloudops_core::{Embedder, MiniLmEmbedder, default_model_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = default_model_dir().ok_or("no model directory")?;
    let model = MiniLmEmbedder::load(&dir)?;
    let queries =
        ["bucket postgres dumps", "function giving customers money back", "reviews scheduler 3"];
    for query in queries {
        model.embed(&[query])?;
    }
    let mut times = Vec::new();
    for round in 0..60 {
        let query = queries[round % queries.len()];
        let started = Instant::now();
        model.embed(&[query])?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "single query: p50 {:.2} ms, p99 {:.2} ms",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    let batch: Vec<String> =
        (0..256).map(|i| format!("server checkout web prod {i} app checkout")).collect();
    let texts: Vec<&str> = batch.iter().map(String::as_str).collect();
    let started = Instant::now();
    model.embed(&texts)?;
    println!("batch: {:.0} texts/s", texts.len() as f64 / started.elapsed().as_secs_f64());
    Ok(())
}
