//! Query understanding: splits what an operator typed into the resource mention and the
//! scopes around it (type, environment, account, region, tag filters); and the one reader of
//! tag filters written as text ([`parse_tag`]), which the query and every frontend share.
//!
//! Pure and total: any input parses, and nothing here touches the index. Fuzzed.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
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
    /// Explicit `key=value` / `key:value` tag filters, read by [`parse_tag`] (and, in a
    /// lookup's answer, the request's own tags); keys and values lowercased.
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
    let words = split_words(query);

    let mut names_engine = false;
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        let lower = word.to_lowercase();
        index += 1;

        if let Ok((key, value)) = read_tag(word) {
            let (key, value) = (key.to_lowercase(), value.to_lowercase());
            let (key, value) = (key.as_str(), value.as_str());
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
        || read_tag(word).is_ok()
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

/// Punctuation around a word that is not part of it.
fn is_wrapping(c: char) -> bool {
    matches!(c, '"' | '\'' | '`' | '?' | '!' | '.' | '(' | ')' | '[' | ']' | '{' | '}')
        || c.is_control()
}

fn trim_punctuation(word: &str) -> &str {
    word.trim_matches(is_wrapping)
}

/// The words of a query: split at whitespace, `,` and `;`, without the punctuation around
/// them. A tag whose value is quoted (`Name="web 1"`, see [`parse_tag`]) is one word, as
/// written, spaces and quotes included; where the quotes make no valid tag, they are
/// punctuation like any other.
fn split_words(query: &str) -> Vec<&str> {
    let is_separator = |c: char| c.is_whitespace() || c == ',' || c == ';';
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    let mut position = 0;
    while let Some(c) = query[position..].chars().next() {
        let next = position + c.len_utf8();
        if c == '"'
            && let Some(first) = start
        {
            let before = query[first..position].trim_start_matches(is_wrapping);
            let closing = query[next..].find('"').map(|offset| next + offset + 1);
            if before.ends_with(['=', ':'])
                && let Some(end) = closing
            {
                let tag = query[first..end].trim_start_matches(is_wrapping);
                if read_tag(tag).is_ok() {
                    words.push(tag);
                    start = None;
                    position = end;
                    continue;
                }
            }
        }
        if is_separator(c) {
            if let Some(first) = start.take() {
                words.push(trim_punctuation(&query[first..position]));
            }
        } else if start.is_none() {
            start = Some(position);
        }
        position = next;
    }
    if let Some(first) = start {
        words.push(trim_punctuation(&query[first..]));
    }
    words.retain(|word| !word.is_empty());
    words
}

/// Tag keys are at most this long (AWS's limit).
pub(crate) const MAX_TAG_KEY_CHARS: usize = 128;
/// Tag values are at most this long (AWS's limit).
pub(crate) const MAX_TAG_VALUE_CHARS: usize = 256;

/// Reads one tag filter written as text: `key=value` or `key:value`. The rules, the same for
/// the query, a frontend's tag box and a command-line option:
///
/// - `=` separates key and value when the text has one, else the first `:`; so
///   `aws:cloudformation:stack-name=web` has the key `aws:cloudformation:stack-name`.
/// - The key is letters, digits and `- _ . / @ + :`, at most 128 characters.
/// - A value in double quotes is what is between them, spaces included: `Name="web 1"` is
///   (`Name`, `web 1`). Unquoted, a value has no whitespace. At most 256 characters.
/// - Key and value are trimmed (a quoted value inside its quotes too) and keep their case:
///   filters compare them lowercased.
/// - Neither may be empty: `owner=` and `owner=""` are errors, not "any owner" nor "an
///   empty owner" (give the value the filter wants).
/// - ARNs (`arn:…`) and URLs (`…://…`) are not tags.
///
/// A text that breaks a rule is [`Error::InvalidInput`], saying what to write instead; in a
/// query, such a word is read as a word of the resource mention.
///
/// ```
/// use cloudops_core::parse_tag;
///
/// assert_eq!(parse_tag(r#"Name="web 1""#)?, ("Name".into(), "web 1".into()));
/// assert_eq!(parse_tag("team:data")?, ("team".into(), "data".into()));
/// assert!(parse_tag("owner=").is_err());
/// # Ok::<(), cloudops_core::Error>(())
/// ```
pub fn parse_tag(text: &str) -> Result<(String, String)> {
    match read_tag(text) {
        Ok((key, value)) => Ok((key.to_owned(), value.to_owned())),
        Err(problem) => {
            Err(Error::InvalidInput(format!("tag filter {:?}: {}", text.trim(), problem.message())))
        }
    }
}

/// The rules every tag filter meets, however it was given (as text, or as a pair of a
/// request): key and value trimmed, neither empty, at most 128 and 256 characters, no
/// control characters. Returns the trimmed pair.
pub(crate) fn tag_filter(key: &str, value: &str) -> Result<(String, String)> {
    match check_tag(key, value) {
        Ok((key, value)) => Ok((key.to_owned(), value.to_owned())),
        Err(problem) => Err(Error::InvalidInput(format!(
            "tag filter {:?}={:?}: {}",
            key.trim(),
            value.trim(),
            problem.message()
        ))),
    }
}

/// Why a text is not a tag filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagProblem {
    NoSeparator,
    ArnOrUrl,
    KeyCharacters,
    Unquoted,
    Unclosed,
    EmptyKey,
    EmptyValue,
    TooLong,
    Control,
}

impl TagProblem {
    fn message(self) -> &'static str {
        match self {
            TagProblem::NoSeparator => "write key=value",
            TagProblem::ArnOrUrl => "an ARN or a URL is not a tag; write key=value",
            TagProblem::KeyCharacters => {
                "a tag key is letters, digits and - _ . / @ + : (write key=value)"
            }
            TagProblem::Unquoted => "put a value with spaces in double quotes: key=\"a b\"",
            TagProblem::Unclosed => "close the quote around the value: key=\"a b\"",
            TagProblem::EmptyKey => "the key is empty; write key=value",
            TagProblem::EmptyValue => "the value is empty; write key=value",
            TagProblem::TooLong => "keys are at most 128 characters, values at most 256",
            TagProblem::Control => "remove the control characters",
        }
    }
}

/// [`parse_tag`] without allocating: the key and value are slices of `text`.
fn read_tag(text: &str) -> Result<(&str, &str), TagProblem> {
    let text = text.trim();
    if text.get(..4).is_some_and(|prefix| prefix.eq_ignore_ascii_case("arn:"))
        || text.contains("://")
    {
        return Err(TagProblem::ArnOrUrl);
    }
    let (key, value) =
        text.split_once('=').or_else(|| text.split_once(':')).ok_or(TagProblem::NoSeparator)?;
    let key = key.trim();
    let key_characters = |c: char| c.is_alphanumeric() || "-_./@+:".contains(c);
    if !key.chars().all(key_characters) {
        return Err(TagProblem::KeyCharacters);
    }
    let value = value.trim();
    let value = match value.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"').ok_or(TagProblem::Unclosed)?,
        None if value.contains(char::is_whitespace) => return Err(TagProblem::Unquoted),
        None => value,
    };
    check_tag(key, value)
}

/// See [`tag_filter`].
fn check_tag<'a>(key: &'a str, value: &'a str) -> Result<(&'a str, &'a str), TagProblem> {
    let (key, value) = (key.trim(), value.trim());
    if key.is_empty() {
        return Err(TagProblem::EmptyKey);
    }
    if value.is_empty() {
        return Err(TagProblem::EmptyValue);
    }
    if key.chars().count() > MAX_TAG_KEY_CHARS || value.chars().count() > MAX_TAG_VALUE_CHARS {
        return Err(TagProblem::TooLong);
    }
    if key.chars().chain(value.chars()).any(char::is_control) {
        return Err(TagProblem::Control);
    }
    Ok((key, value))
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
    fn quoted_tags_in_queries() {
        check(r#"stop Name="web 1" now"#, r#"terms=["now"] tags=[("name", "web 1")]"#);
        check(
            r#"(Name="web 1"), owner:"a, b; c""#,
            r#"terms=[] tags=[("name", "web 1"), ("owner", "a, b; c")]"#,
        );
        check(r#"env="prod" checkout"#, r#"terms=["checkout"] envs=["production"]"#);
        check(r#""team=data" web"#, r#"terms=["web"] tags=[("team", "data")]"#);
        check(
            "aws:cloudformation:stack-name=shop",
            r#"terms=[] tags=[("aws:cloudformation:stack-name", "shop")]"#,
        );
        // Quotes that make no valid tag are punctuation: the words stay words.
        check(r#"Name="web 1 checkout"#, r#"terms=["name=\"web", "1", "checkout"]"#);
        check(r#"k!="x y""#, r#"terms=["k!=\"x", "y"]"#);
        check(r#"owner="" web"#, r#"terms=["owner=", "web"]"#);
        check(r#"Name=" " web"#, r#"terms=["name=", "web"]"#);
    }

    /// `input` → `key|value`, or the error's message.
    fn check_tag(input: &str, expected: &str) {
        let rendered = match parse_tag(input) {
            Ok((key, value)) => format!("{key}|{value}"),
            Err(error) => error.to_string(),
        };
        assert_eq!(rendered, expected, "input: {input:?}");
    }

    #[test]
    fn tag_check() {
        check_tag("team=data", "team|data");
        check_tag("team:data", "team|data");
        check_tag("  Team = Data  ", "Team|Data");
        check_tag(r#"Name="web 1""#, "Name|web 1");
        check_tag(r#"Name=" web 1 ""#, "Name|web 1");
        check_tag(r#"Name:"a, b; c""#, "Name|a, b; c");
        check_tag("aws:cloudformation:stack-name=web", "aws:cloudformation:stack-name|web");
        check_tag("a:b:c", "a|b:c");
        check_tag("k=a=b", "k|a=b");
        check_tag("10:30", "10|30");
        check_tag("日本=東京", "日本|東京");
        check_tag(
            "owner=",
            r#"invalid input: tag filter "owner=": the value is empty; write key=value"#,
        );
        check_tag(
            r#"owner="""#,
            r#"invalid input: tag filter "owner=\"\"": the value is empty; write key=value"#,
        );
        check_tag("=x", r#"invalid input: tag filter "=x": the key is empty; write key=value"#);
        check_tag("owner", r#"invalid input: tag filter "owner": write key=value"#);
        check_tag("", r#"invalid input: tag filter "": write key=value"#);
        check_tag(
            "owner=alice smith",
            r#"invalid input: tag filter "owner=alice smith": put a value with spaces in double quotes: key="a b""#,
        );
        check_tag(
            r#"Name="web 1"#,
            r#"invalid input: tag filter "Name=\"web 1": close the quote around the value: key="a b""#,
        );
        check_tag(
            "arn:aws:s3:::bucket",
            r#"invalid input: tag filter "arn:aws:s3:::bucket": an ARN or a URL is not a tag; write key=value"#,
        );
        check_tag(
            "ARN:aws:x",
            r#"invalid input: tag filter "ARN:aws:x": an ARN or a URL is not a tag; write key=value"#,
        );
        check_tag(
            "https://example.com/?a=b",
            r#"invalid input: tag filter "https://example.com/?a=b": an ARN or a URL is not a tag; write key=value"#,
        );
        check_tag(
            "team name=x",
            r#"invalid input: tag filter "team name=x": a tag key is letters, digits and - _ . / @ + : (write key=value)"#,
        );
        check_tag(
            "k=a\u{7}b",
            r#"invalid input: tag filter "k=a\u{7}b": remove the control characters"#,
        );
        let long_key = format!("{}=x", "k".repeat(129));
        check_tag(
            &long_key,
            &format!(
                "invalid input: tag filter {long_key:?}: keys are at most 128 characters, values at most 256"
            ),
        );
        check_tag(&format!("{}=x", "k".repeat(128)), &format!("{}|x", "k".repeat(128)));
    }

    #[test]
    fn structured_tags_meet_the_same_rules() {
        assert_eq!(
            tag_filter(" Cost Center ", " a b ").expect("valid"),
            ("Cost Center".into(), "a b".into())
        );
        let error = tag_filter("owner", " ").expect_err("empty value");
        assert_eq!(
            error.to_string(),
            r#"invalid input: tag filter "owner"="": the value is empty; write key=value"#
        );
        assert!(tag_filter("", "x").is_err());
        assert!(tag_filter("k", &"v".repeat(257)).is_err());
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
