//! The estate's plain request and response types: what every frontend sends and shows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::fusion::{Fusion, MatchKind};
use crate::model::{Resource, ResourceType};
use crate::query::ParsedQuery;

/// How an [`Estate`](crate::Estate) is opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateConfig {
    /// Account names from the client's configuration, recognized in queries as scopes (the
    /// names found in the estate are recognized too).
    pub account_names: Vec<String>,
    /// How lexical and semantic candidates are combined.
    pub fusion: Fusion,
}

impl Default for EstateConfig {
    fn default() -> Self {
        EstateConfig { account_names: Vec::new(), fusion: Fusion::Rrf }
    }
}

/// A lookup: free text plus optional explicit scopes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupRequest {
    /// What the operator typed.
    pub query: String,
    /// Only this kind of resource.
    #[serde(default)]
    pub resource_type: Option<ResourceType>,
    /// Only this account (name or id).
    #[serde(default)]
    pub account: Option<String>,
    /// Only this region.
    #[serde(default)]
    pub region: Option<String>,
    /// Only resources in this state (`running`, `stopped`, `available`…; case-insensitive).
    #[serde(default)]
    pub state: Option<String>,
    /// Only resources carrying every one of these tags, as (key, value) pairs; keys and
    /// values are trimmed and compared case-insensitively, and neither may be empty. They
    /// add to the `key=value` tags the query names (see [`crate::parse_tag`] for reading
    /// them from text).
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// How many results at most (default 10).
    #[serde(default)]
    pub limit: Option<usize>,
    /// Answer from the lexical index alone, without embedding the query: a first answer
    /// to paint while the operator types. The response's `semantic_skipped` says whether
    /// the full lookup could rank differently.
    #[serde(default)]
    pub lexical_only: bool,
}

/// One lookup result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LookupResult {
    /// The resource.
    pub resource: Resource,
    /// Relevance in `0..=1`; exact matches score 1.
    pub score: f32,
    /// How it was matched.
    pub matched_by: MatchKind,
}

/// The answer to a lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LookupResponse {
    /// The query as received.
    pub query: String,
    /// How the query was understood.
    pub understood: ParsedQuery,
    /// Results, best first.
    pub results: Vec<LookupResult>,
    /// True when the best candidates are too close to call: the operator must choose.
    pub ambiguous: bool,
    /// Whether the semantic model took part in this lookup.
    pub semantic: bool,
    /// True when the request was `lexical_only` and a full lookup would have embedded the
    /// query: the semantic candidates are missing from this answer, ask again for them.
    #[serde(default)]
    pub semantic_skipped: bool,
    /// Remarks for the operator (a relaxed scope, a missing model…).
    pub notes: Vec<String>,
    /// Time spent, in microseconds.
    pub took_us: u64,
}

/// What an upsert did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpsertReport {
    /// Resources that were not in the estate.
    pub added: usize,
    /// Resources whose content changed.
    pub changed: usize,
    /// Resources identical to what was stored (not rewritten).
    pub unchanged: usize,
    /// Distinct texts sent to the embedder.
    pub embedded: usize,
}

/// Progress of a long operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Items done.
    pub done: usize,
    /// Items in all.
    pub total: usize,
}

/// Statistics about the estate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstateStats {
    /// Number of resources.
    pub resources: usize,
    /// Resources per type.
    pub by_type: BTreeMap<String, usize>,
    /// Resources per account name (or id, when unnamed).
    pub by_account: BTreeMap<String, usize>,
    /// Resources per region.
    pub by_region: BTreeMap<String, usize>,
    /// The embedder in use.
    pub embedder: String,
    /// Whether lookups use a semantic model.
    pub semantic: bool,
    /// Bytes on disk under the estate directory.
    pub disk_bytes: u64,
}

/// The values an estate's filters can take, each with the number of resources that have it:
/// what a frontend offers in its filter menus. Lists are sorted by value; empty values are
/// left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    /// Resources in the estate.
    pub resources: usize,
    /// Accounts, by id.
    pub accounts: Vec<AccountFacet>,
    /// Regions (`us-west-2`).
    pub regions: Vec<FacetCount>,
    /// Resource types (`ec2_instance`), as [`ResourceType::as_str`] writes them.
    pub resource_types: Vec<FacetCount>,
    /// States, lowercased (`running`).
    pub states: Vec<FacetCount>,
    /// Tag keys as written (`Name`, `team`); keys differing in case are counted apart.
    pub tag_keys: Vec<FacetCount>,
}

/// One account of [`Facets`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountFacet {
    /// The 12-digit account id.
    pub id: String,
    /// The account's configured name; empty when unnamed. Resources of one account written
    /// under different names are counted together, under the name most of them carry.
    pub name: String,
    /// Resources in the account.
    pub count: usize,
}

/// One value of a [`Facets`] list and the number of resources that have it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    /// The value.
    pub value: String,
    /// Resources that have it.
    pub count: usize,
}
