//! ARNs built the way each service spells them, in the right partition.

/// The partition a region belongs to (`aws`, `aws-cn`, `aws-us-gov`, …).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else if region.starts_with("eusc-") {
        "aws-eusc"
    } else {
        "aws"
    }
}

/// `arn:{partition}:ec2:{region}:{account}:instance/{id}`.
pub fn ec2_instance(region: &str, account_id: &str, instance_id: &str) -> String {
    format!("arn:{}:ec2:{region}:{account_id}:instance/{instance_id}", partition_of(region))
}

/// `arn:{partition}:ec2:{region}:{account}:vpc/{id}`.
pub fn ec2_vpc(region: &str, account_id: &str, vpc_id: &str) -> String {
    format!("arn:{}:ec2:{region}:{account_id}:vpc/{vpc_id}", partition_of(region))
}

/// `arn:{partition}:ec2:{region}:{account}:subnet/{id}`.
pub fn ec2_subnet(region: &str, account_id: &str, subnet_id: &str) -> String {
    format!("arn:{}:ec2:{region}:{account_id}:subnet/{subnet_id}", partition_of(region))
}

/// `arn:{partition}:rds:{region}:{account}:db:{identifier}`; an identifier that already is
/// an ARN (cross-region replicas are named by ARN) is returned as is.
pub fn rds_instance(region: &str, account_id: &str, identifier: &str) -> String {
    if identifier.starts_with("arn:") {
        return identifier.to_owned();
    }
    format!("arn:{}:rds:{region}:{account_id}:db:{identifier}", partition_of(region))
}

/// `arn:{partition}:s3:::{bucket}`: bucket ARNs carry neither region nor account.
pub fn s3_bucket(region: &str, bucket: &str) -> String {
    format!("arn:{}:s3:::{bucket}", partition_of(region))
}

/// `arn:{partition}:lambda:{region}:{account}:function:{name}`.
pub fn lambda_function(region: &str, account_id: &str, name: &str) -> String {
    format!("arn:{}:lambda:{region}:{account_id}:function:{name}", partition_of(region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition_of("us-west-2"), "aws");
        assert_eq!(partition_of("cn-north-1"), "aws-cn");
        assert_eq!(partition_of("us-gov-west-1"), "aws-us-gov");
        assert_eq!(
            ec2_instance("cn-north-1", "123456789012", "i-1"),
            "arn:aws-cn:ec2:cn-north-1:123456789012:instance/i-1"
        );
        assert_eq!(s3_bucket("us-gov-east-1", "b"), "arn:aws-us-gov:s3:::b");
    }

    #[test]
    fn rds_identifiers_that_are_arns_stay() {
        let arn = "arn:aws:rds:eu-west-1:123456789012:db:src";
        assert_eq!(rds_instance("us-west-2", "123456789012", arn), arn);
        assert_eq!(
            rds_instance("us-west-2", "123456789012", "src"),
            "arn:aws:rds:us-west-2:123456789012:db:src"
        );
    }
}
