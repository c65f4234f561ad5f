//! Sync state: per account, region and service, what the last syncs did, kept in `sled`.
//!
//! The state lives in its own directory beside the estate index (`sync-state/` in
//! `CLOUDOPS_HOME`). It is what makes a sync incremental (a scope with a full sync on record
//! is read incrementally), what `cloudops estate status` prints, and where staleness lives: a
//! scope whose last sync failed keeps its resources in the index and is reported stale with
//! the time it last synced.
//!
//! sled holds an exclusive lock on the directory while it is open, so a process opens the
//! state for one sync or one status read and drops it afterwards.

use std::path::{Path, PathBuf};

use cloudops_core::Service;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The version of the records this code writes; a newer one is refused rather than misread.
const STATE_FORMAT: u32 = 1;
const FORMAT_KEY: &[u8] = b"format_version";
const SCOPES_TREE: &[u8] = b"scopes";

/// The region recorded for services that are not regional (S3).
pub const GLOBAL_REGION: &str = "global";

/// One scope of a sync: an account (by configured name), a region and a service.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScopeKey {
    /// The account's name in `config.toml`.
    pub account: String,
    /// The region, or [`GLOBAL_REGION`] for S3.
    pub region: String,
    /// The service.
    pub service: Service,
}

impl ScopeKey {
    /// A scope; global services get [`GLOBAL_REGION`] whatever region is given.
    pub fn new(account: impl Into<String>, region: impl Into<String>, service: Service) -> Self {
        let region = if service.is_global() { GLOBAL_REGION.to_owned() } else { region.into() };
        ScopeKey { account: account.into(), region, service }
    }

    fn storage_key(&self) -> Vec<u8> {
        format!("{}\u{0}{}\u{0}{}", self.account, self.region, self.service).into_bytes()
    }
}

impl std::fmt::Display for ScopeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.account, self.region, self.service)
    }
}

/// What is known about one scope's syncs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScopeState {
    /// The 12-digit account id, once a sync reached the account.
    #[serde(default)]
    pub account_id: Option<String>,
    /// When the last successful full sync of this scope started (RFC 3339, UTC).
    #[serde(default)]
    pub last_full: Option<String>,
    /// When the last successful incremental sync started.
    #[serde(default)]
    pub last_incremental: Option<String>,
    /// When the last successful sync of either kind started, in seconds since the Unix
    /// epoch: the point an incremental sync reads changes from.
    #[serde(default)]
    pub last_success_unix: Option<u64>,
    /// When the last attempt started, successful or not.
    #[serde(default)]
    pub last_attempt: Option<String>,
    /// Resources of this scope in the index after the last successful sync.
    #[serde(default)]
    pub resources: usize,
    /// Resources the last successful sync added.
    #[serde(default)]
    pub added: usize,
    /// Resources the last successful sync changed.
    #[serde(default)]
    pub changed: usize,
    /// Resources the last successful sync removed.
    #[serde(default)]
    pub removed: usize,
    /// Distinct texts the last successful sync embedded.
    #[serde(default)]
    pub embedded: usize,
    /// How long the last attempt took, in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
    /// How the last successful sync read the scope (`listing` or `cloudtrail`).
    #[serde(default)]
    pub method: Option<String>,
    /// Why the last attempt failed; `None` after a success.
    #[serde(default)]
    pub last_error: Option<String>,
}

impl ScopeState {
    /// Whether the index holds this scope's resources from before its last (failed) attempt.
    pub fn is_stale(&self) -> bool {
        self.last_error.is_some()
    }

    /// Whether the scope has had a successful full sync, so the next sync can be incremental.
    pub fn has_full_sync(&self) -> bool {
        self.last_full.is_some()
    }

    /// When the scope last synced successfully (the later of the full and incremental).
    pub fn last_success(&self) -> Option<&str> {
        match (self.last_full.as_deref(), self.last_incremental.as_deref()) {
            (Some(full), Some(incremental)) => Some(full.max(incremental)),
            (full, incremental) => full.or(incremental),
        }
    }
}

/// One scope's sync state with its staleness: a row of `cloudops estate status --json` and
/// of the desktop's estate view.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScopeStatus {
    /// Account, region and service.
    pub scope: ScopeKey,
    /// What is known of its syncs.
    pub state: ScopeState,
    /// Whether the index holds its resources from before a failed attempt
    /// ([`ScopeState::is_stale`]).
    pub stale: bool,
}

/// The sync state store.
#[derive(Debug, Clone)]
pub struct SyncState {
    db: sled::Db,
    scopes: sled::Tree,
    path: PathBuf,
}

impl SyncState {
    /// Opens (or creates) the state under `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let db =
            sled::Config::new().path(&path).open().map_err(|error| open_error(&path, error))?;
        match db.get(FORMAT_KEY).map_err(|error| storage(&path, error))? {
            None => {
                db.insert(FORMAT_KEY, STATE_FORMAT.to_string().as_bytes())
                    .map_err(|error| storage(&path, error))?;
            }
            Some(version) => {
                let version = String::from_utf8_lossy(&version).into_owned();
                if version != STATE_FORMAT.to_string() {
                    return Err(Error::State(format!(
                        "{}: sync state format {version} is not readable by this version \
                         (format {STATE_FORMAT}); remove the directory and run a full sync",
                        path.display()
                    )));
                }
            }
        }
        let scopes = db.open_tree(SCOPES_TREE).map_err(|error| storage(&path, error))?;
        Ok(SyncState { db, scopes, path })
    }

    /// The state of one scope (default when never synced).
    pub fn get(&self, key: &ScopeKey) -> Result<ScopeState> {
        match self.scopes.get(key.storage_key()).map_err(|error| storage(&self.path, error))? {
            None => Ok(ScopeState::default()),
            Some(bytes) => serde_json::from_slice::<Record>(&bytes)
                .map(|record| record.state)
                .map_err(|error| Error::State(format!("{}: {key}: {error}", self.path.display()))),
        }
    }

    /// Records one scope's state and makes it durable.
    pub fn put(&self, key: &ScopeKey, state: &ScopeState) -> Result<()> {
        let record = Record { key: key.clone(), state: state.clone() };
        let bytes = serde_json::to_vec(&record)
            .map_err(|error| Error::State(format!("cannot encode the state of {key}: {error}")))?;
        self.scopes.insert(key.storage_key(), bytes).map_err(|error| storage(&self.path, error))?;
        self.db.flush().map_err(|error| storage(&self.path, error))?;
        Ok(())
    }

    /// Every recorded scope, ordered by account, region and service.
    pub fn all(&self) -> Result<Vec<(ScopeKey, ScopeState)>> {
        let mut scopes = Vec::new();
        for entry in self.scopes.iter() {
            let (_, bytes) = entry.map_err(|error| storage(&self.path, error))?;
            let record: Record = serde_json::from_slice(&bytes)
                .map_err(|error| Error::State(format!("{}: {error}", self.path.display())))?;
            scopes.push((record.key, record.state));
        }
        scopes.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(scopes)
    }

    /// Every recorded scope with its staleness, ordered like [`SyncState::all`].
    pub fn status(&self) -> Result<Vec<ScopeStatus>> {
        let scopes = self.all()?.into_iter();
        Ok(scopes
            .map(|(scope, state)| ScopeStatus { stale: state.is_stale(), scope, state })
            .collect())
    }

    /// The directory the state lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[derive(Serialize, Deserialize)]
struct Record {
    key: ScopeKey,
    state: ScopeState,
}

fn storage(path: &Path, error: sled::Error) -> Error {
    Error::State(format!("{}: {error}", path.display()))
}

fn open_error(path: &Path, error: sled::Error) -> Error {
    match &error {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => {
            Error::State(format!(
                "{}: the sync state is in use by another cloudops process (a sync, `estate watch` \
             or the desktop app); try again when it is done",
                path.display()
            ))
        }
        _ => storage(path, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_and_survive_reopening() {
        let directory = tempfile::tempdir().expect("tempdir");
        let path = directory.path().join("state");
        let key = ScopeKey::new("production", "us-west-2", Service::Ec2);
        let s3 = ScopeKey::new("production", "us-west-2", Service::S3);
        assert_eq!(s3.region, GLOBAL_REGION);
        {
            let state = SyncState::open(&path).expect("open");
            assert_eq!(state.get(&key).expect("get"), ScopeState::default());
            let record = ScopeState {
                account_id: Some("123456789012".into()),
                last_full: Some("2026-11-26T08:00:00Z".into()),
                last_incremental: Some("2026-11-26T09:00:00Z".into()),
                resources: 3,
                ..Default::default()
            };
            state.put(&key, &record).expect("put");
            state
                .put(&s3, &ScopeState { last_error: Some("denied".into()), ..Default::default() })
                .expect("put");
        }
        let state = SyncState::open(&path).expect("reopen");
        let record = state.get(&key).expect("get");
        assert_eq!(record.resources, 3);
        assert!(record.has_full_sync() && !record.is_stale());
        assert_eq!(record.last_success(), Some("2026-11-26T09:00:00Z"));
        let all = state.all().expect("all");
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].0, s3, "ordered by account, then region: global sorts first");
        assert!(all[0].1.is_stale());
        assert_eq!(all[1].0, key);
    }

    #[test]
    fn a_newer_format_is_refused() {
        let directory = tempfile::tempdir().expect("tempdir");
        let path = directory.path().join("state");
        {
            let db = sled::open(&path).expect("sled");
            db.insert(FORMAT_KEY, b"99".as_slice()).expect("insert");
            db.flush().expect("flush");
        }
        let error = SyncState::open(&path).expect_err("refused");
        assert!(error.to_string().contains("format 99 is not readable"), "{error}");
    }
}
