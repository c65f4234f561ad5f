//! Plan on the truth: before a change is planned its targets are read again from AWS (the
//! same targeted describe the sync and the post-execution refresh use), the index learns what
//! was read, and the proposal says how fresh its facts are and what changed since the index
//! last had them.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudops_core::{AccountConfig, Estate, Resource};
use serde::Serialize;

use cloudops_sync::{SyncOptions, refresh};

/// How long the re-read may take before the plan is made from the index instead.
pub const REREAD_TIMEOUT: Duration = Duration::from_secs(20);

/// The longest share of the re-read's failure a proposal repeats, per failed scope.
const MAX_FAILURE_CHARS: usize = 240;

/// Where the facts a plan was made on came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FactsSource {
    /// Read from AWS just before planning.
    Live,
    /// The local index's copy: the re-read failed (offline, denied, timed out) or was not
    /// made (the prompt asked for no change).
    Index,
}

/// How fresh a proposal's facts are, and what the re-read found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Freshness {
    /// Where the facts came from.
    pub source: FactsSource,
    /// When they were read (RFC 3339, UTC): the re-read's time when live; else the oldest
    /// `last_seen` of the targets (when a sync first saw that version of them).
    pub as_of: String,
    /// What the re-read found different from the index, one fact per entry
    /// (`pg-instance-main1: state available → stopped`).
    pub changes: Vec<String>,
    /// Targets the re-read found gone from AWS, by name; nothing is planned for them.
    pub gone: Vec<String>,
    /// Why the facts are the index's, when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How long the re-read took, in milliseconds (0 when none was made).
    pub reread_ms: u64,
}

impl Freshness {
    /// The facts as the index holds them, with why they were not read again.
    pub(crate) fn from_index(resources: &[Resource], note: Option<String>) -> Self {
        let as_of = resources
            .iter()
            .map(|resource| resource.last_seen.as_str())
            .filter(|seen| !seen.is_empty())
            .min()
            .unwrap_or_default()
            .to_owned();
        Freshness {
            source: FactsSource::Index,
            as_of,
            changes: Vec::new(),
            gone: Vec::new(),
            note,
            reread_ms: 0,
        }
    }

    /// One line for people: where the facts come from and how old they are.
    pub fn summary(&self) -> String {
        match self.source {
            FactsSource::Live => {
                format!(
                    "read from AWS just before planning ({}, {} ms)",
                    self.as_of, self.reread_ms
                )
            }
            FactsSource::Index => {
                let as_of = if self.as_of.is_empty() { "an unknown time" } else { &self.as_of };
                match &self.note {
                    Some(note) => format!("from the index, as of {as_of} ({note})"),
                    None => format!("from the index, as of {as_of}"),
                }
            }
        }
    }
}

/// Reads `resources` again from AWS into `estate` and returns them as they are now (gone
/// ones left out), with the freshness of the result. Never fails: when AWS cannot be read,
/// the index's facts are returned, marked as such.
pub(crate) async fn reread(
    estate: &Arc<Estate>,
    resources: Vec<Resource>,
    accounts: &[AccountConfig],
    options: &SyncOptions,
) -> (Vec<Resource>, Freshness) {
    let started = Instant::now();
    let read_at = cloudops_core::time::now_rfc3339();
    let read = tokio::time::timeout(
        REREAD_TIMEOUT,
        refresh(Arc::clone(estate), &resources, accounts, options),
    )
    .await;
    let failure = match read {
        Ok(Ok(report)) if report.failures.is_empty() => None,
        Ok(Ok(report)) => {
            // One short line per failed scope: an SDK error's debug dump, once per region of
            // a fleet, would bury the plan.
            let shown: Vec<String> = report
                .failures
                .iter()
                .take(3)
                .map(|failure| {
                    let short: String = failure.chars().take(MAX_FAILURE_CHARS).collect();
                    if short.len() < failure.len() { format!("{short} …") } else { short }
                })
                .collect();
            let more = report.failures.len().saturating_sub(shown.len());
            let more = if more > 0 { format!("; and {more} more") } else { String::new() };
            Some(format!("the re-read failed: {}{more}", shown.join("; ")))
        }
        Ok(Err(error)) => Some(format!("the re-read failed: {error}")),
        Err(_) => Some(format!("AWS did not answer within {} s", REREAD_TIMEOUT.as_secs())),
    };
    let reread_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    if let Some(note) = failure {
        // Scopes that were read are in the index already; the rest keep their old facts.
        let current = resources
            .iter()
            .map(|old| estate.get(&old.arn).ok().flatten().unwrap_or_else(|| old.clone()))
            .collect::<Vec<_>>();
        let mut freshness = Freshness::from_index(&current, Some(note));
        freshness.reread_ms = reread_ms;
        return (current, freshness);
    }
    let mut fresh = Vec::with_capacity(resources.len());
    let mut changes = Vec::new();
    let mut gone = Vec::new();
    for old in resources {
        match estate.get(&old.arn) {
            Ok(Some(new)) => {
                changes.extend(differences(&old, &new));
                fresh.push(new);
            }
            Ok(None) => gone.push(label(&old).to_owned()),
            Err(error) => {
                changes.push(format!("{}: the index could not be read ({error})", label(&old)));
                fresh.push(old);
            }
        }
    }
    let freshness = Freshness {
        source: FactsSource::Live,
        as_of: read_at,
        changes,
        gone,
        note: None,
        reread_ms,
    };
    (fresh, freshness)
}

fn label(resource: &Resource) -> &str {
    if resource.name.is_empty() { &resource.id } else { &resource.name }
}

/// What differs between the index's `old` and the re-read `new`, in words: the state, the
/// tags, the constraints.
pub(crate) fn differences(old: &Resource, new: &Resource) -> Vec<String> {
    let name = label(new);
    let mut changes = Vec::new();
    if old.state != new.state {
        changes.push(format!("{name}: state {} → {}", shown(&old.state), shown(&new.state)));
    }
    let keys: BTreeSet<&String> = old.tags.keys().chain(new.tags.keys()).collect();
    for key in keys {
        match (old.tags.get(key), new.tags.get(key)) {
            (Some(before), Some(after)) if before != after => {
                changes.push(format!("{name}: tag {key} {before} → {after}"));
            }
            (Some(before), None) => {
                changes.push(format!("{name}: tag {key} removed (was {before})"))
            }
            (None, Some(after)) => changes.push(format!("{name}: tag {key} added ({after})")),
            _ => {}
        }
    }
    let constraints = |resource: &Resource| match serde_json::to_value(&resource.constraints) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (before, after) = (constraints(old), constraints(new));
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let (was, now) = (before.get(key), after.get(key));
        if was != now {
            let fact = key.replace('_', " ");
            changes.push(format!("{name}: {fact} {} → {}", value(was), value(now)));
        }
    }
    changes
}

fn shown(text: &str) -> &str {
    if text.is_empty() { "(none)" } else { text }
}

fn value(value: Option<&serde_json::Value>) -> String {
    match value {
        None | Some(serde_json::Value::Null) => "unknown".to_owned(),
        Some(serde_json::Value::Bool(true)) => "yes".to_owned(),
        Some(serde_json::Value::Bool(false)) => "no".to_owned(),
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use cloudops_core::{Constraints, ResourceType};

    use super::*;

    fn resource(state: &str) -> Resource {
        Resource {
            arn: "arn:aws:rds:us-east-1:111111111111:db:pg-main".into(),
            id: "pg-main".into(),
            name: "pg-main".into(),
            resource_type: ResourceType::RdsInstance,
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            account_name: "prod".into(),
            state: state.into(),
            tags: Default::default(),
            attributes: Default::default(),
            constraints: Constraints::default(),
            permissions: Vec::new(),
            permissions_denied: Vec::new(),
            permissions_unknown: Vec::new(),
            dependencies: Vec::new(),
            last_seen: String::new(),
        }
    }

    #[test]
    fn differences_name_state_tags_and_constraints() {
        let mut old = resource("available");
        old.tags.insert("env".into(), "staging".into());
        old.tags.insert("team".into(), "data".into());
        let mut new = resource("stopped");
        new.tags.insert("env".into(), "production".into());
        new.tags.insert("owner".into(), "ana".into());
        new.constraints = Constraints { deletion_protection: Some(true), ..Constraints::default() };
        assert_eq!(
            differences(&old, &new),
            [
                "pg-main: state available → stopped",
                "pg-main: tag env staging → production",
                "pg-main: tag owner added (ana)",
                "pg-main: tag team removed (was data)",
                "pg-main: deletion protection unknown → yes",
            ]
        );
        assert!(differences(&new, &new).is_empty());
    }

    #[test]
    fn index_facts_are_as_old_as_the_oldest_target() {
        let mut first = resource("available");
        first.last_seen = "2026-12-01T10:00:00Z".into();
        let mut second = resource("available");
        second.last_seen = "2026-11-30T09:00:00Z".into();
        let freshness = Freshness::from_index(&[first, second], Some("offline".into()));
        assert_eq!(freshness.source, FactsSource::Index);
        assert_eq!(freshness.as_of, "2026-11-30T09:00:00Z");
        assert_eq!(freshness.summary(), "from the index, as of 2026-11-30T09:00:00Z (offline)");
    }
}
