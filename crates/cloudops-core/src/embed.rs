//! Text embeddings behind one trait: the MiniLM sentence model run with candle, and a cheap
//! built-in hashing embedder used when no model is installed.

use std::path::{Path, PathBuf};

use crate::error::Result;

/// Dimensions of every embedder's vectors (all-MiniLM-L6-v2's output size).
pub const DIMENSIONS: usize = 384;

/// Turns short texts into L2-normalized vectors of [`DIMENSIONS`] floats.
pub trait Embedder: Send + Sync {
    /// A stable name, stored with the index: vectors from different embedders never mix.
    fn name(&self) -> &str;

    /// Whether vectors capture meaning (a language model) rather than spelling alone.
    fn is_semantic(&self) -> bool;

    /// Embeds each text; the output has one vector per input, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;
}

/// Feature hashing of words and character trigrams: no model, no semantics, microseconds per
/// text. It keeps the vector index useful for spelling-level similarity when MiniLM is absent.
#[derive(Debug, Default, Clone, Copy)]
pub struct HashEmbedder;

impl HashEmbedder {
    fn bucket(feature: &[u8]) -> (usize, f32) {
        let hash = blake3::hash(feature);
        let bytes = hash.as_bytes();
        let index = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
        let sign = if bytes[4] & 1 == 0 { 1.0 } else { -1.0 };
        (index % DIMENSIONS, sign)
    }

    fn embed_one(text: &str) -> Vec<f32> {
        let mut vector = vec![0.0f32; DIMENSIONS];
        let lower = text.to_lowercase();
        for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let (index, sign) = Self::bucket(word.as_bytes());
            vector[index] += 2.0 * sign;
            let padded: Vec<char> = format!(" {word} ").chars().collect();
            for gram in padded.windows(3) {
                let gram: String = gram.iter().collect();
                let (index, sign) = Self::bucket(gram.as_bytes());
                vector[index] += sign;
            }
        }
        normalize(&mut vector);
        vector
    }
}

impl Embedder for HashEmbedder {
    fn name(&self) -> &str {
        "hash-trigram-v1"
    }

    fn is_semantic(&self) -> bool {
        false
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|text| Self::embed_one(text)).collect())
    }
}

/// Scales `vector` to unit length (a zero vector stays zero).
pub(crate) fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

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

#[cfg(feature = "candle")]
pub use minilm::MiniLmEmbedder;

#[cfg(feature = "candle")]
mod minilm {
    //! all-MiniLM-L6-v2 (BERT, 6 layers) run on the CPU with candle.

    use std::path::Path;

    use candle_core::{DType, Device, Tensor};
    use candle_nn::VarBuilder;
    use candle_transformers::models::bert::{BertModel, Config};
    use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

    use super::{DIMENSIONS, Embedder};
    use crate::error::{Error, Result};

    /// Texts are short (a name, a few tags, a description): 64 word pieces hold them, and
    /// attention cost grows with the square of the length.
    const MAX_TOKENS: usize = 64;
    /// Batches bound peak memory and keep both cores busy inside the matrix products.
    const BATCH: usize = 32;

    /// The all-MiniLM-L6-v2 sentence embedder: mean pooling, L2-normalized, 384 dimensions.
    pub struct MiniLmEmbedder {
        model: BertModel,
        tokenizer: Tokenizer,
        device: Device,
    }

    impl std::fmt::Debug for MiniLmEmbedder {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("MiniLmEmbedder").finish_non_exhaustive()
        }
    }

    fn model_error(what: &str, dir: &Path, error: impl std::fmt::Display) -> Error {
        Error::Model(format!("{what} in {}: {error}", dir.display()))
    }

    impl MiniLmEmbedder {
        /// Loads the model from `dir` (config.json, tokenizer.json, model.safetensors, as
        /// installed by `scripts/fetch-model.sh`).
        pub fn load(dir: &Path) -> Result<Self> {
            if !super::model_present(dir) {
                return Err(Error::Model(format!(
                    "no model at {}; install it with scripts/fetch-model.sh",
                    dir.display()
                )));
            }
            let device = Device::Cpu;
            let config_text = std::fs::read_to_string(dir.join("config.json"))
                .map_err(|e| Error::io(dir.join("config.json"), e))?;
            let config: Config = serde_json::from_str(&config_text)
                .map_err(|e| model_error("invalid config.json", dir, e))?;
            if config.hidden_size != DIMENSIONS {
                return Err(model_error(
                    "unexpected model",
                    dir,
                    format!("hidden size {} instead of {DIMENSIONS}", config.hidden_size),
                ));
            }
            let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
                .map_err(|e| model_error("invalid tokenizer.json", dir, e))?;
            // The file pads every input to 128 tokens; pad to the longest in the batch instead.
            let padding = tokenizer.get_padding().cloned().unwrap_or_default();
            tokenizer.with_padding(Some(PaddingParams {
                strategy: PaddingStrategy::BatchLongest,
                ..padding
            }));
            tokenizer
                .with_truncation(Some(TruncationParams {
                    max_length: MAX_TOKENS,
                    ..TruncationParams::default()
                }))
                .map_err(|e| model_error("tokenizer truncation", dir, e))?;
            let weights = std::fs::read(dir.join("model.safetensors"))
                .map_err(|e| Error::io(dir.join("model.safetensors"), e))?;
            let variables = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
                .map_err(|e| model_error("invalid model.safetensors", dir, e))?;
            let model = BertModel::load(variables, &config)
                .map_err(|e| model_error("cannot build the model", dir, e))?;
            Ok(MiniLmEmbedder { model, tokenizer, device })
        }

        fn embed_batch(&self, texts: &[&str]) -> candle_core::Result<Vec<Vec<f32>>> {
            let encodings = self
                .tokenizer
                .encode_batch(texts.to_vec(), true)
                .map_err(|e| candle_core::Error::Msg(format!("tokenizer: {e}")))?;
            let batch = encodings.len();
            let length = encodings.first().map_or(0, |e| e.len());
            let mut ids = Vec::with_capacity(batch * length);
            let mut type_ids = Vec::with_capacity(batch * length);
            let mut mask = Vec::with_capacity(batch * length);
            for encoding in &encodings {
                ids.extend_from_slice(encoding.get_ids());
                type_ids.extend_from_slice(encoding.get_type_ids());
                mask.extend_from_slice(encoding.get_attention_mask());
            }
            let input_ids = Tensor::from_vec(ids, (batch, length), &self.device)?;
            let token_type_ids = Tensor::from_vec(type_ids, (batch, length), &self.device)?;
            let attention_mask = Tensor::from_vec(mask, (batch, length), &self.device)?;
            let hidden = self.model.forward(&input_ids, &token_type_ids, Some(&attention_mask))?;
            // Mean over real tokens, then unit length (sentence-transformers' Pooling + Normalize).
            let mask = attention_mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?.maximum(1e-9f32)?;
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12f32)?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        }
    }

    impl Embedder for MiniLmEmbedder {
        fn name(&self) -> &str {
            "all-MiniLM-L6-v2"
        }

        fn is_semantic(&self) -> bool {
            true
        }

        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
            let mut vectors = Vec::with_capacity(texts.len());
            for chunk in texts.chunks(BATCH) {
                let batch = self
                    .embed_batch(chunk)
                    .map_err(|e| Error::Model(format!("inference failed: {e}")))?;
                vectors.extend(batch);
            }
            Ok(vectors)
        }
    }
}
