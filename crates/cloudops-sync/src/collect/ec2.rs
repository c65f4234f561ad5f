//! EC2 instances: DescribeInstances, every page (or the pages of the instances asked for).

use std::collections::{BTreeSet, HashMap};

use aws_sdk_ec2::operation::describe_instances::builders::DescribeInstancesFluentBuilder;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, Instance, InstanceAttributeName};
use cloudops_core::{Resource, ResourceType};
use serde_json::Value;

use super::{CALLS_IN_FLIGHT, Scope, Targeted, map_bounded, name_tag, set_str, tag_map};
use crate::arn;
use crate::error::{Error, Result};

/// What to read beyond DescribeInstances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ec2Options {
    /// Read termination protection (`disableApiTermination`) with one DescribeInstanceAttribute
    /// call per instance. It costs a call per instance, but without it the terminate playbook
    /// refuses (it requires the fact to be known).
    pub termination_protection: bool,
    /// Reservations per DescribeInstances page (5 to 1,000).
    pub page_size: i32,
}

impl Default for Ec2Options {
    fn default() -> Self {
        Ec2Options { termination_protection: true, page_size: 1000 }
    }
}

/// Lists every EC2 instance of the scope's account and region.
pub async fn collect(
    client: &aws_sdk_ec2::Client,
    scope: &Scope,
    options: Ec2Options,
) -> Result<Vec<Resource>> {
    let request = client.describe_instances().max_results(options.page_size);
    let mut resources = describe(request, scope).await?;
    if options.termination_protection {
        add_termination_protection(client, &mut resources).await?;
    }
    Ok(resources)
}

/// Lists every instance like [`collect`], but takes termination protection from `known`
/// (instance ARN → the value the index holds) where it is there, and asks only about the
/// other instances. For incremental listings: the one-call-per-instance attribute is most of
/// an EC2 listing's cost, and a change of the flag alone is seen by CloudTrail (a
/// ModifyInstanceAttribute event) or the next full sync.
pub async fn collect_with_known(
    client: &aws_sdk_ec2::Client,
    scope: &Scope,
    options: Ec2Options,
    known: &HashMap<String, bool>,
) -> Result<Vec<Resource>> {
    let request = client.describe_instances().max_results(options.page_size);
    let resources = describe(request, scope).await?;
    if !options.termination_protection {
        return Ok(resources);
    }
    let (mut reused, mut asked): (Vec<Resource>, Vec<Resource>) =
        resources.into_iter().partition(|resource| known.contains_key(&resource.arn));
    for resource in &mut reused {
        set_termination_protection(resource, known.get(&resource.arn).copied());
    }
    add_termination_protection(client, &mut asked).await?;
    reused.extend(asked);
    Ok(reused)
}

/// DescribeInstances accepts at most this many values in one filter.
const FILTER_VALUES_PER_CALL: usize = 200;

/// Re-reads the instances `ids` names (instance ids). Ids DescribeInstances no longer returns
/// are missing; terminated instances it still shows come back like in [`collect`], with
/// state `terminated`.
pub async fn collect_ids(
    client: &aws_sdk_ec2::Client,
    scope: &Scope,
    options: Ec2Options,
    ids: &BTreeSet<String>,
) -> Result<Targeted> {
    let wanted: Vec<String> = ids.iter().cloned().collect();
    let mut resources = Vec::new();
    // A filter, unlike `InstanceIds`, does not fail the whole call on an unknown id.
    for chunk in wanted.chunks(FILTER_VALUES_PER_CALL) {
        let filter = Filter::builder().name("instance-id").set_values(Some(chunk.to_vec())).build();
        let request = client.describe_instances().filters(filter).max_results(options.page_size);
        resources.extend(describe(request, scope).await?);
    }
    if options.termination_protection {
        add_termination_protection(client, &mut resources).await?;
    }
    Ok(Targeted::from_found(resources, ids, |id| {
        arn::ec2_instance(&scope.region, &scope.account_id, id)
    }))
}

/// Every instance of every page `request` answers.
async fn describe(request: DescribeInstancesFluentBuilder, scope: &Scope) -> Result<Vec<Resource>> {
    let mut resources = Vec::new();
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Error::aws("ec2", "DescribeInstances", error))?;
        for reservation in page.reservations() {
            for instance in reservation.instances() {
                resources.push(normalize_instance(instance, scope));
            }
        }
    }
    Ok(resources)
}

/// Reads termination protection for each instance, [`CALLS_IN_FLIGHT`] at a time.
async fn add_termination_protection(
    client: &aws_sdk_ec2::Client,
    resources: &mut [Resource],
) -> Result<()> {
    let ids: Vec<String> = resources.iter().map(|resource| resource.id.clone()).collect();
    let answers = map_bounded(ids, CALLS_IN_FLIGHT, |id| {
        let client = client.clone();
        async move { termination_protection(&client, &id).await }
    })
    .await;
    for (resource, answer) in resources.iter_mut().zip(answers) {
        match answer {
            Ok(protected) => set_termination_protection(resource, protected),
            // Gone since DescribeInstances listed it: the fact stays unknown.
            Err(error) if error.code() == Some("InvalidInstanceID.NotFound") => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Whether termination protection is on for one instance; `None` when the answer lacks it.
pub async fn termination_protection(
    client: &aws_sdk_ec2::Client,
    instance_id: &str,
) -> Result<Option<bool>> {
    let output = client
        .describe_instance_attribute()
        .instance_id(instance_id)
        .attribute(InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .map_err(|error| Error::aws("ec2", "DescribeInstanceAttribute", error))?;
    Ok(output.disable_api_termination().and_then(AttributeBooleanValue::value))
}

/// Records termination protection in the constraints (`termination_protection`, and
/// `deletion_protection`, its generic name).
pub fn set_termination_protection(resource: &mut Resource, protected: Option<bool>) {
    if let Some(protected) = protected {
        resource
            .constraints
            .other
            .insert("termination_protection".to_owned(), Value::Bool(protected));
        resource.constraints.deletion_protection = Some(protected);
    }
}

/// Normalizes one instance. Termination protection is not part of DescribeInstances; it is
/// left unknown here (see [`set_termination_protection`]).
pub fn normalize_instance(instance: &Instance, scope: &Scope) -> Resource {
    let id = instance.instance_id().unwrap_or_default().to_owned();
    let mut resource = scope.resource(
        ResourceType::Ec2Instance,
        arn::ec2_instance(&scope.region, &scope.account_id, &id),
        id,
    );
    resource.tags = tag_map(instance.tags().iter().map(|tag| (tag.key(), tag.value())));
    if let Some(name) = name_tag(&resource.tags) {
        resource.name = name;
    }
    resource.state = instance
        .state()
        .and_then(|state| state.name())
        .map(|name| name.as_str().to_owned())
        .unwrap_or_default();

    set_str(&mut resource, "instance_type", instance.instance_type().map(|t| t.as_str()));
    set_str(&mut resource, "vpc_id", instance.vpc_id());
    set_str(&mut resource, "subnet_id", instance.subnet_id());
    set_str(&mut resource, "private_ip_address", instance.private_ip_address());
    // `Platform` is only set for Windows; PlatformDetails says "Linux/UNIX" and friends.
    let platform =
        instance.platform().map(|p| p.as_str()).or(instance.platform_details()).unwrap_or("linux");
    set_str(&mut resource, "platform", Some(platform));
    let root_device_type = instance.root_device_type().map(|t| t.as_str());
    set_str(&mut resource, "root_device_type", root_device_type);
    if let Some(lifecycle) = instance.instance_lifecycle() {
        set_str(&mut resource, "instance_lifecycle", Some(lifecycle.as_str()));
    }
    if let Some(launch_time) = instance
        .launch_time()
        .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
    {
        set_str(&mut resource, "launch_time", Some(&launch_time));
    }
    let volume_ids: Vec<Value> = instance
        .block_device_mappings()
        .iter()
        .filter_map(|mapping| mapping.ebs()?.volume_id())
        .map(Value::from)
        .collect();
    resource.attributes.insert("volume_ids".to_owned(), Value::Array(volume_ids));

    // Instance-store roots cannot be stopped; spot instances only stop when persistent,
    // which DescribeInstances does not say, so they stay unknown.
    resource.constraints.can_stop = match (root_device_type, instance.instance_lifecycle()) {
        (_, Some(_)) => None,
        (Some("ebs"), None) => Some(true),
        (Some("instance-store"), None) => Some(false),
        _ => None,
    };

    if let Some(vpc_id) = instance.vpc_id() {
        resource.dependencies.push(arn::ec2_vpc(&scope.region, &scope.account_id, vpc_id));
    }
    if let Some(subnet_id) = instance.subnet_id() {
        resource.dependencies.push(arn::ec2_subnet(&scope.region, &scope.account_id, subnet_id));
    }
    resource
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{
        DeviceType, EbsInstanceBlockDevice, InstanceBlockDeviceMapping, InstanceState,
        InstanceStateName, InstanceType, Tag,
    };

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
    fn an_ebs_backed_instance() {
        let instance = Instance::builder()
            .instance_id("i-0abc")
            .instance_type(InstanceType::T3Micro)
            .state(InstanceState::builder().name(InstanceStateName::Running).build())
            .vpc_id("vpc-1")
            .subnet_id("subnet-1")
            .root_device_type(DeviceType::Ebs)
            .block_device_mappings(
                InstanceBlockDeviceMapping::builder()
                    .ebs(EbsInstanceBlockDevice::builder().volume_id("vol-1").build())
                    .build(),
            )
            .tags(Tag::builder().key("Name").value("web-01").build())
            .tags(Tag::builder().key("env").value("prod").build())
            .build();
        let resource = normalize_instance(&instance, &scope());
        assert_eq!(resource.arn, "arn:aws:ec2:us-west-2:123456789012:instance/i-0abc");
        assert_eq!(resource.name, "web-01");
        assert_eq!(resource.state, "running");
        assert_eq!(resource.attribute_str("instance_type"), Some("t3.micro"));
        assert_eq!(resource.attribute_str("root_device_type"), Some("ebs"));
        assert_eq!(resource.attribute_str("platform"), Some("linux"));
        assert_eq!(resource.attributes["volume_ids"], serde_json::json!(["vol-1"]));
        assert_eq!(resource.constraints.can_stop, Some(true));
        assert_eq!(resource.constraints.deletion_protection, None);
        assert_eq!(
            resource.dependencies,
            [
                "arn:aws:ec2:us-west-2:123456789012:vpc/vpc-1",
                "arn:aws:ec2:us-west-2:123456789012:subnet/subnet-1"
            ]
        );
        assert_eq!(resource.last_seen, "2026-11-25T08:00:00Z");
    }

    #[test]
    fn instance_store_roots_cannot_stop() {
        let instance = Instance::builder()
            .instance_id("i-1")
            .root_device_type(DeviceType::InstanceStore)
            .build();
        let mut resource = normalize_instance(&instance, &scope());
        assert_eq!(resource.name, "i-1");
        assert_eq!(resource.constraints.can_stop, Some(false));
        set_termination_protection(&mut resource, Some(true));
        assert_eq!(resource.constraints.other["termination_protection"], Value::Bool(true));
    }
}
