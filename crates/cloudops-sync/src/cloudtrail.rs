//! Narrowing an incremental sync with CloudTrail: which resources the management events
//! since the last sync say were changed, per service, or why a service must be listed again.
//!
//! LookupEvents reads one region's 90-day event history of management events. It filters on
//! one attribute per call, returns at most 50 events per page, and allows 2 calls per second
//! per account and region. Failed calls (`errorCode` in the record) and read-only calls change
//! nothing and are skipped. What a write event changed is taken from the event's `Resources`
//! and from its record's `requestParameters`, `responseElements` and `resources`.
//!
//! The narrowing only covers changes made through the API: an instance stopped from inside its
//! operating system, a spot interruption or an RDS instance restarted by AWS after 7 days of
//! being stopped leave no write event, so an incremental sync does not replace a periodic
//! full one.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_config::SdkConfig;
use aws_sdk_cloudtrail::types::{Event, LookupAttribute, LookupAttributeKey};
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use cloudops_core::Service;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Error;

/// How far before the last sync the lookup starts. CloudTrail puts a management event into
/// the event history some minutes after the call (about 5 on average, up to 15 seen), so an
/// event of a call made just before the last sync may have appeared only after it.
pub const DELIVERY_OVERLAP: Duration = Duration::from_secs(20 * 60);

/// How far back the event history goes; a last sync older than this cannot be narrowed.
pub const EVENT_HISTORY: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// Distinct resources above which re-reading them one by one costs more than listing the
/// service again.
pub const MAX_TARGETED_IDS: usize = 500;

/// The most events LookupEvents returns per page.
pub const EVENTS_PER_PAGE: i32 = 50;

/// The API version of classic load balancer calls, which share ELBv2's event source; classic
/// load balancers are not collected.
const CLASSIC_ELB_API_VERSION: &str = "2012-06-01";

/// Which events are looked up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupStrategy {
    /// One lookup per service on its event source (`ec2.amazonaws.com`, …): a failing lookup
    /// only sends its own service back to a full listing, but the pages also carry that
    /// service's read-only events (every `Describe*` call, the syncs' own included), which
    /// can be most of them.
    #[default]
    PerService,
    /// One lookup of the region's write events (`ReadOnly` = `false`), grouped by event
    /// source: far fewer pages where reads dominate, but a failing lookup sends every
    /// service back to a full listing.
    WriteEvents,
}

/// Limits of the narrowing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesConfig {
    /// How far before the last sync the lookup starts ([`DELIVERY_OVERLAP`]).
    pub overlap: Duration,
    /// Distinct resources per service above which the service is listed again
    /// ([`MAX_TARGETED_IDS`]).
    pub max_ids: usize,
    /// Pages (of up to 50 events) per lookup above which its services are listed again.
    pub max_pages: usize,
    /// Least time between two LookupEvents calls (AWS allows 2 per second per account and
    /// region; the SDK's adaptive retry slows down further when throttled).
    pub page_interval: Duration,
    /// Which events are looked up.
    pub strategy: LookupStrategy,
}

impl Default for ChangesConfig {
    fn default() -> Self {
        ChangesConfig {
            overlap: DELIVERY_OVERLAP,
            max_ids: MAX_TARGETED_IDS,
            max_pages: 100,
            page_interval: Duration::from_millis(500),
            strategy: LookupStrategy::PerService,
        }
    }
}

/// What an incremental sync has to re-read for one service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceChanges {
    /// Only these resources changed: identifiers as the service's describe-by-id call takes
    /// them (EC2 instance ids, RDS DB instance identifiers, bucket names, Lambda function
    /// names, ELBv2 load balancer ARNs). Empty when nothing changed.
    Targeted {
        /// The resources to re-read.
        ids: BTreeSet<String>,
    },
    /// The changes cannot be narrowed: list the whole service again.
    Relist {
        /// Why, for the sync report.
        reason: String,
    },
}

impl ServiceChanges {
    fn unchanged() -> Self {
        ServiceChanges::Targeted { ids: BTreeSet::new() }
    }

    /// Both changes together (a service looked up in several regions, as S3): the union of
    /// the targets, or a relisting if either needs one.
    pub fn merge(self, other: ServiceChanges) -> ServiceChanges {
        match (self, other) {
            (ServiceChanges::Targeted { mut ids }, ServiceChanges::Targeted { ids: more }) => {
                ids.extend(more);
                ServiceChanges::Targeted { ids }
            }
            (relist @ ServiceChanges::Relist { .. }, _)
            | (_, relist @ ServiceChanges::Relist { .. }) => relist,
        }
    }
}

/// What changed since the last sync, per service asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    /// One entry per service asked about.
    pub services: BTreeMap<Service, ServiceChanges>,
}

impl Changes {
    /// The changes of one service, if it was asked about.
    pub fn get(&self, service: Service) -> Option<&ServiceChanges> {
        self.services.get(&service)
    }

    /// Adds another region's changes (see [`ServiceChanges::merge`]).
    pub fn merge(&mut self, other: Changes) {
        for (service, changes) in other.services {
            let merged = match self.services.remove(&service) {
                Some(mine) => mine.merge(changes),
                None => changes,
            };
            self.services.insert(service, merged);
        }
    }

    fn relist_all(services: &[Service], reason: &str) -> Changes {
        let relist = || ServiceChanges::Relist { reason: reason.to_owned() };
        Changes { services: services.iter().map(|service| (*service, relist())).collect() }
    }
}

/// A CloudTrail client from `sdk_config`, sent to `endpoint_override` when given (a recorded
/// stand-in in tests, or a per-service endpoint).
pub fn cloudtrail_client(
    sdk_config: &SdkConfig,
    endpoint_override: Option<&str>,
) -> aws_sdk_cloudtrail::Client {
    let mut builder = aws_sdk_cloudtrail::config::Builder::from(sdk_config);
    if let Some(endpoint) = endpoint_override {
        builder = builder.endpoint_url(endpoint);
    }
    aws_sdk_cloudtrail::Client::from_conf(builder.build())
}

/// What changed in `services` since `since` (the start of the last sync), as the region's
/// CloudTrail event history tells it. Never fails as a whole: a service whose changes cannot
/// be narrowed (lookup failed, too many events or resources, a write event that does not say
/// what it changed, a last sync older than the event history) comes back as
/// [`ServiceChanges::Relist`] with the reason.
pub async fn changes_since(
    client: &aws_sdk_cloudtrail::Client,
    since: SystemTime,
    services: &[Service],
    config: &ChangesConfig,
) -> Changes {
    let start = since.checked_sub(config.overlap).unwrap_or(UNIX_EPOCH);
    let age = SystemTime::now().duration_since(start).unwrap_or_default();
    if age >= EVENT_HISTORY {
        return Changes::relist_all(
            services,
            "the last sync is older than CloudTrail's 90-day event history",
        );
    }
    let start = DateTime::from(start);
    let mut pacer = Pacer::new(config.page_interval);
    match config.strategy {
        LookupStrategy::PerService => {
            let mut changes = Changes::default();
            for service in services {
                let mut narrowing = [Narrowing::new(*service, config.max_ids)];
                let attribute = (LookupAttributeKey::EventSource, service.event_source());
                lookup(client, attribute, start, config, &mut pacer, &mut narrowing).await;
                let [narrowing] = narrowing;
                changes.services.insert(*service, narrowing.outcome);
            }
            changes
        }
        LookupStrategy::WriteEvents => {
            let mut narrowings: Vec<Narrowing> =
                services.iter().map(|service| Narrowing::new(*service, config.max_ids)).collect();
            let attribute = (LookupAttributeKey::ReadOnly, "false");
            lookup(client, attribute, start, config, &mut pacer, &mut narrowings).await;
            Changes {
                services: narrowings
                    .into_iter()
                    .map(|narrowing| (narrowing.service, narrowing.outcome))
                    .collect(),
            }
        }
    }
}

/// What `events` (one lookup's, any order) say changed in `service`: the pure part of
/// [`changes_since`]. Events of other event sources are skipped.
pub fn service_changes(service: Service, events: &[Event], max_ids: usize) -> ServiceChanges {
    let mut narrowing = Narrowing::new(service, max_ids);
    for event in events {
        narrowing.add(event);
    }
    narrowing.outcome
}

/// Reads every page of one lookup into `narrowings`, stopping early once all of them need a
/// relisting; a failed or too long lookup sends all of them to a relisting.
async fn lookup(
    client: &aws_sdk_cloudtrail::Client,
    (key, value): (LookupAttributeKey, &str),
    start: DateTime,
    config: &ChangesConfig,
    pacer: &mut Pacer,
    narrowings: &mut [Narrowing],
) {
    let attribute =
        match LookupAttribute::builder().attribute_key(key).attribute_value(value).build() {
            Ok(attribute) => attribute,
            Err(error) => return relist_every(narrowings, &error.to_string()),
        };
    let mut next_token: Option<String> = None;
    let mut pages = 0;
    loop {
        if pages == config.max_pages {
            let start = start.fmt(Format::DateTime).unwrap_or_default();
            let reason = format!(
                "more than {} CloudTrail events since {start}: too many to narrow",
                config.max_pages * EVENTS_PER_PAGE as usize
            );
            return relist_every(narrowings, &reason);
        }
        pacer.wait().await;
        let answer = client
            .lookup_events()
            .lookup_attributes(attribute.clone())
            .start_time(start)
            .max_results(EVENTS_PER_PAGE)
            .set_next_token(next_token.take())
            .send()
            .await;
        pages += 1;
        let output = match answer {
            Ok(output) => output,
            Err(error) => {
                let error = Error::aws("cloudtrail", "LookupEvents", error);
                return relist_every(narrowings, &error.to_string());
            }
        };
        for event in output.events() {
            for narrowing in narrowings.iter_mut() {
                narrowing.add(event);
            }
        }
        if narrowings.iter().all(Narrowing::is_settled) {
            return;
        }
        match output.next_token() {
            Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
            _ => return,
        }
    }
}

fn relist_every(narrowings: &mut [Narrowing], reason: &str) {
    for narrowing in narrowings {
        narrowing.outcome = ServiceChanges::Relist { reason: reason.to_owned() };
    }
}

/// Spaces calls at least `interval` apart.
struct Pacer {
    interval: Duration,
    last: Option<Instant>,
}

impl Pacer {
    fn new(interval: Duration) -> Self {
        Pacer { interval, last: None }
    }

    async fn wait(&mut self) {
        if let Some(last) = self.last {
            let due = last + self.interval;
            let now = Instant::now();
            if due > now {
                tokio::time::sleep(due - now).await;
            }
        }
        self.last = Some(Instant::now());
    }
}

/// The changes of one service, built event by event.
struct Narrowing {
    service: Service,
    max_ids: usize,
    outcome: ServiceChanges,
}

impl Narrowing {
    fn new(service: Service, max_ids: usize) -> Self {
        Narrowing { service, max_ids, outcome: ServiceChanges::unchanged() }
    }

    fn is_settled(&self) -> bool {
        matches!(self.outcome, ServiceChanges::Relist { .. })
    }

    fn add(&mut self, event: &Event) {
        let ServiceChanges::Targeted { ids } = &mut self.outcome else { return };
        if event.event_source().is_some_and(|source| source != self.service.event_source()) {
            return;
        }
        match effect(self.service, event) {
            Effect::None => {}
            Effect::Ids(found) => {
                ids.extend(found);
                if ids.len() > self.max_ids {
                    self.outcome = ServiceChanges::Relist {
                        reason: format!(
                            "more than {} {} resources changed: listing is cheaper",
                            self.max_ids, self.service
                        ),
                    };
                }
            }
            Effect::Undetermined(reason) => self.outcome = ServiceChanges::Relist { reason },
        }
    }
}

/// What one event did to a service's resources.
#[derive(Debug, PartialEq, Eq)]
enum Effect {
    /// Nothing: a read, a failed call, or a call on something the service's collector does
    /// not read.
    None,
    /// Changed these resources.
    Ids(BTreeSet<String>),
    /// Changed resources it does not name.
    Undetermined(String),
}

fn effect(service: Service, event: &Event) -> Effect {
    let name = event.event_name().unwrap_or_default();
    if is_read_only(event, name) {
        return Effect::None;
    }
    let record: Option<Value> =
        event.cloud_trail_event().and_then(|text| serde_json::from_str(text).ok());
    let field = |key: &str| record.as_ref().and_then(|record| record.get(key));
    if field("errorCode").is_some_and(|code| !code.is_null()) {
        return Effect::None;
    }
    if service == Service::Elbv2
        && field("apiVersion").and_then(Value::as_str) == Some(CLASSIC_ELB_API_VERSION)
    {
        return Effect::None;
    }
    let region = field("awsRegion").and_then(Value::as_str);

    let mut ids = BTreeSet::new();
    let resources = event.resources().iter().map(|r| (r.resource_type(), r.resource_name()));
    // The record's own `resources` list (`{"ARN", "accountId", "type"}`) is rarer than the
    // lookup's, but says the same thing when present.
    let record_resources =
        field("resources").and_then(Value::as_array).into_iter().flatten().map(|resource| {
            let text = |key: &str| resource.get(key).and_then(Value::as_str);
            (text("type"), text("ARN"))
        });
    for (resource_type, resource_name) in resources.chain(record_resources) {
        if resource_type == Some(resource_type_of(service))
            && let Some(id) = resource_name.and_then(|name| identifier(service, name, region))
        {
            ids.insert(id);
        }
    }
    for part in ["requestParameters", "responseElements"] {
        if let Some(value) = field(part) {
            collect_ids(service, value, region, &mut ids);
        }
    }

    if !ids.is_empty() {
        Effect::Ids(ids)
    } else if changes_resources(service, base_name(name)) {
        let id = event.event_id().unwrap_or("without id");
        Effect::Undetermined(format!(
            "{name} event {id} does not say which {service} resources it changed"
        ))
    } else {
        Effect::None
    }
}

/// `ReadOnly` says so, or the name is one of a read (`Describe*`, `List*`, `Get*`, `Head*`).
fn is_read_only(event: &Event, name: &str) -> bool {
    event.read_only() == Some("true")
        || ["Describe", "List", "Get", "Head"].iter().any(|prefix| name.starts_with(prefix))
}

/// The CloudTrail resource type of the service's collected resources.
fn resource_type_of(service: Service) -> &'static str {
    match service {
        Service::Ec2 => "AWS::EC2::Instance",
        Service::Rds => "AWS::RDS::DBInstance",
        Service::S3 => "AWS::S3::Bucket",
        Service::Lambda => "AWS::Lambda::Function",
        Service::Elbv2 => "AWS::ElasticLoadBalancingV2::LoadBalancer",
    }
}

/// The record fields (lowercase) that name the service's resources, wherever they are nested
/// in `requestParameters` or `responseElements`.
fn id_fields(service: Service) -> &'static [&'static str] {
    match service {
        // `instancesSet.items[].instanceId` (Run/Start/Stop/Terminate/RebootInstances),
        // `instanceId` (ModifyInstanceAttribute, AttachVolume, …), `resourcesSet.items[].
        // resourceId` (CreateTags/DeleteTags, any resource: only `i-` ids are kept).
        Service::Ec2 => &["instanceid", "resourceid"],
        // The replica source and a renamed instance's new identifier change too; tags are
        // set by ARN (`resourceName`).
        Service::Rds => &[
            "dbinstanceidentifier",
            "newdbinstanceidentifier",
            "sourcedbinstanceidentifier",
            "targetdbinstanceidentifier",
            "readreplicasourcedbinstanceidentifier",
            "dbinstancearn",
            "resourcename",
        ],
        Service::S3 => &["bucketname"],
        // TagResource/UntagResource name the function by ARN in `resource`.
        Service::Lambda => &["functionname", "functionarn", "resource"],
        // `loadBalancers[].loadBalancerArn` (CreateLoadBalancer), `loadBalancerArn`
        // (Delete, ModifyLoadBalancerAttributes, Set*), `resourceArns` (AddTags/RemoveTags,
        // target groups too: only load balancer ARNs are kept).
        Service::Elbv2 => &["loadbalancerarn", "loadbalancerarns", "resourcearns", "resourcearn"],
    }
}

/// Write events that always change the service's collected resources: when one names none,
/// its changes cannot be narrowed. Names without the API version suffix Lambda adds.
fn changes_resources(service: Service, name: &str) -> bool {
    let names: &[&str] = match service {
        Service::Ec2 => &[
            "RunInstances",
            "StartInstances",
            "StopInstances",
            "TerminateInstances",
            "ModifyInstanceAttribute",
        ],
        Service::Rds => &[
            "CreateDBInstance",
            "CreateDBInstanceReadReplica",
            "DeleteDBInstance",
            "ModifyDBInstance",
            "StartDBInstance",
            "StopDBInstance",
            "RebootDBInstance",
            "PromoteReadReplica",
            "RestoreDBInstanceFromDBSnapshot",
            "RestoreDBInstanceToPointInTime",
            "RestoreDBInstanceFromS3",
        ],
        Service::S3 => &[
            "CreateBucket",
            "DeleteBucket",
            "PutBucketTagging",
            "DeleteBucketTagging",
            "PutBucketVersioning",
            "PutBucketEncryption",
            "DeleteBucketEncryption",
            "PutBucketPublicAccessBlock",
            "DeleteBucketPublicAccessBlock",
        ],
        Service::Lambda => &[
            "CreateFunction",
            "DeleteFunction",
            "UpdateFunctionConfiguration",
            "UpdateFunctionCode",
        ],
        Service::Elbv2 => &[
            "CreateLoadBalancer",
            "DeleteLoadBalancer",
            "ModifyLoadBalancerAttributes",
            "SetSubnets",
            "SetSecurityGroups",
            "SetIpAddressType",
        ],
    };
    names.contains(&name)
}

/// The event name without the API version Lambda appends (`CreateFunction20150331`,
/// `UpdateFunctionCode20150331v2` → `CreateFunction`, `UpdateFunctionCode`).
fn base_name(name: &str) -> &str {
    let without_revision = match name.rsplit_once('v') {
        Some((head, revision))
            if !revision.is_empty()
                && revision.bytes().all(|byte| byte.is_ascii_digit())
                && head.ends_with(|c: char| c.is_ascii_digit()) =>
        {
            head
        }
        _ => name,
    };
    without_revision.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Adds the identifiers found in `value` (a record's `requestParameters` or
/// `responseElements`) under the service's id fields, at any depth.
fn collect_ids(service: Service, value: &Value, region: Option<&str>, ids: &mut BTreeSet<String>) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                if id_fields(service).contains(&key.to_ascii_lowercase().as_str()) {
                    let texts: Vec<&str> = match child {
                        Value::String(text) => vec![text.as_str()],
                        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
                        _ => Vec::new(),
                    };
                    ids.extend(
                        texts.into_iter().filter_map(|text| identifier(service, text, region)),
                    );
                }
                collect_ids(service, child, region, ids);
            }
        }
        Value::Array(items) => {
            for item in items {
                collect_ids(service, item, region, ids);
            }
        }
        _ => {}
    }
}

/// The identifier the service's describe-by-id call takes, from a name, id or ARN found in an
/// event; `None` when it names something else (another resource type, another region).
fn identifier(service: Service, text: &str, region: Option<&str>) -> Option<String> {
    let text = text.trim();
    let arn = parse_arn(text);
    if let (Some(arn), Some(region)) = (&arn, region)
        && !arn.region.is_empty()
        && arn.region != region
    {
        return None;
    }
    match service {
        Service::Ec2 => {
            let id = match &arn {
                Some(arn) if arn.service == "ec2" => arn.resource.strip_prefix("instance/")?,
                Some(_) => return None,
                None => text,
            };
            let valid = id.strip_prefix("i-").is_some_and(|rest| {
                !rest.is_empty() && rest.bytes().all(|byte| byte.is_ascii_alphanumeric())
            });
            valid.then(|| id.to_owned())
        }
        Service::Rds => {
            let id = match &arn {
                Some(arn) if arn.service == "rds" => arn.resource.strip_prefix("db:")?,
                Some(_) => return None,
                None => text,
            };
            // RDS stores identifiers in lowercase; requests may spell them otherwise.
            (!id.is_empty() && !id.contains(':')).then(|| id.to_ascii_lowercase())
        }
        Service::S3 => {
            let name = match &arn {
                Some(arn) if arn.service == "s3" => arn.resource,
                Some(_) => return None,
                None => text,
            };
            (!name.is_empty() && !name.contains(['/', ':'])).then(|| name.to_owned())
        }
        Service::Lambda => {
            // `name`, `name:qualifier`, `account:function:name[:qualifier]` or a full ARN.
            let rest = match &arn {
                Some(arn) if arn.service == "lambda" => arn.resource.strip_prefix("function:")?,
                Some(_) => return None,
                None => text.split_once(":function:").map_or(text, |(_, rest)| rest),
            };
            let name = rest.split(':').next().unwrap_or_default();
            (!name.is_empty()).then(|| name.to_owned())
        }
        Service::Elbv2 => {
            let arn = arn.as_ref().filter(|arn| arn.service == "elasticloadbalancing")?;
            let version2 = ["loadbalancer/app/", "loadbalancer/net/", "loadbalancer/gwy/"]
                .iter()
                .any(|prefix| arn.resource.starts_with(prefix));
            version2.then(|| text.to_owned())
        }
    }
}

/// The parts of an ARN this module looks at.
struct Arn<'a> {
    service: &'a str,
    region: &'a str,
    /// Everything after the account (`instance/i-1`, `db:name`, `function:name:alias`).
    resource: &'a str,
}

fn parse_arn(text: &str) -> Option<Arn<'_>> {
    let mut parts = text.splitn(6, ':');
    if parts.next()? != "arn" {
        return None;
    }
    let _partition = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    let _account = parts.next()?;
    let resource = parts.next()?;
    Some(Arn { service, region, resource })
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudtrail::types::Resource;
    use serde_json::json;

    use super::*;

    const REGION: &str = "us-east-1";

    /// A write event as LookupEvents returns it: `Resources` and the record as a JSON string.
    fn event(service: Service, name: &str, record: Value, resources: &[(&str, &str)]) -> Event {
        let mut full = json!({
            "eventVersion": "1.09",
            "eventTime": "2026-11-25T08:00:00Z",
            "eventSource": service.event_source(),
            "eventName": name,
            "awsRegion": REGION,
            "eventID": "0f4a2b6c-1d3e-4f5a-8b9c-0d1e2f3a4b5c",
            "readOnly": false,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": "123456789012",
            "eventCategory": "Management",
        });
        if let (Some(full), Value::Object(record)) = (full.as_object_mut(), record) {
            full.extend(record);
        }
        let mut builder = Event::builder()
            .event_id("0f4a2b6c-1d3e-4f5a-8b9c-0d1e2f3a4b5c")
            .event_name(name)
            .read_only("false")
            .event_source(service.event_source())
            .cloud_trail_event(full.to_string());
        for (resource_type, resource_name) in resources {
            builder = builder.resources(
                Resource::builder()
                    .resource_type(*resource_type)
                    .resource_name(*resource_name)
                    .build(),
            );
        }
        builder.build()
    }

    fn check(service: Service, events: &[Event], expected: &[&str]) {
        let expected =
            ServiceChanges::Targeted { ids: expected.iter().map(|id| (*id).to_owned()).collect() };
        assert_eq!(service_changes(service, events, MAX_TARGETED_IDS), expected);
    }

    fn check_relist(service: Service, events: &[Event], reason_contains: &str) {
        match service_changes(service, events, MAX_TARGETED_IDS) {
            ServiceChanges::Relist { reason } => {
                assert!(reason.contains(reason_contains), "{reason}")
            }
            targeted => panic!("expected a relisting, got {targeted:?}"),
        }
    }

    #[test]
    fn ec2_instances_from_resources_and_records() {
        let stop = event(
            Service::Ec2,
            "StopInstances",
            json!({
                "requestParameters": {
                    "instancesSet": {"items": [{"instanceId": "i-0aaa"}]},
                    "force": false
                },
                "responseElements": {"instancesSet": {"items": [{
                    "instanceId": "i-0aaa",
                    "currentState": {"code": 64, "name": "stopping"},
                    "previousState": {"code": 16, "name": "running"}
                }]}}
            }),
            &[("AWS::EC2::Instance", "i-0aaa")],
        );
        let tags = event(
            Service::Ec2,
            "CreateTags",
            json!({"requestParameters": {
                "resourcesSet": {"items": [{"resourceId": "i-0bbb"}, {"resourceId": "vol-0ccc"}]},
                "tagSet": {"items": [{"key": "env", "value": "prod"}]}
            }}),
            &[],
        );
        let volume = event(
            Service::Ec2,
            "CreateVolume",
            json!({"requestParameters": {"size": 8}, "responseElements": {"volumeId": "vol-1"}}),
            &[("AWS::EC2::Volume", "vol-1")],
        );
        check(Service::Ec2, &[stop, tags, volume], &["i-0aaa", "i-0bbb"]);
    }

    #[test]
    fn ec2_run_instances_takes_ids_from_the_response() {
        let run = event(
            Service::Ec2,
            "RunInstances",
            json!({
                "requestParameters": {"instancesSet": {"items": [{"imageId": "ami-1", "minCount": 2, "maxCount": 2}]}},
                "responseElements": {"reservationId": "r-1", "instancesSet": {"items": [
                    {"instanceId": "i-0new1", "imageId": "ami-1", "instanceState": {"code": 0, "name": "pending"}},
                    {"instanceId": "i-0new2", "imageId": "ami-1", "instanceState": {"code": 0, "name": "pending"}}
                ]}}
            }),
            &[],
        );
        check(Service::Ec2, &[run], &["i-0new1", "i-0new2"]);
    }

    #[test]
    fn reads_and_failed_calls_change_nothing() {
        let mut describe = event(
            Service::Ec2,
            "DescribeInstances",
            json!({"requestParameters": {"instancesSet": {"items": [{"instanceId": "i-0read"}]}}}),
            &[("AWS::EC2::Instance", "i-0read")],
        );
        describe.read_only = Some("true".into());
        // A read whose ReadOnly field is missing still reads by its name.
        let mut get = event(
            Service::S3,
            "GetBucketTagging",
            json!({"requestParameters": {"bucketName": "b"}}),
            &[],
        );
        get.read_only = None;
        let denied = event(
            Service::Ec2,
            "TerminateInstances",
            json!({
                "errorCode": "Client.UnauthorizedOperation",
                "errorMessage": "You are not authorized to perform this operation.",
                "requestParameters": {"instancesSet": {"items": [{"instanceId": "i-0kept"}]}},
                "responseElements": null
            }),
            &[],
        );
        check(Service::Ec2, &[describe, denied], &[]);
        check(Service::S3, &[get], &[]);
    }

    #[test]
    fn rds_instances_their_sources_and_renames() {
        let replica = event(
            Service::Rds,
            "CreateDBInstanceReadReplica",
            json!({
                "requestParameters": {"dBInstanceIdentifier": "PG-Replica", "sourceDBInstanceIdentifier": "pg-main"},
                "responseElements": {
                    "dBInstanceIdentifier": "pg-replica",
                    "dBInstanceArn": "arn:aws:rds:us-east-1:123456789012:db:pg-replica",
                    "readReplicaSourceDBInstanceIdentifier": "pg-main",
                    "dBInstanceStatus": "creating"
                }
            }),
            &[("AWS::RDS::DBInstance", "pg-replica")],
        );
        let rename = event(
            Service::Rds,
            "ModifyDBInstance",
            json!({"requestParameters": {"dBInstanceIdentifier": "old", "newDBInstanceIdentifier": "new", "applyImmediately": true}}),
            &[],
        );
        let tag = event(
            Service::Rds,
            "AddTagsToResource",
            json!({"requestParameters": {
                "resourceName": "arn:aws:rds:us-east-1:123456789012:db:tagged",
                "tags": [{"key": "env", "value": "prod"}]
            }}),
            &[],
        );
        let snapshot_tag = event(
            Service::Rds,
            "AddTagsToResource",
            json!({"requestParameters": {"resourceName": "arn:aws:rds:us-east-1:123456789012:snapshot:s1"}}),
            &[],
        );
        let cross_region = event(
            Service::Rds,
            "DeleteDBInstance",
            json!({"requestParameters": {"dBInstanceIdentifier": "gone", "skipFinalSnapshot": true},
                   "responseElements": {"readReplicaSourceDBInstanceIdentifier": "arn:aws:rds:eu-west-1:123456789012:db:far"}}),
            &[],
        );
        check(
            Service::Rds,
            &[replica, rename, tag, snapshot_tag, cross_region],
            &["gone", "new", "old", "pg-main", "pg-replica", "tagged"],
        );
    }

    #[test]
    fn s3_buckets() {
        let delete = event(
            Service::S3,
            "DeleteBucket",
            json!({"requestParameters": {"bucketName": "old-logs", "Host": "old-logs.s3.amazonaws.com"}, "responseElements": null}),
            &[("AWS::S3::Bucket", "old-logs")],
        );
        let versioning = event(
            Service::S3,
            "PutBucketVersioning",
            json!({"requestParameters": {
                "bucketName": "dumps",
                "VersioningConfiguration": {"Status": "Enabled", "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"},
                "versioning": ""
            }}),
            &[],
        );
        check(Service::S3, &[delete, versioning], &["dumps", "old-logs"]);
    }

    #[test]
    fn lambda_functions_by_name_or_arn_with_versioned_event_names() {
        let update = event(
            Service::Lambda,
            "UpdateFunctionConfiguration20150331v2",
            json!({
                "requestParameters": {"functionName": "arn:aws:lambda:us-east-1:123456789012:function:thumbnailer", "memorySize": 512},
                "responseElements": {"functionName": "thumbnailer", "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:thumbnailer"}
            }),
            &[],
        );
        let tag = event(
            Service::Lambda,
            "TagResource20170331v2",
            json!({"requestParameters": {"resource": "arn:aws:lambda:us-east-1:123456789012:function:resizer:prod", "tags": {"team": "media"}}}),
            &[],
        );
        let partial = event(
            Service::Lambda,
            "DeleteFunction20150331",
            json!({"requestParameters": {"functionName": "123456789012:function:old-job"}}),
            &[],
        );
        let mapping = event(
            Service::Lambda,
            "TagResource20170331v2",
            json!({"requestParameters": {"resource": "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:1234"}}),
            &[],
        );
        check(
            Service::Lambda,
            &[update, tag, partial, mapping],
            &["old-job", "resizer", "thumbnailer"],
        );
        assert_eq!(base_name("UpdateFunctionCode20150331v2"), "UpdateFunctionCode");
        assert_eq!(base_name("CreateFunction20150331"), "CreateFunction");
        assert_eq!(base_name("StopInstances"), "StopInstances");
    }

    #[test]
    fn elbv2_load_balancers_by_arn_only() {
        let arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188";
        let create = event(
            Service::Elbv2,
            "CreateLoadBalancer",
            json!({
                "apiVersion": "2015-12-01",
                "requestParameters": {"name": "web", "subnets": ["subnet-1", "subnet-2"], "scheme": "internet-facing"},
                "responseElements": {"loadBalancers": [{"loadBalancerArn": arn, "loadBalancerName": "web", "type": "application"}]}
            }),
            &[],
        );
        let tags = event(
            Service::Elbv2,
            "AddTags",
            json!({"apiVersion": "2015-12-01", "requestParameters": {"resourceArns": [
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067"
            ], "tags": [{"key": "app", "value": "web"}]}}),
            &[],
        );
        let classic = event(
            Service::Elbv2,
            "DeleteLoadBalancer",
            json!({"apiVersion": "2012-06-01", "requestParameters": {"loadBalancerName": "legacy"}}),
            &[],
        );
        check(Service::Elbv2, &[create, tags, classic], &[arn]);
    }

    #[test]
    fn a_write_that_does_not_name_its_resources_relists() {
        let run = event(
            Service::Ec2,
            "RunInstances",
            json!({"requestParameters": {"instancesSet": {"items": [{"imageId": "ami-1"}]}}, "responseElements": null}),
            &[],
        );
        check_relist(Service::Ec2, &[run], "RunInstances event");
        let create = event(
            Service::Elbv2,
            "CreateLoadBalancer",
            json!({"apiVersion": "2015-12-01", "requestParameters": {"name": "web"}}),
            &[("AWS::ElasticLoadBalancingV2::LoadBalancer", "web")],
        );
        check_relist(Service::Elbv2, &[create], "does not say which elbv2 resources");
    }

    #[test]
    fn too_many_resources_relist() {
        let events: Vec<Event> = (0..=MAX_TARGETED_IDS)
            .map(|n| {
                let id = format!("i-{n:08x}");
                event(
                    Service::Ec2,
                    "StartInstances",
                    json!({}),
                    &[("AWS::EC2::Instance", id.as_str())],
                )
            })
            .collect();
        check_relist(Service::Ec2, &events, "more than 500 ec2 resources");
        match service_changes(Service::Ec2, &events[..MAX_TARGETED_IDS], MAX_TARGETED_IDS) {
            ServiceChanges::Targeted { ids } => assert_eq!(ids.len(), MAX_TARGETED_IDS),
            relist => panic!("500 ids are still targeted: {relist:?}"),
        }
    }

    #[test]
    fn other_event_sources_are_skipped_and_merges_keep_relists() {
        let bucket = event(
            Service::S3,
            "DeleteBucket",
            json!({"requestParameters": {"bucketName": "b"}}),
            &[],
        );
        check(Service::Ec2, std::slice::from_ref(&bucket), &[]);
        let targeted = service_changes(Service::S3, &[bucket], MAX_TARGETED_IDS);
        let relist = ServiceChanges::Relist { reason: "r".into() };
        assert_eq!(targeted.clone().merge(relist.clone()), relist);
        let other = ServiceChanges::Targeted { ids: ["c".to_owned()].into() };
        assert_eq!(
            targeted.merge(other),
            ServiceChanges::Targeted { ids: ["b".to_owned(), "c".to_owned()].into() }
        );
    }

    #[test]
    fn identifiers_from_arns_respect_the_region() {
        let far = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0far";
        assert_eq!(identifier(Service::Ec2, far, Some(REGION)), None);
        assert_eq!(identifier(Service::Ec2, far, None).as_deref(), Some("i-0far"));
        assert_eq!(identifier(Service::Ec2, "vol-1", Some(REGION)), None);
        assert_eq!(identifier(Service::S3, "arn:aws:s3:::b", Some(REGION)).as_deref(), Some("b"));
        assert_eq!(identifier(Service::Lambda, "f:live", None).as_deref(), Some("f"));
    }
}
