//! CloudOps embeddings: the all-MiniLM-L6-v2 sentence model run on the CPU with candle, and
//! opening an estate with it.
//!
//! Core knows only the [`Embedder`] trait and its hashing embedder; this crate holds the
//! language model (a BERT runtime, the workspace's one `unsafe` module: the AVX-512 kernel in
//! `int8.rs`) and the rule for choosing it: MiniLM when `[estate] semantic` is on and the
//! model is installed, else the hashing embedder with a warning that says why.
//!
//! ```
//! use cloudops_core::{ClientConfig, LookupRequest};
//!
//! # fn main() -> cloudops_core::Result<()> {
//! let directory = tempfile::tempdir().expect("temporary directory");
//! // The configuration decides: semantic search when the model is installed.
//! let estate = cloudops_embed::open_estate(directory.path(), &ClientConfig::default())?;
//! let found = estate.lookup(&LookupRequest { query: "web".into(), ..Default::default() })?;
//! assert!(found.results.is_empty());
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

use std::path::{Path, PathBuf};

use cloudops_core::{ClientConfig, Embedder, Estate, EstateConfig, HashEmbedder, Result};

#[cfg(feature = "candle")]
mod encoder;
#[cfg(feature = "candle")]
mod int8;
#[cfg(feature = "candle")]
mod minilm;

#[cfg(feature = "candle")]
pub use crate::{encoder::ModelWeights, minilm::MiniLmEmbedder};

/// Where the MiniLM model is looked for, in order: `$CLOUDOPS_MODEL_DIR`, then the shared
/// cache `~/.cache/cloudops/models/all-MiniLM-L6-v2` that `scripts/fetch-model.sh` fills.
pub fn default_model_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLOUDOPS_MODEL_DIR") {
        return Some(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME")?;
    Some(Path::new(&home).join(".cache/cloudops/models/all-MiniLM-L6-v2"))
}

/// Whether `dir` holds the three files the MiniLM embedder needs.
pub fn model_present(dir: &Path) -> bool {
    ["config.json", "tokenizer.json", "model.safetensors"]
        .iter()
        .all(|file| dir.join(file).is_file())
}

/// The embedder `config` asks for: the hashing embedder when `[estate] semantic = false`,
/// else MiniLM from `[estate] model_dir` (or [`default_model_dir`]). `Err` says why MiniLM
/// is not available (not installed, not loadable, or this build has no `candle`); the caller
/// then runs with the hashing embedder and shows the reason.
pub fn load_embedder(config: &ClientConfig) -> std::result::Result<Box<dyn Embedder>, String> {
    match installed_model(config)? {
        None => Ok(Box::new(HashEmbedder)),
        Some(dir) => load_minilm(&dir),
    }
}

/// The model directory `config` asks for (`None`: the hashing embedder), or why there is
/// none to use.
fn installed_model(config: &ClientConfig) -> std::result::Result<Option<PathBuf>, String> {
    if !config.estate.semantic {
        return Ok(None);
    }
    let Some(dir) = config.estate.model_dir.clone().or_else(default_model_dir) else {
        return Err("no model directory configured".to_owned());
    };
    if !model_present(&dir) {
        return Err(format!(
            "no embedding model at {}; install it with scripts/fetch-model.sh",
            dir.display()
        ));
    }
    Ok(Some(dir))
}

/// Opens the estate as [`open_estate`] does, but loads MiniLM only when something is
/// embedded (a lookup by description, an upsert), not at open: for reads that embed nothing,
/// such as a question answered from the index, which then does not pay the model's load.
pub fn open_estate_for_reading(path: impl AsRef<Path>, config: &ClientConfig) -> Result<Estate> {
    Estate::open_loading(path, config.estate_config(), || match installed_model(config)? {
        None => Ok(Box::new(HashEmbedder)),
        Some(dir) => lazy_minilm(dir),
    })
}

#[cfg(feature = "candle")]
fn lazy_minilm(dir: PathBuf) -> std::result::Result<Box<dyn Embedder>, String> {
    Ok(Box::new(minilm::LazyMiniLm::new(dir)))
}

#[cfg(not(feature = "candle"))]
fn lazy_minilm(dir: PathBuf) -> std::result::Result<Box<dyn Embedder>, String> {
    load_minilm(&dir)
}

#[cfg(feature = "candle")]
fn load_minilm(dir: &Path) -> std::result::Result<Box<dyn Embedder>, String> {
    MiniLmEmbedder::load(dir)
        .map(|model| Box::new(model) as Box<dyn Embedder>)
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "candle"))]
fn load_minilm(_: &Path) -> std::result::Result<Box<dyn Embedder>, String> {
    Err("this build has no language model (the `candle` feature of cloudops-embed)".to_owned())
}

/// Opens (or creates) the estate under `path` with the embedder `config` asks for (see
/// [`load_embedder`]). The estate's lock is taken before the model loads, so a second opener
/// learns at once that it must wait; a model that cannot be used leaves a warning in
/// [`Estate::warnings`] and the estate on the hashing embedder.
pub fn open_estate(path: impl AsRef<Path>, config: &ClientConfig) -> Result<Estate> {
    Estate::open_loading(path, config.estate_config(), || load_embedder(config))
}

/// Opens the estate under `path` with `estate` settings and MiniLM from `model_dir`: what
/// benchmarks and tests use to pin the model directory.
pub fn open_estate_with_model(
    path: impl AsRef<Path>,
    estate: EstateConfig,
    model_dir: &Path,
) -> Result<Estate> {
    let model_dir = model_dir.to_path_buf();
    Estate::open_loading(path, estate, move || {
        if model_present(&model_dir) {
            load_minilm(&model_dir)
        } else {
            Err(format!("no embedding model at {}", model_dir.display()))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_candle_the_model_is_refused_with_the_reason() {
        let directory = tempfile::tempdir().expect("temporary directory");
        for file in ["config.json", "tokenizer.json", "model.safetensors"] {
            std::fs::write(directory.path().join(file), b"{}").expect("write");
        }
        let config = ClientConfig {
            estate: cloudops_core::EstateSection {
                model_dir: Some(directory.path().to_path_buf()),
                ..Default::default()
            },
            ..Default::default()
        };
        let outcome = load_embedder(&config).map(|embedder| embedder.name().to_owned());
        if cfg!(feature = "candle") {
            // With candle, three empty files are not a model: the loader says which one.
            let reason = outcome.expect_err("not a model");
            assert!(reason.contains("config.json"), "{reason}");
        } else {
            let reason = outcome.expect_err("no language model in this build");
            assert!(reason.contains("`candle` feature"), "{reason}");
        }
    }
}
