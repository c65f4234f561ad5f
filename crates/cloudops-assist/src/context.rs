//! The context of a request: which resources the operator's words refer to, resolved in the
//! local index, and the enriched request built from exactly those resources — the fields
//! a playbook can read, and the tags the operator's policy lets the planner see.
//!
//! A mention that is unknown or too close to call is never guessed: [`resolve`] says so and
//! the front end asks the operator (or stops).

use std::collections::BTreeSet;

use cloudops_core::{
    AskSection, EnrichedRequest, Estate, IdentifiedResource, LookupRequest, LookupResult, Resource,
    UserContext,
};
use cloudops_playbooks::Library;
use serde::Serialize;

use crate::error::Result;

/// How many candidates an ambiguous mention offers the operator.
pub const CANDIDATES: usize = 10;

/// What the prompt's resource mention resolved to.
///
/// Serialized in one shape for every kind, so a frontend lists candidates the same way:
/// `{"kind": "resolved" | "ambiguous" | "not_found", "candidates": [...], "notes": [...]}`
/// (one candidate when resolved, none when not found).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(as = "ResolutionJson"))]
pub enum Resolution {
    /// One resource, identified exactly or decisively.
    Resolved(Box<LookupResult>),
    /// Several resources are too close to call; the operator picks (one or more) or stops.
    Ambiguous(Vec<LookupResult>),
    /// Nothing in the local estate matches.
    NotFound {
        /// Why, in the index's words (a relaxed scope, a missing model…).
        notes: Vec<String>,
    },
}

/// [`Resolution`] as it is serialized (and named in TypeScript).
#[derive(Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "Resolution"))]
#[serde(tag = "kind", rename_all = "snake_case")]
enum ResolutionJson {
    Resolved { candidates: [Box<LookupResult>; 1], notes: [String; 0] },
    Ambiguous { candidates: Vec<LookupResult>, notes: [String; 0] },
    NotFound { candidates: [LookupResult; 0], notes: Vec<String> },
}

impl Serialize for Resolution {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        let json = match self.clone() {
            Resolution::Resolved(result) => {
                ResolutionJson::Resolved { candidates: [result], notes: [] }
            }
            Resolution::Ambiguous(candidates) => {
                ResolutionJson::Ambiguous { candidates, notes: [] }
            }
            Resolution::NotFound { notes } => ResolutionJson::NotFound { candidates: [], notes },
        };
        json.serialize(serializer)
    }
}

/// Finds the resource `prompt` refers to in `estate`. Action words ("stop", "reboot the")
/// are ignored by the index's query understanding; scopes (environment, account, region,
/// type) and `key=value` tags narrow the search.
pub fn resolve(estate: &Estate, prompt: &str) -> Result<Resolution> {
    let response = estate.lookup(&LookupRequest {
        query: prompt.to_owned(),
        limit: Some(CANDIDATES),
        ..LookupRequest::default()
    })?;
    let mut results = response.results;
    Ok(match results.first() {
        None => Resolution::NotFound { notes: response.notes },
        Some(_) if response.ambiguous => Resolution::Ambiguous(results),
        Some(_) => Resolution::Resolved(Box::new(results.swap_remove(0))),
    })
}

/// Which tags the planner may see: a key is kept when it matches the allow list (or the
/// list is empty) and matches no deny pattern. Patterns are case-insensitive, with `*`
/// matching any run of characters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagPolicy {
    allow: Vec<String>,
    /// A second allow-list a key must also match (an agent's, within the planner's).
    allow_also: Vec<String>,
    deny: Vec<String>,
}

impl TagPolicy {
    /// The policy of the `[ask]` section.
    pub fn from_config(config: &AskSection) -> Self {
        let lower = |patterns: &[String]| patterns.iter().map(|p| p.to_lowercase()).collect();
        TagPolicy {
            allow: lower(&config.tags_allow),
            allow_also: Vec::new(),
            deny: lower(&config.tags_deny),
        }
    }

    /// What an agent may see (`cloudops mcp`): only tags the `[ask]` policy lets the planner
    /// see, narrowed by `[mcp] tags_allow` and `[mcp] tags_deny`.
    pub fn for_agents(ask: &AskSection, mcp: &cloudops_core::McpSection) -> Self {
        let lower = |patterns: &[String]| -> Vec<String> {
            patterns.iter().map(|p| p.to_lowercase()).collect()
        };
        let mut policy = TagPolicy::from_config(ask);
        policy.allow_also = lower(&mcp.tags_allow);
        policy.deny.extend(lower(&mcp.tags_deny));
        policy
    }

    /// Whether the tag `key` may be sent.
    pub fn keeps(&self, key: &str) -> bool {
        let key = key.to_lowercase();
        (self.allow.is_empty() || self.allow.iter().any(|p| glob(p, &key)))
            && (self.allow_also.is_empty() || self.allow_also.iter().any(|p| glob(p, &key)))
            && !self.deny.iter().any(|p| glob(p, &key))
    }
}

/// `*`-only glob matching (no other metacharacters), iterative with backtracking.
fn glob(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// The attribute keys some playbook of `library` reads (`attributes.<key>` or
/// `constraints.<key>`, which fall back to each other): the only attributes a request needs.
pub fn needed_attributes(library: &Library) -> BTreeSet<String> {
    let mut fields: Vec<&str> = Vec::new();
    for loaded in library.playbooks() {
        let playbook = &loaded.playbook;
        fields.extend(playbook.parameters.iter().filter_map(|p| p.field.as_deref()));
        fields.extend(playbook.preconditions.checks.iter().map(|c| c.field.as_str()));
        fields.extend(playbook.risk.modifiers.iter().filter_map(|m| m.when.field.as_deref()));
    }
    fields
        .into_iter()
        .filter_map(|field| {
            let (scope, key) = field.split_once('.')?;
            matches!(scope, "attributes" | "constraints").then(|| key.to_owned())
        })
        .collect()
}

/// The enriched request for `prompt` about exactly `resources`: per resource the identity,
/// state, constraints and permissions, the attributes playbooks read (`needed`), and the
/// tags `policy` keeps. Never carries credentials: resources do not hold any.
pub fn build_request(
    prompt: &str,
    resources: &[Resource],
    policy: &TagPolicy,
    needed: &BTreeSet<String>,
    user_context: UserContext,
) -> EnrichedRequest {
    let identified_resources = resources
        .iter()
        .map(|resource| {
            let mut identified =
                IdentifiedResource::from_resource(resource, |key| policy.keeps(key));
            identified.attributes.retain(|key, _| needed.contains(key));
            identified
        })
        .collect();
    EnrichedRequest {
        prompt: prompt.to_owned(),
        identified_resources,
        user_context,
        parameters: Default::default(),
    }
}

/// The name an operator types to confirm a risky plan on `resource`: its name, else its id.
pub fn confirmation_name(resource: &IdentifiedResource) -> String {
    resource
        .name
        .clone()
        .filter(|name| !name.is_empty())
        .or_else(|| resource.identifier().map(str::to_owned))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob("*secret*", "db_secret_arn"));
        assert!(glob("env", "env"));
        assert!(!glob("env", "environment"));
        assert!(glob("env*", "environment"));
        assert!(glob("*", ""));
        assert!(!glob("a*b", "ac"));
        assert!(glob("a*b*c", "axxbyyc"));
    }

    #[test]
    fn tag_policy_allows_then_denies() {
        let policy = TagPolicy::from_config(&AskSection::default());
        assert!(policy.keeps("env"));
        assert!(policy.keeps("App"));
        assert!(!policy.keeps("DB_PASSWORD"));
        assert!(!policy.keeps("owner-email"));
        let strict = TagPolicy::from_config(&AskSection {
            tags_allow: vec!["env*".into(), "app".into()],
            tags_deny: vec!["environment-secret".into()],
            ..AskSection::default()
        });
        assert!(strict.keeps("environment"));
        assert!(strict.keeps("app"));
        assert!(!strict.keeps("team"));
        assert!(!strict.keeps("environment-secret"));
        let agents = TagPolicy::for_agents(
            &AskSection { tags_allow: vec!["env*".into(), "app".into()], ..AskSection::default() },
            &cloudops_core::McpSection {
                tags_allow: vec!["env".into(), "team".into()],
                tags_deny: vec!["app".into()],
                ..Default::default()
            },
        );
        assert!(agents.keeps("env"), "allowed by both");
        assert!(!agents.keeps("team"), "the planner may not see it, so neither may an agent");
        assert!(!agents.keeps("environment"), "not in the agent's list");
        assert!(!agents.keeps("ENV_PASSWORD"), "the default deny list still holds");
    }
}
