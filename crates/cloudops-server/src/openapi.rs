//! The OpenAPI 3.1 document of the API, generated with `utoipa` from the handlers'
//! `#[utoipa::path]` annotations and the schemas of the types they exchange.
//!
//! Every route is registered through [`routes`], which builds the router and the document
//! together: a route cannot be served without being documented. The wire types (the request
//! and the plan) derive their schemas in `cloudops-core` (its `openapi` feature), from the
//! same definitions serde uses; a test checks real plans against them.

use std::sync::Arc;

use axum::Router;
use utoipa::openapi::{InfoBuilder, LicenseBuilder};
use utoipa::{OpenApi, ToResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ErrorBody;
use crate::{AppState, handlers};

/// What the document says about the API as a whole.
const DESCRIPTION: &str = "Enriched requests in, plans out. A stateless planner. The client \
resolves the operator's resources locally and sends them with the operator's words; the server \
answers with an explanation, an AWS CLI script, a risk assessment and an approval decision built \
from its playbook library. The server stores no estate data and holds no credentials. Every \
error is JSON {\"code\", \"message\"}. Requests to /v1/* are rate limited per client (429 with \
Retry-After).";

/// The parts of the document that are not generated from the routes.
#[derive(OpenApi)]
#[openapi(
    components(
        schemas(ErrorBody),
        responses(
            MalformedJson,
            InvalidRequest,
            UnsupportedMediaType,
            PayloadTooLarge,
            NotFound,
            RateLimited,
            Internal,
            Unavailable,
        ),
    ),
    modifiers(&ApiInfo),
)]
struct ApiDoc;

/// Sets the document's `info`: the API's own title and version, not the crate's.
struct ApiInfo;

impl utoipa::Modify for ApiInfo {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi.info = InfoBuilder::new()
            .title("CloudOps planning server")
            .version("1.0.0")
            .description(Some(DESCRIPTION))
            .license(Some(
                LicenseBuilder::new().name("Apache-2.0").identifier(Some("Apache-2.0")).build(),
            ))
            .build();
    }
}

/// The routes of the API and the document describing them, built together.
pub(crate) fn routes() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(handlers::plan))
        .routes(routes!(handlers::list_playbooks))
        .routes(routes!(handlers::get_playbook))
        .routes(routes!(handlers::playbook_schema))
        .routes(routes!(handlers::healthz))
        .routes(routes!(handlers::metrics))
        .routes(routes!(handlers::openapi))
        .split_for_parts()
}

/// The OpenAPI 3.1 document of the API, as JSON.
pub fn openapi_json() -> String {
    let (_, document) = routes();
    // The document is made of strings, maps and JSON values: it always serializes.
    document.to_pretty_json().unwrap_or_default()
}

/// The example of `POST /v1/plan`'s request body.
pub(crate) fn plan_request_example() -> serde_json::Value {
    serde_json::json!({
        "prompt": "Stop pg-instance-main1",
        "identified_resources": [
            {
                "resource_type": "rds_instance",
                "db_instance_identifier": "pg-instance-main1",
                "account_id": "123456789012",
                "region": "us-west-2",
                "current_state": "available",
                "engine": "postgres",
                "engine_version": "14.7",
                "multi_az": true,
                "tags": { "environment": "production" },
                "available_permissions": ["rds:StopDBInstance"],
                "constraints": {
                    "can_stop": true,
                    "has_read_replicas": false,
                    "automated_backups_enabled": true
                }
            }
        ],
        "user_context": {
            "user_id": "user-123",
            "default_region": "us-west-2",
            "aws_accounts": ["123456789012"]
        }
    })
}

// The error responses, shared by the operations. Each is only ever described, never built:
// the handlers answer with `Error`.

/// The body is not well-formed JSON (code `malformed_json`); the message gives the line and
/// column.
#[derive(ToResponse)]
#[allow(dead_code, reason = "a response description, never built")]
pub(crate) struct MalformedJson(ErrorBody);

/// The body is JSON but not a valid request (code `invalid_request`); the message names the
/// field.
#[derive(ToResponse)]
#[allow(dead_code, reason = "a response description, never built")]
pub(crate) struct InvalidRequest(ErrorBody);

/// The body is not declared as application/json (code `unsupported_media_type`).
#[derive(ToResponse)]
#[allow(dead_code, reason = "a response description, never built")]
pub(crate) struct UnsupportedMediaType(ErrorBody);

/// The body is larger than the server accepts (code `payload_too_large`).
#[derive(ToResponse)]
#[allow(dead_code, reason = "a response description, never built")]
pub(crate) struct PayloadTooLarge(ErrorBody);

/// No such playbook or route (code `not_found`).
#[derive(ToResponse)]
#[allow(dead_code, reason = "a response description, never built")]
pub(crate) struct NotFound(ErrorBody);

/// Too many requests from this client in the current minute (code `rate_limited`).
#[derive(ToResponse)]
#[response(headers(("Retry-After" = u64, description = "Seconds until the window ends.")))]
#[allow(dead_code, reason = "a response description, never built")]
pub(crate) struct RateLimited(ErrorBody);

/// A fault on the server's side (code `internal`); details are only in the server log.
#[derive(ToResponse)]
#[allow(dead_code, reason = "a response description, never built")]
pub(crate) struct Internal(ErrorBody);

/// The request took too long (code `timeout`) or the planner is unavailable (code
/// `unavailable`); retry later.
#[derive(ToResponse)]
#[allow(dead_code, reason = "a response description, never built")]
pub(crate) struct Unavailable(ErrorBody);

/// Schemas of the closed sets of strings the server sends (the fields themselves are
/// `&'static str`). They are descriptions only: nothing here is ever built.
#[allow(dead_code, reason = "schema descriptions, never built")]
pub(crate) mod schema {
    use utoipa::ToSchema;

    /// Where a library came from.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum LibraryKind {
        /// Built into the server.
        Builtin,
        /// Loaded from a directory.
        Directory,
    }

    /// A metadata store backend.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum MetadataBackend {
        /// In the server's memory.
        Embedded,
        /// A Redis server shared by the instances.
        Redis,
    }

    /// The stable code of an error.
    #[derive(ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub(crate) enum ErrorCode {
        /// `400`.
        MalformedJson,
        /// `422`.
        InvalidRequest,
        /// `415`.
        UnsupportedMediaType,
        /// `413`.
        PayloadTooLarge,
        /// `404`.
        NotFound,
        /// `405`.
        MethodNotAllowed,
        /// `429`.
        RateLimited,
        /// `503`.
        Timeout,
        /// `503`.
        Unavailable,
        /// `500`.
        Internal,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use cloudops_core::{
        EnrichedRequest, IdentifiedResource, Intent, IntentClass, PlanResponse, PlaybookRef,
        PlaybookSummary, ResourceType, RiskAssessment, RiskLevel, Script, SkippedTarget, Step,
        UserContext,
    };
    use serde_json::Value;

    use super::*;
    use crate::error::Error;

    fn document() -> Value {
        serde_json::from_str(&openapi_json()).expect("the document is JSON")
    }

    /// The paths in `value` whose key its schema does not describe.
    fn undescribed(document: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
        if let Some(reference) = schema["$ref"].as_str() {
            let target = document.pointer(&reference[1..]).expect("a resolvable reference");
            return undescribed(document, target, value, at);
        }
        // A composition (an `Option` is `oneOf` null and the type): the value is described if
        // one of its parts describes it entirely.
        for composition in ["oneOf", "anyOf", "allOf"] {
            if let Some(parts) = schema[composition].as_array() {
                let mut missing: Vec<Vec<String>> =
                    parts.iter().map(|part| undescribed(document, part, value, at)).collect();
                missing.sort_by_key(Vec::len);
                return missing.into_iter().next().unwrap_or_default();
            }
        }
        match value {
            Value::Object(fields) => fields
                .iter()
                .flat_map(|(name, field)| {
                    let at = format!("{at}.{name}");
                    match schema["properties"].get(name) {
                        Some(property) => undescribed(document, property, field, &at),
                        None if schema.get("additionalProperties").is_some() => Vec::new(),
                        None => vec![at],
                    }
                })
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .flat_map(|(index, item)| {
                    undescribed(document, &schema["items"], item, &format!("{at}[{index}]"))
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn step(id: &str) -> Step {
        Step {
            step_id: id.into(),
            command: "aws rds stop-db-instance".into(),
            args: vec!["--db-instance-identifier".into(), "db1".into()],
            description: "Stop it".into(),
            account_id: Some("123456789012".into()),
            capture: BTreeMap::from([("status".into(), "DBInstance.DBInstanceStatus".into())]),
            expect: Some("stopping".into()),
            target: Some("arn:aws:rds:us-east-1:123456789012:db:db1".into()),
        }
    }

    /// Every field of the core wire types, filled in, is described by their schemas. (A field
    /// added to them fails to compile here: fill it in too.)
    #[test]
    fn the_core_wire_types_are_described() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        let plan = PlanResponse {
            explain_plan: "Stops db1.".into(),
            script: Script { steps: vec![step("stop")] },
            risk_assessment: RiskAssessment {
                level: RiskLevel::High,
                reasons: vec!["production".into()],
                impact: "downtime".into(),
            },
            approval_required: true,
            playbook: Some(PlaybookRef {
                id: "aws_rds_stop_instance".into(),
                version: "1.0.0".into(),
                commit: Some("abc".into()),
            }),
            intent: Some(Intent {
                operation: "stop".into(),
                service: "rds".into(),
                confidence: 0.9,
            }),
            intent_class: Some(IntentClass::Action),
            rollback: Script { steps: vec![step("start")] },
            verification: Script { steps: vec![step("check")] },
            required_permissions: vec!["rds:StopDBInstance".into()],
            alternatives: vec![PlaybookSummary {
                id: "aws_rds_reboot_instance".into(),
                title: "Reboot".into(),
                score: 0.4,
            }],
            executable: true,
            skipped: vec![SkippedTarget {
                target: "arn:aws:rds:us-east-1:123456789012:db:db2".into(),
                name: "db2".into(),
                reason: "is stopped; stop needs it to be available".into(),
            }],
        };
        let plan = serde_json::to_value(&plan).expect("serializes");
        assert_eq!(
            undescribed(&document, &schemas["PlanResponse"], &plan, "$"),
            Vec::<String>::new()
        );

        let mut resource: IdentifiedResource =
            serde_json::from_value(plan_request_example()["identified_resources"][0].clone())
                .expect("the example resource parses");
        resource.arn = Some("arn:aws:rds:us-west-2:123456789012:db:db1".into());
        resource.id = Some("db1".into());
        resource.name = Some("Main".into());
        resource.account_name = Some("prod".into());
        let request = EnrichedRequest {
            prompt: "Stop db1".into(),
            identified_resources: vec![resource],
            user_context: UserContext {
                user_id: Some("u".into()),
                default_region: Some("us-west-2".into()),
                aws_accounts: vec!["123456789012".into()],
            },
            parameters: BTreeMap::from([("instance_type".into(), "db.t3.micro".into())]),
        };
        let request = serde_json::to_value(&request).expect("serializes");
        assert_eq!(
            undescribed(&document, &schemas["EnrichedRequest"], &request, "$"),
            Vec::<String>::new()
        );
        // Every property of the request schema is a field of the request.
        let described: Vec<&String> = schemas["EnrichedRequest"]["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .collect();
        for name in described {
            assert!(request.get(name).is_some(), "{name} is described but not a field");
        }
    }

    #[test]
    fn the_closed_sets_match_the_code() {
        let document = document();
        let schemas = &document["components"]["schemas"];
        let values = |name: &str| -> Vec<String> {
            schemas[name]["enum"]
                .as_array()
                .expect("an enum")
                .iter()
                .filter_map(|value| value.as_str().map(str::to_owned))
                .collect()
        };
        let levels = values("RiskLevel");
        for level in &levels {
            let parsed: RiskLevel = serde_json::from_value(Value::from(level.as_str()))
                .expect("a described risk level is a risk level");
            assert_eq!(parsed.as_str(), level);
        }
        let classes = values("IntentClass");
        assert_eq!(classes.len(), 5);
        for class in &classes {
            let parsed: IntentClass = serde_json::from_value(Value::from(class.as_str()))
                .expect("a described intent class is an intent class");
            assert_eq!(parsed.as_str(), class);
        }
        let codes = values("ErrorCode");
        for error in [
            Error::MalformedJson(String::new()),
            Error::InvalidRequest(String::new()),
            Error::UnsupportedMediaType,
            Error::PayloadTooLarge { limit: 1 },
            Error::NotFound(String::new()),
            Error::MethodNotAllowed,
            Error::RateLimited { retry_after: 1 },
            Error::Timeout,
            Error::Unavailable(String::new()),
            Error::Internal(String::new()),
            Error::Metadata(String::new()),
        ] {
            assert!(
                codes.iter().any(|code| code == error.code()),
                "{} not described",
                error.code()
            );
        }
        assert_eq!(values("MetadataBackend"), ["embedded", "redis"]);
        let known: Vec<&str> = ResourceType::KNOWN.iter().map(ResourceType::as_str).collect();
        assert_eq!(
            schemas["IdentifiedResource"]["properties"]["resource_type"]["$ref"],
            "#/components/schemas/ResourceType"
        );
        let examples = &schemas["ResourceType"]["examples"];
        assert_eq!(*examples, serde_json::json!(known));
    }

    #[test]
    fn the_document_is_openapi_3_1_with_every_route() {
        let document = document();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["info"]["title"], "CloudOps planning server");
        let paths = document["paths"].as_object().expect("paths");
        for (method, path) in crate::ROUTES {
            let operation = &paths[*path][method.to_ascii_lowercase()];
            assert!(operation["operationId"].is_string(), "{method} {path}");
            assert!(operation["summary"].is_string(), "{method} {path}");
        }
        assert_eq!(paths.len(), crate::ROUTES.len());
    }
}
