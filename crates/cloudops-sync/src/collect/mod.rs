//! One collector per service: list every page in one account and region, and normalize
//! each item into a [`Resource`].
//!
//! Each service module has a pure `normalize_*` function over the SDK's own types (unit
//! tested with the SDK builders) and an async `collect` that makes the calls.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;

use cloudops_core::Resource;
use cloudops_core::time::now_rfc3339;

use crate::error::Result;

pub mod ec2;
pub mod elbv2;
pub mod lambda;
pub mod rds;
pub mod s3;

/// Per-item calls (tags, attributes) a collector keeps in flight at once; the SDK's adaptive
/// retry slows them down when AWS throttles.
pub const CALLS_IN_FLIGHT: usize = 8;

/// Runs `call` on every item with at most `limit` running at once; results keep the items'
/// order.
pub(crate) async fn map_bounded<T, R, F, Fut>(items: Vec<T>, limit: usize, call: F) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    let semaphore = Arc::new(tokio::sync::Semaphore::new(limit.max(1)));
    let count = items.len();
    let mut tasks = tokio::task::JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let semaphore = Arc::clone(&semaphore);
        let future = call(item);
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (index, future.await)
        });
    }
    let mut results: Vec<Option<R>> = (0..count).map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => results[index] = Some(result),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // Cancelled: only when the runtime shuts down, and then nobody reads the results.
            Err(_) => {}
        }
    }
    results.into_iter().flatten().collect()
}

/// What a targeted re-read (`collect_ids` in each service module) found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Targeted {
    /// The resources that still exist, normalized exactly as the full collector does.
    pub found: Vec<Resource>,
    /// The ARNs, as the full collector would have given them, of the identifiers the service
    /// no longer knows: remove them from the index.
    pub missing_arns: Vec<String>,
}

impl Targeted {
    /// `found`, and as missing the ARN (made by `arn_of`) of every id no found resource has.
    pub(crate) fn from_found<S: AsRef<str>>(
        found: Vec<Resource>,
        ids: impl IntoIterator<Item = S>,
        arn_of: impl Fn(&str) -> String,
    ) -> Self {
        let seen: BTreeSet<&str> = found.iter().map(|resource| resource.id.as_str()).collect();
        let missing_arns = ids
            .into_iter()
            .filter(|id| !seen.contains(id.as_ref()))
            .map(|id| arn_of(id.as_ref()))
            .collect();
        Targeted { found, missing_arns }
    }
}

/// Reads each id with `read` ([`CALLS_IN_FLIGHT`] at a time), keeping what exists: `read`
/// answers `None` for an id the service does not know.
pub(crate) async fn read_each<F, Fut>(ids: &BTreeSet<String>, read: F) -> Result<Vec<Resource>>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Option<Resource>>> + Send + 'static,
{
    let answers = map_bounded(ids.iter().cloned().collect(), CALLS_IN_FLIGHT, read).await;
    let mut found = Vec::new();
    for answer in answers {
        found.extend(answer?);
    }
    Ok(found)
}

/// Where collected resources live and who they belong to: one account in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The 12-digit account id (from STS GetCallerIdentity).
    pub account_id: String,
    /// The account's name from `config.toml`.
    pub account_name: String,
    /// The region the calls go to.
    pub region: String,
    /// When this sync saw the resources (RFC 3339, UTC, seconds).
    pub last_seen: String,
}

impl Scope {
    /// A scope seen now.
    pub fn new(
        account_id: impl Into<String>,
        account_name: impl Into<String>,
        region: impl Into<String>,
    ) -> Self {
        Scope {
            account_id: account_id.into(),
            account_name: account_name.into(),
            region: region.into(),
            last_seen: now_rfc3339(),
        }
    }

    /// An empty resource of this scope, to be filled by a normalizer.
    pub(crate) fn resource(
        &self,
        resource_type: cloudops_core::ResourceType,
        arn: String,
        id: String,
    ) -> Resource {
        Resource {
            arn,
            resource_type,
            name: id.clone(),
            id,
            account_id: self.account_id.clone(),
            account_name: self.account_name.clone(),
            region: self.region.clone(),
            state: String::new(),
            tags: BTreeMap::new(),
            attributes: BTreeMap::new(),
            constraints: Default::default(),
            permissions: Vec::new(),
            permissions_denied: Vec::new(),
            permissions_unknown: Vec::new(),
            dependencies: Vec::new(),
            last_seen: self.last_seen.clone(),
        }
    }
}

/// Tags from `(key, value)` pairs, dropping pairs without a key.
pub(crate) fn tag_map<'a>(
    pairs: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter_map(|(key, value)| Some((key?.to_owned(), value.unwrap_or_default().to_owned())))
        .collect()
}

/// Sets a string attribute when the value is known and not empty.
pub(crate) fn set_str(resource: &mut Resource, key: &str, value: Option<&str>) {
    if let Some(value) = value.filter(|value| !value.is_empty()) {
        resource.attributes.insert(key.to_owned(), serde_json::Value::from(value));
    }
}

/// Sets an attribute when the value is known.
pub(crate) fn set<T: Into<serde_json::Value>>(
    resource: &mut Resource,
    key: &str,
    value: Option<T>,
) {
    if let Some(value) = value {
        resource.attributes.insert(key.to_owned(), value.into());
    }
}

/// The `Name` tag, when set and not blank.
pub(crate) fn name_tag(tags: &BTreeMap<String, String>) -> Option<String> {
    tags.get("Name").map(|name| name.trim()).filter(|name| !name.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_rfc3339_to_the_second() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T', "{now}");
    }

    #[tokio::test]
    async fn map_bounded_keeps_order() {
        let doubled = map_bounded((0..50).collect(), 4, |n: u64| async move {
            tokio::time::sleep(std::time::Duration::from_millis(50 - n)).await;
            n * 2
        })
        .await;
        assert_eq!(doubled, (0..50).map(|n| n * 2).collect::<Vec<_>>());
    }

    #[test]
    fn tags_without_keys_are_dropped() {
        let tags = tag_map([(Some("a"), Some("1")), (None, Some("2")), (Some("b"), None)]);
        assert_eq!(tags.len(), 2);
        assert_eq!(tags["b"], "");
    }
}
