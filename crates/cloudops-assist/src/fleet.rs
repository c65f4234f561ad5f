//! Fleets: a plural or quantified mention ("stop all the orders-api servers in
//! development", "reboot the checkout servers in staging") resolved to the whole matching
//! set, never to a handful of candidates: counted, listed in full, grouped by account,
//! region, state and name pattern so the operator can narrow it, and said to be complete
//! and fresh or not. Nothing here plans; [`crate::Assistant::propose`] plans for the
//! members the operator keeps.

use std::collections::BTreeMap;

use cloudops_core::{
    ClientConfig, Condition, Estate, GroupKey, QueryRequest, Resource, read_fleet,
};
use cloudops_sync::{Coverage, SyncState, coverage};
use serde::Serialize;

use crate::error::Result;

/// The most targets one plan covers (the planner's limit on one request). A larger set is
/// shown, counted and grouped, and refused until it is narrowed: never cut silently.
pub const MAX_FLEET: usize = cloudops_playbooks::MAX_RESOURCES;

/// The whole set of resources a plural or quantified mention means.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Fleet {
    /// The mention read as a query, in the query grammar (`type:ec2_instance
    /// env:development name:orders-api`): what selects the set.
    pub query: String,
    /// How many resources match.
    pub total: usize,
    /// The members, by account, region and name: every one of them when `total` is at most
    /// [`MAX_FLEET`], else the first [`MAX_FLEET`] (and `blocked` says why it cannot be
    /// planned).
    pub members: Vec<Resource>,
    /// The members grouped by account, region, state and name pattern, largest first,
    /// each with its members' ARNs (empty when the set is too large to list).
    pub groups: Vec<FleetGroup>,
    /// How complete and how fresh the set is.
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub coverage: Coverage,
    /// Why the set cannot be planned as it is (too many members, several kinds of
    /// resource); `None` when it can.
    pub blocked: Option<String>,
    /// What was read approximately.
    pub notes: Vec<String>,
}

/// One group of a fleet's members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FleetGroup {
    /// What the group is formed by: `account`, `region`, `state` or `name`.
    pub by: String,
    /// The value (`123456789012`, `us-east-1`, `running`, `orders-api-dev-*`).
    pub value: String,
    /// How many members it has.
    pub count: usize,
    /// Their ARNs (empty when the set is too large to list).
    pub members: Vec<String>,
}

/// The set of resources `prompt` means when its mention is plural or quantified
/// ([`cloudops_core::read_fleet`]), with its coverage from the sync `state`. `None` when
/// the mention is of one resource, or when the set it reads as is empty (the operator's
/// words are then looked up as one resource's).
pub fn resolve_fleet(
    estate: &Estate,
    state: &SyncState,
    config: &ClientConfig,
    prompt: &str,
) -> Result<Option<Fleet>> {
    let account_names: Vec<String> = config.accounts.iter().map(|a| a.name.clone()).collect();
    let Some(read) = read_fleet(prompt, &account_names) else {
        return Ok(None);
    };
    if read.request.filters.is_empty() {
        return Ok(None);
    }
    let request = QueryRequest { limit: MAX_FLEET, ..read.request };
    let mut response = estate.query(&request)?;
    response.results.sort_by(|a, b| {
        (&a.account_id, &a.region, &a.name).cmp(&(&b.account_id, &b.region, &b.name))
    });
    if response.total == 0 {
        return Ok(None);
    }
    let coverage = coverage(state, &config.accounts, &request)?;
    let mut notes = read.notes;
    let kinds: std::collections::BTreeSet<&str> =
        response.results.iter().map(|r| r.resource_type.as_str()).collect();
    let typed = request.filters.iter().any(|f| matches!(f.condition, Condition::Type { .. }));
    let blocked = if response.total > MAX_FLEET {
        Some(format!(
            "{} resources match; one plan covers at most {MAX_FLEET}: narrow the set (an \
             account, a region, an environment, more of the name)",
            response.total
        ))
    } else if kinds.len() > 1 {
        Some(format!(
            "the set spans {} kinds of resource ({}); name the kind to act on",
            kinds.len(),
            kinds.iter().copied().collect::<Vec<_>>().join(", ")
        ))
    } else {
        None
    };
    if !typed && kinds.len() == 1 {
        notes.push(format!("every member is a {}", kinds.iter().next().unwrap_or(&"?")));
    }
    let groups = if response.results.len() == response.total {
        groups_of(&response.results)
    } else {
        counted_groups(estate, &request)?
    };
    Ok(Some(Fleet {
        query: request.describe(),
        total: response.total,
        members: response.results,
        groups,
        coverage,
        blocked,
        notes,
    }))
}

/// The groups of `members`, with each group's members: by account, region, state and name
/// pattern (digits replaced by `*`), largest first within each kind of group.
fn groups_of(members: &[Resource]) -> Vec<FleetGroup> {
    let mut groups = Vec::new();
    type ValueOf = fn(&Resource) -> String;
    let keys: [(&str, ValueOf); 4] = [
        ("account", |r| {
            if r.account_name.is_empty() { r.account_id.clone() } else { r.account_name.clone() }
        }),
        ("region", |r| r.region.clone()),
        ("state", |r| {
            if r.state.is_empty() { cloudops_core::NO_VALUE.to_owned() } else { r.state.clone() }
        }),
        ("name", |r| name_pattern(&r.name)),
    ];
    for (by, value_of) in keys {
        let mut by_value: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for member in members {
            by_value.entry(value_of(member)).or_default().push(member.arn.clone());
        }
        let mut these: Vec<FleetGroup> = by_value
            .into_iter()
            .map(|(value, members)| FleetGroup {
                by: by.to_owned(),
                value,
                count: members.len(),
                members,
            })
            .collect();
        these.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        groups.extend(these);
    }
    groups
}

/// Groups counted by the index, without their members (a set too large to list).
fn counted_groups(estate: &Estate, request: &QueryRequest) -> Result<Vec<FleetGroup>> {
    let mut groups = Vec::new();
    for (by, key) in
        [("account", GroupKey::Account), ("region", GroupKey::Region), ("state", GroupKey::State)]
    {
        let counted = estate.query(&QueryRequest {
            group_by: vec![key.clone()],
            limit: 0,
            ..request.clone()
        })?;
        groups.extend(counted.groups.into_iter().map(|group| FleetGroup {
            by: by.to_owned(),
            value: group.key.into_values().next().unwrap_or_default(),
            count: group.count,
            members: Vec::new(),
        }));
    }
    Ok(groups)
}

/// A name with its runs of digits replaced by `*` (`orders-api-dev-01` →
/// `orders-api-dev-*`): numbered siblings share a pattern.
fn name_pattern(name: &str) -> String {
    let mut pattern = String::with_capacity(name.len());
    let mut in_digits = false;
    for c in name.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                pattern.push('*');
            }
            in_digits = true;
        } else {
            pattern.push(c);
            in_digits = false;
        }
    }
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_siblings_share_a_name_pattern() {
        assert_eq!(name_pattern("orders-api-dev-01"), "orders-api-dev-*");
        assert_eq!(name_pattern("checkout-web-prod-7"), "checkout-web-prod-*");
        assert_eq!(name_pattern("web1-az2"), "web*-az*");
        assert_eq!(name_pattern("reports"), "reports");
    }
}
