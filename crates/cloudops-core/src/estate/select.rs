//! Structured queries: counts, groups and listings from the index's columns.

use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::Estate;
use crate::document::point_id;
use crate::error::Result;
use crate::filters::{Group, QueryRequest, QueryResponse};

impl Estate {
    /// Answers a structured query: every match counted (and grouped by up to two keys),
    /// and the first `request.limit` listed in the requested order. Counts never read the
    /// resources; only the listed ones are decoded. Ages are measured from now.
    ///
    /// ```
    /// use cloudops_core::{Estate, EstateConfig, GroupKey, QueryRequest};
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let directory = tempfile::tempdir()?;
    /// let estate = Estate::open(directory.path(), EstateConfig::default())?;
    /// let mut request = QueryRequest::parse("type:ec2_instance -state:terminated")?;
    /// request.group_by = vec![GroupKey::Region];
    /// let answer = estate.query(&request)?;
    /// assert_eq!(answer.total, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn query(&self, request: &QueryRequest) -> Result<QueryResponse> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        self.query_at(request, now)
    }

    /// Reads a question about the estate as a query ([`crate::read_question`]), with the
    /// account names the estate knows.
    pub fn read_question(&self, question: &str) -> Result<crate::QuestionQuery> {
        let account_names = self
            .account_names
            .read()
            .map_err(|_| crate::Error::Index("account names lock poisoned".into()))?
            .clone();
        Ok(crate::read_question(question, &account_names))
    }

    /// [`Estate::query`] with ages measured from `now` (seconds since the epoch).
    pub fn query_at(&self, request: &QueryRequest, now: i64) -> Result<QueryResponse> {
        request.validate()?;
        let clock = Instant::now();
        let selection = self.read_lexical()?.select(request, now)?;
        let ids: Vec<u64> = selection.arns.iter().map(|arn| point_id(arn)).collect();
        let mut found: HashMap<String, crate::Resource> = self
            .vectors
            .get(&ids, false)?
            .into_iter()
            .map(|point| (point.resource.arn.clone(), point.resource))
            .collect();
        let results = selection.arns.iter().filter_map(|arn| found.remove(arn)).collect();
        let labels: Vec<String> = request.group_by.iter().map(|key| key.label()).collect();
        let groups = selection
            .groups
            .into_iter()
            .map(|(values, count)| Group {
                key: labels.iter().cloned().zip(values).collect(),
                count,
            })
            .collect();
        Ok(QueryResponse {
            total: selection.total,
            groups,
            results,
            took_us: u64::try_from(clock.elapsed().as_micros()).unwrap_or(u64::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::filters::{GroupKey, NO_VALUE, QueryRequest, Sort};
    use crate::{Estate, EstateConfig, Resource};

    const NOW: i64 = 1_790_000_000; // 2026-09-21
    const DAY: i64 = 86_400;

    fn at(seconds: i64) -> String {
        crate::time::rfc3339(std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds as u64))
    }

    #[allow(clippy::too_many_arguments)]
    fn resource(
        name: &str,
        kind: &str,
        account: &str,
        region: &str,
        state: &str,
        tags: serde_json::Value,
        attributes: serde_json::Value,
        created_days_ago: i64,
    ) -> Resource {
        serde_json::from_value(serde_json::json!({
            "arn": format!("arn:aws:{kind}:{region}:111111111111:{name}"),
            "resource_type": kind,
            "id": name,
            "name": name,
            "account_id": "111111111111",
            "account_name": account,
            "region": region,
            "state": state,
            "tags": tags,
            "attributes": attributes,
            "constraints": { "automated_backups_enabled": !name.contains("nobackup") },
            "last_seen": at(NOW - created_days_ago.min(3) * DAY),
        }))
        .map(|mut r: Resource| {
            if kind == "ec2_instance" {
                r.attributes.insert("launch_time".into(), at(NOW - created_days_ago * DAY).into());
            }
            r
        })
        .expect("resource")
    }

    fn estate() -> (tempfile::TempDir, Estate) {
        let directory = tempfile::tempdir().expect("tempdir");
        let estate = Estate::open(directory.path(), EstateConfig::default()).expect("estate");
        estate
            .upsert(&[
                resource(
                    "web-1",
                    "ec2_instance",
                    "staging",
                    "eu-west-1",
                    "running",
                    json!({"env": "staging", "team": "Web"}),
                    json!({"instance_type": "t3.small"}),
                    40,
                ),
                resource(
                    "web-2",
                    "ec2_instance",
                    "staging",
                    "eu-west-1",
                    "stopped",
                    json!({"env": "staging", "team": "web"}),
                    json!({"instance_type": "t3.small"}),
                    10,
                ),
                resource(
                    "web-3",
                    "ec2_instance",
                    "production",
                    "us-east-1",
                    "running",
                    json!({"env": "prod", "team": "web", "owner": "ana"}),
                    json!({"instance_type": "m5.large"}),
                    400,
                ),
                resource(
                    "batch-1",
                    "ec2_instance",
                    "production",
                    "us-east-1",
                    "running",
                    json!({"env": "prod", "kubernetes.io/cluster": "main"}),
                    json!({"instance_type": "c5.xlarge"}),
                    2,
                ),
                resource(
                    "pg-main",
                    "rds_instance",
                    "production",
                    "us-east-1",
                    "available",
                    json!({"env": "prod", "owner": "db"}),
                    json!({"engine": "postgres", "multi_az": true, "backup_retention_period": 7}),
                    100,
                ),
                resource(
                    "pg-nobackup",
                    "rds_instance",
                    "staging",
                    "eu-west-1",
                    "available",
                    json!({"env": "staging"}),
                    json!({"engine": "postgres", "multi_az": false, "backup_retention_period": 0}),
                    100,
                ),
                resource(
                    "my-nobackup",
                    "rds_instance",
                    "staging",
                    "eu-west-1",
                    "stopped",
                    json!({}),
                    json!({"engine": "mysql", "multi_az": false, "backup_retention_period": 1}),
                    100,
                ),
            ])
            .expect("upsert");
        (directory, estate)
    }

    fn ask(estate: &Estate, text: &str, group_by: &[&str]) -> crate::QueryResponse {
        let mut request = QueryRequest::parse(text).expect("query");
        request.group_by = group_by.iter().map(|k| GroupKey::parse(k).expect("key")).collect();
        request.limit = 100;
        estate.query_at(&request, NOW).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn names(response: &crate::QueryResponse) -> Vec<&str> {
        response.results.iter().map(|r| r.name.as_str()).collect()
    }

    #[test]
    fn filters_select_exactly_and_negation_inverts_each() {
        let (_d, estate) = estate();
        assert_eq!(ask(&estate, "", &[]).total, 7);
        assert_eq!(
            names(&ask(&estate, "type:ec2_instance state:running", &[])),
            ["batch-1", "web-1", "web-3"]
        );
        assert_eq!(names(&ask(&estate, "type:ec2_instance -state:running", &[])), ["web-2"]);
        assert_eq!(ask(&estate, "account:staging", &[]).total, 4);
        assert_eq!(ask(&estate, "account:111111111111 region:us-east-1", &[]).total, 3);
        assert_eq!(ask(&estate, "region:eu-", &[]).total, 4);
        assert_eq!(ask(&estate, "env:production", &[]).total, 3);
        assert_eq!(names(&ask(&estate, "tag:team=WEB -state:stopped", &[])), ["web-1", "web-3"]);
        assert_eq!(names(&ask(&estate, "tag:owner", &[])), ["pg-main", "web-3"]);
        assert_eq!(ask(&estate, "-tag:owner", &[]).total, 5);
        assert_eq!(names(&ask(&estate, "tag:kubernetes.io/cluster", &[])), ["batch-1"]);
        assert_eq!(names(&ask(&estate, "engine=POSTGRES", &[])), ["pg-main", "pg-nobackup"]);
        assert_eq!(
            names(&ask(&estate, "type:rds_instance multi_az=false", &[])),
            ["my-nobackup", "pg-nobackup"]
        );
        assert_eq!(names(&ask(&estate, "backup_retention_period<1", &[])), ["pg-nobackup"]);
        assert_eq!(
            names(&ask(&estate, "backup_retention_period>=1", &[])),
            ["my-nobackup", "pg-main"]
        );
        assert_eq!(
            names(&ask(&estate, "automated_backups_enabled=false", &[])),
            ["my-nobackup", "pg-nobackup"]
        );
        assert_eq!(names(&ask(&estate, "created>30d", &[])), ["web-1", "web-3"]);
        assert_eq!(
            names(&ask(&estate, "type:ec2_instance -created>30d", &[])),
            ["batch-1", "web-2"]
        );
        assert_eq!(ask(&estate, "seen<1d", &[]).total, 0);
        assert_eq!(names(&ask(&estate, "seen<2.5d", &[])), ["batch-1"]);
        assert_eq!(names(&ask(&estate, "name:web", &[])), ["web-1", "web-2", "web-3"]);
        assert_eq!(names(&ask(&estate, "name:\"PG main\"", &[])), ["pg-main"]);
        assert_eq!(names(&ask(&estate, "name:web -name:web-3", &[])), ["web-1", "web-2"]);
        assert_eq!(
            names(&ask(&estate, "(engine=mysql|tag:owner=ana)", &[])),
            ["my-nobackup", "web-3"]
        );
        assert_eq!(ask(&estate, "(-tag:owner|-tag:team)", &[]).total, 6);
        assert_eq!(
            names(&ask(&estate, "type:ec2_instance -(state:running|name:web-3)", &[])),
            ["web-2"]
        );
        assert_eq!(ask(&estate, "engine=oracle", &[]).total, 0);
        assert_eq!(ask(&estate, "-engine=oracle", &[]).total, 7);
    }

    #[test]
    fn counts_and_groups_cover_every_match_and_listings_are_limited_and_sorted() {
        let (_d, estate) = estate();
        let by_region = ask(&estate, "", &["region"]);
        let groups: Vec<(String, usize)> =
            by_region.groups.iter().map(|g| (g.key["region"].clone(), g.count)).collect();
        assert_eq!(groups, [("eu-west-1".to_owned(), 4), ("us-east-1".to_owned(), 3)]);

        let two = ask(&estate, "type:ec2_instance", &["account", "state"]);
        let total: usize = two.groups.iter().map(|g| g.count).sum();
        assert_eq!(total, two.total);
        assert!(two.groups.iter().any(|g| g.key["account"] == "production"
            && g.key["state"] == "running"
            && g.count == 2));

        let by_owner = ask(&estate, "", &["tag:owner"]);
        let none =
            by_owner.groups.iter().find(|g| g.key["tag:owner"] == NO_VALUE).expect("no owner");
        assert_eq!(none.count, 5);
        let by_retention = ask(&estate, "type:rds_instance", &["backup_retention_period"]);
        let keys: Vec<&str> =
            by_retention.groups.iter().map(|g| g.key["backup_retention_period"].as_str()).collect();
        assert_eq!(keys.len(), 3, "{by_retention:?}");
        assert!(keys.contains(&"7") && keys.contains(&"0"), "{keys:?}");

        let mut request = QueryRequest::parse("type:ec2_instance").expect("query");
        request.limit = 2;
        let limited = estate.query_at(&request, NOW).expect("limited");
        assert_eq!((limited.total, limited.results.len()), (4, 2));
        request.sort = Sort::Created;
        request.limit = 4;
        let oldest = estate.query_at(&request, NOW).expect("oldest");
        assert_eq!(names(&oldest), ["web-3", "web-1", "web-2", "batch-1"]);
        request.limit = 0;
        let counted = estate.query_at(&request, NOW).expect("count");
        assert_eq!((counted.total, counted.results.len()), (4, 0));
    }
}
