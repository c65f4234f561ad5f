//! Facets: the distinct accounts, regions, types, states and tag keys of the estate, with
//! their counts, read from the lexical index's term dictionaries rather than by decoding
//! every resource.

use std::collections::BTreeMap;

use super::{AccountFacet, Estate, FacetCount, Facets};
use crate::error::Result;
use crate::lexical::{FacetField, split_account};

impl Estate {
    /// The values the estate's filters can take, with how many resources have each: the
    /// accounts (id and name), regions, resource types, states and tag keys. Counted from the
    /// index's terms, without reading the resources; its cost grows with the number of
    /// distinct values, not with the estate.
    pub fn facets(&self) -> Result<Facets> {
        let lexical = self.read_lexical()?;
        let counts = |field: FacetField, keep: fn(&str) -> bool| -> Result<Vec<FacetCount>> {
            Ok(lexical
                .facet_counts(field)?
                .into_iter()
                .filter(|(value, _)| !value.is_empty() && keep(value))
                .map(|(value, count)| FacetCount { value, count })
                .collect())
        };
        // The region field also holds each region's family prefix (`eu-`), for scopes.
        let regions = counts(FacetField::Region, |region| !region.ends_with('-'))?;
        let resource_types = counts(FacetField::ResourceType, |_| true)?;
        let states = counts(FacetField::State, |_| true)?;
        let tag_keys = counts(FacetField::TagKey, |_| true)?;
        let accounts = accounts(lexical.facet_counts(FacetField::Account)?);
        let resources = lexical.num_docs() as usize;
        Ok(Facets { resources, accounts, regions, resource_types, states, tag_keys })
    }
}

/// Accounts by id, from the counts of `id` + `name` values: an account whose resources carry
/// different names (renamed between syncs) is one account, under the name most of them
/// carry (a name rather than none; of equally common ones, the first in order).
fn accounts(counts: BTreeMap<String, usize>) -> Vec<AccountFacet> {
    let mut names: BTreeMap<&str, Vec<(&str, usize)>> = BTreeMap::new();
    for (value, count) in &counts {
        let (id, name) = split_account(value);
        if !id.is_empty() {
            names.entry(id).or_default().push((name, *count));
        }
    }
    names
        .into_iter()
        .map(|(id, names)| {
            let count = names.iter().map(|(_, count)| count).sum();
            let name = names
                .iter()
                .max_by(|a, b| {
                    (!a.0.is_empty(), a.1).cmp(&(!b.0.is_empty(), b.1)).then(b.0.cmp(a.0))
                })
                .map_or("", |(name, _)| name);
            AccountFacet { id: id.to_owned(), name: name.to_owned(), count }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_grouped_by_id_under_their_most_common_name() {
        let counts: BTreeMap<String, usize> = [
            ("111111111111\u{1f}production", 5),
            ("111111111111\u{1f}prod-old", 2),
            ("222222222222\u{1f}", 4),
            ("222222222222\u{1f}staging", 1),
            ("333333333333\u{1f}", 3),
            ("444444444444\u{1f}b", 2),
            ("444444444444\u{1f}a", 2),
            ("\u{1f}orphan", 9),
        ]
        .into_iter()
        .map(|(value, count)| (value.to_owned(), count))
        .collect();
        let rendered: Vec<String> = accounts(counts)
            .iter()
            .map(|account| format!("{} {:?} {}", account.id, account.name, account.count))
            .collect();
        assert_eq!(
            rendered,
            [
                r#"111111111111 "production" 7"#,
                r#"222222222222 "staging" 5"#,
                r#"333333333333 "" 3"#,
                r#"444444444444 "a" 4"#,
            ]
        );
    }
}
