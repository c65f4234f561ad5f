//! The AWS services the sync reads, and how each maps onto the resource model.

use std::fmt;
use std::str::FromStr;

use cloudops_core::ResourceType;
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A service the sync collects resources from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// EC2 instances.
    Ec2,
    /// RDS DB instances.
    Rds,
    /// S3 buckets (global: read once per account).
    S3,
    /// Lambda functions.
    Lambda,
    /// ELBv2 load balancers (application, network, gateway).
    Elbv2,
}

impl Service {
    /// Every service, in the order a sync reports them.
    pub const ALL: [Service; 5] =
        [Service::Ec2, Service::Rds, Service::S3, Service::Lambda, Service::Elbv2];

    /// The name used in flags, state keys and reports (`ec2`, `rds`, `s3`, `lambda`, `elbv2`).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Ec2 => "ec2",
            Service::Rds => "rds",
            Service::S3 => "s3",
            Service::Lambda => "lambda",
            Service::Elbv2 => "elbv2",
        }
    }

    /// The resource type its resources have.
    pub fn resource_type(self) -> ResourceType {
        match self {
            Service::Ec2 => ResourceType::Ec2Instance,
            Service::Rds => ResourceType::RdsInstance,
            Service::S3 => ResourceType::S3Bucket,
            Service::Lambda => ResourceType::LambdaFunction,
            Service::Elbv2 => ResourceType::ElbLoadBalancer,
        }
    }

    /// The service of a resource type, `None` for types the sync does not read.
    pub fn for_resource_type(resource_type: &ResourceType) -> Option<Service> {
        Service::ALL.into_iter().find(|service| &service.resource_type() == resource_type)
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

    fn from_str(text: &str) -> Result<Self, Error> {
        let wanted = text.trim().to_ascii_lowercase();
        Service::ALL
            .into_iter()
            .find(|service| {
                service.as_str() == wanted || (wanted == "elb" && *service == Service::Elbv2)
            })
            .ok_or_else(|| {
                Error::Config(format!(
                    "unknown service {text:?}; expected one of ec2, rds, s3, lambda, elbv2"
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
        }
        assert_eq!("ELB".parse::<Service>().expect("alias"), Service::Elbv2);
        assert!("ecs".parse::<Service>().is_err());
    }
}
