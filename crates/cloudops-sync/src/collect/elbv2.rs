//! ELBv2 load balancers: DescribeLoadBalancers (every page), DescribeTags (20 ARNs per
//! call) and DescribeLoadBalancerAttributes (deletion protection) per load balancer.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
use cloudops_core::{Resource, ResourceType};
use serde_json::Value;

use super::{CALLS_IN_FLIGHT, Scope, Targeted, map_bounded, set_str, tag_map};
use crate::arn;
use crate::error::{Error, Result};

/// DescribeTags and DescribeLoadBalancers accept at most this many ARNs per call.
const ARNS_PER_CALL: usize = 20;

/// Lists every ELBv2 load balancer of the scope's account and region, with tags and
/// deletion protection.
pub async fn collect(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    scope: &Scope,
) -> Result<Vec<Resource>> {
    let mut load_balancers = Vec::new();
    let mut pages = client.describe_load_balancers().page_size(400).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Error::aws("elbv2", "DescribeLoadBalancers", error))?;
        load_balancers.extend(page.load_balancers().iter().cloned());
    }
    complete(client, &load_balancers, scope).await
}

/// Re-reads the load balancers `ids` names: ARNs (what CloudTrail gives) or names,
/// DescribeLoadBalancers taking 20 at a time, then tags and attributes as in [`collect`].
/// `LoadBalancerNotFound` means missing; a missing name has no known ARN and is left out of
/// [`Targeted::missing_arns`].
pub async fn collect_ids(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    scope: &Scope,
    ids: &BTreeSet<String>,
) -> Result<Targeted> {
    let (arns, names): (Vec<String>, Vec<String>) =
        ids.iter().cloned().partition(|id| id.starts_with("arn:"));
    let mut load_balancers = Vec::new();
    let mut missing_arns = Vec::new();
    for (values, by_arn) in [(arns, true), (names, false)] {
        for chunk in values.chunks(ARNS_PER_CALL) {
            // On AWS one unknown value fails the whole call: then each is asked alone.
            let answers = match describe_some(client, chunk, by_arn).await? {
                Some(found) => vec![(chunk, found)],
                None => {
                    let mut answers = Vec::new();
                    for value in chunk {
                        let alone = std::slice::from_ref(value);
                        let found = describe_some(client, alone, by_arn).await?.unwrap_or_default();
                        answers.push((alone, found));
                    }
                    answers
                }
            };
            for (asked, found) in answers {
                // Stand-ins answer only the ones they know instead of failing.
                if by_arn {
                    let known: BTreeSet<&str> =
                        found.iter().filter_map(LoadBalancer::load_balancer_arn).collect();
                    let unknown = asked.iter().filter(|arn| !known.contains(arn.as_str()));
                    missing_arns.extend(unknown.cloned());
                }
                load_balancers.extend(found);
            }
        }
    }
    let found = complete(client, &load_balancers, scope).await?;
    Ok(Targeted { found, missing_arns })
}

/// The load balancers with these ARNs (or names); `None` when one of them does not exist.
async fn describe_some(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    values: &[String],
    by_arn: bool,
) -> Result<Option<Vec<LoadBalancer>>> {
    let request = client.describe_load_balancers();
    let request = if by_arn {
        request.set_load_balancer_arns(Some(values.to_vec()))
    } else {
        request.set_names(Some(values.to_vec()))
    };
    match request.send().await {
        Ok(output) => Ok(Some(output.load_balancers().to_vec())),
        Err(error) if error.code() == Some("LoadBalancerNotFound") => Ok(None),
        Err(error) => Err(Error::aws("elbv2", "DescribeLoadBalancers", error)),
    }
}

/// Normalizes the load balancers and reads their tags and attributes.
async fn complete(
    client: &aws_sdk_elasticloadbalancingv2::Client,
    load_balancers: &[LoadBalancer],
    scope: &Scope,
) -> Result<Vec<Resource>> {
    let mut resources: Vec<Resource> =
        load_balancers.iter().map(|lb| normalize_load_balancer(lb, scope)).collect();

    let mut tags: HashMap<String, BTreeMap<String, String>> = HashMap::new();
    let arns: Vec<String> = resources.iter().map(|resource| resource.arn.clone()).collect();
    for chunk in arns.chunks(ARNS_PER_CALL) {
        let output = client
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|error| Error::aws("elbv2", "DescribeTags", error))?;
        for description in output.tag_descriptions() {
            if let Some(arn) = description.resource_arn() {
                tags.insert(
                    arn.to_owned(),
                    tag_map(description.tags().iter().map(|tag| (tag.key(), tag.value()))),
                );
            }
        }
    }
    for resource in &mut resources {
        resource.tags = tags.remove(&resource.arn).unwrap_or_default();
    }
    map_bounded(resources, CALLS_IN_FLIGHT, |mut resource| {
        let client = client.clone();
        async move {
            let output = client
                .describe_load_balancer_attributes()
                .load_balancer_arn(&resource.arn)
                .send()
                .await
                .map_err(|error| Error::aws("elbv2", "DescribeLoadBalancerAttributes", error))?;
            let attributes: Vec<(&str, &str)> =
                output.attributes().iter().filter_map(|a| Some((a.key()?, a.value()?))).collect();
            apply_attributes(&mut resource, &attributes);
            Ok(resource)
        }
    })
    .await
    .into_iter()
    .collect()
}

/// Records what the load balancer attributes say: `deletion_protection.enabled`.
pub fn apply_attributes(resource: &mut Resource, attributes: &[(&str, &str)]) {
    for (key, value) in attributes {
        if *key == "deletion_protection.enabled" {
            resource.constraints.deletion_protection = value.parse::<bool>().ok();
        }
    }
}

/// Normalizes one load balancer; tags and attributes come from separate calls.
pub fn normalize_load_balancer(lb: &LoadBalancer, scope: &Scope) -> Resource {
    let name = lb.load_balancer_name().unwrap_or_default().to_owned();
    let arn = lb.load_balancer_arn().unwrap_or_default().to_owned();
    let mut resource = scope.resource(ResourceType::ElbLoadBalancer, arn, name);
    resource.state = lb
        .state()
        .and_then(|state| state.code())
        .map(|code| code.as_str().to_owned())
        .unwrap_or_default();
    set_str(&mut resource, "type", lb.r#type().map(|t| t.as_str()));
    set_str(&mut resource, "scheme", lb.scheme().map(|s| s.as_str()));
    set_str(&mut resource, "vpc_id", lb.vpc_id());
    set_str(&mut resource, "dns_name", lb.dns_name());
    set_str(&mut resource, "ip_address_type", lb.ip_address_type().map(|t| t.as_str()));
    let subnets: Vec<&str> =
        lb.availability_zones().iter().filter_map(|zone| zone.subnet_id()).collect();
    resource.attributes.insert(
        "subnet_ids".to_owned(),
        Value::Array(subnets.iter().map(|s| Value::from(*s)).collect()),
    );
    resource.constraints.multi_az = Some(lb.availability_zones().len() > 1);

    if let Some(vpc_id) = lb.vpc_id() {
        resource.dependencies.push(arn::ec2_vpc(&scope.region, &scope.account_id, vpc_id));
    }
    for subnet_id in subnets {
        resource.dependencies.push(arn::ec2_subnet(&scope.region, &scope.account_id, subnet_id));
    }
    resource
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticloadbalancingv2::types::{
        AvailabilityZone, LoadBalancerSchemeEnum, LoadBalancerState, LoadBalancerStateEnum,
        LoadBalancerTypeEnum,
    };

    use super::*;

    #[test]
    fn an_application_load_balancer() {
        let scope = Scope {
            account_id: "123456789012".into(),
            account_name: "production".into(),
            region: "us-west-2".into(),
            last_seen: "2026-11-25T08:00:00Z".into(),
        };
        let lb = LoadBalancer::builder()
            .load_balancer_arn(
                "arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/web/1",
            )
            .load_balancer_name("web")
            .r#type(LoadBalancerTypeEnum::Application)
            .scheme(LoadBalancerSchemeEnum::InternetFacing)
            .vpc_id("vpc-1")
            .dns_name("web-1.us-west-2.elb.amazonaws.com")
            .state(LoadBalancerState::builder().code(LoadBalancerStateEnum::Active).build())
            .availability_zones(
                AvailabilityZone::builder().zone_name("us-west-2a").subnet_id("subnet-a").build(),
            )
            .availability_zones(
                AvailabilityZone::builder().zone_name("us-west-2b").subnet_id("subnet-b").build(),
            )
            .build();
        let mut resource = normalize_load_balancer(&lb, &scope);
        apply_attributes(&mut resource, &[("deletion_protection.enabled", "true")]);
        assert_eq!(resource.state, "active");
        assert_eq!(resource.attribute_str("type"), Some("application"));
        assert_eq!(resource.attribute_str("scheme"), Some("internet-facing"));
        assert_eq!(resource.constraints.deletion_protection, Some(true));
        assert_eq!(resource.dependencies.len(), 3);
        assert_eq!(resource.dependencies[0], "arn:aws:ec2:us-west-2:123456789012:vpc/vpc-1");
    }
}
