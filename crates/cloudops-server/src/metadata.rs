//! The metadata store: what server instances share, and nothing else — the playbook catalog
//! served (ids, versions, checksums, commit), how often each playbook planned, and the
//! per-client rate-limit windows. Two implementations: in process (the default, for one
//! instance) and Redis (for several instances behind a load balancer).
//!
//! Estate data never reaches the store: no prompt, resource name, id, account id or tag is
//! a key or a value here. Clients are keyed by a hash of their address.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A boxed future, so the store can be used as a trait object.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Rate-limit windows live this long in the store: one window plus a margin for clock skew
/// between instances.
const WINDOW_TTL_SECONDS: i64 = 120;

/// The embedded store forgets windows other than the current one once it holds this many.
const MAX_EMBEDDED_CLIENTS: usize = 100_000;

/// The catalog an instance serves, as written to the store at startup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogRecord {
    /// `builtin` or `directory`.
    pub library: String,
    /// The Git commit the library was loaded from, when it is in a repository.
    pub commit: Option<String>,
    /// Whether the served files differ from that commit.
    pub dirty: bool,
    /// The checksum over every playbook.
    pub checksum: String,
    /// One entry per playbook.
    pub playbooks: Vec<CatalogEntry>,
}

/// One playbook of the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogEntry {
    /// The playbook id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// BLAKE3 of its file.
    pub checksum: String,
}

/// Where server instances keep what they share.
pub trait MetadataStore: Send + Sync + 'static {
    /// `embedded` or `redis`.
    fn backend(&self) -> &'static str;

    /// Records the catalog this instance serves.
    fn publish_catalog<'a>(&'a self, catalog: &'a CatalogRecord) -> BoxFuture<'a, Result<()>>;

    /// The catalog last published.
    fn catalog(&self) -> BoxFuture<'_, Result<Option<CatalogRecord>>>;

    /// Counts one plan made with `playbook_id`.
    fn count_plan<'a>(&'a self, playbook_id: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Plans made per playbook id, by every instance sharing the store.
    fn usage(&self) -> BoxFuture<'_, Result<BTreeMap<String, u64>>>;

    /// Counts one request of `client` in the fixed window `window` and returns how many it
    /// has made in that window, this one included.
    fn hit<'a>(&'a self, client: &'a str, window: u64) -> BoxFuture<'a, Result<u64>>;

    /// Whether the store answers.
    fn ping(&self) -> BoxFuture<'_, Result<()>>;
}

/// The in-process store: exact for one instance, shared with no other.
#[derive(Debug, Default)]
pub struct EmbeddedStore {
    catalog: Mutex<Option<CatalogRecord>>,
    usage: Mutex<BTreeMap<String, u64>>,
    /// Client → (window, requests in it).
    windows: Mutex<HashMap<String, (u64, u64)>>,
}

impl EmbeddedStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain counters behind: still usable.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl MetadataStore for EmbeddedStore {
    fn backend(&self) -> &'static str {
        "embedded"
    }

    fn publish_catalog<'a>(&'a self, catalog: &'a CatalogRecord) -> BoxFuture<'a, Result<()>> {
        *lock(&self.catalog) = Some(catalog.clone());
        Box::pin(async { Ok(()) })
    }

    fn catalog(&self) -> BoxFuture<'_, Result<Option<CatalogRecord>>> {
        let catalog = lock(&self.catalog).clone();
        Box::pin(async move { Ok(catalog) })
    }

    fn count_plan<'a>(&'a self, playbook_id: &'a str) -> BoxFuture<'a, Result<()>> {
        *lock(&self.usage).entry(playbook_id.to_owned()).or_default() += 1;
        Box::pin(async { Ok(()) })
    }

    fn usage(&self) -> BoxFuture<'_, Result<BTreeMap<String, u64>>> {
        let usage = lock(&self.usage).clone();
        Box::pin(async move { Ok(usage) })
    }

    fn hit<'a>(&'a self, client: &'a str, window: u64) -> BoxFuture<'a, Result<u64>> {
        let count = {
            let mut windows = lock(&self.windows);
            if windows.len() >= MAX_EMBEDDED_CLIENTS {
                windows.retain(|_, (seen, _)| *seen == window);
            }
            let entry = windows.entry(client.to_owned()).or_insert((window, 0));
            if entry.0 != window {
                *entry = (window, 0);
            }
            entry.1 += 1;
            entry.1
        };
        Box::pin(async move { Ok(count) })
    }

    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// The Redis store, shared by every instance pointed at the same Redis.
///
/// Layout, under a prefix (`cloudops:` by default): `catalog` (a string, the catalog as
/// JSON), `usage` (a hash, playbook id → plans), `ratelimit:<window>:<client hash>` (a
/// counter that expires after two minutes).
#[derive(Clone)]
pub struct RedisStore {
    connection: redis::aio::ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://host:port[/db]`); fails when it does not
    /// answer. Keys are written under `prefix`.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::Metadata(format!("invalid Redis URL {}: {e}", redact_url(url))))?;
        // Short timeouts: a slow Redis must not hold requests; the server proceeds without
        // the store when it fails.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_millis(500)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            redis::aio::ConnectionManager::new_with_config(client, config).await.map_err(|e| {
                Error::Metadata(format!(
                    "cannot connect to Redis at {}: {e}; is it running and reachable?",
                    redact_url(url)
                ))
            })?;
        let store = RedisStore { connection, prefix: prefix.to_owned() };
        store.ping().await?;
        Ok(store)
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

fn redis_error(error: redis::RedisError) -> Error {
    Error::Metadata(format!("redis: {error}"))
}

impl MetadataStore for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    fn publish_catalog<'a>(&'a self, catalog: &'a CatalogRecord) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let json = serde_json::to_string(catalog)
                .map_err(|e| Error::Internal(format!("catalog to JSON: {e}")))?;
            let mut connection = self.connection.clone();
            redis::cmd("SET")
                .arg(self.key("catalog"))
                .arg(json)
                .query_async::<()>(&mut connection)
                .await
                .map_err(redis_error)
        })
    }

    fn catalog(&self) -> BoxFuture<'_, Result<Option<CatalogRecord>>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let json: Option<String> = redis::cmd("GET")
                .arg(self.key("catalog"))
                .query_async(&mut connection)
                .await
                .map_err(redis_error)?;
            json.map(|json| {
                serde_json::from_str(&json)
                    .map_err(|e| Error::Metadata(format!("stored catalog is not readable: {e}")))
            })
            .transpose()
        })
    }

    fn count_plan<'a>(&'a self, playbook_id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::cmd("HINCRBY")
                .arg(self.key("usage"))
                .arg(playbook_id)
                .arg(1)
                .query_async::<()>(&mut connection)
                .await
                .map_err(redis_error)
        })
    }

    fn usage(&self) -> BoxFuture<'_, Result<BTreeMap<String, u64>>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::cmd("HGETALL")
                .arg(self.key("usage"))
                .query_async(&mut connection)
                .await
                .map_err(redis_error)
        })
    }

    fn hit<'a>(&'a self, client: &'a str, window: u64) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let key = self.key(&format!("ratelimit:{window}:{client}"));
            let mut connection = self.connection.clone();
            // One round trip: the counter and its expiry together.
            let (count,): (u64,) = redis::pipe()
                .atomic()
                .cmd("INCR")
                .arg(&key)
                .cmd("EXPIRE")
                .arg(&key)
                .arg(WINDOW_TTL_SECONDS)
                .ignore()
                .query_async(&mut connection)
                .await
                .map_err(redis_error)?;
            Ok(count)
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::cmd("PING").query_async::<()>(&mut connection).await.map_err(redis_error)
        })
    }
}

/// `url` without a password, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn embedded_windows_count_and_reset() {
        let store = EmbeddedStore::new();
        assert_eq!(store.hit("a", 10).await.ok(), Some(1));
        assert_eq!(store.hit("a", 10).await.ok(), Some(2));
        assert_eq!(store.hit("b", 10).await.ok(), Some(1));
        assert_eq!(store.hit("a", 11).await.ok(), Some(1));
    }

    #[tokio::test]
    async fn embedded_usage_and_catalog() {
        let store = EmbeddedStore::new();
        store.count_plan("x").await.ok();
        store.count_plan("x").await.ok();
        assert_eq!(store.usage().await.ok(), Some(BTreeMap::from([("x".to_owned(), 2)])));
        assert_eq!(store.catalog().await.ok(), Some(None));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact_url("redis://user:secret@host:6379/0"), "redis://***@host:6379/0");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
    }
}
