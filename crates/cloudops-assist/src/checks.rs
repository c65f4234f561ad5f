//! Saved checks: named questions operators ask again and again, answered from the synced
//! estate like any other query ([`crate::answer_query`]), each with what it looks for.

use cloudops_core::{
    ClientConfig, Condition, DEPRECATED_RUNTIMES, Filter, QueryRequest, ResourceType,
};
use serde::Serialize;

use crate::error::{Error, Result};

/// One saved check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Its name (`no-backups`).
    pub name: String,
    /// What it lists, in a sentence.
    pub title: String,
    /// The query it runs.
    pub request: QueryRequest,
}

/// The names of the saved checks.
pub const CHECKS: [&str; 6] = [
    "no-backups",
    "public-databases",
    "public-buckets",
    "missing-tags",
    "stopped-instances",
    "deprecated-runtimes",
];

/// The check `name`, configured by `config`'s `[checks]` (`days` overrides
/// `stopped_days`).
pub fn check(config: &ClientConfig, name: &str, days: Option<u32>) -> Result<Check> {
    let section = &config.checks;
    let parse = |text: &str| QueryRequest::parse(text).map_err(Error::from);
    let (title, request) = match name {
        "no-backups" => (
            "Databases without automated backups".to_owned(),
            parse("type:rds_instance automated_backups_enabled=false")?,
        ),
        "public-databases" => (
            "Databases reachable from the internet (publicly accessible)".to_owned(),
            parse("type:rds_instance publicly_accessible=true")?,
        ),
        "public-buckets" => (
            "Buckets without a complete public access block".to_owned(),
            parse("type:s3_bucket public_access_blocked=false")?,
        ),
        "missing-tags" => {
            let tags = &section.required_tags;
            if tags.is_empty() {
                return Err(Error::Config(
                    "no required tags: set [checks] required_tags in config.toml".into(),
                ));
            }
            let missing = tags
                .iter()
                .map(|key| Filter {
                    condition: Condition::Tag { key: key.clone(), value: None },
                    negated: true,
                })
                .collect();
            (
                format!("Resources missing a required tag ({})", tags.join(", ")),
                QueryRequest {
                    filters: vec![Filter::holds(Condition::AnyOf { filters: missing })],
                    ..QueryRequest::default()
                },
            )
        }
        "stopped-instances" => {
            let days = days.unwrap_or(section.stopped_days);
            (
                format!(
                    "Instances stopped for more than {days} days (since a sync first saw them stopped)"
                ),
                parse(&format!("type:ec2_instance state:stopped seen>{days}d"))?,
            )
        }
        "deprecated-runtimes" => {
            let runtimes: Vec<String> = if section.deprecated_runtimes.is_empty() {
                DEPRECATED_RUNTIMES.iter().map(|r| (*r).to_owned()).collect()
            } else {
                section.deprecated_runtimes.clone()
            };
            let alternatives = runtimes
                .iter()
                .map(|runtime| {
                    Filter::holds(Condition::Attribute {
                        name: "runtime".into(),
                        op: cloudops_core::Comparison::Eq,
                        value: runtime.clone().into(),
                    })
                })
                .collect();
            (
                "Lambda functions on deprecated runtimes".to_owned(),
                QueryRequest {
                    filters: vec![
                        Filter::holds(Condition::Type { value: ResourceType::LambdaFunction }),
                        Filter::holds(Condition::AnyOf { filters: alternatives }),
                    ],
                    ..QueryRequest::default()
                },
            )
        }
        other => {
            return Err(Error::Index(cloudops_core::Error::InvalidInput(format!(
                "no check {other:?}; the checks are: {}",
                CHECKS.join(", ")
            ))));
        }
    };
    request.validate()?;
    Ok(Check { name: name.to_owned(), title, request })
}

/// The saved check a question asks for, if one does ("which functions run deprecated
/// runtimes?", "publicly accessible databases", "resources missing required tags").
pub fn check_for_question(question: &str) -> Option<&'static str> {
    let lower = question.to_lowercase();
    let has = |words: &[&str]| words.iter().all(|word| lower.contains(word));
    if has(&["deprecated"]) && (has(&["runtime"]) || has(&["lambda"]) || has(&["function"])) {
        Some("deprecated-runtimes")
    } else if has(&["public"]) && (has(&["database"]) || has(&["rds"]) || has(&["db"])) {
        Some("public-databases")
    } else if has(&["public"]) && has(&["bucket"]) {
        Some("public-buckets")
    } else if has(&["required", "tag"]) {
        Some("missing-tags")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_check_is_a_valid_query_and_questions_find_theirs() {
        let config = ClientConfig::default();
        for name in CHECKS {
            let check = check(&config, name, None).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!check.request.filters.is_empty(), "{name}");
            let text = check.request.describe();
            assert_eq!(
                QueryRequest::parse(&text).expect("round trip").filters,
                check.request.filters,
                "{name}: {text}"
            );
        }
        assert!(
            check(&config, "stopped-instances", Some(30))
                .expect("30")
                .request
                .describe()
                .contains("seen>30d")
        );
        assert!(check(&config, "nothing", None).is_err());
        let mut none = ClientConfig::default();
        none.checks.required_tags.clear();
        assert!(check(&none, "missing-tags", None).is_err());
        assert_eq!(
            check_for_question("which Lambda functions run deprecated runtimes?"),
            Some("deprecated-runtimes")
        );
        assert_eq!(
            check_for_question("how many publicly accessible databases are there"),
            Some("public-databases")
        );
        assert_eq!(check_for_question("list buckets open to the public"), Some("public-buckets"));
        assert_eq!(
            check_for_question("resources missing required tags per account"),
            Some("missing-tags")
        );
        assert_eq!(check_for_question("how many databases have no backups?"), None);
    }
}
