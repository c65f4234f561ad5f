//! Structured queries over the estate: filters, counts and groups ([`QueryRequest`],
//! answered by [`crate::Estate::query`] with a [`QueryResponse`]), and the one text grammar
//! for them ([`QueryRequest::parse`]) that the CLI's `cloudops query` and the explorer's
//! filter box share:
//!
//! ```text
//! type:ec2_instance state:running account:staging region:eu-west-1 env:prod name:checkout
//! tag:team=web   tag:owner (has the key)   -tag:owner (lacks it)
//! engine=postgres   multi_az=false   backup_retention_period<7   attr:runtime=python3.8
//! created>30d (older than 30 days)   seen<1d (last seen within a day)
//! -state:stopped (any filter negated with a leading '-')
//! ```
//!
//! Values are compared case-insensitively. Pure and total: any text parses or says which
//! word it cannot read. Fuzzed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{Resource, ResourceType};
use crate::query::{MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS};

/// The most words a query may have.
pub const MAX_QUERY_WORDS: usize = 32;
/// The most resources one answer lists.
pub const MAX_QUERY_LIMIT: usize = 1_000;
/// How many resources an answer lists unless asked otherwise.
pub const DEFAULT_QUERY_LIMIT: usize = 20;

/// A comparison of an attribute with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// Equal (strings case-insensitively; `true`/`false`; numbers).
    Eq,
    /// Less than (numbers).
    Lt,
    /// Less than or equal (numbers).
    Le,
    /// Greater than (numbers).
    Gt,
    /// Greater than or equal (numbers).
    Ge,
}

impl Comparison {
    fn symbol(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

/// Which time an age filter measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum AgeOf {
    /// When a sync saw the resource's current content ([`Resource::last_seen`]).
    LastSeen,
    /// When it was created or launched (`launch_time`, `creation_date`,
    /// `instance_create_time`).
    Created,
}

/// One condition on resources; [`Filter::negated`] inverts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum Condition {
    /// Of this resource type.
    Type {
        /// The type.
        value: ResourceType,
    },
    /// In this account (id or configured name).
    Account {
        /// Id or name.
        value: String,
    },
    /// In this region (`eu-west-1`), or region family (`eu-`).
    Region {
        /// Region code or family prefix.
        value: String,
    },
    /// Named with every one of these words (`orders api` matches `orders-api-dev-01`):
    /// whole words of the name, case-insensitive.
    Name {
        /// The words.
        value: String,
    },
    /// In this lifecycle state.
    State {
        /// The state (`running`, `available`).
        value: String,
    },
    /// In this environment (from the tags, else the account name; normalized).
    Environment {
        /// `production`, `staging`, … (any spelling `normalize_environment` knows).
        value: String,
    },
    /// Carrying the tag key (any value), or the key with this value.
    Tag {
        /// The key.
        key: String,
        /// The value; `None`: any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        value: Option<String>,
    },
    /// An attribute (or derived constraint) compared with a value.
    Attribute {
        /// The attribute's name (`engine`, `multi_az`, `backup_retention_period`).
        name: String,
        /// How it is compared.
        op: Comparison,
        /// A string, a boolean or a number.
        #[cfg_attr(feature = "ts", ts(type = "string | number | boolean"))]
        value: serde_json::Value,
    },
    /// Any one of these filters holds (`(a|b|c)` in the grammar; no nesting).
    AnyOf {
        /// The alternatives.
        filters: Vec<Filter>,
    },
    /// Older (`older: true`) or newer than `days`.
    Age {
        /// Which time.
        of: AgeOf,
        /// Older than the age (else newer).
        older: bool,
        /// The age in days (fractions allowed).
        days: f64,
    },
}

/// A condition, possibly negated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Filter {
    /// The condition.
    #[serde(flatten)]
    pub condition: Condition,
    /// Whether resources must *not* meet it.
    #[serde(default)]
    pub negated: bool,
}

/// What groups are formed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GroupKey {
    /// The account (its name, else its id).
    Account,
    /// The region.
    Region,
    /// The resource type.
    Type,
    /// The state.
    State,
    /// The environment.
    Environment,
    /// A tag key's value (`(none)` without the tag).
    Tag(String),
    /// An attribute's value (`(none)` without it).
    Attribute(String),
}

impl GroupKey {
    /// Reads `account`, `region`, `type`, `state`, `env`, `tag:KEY`, or an attribute name.
    pub fn parse(text: &str) -> Result<GroupKey> {
        let text = text.trim();
        Ok(match text.to_lowercase().as_str() {
            "account" | "accounts" => GroupKey::Account,
            "region" | "regions" => GroupKey::Region,
            "type" | "types" | "resource_type" => GroupKey::Type,
            "state" | "states" | "status" => GroupKey::State,
            "env" | "environment" | "environments" => GroupKey::Environment,
            _ => {
                if let Some(key) = text.strip_prefix("tag:") {
                    check_key("tag key", key)?;
                    GroupKey::Tag(key.to_owned())
                } else {
                    let name = text.strip_prefix("attr:").unwrap_or(text);
                    check_attribute(name)?;
                    GroupKey::Attribute(name.to_lowercase())
                }
            }
        })
    }

    /// The name a group's key goes by in answers (`region`, `tag:team`, `engine`).
    pub fn label(&self) -> String {
        match self {
            GroupKey::Account => "account".to_owned(),
            GroupKey::Region => "region".to_owned(),
            GroupKey::Type => "type".to_owned(),
            GroupKey::State => "state".to_owned(),
            GroupKey::Environment => "environment".to_owned(),
            GroupKey::Tag(key) => format!("tag:{key}"),
            GroupKey::Attribute(name) => name.clone(),
        }
    }
}

impl Serialize for GroupKey {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.label())
    }
}

impl<'de> Deserialize<'de> for GroupKey {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        GroupKey::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "ts")]
impl ts_rs::TS for GroupKey {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
    fn inline(_: &ts_rs::Config) -> String {
        "string".to_owned()
    }
}

/// How listed resources are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// By name, A to Z.
    #[default]
    Name,
    /// Most recently seen first.
    LastSeen,
    /// Oldest first (by creation or launch time).
    Created,
}

/// A structured query: which resources (every filter holds), how to group them, how many to
/// list. The answer's counts always cover every match; only the listing is limited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QueryRequest {
    /// Conditions, all of which hold.
    #[serde(default)]
    pub filters: Vec<Filter>,
    /// Up to two keys to group the matches by.
    #[serde(default)]
    pub group_by: Vec<GroupKey>,
    /// How many resources to list (0: count only), at most [`MAX_QUERY_LIMIT`].
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// The order of the listing.
    #[serde(default)]
    pub sort: Sort,
}

fn default_limit() -> usize {
    DEFAULT_QUERY_LIMIT
}

impl Default for QueryRequest {
    fn default() -> Self {
        QueryRequest {
            filters: Vec::new(),
            group_by: Vec::new(),
            limit: DEFAULT_QUERY_LIMIT,
            sort: Sort::default(),
        }
    }
}

/// One group of an answer: its key values (by [`GroupKey::label`]) and how many match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Group {
    /// The value of each group key (`{"region": "us-east-1"}`).
    pub key: BTreeMap<String, String>,
    /// Resources in the group.
    pub count: usize,
}

/// The value a group takes for resources without the key.
pub const NO_VALUE: &str = "(none)";

/// What the index answers to a [`QueryRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct QueryResponse {
    /// Every matching resource, counted.
    pub total: usize,
    /// The groups, largest first (empty without `group_by`); their counts add up to `total`.
    pub groups: Vec<Group>,
    /// The first `limit` matches in the requested order; `total - results.len()` more exist.
    pub results: Vec<Resource>,
    /// Microseconds the index took.
    pub took_us: u64,
}

impl QueryRequest {
    /// Reads the text grammar (see the module documentation). `group_by` and `limit` are
    /// set by the caller.
    pub fn parse(text: &str) -> Result<QueryRequest> {
        let words = split_words(text)?;
        if words.len() > MAX_QUERY_WORDS {
            return Err(Error::InvalidInput(format!(
                "a query has at most {MAX_QUERY_WORDS} filters; this one has {}",
                words.len()
            )));
        }
        let filters = words.iter().map(|word| parse_filter(word)).collect::<Result<_>>()?;
        Ok(QueryRequest { filters, ..QueryRequest::default() })
    }

    /// Checks the limits: at most two group keys, a listing of at most [`MAX_QUERY_LIMIT`].
    pub fn validate(&self) -> Result<()> {
        if self.group_by.len() > 2 {
            return Err(Error::InvalidInput(format!(
                "group by at most two keys (got {})",
                self.group_by.len()
            )));
        }
        if self.limit > MAX_QUERY_LIMIT {
            return Err(Error::InvalidInput(format!(
                "list at most {MAX_QUERY_LIMIT} resources (asked for {})",
                self.limit
            )));
        }
        if self.filters.len() > MAX_QUERY_WORDS {
            return Err(Error::InvalidInput(format!("at most {MAX_QUERY_WORDS} filters")));
        }
        for filter in &self.filters {
            if let Condition::AnyOf { filters } = &filter.condition {
                if filters.is_empty() || filters.len() > MAX_QUERY_WORDS {
                    return Err(Error::InvalidInput(format!(
                        "(a|b) takes 1 to {MAX_QUERY_WORDS} alternatives"
                    )));
                }
                if filters.iter().any(|f| matches!(f.condition, Condition::AnyOf { .. })) {
                    return Err(Error::InvalidInput("alternatives cannot be nested".into()));
                }
                QueryRequest { filters: filters.clone(), ..QueryRequest::default() }.validate()?;
                continue;
            }
            match &filter.condition {
                // The rules every tag filter meets, however it was given.
                Condition::Tag { key, value: Some(value) } => {
                    crate::query::tag_filter(key, value)?;
                }
                Condition::Tag { key, value: None } => check_key("tag key", key)?,
                Condition::Attribute { name, op, value } => {
                    check_attribute(name)?;
                    let numeric = value.is_number();
                    if *op != Comparison::Eq && !numeric {
                        return Err(Error::InvalidInput(format!(
                            "{name}{} compares numbers only",
                            op.symbol()
                        )));
                    }
                    if let Some(text) = value.as_str() {
                        check_value(text)?;
                    } else if !numeric && !value.is_boolean() {
                        return Err(Error::InvalidInput(format!(
                            "{name}: compare with a string, a number or true/false"
                        )));
                    }
                }
                Condition::Age { days, .. } if !days.is_finite() || *days < 0.0 => {
                    return Err(Error::InvalidInput("an age is a positive number of days".into()));
                }
                Condition::Account { value }
                | Condition::Name { value }
                | Condition::Region { value }
                | Condition::State { value }
                | Condition::Environment { value } => check_value(value)?,
                Condition::Type { .. } | Condition::Age { .. } | Condition::AnyOf { .. } => {}
            }
        }
        Ok(())
    }

    /// The filters written back in the text grammar (what an answer says it counted).
    pub fn describe(&self) -> String {
        self.filters.iter().map(Filter::to_text).collect::<Vec<_>>().join(" ")
    }
}

impl Filter {
    /// A filter that must hold.
    pub fn holds(condition: Condition) -> Filter {
        Filter { condition, negated: false }
    }

    /// The filter in the text grammar.
    pub fn to_text(&self) -> String {
        let quote = |value: &str| {
            if value.chars().any(|c| c.is_whitespace() || c == '"') {
                format!("\"{}\"", value.replace('"', "'"))
            } else {
                value.to_owned()
            }
        };
        let body = match &self.condition {
            Condition::Type { value } => format!("type:{value}"),
            Condition::Account { value } => format!("account:{}", quote(value)),
            Condition::Name { value } => format!("name:{}", quote(value)),
            Condition::Region { value } => format!("region:{}", quote(value)),
            Condition::State { value } => format!("state:{}", quote(value)),
            Condition::Environment { value } => format!("env:{}", quote(value)),
            Condition::Tag { key, value: None } => format!("tag:{}", quote(key)),
            Condition::Tag { key, value: Some(value) } => {
                format!("tag:{}={}", quote(key), quote(value))
            }
            Condition::Attribute { name, op, value } => {
                let value = match value {
                    serde_json::Value::String(text) => quote(text),
                    other => other.to_string(),
                };
                format!("{name}{}{value}", op.symbol())
            }
            Condition::AnyOf { filters } => {
                format!("({})", filters.iter().map(Filter::to_text).collect::<Vec<_>>().join("|"))
            }
            Condition::Age { of, older, days } => format!(
                "{}{}{}d",
                match of {
                    AgeOf::LastSeen => "seen",
                    AgeOf::Created => "created",
                },
                if *older { ">" } else { "<" },
                days
            ),
        };
        if self.negated { format!("-{body}") } else { body }
    }
}

/// Splits on whitespace outside double quotes; quotes are removed.
fn split_words(text: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                started = true;
            }
            c if c.is_whitespace() && !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c if c.is_control() => {
                return Err(Error::InvalidInput(
                    "a query cannot contain control characters".into(),
                ));
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if quoted {
        return Err(Error::InvalidInput("a quote is not closed".into()));
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

fn parse_filter(word: &str) -> Result<Filter> {
    let (negated, body) = match word.strip_prefix('-') {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, word),
    };
    if let Some(inner) = body.strip_prefix('(').and_then(|rest| rest.strip_suffix(')')) {
        let filters = inner
            .split('|')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(parse_filter)
            .collect::<Result<Vec<_>>>()?;
        let filter = Filter { condition: Condition::AnyOf { filters }, negated };
        QueryRequest { filters: vec![filter.clone()], ..QueryRequest::default() }.validate()?;
        return Ok(filter);
    }
    let condition = parse_condition(body)
        .map_err(|problem| Error::InvalidInput(format!("cannot read {word:?}: {problem}")))?;
    let filter = Filter { condition, negated };
    QueryRequest { filters: vec![filter.clone()], ..QueryRequest::default() }.validate()?;
    Ok(filter)
}

fn parse_condition(body: &str) -> std::result::Result<Condition, String> {
    // `field:value` for the fixed fields and tags.
    if let Some((field, value)) = body.split_once(':') {
        let lower = field.to_lowercase();
        let fixed = |value: &str| -> std::result::Result<String, String> {
            if value.is_empty() {
                Err(format!("{field}: needs a value"))
            } else {
                Ok(value.to_owned())
            }
        };
        match lower.as_str() {
            "type" => {
                let value = fixed(value)?.to_lowercase();
                let Ok(kind) = value.parse::<ResourceType>();
                return Ok(Condition::Type { value: kind });
            }
            "account" => return Ok(Condition::Account { value: fixed(value)? }),
            "name" => return Ok(Condition::Name { value: fixed(value)? }),
            "region" => return Ok(Condition::Region { value: fixed(value)? }),
            "state" => return Ok(Condition::State { value: fixed(value)? }),
            "env" | "environment" => return Ok(Condition::Environment { value: fixed(value)? }),
            "tag" => {
                return Ok(match value.split_once('=') {
                    Some((key, value)) => {
                        Condition::Tag { key: key.to_owned(), value: Some(value.to_owned()) }
                    }
                    None => Condition::Tag { key: fixed(value)?, value: None },
                });
            }
            "attr" => return parse_comparison(value),
            _ if !body.contains(['=', '<', '>']) => {
                return Err(format!(
                    "unknown field {field:?} (type, name, account, region, state, env, tag, attr, \
                     or NAME=VALUE for an attribute)"
                ));
            }
            _ => {}
        }
    }
    parse_comparison(body)
}

/// `name=value`, `name<number`, `created>30d`, `seen<1d`.
fn parse_comparison(body: &str) -> std::result::Result<Condition, String> {
    let position = body.find(['=', '<', '>']).ok_or_else(|| {
        "not a filter (field:value, tag:KEY=VALUE, NAME=VALUE, NAME<NUMBER)".to_owned()
    })?;
    let name = &body[..position];
    let rest = &body[position..];
    let (op, value) = if let Some(value) = rest.strip_prefix("<=") {
        (Comparison::Le, value)
    } else if let Some(value) = rest.strip_prefix(">=") {
        (Comparison::Ge, value)
    } else if let Some(value) = rest.strip_prefix('<') {
        (Comparison::Lt, value)
    } else if let Some(value) = rest.strip_prefix('>') {
        (Comparison::Gt, value)
    } else {
        (Comparison::Eq, &rest[1..])
    };
    if name.is_empty() || value.is_empty() {
        return Err("needs a name and a value".to_owned());
    }
    let lower = name.to_lowercase();
    if matches!(lower.as_str(), "created" | "age" | "seen" | "last_seen") {
        let of =
            if lower.starts_with('c') || lower == "age" { AgeOf::Created } else { AgeOf::LastSeen };
        let older = match op {
            Comparison::Gt | Comparison::Ge => true,
            Comparison::Lt | Comparison::Le => false,
            Comparison::Eq => return Err(format!("{name} compares with < or > (e.g. {name}>30d)")),
        };
        return Ok(Condition::Age { of, older, days: parse_days(value)? });
    }
    let value = if op == Comparison::Eq {
        match value.to_lowercase().as_str() {
            "true" | "yes" => serde_json::Value::Bool(true),
            "false" | "no" => serde_json::Value::Bool(false),
            _ => match value.parse::<f64>() {
                Ok(number) if number.is_finite() => serde_json::json!(number),
                _ => serde_json::Value::String(value.to_owned()),
            },
        }
    } else {
        match value.parse::<f64>() {
            Ok(number) if number.is_finite() => serde_json::json!(number),
            _ => return Err(format!("{name}{} compares numbers only", op.symbol())),
        }
    };
    Ok(Condition::Attribute { name: lower, op, value })
}

/// `30d`, `12h`, `2w`, `30` (days).
fn parse_days(text: &str) -> std::result::Result<f64, String> {
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((at, _)) => (&text[..at], &text[at..]),
        None => (text, "d"),
    };
    let number: f64 =
        number.parse().map_err(|_| format!("{text:?} is not an age (30d, 12h, 2w)"))?;
    let days = match unit.to_lowercase().as_str() {
        "d" | "day" | "days" => number,
        "h" | "hour" | "hours" => number / 24.0,
        "w" | "week" | "weeks" => number * 7.0,
        "m" | "month" | "months" => number * 30.0,
        "y" | "year" | "years" => number * 365.0,
        _ => return Err(format!("{text:?} is not an age (30d, 12h, 2w)")),
    };
    if !days.is_finite() || days < 0.0 {
        return Err(format!("{text:?} is not an age"));
    }
    Ok(days)
}

fn check_key(what: &str, key: &str) -> Result<()> {
    if key.trim().is_empty()
        || key.chars().count() > MAX_TAG_KEY_CHARS
        || key.chars().any(char::is_control)
    {
        return Err(Error::InvalidInput(format!(
            "{what} {key:?}: 1 to {MAX_TAG_KEY_CHARS} characters, no control characters"
        )));
    }
    Ok(())
}

fn check_value(value: &str) -> Result<()> {
    if value.is_empty()
        || value.chars().count() > MAX_TAG_VALUE_CHARS
        || value.chars().any(char::is_control)
    {
        return Err(Error::InvalidInput(format!(
            "value {value:?}: 1 to {MAX_TAG_VALUE_CHARS} characters, no control characters"
        )));
    }
    Ok(())
}

fn check_attribute(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Err(Error::InvalidInput(format!(
            "attribute {name:?}: letters, digits and '_' (engine, multi_az, instance_type)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Vec<Filter> {
        QueryRequest::parse(text).unwrap_or_else(|e| panic!("{text}: {e}")).filters
    }

    #[test]
    fn the_grammar_reads_every_kind_of_filter_and_writes_it_back() {
        let text = "type:ec2_instance state:running account:staging region:eu-west-1 env:prod \
                    tag:team=web tag:owner -tag:cost-center engine=postgres multi_az=false \
                    backup_retention_period<7 attr:runtime=python3.8 created>30d seen<1d \
                    -state:stopped (-tag:owner|-tag:team) -(state:running|state:pending)";
        let filters = parsed(text);
        assert_eq!(filters.len(), 17);
        assert!(
            matches!(&filters[15].condition, Condition::AnyOf { filters } if filters.len() == 2 && filters[0].negated)
        );
        assert!(filters[16].negated);
        assert_eq!(filters[0].condition, Condition::Type { value: ResourceType::Ec2Instance });
        assert_eq!(
            filters[7],
            Filter {
                condition: Condition::Tag { key: "cost-center".into(), value: None },
                negated: true
            }
        );
        assert_eq!(
            filters[9].condition,
            Condition::Attribute {
                name: "multi_az".into(),
                op: Comparison::Eq,
                value: serde_json::Value::Bool(false)
            }
        );
        assert_eq!(
            filters[10].condition,
            Condition::Attribute {
                name: "backup_retention_period".into(),
                op: Comparison::Lt,
                value: serde_json::json!(7.0)
            }
        );
        assert_eq!(
            filters[12].condition,
            Condition::Age { of: AgeOf::Created, older: true, days: 30.0 }
        );
        assert!(filters[14].negated);
        let written = QueryRequest { filters: filters.clone(), ..Default::default() }.describe();
        assert_eq!(parsed(&written), filters, "{written}");
        let quoted = parsed(r#"tag:"cost center"="shared services" "#);
        assert_eq!(
            quoted[0].condition,
            Condition::Tag { key: "cost center".into(), value: Some("shared services".into()) }
        );
    }

    #[test]
    fn bad_filters_say_which_word_and_why() {
        for (text, expected) in [
            ("colour:red", "unknown field"),
            ("engine<postgres", "numbers only"),
            ("created=3d", "compares with < or >"),
            ("created>soon", "not an age"),
            ("tag:", "needs a value"),
            ("\"open", "not closed"),
            ("bad\u{7}", "control"),
            ("x-y=1", "attribute"),
            ("()", "alternatives"),
            ("((a=1|b=2))", "attribute"),
        ] {
            let error = QueryRequest::parse(text).expect_err(text).to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        let many = vec!["state:running"; MAX_QUERY_WORDS + 1].join(" ");
        assert!(QueryRequest::parse(&many).is_err());
        assert!(GroupKey::parse("tag:team").is_ok_and(|k| k == GroupKey::Tag("team".into())));
        assert_eq!(GroupKey::parse("Region").expect("region"), GroupKey::Region);
        assert!(GroupKey::parse("no such key!").is_err());
        let request = QueryRequest { limit: MAX_QUERY_LIMIT + 1, ..Default::default() };
        assert!(request.validate().is_err());
    }
}
