//! Opening an estate: the directory lock, the format file, the embedder, and the rebuilds
//! an open may need (vectors of another embedder, a lexical index that lags the vectors).

use std::path::Path;
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};

use super::{Estate, EstateConfig, Progress};
use crate::document::{FilterValues, IndexedText, point_id};
use crate::embed::{Embedder, HashEmbedder};
use crate::error::{Error, Result};
use crate::lexical::LexicalIndex;
use crate::vectors::VectorIndex;

/// The on-disk format this build writes and reads. Version 2 keeps the vectors' write-ahead
/// log across opens; version 1 removed it, after which updates and removals of resources
/// written by an earlier process were silently skipped, so version 1 indexes are refused.
pub const FORMAT_VERSION: u32 = 2;
const FORMAT_FILE: &str = "FORMAT.json";

#[derive(Debug, Serialize, Deserialize)]
struct FormatFile {
    format_version: u32,
    embedder: String,
}

/// The lock file inside an estate directory.
const LOCK_FILE: &str = "lock";

/// Creates the estate directory if needed and takes its lock, before anything else is
/// opened or loaded. The engines lock only parts of it (qdrant-edge its write-ahead log,
/// tantivy its writer), each refusing a second opener with its own message after the model
/// was loaded and, for tantivy, after qdrant had opened; and the log is pruned before qdrant
/// locks it (`vectors.rs`). The operating system releases the lock when the file closes, also
/// on a crash.
fn lock_directory(path: &Path) -> Result<std::fs::File> {
    std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
    let lock_path = path.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::io(&lock_path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::InUse(path.to_path_buf())),
        Err(std::fs::TryLockError::Error(error)) => Err(Error::io(lock_path, error)),
    }
}

impl Estate {
    /// Opens (or creates) the estate stored under `path` with core's hashing embedder:
    /// lexical lookup plus a spelling-level vector signal, no model. `cloudops_embed::
    /// open_estate` opens it with the MiniLM language model when that is installed.
    pub fn open(path: impl AsRef<Path>, config: EstateConfig) -> Result<Self> {
        Self::open_with_embedder(path, config, Box::new(HashEmbedder))
    }

    /// Opens (or creates) the estate with an embedder of the caller's choice. Vectors from a
    /// different embedder are recomputed on open.
    pub fn open_with_embedder(
        path: impl AsRef<Path>,
        config: EstateConfig,
        embedder: Box<dyn Embedder>,
    ) -> Result<Self> {
        Self::open_loading(path, config, || Ok(embedder))
    }

    /// Opens (or creates) the estate, taking its lock before `load` runs: a second opener
    /// learns at once that it must wait instead of after a model has loaded. When `load`
    /// fails with a reason, the estate runs on the hashing embedder and
    /// [`Estate::warnings`] says "running without semantic search: <reason>".
    pub fn open_loading(
        path: impl AsRef<Path>,
        config: EstateConfig,
        load: impl FnOnce() -> std::result::Result<Box<dyn Embedder>, String>,
    ) -> Result<Self> {
        let lock = lock_directory(path.as_ref())?;
        let mut warnings = Vec::new();
        let embedder = load().unwrap_or_else(|reason| {
            warnings.push(format!("running without semantic search: {reason}"));
            Box::new(HashEmbedder)
        });
        Self::open_inner(path.as_ref(), config, embedder, warnings, lock)
    }

    fn open_inner(
        path: &Path,
        config: EstateConfig,
        embedder: Box<dyn Embedder>,
        warnings: Vec<String>,
        lock: std::fs::File,
    ) -> Result<Self> {
        let path = path.to_path_buf();
        let format_path = path.join(FORMAT_FILE);
        let stored_format = match std::fs::read_to_string(&format_path) {
            Ok(text) => {
                let format: FormatFile = serde_json::from_str(&text).map_err(|e| {
                    Error::Index(format!("{} is unreadable: {e}", format_path.display()))
                })?;
                if format.format_version != FORMAT_VERSION {
                    return Err(Error::UnsupportedFormat {
                        path,
                        found: format.format_version,
                        supported: FORMAT_VERSION,
                    });
                }
                Some(format)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(Error::io(format_path, error)),
        };
        let vectors = VectorIndex::open(&path.join("vectors"))?;
        let lexical = LexicalIndex::open(&path.join("lexical"))?;
        let estate = Estate {
            path,
            config,
            vectors,
            lexical: RwLock::new(lexical),
            embedder,
            writes: Mutex::new(()),
            account_names: RwLock::new(Vec::new()),
            warnings,
            _lock: lock,
        };
        let embedder_changed =
            stored_format.as_ref().is_some_and(|format| format.embedder != estate.embedder.name());
        if embedder_changed {
            estate.reembed_all(&mut |_| {})?;
        }
        if stored_format.is_none() || embedder_changed {
            estate.write_format()?;
        }
        let stored = estate.vectors.count()?;
        if estate.read_lexical()?.num_docs() != stored as u64 {
            estate.rebuild_lexical()?;
        }
        estate.refresh_account_names()?;
        Ok(estate)
    }

    fn write_format(&self) -> Result<()> {
        let format = FormatFile {
            format_version: FORMAT_VERSION,
            embedder: self.embedder.name().to_owned(),
        };
        let text = serde_json::to_string_pretty(&format)
            .map_err(|e| Error::Index(format!("cannot encode format file: {e}")))?;
        let path = self.path.join(FORMAT_FILE);
        let temporary = self.path.join(".FORMAT.json.tmp");
        std::fs::write(&temporary, text).map_err(|e| Error::io(&temporary, e))?;
        std::fs::rename(&temporary, &path).map_err(|e| Error::io(&path, e))
    }

    /// Remarks about how the estate runs (for example, no semantic model).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether lookups use a semantic embedding model.
    pub fn is_semantic(&self) -> bool {
        self.embedder.is_semantic()
    }

    /// The directory the estate lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Account names recognized in queries: the configured ones and those in the estate.
    pub(super) fn refresh_account_names(&self) -> Result<()> {
        let mut names: Vec<String> =
            self.config.account_names.iter().map(|name| name.to_lowercase()).collect();
        for name in self.vectors.account_names()? {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        *self
            .account_names
            .write()
            .map_err(|_| Error::Index("account names lock poisoned".into()))? = names;
        Ok(())
    }

    fn reembed_all(&self, progress: &mut dyn FnMut(Progress)) -> Result<()> {
        let mut all = Vec::new();
        self.vectors.for_each(|point| {
            all.push(point.resource);
            Ok(())
        })?;
        // Forget stored hashes so everything is embedded anew by the current embedder.
        self.vectors.remove(all.iter().map(|r| point_id(&r.arn)).collect())?;
        self.upsert_with_progress(&all, progress)?;
        Ok(())
    }

    fn rebuild_lexical(&self) -> Result<()> {
        let mut lexical = self.write_lexical()?;
        lexical.clear()?;
        self.vectors.for_each(|point| {
            let resource = &point.resource;
            lexical.upsert(&resource.arn, &IndexedText::of(resource), &FilterValues::of(resource))
        })?;
        lexical.commit()
    }
}
