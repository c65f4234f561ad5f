//! all-MiniLM-L6-v2 (BERT, 6 layers) run on the CPU with candle.
//!
//! The encoder's weights are held in memory, by default in 8-bit blocks (11 MB instead of
//! 43 MB, see [`ModelWeights`]); the word-piece embedding table (30,522 × 384 floats, 47 MB,
//! more than half the model) is not held at all: a text only ever needs the rows of its
//! own word pieces, so they are read from `model.safetensors` when needed (from the page
//! cache after the first time). The embedding layer, the encoder's arithmetic and the
//! pooling are BERT's, as in `candle_transformers::models::bert::BertModel`, which would
//! hold the whole table and every matrix in 32-bit floats.
//!
//! One text (a query) is embedded on a dedicated single-thread pool: its matrix products
//! are too small for a second thread to shorten (7.3 ms at the median either way here),
//! and under load the two-thread split waits for whichever thread the scheduler parked,
//! while the second core is what the rest of the app (the webview, a sync) needs. The
//! AVX-512 kernel (`int8.rs`) multiplies a query's rows on that thread alone; candle's own
//! 8-bit kernels, used on CPUs without it, run on candle's thread pool whatever the caller's.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use candle_transformers::models::bert::Config;
use safetensors::{Dtype, SafeTensors};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use cloudops_core::{DIMENSIONS, Embedder, Error, Result};

use crate::encoder::{Encoder, ModelWeights};

/// Texts are short (a name, a few tags, a description): 64 word pieces hold them, and
/// attention cost grows with the square of the length.
const MAX_TOKENS: usize = 64;
/// Batches bound peak memory and keep both cores busy inside the matrix products.
const BATCH: usize = 32;
/// The word-piece table's name in sentence-transformers' export of the model.
const WORD_EMBEDDINGS: &str = "embeddings.word_embeddings.weight";

/// The all-MiniLM-L6-v2 sentence embedder: mean pooling, L2-normalized, 384 dimensions.
pub struct MiniLmEmbedder {
    words: WordTable,
    position: Embedding,
    token_type: Embedding,
    layer_norm: LayerNorm,
    encoder: Encoder,
    weights: ModelWeights,
    tokenizer: Tokenizer,
    device: Device,
    /// Runs single-text embeddings (see the module's documentation).
    one_thread: rayon::ThreadPool,
}

impl std::fmt::Debug for MiniLmEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLmEmbedder").finish_non_exhaustive()
    }
}

fn model_error(what: &str, dir: &Path, error: impl std::fmt::Display) -> Error {
    Error::Model(format!("{what} in {}: {error}", dir.display()))
}

/// The word-piece embedding table, read row by row from the model file.
struct WordTable {
    file: Mutex<File>,
    /// Where row 0 starts in the file.
    offset: u64,
    rows: usize,
}

impl WordTable {
    /// The rows of `ids`, one after the other (`ids.len() × DIMENSIONS` floats).
    fn gather(&self, ids: &[u32]) -> candle_core::Result<Vec<f32>> {
        const ROW_BYTES: usize = DIMENSIONS * 4;
        // Padding and repeated word pieces: each distinct row is read once.
        let mut distinct: Vec<u32> = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let mut rows = vec![0f32; distinct.len() * DIMENSIONS];
        let mut bytes = [0u8; ROW_BYTES];
        {
            let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            for (slot, &id) in distinct.iter().enumerate() {
                if id as usize >= self.rows {
                    candle_core::bail!("word piece {id} outside the table of {}", self.rows);
                }
                file.seek(SeekFrom::Start(self.offset + u64::from(id) * ROW_BYTES as u64))?;
                file.read_exact(&mut bytes)?;
                let row = &mut rows[slot * DIMENSIONS..(slot + 1) * DIMENSIONS];
                for (value, chunk) in row.iter_mut().zip(bytes.chunks_exact(4)) {
                    *value = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
                }
            }
        }
        let mut out = Vec::with_capacity(ids.len() * DIMENSIONS);
        for id in ids {
            let slot = distinct.binary_search(id).unwrap_or_default();
            out.extend_from_slice(&rows[slot * DIMENSIONS..(slot + 1) * DIMENSIONS]);
        }
        Ok(out)
    }
}

impl MiniLmEmbedder {
    /// Loads the model from `dir` (config.json, tokenizer.json, model.safetensors, as
    /// installed by `scripts/fetch-model.sh`) with the encoder in 8-bit blocks.
    pub fn load(dir: &Path) -> Result<Self> {
        Self::load_with(dir, ModelWeights::default())
    }

    /// Loads the model from `dir` with the encoder's matrices held as `weights` says.
    pub fn load_with(dir: &Path, weights: ModelWeights) -> Result<Self> {
        if !crate::model_present(dir) {
            return Err(Error::Model(format!(
                "no model at {}; install it with scripts/fetch-model.sh",
                dir.display()
            )));
        }
        let device = Device::Cpu;
        let config_text = std::fs::read_to_string(dir.join("config.json"))
            .map_err(|e| Error::Io { path: dir.join("config.json"), source: e })?;
        let config: Config = serde_json::from_str(&config_text)
            .map_err(|e| model_error("invalid config.json", dir, e))?;
        if config.hidden_size != DIMENSIONS {
            return Err(model_error(
                "unexpected model",
                dir,
                format!("hidden size {} instead of {DIMENSIONS}", config.hidden_size),
            ));
        }
        let tokenizer = load_tokenizer(dir)?;
        let path = dir.join("model.safetensors");
        let file = std::fs::read(&path).map_err(|e| Error::Io { path: path.clone(), source: e })?;
        let words = word_table(&file, &path, &config)
            .map_err(|e| model_error("invalid model.safetensors", dir, e))?;
        // Only the tensors asked for below are materialized; the file's bytes go at the end.
        let variables = VarBuilder::from_buffered_safetensors(file, DType::F32, &device)
            .map_err(|e| model_error("invalid model.safetensors", dir, e))?;
        let build = || -> candle_core::Result<_> {
            let embeddings = variables.pp("embeddings");
            let position = candle_nn::embedding(
                config.max_position_embeddings,
                config.hidden_size,
                embeddings.pp("position_embeddings"),
            )?;
            let token_type = candle_nn::embedding(
                config.type_vocab_size,
                config.hidden_size,
                embeddings.pp("token_type_embeddings"),
            )?;
            let layer_norm = candle_nn::layer_norm(
                config.hidden_size,
                config.layer_norm_eps,
                embeddings.pp("LayerNorm"),
            )?;
            let encoder = Encoder::load(variables.pp("encoder"), &config, weights)?;
            Ok((position, token_type, layer_norm, encoder))
        };
        let (position, token_type, layer_norm, encoder) =
            build().map_err(|e| model_error("cannot build the model", dir, e))?;
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "cloudops-query-embedding".into())
            .build()
            .map_err(|e| model_error("cannot start the query embedding thread", dir, e))?;
        Ok(MiniLmEmbedder {
            words,
            position,
            token_type,
            layer_norm,
            encoder,
            weights,
            tokenizer,
            device,
            one_thread,
        })
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
        // BERT's embedding layer: word piece + token type + position, then LayerNorm.
        let words =
            Tensor::from_vec(self.words.gather(&ids)?, (batch, length, DIMENSIONS), &self.device)?;
        let token_type_ids = Tensor::from_vec(type_ids, (batch, length), &self.device)?;
        let positions = Tensor::arange(0u32, length as u32, &self.device)?;
        let embedded = (words + self.token_type.forward(&token_type_ids)?)?
            .broadcast_add(&self.position.forward(&positions)?)?;
        let embedded = self.layer_norm.forward(&embedded)?;
        let attention_mask = Tensor::from_vec(mask, (batch, length), &self.device)?;
        let mask = attention_mask.to_dtype(DType::F32)?;
        // Padding is masked out of attention with the most negative float, as BERT does.
        let extended = ((1.0 - mask.unsqueeze(1)?.unsqueeze(1)?)? * f64::from(f32::MIN))?;
        let hidden = self.encoder.forward(&embedded, &extended)?;
        // Mean over real tokens, then unit length (sentence-transformers' Pooling + Normalize).
        let mask = mask.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.maximum(1e-9f32)?;
        let mean = summed.broadcast_div(&counts)?;
        let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.maximum(1e-12f32)?;
        mean.broadcast_div(&norm)?.to_vec2::<f32>()
    }
}

fn load_tokenizer(dir: &Path) -> Result<Tokenizer> {
    let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
        .map_err(|e| model_error("invalid tokenizer.json", dir, e))?;
    // The file pads every input to 128 tokens; pad to the longest in the batch instead.
    let padding = tokenizer.get_padding().cloned().unwrap_or_default();
    tokenizer
        .with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..padding }));
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MAX_TOKENS,
            ..TruncationParams::default()
        }))
        .map_err(|e| model_error("tokenizer truncation", dir, e))?;
    Ok(tokenizer)
}

/// Finds the word-piece table in the file's bytes and checks its type and shape.
fn word_table(file: &[u8], path: &Path, config: &Config) -> std::result::Result<WordTable, String> {
    let (header, metadata) = SafeTensors::read_metadata(file).map_err(|e| e.to_string())?;
    let info =
        metadata.info(WORD_EMBEDDINGS).ok_or_else(|| format!("no tensor {WORD_EMBEDDINGS}"))?;
    if info.dtype != Dtype::F32 || info.shape != [config.vocab_size, config.hidden_size] {
        return Err(format!(
            "{WORD_EMBEDDINGS} is {:?} {:?}, expected F32 [{}, {}]",
            info.dtype, info.shape, config.vocab_size, config.hidden_size
        ));
    }
    // The 8-byte header length, the header, then the data; offsets count from the data.
    let offset = 8 + header as u64 + info.data_offsets.0 as u64;
    let file = File::open(path).map_err(|e| format!("cannot reopen {}: {e}", path.display()))?;
    Ok(WordTable { file: Mutex::new(file), offset, rows: config.vocab_size })
}

/// The name vectors of `weights` are stored under.
fn model_name(weights: ModelWeights) -> &'static str {
    match weights {
        // One model whichever kernel multiplies it (their embeddings agree, tested).
        ModelWeights::EightBit | ModelWeights::EightBitPortable => "all-MiniLM-L6-v2/q8_0",
        ModelWeights::Full => "all-MiniLM-L6-v2",
    }
}

impl Embedder for MiniLmEmbedder {
    fn name(&self) -> &str {
        model_name(self.weights)
    }

    fn is_semantic(&self) -> bool {
        true
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let inference_failed =
            |e: candle_core::Error| Error::Model(format!("inference failed: {e}"));
        if texts.len() == 1 {
            return self.one_thread.install(|| self.embed_batch(texts)).map_err(inference_failed);
        }
        let mut vectors = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(BATCH) {
            vectors.extend(self.embed_batch(chunk).map_err(inference_failed)?);
        }
        Ok(vectors)
    }
}

/// MiniLM (default weights) loaded when something is first embedded, not before: an estate
/// opened to answer questions reads the index only, and never pays the model's load. A model
/// that fails to load then fails that embedding, with the reason.
pub(crate) struct LazyMiniLm {
    dir: std::path::PathBuf,
    model: std::sync::OnceLock<std::result::Result<MiniLmEmbedder, String>>,
}

impl LazyMiniLm {
    pub(crate) fn new(dir: std::path::PathBuf) -> Self {
        LazyMiniLm { dir, model: std::sync::OnceLock::new() }
    }
}

impl Embedder for LazyMiniLm {
    fn name(&self) -> &str {
        model_name(ModelWeights::default())
    }

    fn is_semantic(&self) -> bool {
        true
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let model =
            self.model.get_or_init(|| MiniLmEmbedder::load(&self.dir).map_err(|e| e.to_string()));
        match model {
            Ok(model) => model.embed(texts),
            Err(reason) => Err(Error::Model(reason.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use candle_transformers::models::bert::BertModel;

    use super::*;

    const TEXTS: [&str; 4] = [
        "pg-instance-main1 rds postgres production",
        "the bucket with the postgres dumps",
        "web",
        "checkout servers in staging, env=stg team=payments owner=alice",
    ];

    fn installed_model() -> Option<std::path::PathBuf> {
        let dir = crate::default_model_dir().filter(|d| crate::model_present(d));
        if dir.is_none() {
            assert_ne!(
                std::env::var("CLOUDOPS_REQUIRE_MODEL").as_deref(),
                Ok("1"),
                "CLOUDOPS_REQUIRE_MODEL=1 but no model is installed"
            );
            eprintln!("skipped: no model installed");
        }
        dir
    }

    /// What candle's BertModel (every weight in memory, 32-bit) gives for `texts` in one
    /// batch, pooled and normalized as sentence-transformers does.
    fn bert_model_embeddings(dir: &Path, texts: &[&str]) -> Vec<Vec<f32>> {
        let device = Device::Cpu;
        let config: Config = serde_json::from_str(
            &std::fs::read_to_string(dir.join("config.json")).expect("config"),
        )
        .expect("config parses");
        let weights = std::fs::read(dir.join("model.safetensors")).expect("weights");
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .expect("weights parse");
        let model = BertModel::load(vb, &config).expect("BertModel loads");
        let tokenizer = load_tokenizer(dir).expect("tokenizer");
        let encodings = tokenizer.encode_batch(texts.to_vec(), true).expect("tokenizes");
        let (batch, length) = (encodings.len(), encodings[0].len());
        let flat = |f: fn(&tokenizers::Encoding) -> &[u32]| {
            let v: Vec<u32> = encodings.iter().flat_map(|e| f(e).to_vec()).collect();
            Tensor::from_vec(v, (batch, length), &device).expect("tensor")
        };
        let ids = flat(|e| e.get_ids());
        let types = flat(|e| e.get_type_ids());
        let mask = flat(|e| e.get_attention_mask());
        let hidden = model.forward(&ids, &types, Some(&mask)).expect("forward");
        let pool = || -> candle_core::Result<Vec<Vec<f32>>> {
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let mean = hidden.broadcast_mul(&mask)?.sum(1)?.broadcast_div(&mask.sum(1)?)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        };
        pool().expect("pooling")
    }

    /// With full weights, the embedder (word-piece table read from the file, its own
    /// encoder) gives what candle's BertModel gives, on texts of different lengths in one
    /// batch.
    #[test]
    fn full_weights_match_candles_bert_model() {
        let Some(dir) = installed_model() else { return };
        let ours = MiniLmEmbedder::load_with(&dir, ModelWeights::Full)
            .expect("model loads")
            .embed(&TEXTS)
            .expect("embeds");
        let reference = bert_model_embeddings(&dir, &TEXTS);
        for (text, (a, b)) in TEXTS.iter().zip(ours.iter().zip(&reference)) {
            let worst = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
            assert!(worst < 1e-5, "{text:?}: differs from BertModel by {worst}");
        }
    }

    /// The 8-bit encoder points every text where the published model does, give or take a
    /// fraction of a degree, batched or alone.
    #[test]
    fn eight_bit_weights_stay_next_to_the_published_model() {
        let Some(dir) = installed_model() else { return };
        let model = MiniLmEmbedder::load(&dir).expect("model loads");
        assert_eq!(model.name(), "all-MiniLM-L6-v2/q8_0");
        let batched = model.embed(&TEXTS).expect("embeds");
        let reference = bert_model_embeddings(&dir, &TEXTS);
        for (index, text) in TEXTS.iter().enumerate() {
            let alone = model.embed(&[text]).expect("embeds").remove(0);
            for (how, ours) in [("batched", &batched[index]), ("alone", &alone)] {
                let cosine: f32 = ours.iter().zip(&reference[index]).map(|(x, y)| x * y).sum();
                assert!(cosine > 0.995, "{text:?} {how}: cosine {cosine} to BertModel's");
            }
        }
    }

    /// The AVX-512 kernel (where the CPU has it) and candle's embed alike, so an index
    /// written on one CPU answers queries embedded on another.
    #[test]
    fn both_eight_bit_kernels_embed_alike() {
        let Some(dir) = installed_model() else { return };
        let default = MiniLmEmbedder::load(&dir).expect("model loads");
        let portable =
            MiniLmEmbedder::load_with(&dir, ModelWeights::EightBitPortable).expect("model loads");
        assert_eq!(default.name(), portable.name());
        let (ours, theirs) = (default.embed(&TEXTS).expect("embeds"), portable.embed(&TEXTS));
        for (text, (a, b)) in TEXTS.iter().zip(ours.iter().zip(&theirs.expect("embeds"))) {
            let cosine: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            assert!(cosine > 0.999, "{text:?}: cosine {cosine} between the two kernels");
        }
    }

    #[test]
    fn a_word_piece_outside_the_table_is_an_error_not_a_panic() {
        let Some(dir) = crate::default_model_dir().filter(|d| crate::model_present(d)) else {
            return;
        };
        let model = MiniLmEmbedder::load(&dir).expect("model loads");
        let error = model.words.gather(&[u32::MAX]).expect_err("out of range");
        assert!(error.to_string().contains("outside the table"), "{error}");
    }
}
