//! The estate: one handle over the local copy of an AWS estate, with upsert, removal,
//! statistics and hybrid lookup.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::document::{FilterValues, IndexedText, TermWords, term_words};
use crate::embed::{Embedder, HashEmbedder};
use crate::error::{Error, Result};
use crate::fusion::fuse;
use crate::lexical::{Combine, DocumentWords, LexicalFilter, LexicalIndex};
use crate::model::{Resource, ResourceType};
use crate::query::{ParsedQuery, RegionScope, parse_query};
use crate::vectors::{NewPoint, VectorIndex, point_id};

/// The on-disk format this build writes and reads. Version 2 keeps the vectors' write-ahead
/// log across opens; version 1 removed it, after which updates and removals of resources
/// written by an earlier process were silently skipped, so version 1 indexes are refused.
pub const FORMAT_VERSION: u32 = 2;
const FORMAT_FILE: &str = "FORMAT.json";

/// How an [`Estate`] is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateConfig {
    /// Where the MiniLM model lives; `None` looks in the default places
    /// ([`crate::default_model_dir`]).
    pub model_dir: Option<PathBuf>,
    /// Whether to use the semantic model when it is installed. Off, the built-in hashing
    /// embedder is used and lookups are lexical only.
    pub semantic: bool,
    /// Account names from the client's configuration, recognized in queries as scopes (the
    /// names found in the estate are recognized too).
    pub account_names: Vec<String>,
    /// How lexical and semantic candidates are combined.
    pub fusion: Fusion,
}

impl Default for EstateConfig {
    fn default() -> Self {
        EstateConfig {
            model_dir: None,
            semantic: true,
            account_names: Vec::new(),
            fusion: Fusion::Rrf,
        }
    }
}

/// How ranked lists are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fusion {
    /// Reciprocal rank fusion: `Σ 1 / (60 + rank)`; ignores score scales.
    Rrf,
    /// Weighted sum of the lexical score (relative to the best) and the cosine similarity.
    Weighted,
}

/// A lookup: free text plus optional explicit scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupRequest {
    /// What the operator typed.
    pub query: String,
    /// Only this kind of resource.
    #[serde(default)]
    pub resource_type: Option<ResourceType>,
    /// Only this account (name or id).
    #[serde(default)]
    pub account: Option<String>,
    /// Only this region.
    #[serde(default)]
    pub region: Option<String>,
    /// Only resources in this state (`running`, `stopped`, `available`…; case-insensitive).
    #[serde(default)]
    pub state: Option<String>,
    /// How many results at most (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Answer from the lexical index alone, without embedding the query: a first answer
    /// to paint while the operator types. The response's `semantic_skipped` says whether
    /// the full lookup could rank differently.
    #[serde(default)]
    pub lexical_only: bool,
}

/// How a result was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    /// The query named the resource's ARN.
    ExactArn,
    /// The query named the resource's id.
    ExactId,
    /// The query named the resource's name.
    ExactName,
    /// The query is a prefix (10 characters or more) of the resource's id.
    IdPrefix,
    /// Words, typos or fragments of the name, tags or description.
    Lexical,
    /// Meaning, by the embedding model.
    Semantic,
    /// Both lexical and semantic evidence.
    Hybrid,
    /// Only the query's scopes and filters select it; no words ranked it.
    Filter,
}

impl MatchKind {
    /// Whether the query identified this resource exactly.
    pub fn is_exact(self) -> bool {
        matches!(
            self,
            MatchKind::ExactArn | MatchKind::ExactId | MatchKind::ExactName | MatchKind::IdPrefix
        )
    }
}

/// One lookup result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupResult {
    /// The resource.
    pub resource: Resource,
    /// Relevance in `0..=1`; exact matches score 1.
    pub score: f32,
    /// How it was matched.
    pub matched_by: MatchKind,
}

/// The answer to a lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupResponse {
    /// The query as received.
    pub query: String,
    /// How the query was understood.
    pub understood: ParsedQuery,
    /// Results, best first.
    pub results: Vec<LookupResult>,
    /// True when the best candidates are too close to call: the operator must choose.
    pub ambiguous: bool,
    /// Whether the semantic model took part in this lookup.
    pub semantic: bool,
    /// True when the request was `lexical_only` and a full lookup would have embedded the
    /// query: the semantic candidates are missing from this answer, ask again for them.
    #[serde(default)]
    pub semantic_skipped: bool,
    /// Remarks for the operator (a relaxed scope, a missing model…).
    pub notes: Vec<String>,
    /// Time spent, in microseconds.
    pub took_us: u64,
}

/// What an upsert did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertReport {
    /// Resources that were not in the estate.
    pub added: usize,
    /// Resources whose content changed.
    pub changed: usize,
    /// Resources identical to what was stored (not rewritten).
    pub unchanged: usize,
    /// Distinct texts sent to the embedder.
    pub embedded: usize,
}

/// Progress of a long operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Items done.
    pub done: usize,
    /// Items in all.
    pub total: usize,
}

/// Statistics about the estate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateStats {
    /// Number of resources.
    pub resources: usize,
    /// Resources per type.
    pub by_type: BTreeMap<String, usize>,
    /// Resources per account name (or id, when unnamed).
    pub by_account: BTreeMap<String, usize>,
    /// Resources per region.
    pub by_region: BTreeMap<String, usize>,
    /// The embedder in use.
    pub embedder: String,
    /// Whether lookups use a semantic model.
    pub semantic: bool,
    /// Bytes on disk under the estate directory.
    pub disk_bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct FormatFile {
    format_version: u32,
    embedder: String,
}

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

/// Candidate lists this long are fused; deeper ranks barely move RRF scores.
const CANDIDATES: usize = 50;
/// Id prefixes shorter than this are too likely to match many resources.
const MIN_ID_PREFIX: usize = 10;
/// Fewer letters than this carry no meaning to embed: the first keystroke of a search
/// ("p", "c") is answered lexically alone instead of paying for a query embedding.
const MIN_SEMANTIC_CHARS: usize = 2;
/// Below this ratio between the second and the best score, the best is decisive.
const AMBIGUITY_RATIO: f32 = 0.9;

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

fn load_embedder(config: &EstateConfig, warnings: &mut Vec<String>) -> Box<dyn Embedder> {
    if !config.semantic {
        return Box::new(HashEmbedder);
    }
    let dir = config.model_dir.clone().or_else(crate::embed::default_model_dir);
    #[cfg(feature = "candle")]
    if let Some(dir) = &dir
        && crate::embed::model_present(dir)
    {
        match crate::embed::MiniLmEmbedder::load(dir) {
            Ok(model) => return Box::new(model),
            Err(error) => warnings.push(format!("running without semantic search: {error}")),
        }
        return Box::new(HashEmbedder);
    }
    warnings.push(match dir {
        Some(dir) => format!(
            "running without semantic search: no embedding model at {}; install it with \
             scripts/fetch-model.sh",
            dir.display()
        ),
        None => "running without semantic search: no model directory configured".to_owned(),
    });
    Box::new(HashEmbedder)
}

impl Estate {
    /// Opens (or creates) the estate stored under `path`, with the embedder the
    /// configuration selects (MiniLM when installed, else the hashing embedder).
    pub fn open(path: impl AsRef<Path>, config: EstateConfig) -> Result<Self> {
        // Before the model is loaded: a second opener learns at once that it must wait.
        let lock = lock_directory(path.as_ref())?;
        let mut warnings = Vec::new();
        let embedder = load_embedder(&config, &mut warnings);
        Self::open_inner(path.as_ref(), config, embedder, warnings, lock)
    }

    /// Opens (or creates) the estate with an embedder of the caller's choice. Vectors from a
    /// different embedder are recomputed on open.
    pub fn open_with_embedder(
        path: impl AsRef<Path>,
        config: EstateConfig,
        embedder: Box<dyn Embedder>,
    ) -> Result<Self> {
        let lock = lock_directory(path.as_ref())?;
        Self::open_inner(path.as_ref(), config, embedder, Vec::new(), lock)
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

    fn read_lexical(&self) -> Result<std::sync::RwLockReadGuard<'_, LexicalIndex>> {
        self.lexical.read().map_err(|_| Error::Index("lexical index lock poisoned".into()))
    }

    fn write_lexical(&self) -> Result<std::sync::RwLockWriteGuard<'_, LexicalIndex>> {
        self.lexical.write().map_err(|_| Error::Index("lexical index lock poisoned".into()))
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

    /// Adds or replaces resources, keyed by ARN. Unchanged resources are not rewritten, and
    /// a resource is re-embedded only when its embedded text changed.
    pub fn upsert(&self, resources: &[Resource]) -> Result<UpsertReport> {
        self.upsert_with_progress(resources, &mut |_| {})
    }

    /// [`Self::upsert`], reporting progress after each batch.
    pub fn upsert_with_progress(
        &self,
        resources: &[Resource],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<UpsertReport> {
        for resource in resources {
            validate(resource)?;
        }
        // Last one wins within a batch, as it would across batches.
        let mut latest: HashMap<&str, usize> = HashMap::with_capacity(resources.len());
        for (position, resource) in resources.iter().enumerate() {
            latest.insert(resource.arn.as_str(), position);
        }
        let unique: Vec<&Resource> = resources
            .iter()
            .enumerate()
            .filter(|(position, resource)| latest.get(resource.arn.as_str()) == Some(position))
            .map(|(_, resource)| resource)
            .collect();

        let _writing =
            self.writes.lock().map_err(|_| Error::Index("write lock poisoned".into()))?;
        let mut report = UpsertReport::default();
        let mut embedded: HashMap<String, Vec<f32>> = HashMap::new();
        let total = unique.len();
        for (chunk_number, chunk) in unique.chunks(1024).enumerate() {
            self.upsert_chunk(chunk, &mut embedded, &mut report)?;
            progress(Progress { done: (chunk_number * 1024 + chunk.len()).min(total), total });
        }
        self.write_lexical()?.commit()?;
        if report.added + report.changed >= 10_000 {
            self.vectors.optimize()?;
        }
        self.vectors.flush();
        report.embedded = embedded.len();
        drop(_writing);
        self.refresh_account_names()?;
        Ok(report)
    }

    fn upsert_chunk(
        &self,
        chunk: &[&Resource],
        embedded: &mut HashMap<String, Vec<f32>>,
        report: &mut UpsertReport,
    ) -> Result<()> {
        let ids: Vec<u64> = chunk.iter().map(|r| point_id(&r.arn)).collect();
        let stored: HashMap<String, crate::vectors::StoredPoint> = self
            .vectors
            .get(&ids, true)?
            .into_iter()
            .map(|point| (point.resource.arn.clone(), point))
            .collect();

        struct Pending<'a> {
            resource: &'a Resource,
            text: IndexedText,
            filters: FilterValues,
            content_hash: String,
            text_hash: String,
            vector: Option<Vec<f32>>,
        }
        let mut pending = Vec::new();
        for resource in chunk {
            let content_hash = content_hash(resource)?;
            let previous = stored.get(&resource.arn);
            if previous.is_some_and(|p| p.content_hash == content_hash) {
                report.unchanged += 1;
                continue;
            }
            if previous.is_some() {
                report.changed += 1;
            } else {
                report.added += 1;
            }
            let text = IndexedText::of(resource);
            let text_hash = blake3::hash(
                format!("{}\u{0}{}", self.embedder.name(), text.embed_text).as_bytes(),
            )
            .to_hex()
            .to_string();
            let vector = previous
                .filter(|p| p.text_hash == text_hash)
                .and_then(|p| p.vector.clone())
                .or_else(|| embedded.get(&text_hash).cloned());
            pending.push(Pending {
                resource,
                filters: FilterValues::of(resource),
                text,
                content_hash,
                text_hash,
                vector,
            });
        }

        // Embed each distinct missing text once.
        let mut to_embed: Vec<(&str, &str)> = Vec::new();
        let mut seen = HashSet::new();
        for item in pending.iter().filter(|item| item.vector.is_none()) {
            if seen.insert(item.text_hash.as_str()) {
                to_embed.push((item.text_hash.as_str(), item.text.embed_text.as_str()));
            }
        }
        let texts: Vec<&str> = to_embed.iter().map(|(_, text)| *text).collect();
        let vectors = self.embedder.embed(&texts)?;
        for ((hash, _), vector) in to_embed.iter().zip(vectors) {
            embedded.insert((*hash).to_owned(), vector);
        }

        let lexical = self.read_lexical()?;
        let mut points = Vec::with_capacity(pending.len());
        for item in &pending {
            lexical.upsert(&item.resource.arn, &item.text, &item.filters)?;
            let vector = match &item.vector {
                Some(vector) => vector.clone(),
                None => embedded
                    .get(&item.text_hash)
                    .cloned()
                    .ok_or_else(|| Error::Model("the embedder returned too few vectors".into()))?,
            };
            points.push(NewPoint {
                resource: item.resource,
                filters: &item.filters,
                content_hash: &item.content_hash,
                text_hash: &item.text_hash,
                vector,
            });
        }
        self.vectors.upsert(points)
    }

    /// Removes resources by ARN; returns how many were present.
    pub fn remove(&self, arns: &[String]) -> Result<usize> {
        let _writing =
            self.writes.lock().map_err(|_| Error::Index("write lock poisoned".into()))?;
        let ids: Vec<u64> = arns.iter().map(|arn| point_id(arn)).collect();
        let present = self.vectors.get(&ids, false)?.len();
        self.vectors.remove(ids)?;
        let mut lexical = self.write_lexical()?;
        for arn in arns {
            lexical.remove(arn);
        }
        lexical.commit()?;
        drop(lexical);
        self.vectors.flush();
        Ok(present)
    }

    /// The resource with this ARN, if present.
    pub fn get(&self, arn: &str) -> Result<Option<Resource>> {
        Ok(self.vectors.get(&[point_id(arn)], false)?.into_iter().next().map(|p| p.resource))
    }

    /// How many resources the estate holds (from the store's count, without a scan).
    pub fn len(&self) -> Result<usize> {
        self.vectors.count()
    }

    /// Whether the estate holds no resource.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Calls `visit` with every resource (in no particular order).
    pub fn for_each(&self, mut visit: impl FnMut(Resource) -> Result<()>) -> Result<()> {
        self.vectors.for_each(|point| visit(point.resource))
    }

    /// Counts and sizes.
    pub fn stats(&self) -> Result<EstateStats> {
        let mut stats = EstateStats {
            resources: 0,
            by_type: BTreeMap::new(),
            by_account: BTreeMap::new(),
            by_region: BTreeMap::new(),
            embedder: self.embedder.name().to_owned(),
            semantic: self.embedder.is_semantic(),
            disk_bytes: directory_size(&self.path),
        };
        self.for_each(|resource| {
            stats.resources += 1;
            *stats.by_type.entry(resource.resource_type.as_str().to_owned()).or_default() += 1;
            let account = if resource.account_name.is_empty() {
                resource.account_id
            } else {
                resource.account_name
            };
            *stats.by_account.entry(account).or_default() += 1;
            *stats.by_region.entry(resource.region).or_default() += 1;
            Ok(())
        })?;
        Ok(stats)
    }

    fn refresh_account_names(&self) -> Result<()> {
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

    /// Finds the resources a query refers to. See the crate documentation for the stages.
    pub fn lookup(&self, request: &LookupRequest) -> Result<LookupResponse> {
        let started = Instant::now();
        let limit = request.limit.unwrap_or(10).clamp(1, 1_000);
        let account_names = self
            .account_names
            .read()
            .map_err(|_| Error::Index("account names lock poisoned".into()))?
            .clone();
        let mut understood = parse_query(&request.query, &account_names);
        if let Some(kind) = &request.resource_type {
            understood.resource_types = vec![kind.clone()];
        }
        if let Some(account) = &request.account {
            understood.accounts = vec![account.to_lowercase()];
        }
        if let Some(region) = &request.region {
            understood.regions = vec![RegionScope::Exact(region.to_lowercase())];
        }
        let mut filter = to_filter(&understood);
        if let Some(state) = request.state.as_deref().filter(|state| !state.trim().is_empty()) {
            filter.states = vec![state.trim().to_lowercase()];
        }
        let mut notes = Vec::new();

        let lexical_only = request.lexical_only;
        let mut outcome = self.search(&understood, &filter, limit, lexical_only)?;
        // (A lexical-only answer that is empty in scope waits for the semantic candidates.)
        if outcome.results.is_empty()
            && !outcome.semantic_skipped
            && understood.has_scope()
            && !understood.terms.is_empty()
        {
            // Nothing in scope: say so, and show what matches elsewhere rather than nothing.
            let unscoped =
                self.search(&understood, &LexicalFilter::default(), limit, lexical_only)?;
            if !unscoped.results.is_empty() {
                notes.push(
                    "nothing matches within the requested scope; showing matches outside it"
                        .to_owned(),
                );
                outcome = unscoped;
                outcome.ambiguous = true;
            }
        }
        if !self.embedder.is_semantic() {
            notes.extend(self.warnings.iter().cloned());
        }
        Ok(LookupResponse {
            query: request.query.clone(),
            understood,
            results: outcome.results,
            ambiguous: outcome.ambiguous,
            semantic: outcome.semantic,
            semantic_skipped: outcome.semantic_skipped,
            notes,
            took_us: started.elapsed().as_micros() as u64,
        })
    }

    fn search(
        &self,
        understood: &ParsedQuery,
        filter: &LexicalFilter,
        limit: usize,
        lexical_only: bool,
    ) -> Result<Outcome> {
        let lexical = self.read_lexical()?;

        // 1. Exact: a term that is an ARN, an id, a name, or a long enough id prefix.
        if !understood.terms.is_empty() {
            let mut values = understood.terms.clone();
            let mention = understood.mention();
            if understood.terms.len() > 1 {
                values.push(mention);
            }
            let hits = lexical.exact(&values, MIN_ID_PREFIX, filter)?;
            if !hits.is_empty() {
                let ids: Vec<u64> = hits.iter().map(|hit| point_id(&hit.arn)).collect();
                let mut results: Vec<LookupResult> = self
                    .vectors
                    .get(&ids, false)?
                    .into_iter()
                    .filter_map(|point| {
                        let kind = exact_kind(&point.resource, &values)?;
                        Some(LookupResult {
                            resource: point.resource,
                            score: 1.0,
                            matched_by: kind,
                        })
                    })
                    .collect();
                // Whole identifiers beat prefixes.
                if results.iter().any(|r| r.matched_by != MatchKind::IdPrefix) {
                    results.retain(|r| r.matched_by != MatchKind::IdPrefix);
                }
                if !results.is_empty() {
                    results.truncate(limit);
                    return Ok(Outcome::without_semantics(results));
                }
            }
        }

        // 2. Scope only: everything the filters admit.
        let terms: Vec<TermWords> = understood.terms.iter().map(|t| term_words(t)).collect();
        let mut words: Vec<String> = terms.iter().flat_map(|t| t.search.clone()).collect();
        let mut unique = HashSet::new();
        words.retain(|word| unique.insert(word.clone()));
        if words.is_empty() {
            let hits = lexical.search(&[], filter, limit, Combine::Any)?;
            drop(lexical);
            let mut results = self.resolve(
                &hits.iter().map(|h| (point_id(&h.arn), 1.0)).collect::<Vec<_>>(),
                MatchKind::Filter,
            )?;
            results.sort_by(|a, b| a.resource.name.cmp(&b.resource.name));
            return Ok(Outcome::without_semantics(results));
        }

        // 3. Lexical candidates, then semantic ones unless the lexical answer is decisive.
        // First the documents carrying every word, which is cheap at any size and usually
        // decides; only when it does not, the wide net of any word and its letter grams.
        let query_words = primary_words(&terms);
        let mut pool: HashMap<u64, Candidate> = HashMap::new();
        let mut lexical_hits = Vec::new();
        let mut decisive = false;
        for combine in [Combine::Every, Combine::Any] {
            lexical_hits = lexical.search(&words, filter, CANDIDATES, combine)?;
            pool.clear();
            for hit in &lexical_hits {
                pool.insert(hit.words.id, Candidate::of(&query_words, &hit.words));
            }
            decisive = is_decisive(&pool);
            if decisive {
                break;
            }
        }
        drop(lexical);
        // Identifiers mean nothing to the model (and long ones are its slowest inputs).
        let meaningful = terms.iter().any(|t| !t.identifier)
            && words.iter().map(|word| word.chars().count()).sum::<usize>() >= MIN_SEMANTIC_CHARS;
        let wants_semantic = self.embedder.is_semantic() && meaningful && !decisive;
        let semantic_skipped = wants_semantic && lexical_only;
        let semantic_hits = if wants_semantic && !lexical_only {
            let vector = self
                .embedder
                .embed(&[semantic_text(understood, &terms).as_str()])?
                .into_iter()
                .next()
                .ok_or_else(|| Error::Model("the embedder returned no vector".into()))?;
            self.vectors.search(vector, filter, CANDIDATES)?
        } else {
            Vec::new()
        };
        let semantic = !semantic_hits.is_empty();
        let unseen: Vec<u64> =
            semantic_hits.iter().map(|(id, _)| *id).filter(|id| !pool.contains_key(id)).collect();
        for words in self.read_lexical()?.words_of(&unseen)? {
            pool.insert(words.id, Candidate::of(&query_words, &words));
        }

        // Ranking rules: first how many of the query's words a resource carries (exactly,
        // then as a prefix or with a typo), then the fused lexical/semantic relevance.
        let lexical_scores: Vec<(u64, f32)> =
            lexical_hits.iter().map(|hit| (hit.words.id, hit.score)).collect();
        let fused = fuse(self.config.fusion, &lexical_scores, &semantic_hits);
        let similarity: HashMap<u64, f32> = semantic_hits.iter().copied().collect();
        let mut ranked: Vec<(f32, MatchKind, u64)> = fused
            .iter()
            .filter_map(|candidate| {
                let coverage = pool.get(&candidate.id)?.coverage;
                // Evidence floor: a few shared letters are not a match, and neither is a
                // faint semantic resemblance. Nothing beats a wrong answer.
                let similar = similarity.get(&candidate.id).is_some_and(|s| *s >= MIN_SIMILARITY);
                if coverage < MIN_COVERAGE && !similar {
                    return None;
                }
                let score = COVERAGE_WEIGHT * coverage + (1.0 - COVERAGE_WEIGHT) * candidate.score;
                Some((score, candidate.kind, candidate.id))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
        let ambiguous = match ranked.as_slice() {
            [first, second, ..] => second.0 >= first.0 * AMBIGUITY_RATIO,
            _ => false,
        };
        ranked.truncate(limit);
        let ids: Vec<u64> = ranked.iter().map(|(_, _, id)| *id).collect();
        let mut resources: HashMap<u64, Resource> = self
            .vectors
            .get(&ids, false)?
            .into_iter()
            .map(|point| (point_id(&point.resource.arn), point.resource))
            .collect();
        let results = ranked
            .into_iter()
            .filter_map(|(score, kind, id)| {
                resources.remove(&id).map(|resource| LookupResult {
                    resource,
                    score,
                    matched_by: kind,
                })
            })
            .collect();
        Ok(Outcome { results, ambiguous, semantic, semantic_skipped })
    }

    /// Reads the resources of scored point ids, keeping the order.
    fn resolve(&self, scored: &[(u64, f32)], kind: MatchKind) -> Result<Vec<LookupResult>> {
        let ids: Vec<u64> = scored.iter().map(|(id, _)| *id).collect();
        let points = self.vectors.get(&ids, false)?;
        let scores: HashMap<u64, f32> = scored.iter().copied().collect();
        Ok(points
            .into_iter()
            .map(|point| {
                let score = scores.get(&point_id(&point.resource.arn)).copied().unwrap_or(0.0);
                LookupResult { resource: point.resource, score, matched_by: kind }
            })
            .collect())
    }
}

struct Outcome {
    results: Vec<LookupResult>,
    ambiguous: bool,
    semantic: bool,
    semantic_skipped: bool,
}

impl Outcome {
    /// Exact and filter-only answers: no ranking by meaning could change them.
    fn without_semantics(results: Vec<LookupResult>) -> Self {
        Outcome { ambiguous: results.len() > 1, results, semantic: false, semantic_skipped: false }
    }
}

fn validate(resource: &Resource) -> Result<()> {
    let missing = |field: &str| {
        Err(Error::InvalidInput(format!(
            "resource {:?} has an empty `{field}`",
            if resource.arn.is_empty() { &resource.id } else { &resource.arn }
        )))
    };
    if resource.arn.trim().is_empty() {
        return missing("arn");
    }
    if resource.id.trim().is_empty() {
        return missing("id");
    }
    if resource.account_id.trim().is_empty() {
        return missing("account_id");
    }
    if resource.arn.len() > 2048 {
        return Err(Error::InvalidInput(format!(
            "ARN longer than 2048 bytes: {}…",
            &resource.arn[..64]
        )));
    }
    Ok(())
}

/// The hash that decides whether a resource changed: everything but `last_seen`, which
/// changes on every sync without the resource changing.
fn content_hash(resource: &Resource) -> Result<String> {
    let unseen = Resource { last_seen: String::new(), ..resource.clone() };
    let bytes = serde_json::to_vec(&unseen)
        .map_err(|e| Error::Index(format!("cannot encode resource: {e}")))?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

fn to_filter(understood: &ParsedQuery) -> LexicalFilter {
    LexicalFilter {
        resource_types: understood.resource_types.iter().map(|k| k.as_str().to_owned()).collect(),
        accounts: understood.accounts.clone(),
        regions: understood
            .regions
            .iter()
            .map(|region| match region {
                RegionScope::Exact(code) | RegionScope::Prefix(code) => code.clone(),
            })
            .collect(),
        environments: understood.environments.clone(),
        tags: understood.tags.iter().map(|(key, value)| format!("{key}={value}")).collect(),
        states: Vec::new(),
    }
}

fn exact_kind(resource: &Resource, values: &[String]) -> Option<MatchKind> {
    let equals = |field: &str| values.iter().any(|value| field.eq_ignore_ascii_case(value));
    if equals(&resource.arn) {
        Some(MatchKind::ExactArn)
    } else if !resource.name.is_empty() && equals(&resource.name) {
        Some(MatchKind::ExactName)
    } else if equals(&resource.id) {
        Some(MatchKind::ExactId)
    } else {
        let id = resource.id.to_lowercase();
        values
            .iter()
            .any(|value| value.chars().count() >= MIN_ID_PREFIX && id.starts_with(value.as_str()))
            .then_some(MatchKind::IdPrefix)
    }
}

/// The text embedded for a query: its terms but identifiers, plus the kind it names.
fn semantic_text(understood: &ParsedQuery, terms: &[TermWords]) -> String {
    let mut parts: Vec<String> = understood
        .resource_types
        .iter()
        .filter_map(|kind| kind.synonyms().get(1).map(|word| (*word).to_owned()))
        .collect();
    parts.extend(
        understood
            .terms
            .iter()
            .zip(terms)
            .filter(|(_, t)| !t.identifier)
            .map(|(term, _)| term.clone()),
    );
    parts.join(" ")
}

/// A lexical answer is decisive when a candidate carries (nearly) all of the query's words:
/// the query embedding — the most expensive step of a lookup — is then skipped. Meaning
/// would not improve on such an answer: a rival carrying as many words differs from the
/// winner in what the operator did not type (a serial, an environment, a region), which is
/// for the operator to pick, so the answer is reported ambiguous either way; and measured on
/// the evaluation set, ranking by words alone is more accurate there than with the rank of
/// meaning fused in (the semantic ranks of near-identical names are noise).
fn is_decisive(pool: &HashMap<u64, Candidate>) -> bool {
    pool.values().any(|candidate| candidate.coverage >= DECISIVE_COVERAGE)
}

/// Coverage from which a lexical winner is decisive.
const DECISIVE_COVERAGE: f32 = 0.8;

/// Candidates carrying less of the query than this, and not semantically similar, are dropped.
const MIN_COVERAGE: f32 = 0.25;
/// Cosine similarity from which a semantic candidate stands on its own.
const MIN_SIMILARITY: f32 = 0.3;

/// How much the coverage of query words weighs against the fused relevance.
const COVERAGE_WEIGHT: f32 = 0.7;

struct Candidate {
    coverage: f32,
}

impl Candidate {
    fn of(query_words: &[String], words: &DocumentWords) -> Self {
        Candidate { coverage: coverage(query_words, &words.name_words, &words.other_words) }
    }
}

/// The words of the query as typed (split on punctuation, numbers without leading zeros).
fn primary_words(terms: &[TermWords]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for word in terms.iter().flat_map(|term| &term.typed) {
        if !words.contains(word) {
            words.push(word.clone());
        }
    }
    words
}

/// The share of `query_words` a resource carries: 1 for a word of its name or id, 0.9 for a
/// prefix of one, 0.8 for one within typo distance; 0.6 for a word of its tags, attributes
/// or description (less telling than the name); 0 otherwise.
fn coverage(query_words: &[String], name_words: &[String], other_words: &[String]) -> f32 {
    if query_words.is_empty() {
        return 0.0;
    }
    let total: f32 = query_words
        .iter()
        .map(|word| {
            let in_text = |w: &String| w == word;
            if name_words.iter().any(in_text) {
                return 1.0;
            }
            if other_words.iter().any(in_text) {
                return 0.6;
            }
            if word.chars().all(|c| c.is_ascii_digit()) {
                return 0.0;
            }
            let length = word.chars().count();
            if length >= 3 && name_words.iter().any(|w| w.starts_with(word.as_str())) {
                return 0.9;
            }
            if length >= 4 {
                let allowed = if length >= 8 { 2 } else { 1 };
                let close = |w: &String| strsim::osa_distance(w, word) <= allowed;
                if name_words.iter().any(close) {
                    return 0.8;
                }
                if other_words.iter().any(close) {
                    return 0.5;
                }
            }
            0.0
        })
        .sum();
    total / query_words.len() as f32
}

/// Bytes actually allocated under `path`: the engines preallocate sparse files, whose
/// apparent length would overstate the cost many times.
fn directory_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => directory_size(&entry.path()),
            Ok(metadata) => allocated(&metadata),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(unix)]
fn allocated(metadata: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    metadata.blocks() * 512
}

#[cfg(not(unix))]
fn allocated(metadata: &std::fs::Metadata) -> u64 {
    metadata.len()
}
