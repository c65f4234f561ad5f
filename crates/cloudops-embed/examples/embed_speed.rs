//! Times the query embedder alone, with the encoder in 8-bit blocks (the default: the AVX-512
//! VNNI kernel where the CPU has it), in 8-bit blocks with candle's kernels, and in the file's
//! 32-bit floats: one short query at a time, as lookups use it, and batches, as a sync uses it.
//!
//! Run: `cargo test --workspace --release --no-run && $CARGO_TARGET_DIR/release/examples/embed_speed`
//! (the tests' build: `cargo run -p cloudops-embed` alone resolves other features and
//! recompiles much of the tree).

use std::time::Instant;

use cloudops_core::Embedder;
use cloudops_embed::{MiniLmEmbedder, ModelWeights, default_model_dir};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = default_model_dir().ok_or("no model directory")?;
    for weights in [ModelWeights::EightBit, ModelWeights::EightBitPortable, ModelWeights::Full] {
        let model = MiniLmEmbedder::load_with(&dir, weights)?;
        let queries = [
            "bucket postgres dumps",
            "function giving customers money back",
            "reviews scheduler 3",
        ];
        for query in queries {
            model.embed(&[query])?;
        }
        let mut times = Vec::new();
        for round in 0..200 {
            let query = queries[round % queries.len()];
            let started = Instant::now();
            model.embed(&[query])?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let batch: Vec<String> =
            (0..256).map(|i| format!("server checkout web prod {i} app checkout")).collect();
        let texts: Vec<&str> = batch.iter().map(String::as_str).collect();
        let started = Instant::now();
        model.embed(&texts)?;
        println!(
            "{} ({weights:?}): single query p50 {:.2} ms, p99 {:.2} ms; batches of 32: {:.0} texts/s",
            model.name(),
            times[times.len() / 2],
            times[times.len() * 99 / 100],
            texts.len() as f64 / started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
