//! What the commands take and return beyond the libraries' own types: small plain structs
//! shaped for the web UI (composites of several answers, a status line, masked keychain
//! entries), built from the shared types without adding any judgement of their own.
//!
//! Their TypeScript declarations are generated with the libraries' (`crate::bindings`), so
//! each derives `ts_rs::TS` in test builds only: the shipped binary carries no ts-rs.

use cloudops_assist::{AuditRecord, ChainReport, ExecutionSummary};
use cloudops_sync::StoredKey;
use serde::{Deserialize, Serialize};

/// The app at a glance, for the status line.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// The data directory.
    pub home: String,
    /// Resources in the index.
    pub resources: usize,
    /// Whether lookups use the semantic model.
    pub semantic: bool,
    /// The embedder's name.
    pub embedder: String,
    /// Where plans come from: `in-process` or the server's URL.
    pub planner: String,
    /// Things the operator should know (no model, a keychain entry that cannot be read).
    pub notes: Vec<String>,
}

/// A search from the explorer or the chat box's autocomplete.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields = nullable))]
#[serde(default)]
pub struct SearchRequest {
    /// What was typed.
    pub query: String,
    /// Only this resource type.
    pub resource_type: Option<String>,
    /// Only this account (name or id).
    pub account: Option<String>,
    /// Only this region.
    pub region: Option<String>,
    /// Only this state.
    pub state: Option<String>,
    /// `key=value` tag filters, all of which must hold.
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub tags: Vec<String>,
    /// How many results at most.
    pub limit: Option<usize>,
    /// A first answer without the query embedding (see `LookupRequest::lexical_only`).
    #[cfg_attr(test, ts(as = "Option<_>", optional))]
    pub lexical_only: bool,
}

/// The values the explorer's filters offer, from the index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Facets {
    /// Account names (or ids, where unnamed).
    pub accounts: Vec<String>,
    /// Regions.
    pub regions: Vec<String>,
    /// Resource types.
    pub resource_types: Vec<String>,
    /// States, lowercased.
    pub states: Vec<String>,
    /// Tag keys (at most [`MAX_TAG_KEYS`]).
    pub tag_keys: Vec<String>,
    /// Resources in the index.
    pub resources: usize,
}

/// The most tag keys [`Facets`] lists.
pub const MAX_TAG_KEYS: usize = 200;

impl From<cloudops_core::Facets> for Facets {
    /// The index's facets as the filters show them: accounts by name (by id where unnamed),
    /// and the [`MAX_TAG_KEYS`] most used tag keys, in alphabetical order.
    fn from(facets: cloudops_core::Facets) -> Self {
        let values = |counts: Vec<cloudops_core::FacetCount>| -> Vec<String> {
            counts.into_iter().map(|facet| facet.value).collect()
        };
        let mut accounts: Vec<String> = facets
            .accounts
            .into_iter()
            .map(|account| if account.name.is_empty() { account.id } else { account.name })
            .collect();
        accounts.sort();
        accounts.dedup();
        let mut tag_keys = facets.tag_keys;
        tag_keys.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        tag_keys.truncate(MAX_TAG_KEYS);
        let mut tag_keys = values(tag_keys);
        tag_keys.sort();
        Facets {
            accounts,
            regions: values(facets.regions),
            resource_types: values(facets.resource_types),
            states: values(facets.states),
            tag_keys,
            resources: facets.resources,
        }
    }
}

/// One configured account and what the keychain holds for it (never the secret).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AccountView {
    /// Its name in `config.toml`.
    pub name: String,
    /// The role assumed into it.
    pub role_arn: Option<String>,
    /// The AWS profile it uses.
    pub profile: Option<String>,
    /// The regions synced.
    pub regions: Vec<String>,
    /// The stored access key id, masked; `None` when nothing is stored.
    pub access_key_id: Option<String>,
    /// Whether the stored key is temporary.
    pub session_token: bool,
    /// Why the stored entry cannot be used, when it cannot.
    pub problem: Option<String>,
}

/// The accounts and the keychain.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AccountsView {
    /// The keychain in use, described; `None` when there is none.
    pub backend: Option<String>,
    /// Why there is no keychain, when there is none.
    pub problem: Option<String>,
    /// Every configured account.
    pub accounts: Vec<AccountView>,
}

impl AccountsView {
    /// The accounts with what `stored` says of each (matched by name).
    pub fn new(
        accounts: &[cloudops_core::AccountConfig],
        stored: &[StoredKey],
        backend: Option<String>,
        problem: Option<String>,
    ) -> Self {
        let accounts = accounts
            .iter()
            .map(|account| {
                let key = stored.iter().find(|key| key.account == account.name);
                AccountView {
                    name: account.name.clone(),
                    role_arn: account.role_arn.clone(),
                    profile: account.profile.clone(),
                    regions: account.regions.clone(),
                    access_key_id: key.and_then(|key| key.access_key_id.clone()),
                    session_token: key.is_some_and(|key| key.session_token),
                    problem: key.and_then(|key| key.problem.clone()),
                }
            })
            .collect();
        AccountsView { backend, problem, accounts }
    }
}

/// The embedding model as the settings show it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct ModelStatus {
    /// Whether lookups use it.
    pub semantic: bool,
    /// The embedder's name.
    pub embedder: String,
    /// Where the model is looked for.
    pub model_dir: Option<String>,
    /// In a sentence.
    pub message: String,
}

/// Where plans are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum PlannerKind {
    /// In this process, from the client's playbooks.
    InProcess,
    /// By the planning server (`server_url`).
    Server,
}

/// The settings view.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct Settings {
    /// Where plans are made.
    pub planner: PlannerKind,
    /// The planning server, when one is set.
    pub server_url: Option<String>,
    /// A private CA for the server.
    pub server_ca_file: Option<String>,
    /// The embedding model.
    pub model: ModelStatus,
    /// The data directory.
    pub home: String,
}

/// The history view: executions newest first and the audit chain's verdict.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct HistoryView {
    /// Newest first.
    pub executions: Vec<ExecutionSummary>,
    /// Whether the chain is intact.
    pub chain: ChainReport,
}

/// One audit record, with its event as an object named by `kind`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub struct AuditRecordView {
    /// Its position in the chain.
    pub seq: u64,
    /// When it was written.
    pub time: String,
    /// The execution it belongs to.
    pub execution_id: String,
    /// Its hash.
    pub hash: String,
    /// What happened: `kind` plus the event's fields.
    #[cfg_attr(test, ts(type = "{ kind: string, [field: string]: unknown }"))]
    pub event: serde_json::Value,
}

impl From<AuditRecord> for AuditRecordView {
    fn from(record: AuditRecord) -> Self {
        let mut event = serde_json::to_value(&record.event).unwrap_or_default();
        if let Some(object) = event.as_object_mut()
            && let Some(kind) = object.remove("event")
        {
            object.insert("kind".to_owned(), kind);
        }
        AuditRecordView {
            seq: record.seq,
            time: record.time,
            execution_id: record.execution_id,
            hash: record.hash,
            event,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sync_note_reaches_the_ui_in_the_shape_it_reads() {
        // ui/src/lib/generated/bindings.ts: { "event": "note", message: string }
        let note = cloudops_sync::SyncEvent::Note { message: "staging: no key stored".into() };
        let wire = serde_json::to_value(&note).expect("serializes");
        assert_eq!(wire, serde_json::json!({"event": "note", "message": "staging: no key stored"}));
    }
}
