//! Executions an agent asked for and only a person may approve.
//!
//! An agent (through `cloudops mcp`) can have a plan made and verified, and ask for it to run;
//! that records a [`PendingExecution`] bound to the verified plan and request, and nothing
//! else. A person approves it in a terminal (`cloudops approve`) or the desktop app, with the
//! same approval rule as `ask` ([`crate::Proposal::accept`]); [`crate::Assistant::pending_proposal`]
//! gives the proposal back only while it is pending and unexpired, verified again against the
//! catalog and still bound to what was requested. Nothing an agent sends can approve.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use cloudops_core::{EnrichedRequest, PlanResponse, Resource};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::freshness::Freshness;

/// Where a pending execution stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PendingState {
    /// Waiting for a person.
    Pending,
    /// A person approved it; it ran (or runs) as execution of the same id.
    Approved,
    /// A person rejected it; nothing ran.
    Rejected,
    /// Nobody decided in time; nothing ran.
    Expired,
}

impl std::fmt::Display for PendingState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PendingState::Pending => "pending",
            PendingState::Approved => "approved",
            PendingState::Rejected => "rejected",
            PendingState::Expired => "expired",
        })
    }
}

/// An execution requested by an agent, waiting for a person's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PendingExecution {
    /// The execution id (the audit trail's and, once approved, the execution record's).
    pub id: String,
    /// The requesting client as it named itself (MCP `clientInfo`), cleaned; not verified.
    pub client: String,
    /// The request's words, verbatim.
    pub prompt: String,
    /// When it was requested (RFC 3339).
    pub requested_at: String,
    /// When it expires unless decided (RFC 3339).
    pub expires_at: String,
    /// Where it stands.
    pub state: PendingState,
    /// Who decided, once someone did.
    #[serde(default)]
    pub decided_by: Option<String>,
    /// The verified plan's hash ([`crate::plan_hash`]).
    pub plan_hash: String,
    /// What the approval is bound to: the plan and the request as verified.
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    pub(crate) binding: String,
    /// Who planned.
    pub planner: String,
    /// The request the plan answered.
    #[cfg_attr(feature = "ts", ts(skip))]
    pub request: EnrichedRequest,
    /// The verified plan.
    #[cfg_attr(feature = "ts", ts(skip))]
    pub plan: PlanResponse,
    /// The targets, as the index held them when the plan was made.
    pub resources: Vec<Resource>,
    /// How fresh the facts the plan was made on were.
    pub freshness: Freshness,
    /// What the credentials may do of the plan's actions, as checked when it was made.
    #[serde(default)]
    pub permissions: Vec<crate::ask::PermissionCheck>,
}

/// The file form: the binding is kept on disk, never sent anywhere.
#[derive(Serialize, Deserialize)]
struct Stored {
    #[serde(flatten)]
    pending: PendingExecution,
    binding: String,
}

impl PendingExecution {
    /// Whether it is past its expiry at `now` (an unreadable time counts as expired).
    pub fn expired_at(&self, now: SystemTime) -> bool {
        cloudops_core::time::parse_rfc3339(&self.expires_at).is_none_or(|expires| now >= expires)
    }

    /// The state as of `now`: a pending execution past its expiry is expired.
    pub fn state_at(&self, now: SystemTime) -> PendingState {
        if self.state == PendingState::Pending && self.expired_at(now) {
            PendingState::Expired
        } else {
            self.state
        }
    }

    pub(crate) fn new(
        id: String,
        client: &str,
        prompt: String,
        ttl: Duration,
        parts: PendingParts,
    ) -> Self {
        let now = SystemTime::now();
        PendingExecution {
            id,
            client: client_name(client),
            prompt,
            requested_at: cloudops_core::time::rfc3339(now),
            expires_at: cloudops_core::time::rfc3339(now + ttl),
            state: PendingState::Pending,
            decided_by: None,
            plan_hash: crate::audit::plan_hash(&parts.plan),
            binding: parts.binding,
            planner: parts.planner,
            request: parts.request,
            plan: parts.plan,
            resources: parts.resources,
            freshness: parts.freshness,
            permissions: parts.permissions,
        }
    }
}

/// What a pending execution is made of, from the proposal.
pub(crate) struct PendingParts {
    pub binding: String,
    pub planner: String,
    pub request: EnrichedRequest,
    pub plan: PlanResponse,
    pub resources: Vec<Resource>,
    pub freshness: Freshness,
    pub permissions: Vec<crate::ask::PermissionCheck>,
}

/// A client's self-chosen name, safe to show and log: printable, at most 64 characters.
pub fn client_name(name: &str) -> String {
    let cleaned: String =
        name.chars().filter(|c| !c.is_control()).take(64).collect::<String>().trim().to_owned();
    if cleaned.is_empty() { "unnamed client".to_owned() } else { cleaned }
}

/// Pending executions, one JSON file each under `<home>/pending/` (owner-only on Unix).
#[derive(Debug, Clone)]
pub struct PendingStore {
    dir: PathBuf,
}

impl PendingStore {
    /// The store of the data directory `home`.
    pub fn open(home: &Path) -> Result<Self> {
        let dir = cloudops_core::DataDir::new(home).pending();
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Execution(format!("{}: {e}", dir.display())))?;
        Ok(PendingStore { dir })
    }

    fn path(&self, id: &str) -> Result<PathBuf> {
        if id.is_empty()
            || id.len() > 64
            || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(Error::InvalidExecutionId(printable(id)));
        }
        Ok(self.dir.join(format!("{id}.json")))
    }

    /// Writes `pending` (atomically, owner-only).
    pub fn save(&self, pending: &PendingExecution) -> Result<()> {
        let path = self.path(&pending.id)?;
        let temporary = path.with_extension("json.tmp");
        let stored = Stored { pending: pending.clone(), binding: pending.binding.clone() };
        let bytes = serde_json::to_vec_pretty(&stored)
            .map_err(|e| Error::Execution(format!("pending execution: {e}")))?;
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&temporary, &path)
        };
        write().map_err(|e| Error::Execution(format!("{}: {e}", path.display())))
    }

    /// Holds `id`'s decision for this process until the guard drops: a second approver (or
    /// rejecter) of the same request at the same moment is refused instead of racing it.
    pub fn claim(&self, id: &str) -> Result<std::fs::File> {
        let path = self.path(id)?.with_extension("lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::Execution(format!("{}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::NotApproved(format!(
                "execution {id} is being approved or rejected by someone else right now"
            ))),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(Error::Execution(format!("{}: {e}", path.display())))
            }
        }
    }

    /// The pending execution `id`, if there is one.
    pub fn get(&self, id: &str) -> Result<Option<PendingExecution>> {
        let path = self.path(id)?;
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(Error::Execution(format!("{}: {error}", path.display()))),
        };
        let stored: Stored = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Execution(format!("{}: unreadable: {e}", path.display())))?;
        Ok(Some(PendingExecution { binding: stored.binding, ..stored.pending }))
    }

    /// The pending execution `id`, or an error naming it.
    pub fn load(&self, id: &str) -> Result<PendingExecution> {
        self.get(id)?.ok_or_else(|| Error::UnknownExecution(printable(id)))
    }

    /// Every request on record, oldest first, each in its state as of `now` (a pending one
    /// past its expiry is expired; the audit trail records that when someone acts on it).
    pub fn list_as_of(&self, now: SystemTime) -> Result<Vec<PendingExecution>> {
        let mut all = self.list()?;
        for pending in &mut all {
            pending.state = pending.state_at(now);
        }
        Ok(all)
    }

    /// Every request on record, oldest first.
    pub fn list(&self) -> Result<Vec<PendingExecution>> {
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| Error::Execution(format!("{}: {e}", self.dir.display())))?;
        let mut all = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(id) = name.strip_suffix(".json")
                && let Ok(Some(pending)) = self.get(id)
            {
                all.push(pending);
            }
        }
        all.sort_by(|a, b| a.requested_at.cmp(&b.requested_at).then(a.id.cmp(&b.id)));
        Ok(all)
    }
}

fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: &str, ttl: Duration) -> PendingExecution {
        let request: EnrichedRequest =
            serde_json::from_value(serde_json::json!({ "prompt": "stop a" })).expect("request");
        let plan: PlanResponse = serde_json::from_value(serde_json::json!({
            "explain_plan": "stop a", "script": { "steps": [] },
            "risk_assessment": { "level": "low" }, "approval_required": true,
        }))
        .expect("plan");
        PendingExecution::new(
            id.to_owned(),
            "agent\u{7}\nname",
            "stop a".to_owned(),
            ttl,
            PendingParts {
                binding: "b1".to_owned(),
                planner: "in-process".to_owned(),
                request,
                plan,
                resources: Vec::new(),
                freshness: Freshness::from_index(&[], None),
                permissions: Vec::new(),
            },
        )
    }

    #[test]
    fn a_request_round_trips_with_its_binding_and_expires() {
        let home = tempfile::tempdir().expect("home");
        let store = PendingStore::open(home.path()).expect("store");
        let first = pending("20261207T000000Z-aaaaaa", Duration::from_secs(900));
        assert_eq!(first.client, "agentname");
        store.save(&first).expect("save");
        let loaded = store.load(&first.id).expect("load");
        assert_eq!(loaded, first);
        assert_eq!(loaded.binding, "b1");
        let file = std::fs::read_to_string(
            cloudops_core::DataDir::new(home.path()).pending().join(format!("{}.json", first.id)),
        )
        .expect("file");
        assert!(file.contains("\"binding\""), "{file}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let path = cloudops_core::DataDir::new(home.path())
                .pending()
                .join(format!("{}.json", first.id));
            let mode = std::fs::metadata(path).expect("metadata").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let now = SystemTime::now();
        assert_eq!(loaded.state_at(now), PendingState::Pending);
        assert_eq!(loaded.state_at(now + Duration::from_secs(901)), PendingState::Expired);
        assert!(store.get("20261207T000000Z-bbbbbb").expect("get").is_none());
        for bad in ["", "../config", "a/b", "x".repeat(65).as_str()] {
            assert!(store.load(bad).is_err(), "{bad:?}");
        }
        let held = store.claim(&first.id).expect("claimed");
        let second = store.claim(&first.id).expect_err("a second decider");
        assert!(matches!(second, Error::NotApproved(_)), "{second}");
        drop(held);
        store.claim(&first.id).expect("free again");
        store.save(&pending("20261207T000001Z-cccccc", Duration::ZERO)).expect("save");
        let listed = store.list().expect("list");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].state_at(SystemTime::now()), PendingState::Expired);
    }
}
