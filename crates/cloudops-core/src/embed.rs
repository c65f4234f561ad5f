//! Text embeddings behind one trait, and a cheap built-in hashing embedder. The MiniLM
//! sentence model implements the trait in the `cloudops-embed` crate.

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
