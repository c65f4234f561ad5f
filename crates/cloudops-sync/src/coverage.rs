//! How complete and how fresh an answer from the index is: the sync scopes a structured
//! query covers, and what their last syncs did.

use cloudops_core::{AccountConfig, Condition, QueryRequest, Service};
use serde::Serialize;

use crate::error::Result;
use crate::state::{GLOBAL_REGION, ScopeKey, ScopeState, SyncState};
use crate::sync::scope_keys;

/// What an answer covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Coverage {
    /// Every scope the answer covers has synced successfully, and its last attempt did not
    /// fail.
    pub complete: bool,
    /// Why not, one line per scope (never synced, or its last sync failed).
    pub incomplete: Vec<String>,
    /// The oldest last successful sync among the covered scopes (RFC 3339): the answer is
    /// at least this fresh. `None` when none has synced.
    pub as_of: Option<String>,
    /// How many sync scopes (account, region, service) the answer covers.
    pub scopes: usize,
}

/// The coverage of `request`: the scopes of the configured `accounts` (or, with none
/// configured, those the state knows) that its filters do not rule out, judged by their
/// sync state. Negated filters rule nothing out.
pub fn coverage(
    state: &SyncState,
    accounts: &[AccountConfig],
    request: &QueryRequest,
) -> Result<Coverage> {
    let recorded = state.all()?;
    let mut keys: Vec<ScopeKey> =
        accounts.iter().flat_map(|account| scope_keys(account, &Service::ALL)).collect();
    for (key, _) in &recorded {
        if accounts.is_empty() && !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    let state_of = |key: &ScopeKey| -> ScopeState {
        recorded.iter().find(|(k, _)| k == key).map(|(_, s)| s.clone()).unwrap_or_default()
    };
    let covered: Vec<(ScopeKey, ScopeState)> = keys
        .into_iter()
        .map(|key| {
            let scope_state = state_of(&key);
            (key, scope_state)
        })
        .filter(|(key, scope_state)| covers(request, key, scope_state))
        .collect();
    let mut incomplete = Vec::new();
    let mut as_of: Option<String> = None;
    for (key, scope_state) in &covered {
        match scope_state.last_success() {
            None => incomplete.push(format!("{key}: never synced")),
            Some(success) => {
                if let Some(error) = &scope_state.last_error {
                    incomplete.push(format!(
                        "{key}: the last sync failed ({error}); its data is from {success}"
                    ));
                }
                if as_of.as_deref().is_none_or(|oldest| success < oldest) {
                    as_of = Some(success.to_owned());
                }
            }
        }
    }
    if covered.is_empty() {
        incomplete.push(
            "no synced scope covers this question (an imported estate, or nothing configured \
             for these filters)"
                .to_owned(),
        );
    }
    Ok(Coverage { complete: incomplete.is_empty(), incomplete, as_of, scopes: covered.len() })
}

/// Whether resources of `key` could match `request` (its positive type, account and region
/// filters, alone or as alternatives).
fn covers(request: &QueryRequest, key: &ScopeKey, scope_state: &ScopeState) -> bool {
    request
        .filters
        .iter()
        .filter(|f| !f.negated)
        .all(|filter| condition_covers(&filter.condition, key, scope_state))
}

fn condition_covers(condition: &Condition, key: &ScopeKey, scope_state: &ScopeState) -> bool {
    match condition {
        Condition::Type { value } => Service::for_resource_type(value) == Some(key.service),
        Condition::Account { value } => {
            key.account.eq_ignore_ascii_case(value)
                || scope_state.account_id.as_deref() == Some(value.as_str())
        }
        Condition::Region { value } => {
            // Buckets of every region are read in the global scope.
            key.region == GLOBAL_REGION || key.region.starts_with(&value.to_lowercase())
        }
        Condition::AnyOf { filters } => {
            filters.iter().any(|f| f.negated || condition_covers(&f.condition, key, scope_state))
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_complete_only_when_every_scope_it_covers_synced() {
        let directory = tempfile::tempdir().expect("tempdir");
        let state = SyncState::open(directory.path().join("state")).expect("state");
        let accounts = vec![AccountConfig {
            name: "staging".into(),
            regions: vec!["eu-west-1".into(), "us-east-1".into()],
            ..Default::default()
        }];
        let synced = |at: &str| ScopeState {
            last_full: Some(at.to_owned()),
            account_id: Some("222222222222".into()),
            ..Default::default()
        };
        for service in Service::ALL {
            state
                .put(
                    &ScopeKey::new("staging", "eu-west-1", service),
                    &synced("2026-12-07T10:00:00Z"),
                )
                .expect("put");
        }
        let query = |text: &str| QueryRequest::parse(text).expect("query");
        let eu =
            coverage(&state, &accounts, &query("type:ec2_instance region:eu-west-1")).expect("eu");
        assert!(eu.complete, "{eu:?}");
        assert_eq!(eu.scopes, 1);
        assert_eq!(eu.as_of.as_deref(), Some("2026-12-07T10:00:00Z"));

        let everywhere = coverage(&state, &accounts, &query("type:ec2_instance")).expect("all");
        assert!(!everywhere.complete);
        assert_eq!(everywhere.incomplete, ["staging/us-east-1/ec2: never synced"]);

        let mut failed = synced("2026-12-07T09:00:00Z");
        failed.last_error = Some("AccessDenied".into());
        state.put(&ScopeKey::new("staging", "us-east-1", Service::Ec2), &failed).expect("put");
        let stale = coverage(&state, &accounts, &query("type:ec2_instance account:222222222222"))
            .expect("stale");
        assert!(!stale.complete);
        assert!(stale.incomplete[0].contains("AccessDenied"), "{stale:?}");
        assert_eq!(stale.as_of.as_deref(), Some("2026-12-07T09:00:00Z"));

        let alternatives = coverage(
            &state,
            &accounts,
            &query("type:ec2_instance (account:staging|account:production)"),
        )
        .expect("any");
        assert_eq!(alternatives.scopes, 2, "{alternatives:?}");
        let elsewhere = coverage(&state, &accounts, &query("account:production")).expect("none");
        assert!(!elsewhere.complete && elsewhere.scopes == 0);
    }
}
