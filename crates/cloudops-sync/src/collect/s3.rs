//! S3 buckets: ListBuckets (every page), then per bucket its region, tags, versioning,
//! default encryption and public access block.
//!
//! Buckets belong to the account, not to a region: one listing covers them all, and each
//! bucket's own calls go to the bucket's region (real S3 redirects calls made elsewhere).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_config::SdkConfig;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::{BucketVersioningStatus, PublicAccessBlockConfiguration};
use cloudops_core::{Resource, ResourceType};

use super::{CALLS_IN_FLIGHT, Scope, Targeted, map_bounded, set, set_str};
use crate::arn;
use crate::error::{Error, Result};

/// How to reach S3.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct S3Options {
    /// Address buckets by path (`endpoint/bucket`) instead of virtual host; needed by S3
    /// stand-ins such as moto behind a custom endpoint.
    pub force_path_style: bool,
}

/// What is known of one bucket beyond its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketDetails {
    /// The bucket's region.
    pub region: String,
    /// The bucket's tags (empty when it has none).
    pub tags: BTreeMap<String, String>,
    /// `Enabled`, `Suspended`, or `Disabled` (never enabled); `None` when unknown.
    pub versioning: Option<String>,
    /// The default encryption algorithm (`AES256`, `aws:kms`, …), `none`, or `None` when
    /// unknown.
    pub encryption: Option<String>,
    /// Whether all four public access block settings are on; `None` when unknown.
    pub public_access_blocked: Option<bool>,
    /// When the bucket was created (RFC 3339).
    pub creation_date: Option<String>,
}

/// Lists every bucket of the account. `scope.region` is the region the listing goes to;
/// each resource carries its bucket's own region.
pub async fn collect(
    sdk_config: &SdkConfig,
    scope: &Scope,
    options: S3Options,
) -> Result<Vec<Resource>> {
    let mut clients = Clients { sdk_config, options, by_region: HashMap::new() };
    let buckets = list_buckets(&mut clients, &scope.region).await?;
    let described = describe_buckets(&mut clients, &scope.region, buckets, scope).await?;
    // A bucket deleted while the sync read it is simply not there any more.
    Ok(described.into_iter().filter_map(Result::ok).collect())
}

/// Re-reads the buckets `ids` names (bucket names): one ListBuckets for their regions and
/// creation dates, then each bucket's own calls as in [`collect`]. A bucket not listed, or
/// answering `NoSuchBucket`, is missing.
pub async fn collect_ids(
    sdk_config: &SdkConfig,
    scope: &Scope,
    options: S3Options,
    ids: &BTreeSet<String>,
) -> Result<Targeted> {
    let mut clients = Clients { sdk_config, options, by_region: HashMap::new() };
    let mut buckets = list_buckets(&mut clients, &scope.region).await?;
    buckets.retain(|bucket| ids.contains(&bucket.name));
    let described = describe_buckets(&mut clients, &scope.region, buckets, scope).await?;
    let found: Vec<Resource> = described.into_iter().filter_map(Result::ok).collect();
    Ok(Targeted::from_found(found, ids, |name| arn::s3_bucket(&scope.region, name)))
}

/// A bucket as ListBuckets shows it.
#[derive(Debug, Clone)]
struct ListedBucket {
    name: String,
    /// `BucketRegion`, which real S3 sends and stand-ins may not.
    region: Option<String>,
    creation_date: Option<String>,
}

/// Every bucket of the account, listed from `region`.
async fn list_buckets(clients: &mut Clients<'_>, region: &str) -> Result<Vec<ListedBucket>> {
    let listing = clients.get(region).clone();
    let mut buckets = Vec::new();
    let mut pages = listing.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|error| Error::aws("s3", "ListBuckets", error))?;
        for bucket in page.buckets() {
            let Some(name) = bucket.name() else { continue };
            let creation_date = bucket
                .creation_date()
                .and_then(|date| date.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
            buckets.push(ListedBucket {
                name: name.to_owned(),
                region: bucket.bucket_region().map(str::to_owned),
                creation_date,
            });
        }
    }
    Ok(buckets)
}

/// Each bucket's region, then its own calls in that region, [`CALLS_IN_FLIGHT`] buckets at a
/// time: a resource, or `Err(name)` for a bucket deleted since it was listed.
async fn describe_buckets(
    clients: &mut Clients<'_>,
    listing_region: &str,
    buckets: Vec<ListedBucket>,
    scope: &Scope,
) -> Result<Vec<Result<Resource, String>>> {
    let listing = clients.get(listing_region).clone();
    let regions = map_bounded(buckets.clone(), CALLS_IN_FLIGHT, |bucket| {
        let listing = listing.clone();
        async move {
            match bucket.region {
                Some(region) if !region.is_empty() => Ok(region),
                _ => bucket_region(&listing, &bucket.name).await,
            }
        }
    })
    .await;
    let mut located = Vec::with_capacity(buckets.len());
    let mut gone = Vec::new();
    for (bucket, region) in buckets.into_iter().zip(regions) {
        match region {
            Ok(region) => {
                let client = clients.get(&region).clone();
                located.push((bucket, region, client));
            }
            Err(error) if is_no_such_bucket(&error) => gone.push(Err(bucket.name)),
            Err(error) => return Err(error),
        }
    }

    let described = map_bounded(located, CALLS_IN_FLIGHT, |(bucket, region, client)| {
        let scope = scope.clone();
        async move {
            let name = &bucket.name;
            let (tags, versioning, encryption, public_access_blocked) = tokio::join!(
                bucket_tags(&client, name),
                bucket_versioning(&client, name),
                bucket_encryption(&client, name),
                bucket_public_access_blocked(&client, name),
            );
            let tags = match tags {
                Ok(tags) => tags,
                Err(error) if is_no_such_bucket(&error) => return Ok(Err(bucket.name)),
                Err(error) => return Err(error),
            };
            let details = BucketDetails {
                tags,
                versioning,
                encryption,
                public_access_blocked,
                creation_date: bucket.creation_date,
                region,
            };
            Ok(Ok(normalize_bucket(name, &details, &scope)))
        }
    })
    .await;
    let mut results = described.into_iter().collect::<Result<Vec<_>>>()?;
    results.extend(gone);
    Ok(results)
}

fn is_no_such_bucket(error: &Error) -> bool {
    error.code() == Some("NoSuchBucket")
}

/// S3 clients per region, made on first use.
struct Clients<'a> {
    sdk_config: &'a SdkConfig,
    options: S3Options,
    by_region: HashMap<String, aws_sdk_s3::Client>,
}

impl Clients<'_> {
    fn get(&mut self, region: &str) -> &aws_sdk_s3::Client {
        let (sdk_config, options) = (self.sdk_config, self.options);
        self.by_region.entry(region.to_owned()).or_insert_with(|| {
            let config = aws_sdk_s3::config::Builder::from(sdk_config)
                .region(aws_sdk_s3::config::Region::new(region.to_owned()))
                .force_path_style(options.force_path_style)
                .build();
            aws_sdk_s3::Client::from_conf(config)
        })
    }
}

/// The bucket's region from GetBucketLocation (an empty constraint is `us-east-1`, `EU` is
/// `eu-west-1`).
pub async fn bucket_region(client: &aws_sdk_s3::Client, bucket: &str) -> Result<String> {
    let output = client
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .map_err(|error| Error::aws("s3", "GetBucketLocation", error))?;
    Ok(region_of_constraint(output.location_constraint().map(|c| c.as_str())))
}

/// The region a `LocationConstraint` names.
pub fn region_of_constraint(constraint: Option<&str>) -> String {
    match constraint {
        None | Some("") => "us-east-1".to_owned(),
        Some("EU") => "eu-west-1".to_owned(),
        Some(region) => region.to_owned(),
    }
}

/// The bucket's tags; `NoSuchTagSet` means none.
pub async fn bucket_tags(
    client: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<BTreeMap<String, String>> {
    match client.get_bucket_tagging().bucket(bucket).send().await {
        Ok(output) => Ok(output
            .tag_set()
            .iter()
            .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
            .collect()),
        Err(error) if error.code() == Some("NoSuchTagSet") => Ok(BTreeMap::new()),
        Err(error) => Err(Error::aws("s3", "GetBucketTagging", error)),
    }
}

/// `Enabled`, `Suspended` or `Disabled`; `None` (with a warning) when it cannot be read.
async fn bucket_versioning(client: &aws_sdk_s3::Client, bucket: &str) -> Option<String> {
    match client.get_bucket_versioning().bucket(bucket).send().await {
        Ok(output) => Some(match output.status() {
            Some(BucketVersioningStatus::Enabled) => "Enabled".to_owned(),
            Some(BucketVersioningStatus::Suspended) => "Suspended".to_owned(),
            Some(other) => other.as_str().to_owned(),
            None => "Disabled".to_owned(),
        }),
        Err(error) => {
            // moto answers with a `GetBucketVersioningResponse` root instead of
            // `VersioningConfiguration`, which the SDK refuses; the status inside is right.
            let body = error
                .raw_response()
                .filter(|response| response.status().is_success())
                .and_then(|response| response.body().bytes());
            if let Some(status) = body.and_then(versioning_status_in_xml) {
                return Some(status);
            }
            tracing::warn!(bucket, error = %Error::aws("s3", "GetBucketVersioning", error), "versioning unknown");
            None
        }
    }
}

/// The versioning status in a successful GetBucketVersioning body whatever its root element
/// is called: `Disabled` when the body has no `Status`.
fn versioning_status_in_xml(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains("Versioning") {
        return None;
    }
    let status = text
        .split_once("<Status>")
        .and_then(|(_, rest)| rest.split_once("</Status>"))
        .map(|(status, _)| status.trim().to_owned());
    Some(status.unwrap_or_else(|| "Disabled".to_owned()))
}

/// The default encryption algorithm, `none` when the bucket has no configuration, `None`
/// when it cannot be read.
async fn bucket_encryption(client: &aws_sdk_s3::Client, bucket: &str) -> Option<String> {
    match client.get_bucket_encryption().bucket(bucket).send().await {
        Ok(output) => Some(
            output
                .server_side_encryption_configuration()
                .and_then(|config| config.rules().first())
                .and_then(|rule| rule.apply_server_side_encryption_by_default())
                .map(|default| default.sse_algorithm().as_str().to_owned())
                .unwrap_or_else(|| "none".to_owned()),
        ),
        Err(error) if error.code() == Some("ServerSideEncryptionConfigurationNotFoundError") => {
            Some("none".to_owned())
        }
        Err(error) => {
            tracing::warn!(bucket, error = %Error::aws("s3", "GetBucketEncryption", error), "encryption unknown");
            None
        }
    }
}

/// Whether all four public access block settings are on; `false` when the bucket has no
/// configuration, `None` when it cannot be read.
async fn bucket_public_access_blocked(client: &aws_sdk_s3::Client, bucket: &str) -> Option<bool> {
    match client.get_public_access_block().bucket(bucket).send().await {
        Ok(output) => Some(output.public_access_block_configuration().is_some_and(all_blocked)),
        Err(error) if error.code() == Some("NoSuchPublicAccessBlockConfiguration") => Some(false),
        Err(error) => {
            tracing::warn!(bucket, error = %Error::aws("s3", "GetPublicAccessBlock", error), "public access block unknown");
            None
        }
    }
}

fn all_blocked(config: &PublicAccessBlockConfiguration) -> bool {
    [
        config.block_public_acls(),
        config.ignore_public_acls(),
        config.block_public_policy(),
        config.restrict_public_buckets(),
    ]
    .iter()
    .all(|setting| *setting == Some(true))
}

/// Normalizes one bucket.
pub fn normalize_bucket(name: &str, details: &BucketDetails, scope: &Scope) -> Resource {
    let mut resource = scope.resource(
        ResourceType::S3Bucket,
        arn::s3_bucket(&details.region, name),
        name.to_owned(),
    );
    resource.region = details.region.clone();
    resource.tags = details.tags.clone();
    // Buckets have no lifecycle state; one that is listed exists.
    resource.state = "available".to_owned();
    set_str(&mut resource, "versioning", details.versioning.as_deref());
    set_str(&mut resource, "encryption", details.encryption.as_deref());
    set(&mut resource, "public_access_blocked", details.public_access_blocked);
    set_str(&mut resource, "creation_date", details.creation_date.as_deref());
    resource
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioning_status_from_a_lenient_body() {
        let moto = br#"<?xml version="1.0"?><GetBucketVersioningResponse xmlns="x"><Status>Enabled</Status></GetBucketVersioningResponse>"#;
        assert_eq!(versioning_status_in_xml(moto).as_deref(), Some("Enabled"));
        let never = br#"<GetBucketVersioningResponse xmlns="x"/>"#;
        assert_eq!(versioning_status_in_xml(never).as_deref(), Some("Disabled"));
        assert_eq!(versioning_status_in_xml(b"<Error/>"), None);
    }

    #[test]
    fn location_constraints() {
        assert_eq!(region_of_constraint(None), "us-east-1");
        assert_eq!(region_of_constraint(Some("")), "us-east-1");
        assert_eq!(region_of_constraint(Some("EU")), "eu-west-1");
        assert_eq!(region_of_constraint(Some("eu-central-1")), "eu-central-1");
    }

    #[test]
    fn a_bucket_carries_its_own_region() {
        let scope = Scope {
            account_id: "123456789012".into(),
            account_name: "production".into(),
            region: "us-east-1".into(),
            last_seen: "2026-11-25T08:00:00Z".into(),
        };
        let details = BucketDetails {
            region: "eu-west-1".into(),
            tags: [("team".to_owned(), "data".to_owned())].into(),
            versioning: Some("Enabled".into()),
            encryption: Some("AES256".into()),
            public_access_blocked: Some(true),
            creation_date: None,
        };
        let resource = normalize_bucket("dumps", &details, &scope);
        assert_eq!(resource.arn, "arn:aws:s3:::dumps");
        assert_eq!(resource.region, "eu-west-1");
        assert_eq!(resource.account_id, "123456789012");
        assert_eq!(resource.attribute_str("versioning"), Some("Enabled"));
        assert_eq!(resource.attributes["public_access_blocked"], true);
        assert_eq!(resource.tags["team"], "data");
    }
}
