//! A bounded cache in front of the MiniLM embedder, for planning queries.
//!
//! The planner embeds the words of a prompt left after the resources' names are removed
//! ("Stop", "reboot the servers"): few distinct texts, each costing milliseconds of model
//! time. Entries are keyed by a BLAKE3 hash of the text, so the cache keeps no prompt text;
//! it lives in memory only and is bounded, the least recently used half dropped first.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cloudops_core::Embedder;

type Key = [u8; 32];

/// Two generations: hits move entries to the young one; when the young one is full it
/// becomes the old one and the old one is dropped. At most `capacity` entries in all.
#[derive(Debug, Default)]
struct Generations {
    young: HashMap<Key, Vec<f32>>,
    old: HashMap<Key, Vec<f32>>,
}

/// An [`Embedder`] that remembers the vectors of single texts (queries).
pub struct CachedEmbedder {
    inner: Arc<dyn Embedder>,
    /// Entries per generation.
    generation: usize,
    cache: Mutex<Generations>,
}

impl std::fmt::Debug for CachedEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedEmbedder")
            .field("inner", &self.inner.name())
            .field("capacity", &(2 * self.generation))
            .finish_non_exhaustive()
    }
}

impl CachedEmbedder {
    /// Caches up to `capacity` query vectors of `inner` (at least 2).
    pub fn new(inner: Arc<dyn Embedder>, capacity: usize) -> Self {
        CachedEmbedder {
            inner,
            generation: (capacity / 2).max(1),
            cache: Mutex::new(Generations::default()),
        }
    }

    fn lookup(&self, key: &Key) -> Option<Vec<f32>> {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(vector) = cache.young.get(key) {
            return Some(vector.clone());
        }
        let vector = cache.old.remove(key)?;
        Self::insert_locked(&mut cache, self.generation, *key, vector.clone());
        Some(vector)
    }

    fn insert(&self, key: Key, vector: Vec<f32>) {
        let mut cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Self::insert_locked(&mut cache, self.generation, key, vector);
    }

    fn insert_locked(cache: &mut Generations, generation: usize, key: Key, vector: Vec<f32>) {
        if cache.young.len() >= generation {
            cache.old = std::mem::take(&mut cache.young);
        }
        cache.young.insert(key, vector);
    }

    /// How many vectors are cached.
    pub fn len(&self) -> usize {
        let cache = self.cache.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.young.len() + cache.old.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Embedder for CachedEmbedder {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn is_semantic(&self) -> bool {
        self.inner.is_semantic()
    }

    fn embed(&self, texts: &[&str]) -> cloudops_core::Result<Vec<Vec<f32>>> {
        // Batches are the library's documents, embedded once at startup: not worth keeping.
        let [text] = texts else {
            return self.inner.embed(texts);
        };
        let key = *blake3::hash(text.as_bytes()).as_bytes();
        if let Some(vector) = self.lookup(&key) {
            return Ok(vec![vector]);
        }
        let vectors = self.inner.embed(texts)?;
        if let Some(vector) = vectors.first() {
            self.insert(key, vector.clone());
        }
        Ok(vectors)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Counts the texts it embeds.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Embedder for Counting {
        fn name(&self) -> &str {
            "counting"
        }

        fn is_semantic(&self) -> bool {
            true
        }

        fn embed(&self, texts: &[&str]) -> cloudops_core::Result<Vec<Vec<f32>>> {
            self.0.fetch_add(texts.len(), Ordering::SeqCst);
            Ok(texts.iter().map(|text| vec![text.len() as f32]).collect())
        }
    }

    #[test]
    fn queries_are_embedded_once_and_batches_pass_through() {
        let inner = Arc::new(Counting::default());
        let cached = CachedEmbedder::new(inner.clone(), 8);
        for _ in 0..3 {
            assert_eq!(cached.embed(&["stop"]).ok(), Some(vec![vec![4.0]]));
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 1);
        cached.embed(&["a", "bb"]).ok();
        cached.embed(&["a", "bb"]).ok();
        assert_eq!(inner.0.load(Ordering::SeqCst), 5);
        assert_eq!(cached.len(), 1);
        assert_eq!(cached.name(), "counting");
    }

    #[test]
    fn the_cache_is_bounded_and_keeps_what_is_used() {
        let inner = Arc::new(Counting::default());
        let cached = CachedEmbedder::new(inner.clone(), 4);
        let texts: Vec<String> = (0..100).map(|i| format!("text {i}")).collect();
        for text in &texts {
            cached.embed(&[text]).ok();
            // "stop" stays in use throughout.
            cached.embed(&["stop"]).ok();
            assert!(cached.len() <= 4);
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 101, "stop was embedded once");
    }
}
