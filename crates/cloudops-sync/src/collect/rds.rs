//! RDS DB instances: DescribeDBInstances, every page, with read replicas and their source.

use std::collections::BTreeSet;

use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_sdk_rds::types::DbInstance;
use cloudops_core::{Resource, ResourceType};
use serde_json::Value;

use super::{Scope, Targeted, read_each, set, set_str, tag_map};
use crate::arn;
use crate::error::{Error, Result};

/// Lists every RDS DB instance of the scope's account and region.
pub async fn collect(client: &aws_sdk_rds::Client, scope: &Scope) -> Result<Vec<Resource>> {
    let mut resources = Vec::new();
    let mut pages = client.describe_db_instances().max_records(100).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Error::aws("rds", "DescribeDBInstances", error))?;
        resources.extend(page.db_instances().iter().map(|db| normalize_instance(db, scope)));
    }
    Ok(resources)
}

/// The code DescribeDBInstances answers for an unknown identifier.
const NOT_FOUND: &str = "DBInstanceNotFound";

/// Re-reads the DB instances `ids` names (identifiers), one DescribeDBInstances each,
/// [`CALLS_IN_FLIGHT`](super::CALLS_IN_FLIGHT) at a time; `DBInstanceNotFound` means missing.
pub async fn collect_ids(
    client: &aws_sdk_rds::Client,
    scope: &Scope,
    ids: &BTreeSet<String>,
) -> Result<Targeted> {
    let found = read_each(ids, |id| {
        let (client, scope) = (client.clone(), scope.clone());
        async move {
            match client.describe_db_instances().db_instance_identifier(&id).send().await {
                Ok(output) => {
                    Ok(output.db_instances().first().map(|db| normalize_instance(db, &scope)))
                }
                Err(error) if error.code() == Some(NOT_FOUND) => Ok(None),
                Err(error) => Err(Error::aws("rds", "DescribeDBInstances", error)),
            }
        }
    })
    .await?;
    // RDS keeps identifiers in lowercase, whatever case they were asked in.
    let ids = ids.iter().map(|id| id.to_ascii_lowercase());
    Ok(Targeted::from_found(found, ids, |id| {
        arn::rds_instance(&scope.region, &scope.account_id, id)
    }))
}

/// Normalizes one DB instance.
pub fn normalize_instance(db: &DbInstance, scope: &Scope) -> Resource {
    let id = db.db_instance_identifier().unwrap_or_default().to_owned();
    let arn = db
        .db_instance_arn()
        .map(str::to_owned)
        .unwrap_or_else(|| arn::rds_instance(&scope.region, &scope.account_id, &id));
    let mut resource = scope.resource(ResourceType::RdsInstance, arn, id);
    // RDS instances have a real name (the identifier); a Name tag does not override it.
    resource.tags = tag_map(db.tag_list().iter().map(|tag| (tag.key(), tag.value())));
    resource.state = db.db_instance_status().unwrap_or_default().to_owned();

    set_str(&mut resource, "engine", db.engine());
    set_str(&mut resource, "engine_version", db.engine_version());
    set_str(&mut resource, "instance_class", db.db_instance_class());
    set(&mut resource, "multi_az", db.multi_az());
    set(&mut resource, "publicly_accessible", db.publicly_accessible());
    set_str(&mut resource, "storage_type", db.storage_type());
    set(&mut resource, "allocated_storage", db.allocated_storage());
    set(&mut resource, "backup_retention_period", db.backup_retention_period());
    set_str(&mut resource, "db_cluster_identifier", db.db_cluster_identifier());
    let vpc_id = db.db_subnet_group().and_then(|group| group.vpc_id());
    set_str(&mut resource, "vpc_id", vpc_id);

    let source = db.read_replica_source_db_instance_identifier();
    let replicas: Vec<String> = db
        .read_replica_db_instance_identifiers()
        .iter()
        .map(|replica| arn::rds_instance(&scope.region, &scope.account_id, replica))
        .collect();
    if let Some(source) = source {
        let source_arn = arn::rds_instance(&scope.region, &scope.account_id, source);
        resource
            .attributes
            .insert("read_replica_source".to_owned(), Value::from(source_arn.clone()));
        resource.dependencies.push(source_arn);
    }
    resource.attributes.insert(
        "read_replicas".to_owned(),
        Value::Array(replicas.iter().cloned().map(Value::from).collect()),
    );

    let constraints = &mut resource.constraints;
    constraints.has_read_replicas =
        Some(!replicas.is_empty() || !db.read_replica_db_cluster_identifiers().is_empty());
    constraints.deletion_protection = db.deletion_protection();
    constraints.multi_az = db.multi_az();
    constraints.automated_backups_enabled = db.backup_retention_period().map(|days| days > 0);
    // Read replicas and Aurora cluster members cannot be stopped on their own.
    constraints.can_stop = Some(source.is_none() && db.db_cluster_identifier().is_none());
    if source.is_some() {
        constraints.other.insert("is_read_replica".to_owned(), Value::Bool(true));
    }

    if let Some(vpc_id) = vpc_id {
        resource.dependencies.push(arn::ec2_vpc(&scope.region, &scope.account_id, vpc_id));
    }
    resource
}

#[cfg(test)]
mod tests {
    use aws_sdk_rds::types::Tag;

    use super::*;

    fn scope() -> Scope {
        Scope {
            account_id: "123456789012".into(),
            account_name: "production".into(),
            region: "us-west-2".into(),
            last_seen: "2026-11-25T08:00:00Z".into(),
        }
    }

    #[test]
    fn a_primary_with_a_replica() {
        let db = DbInstance::builder()
            .db_instance_identifier("pg-main")
            .db_instance_arn("arn:aws:rds:us-west-2:123456789012:db:pg-main")
            .db_instance_status("available")
            .engine("postgres")
            .engine_version("14.7")
            .db_instance_class("db.t3.micro")
            .multi_az(true)
            .storage_type("gp2")
            .allocated_storage(20)
            .backup_retention_period(7)
            .deletion_protection(false)
            .read_replica_db_instance_identifiers("pg-main-replica")
            .tag_list(Tag::builder().key("env").value("production").build())
            .build();
        let resource = normalize_instance(&db, &scope());
        assert_eq!(resource.name, "pg-main");
        assert_eq!(resource.state, "available");
        assert_eq!(resource.attributes["allocated_storage"], 20);
        assert_eq!(resource.attributes["multi_az"], true);
        assert_eq!(
            resource.attributes["read_replicas"],
            serde_json::json!(["arn:aws:rds:us-west-2:123456789012:db:pg-main-replica"])
        );
        let constraints = &resource.constraints;
        assert_eq!(constraints.has_read_replicas, Some(true));
        assert_eq!(constraints.can_stop, Some(true));
        assert_eq!(constraints.automated_backups_enabled, Some(true));
        assert_eq!(constraints.deletion_protection, Some(false));
        assert_eq!(constraints.multi_az, Some(true));
        assert!(resource.dependencies.is_empty());
    }

    #[test]
    fn a_replica_depends_on_its_source_and_cannot_stop() {
        let db = DbInstance::builder()
            .db_instance_identifier("pg-main-replica")
            .read_replica_source_db_instance_identifier("pg-main")
            .backup_retention_period(0)
            .build();
        let resource = normalize_instance(&db, &scope());
        assert_eq!(resource.arn, "arn:aws:rds:us-west-2:123456789012:db:pg-main-replica");
        assert_eq!(resource.dependencies, ["arn:aws:rds:us-west-2:123456789012:db:pg-main"]);
        assert_eq!(resource.constraints.can_stop, Some(false));
        assert_eq!(resource.constraints.has_read_replicas, Some(false));
        assert_eq!(resource.constraints.automated_backups_enabled, Some(false));
    }
}
