//! The CloudOps planning server: a stateless HTTP front for the planner. Clients send an
//! enriched request (the operator's words plus the resources they resolved locally); the
//! server answers with a plan built from its playbook library. It holds no estate data and
//! no credentials; what instances share (catalog, usage counters, rate-limit windows) lives
//! in a [`MetadataStore`].
//!
//! ```no_run
//! use std::sync::Arc;
//! use cloudops_core::HashEmbedder;
//! use cloudops_playbooks::{Library, Planner};
//! use cloudops_server::{App, EmbeddedStore, ServerConfig, serve};
//!
//! # async fn run() -> anyhow::Result<()> {
//! let planner = Planner::new(Library::builtin(), Arc::new(HashEmbedder))?;
//! let config = ServerConfig::default();
//! let app = App::new(planner, Arc::new(EmbeddedStore::new()), "hash", config.clone()).await?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! serve(listener, app.router(), &config, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod advisor;
mod embedding;
mod error;
mod handlers;
mod metadata;
mod metrics;
mod middleware;
mod openapi;
mod serve;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use cloudops_playbooks::{Origin, Planner};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::{
    advisor::{Advisor, AdvisorConfig},
    embedding::CachedEmbedder,
    error::{Error, ErrorBody, Result},
    metadata::{
        BoxFuture, CatalogEntry, CatalogRecord, EmbeddedStore, MetadataStore, RedisStore,
        redact_url,
    },
    metrics::{Metrics, Outcome},
    openapi::openapi_json,
    serve::{ClientAddr, serve},
};

/// Query vectors of the model kept in memory (384 floats each: about 6 MiB in all).
pub const EMBEDDING_CACHE_ENTRIES: usize = 4096;

/// Every route the server serves, as `(method, path template)`.
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/v1/plan"),
    ("GET", "/v1/playbooks"),
    ("GET", "/v1/playbooks/{id}"),
    ("GET", "/v1/schemas/playbook"),
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
];

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Requests per client per minute on `/v1/*`; 0 disables rate limiting.
    pub rate_limit_per_minute: u32,
    /// Key clients by the last address of `x-forwarded-for` instead of the peer address.
    /// Only behind a proxy that sets it: clients can send anything there.
    pub trust_forwarded_for: bool,
    /// The largest request body accepted.
    pub max_body_bytes: usize,
    /// The longest a request may take, from its headers to its response.
    pub request_timeout: Duration,
    /// The longest a connection may take to send a request's headers, and the longest an
    /// idle keep-alive connection is kept.
    pub header_read_timeout: Duration,
    /// On shutdown, how long in-flight requests may take to finish.
    pub shutdown_grace: Duration,
    /// Plans computed at once; more wait. Planning is CPU-bound: more than the cores only
    /// adds latency.
    pub max_concurrent_plans: usize,
    /// The optional language-model advisor for low-confidence requests; `None` (default)
    /// keeps planning deterministic and offline.
    pub advisor: Option<AdvisorConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            rate_limit_per_minute: 600,
            trust_forwarded_for: false,
            max_body_bytes: 256 * 1024,
            request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
            max_concurrent_plans: std::thread::available_parallelism().map_or(2, |n| n.get()),
            advisor: None,
        }
    }
}

/// Where the served library came from, as reported to clients (no server paths).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Library)]
pub struct LibraryInfo {
    /// `builtin` or `directory`.
    #[schema(value_type = openapi::schema::LibraryKind)]
    pub kind: &'static str,
    /// The build's version, for the built-in library.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub version: Option<String>,
    /// The Git commit of a directory library, when it is in a repository.
    #[schema(required = true)]
    pub commit: Option<String>,
    /// Whether the served files differ from that commit.
    pub dirty: bool,
    /// The checksum over every playbook.
    pub checksum: String,
    /// How many playbooks are served.
    pub playbooks: usize,
    /// How many files were left out because they are invalid.
    pub problems: usize,
}

/// Shared by every request.
pub(crate) struct AppState {
    pub(crate) planner: Arc<Planner>,
    pub(crate) metadata: Arc<dyn MetadataStore>,
    pub(crate) metrics: Metrics,
    pub(crate) config: ServerConfig,
    pub(crate) plan_slots: Arc<tokio::sync::Semaphore>,
    pub(crate) embedder: String,
    pub(crate) library: LibraryInfo,
    pub(crate) playbook_schema: axum::body::Bytes,
    /// The OpenAPI document, as served.
    pub(crate) openapi: axum::body::Bytes,
    pub(crate) metadata_warned: std::sync::atomic::AtomicU64,
    pub(crate) advisor: Option<Advisor>,
}

/// The server application: the planner, the metadata store and the routes.
#[derive(Clone)]
pub struct App {
    state: Arc<AppState>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("library", &self.state.library)
            .field("metadata", &self.state.metadata.backend())
            .finish_non_exhaustive()
    }
}

impl App {
    /// An application serving `planner`'s library, sharing state through `metadata`. The
    /// catalog is published to the store here. `embedder` names the embedder in use, for
    /// `/healthz`.
    pub async fn new(
        planner: Planner,
        metadata: Arc<dyn MetadataStore>,
        embedder: &str,
        config: ServerConfig,
    ) -> Result<Self> {
        let library = planner.library();
        let (kind, version, commit, dirty) = match library.origin() {
            Origin::Builtin { version } => ("builtin", Some(version.clone()), None, false),
            Origin::Directory { commit, dirty, .. } => ("directory", None, commit.clone(), *dirty),
        };
        let info = LibraryInfo {
            kind,
            version,
            commit: commit.clone(),
            dirty,
            checksum: library.checksum(),
            playbooks: library.len(),
            problems: library.problems().len(),
        };
        let catalog = CatalogRecord {
            library: kind.to_owned(),
            commit,
            dirty,
            checksum: info.checksum.clone(),
            playbooks: library
                .playbooks()
                .map(|loaded| CatalogEntry {
                    id: loaded.playbook.id.clone(),
                    version: loaded.playbook.version.clone(),
                    checksum: loaded.checksum.clone(),
                })
                .collect(),
        };
        metadata.publish_catalog(&catalog).await?;
        let playbook_schema = serde_json::to_vec(&cloudops_playbooks::json_schema())
            .map_err(|e| Error::Internal(format!("playbook schema to JSON: {e}")))?;
        let advisor = match &config.advisor {
            Some(advisor) => Some(Advisor::new(advisor.clone()).map_err(Error::Unavailable)?),
            None => None,
        };
        let state = AppState {
            advisor,
            metrics: Metrics::new(info.playbooks, info.problems),
            planner: Arc::new(planner),
            metadata,
            plan_slots: Arc::new(tokio::sync::Semaphore::new(config.max_concurrent_plans.max(1))),
            config,
            embedder: embedder.to_owned(),
            library: info,
            playbook_schema: playbook_schema.into(),
            openapi: openapi_json().into(),
            metadata_warned: std::sync::atomic::AtomicU64::new(0),
        };
        Ok(App { state: Arc::new(state) })
    }

    /// The library served.
    pub fn library(&self) -> &LibraryInfo {
        &self.state.library
    }

    /// The metrics of this application.
    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
    }

    /// The routes, with body limit, rate limiting, timeouts, metrics and access logs.
    pub fn router(&self) -> Router {
        let state = self.state.clone();
        // Every route comes with its description in the OpenAPI document.
        let (routes, _) = openapi::routes();
        routes
            .fallback(handlers::no_route)
            .method_not_allowed_fallback(handlers::method_not_allowed)
            .layer(DefaultBodyLimit::max(state.config.max_body_bytes))
            .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
            .with_state(state)
    }
}

/// The embedder to plan with, and its name: the built-in hashing embedder when `hashing`,
/// else MiniLM (behind a [`CachedEmbedder`]) when installed, else hashing with a warning.
pub fn choose_embedder(hashing: bool) -> (Arc<dyn cloudops_core::Embedder>, String) {
    if hashing {
        tracing::info!("playbook retrieval uses the hashing embedder");
        return hashing_embedder();
    }
    #[cfg(feature = "model")]
    {
        model_embedder().unwrap_or_else(hashing_embedder)
    }
    #[cfg(not(feature = "model"))]
    {
        tracing::warn!(
            "built without the `model` feature; playbook retrieval uses the hashing embedder"
        );
        hashing_embedder()
    }
}

fn hashing_embedder() -> (Arc<dyn cloudops_core::Embedder>, String) {
    let embedder = cloudops_core::HashEmbedder;
    let name = cloudops_core::Embedder::name(&embedder).to_owned();
    (Arc::new(embedder), name)
}

/// MiniLM from the default model directory, or `None` (with a warning saying why).
#[cfg(feature = "model")]
fn model_embedder() -> Option<(Arc<dyn cloudops_core::Embedder>, String)> {
    let Some(directory) = cloudops_embed::default_model_dir() else {
        tracing::warn!(
            "no model directory (HOME and CLOUDOPS_MODEL_DIR unset); playbook retrieval uses the hashing embedder"
        );
        return None;
    };
    if !cloudops_embed::model_present(&directory) {
        tracing::warn!(
            directory = %directory.display(),
            "the MiniLM model is not installed (scripts/fetch-model.sh installs it); playbook retrieval uses the hashing embedder"
        );
        return None;
    }
    match cloudops_embed::MiniLmEmbedder::load(&directory) {
        Ok(embedder) => {
            let name = cloudops_core::Embedder::name(&embedder).to_owned();
            tracing::info!(directory = %directory.display(), "playbook retrieval uses MiniLM");
            let cached = CachedEmbedder::new(Arc::new(embedder), EMBEDDING_CACHE_ENTRIES);
            Some((Arc::new(cached), name))
        }
        Err(error) => {
            tracing::warn!(%error, "the MiniLM model could not be loaded; playbook retrieval uses the hashing embedder");
            None
        }
    }
}
