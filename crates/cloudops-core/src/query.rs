//! Query understanding: splits what an operator typed into the resource mention and the
//! scopes around it (type, environment, account, region, tag filters).
//!
//! Pure and total: any input parses, and nothing here touches the index. Fuzzed.

use serde::{Deserialize, Serialize};

use crate::model::{ResourceType, normalize_environment};

/// Words that carry no resource information: verbs of operations, articles, prepositions.
const NOISE_WORDS: &[&str] = &[
    "a",
    "all",
    "an",
    "and",
    "any",
    "are",
    "at",
    "backup",
    "by",
    "called",
    "can",
    "check",
    "create",
    "delete",
    "deregister",
    "describe",
    "destroy",
    "disable",
    "do",
    "enable",
    "every",
    "find",
    "for",
    "from",
    "get",
    "give",
    "go",
    "i",
    "in",
    "inside",
    "instances",
    "is",
    "it",
    "kill",
    "list",
    "locate",
    "look",
    "me",
    "my",
    "named",
    "of",
    "on",
    "our",
    "please",
    "pls",
    "reboot",
    "remove",
    "restart",
    "resize",
    "scale",
    "show",
    "shut",
    "shutdown",
    "snapshot",
    "start",
    "stop",
    "stored",
    "terminate",
    "that",
    "the",
    "their",
    "these",
    "this",
    "those",
    "to",
    "turn",
    "under",
    "up",
    "us",
    "we",
    "where",
    "which",
    "whose",
    "with",
    "within",
    "you",
    "account",
    "region",
    "env",
    "environment",
    "off",
    "down",
    "one",
];

/// A region scope: an exact region code or a family prefix such as `eu-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionScope {
    /// Exactly this region.
    Exact(String),
    /// Any region starting with this prefix (`eu-`, `us-`, `ap-`).
    Prefix(String),
}

impl RegionScope {
    /// Whether `region` falls in this scope.
    pub fn contains(&self, region: &str) -> bool {
        match self {
            RegionScope::Exact(code) => region == code,
            RegionScope::Prefix(prefix) => region.starts_with(prefix.as_str()),
        }
    }
}

/// What a query says, once understood.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedQuery {
    /// The words that describe the resource itself, lowercased, in order.
    pub terms: Vec<String>,
    /// Kinds of resource the query names ("database", "bucket"…).
    pub resource_types: Vec<ResourceType>,
    /// Canonical environments the query names (`production`, `staging`…).
    pub environments: Vec<String>,
    /// Configured account names the query names.
    pub accounts: Vec<String>,
    /// Regions the query names.
    pub regions: Vec<RegionScope>,
    /// Explicit `key=value` / `key:value` tag filters; keys and values lowercased.
    pub tags: Vec<(String, String)>,
}

impl ParsedQuery {
    /// Whether the query names any scope or filter.
    pub fn has_scope(&self) -> bool {
        !(self.resource_types.is_empty()
            && self.environments.is_empty()
            && self.accounts.is_empty()
            && self.regions.is_empty()
            && self.tags.is_empty())
    }

    /// The resource mention as one string (terms joined by spaces).
    pub fn mention(&self) -> String {
        self.terms.join(" ")
    }
}

/// Parses `query`. `account_names` are the configured account names, matched
/// case-insensitively as whole words.
pub fn parse_query(query: &str, account_names: &[String]) -> ParsedQuery {
    let mut parsed = ParsedQuery::default();
    let words: Vec<String> = query
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .map(trim_punctuation)
        .filter(|word| !word.is_empty())
        .map(str::to_owned)
        .collect();

    let mut names_engine = false;
    let mut index = 0;
    while index < words.len() {
        let word = &words[index];
        let lower = word.to_lowercase();
        index += 1;

        if let Some((key, value)) = split_tag_filter(&lower) {
            if matches!(key, "env" | "environment" | "stage") {
                push_unique(&mut parsed.environments, normalize_environment(value));
            } else if key == "region" {
                push_unique(&mut parsed.regions, RegionScope::Exact(value.to_owned()));
            } else if key == "account" {
                push_unique(&mut parsed.accounts, value.to_owned());
            } else if key == "type" {
                if let Some(kind) = type_word(value) {
                    push_unique(&mut parsed.resource_types, kind);
                }
            } else {
                push_unique(&mut parsed.tags, (key.to_owned(), value.to_owned()));
            }
            continue;
        }
        if lower == "load"
            && words.get(index).is_some_and(|next| next.to_lowercase().starts_with("balancer"))
        {
            index += 1;
            push_unique(&mut parsed.resource_types, ResourceType::ElbLoadBalancer);
            continue;
        }
        if let Some(account) = account_names.iter().find(|name| name.eq_ignore_ascii_case(&lower)) {
            push_unique(&mut parsed.accounts, account.to_lowercase());
            continue;
        }
        if let Some(environment) = environment_word(&lower) {
            push_unique(&mut parsed.environments, environment.to_owned());
            continue;
        }
        if let Some(region) = region_word(&lower) {
            push_unique(&mut parsed.regions, region);
            continue;
        }
        if is_engine_word(&lower) {
            // An engine describes the resource ("the bucket with the postgres dumps"), and
            // implies a database only when nothing else names the kind.
            names_engine = true;
            parsed.terms.push(lower);
            continue;
        }
        if let Some(kind) = type_word(&lower) {
            // "database backups", "instance main1": a kind word followed by a content word
            // qualifies that word rather than naming the kind.
            let qualifies_next = words
                .get(index)
                .is_some_and(|next| is_content_word(&next.to_lowercase(), account_names));
            if qualifies_next {
                parsed.terms.push(lower);
            } else {
                push_unique(&mut parsed.resource_types, kind);
            }
            continue;
        }
        if NOISE_WORDS.contains(&lower.as_str()) {
            continue;
        }
        parsed.terms.push(lower);
    }
    if names_engine && parsed.resource_types.is_empty() {
        parsed.resource_types.push(ResourceType::RdsInstance);
    }
    parsed
}

fn is_engine_word(word: &str) -> bool {
    matches!(
        word,
        "postgres" | "postgresql" | "mysql" | "mariadb" | "aurora" | "oracle" | "sqlserver"
    )
}

/// A word that describes a resource itself: not noise, a scope, a kind or a filter.
fn is_content_word(word: &str, account_names: &[String]) -> bool {
    !(NOISE_WORDS.contains(&word)
        || word == "load"
        || split_tag_filter(word).is_some()
        || account_names.iter().any(|name| name.eq_ignore_ascii_case(word))
        || environment_word(word).is_some()
        || region_word(word).is_some()
        || type_word(word).is_some())
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, value: T) {
    if !list.contains(&value) {
        list.push(value);
    }
}

fn trim_punctuation(word: &str) -> &str {
    word.trim_matches(|c: char| {
        matches!(c, '"' | '\'' | '`' | '?' | '!' | '.' | '(' | ')' | '[' | ']' | '{' | '}')
            || c.is_control()
    })
}

/// `key=value` or `key:value`, not an ARN and not a URL-ish thing.
fn split_tag_filter(word: &str) -> Option<(&str, &str)> {
    if word.starts_with("arn:") || word.contains("://") {
        return None;
    }
    let (key, value) = word.split_once('=').or_else(|| word.split_once(':'))?;
    let valid_key = !key.is_empty()
        && key.len() <= 128
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '@' | '+'));
    (valid_key && !value.is_empty()).then_some((key, value))
}

fn environment_word(word: &str) -> Option<&'static str> {
    Some(match word {
        "prod" | "production" | "prd" => "production",
        "staging" | "stg" | "stage" => "staging",
        "dev" | "development" => "development",
        "test" | "qa" => "test",
        _ => return None,
    })
}

/// Resource-type words, singular or plural.
pub(crate) fn type_word(word: &str) -> Option<ResourceType> {
    let singular = word.strip_suffix("es").filter(|stem| stem.ends_with("box"));
    let singular = singular.or_else(|| word.strip_suffix('s')).unwrap_or(word);
    Some(match singular {
        "database" | "db" | "rd" | "rds" => ResourceType::RdsInstance,
        "bucket" | "s3" => ResourceType::S3Bucket,
        "function" | "lambda" | "fn" => ResourceType::LambdaFunction,
        "alb" | "nlb" | "elb" | "balancer" | "loadbalancer" | "lb" => ResourceType::ElbLoadBalancer,
        "server" | "instance" | "host" | "box" | "vm" | "ec2" | "machine" | "node" => {
            ResourceType::Ec2Instance
        }
        _ => return None,
    })
}

/// Region codes (`us-west-2`) and the common ways people name regions.
fn region_word(word: &str) -> Option<RegionScope> {
    if is_region_code(word) {
        return Some(RegionScope::Exact(word.to_owned()));
    }
    let exact = |code: &str| Some(RegionScope::Exact(code.to_owned()));
    let prefix = |code: &str| Some(RegionScope::Prefix(code.to_owned()));
    match word {
        "europe" | "eu" | "emea" => prefix("eu-"),
        "asia" | "apac" => prefix("ap-"),
        "america" | "usa" => prefix("us-"),
        "oregon" => exact("us-west-2"),
        "california" => exact("us-west-1"),
        "virginia" => exact("us-east-1"),
        "ohio" => exact("us-east-2"),
        "ireland" | "dublin" => exact("eu-west-1"),
        "london" => exact("eu-west-2"),
        "paris" => exact("eu-west-3"),
        "frankfurt" => exact("eu-central-1"),
        "stockholm" => exact("eu-north-1"),
        "tokyo" => exact("ap-northeast-1"),
        "seoul" => exact("ap-northeast-2"),
        "singapore" => exact("ap-southeast-1"),
        "sydney" => exact("ap-southeast-2"),
        "mumbai" => exact("ap-south-1"),
        "canada" | "montreal" => exact("ca-central-1"),
        _ => None,
    }
}

/// `us-west-2`, `eu-central-1`, `us-gov-west-1`, `ap-southeast-3`…
pub(crate) fn is_region_code(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    let (geo, rest) = match parts.as_slice() {
        [geo, "gov", direction, number] => (*geo, [*direction, *number]),
        [geo, direction, number] => (*geo, [*direction, *number]),
        _ => return false,
    };
    geo.len() == 2
        && geo.chars().all(|c| c.is_ascii_lowercase())
        && matches!(
            rest[0],
            "north"
                | "south"
                | "east"
                | "west"
                | "central"
                | "northeast"
                | "northwest"
                | "southeast"
                | "southwest"
        )
        && !rest[1].is_empty()
        && rest[1].len() <= 2
        && rest[1].chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, expected: &str) {
        let parsed = parse_query(query, &["production".into(), "staging".into(), "sandbox".into()]);
        let mut rendered = format!("terms={:?}", parsed.terms);
        if !parsed.resource_types.is_empty() {
            let kinds: Vec<&str> = parsed.resource_types.iter().map(|k| k.as_str()).collect();
            rendered.push_str(&format!(" types={kinds:?}"));
        }
        if !parsed.environments.is_empty() {
            rendered.push_str(&format!(" envs={:?}", parsed.environments));
        }
        if !parsed.accounts.is_empty() {
            rendered.push_str(&format!(" accounts={:?}", parsed.accounts));
        }
        if !parsed.regions.is_empty() {
            rendered.push_str(&format!(" regions={:?}", parsed.regions));
        }
        if !parsed.tags.is_empty() {
            rendered.push_str(&format!(" tags={:?}", parsed.tags));
        }
        assert_eq!(rendered, expected, "query: {query}");
    }

    #[test]
    fn design_examples() {
        check("Stop pg-instance-main1", r#"terms=["pg-instance-main1"]"#);
        check(
            "reboot the checkout servers in staging",
            r#"terms=["checkout"] types=["ec2_instance"] accounts=["staging"]"#,
        );
        check(
            "the bucket with the postgres dumps",
            r#"terms=["postgres", "dumps"] types=["s3_bucket"]"#,
        );
        check("production database", r#"terms=[] types=["rds_instance"] accounts=["production"]"#);
        check("env=prod app=main", r#"terms=[] envs=["production"] tags=[("app", "main")]"#);
    }

    #[test]
    fn kind_words_can_qualify() {
        check("where are the database backups stored", r#"terms=["database", "backups"]"#);
        check("instance main1", r#"terms=["instance", "main1"]"#);
        check("the search load balancer", r#"terms=["search"] types=["elb_load_balancer"]"#);
    }

    #[test]
    fn scopes() {
        check(
            "web servers in europe",
            r#"terms=["web"] types=["ec2_instance"] regions=[Prefix("eu-")]"#,
        );
        check(
            "orders db us-east-1 prod",
            r#"terms=["orders"] types=["rds_instance"] envs=["production"] regions=[Exact("us-east-1")]"#,
        );
        check("the payments load balancer", r#"terms=["payments"] types=["elb_load_balancer"]"#);
        check("team:data owner=alice", r#"terms=[] tags=[("team", "data"), ("owner", "alice")]"#);
        check(
            "arn:aws:rds:us-west-2:123456789012:db:pg-instance-main1",
            r#"terms=["arn:aws:rds:us-west-2:123456789012:db:pg-instance-main1"]"#,
        );
        check("i-0abc1234def567890", r#"terms=["i-0abc1234def567890"]"#);
        check("", "terms=[]");
        check("= : :x y= \u{0}", r#"terms=["=", ":", ":x", "y="]"#);
    }

    #[test]
    fn region_codes() {
        assert!(is_region_code("us-west-2"));
        assert!(is_region_code("us-gov-west-1"));
        assert!(is_region_code("ap-southeast-3"));
        assert!(!is_region_code("web-prod-01"));
        assert!(!is_region_code("us-west"));
    }
}
