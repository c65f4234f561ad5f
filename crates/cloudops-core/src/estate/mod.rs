//! The estate: one handle over the local copy of an AWS estate, with upsert, removal,
//! statistics, facets and hybrid lookup.
//!
//! One file per operation, as in qdrant's `lib/edge`: `types.rs` holds the plain request and
//! response types, `open.rs` the lifecycle (lock, format file, embedder, rebuilds),
//! `upsert.rs` the writes, `read.rs` reads by key and statistics, `facets.rs` the distinct
//! values of the filter fields, `select.rs` structured queries (counts, groups, listings), `lookup.rs` the lookup flow and `rank.rs` its scoring rules.

mod facets;
mod lookup;
mod open;
mod rank;
mod read;
mod select;
mod types;
mod upsert;

use std::path::PathBuf;
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::embed::Embedder;
use crate::error::{Error, Result};
use crate::lexical::LexicalIndex;
use crate::vectors::VectorIndex;

pub use self::open::FORMAT_VERSION;
pub use self::types::{
    AccountFacet, EstateConfig, EstateStats, FacetCount, Facets, LookupRequest, LookupResponse,
    LookupResult, Progress, UpsertReport,
};

/// The local estate index. Cheap to share behind an `Arc`: lookups take `&self` and run
/// concurrently; writes are serialized internally.
pub struct Estate {
    path: PathBuf,
    config: EstateConfig,
    vectors: VectorIndex,
    lexical: RwLock<LexicalIndex>,
    embedder: Box<dyn Embedder>,
    writes: Mutex<()>,
    account_names: RwLock<Vec<String>>,
    warnings: Vec<String>,
    /// The lock file, held open (and locked) as long as the estate is; declared last, so the
    /// engines above are flushed and closed before another opener can get in.
    _lock: std::fs::File,
}

impl std::fmt::Debug for Estate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Estate").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Estate {
    fn read_lexical(&self) -> Result<RwLockReadGuard<'_, LexicalIndex>> {
        self.lexical.read().map_err(|_| Error::Index("lexical index lock poisoned".into()))
    }

    fn write_lexical(&self) -> Result<RwLockWriteGuard<'_, LexicalIndex>> {
        self.lexical.write().map_err(|_| Error::Index("lexical index lock poisoned".into()))
    }
}
