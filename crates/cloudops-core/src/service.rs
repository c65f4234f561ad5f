//! The AWS services CloudOps reads and acts on, and how each maps onto the resource model.
//!
//! One enum for the sync (its scopes, state keys and CloudTrail sources) and the playbooks
//! (their `service:` field and the AWS CLI command groups their steps may use). The
//! lowercase names are stable: sync state keys and the playbook JSON Schema keep them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::model::ResourceType;

/// An AWS service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// Amazon EC2: instances.
    Ec2,
    /// Amazon RDS: DB instances.
    Rds,
    /// Amazon S3: buckets (global: read once per account).
    S3,
    /// AWS Lambda: functions.
    Lambda,
    /// Elastic Load Balancing v2: application, network and gateway load balancers.
    Elbv2,
}

impl Service {
    /// Every service, in the order a sync reports them.
    pub const ALL: [Service; 5] =
        [Service::Ec2, Service::Rds, Service::S3, Service::Lambda, Service::Elbv2];

    /// The name used in flags, state keys, reports and playbooks (`ec2`, `rds`, `s3`,
    /// `lambda`, `elbv2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Rds => "rds",
            Service::S3 => "s3",
            Service::Lambda => "lambda",
            Service::Elbv2 => "elbv2",
        }
    }

    /// The AWS CLI command groups a step of this service may use (`s3api` for bucket
    /// settings, `s3` for object-level commands).
    pub fn cli_groups(self) -> &'static [&'static str] {
        match self {
            Service::Ec2 => &["ec2"],
            Service::Rds => &["rds"],
            Service::S3 => &["s3api", "s3"],
            Service::Lambda => &["lambda"],
            Service::Elbv2 => &["elbv2"],
        }
    }

    /// The resource types its resources have.
    pub fn resource_types(self) -> &'static [ResourceType] {
        match self {
            Service::Ec2 => &[ResourceType::Ec2Instance],
            Service::Rds => &[ResourceType::RdsInstance],
            Service::S3 => &[ResourceType::S3Bucket],
            Service::Lambda => &[ResourceType::LambdaFunction],
            Service::Elbv2 => &[ResourceType::ElbLoadBalancer],
        }
    }

    /// The main resource type of the service (the first of [`Service::resource_types`]).
    pub fn resource_type(self) -> ResourceType {
        self.resource_types()[0].clone()
    }

    /// The service of a resource type, `None` for types no service here covers.
    pub fn for_resource_type(resource_type: &ResourceType) -> Option<Service> {
        Service::ALL.into_iter().find(|service| service.resource_types().contains(resource_type))
    }

    /// Whether the service's resources are listed once per account rather than per region.
    pub fn is_global(self) -> bool {
        self == Service::S3
    }

    /// The CloudTrail event source of its management events.
    pub fn event_source(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2.amazonaws.com",
            Service::Rds => "rds.amazonaws.com",
            Service::S3 => "s3.amazonaws.com",
            Service::Lambda => "lambda.amazonaws.com",
            Service::Elbv2 => "elasticloadbalancing.amazonaws.com",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Service {
    type Err = Error;

    /// A service by its name, case-insensitive; `elb` is an alias of `elbv2`.
    fn from_str(text: &str) -> Result<Self, Error> {
        let wanted = text.trim().to_ascii_lowercase();
        Service::ALL
            .into_iter()
            .find(|service| {
                service.as_str() == wanted || (wanted == "elb" && *service == Service::Elbv2)
            })
            .ok_or_else(|| {
                let known: Vec<&str> = Service::ALL.iter().map(|s| s.as_str()).collect();
                Error::InvalidInput(format!(
                    "unknown service {text:?}; expected one of {}",
                    known.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for service in Service::ALL {
            assert_eq!(service.as_str().parse::<Service>().expect("known"), service);
            let json = serde_json::to_string(&service).expect("serializes");
            assert_eq!(json, format!("\"{}\"", service.as_str()));
        }
        assert_eq!("ELB".parse::<Service>().expect("alias"), Service::Elbv2);
        assert!("ecs".parse::<Service>().is_err());
    }

    #[test]
    fn every_service_owns_its_resource_types() {
        for service in Service::ALL {
            for resource_type in service.resource_types() {
                assert_eq!(Service::for_resource_type(resource_type), Some(service));
            }
        }
        assert_eq!(Service::for_resource_type(&ResourceType::Other("sqs_queue".into())), None);
    }
}
