//! Questions about the estate read as structured queries ([`read_question`]): "how many
//! load balancers are in eu-west-1?", "count the EC2 instances per region in development",
//! "which databases have no backups?", "instances without an owner tag", "buckets older
//! than 90 days", "instances stopped for more than a week".
//!
//! Deterministic and offline; pure and total (any text reads as some query, possibly one
//! with no filter). The words it reads, in order: a count ("how many", "count", "number
//! of"); groups ("per region", "by account", "for each type", "per team" for a tag key);
//! tags that must be missing or present ("without an owner tag", "with a team tag");
//! backups ("no backups", "not backed up"); Multi-AZ; ages ("older than 30 days",
//! "created in the last 2 weeks", "for more than a week" — time in the current state, as
//! far as syncs saw: [`AgeOf::LastSeen`]); states (`running`, `not running`); database
//! engines and Lambda runtimes; then the scopes lookup knows (type, environment, account,
//! region, `key=value` tags, [`crate::parse_query`]). Words left over are name words
//! (`name:` filter): "how many checkout servers in staging" counts resources named
//! `checkout…`.

use crate::filters::{AgeOf, Comparison, Condition, Filter, GroupKey, QueryRequest};
use crate::model::ResourceType;
use crate::query::{RegionScope, parse_query, type_word};

/// A question read as a query.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionQuery {
    /// The query.
    pub request: QueryRequest,
    /// The question asks for a number ("how many", "count").
    pub count: bool,
    /// What was read approximately (several resource types named: the first is counted).
    pub notes: Vec<String>,
}

/// Words of a question that carry no filter.
const QUESTION_WORDS: &[&str] = &[
    "a",
    "about",
    "across",
    "all",
    "am",
    "an",
    "and",
    "any",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "being",
    "can",
    "check",
    "count",
    "currently",
    "did",
    "display",
    "do",
    "does",
    "each",
    "every",
    "exist",
    "exists",
    "find",
    "for",
    "from",
    "get",
    "give",
    "got",
    "had",
    "has",
    "have",
    "having",
    "here",
    "how",
    "i",
    "in",
    "inside",
    "is",
    "it",
    "its",
    "just",
    "know",
    "list",
    "many",
    "me",
    "much",
    "my",
    "now",
    "number",
    "of",
    "on",
    "or",
    "our",
    "out",
    "please",
    "pls",
    "resource",
    "resources",
    "right",
    "see",
    "show",
    "so",
    "tell",
    "that",
    "the",
    "their",
    "them",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "this",
    "those",
    "to",
    "total",
    "us",
    "we",
    "were",
    "what",
    "whats",
    "where",
    "which",
    "who",
    "whose",
    "with",
    "within",
    "you",
    "your",
];

const STATES: &[&str] = &[
    "running",
    "stopped",
    "available",
    "terminated",
    "pending",
    "stopping",
    "starting",
    "failed",
    "active",
    "inactive",
    "creating",
    "deleting",
];

/// Reads `text` as a structured query; `account_names` are the configured account names.
pub fn read_question(text: &str, account_names: &[String]) -> QuestionQuery {
    let mut reader = Reader::new(text);
    let mut filters: Vec<Filter> = Vec::new();
    let mut group_by: Vec<GroupKey> = Vec::new();
    let mut notes = Vec::new();
    let lister = matches!(
        reader.words.first().map(String::as_str),
        Some("which" | "what" | "list" | "show" | "how" | "count" | "find" | "give")
    );

    let count = reader.take_phrase(&["how", "many"])
        || reader.take_phrase(&["number", "of"])
        || reader.words.first().is_some_and(|w| w == "count" || w == "total");

    // Groups: "per X", "by X", "for each X", "in each X", "grouped by X", "by X and Y".
    let mut index = 0;
    while index + 1 < reader.words.len() {
        let word = reader.words[index].clone();
        if reader.used[index] || !matches!(word.as_str(), "per" | "by" | "each") {
            index += 1;
            continue;
        }
        let Some((key, mut end)) = reader.group_key(index + 1, word == "per") else {
            index += 1;
            continue;
        };
        let mut keys = vec![key];
        if reader.words.get(end + 1).is_some_and(|w| w == "and")
            && let Some((second, second_end)) = reader.group_key(end + 2, false)
        {
            keys.push(second);
            end = second_end;
        }
        for key in keys {
            if group_by.len() < 2 && !group_by.contains(&key) {
                group_by.push(key);
            }
        }
        reader.mark(index, end + 1 - index);
        for before in ["grouped", "broken", "down", "for", "in", "split"] {
            if index > 0 && reader.words[index - 1] == before {
                reader.used[index - 1] = true;
            }
        }
        index = end + 1;
    }

    // Tags that must be missing or present: "without an owner tag", "missing the team tag",
    // "no cost-center tag", "with a team tag", "tagged with owner".
    let mut index = 0;
    while index < reader.words.len() {
        let word = reader.words[index].clone();
        let absent = matches!(word.as_str(), "without" | "missing" | "lacking" | "lack" | "no");
        let present = word == "with" || word == "having";
        if !reader.used[index] && (absent || present) {
            let mut key_at = index + 1;
            while reader
                .words
                .get(key_at)
                .is_some_and(|w| matches!(w.as_str(), "a" | "an" | "the" | "any"))
            {
                key_at += 1;
            }
            let tag_at = key_at + 1;
            if reader.words.get(tag_at).is_some_and(|w| w == "tag" || w == "tags")
                && reader
                    .words
                    .get(key_at)
                    .is_some_and(|w| is_plain_word(w) || w.contains('-') || w.contains(':'))
            {
                filters.push(Filter {
                    condition: Condition::Tag { key: reader.words[key_at].clone(), value: None },
                    negated: absent,
                });
                for used in index..=tag_at {
                    reader.used[used] = true;
                }
                index = tag_at + 1;
                continue;
            }
        }
        if !reader.used[index] && (word == "untagged" || word == "tagless") {
            notes.push("\"untagged\" is read as a word of the name; name the tag key (\"without an owner tag\")".into());
        }
        index += 1;
    }

    // Backups.
    let no_backups = reader.take_phrase(&["not", "backed", "up"])
        || reader.take_phrase(&["no", "automated", "backups"])
        || reader.take_phrase(&["without", "automated", "backups"])
        || reader.take_phrase(&["no", "backups"])
        || reader.take_phrase(&["no", "backup"])
        || reader.take_phrase(&["without", "backups"])
        || reader.take_phrase(&["backups", "disabled"])
        || reader.take_phrase(&["backups", "off"])
        || reader.take_phrase(&["unbacked"]);
    let with_backups = !no_backups
        && lister
        && (reader.take_phrase(&["backed", "up"])
            || reader.take_phrase(&["with", "backups"])
            || reader.take_phrase(&["backups", "enabled"]));
    if no_backups || with_backups {
        filters.push(Filter::holds(Condition::Attribute {
            name: "automated_backups_enabled".into(),
            op: Comparison::Eq,
            value: serde_json::Value::Bool(with_backups),
        }));
    } else {
        // "is X backed up?": the resource is listed with its backup facts, not filtered.
        reader.take_phrase(&["backed", "up"]);
    }

    // Multi-AZ.
    let single = reader.take_phrase(&["not", "multi", "az"])
        || reader.take_phrase(&["not", "multi-az"])
        || reader.take_phrase(&["single", "az"])
        || reader.take_phrase(&["single-az"])
        || reader.take_phrase(&["without", "multi-az"]);
    let multi = !single
        && lister
        && (reader.take_phrase(&["multi-az"]) || reader.take_phrase(&["multi", "az"]));
    if single || multi {
        filters.push(Filter::holds(Condition::Attribute {
            name: "multi_az".into(),
            op: Comparison::Eq,
            value: serde_json::Value::Bool(multi),
        }));
    }

    // Ages.
    for (phrase, of, older) in [
        (&["older", "than"][..], AgeOf::Created, true),
        (&["created", "more", "than"][..], AgeOf::Created, true),
        (&["launched", "more", "than"][..], AgeOf::Created, true),
        (&["created", "over"][..], AgeOf::Created, true),
        (&["newer", "than"][..], AgeOf::Created, false),
        (&["younger", "than"][..], AgeOf::Created, false),
        (&["created", "in", "the", "last"][..], AgeOf::Created, false),
        (&["created", "within", "the", "last"][..], AgeOf::Created, false),
        (&["launched", "in", "the", "last"][..], AgeOf::Created, false),
        (&["for", "more", "than"][..], AgeOf::LastSeen, true),
        (&["for", "over"][..], AgeOf::LastSeen, true),
        (&["for", "longer", "than"][..], AgeOf::LastSeen, true),
        (&["longer", "than"][..], AgeOf::LastSeen, true),
        (&["more", "than"][..], AgeOf::Created, true),
    ] {
        if let Some(days) = reader.take_age(phrase) {
            filters.push(Filter::holds(Condition::Age { of, older, days }));
        }
    }

    // States, possibly negated ("not running", "non-running").
    for index in 0..reader.words.len() {
        let word = reader.words[index].clone();
        let (negated, state) = match word.strip_prefix("non-") {
            Some(state) => (true, state.to_owned()),
            None => (false, word.clone()),
        };
        if reader.used[index] || !STATES.contains(&state.as_str()) {
            continue;
        }
        let not = index > 0
            && !reader.used[index - 1]
            && matches!(reader.words[index - 1].as_str(), "not" | "isn't" | "aren't");
        if not {
            reader.used[index - 1] = true;
        }
        reader.used[index] = true;
        filters
            .push(Filter { condition: Condition::State { value: state }, negated: negated || not });
    }

    // Database engines and Lambda runtimes.
    let mut database_words = false;
    for index in 0..reader.words.len() {
        if reader.used[index] {
            continue;
        }
        let word = reader.words[index].as_str();
        let engine = match word {
            "postgres" | "postgresql" | "pg" => Some("postgres"),
            "mysql" => Some("mysql"),
            "mariadb" => Some("mariadb"),
            _ => None,
        };
        if let Some(engine) = engine {
            reader.used[index] = true;
            database_words = true;
            filters.push(Filter::holds(Condition::Attribute {
                name: "engine".into(),
                op: Comparison::Eq,
                value: engine.into(),
            }));
        } else if is_runtime(word) {
            reader.used[index] = true;
            filters.push(Filter::holds(Condition::Attribute {
                name: "runtime".into(),
                op: Comparison::Eq,
                value: word.into(),
            }));
        }
    }

    // The scopes lookup knows, and name words.
    let rest: Vec<&str> = reader
        .words
        .iter()
        .zip(&reader.used)
        .filter(|(word, used)| !**used && !QUESTION_WORDS.contains(&word.as_str()))
        .map(|(word, _)| word.as_str())
        .collect();
    let parsed = parse_query(&rest.join(" "), account_names);
    let mut types = parsed.resource_types.clone();
    if types.is_empty()
        && (database_words || filters.iter().any(|f| matches!(&f.condition, Condition::Attribute { name, .. } if name == "automated_backups_enabled" || name == "multi_az")))
    {
        types.push(ResourceType::RdsInstance);
    }
    if let Some(first) = types.first() {
        if types.len() > 1 {
            notes.push(format!(
                "several kinds of resource are named; counting {first} (ask for each, or group \
                 by type)"
            ));
        }
        filters.insert(0, Filter::holds(Condition::Type { value: first.clone() }));
    }
    if let Some(environment) = parsed.environments.first() {
        filters.push(Filter::holds(Condition::Environment { value: environment.clone() }));
    }
    if let Some(account) = parsed.accounts.first() {
        filters.push(Filter::holds(Condition::Account { value: account.clone() }));
    }
    if let Some(region) = parsed.regions.first() {
        let value = match region {
            RegionScope::Exact(region) | RegionScope::Prefix(region) => region.clone(),
        };
        filters.push(Filter::holds(Condition::Region { value }));
    }
    for (key, value) in &parsed.tags {
        filters
            .push(Filter::holds(Condition::Tag { key: key.clone(), value: Some(value.clone()) }));
    }
    let name: Vec<&str> = parsed
        .terms
        .iter()
        .map(String::as_str)
        .filter(|term| {
            !QUESTION_WORDS.contains(term)
                && !matches!(*term, "not" | "than" | "tag" | "tags" | "tagged")
                && type_word(term).is_none()
        })
        .collect();
    if !name.is_empty() {
        // Name words within the grammar's limit on a value.
        let mut value = String::new();
        for word in name {
            if value.chars().count() + word.chars().count() + 1 > crate::query::MAX_TAG_VALUE_CHARS
            {
                notes.push("only the first name words were read".to_owned());
                break;
            }
            if !value.is_empty() {
                value.push(' ');
            }
            value.push_str(word);
        }
        if !value.is_empty() {
            filters.push(Filter::holds(Condition::Name { value }));
        }
    }
    let mut unique: Vec<Filter> = Vec::new();
    for filter in filters {
        let valid = QueryRequest { filters: vec![filter.clone()], ..QueryRequest::default() }
            .validate()
            .is_ok();
        if valid && !unique.contains(&filter) {
            unique.push(filter);
        }
    }
    if unique.len() > crate::filters::MAX_QUERY_WORDS {
        unique.truncate(crate::filters::MAX_QUERY_WORDS);
        notes.push(format!("only the first {} filters were read", crate::filters::MAX_QUERY_WORDS));
    }
    QuestionQuery {
        request: QueryRequest { filters: unique, group_by, ..QueryRequest::default() },
        count,
        notes,
    }
}

/// Words that make a mention quantified: it means a set, not one resource.
const QUANTIFIERS: &[&str] = &["all", "every", "each", "both"];

/// Words that start the mention of what to act on, after the operation's words.
const DETERMINERS: &[&str] =
    &["all", "every", "each", "both", "the", "these", "those", "my", "our"];

/// A plural or quantified mention in a request for a change ("stop all the orders-api
/// servers in development", "reboot the checkout servers in staging", "start both reports
/// databases") read as the query that selects the whole set: the operation's words before
/// the mention and its value after "to" are left out, the rest is read as
/// [`read_question`] reads a question. `None` when the mention is of one resource (no
/// quantifier and no plural kind of resource).
///
/// Every word narrows (the filters are conjunctive), so a word read wrongly selects fewer
/// resources, never more.
pub fn read_fleet(text: &str, account_names: &[String]) -> Option<QuestionQuery> {
    let reader = Reader::new(text);
    let words = &reader.words;
    let quantified = words.iter().any(|w| QUANTIFIERS.contains(&w.as_str()));
    let plural = words.iter().any(|w| {
        w.ends_with('s') && !matches!(w.as_str(), "rds" | "aws") && type_word(w).is_some()
    });
    if !quantified && !plural {
        return None;
    }
    let start = match words.iter().position(|w| DETERMINERS.contains(&w.as_str())) {
        Some(at) => at,
        // "stop orders-api servers", "turn off dev servers": the verb and its particle.
        None => {
            let particle =
                words.get(1).is_some_and(|w| crate::intent::PARTICLES.contains(&w.as_str()));
            if particle { 2 } else { 1 }
        }
    };
    let end = words.iter().skip(start).position(|w| w == "to").map_or(words.len(), |at| start + at);
    let mention: Vec<&str> = words
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(String::as_str)
        .filter(|w| !QUANTIFIERS.contains(w))
        .collect();
    let mention = mention.join(" ");
    let mut read = read_question(&mention, account_names);
    read.count = false;
    Some(read)
}

/// A word that can be a tag key or group key: letters, digits, `-`, `_`.
fn is_plain_word(word: &str) -> bool {
    !word.is_empty()
        && word.len() <= 64
        && word.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        && !QUESTION_WORDS.contains(&word)
}

/// `python3.8`, `nodejs18.x`, `java11`, `ruby2.7`, `go1.x`, `dotnet6`.
fn is_runtime(word: &str) -> bool {
    ["python", "nodejs", "java", "ruby", "dotnet", "go", "provided"].iter().any(|family| {
        word.strip_prefix(family).is_some_and(|version| {
            version.starts_with(|c: char| c.is_ascii_digit())
                && version.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
        })
    })
}

/// The question's words, lowercased, and which ones a rule has read.
struct Reader {
    words: Vec<String>,
    used: Vec<bool>,
}

impl Reader {
    fn new(text: &str) -> Reader {
        let bounded: String = text.chars().take(crate::MAX_CLASSIFIED_BYTES).collect();
        let words: Vec<String> =
            bounded
                .split_whitespace()
                .map(|word| {
                    word.trim_matches(|c: char| {
                        matches!(c, '?' | '!' | ',' | ';' | '(' | ')' | '"' | '\'')
                    })
                    .trim_end_matches('.')
                    .to_lowercase()
                })
                .filter(|word| !word.is_empty())
                .map(|word| {
                    if word == "multi-az" || word == "multiaz" {
                        "multi-az".to_owned()
                    } else {
                        word
                    }
                })
                .collect();
        let used = vec![false; words.len()];
        Reader { words, used }
    }

    /// The group key named at `at` (`region`, `tag team`, `instance type`; with `any_word`,
    /// a plain word is a tag key, as in "per team") and the index of its last word.
    fn group_key(&self, at: usize, any_word: bool) -> Option<(GroupKey, usize)> {
        let word = self.words.get(at)?.as_str();
        if self.used[at] {
            return None;
        }
        if word == "tag" {
            let key = self.words.get(at + 1)?;
            return is_plain_word(key).then(|| (GroupKey::Tag(key.clone()), at + 1));
        }
        let key = match word {
            "account" | "accounts" => GroupKey::Account,
            "region" | "regions" => GroupKey::Region,
            "type" | "types" | "kind" | "kinds" | "service" | "services" => GroupKey::Type,
            "state" | "states" | "status" => GroupKey::State,
            "env" | "environment" | "environments" | "stage" => GroupKey::Environment,
            "engine" | "engines" => GroupKey::Attribute("engine".into()),
            "runtime" | "runtimes" => GroupKey::Attribute("runtime".into()),
            "instance" | "size" if self.words.get(at + 1).is_some_and(|w| w == "type") => {
                return Some((GroupKey::Attribute("instance_type".into()), at + 1));
            }
            other if any_word && is_plain_word(other) => {
                GroupKey::Tag(other.trim_end_matches('s').to_owned())
            }
            _ => return None,
        };
        Some((key, at))
    }

    /// Marks the first unread occurrence of `phrase`; whether there was one.
    fn take_phrase(&mut self, phrase: &[&str]) -> bool {
        self.find(phrase).map(|at| self.mark(at, phrase.len())).is_some()
    }

    fn find(&self, phrase: &[&str]) -> Option<usize> {
        (0..self.words.len()).find(|&at| {
            at + phrase.len() <= self.words.len()
                && phrase.iter().enumerate().all(|(offset, word)| {
                    !self.used[at + offset] && self.words[at + offset] == *word
                })
        })
    }

    fn mark(&mut self, at: usize, length: usize) {
        for used in &mut self.used[at..at + length] {
            *used = true;
        }
    }

    /// `phrase` followed by an age (`30 days`, `a week`, `2w`, `three months`): the days.
    fn take_age(&mut self, phrase: &[&str]) -> Option<f64> {
        let at = self.find(phrase)?;
        let after = at + phrase.len();
        let (days, length) = age(&self.words[after..])?;
        self.mark(at, phrase.len() + length);
        // "… ago", "… old".
        if let Some(next) = self.words.get(at + phrase.len() + length)
            && matches!(next.as_str(), "ago" | "old")
        {
            self.used[at + phrase.len() + length] = true;
        }
        Some(days)
    }
}

/// An age at the start of `words`: the days and how many words it took.
fn age(words: &[String]) -> Option<(f64, usize)> {
    let unit_days = |unit: &str| -> Option<f64> {
        match unit.trim_end_matches('s') {
            "d" | "day" => Some(1.0),
            "h" | "hour" => Some(1.0 / 24.0),
            "w" | "week" | "wk" => Some(7.0),
            "month" | "mo" => Some(30.0),
            "y" | "year" | "yr" => Some(365.0),
            _ => None,
        }
    };
    let first = words.first()?;
    // `30d`, `2w`.
    if let Some(split) = first.find(|c: char| c.is_ascii_alphabetic())
        && split > 0
        && let (Ok(number), Some(unit)) =
            (first[..split].parse::<f64>(), unit_days(&first[split..]))
    {
        return Some((number * unit, 1));
    }
    let number = match first.as_str() {
        "a" | "an" | "one" => 1.0,
        "two" => 2.0,
        "three" => 3.0,
        "four" => 4.0,
        "five" => 5.0,
        "six" => 6.0,
        "seven" => 7.0,
        "ten" => 10.0,
        "twelve" => 12.0,
        other => other.parse::<f64>().ok().filter(|n| n.is_finite() && *n >= 0.0)?,
    };
    let unit = unit_days(words.get(1)?)?;
    Some((number * unit, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> (String, Vec<String>, bool) {
        let question = read_question(text, &["staging".to_owned(), "production".to_owned()]);
        (
            question.request.describe(),
            question.request.group_by.iter().map(GroupKey::label).collect(),
            question.count,
        )
    }

    #[test]
    fn plural_and_quantified_mentions_read_as_the_whole_set() {
        let fleet = |text: &str| read_fleet(text, &[]).map(|read| read.request.describe());
        assert_eq!(
            fleet("stop all the orders-api servers in development").as_deref(),
            Some("type:ec2_instance env:development name:orders-api")
        );
        assert_eq!(
            fleet("reboot the checkout servers in staging").as_deref(),
            Some("type:ec2_instance env:staging name:checkout")
        );
        assert_eq!(
            fleet("turn off dev servers in us-east-1").as_deref(),
            Some("type:ec2_instance env:development region:us-east-1")
        );
        assert_eq!(
            fleet("start both reports databases").as_deref(),
            Some("type:rds_instance name:reports")
        );
        assert_eq!(
            fleet("resize all checkout servers to t3.large").as_deref(),
            Some("type:ec2_instance name:checkout")
        );
        assert_eq!(
            fleet("start every stopped instance in eu-west-1").as_deref(),
            Some("type:ec2_instance state:stopped region:eu-west-1")
        );
        // One resource: not a fleet.
        for one in ["Stop pg-instance-main1", "stop the rds instance reports-db", "reboot web-1"] {
            assert_eq!(fleet(one), None, "{one}");
        }
    }

    #[test]
    fn questions_become_the_queries_they_ask() {
        let cases: &[(&str, &str, &[&str], bool)] = &[
            (
                "how many load balancers are in eu-west-1?",
                "type:elb_load_balancer region:eu-west-1",
                &[],
                true,
            ),
            (
                "count the EC2 instances per region in development",
                "type:ec2_instance env:development",
                &["region"],
                true,
            ),
            (
                "how many databases have no backups?",
                "type:rds_instance automated_backups_enabled=false",
                &[],
                true,
            ),
            (
                "which databases are not backed up",
                "type:rds_instance automated_backups_enabled=false",
                &[],
                false,
            ),
            ("list instances without an owner tag", "type:ec2_instance -tag:owner", &[], false),
            ("which instances have no owner tag?", "type:ec2_instance -tag:owner", &[], false),
            (
                "list the stopped orders-api instances",
                "type:ec2_instance state:stopped name:orders-api",
                &[],
                false,
            ),
            ("buckets with a team tag per account", "type:s3_bucket tag:team", &["account"], false),
            (
                "instances stopped for more than a week",
                "type:ec2_instance seen>7d state:stopped",
                &[],
                false,
            ),
            ("how many buckets are older than 90 days", "type:s3_bucket created>90d", &[], true),
            (
                "show running instances by account and region",
                "type:ec2_instance state:running",
                &["account", "region"],
                false,
            ),
            (
                "how many instances are not running in production",
                "type:ec2_instance -state:running account:production",
                &[],
                true,
            ),
            (
                "how many checkout servers in staging",
                "type:ec2_instance account:staging name:checkout",
                &[],
                true,
            ),
            ("lambda functions on python3.8", "type:lambda_function runtime=python3.8", &[], false),
            (
                "how many postgres databases per engine",
                "type:rds_instance engine=postgres",
                &["engine"],
                true,
            ),
            ("count resources per team", "", &["tag:team"], true),
            (
                "which databases are single-az in staging",
                "type:rds_instance multi_az=false account:staging",
                &[],
                false,
            ),
            (
                "functions created in the last 2 weeks",
                "type:lambda_function created<14d",
                &[],
                false,
            ),
        ];
        for (text, query, groups, count) in cases {
            let (read_query, read_groups, read_count) = read(text);
            assert_eq!(read_query, *query, "{text}");
            assert_eq!(read_groups, *groups, "{text}");
            assert_eq!(read_count, *count, "{text}");
        }
    }

    #[test]
    fn a_question_about_one_resource_lists_it_instead_of_filtering_it_away() {
        let (query, _, count) = read("is pg-instance-main1 backed up?");
        assert!(!query.contains("automated_backups_enabled"), "{query}");
        assert!(query.contains("name:"), "{query}");
        assert!(!count);
        // Any text reads as some valid query.
        let long = format!("how many {} running per region", "verylongname ".repeat(60));
        let many = "running stopped pending stopping starting failed active ".repeat(8);
        let key = format!("without a {} tag", "k".repeat(300));
        for text in [
            "",
            "???",
            "per",
            "without tag",
            "older than",
            "for more than a fortnight",
            "\u{0}\u{7}",
            &long,
            &many,
            &key,
        ] {
            let question = read_question(text, &[]);
            assert!(question.request.validate().is_ok(), "{text:?}: {question:?}");
        }
    }
}
