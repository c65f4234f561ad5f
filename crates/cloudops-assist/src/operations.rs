//! The operations the playbook library has for a resource, and what the last sync found the
//! credentials may do of each ([`operations_on`]); the IAM actions a sync judges per
//! resource type ([`needed_actions`]).

use std::collections::{BTreeMap, BTreeSet};

use cloudops_core::{ClientConfig, Resource, ResourceType};
use cloudops_playbooks::Library;
use serde::Serialize;

use crate::error::{Error, Result};

/// The playbook library `config` names (`[ask] playbooks_dir`), else the built-in one.
pub fn library(config: &ClientConfig) -> Result<Library> {
    match &config.ask.playbooks_dir {
        Some(dir) => Library::load(dir).map_err(|error| {
            Error::Config(format!("cannot read the playbook library in {}: {error}", dir.display()))
        }),
        None => Ok(Library::builtin()),
    }
}

/// The IAM actions `library`'s playbooks need, per resource type: what a sync judges for
/// each resource it reads (`cloudops_sync::SyncRequest::needed_actions`).
pub fn needed_actions(library: &Library) -> BTreeMap<ResourceType, Vec<String>> {
    let mut needed: BTreeMap<ResourceType, BTreeSet<String>> = BTreeMap::new();
    for loaded in library.playbooks() {
        for kind in &loaded.playbook.resource_types {
            let Ok(kind) = kind.parse::<ResourceType>();
            needed.entry(kind).or_default().extend(loaded.playbook.permissions.iter().cloned());
        }
    }
    needed.into_iter().map(|(kind, actions)| (kind, actions.into_iter().collect())).collect()
}

/// Whether the credentials may run one operation on one resource, as the last sync judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    /// Every action it needs is allowed.
    Allowed,
    /// At least one action it needs is denied.
    Denied,
    /// Nothing it needs is denied, but something could not be decided.
    Unknown,
    /// The sync did not judge (some of) its actions: no credentials' policies were read, or
    /// the library changed since.
    NotChecked,
}

/// One operation of the library on a resource, and whether the credentials may run it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OperationAccess {
    /// The playbook's id.
    pub playbook: String,
    /// Its title.
    pub title: String,
    /// The operation (`stop`, `create_snapshot`).
    pub operation: String,
    /// The IAM actions it needs.
    pub actions: Vec<String>,
    /// Whether the credentials may run it.
    pub status: OperationStatus,
    /// The actions that decide a status other than allowed (denied, unknown or not checked).
    pub blocking: Vec<String>,
}

/// The operations `library` has for `resource`'s type, each with what the last sync found
/// the credentials may do (`Resource::permissions`, `permissions_denied`,
/// `permissions_unknown`); unknown is never shown as allowed.
pub fn operations_on(library: &Library, resource: &Resource) -> Vec<OperationAccess> {
    let kind = resource.resource_type.as_str();
    let mut operations: Vec<OperationAccess> = library
        .playbooks()
        .filter(|loaded| loaded.playbook.resource_types.iter().any(|k| k == kind))
        .map(|loaded| {
            let playbook = &loaded.playbook;
            let of = |list: &[String]| -> Vec<String> {
                playbook.permissions.iter().filter(|a| list.contains(a)).cloned().collect()
            };
            let denied = of(&resource.permissions_denied);
            let unknown = of(&resource.permissions_unknown);
            let unjudged: Vec<String> = playbook
                .permissions
                .iter()
                .filter(|a| {
                    !resource.permissions.contains(a) && !denied.contains(a) && !unknown.contains(a)
                })
                .cloned()
                .collect();
            let (status, blocking) = if !denied.is_empty() {
                (OperationStatus::Denied, denied)
            } else if !unknown.is_empty() {
                (OperationStatus::Unknown, unknown.into_iter().chain(unjudged).collect())
            } else if !unjudged.is_empty() {
                (OperationStatus::NotChecked, unjudged)
            } else {
                (OperationStatus::Allowed, Vec::new())
            };
            OperationAccess {
                playbook: playbook.id.clone(),
                title: playbook.title.clone(),
                operation: playbook.operation.clone(),
                actions: playbook.permissions.clone(),
                status,
                blocking,
            }
        })
        .collect();
    operations.sort_by(|a, b| a.operation.cmp(&b.operation).then(a.playbook.cmp(&b.playbook)));
    operations
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(allowed: &[&str], denied: &[&str], unknown: &[&str]) -> Resource {
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let mut resource: Resource = serde_json::from_value(serde_json::json!({
            "arn": "arn:aws:rds:us-west-2:123456789012:db:pg-main",
            "resource_type": "rds_instance",
            "id": "pg-main",
            "account_id": "123456789012",
            "region": "us-west-2",
        }))
        .expect("resource");
        resource.permissions = strings(allowed);
        resource.permissions_denied = strings(denied);
        resource.permissions_unknown = strings(unknown);
        resource
    }

    #[test]
    fn each_operation_is_allowed_only_when_every_action_it_needs_is() {
        let library = Library::builtin();
        let needed = needed_actions(&library);
        let rds = &needed[&ResourceType::RdsInstance];
        assert!(rds.contains(&"rds:StopDBInstance".to_owned()), "{rds:?}");
        assert!(rds.windows(2).all(|w| w[0] < w[1]), "sorted, unique: {rds:?}");

        let stop = |operations: &[OperationAccess]| {
            operations.iter().find(|o| o.operation == "stop").expect("stop").clone()
        };
        let unchecked = operations_on(&library, &database(&[], &[], &[]));
        assert!(!unchecked.is_empty());
        assert!(
            unchecked.iter().all(|o| o.status == OperationStatus::NotChecked),
            "{unchecked:#?}"
        );

        let everything: Vec<&str> = rds.iter().map(String::as_str).collect();
        let all = operations_on(&library, &database(&everything, &[], &[]));
        assert!(all.iter().all(|o| o.status == OperationStatus::Allowed && o.blocking.is_empty()));

        let without_stop: Vec<&str> =
            everything.iter().copied().filter(|a| *a != "rds:StopDBInstance").collect();
        let denied =
            operations_on(&library, &database(&without_stop, &["rds:StopDBInstance"], &[]));
        assert_eq!(stop(&denied).status, OperationStatus::Denied);
        assert_eq!(stop(&denied).blocking, ["rds:StopDBInstance"]);
        let unknown =
            operations_on(&library, &database(&without_stop, &[], &["rds:StopDBInstance"]));
        assert_eq!(stop(&unknown).status, OperationStatus::Unknown);
        assert!(
            unknown
                .iter()
                .filter(|o| o.operation != "stop")
                .any(|o| o.status == OperationStatus::Allowed)
        );
    }
}
