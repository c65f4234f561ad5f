//! What of a resource gets indexed: its point id, words for the lexical index, exact keys,
//! filter values, and the short text that is embedded; and the filters both engines apply.
//!
//! One place decides this so the lexical and vector sides never disagree, and so the query
//! side can apply the very same word normalization.

use crate::model::Resource;
use crate::query::is_region_code;

/// Abbreviations operators and naming schemes use interchangeably; indexed both ways.
const SYNONYMS: &[(&str, &str)] = &[
    ("pg", "postgres"),
    ("postgresql", "postgres"),
    ("db", "database"),
    ("img", "image"),
    ("k8s", "kubernetes"),
    ("auth", "authentication"),
    ("cfg", "config"),
    ("msg", "message"),
    ("notif", "notification"),
    ("ci", "build"),
    ("cd", "deploy"),
    ("ml", "machine-learning"),
    ("tf", "terraform"),
    ("cdn", "static"),
    ("bastion", "jump"),
];

/// The derived, indexable view of one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexedText {
    /// Normalized words of the name: the strongest lexical signal.
    pub name_words: Vec<String>,
    /// Whole words of the id when it is not the name (`i`, `0abc12…`): as strong as the
    /// name, but indexed apart, so that a million instance ids do not swell the dictionary
    /// that typo and prefix searches walk for every name word.
    pub id_words: Vec<String>,
    /// Normalized words of everything else worth matching: tags, attributes, type synonyms,
    /// account, region, environment, description.
    pub other_words: Vec<String>,
    /// Lowercased values that match exactly: ARN, id, name.
    pub exact: Vec<String>,
    /// The text given to the embedder: short, and free of serial numbers so that numbered
    /// siblings share one embedding.
    pub embed_text: String,
}

/// The point id of a resource, in both engines: the first 8 bytes of the BLAKE3 hash of its
/// ARN. Stored points are keyed by it, so it must never change.
pub(crate) fn point_id(arn: &str) -> u64 {
    let hash = blake3::hash(arn.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_le_bytes(bytes)
}

/// The filter values of a resource, shared by both engines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FilterValues {
    pub resource_type: String,
    /// Account name and account id, lowercased.
    pub accounts: Vec<String>,
    /// The region and its family prefix (`eu-`).
    pub regions: Vec<String>,
    pub environment: Option<String>,
    /// `key=value`, lowercased.
    pub tags: Vec<String>,
    pub state: String,
    /// The account id and name as written, counted together by the estate's facets.
    pub account: (String, String),
    /// The tag keys as written, counted by the estate's facets (filters use `tags`).
    pub tag_keys: Vec<String>,
    /// What structured queries sort, compare and group by.
    pub columns: Columns,
}

/// A resource's values for structured queries ([`crate::QueryRequest`]): read from the
/// index's columns to count and group without decoding resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Columns {
    /// The name (else the id), lowercased: the listing's order.
    pub name: String,
    /// The account's name, else its id: the `account` group.
    pub account: String,
    pub region: String,
    /// Tags, keys and values lowercased.
    pub tags: serde_json::Map<String, serde_json::Value>,
    /// Scalar attributes and derived constraints: strings lowercased, numbers as floats,
    /// booleans.
    pub attributes: serde_json::Map<String, serde_json::Value>,
    /// [`Resource::last_seen`], in seconds since the epoch.
    pub last_seen: Option<i64>,
    /// When it was created or launched, in seconds since the epoch.
    pub created: Option<i64>,
}

/// Attributes that say when a resource was created or launched, in order of preference.
pub(crate) const CREATED_ATTRIBUTES: [&str; 4] =
    ["launch_time", "creation_date", "instance_create_time", "create_time"];

impl Columns {
    fn of(resource: &Resource) -> Self {
        let scalar = |value: &serde_json::Value| -> Option<serde_json::Value> {
            match value {
                serde_json::Value::String(text) => Some(text.to_lowercase().into()),
                serde_json::Value::Bool(flag) => Some((*flag).into()),
                serde_json::Value::Number(number) => number.as_f64().map(Into::into),
                _ => None,
            }
        };
        let mut attributes = serde_json::Map::new();
        for (name, value) in &resource.attributes {
            if let Some(value) = scalar(value) {
                attributes.insert(name.to_lowercase(), value);
            }
        }
        if let Ok(serde_json::Value::Object(constraints)) =
            serde_json::to_value(&resource.constraints)
        {
            for (name, value) in &constraints {
                if let Some(value) = scalar(value) {
                    attributes.entry(name.to_lowercase()).or_insert(value);
                }
            }
        }
        let seconds = |text: &str| -> Option<i64> {
            let time = crate::time::parse_rfc3339(text)?;
            let since = time.duration_since(std::time::UNIX_EPOCH).ok()?;
            i64::try_from(since.as_secs()).ok()
        };
        let created = CREATED_ATTRIBUTES
            .iter()
            .find_map(|name| resource.attribute_str(name).and_then(seconds));
        Columns {
            name: if resource.name.is_empty() { &resource.id } else { &resource.name }
                .to_lowercase(),
            account: if resource.account_name.is_empty() {
                resource.account_id.clone()
            } else {
                resource.account_name.clone()
            },
            region: resource.region.to_lowercase(),
            tags: resource
                .tags
                .iter()
                .map(|(key, value)| (key.to_lowercase(), value.to_lowercase().into()))
                .collect(),
            attributes,
            last_seen: seconds(&resource.last_seen),
            created,
        }
    }
}

/// Filters, as values of the filter fields of [`FilterValues`]; within a field values are
/// alternatives, across fields all must hold. Both engines apply them.
#[derive(Debug, Default, Clone)]
pub(crate) struct LexicalFilter {
    pub resource_types: Vec<String>,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub environments: Vec<String>,
    /// Each `key=value` must hold.
    pub tags: Vec<String>,
    /// Lowercased states.
    pub states: Vec<String>,
}

/// Splits `text` into normalized words: lowercase alphanumeric runs, plus their letter/digit
/// parts (`main1` → `main1`, `main`, `1`), numbers without leading zeros (`07` → `7`), and
/// singular forms (`dumps` → `dump`). Query words go through the same function.
pub(crate) fn normalize_words(text: &str, out: &mut Vec<String>) {
    split_words(text, true, out);
}

/// Whole alphanumeric runs only, for machine identifiers and attribute values (`i-0abc12`,
/// `m5.xlarge`): their digit fragments mean nothing and would match serial numbers.
fn whole_words(text: &str, out: &mut Vec<String>) {
    split_words(text, false, out);
}

fn split_words(text: &str, derive: bool, out: &mut Vec<String>) {
    for raw in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        let word = raw.to_lowercase();
        if word.chars().count() > 64 {
            continue;
        }
        if !derive {
            out.push(word);
            continue;
        }
        push_word(out, &word);
        let parts = split_letters_digits(&word);
        if parts.len() > 1 {
            for part in parts {
                push_word(out, part);
            }
        }
    }
}

/// The words of `text` as typed: lowercase alphanumeric runs, numbers without leading
/// zeros (`07` → `7`), nothing derived. What the query's coverage is counted in.
pub(crate) fn typed_words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|word| {
        if word.chars().all(|c| c.is_ascii_digit()) {
            canonical_number(word).to_owned()
        } else {
            word.to_lowercase()
        }
    })
}

/// The words a query term is searched and ranked by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct TermWords {
    /// Normalized words, with derived forms, for candidate search.
    pub search: Vec<String>,
    /// The words as typed, which coverage is counted in.
    pub typed: Vec<String>,
    /// Whether the term is a machine identifier (an ARN or an AWS id), which has no meaning
    /// to embed.
    pub identifier: bool,
}

/// Resource-type prefixes of an ARN's resource part (`instance/i-…`, `db:…`,
/// `loadbalancer/app/…`): every resource of the type has them.
const ARN_KINDS: &[&str] = &["instance", "db", "function", "loadbalancer", "app", "net", "cluster"];

/// The words of a query term. A machine identifier that reaches word search matched no
/// resource exactly (the ARN or id of something the estate does not hold, or a mistyped
/// one), so only its distinctive parts are searched: of an AWS id its serial, of an ARN the
/// names and ids of its resource part. Their fragments (`i`, `0`, `abc`, `aws`, the account
/// number, `instance`) would match most of the estate and bury a near miss.
pub(crate) fn term_words(term: &str) -> TermWords {
    let lower = term.to_lowercase();
    let mut words = TermWords::default();
    if let Some(rest) = lower.strip_prefix("arn:") {
        words.identifier = true;
        // arn:partition:service:region:account:resource
        let resource = rest.splitn(5, ':').nth(4).unwrap_or_default();
        let segments = resource
            .split([':', '/'])
            .filter(|segment| !segment.is_empty())
            .skip_while(|segment| ARN_KINDS.contains(segment));
        for segment in segments {
            if is_machine_id(segment) {
                push_serial(segment, &mut words);
            } else {
                normalize_words(segment, &mut words.search);
                words.typed.extend(typed_words(segment));
            }
        }
    } else if is_machine_id(&lower) {
        words.identifier = true;
        push_serial(&lower, &mut words);
    } else {
        normalize_words(term, &mut words.search);
        words.typed.extend(typed_words(term));
    }
    words
}

fn push_serial(id: &str, words: &mut TermWords) {
    if let Some((_, serial)) = id.split_once('-') {
        words.search.push(serial.to_owned());
        words.typed.push(serial.to_owned());
    }
}

/// Prefixes of AWS resource ids (`i-0466716562…`, `vol-…`).
const ID_PREFIXES: &[&str] = &[
    "i", "vol", "snap", "ami", "sg", "subnet", "vpc", "eni", "igw", "rtb", "acl", "nat",
    "eipalloc", "lt", "db", "r", "fs", "tgw", "vpce", "pcx", "cluster",
];

/// An AWS-style id: a short lowercase prefix, a dash, and a hexadecimal serial of at least
/// eight characters with digits (`i-0abc12de34`, `vol-…`, `subnet-…`). A serial without
/// letters counts only after a known id prefix: `web-20241231` is a name.
fn is_machine_id(text: &str) -> bool {
    let Some((prefix, serial)) = text.split_once('-') else {
        return false;
    };
    (1..=12).contains(&prefix.len())
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && serial.len() >= 8
        && serial.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && serial.bytes().any(|b| b.is_ascii_digit())
        && (serial.bytes().any(|b| b.is_ascii_alphabetic()) || ID_PREFIXES.contains(&prefix))
}

/// `007` → `7`, `0` → `0`.
fn canonical_number(digits: &str) -> &str {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.is_empty() { "0" } else { trimmed }
}

fn push_word(out: &mut Vec<String>, word: &str) {
    if word.chars().all(|c| c.is_ascii_digit()) {
        let number = canonical_number(word);
        out.push(number.to_owned());
        if number != word {
            out.push(word.to_owned());
        }
        return;
    }
    out.push(word.to_owned());
    if let Some(stem) = singular(word) {
        out.push(stem.to_owned());
    }
}

/// Words ending in `s` that are not plurals.
const NOT_PLURAL: &[&str] = &[
    "postgres",
    "redis",
    "analytics",
    "kubernetes",
    "status",
    "https",
    "series",
    "always",
    "aws",
    "dns",
    "kms",
    "sqs",
    "sns",
    "ecs",
    "eks",
    "efs",
];

fn singular(word: &str) -> Option<&str> {
    if NOT_PLURAL.contains(&word) {
        return None;
    }
    if word.len() > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        Some(&word[..word.len() - 1])
    } else {
        None
    }
}

/// `main1` → [`main`, `1`]; `0abc12` → [`0`, `abc`, `12`]. Only ASCII letter/digit runs.
fn split_letters_digits(word: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = word.as_bytes();
    for index in 1..bytes.len() {
        let boundary = bytes[index].is_ascii_digit() != bytes[index - 1].is_ascii_digit();
        if boundary && word.is_char_boundary(index) {
            parts.push(&word[start..index]);
            start = index;
        }
    }
    parts.push(&word[start..]);
    parts
}

/// Adds the synonyms of the words already in `words`.
fn expand_synonyms(words: &mut Vec<String>) {
    let mut extra = Vec::new();
    for word in words.iter() {
        for (left, right) in SYNONYMS {
            if word == left {
                normalize_words(right, &mut extra);
            } else if word == right {
                extra.push((*left).to_owned());
            }
        }
    }
    words.extend(extra);
}

fn dedup(words: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    words.retain(|word| seen.insert(word.clone()));
}

const DESCRIPTIVE_TAGS: &[&str] =
    &["app", "application", "service", "purpose", "role", "component"];

impl IndexedText {
    pub(crate) fn of(resource: &Resource) -> Self {
        let mut name_words = Vec::new();
        normalize_words(&resource.name, &mut name_words);
        dedup(&mut name_words);
        let mut id_words = Vec::new();
        if resource.id != resource.name {
            whole_words(&resource.id, &mut id_words);
            id_words.retain(|word| !name_words.contains(word));
            dedup(&mut id_words);
        }

        let mut other_words = Vec::new();
        for synonym in resource.resource_type.synonyms() {
            other_words.push((*synonym).to_owned());
        }
        for (key, value) in &resource.tags {
            if key.eq_ignore_ascii_case("name") {
                continue;
            }
            normalize_words(value, &mut other_words);
        }
        if let Some(description) = resource.attribute_str("description") {
            normalize_words(description, &mut other_words);
        }
        for key in ["engine", "runtime", "instance_type", "instance_class", "type"] {
            if let Some(value) = resource.attribute_str(key) {
                whole_words(value, &mut other_words);
            }
        }
        // Regions are scopes, matched by filters; their digits would match serial numbers.
        normalize_words(&resource.account_name, &mut other_words);
        if let Some(environment) = resource.environment() {
            other_words.push(environment);
        }
        let mut expanded_names = name_words.clone();
        expand_synonyms(&mut expanded_names);
        other_words.extend(expanded_names.into_iter().skip(name_words.len()));
        expand_synonyms(&mut other_words);
        dedup(&mut other_words);

        let mut exact = vec![resource.arn.to_lowercase(), resource.id.to_lowercase()];
        if !resource.name.is_empty() {
            exact.push(resource.name.to_lowercase());
        }
        dedup(&mut exact);

        IndexedText { name_words, id_words, other_words, exact, embed_text: embed_text(resource) }
    }
}

/// The short description embedded for `resource`, e.g.
/// `database pg instance main. app main. postgres. production`.
fn embed_text(resource: &Resource) -> String {
    let kind = resource.resource_type.synonyms().get(1).copied().unwrap_or("resource");
    let mut parts = vec![format!("{kind} {}", without_serials(&resource.name))];
    for key in DESCRIPTIVE_TAGS {
        if let Some(value) = resource.tags.get(*key) {
            parts.push(format!("{key} {}", value.replace(['-', '_'], " ")));
        }
    }
    for key in ["engine", "description"] {
        if let Some(value) = resource.attribute_str(key) {
            parts.push(value.chars().take(160).collect());
        }
    }
    if let Some(environment) = resource.environment() {
        parts.push(environment);
    }
    parts.join(". ")
}

/// `checkout-web-prod-usw2-07` → `checkout web prod usw2`; `pg-instance-main1` →
/// `pg instance main`.
fn without_serials(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty() && !word.chars().all(|c| c.is_ascii_digit()))
        .filter(|word| !is_region_code(word))
        .map(|word| word.trim_end_matches(|c: char| c.is_ascii_digit()))
        .collect::<Vec<_>>()
        .join(" ")
}

impl FilterValues {
    pub(crate) fn of(resource: &Resource) -> Self {
        let mut accounts = vec![resource.account_id.to_lowercase()];
        if !resource.account_name.is_empty() {
            accounts.push(resource.account_name.to_lowercase());
        }
        let mut regions = vec![resource.region.to_lowercase()];
        if let Some((family, _)) = resource.region.split_once('-') {
            regions.push(format!("{}-", family.to_lowercase()));
        }
        let tags = resource
            .tags
            .iter()
            .map(|(key, value)| format!("{}={}", key.to_lowercase(), value.to_lowercase()))
            .collect();
        FilterValues {
            resource_type: resource.resource_type.as_str().to_owned(),
            accounts,
            regions,
            environment: resource.environment(),
            tags,
            state: resource.state.to_lowercase(),
            account: (resource.account_id.clone(), resource.account_name.clone()),
            tag_keys: resource.tags.keys().cloned().collect(),
            columns: Columns::of(resource),
        }
    }
}

/// An EC2 instance `name` in `account` (id, name), in us-west-2, for tests.
#[cfg(test)]
pub(crate) fn sample_resource(
    name: &str,
    state: &str,
    account: (&str, &str),
    tags: &[(&str, &str)],
) -> Resource {
    let tags: std::collections::BTreeMap<&str, &str> = tags.iter().copied().collect();
    serde_json::from_value(serde_json::json!({
        "arn": format!("arn:aws:ec2:us-west-2:{}:instance/{name}", account.0),
        "resource_type": "ec2_instance",
        "id": name,
        "name": name,
        "account_id": account.0,
        "account_name": account.1,
        "region": "us-west-2",
        "state": state,
        "tags": tags,
    }))
    .expect("valid resource")
}

#[cfg(test)]
mod tests {
    use super::*;

    const POINT_ID_1: u64 = 0xd304_1ec8_2d9b_12ff;
    /// BLAKE3 of nothing starts with `af 13 49 b9 f5 f9 a1 a6`.
    const POINT_ID_EMPTY: u64 = 0xa6a1_f9f5_b949_13af;

    #[test]
    fn point_ids_never_change() {
        // Stored points are keyed by these: a change would orphan every estate on disk.
        assert_eq!(point_id("arn:aws:ec2:us-west-2:123456789012:instance/i-0abc"), POINT_ID_1);
        assert_eq!(point_id(""), POINT_ID_EMPTY);
        assert_ne!(point_id("a"), point_id("A"));
    }

    #[test]
    fn filter_values_are_lowercased_and_facet_values_kept_as_written() {
        let resource = sample_resource(
            "Web-1",
            "Running",
            ("111111111111", "Sandbox"),
            &[("Team", "Data"), ("owner", "Alice Smith")],
        );
        let values = FilterValues::of(&resource);
        assert_eq!(values.resource_type, "ec2_instance");
        assert_eq!(values.accounts, ["111111111111", "sandbox"]);
        assert_eq!(values.regions, ["us-west-2", "us-"]);
        assert_eq!(values.tags, ["team=data", "owner=alice smith"]);
        assert_eq!(values.state, "running");
        assert_eq!(values.account, ("111111111111".to_owned(), "Sandbox".to_owned()));
        assert_eq!(values.tag_keys, ["Team", "owner"]);
    }

    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        normalize_words(text, &mut out);
        out
    }

    #[test]
    fn normalization() {
        assert_eq!(words("pg-instance-main1"), ["pg", "instance", "main1", "main", "1"]);
        assert_eq!(words("web-07"), ["web", "7", "07"]);
        assert_eq!(words("Postgres DUMPS"), ["postgres", "dumps", "dump"]);
        assert_eq!(words("i-0abc12"), ["i", "0abc12", "0", "abc", "12"]);
        let mut whole = Vec::new();
        whole_words("i-0abc12 m5.xlarge", &mut whole);
        assert_eq!(whole, ["i", "0abc12", "m5", "xlarge"]);
        assert_eq!(words("ünïcödé-日本"), ["ünïcödé", "日本"]);
    }

    #[test]
    fn identifiers_keep_their_distinctive_words() {
        let id = term_words("i-0A1b2c3d4e5f67890");
        assert!(id.identifier);
        assert_eq!(id.search, ["0a1b2c3d4e5f67890"]);
        assert_eq!(id.typed, ["0a1b2c3d4e5f67890"]);
        let rds = term_words("arn:aws:rds:us-east-1:123456789012:db:pg-instance-main9");
        assert!(rds.identifier);
        assert_eq!(rds.search, ["pg", "instance", "main9", "main", "9"]);
        assert_eq!(rds.typed, ["pg", "instance", "main9"]);
        let elb = term_words(
            "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop-alb/50dc6c495c0c9188",
        );
        assert_eq!(elb.typed, ["shop", "alb", "50dc6c495c0c9188"]);
        assert!(term_words("i-0466716562").identifier, "an id prefix of digits only");
        let ec2 = term_words("arn:aws:ec2:us-west-2:123456789012:instance/i-0abc12345678");
        assert_eq!(ec2.search, ["0abc12345678"]);
        assert_eq!(term_words("arn:"), TermWords { identifier: true, ..TermWords::default() });
        // Names are not identifiers, even with a number or a hex-looking word.
        for name in ["pg-instance-main1", "web-20241231", "cafe-deadbeef", "checkout-web-07"] {
            let words = term_words(name);
            assert!(!words.identifier, "{name}");
            assert_eq!(words.typed, typed_words(name).collect::<Vec<_>>());
        }
    }

    #[test]
    fn serials_are_dropped_from_embedded_names() {
        assert_eq!(without_serials("checkout-web-prod-usw2-07"), "checkout web prod usw");
        assert_eq!(without_serials("pg-instance-main1"), "pg instance main");
        assert_eq!(without_serials("acme-logs-prod-us-west-2"), "acme logs prod us west");
    }
}
