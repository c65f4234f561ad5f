//! A bounded cache in front of the MiniLM embedder, for planning queries.
//!
//! The planner embeds the words of a prompt left after the resources' names are removed
//! ("Stop", "reboot the servers"): few distinct texts, each costing milliseconds of model
//! time. Entries are keyed by a BLAKE3 hash of the text, so the cache keeps no prompt text;
//! it lives in memory only and is bounded ([`quick_cache`], which keeps the entries in use
//! and drops the others first).

use std::sync::Arc;

use cloudops_core::Embedder;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, OptionsBuilder, UnitWeighter};

type Key = [u8; 32];

/// An [`Embedder`] that remembers the vectors of single texts (queries).
pub struct CachedEmbedder {
    inner: Arc<dyn Embedder>,
    /// Query vectors by the BLAKE3 hash of their text.
    cache: Cache<Key, Vec<f32>>,
}

impl std::fmt::Debug for CachedEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedEmbedder")
            .field("inner", &self.inner.name())
            .field("capacity", &self.cache.capacity())
            .finish_non_exhaustive()
    }
}

impl CachedEmbedder {
    /// Caches up to `capacity` query vectors of `inner` (at least 2).
    pub fn new(inner: Arc<dyn Embedder>, capacity: usize) -> Self {
        let capacity = capacity.max(2);
        let options = OptionsBuilder::new()
            .estimated_items_capacity(capacity)
            .weight_capacity(capacity as u64)
            .shards(shards(capacity))
            .build();
        let cache = match options {
            Ok(options) => Cache::with_options(
                options,
                UnitWeighter,
                DefaultHashBuilder::default(),
                Default::default(),
            ),
            // Unreachable: both capacities are set above.
            Err(_) => Cache::new(capacity),
        };
        CachedEmbedder { inner, cache }
    }

    /// How many vectors are cached.
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }
}

/// The shards of a cache of `capacity` entries: as many as `quick_cache` uses by default (4
/// per core), but a power of two that divides `capacity`, so that the shards' capacities add
/// up to `capacity` exactly (`quick_cache` rounds each shard's up).
fn shards(capacity: usize) -> usize {
    let default = std::thread::available_parallelism().map_or(1, |n| n.get()) * 4;
    let dividing = 1usize << capacity.trailing_zeros().min(usize::BITS - 2);
    dividing.min(default.next_power_of_two())
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
        if let Some(vector) = self.cache.get(&key) {
            return Ok(vec![vector]);
        }
        let vectors = self.inner.embed(texts)?;
        if let Some(vector) = vectors.first() {
            self.cache.insert(key, vector.clone());
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

    #[test]
    fn the_capacity_is_exactly_what_was_asked() {
        for capacity in [2, 3, 4, 6, 100, 1000, 4096, 4100] {
            let cached = CachedEmbedder::new(Arc::new(Counting::default()), capacity);
            assert_eq!(cached.cache.capacity(), capacity as u64, "capacity {capacity}");
            for i in 0..capacity * 3 {
                cached.embed(&[&format!("text {i}")]).ok();
            }
            assert!(cached.len() <= capacity, "{} > {capacity}", cached.len());
        }
        let tiny = CachedEmbedder::new(Arc::new(Counting::default()), 0);
        assert_eq!(tiny.cache.capacity(), 2);
    }
}
