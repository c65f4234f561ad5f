//! The route handlers, and the request body extractor that turns every way a body can be
//! wrong into a JSON error with the right status.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cloudops_core::{EnrichedRequest, PlanResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::metrics::Outcome;
use crate::middleware::metadata_failed;
use crate::openapi::{
    Internal, InvalidRequest, MalformedJson, NotFound, PayloadTooLarge, RateLimited, Unavailable,
    UnsupportedMediaType, schema,
};
use crate::{AppState, LibraryInfo};

/// What the access log may say about a plan: set on the response by [`plan`].
#[derive(Debug, Clone)]
pub(crate) struct PlanLog {
    pub(crate) playbook: Option<String>,
    pub(crate) outcome: Outcome,
}

/// A JSON body parsed as an [`EnrichedRequest`].
pub(crate) struct PlanRequest(pub(crate) EnrichedRequest);

impl FromRequest<Arc<AppState>> for PlanRequest {
    type Rejection = Error;

    async fn from_request(request: Request, state: &Arc<AppState>) -> Result<Self> {
        if !is_json(request.headers().get(header::CONTENT_TYPE)) {
            return Err(Error::UnsupportedMediaType);
        }
        let limit = state.config.max_body_bytes;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(Error::PayloadTooLarge { limit });
        }
        let body = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge { limit }
            } else {
                Error::MalformedJson("the request body could not be read completely".to_owned())
            }
        })?;
        parse_request(&body).map(PlanRequest)
    }
}

/// `application/json`, with parameters, or any `+json` type.
fn is_json(content_type: Option<&HeaderValue>) -> bool {
    let Some(essence) = content_type
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::trim)
    else {
        return false;
    };
    essence.eq_ignore_ascii_case("application/json")
        || (essence.len() > 5
            && essence.get(..12).is_some_and(|prefix| prefix.eq_ignore_ascii_case("application/"))
            && essence
                .get(essence.len() - 5..)
                .is_some_and(|suffix| suffix.eq_ignore_ascii_case("+json")))
}

/// Parses a request body, saying where it is wrong: syntax errors (400) by line and column,
/// shape errors (422) by field path.
pub(crate) fn parse_request(body: &[u8]) -> Result<EnrichedRequest> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let request: EnrichedRequest =
        serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            let path = error.path().to_string();
            let inner = error.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data => {
                    if path == "." {
                        Error::InvalidRequest(format!("invalid request: {inner}"))
                    } else {
                        Error::InvalidRequest(format!("invalid request at {path}: {inner}"))
                    }
                }
                _ => Error::MalformedJson(format!("malformed JSON: {inner}")),
            }
        })?;
    deserializer.end().map_err(|error| {
        Error::MalformedJson(format!("malformed JSON after the request: {error}"))
    })?;
    Ok(request)
}

/// Plan an operation on resources the client identified
///
/// The client resolves the operator's resources locally and sends them with the operator's
/// words; the answer explains the plan and gives the AWS CLI script, its risk and whether it
/// needs approval.
#[utoipa::path(
    post,
    path = "/v1/plan",
    operation_id = "plan",
    request_body(
        content = EnrichedRequest,
        content_type = "application/json",
        description = "At most 256 KiB by default. Unknown fields are tolerated.",
        example = crate::openapi::plan_request_example,
    ),
    responses(
        (
            status = 200,
            description = "A plan. When no playbook matches or a precondition fails, `executable` is false and `explain_plan` says why.",
            body = PlanResponse,
        ),
        (status = 400, response = MalformedJson),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = InvalidRequest),
        (status = 429, response = RateLimited),
        (status = 500, response = Internal),
        (status = 503, response = Unavailable),
    ),
)]
pub(crate) async fn plan(
    State(state): State<Arc<AppState>>,
    PlanRequest(request): PlanRequest,
) -> Result<Response> {
    let started = Instant::now();
    let permit = state
        .plan_slots
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::Unavailable("the server is shutting down".to_owned()))?;
    let planner = state.planner.clone();
    let request = Arc::new(request);
    let for_planner = request.clone();
    // Planning is CPU work (retrieval, embedding with the model): keep it off the threads
    // that serve connections.
    let planned = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        planner.plan(&for_planner)
    })
    .await;
    let mut plan: PlanResponse = planner_result(planned)?;
    // Not confident, and an advisor configured: let it choose among the retrieved playbooks,
    // for an action only (it may narrow the choice, never turn a question into a change).
    if let Some(advisor) = &state.advisor
        && plan.intent_class == Some(cloudops_core::IntentClass::Action)
        && plan.playbook.is_none()
        && !plan.alternatives.is_empty()
        && let Some(first) = request.identified_resources.first()
    {
        let words =
            cloudops_playbooks::retrieval_text(&request.prompt, &request.identified_resources);
        match advisor.choose(&words, first.resource_type.as_str(), &plan.alternatives).await {
            Ok(Some(id)) => {
                let planner = state.planner.clone();
                let for_planner = request.clone();
                let advised = tokio::task::spawn_blocking(move || {
                    let timestamp = cloudops_core::time::minute_stamp(std::time::SystemTime::now());
                    planner.plan_with_playbook(&for_planner, &id, 0.5, &timestamp)
                })
                .await;
                let mut advised = planner_result(advised)?;
                advised.explain_plan.push_str(
                    " (The playbook was chosen by the configured language model among the retrieved ones; check it fits.)",
                );
                plan = advised;
            }
            Ok(None) => {}
            Err(problem) => tracing::warn!(%problem, "the advisor gave no usable answer"),
        }
    }
    state.metrics.observe_plan_latency(started.elapsed());
    let playbook = plan.playbook.as_ref().map(|playbook| playbook.id.clone());
    let outcome = match (&playbook, plan.executable) {
        (None, _) => Outcome::NoMatch,
        (Some(_), true) => Outcome::Executable,
        (Some(_), false) => Outcome::Refused,
    };
    state.metrics.count_plan(playbook.as_deref(), outcome);
    if let Some(id) = &playbook
        && let Err(error) = state.metadata.count_plan(id).await
    {
        metadata_failed(&state, &error);
    }
    let mut response = Json(plan).into_response();
    response.extensions_mut().insert(PlanLog { playbook, outcome });
    Ok(response)
}

/// What `GET /v1/playbooks` answers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlaybookList<'a> {
    /// Where the library came from.
    library: &'a LibraryInfo,
    /// Every playbook served.
    playbooks: Vec<PlaybookListEntry<'a>>,
}

/// One playbook in the list.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PlaybookListEntry<'a> {
    /// The playbook's id, for `GET /v1/playbooks/{id}`.
    id: &'a str,
    /// The playbook's version.
    version: &'a str,
    /// What it does, for people.
    title: &'a str,
    /// The AWS service it operates on.
    service: &'a str,
    /// The kinds of resource it applies to.
    resource_types: &'a [String],
    /// The operation it carries out.
    operation: &'a str,
    /// The BLAKE3 checksum of its file.
    checksum: &'a str,
    /// Plans made with it by every instance sharing the metadata store; absent when the
    /// store is unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    plans: Option<u64>,
}

/// The playbooks served, and where the library came from
#[utoipa::path(
    get,
    path = "/v1/playbooks",
    operation_id = "listPlaybooks",
    responses(
        (status = 200, description = "The library and its playbooks.", body = PlaybookList<'_>),
        (status = 429, response = RateLimited),
    ),
)]
pub(crate) async fn list_playbooks(State(state): State<Arc<AppState>>) -> Response {
    let usage = match state.metadata.usage().await {
        Ok(usage) => Some(usage),
        Err(error) => {
            metadata_failed(&state, &error);
            None
        }
    };
    let library = state.planner.library();
    let playbooks: Vec<PlaybookListEntry<'_>> = library
        .playbooks()
        .map(|loaded| {
            let playbook = &loaded.playbook;
            PlaybookListEntry {
                id: &playbook.id,
                version: &playbook.version,
                title: &playbook.title,
                service: playbook.service.as_str(),
                resource_types: &playbook.resource_types,
                operation: &playbook.operation,
                checksum: &loaded.checksum,
                plans: usage
                    .as_ref()
                    .map(|usage| usage.get(&playbook.id).copied().unwrap_or_default()),
            }
        })
        .collect();
    Json(PlaybookList { library: &state.library, playbooks }).into_response()
}

/// One playbook, in full
///
/// The playbook as JSON, with its checksum as entity tag.
#[utoipa::path(
    get,
    path = "/v1/playbooks/{id}",
    operation_id = "getPlaybook",
    params(("id" = String, Path, description = "The playbook's id.", example = "aws_rds_stop_instance")),
    responses(
        (
            status = 200,
            description = "The playbook as JSON (the shape of /v1/schemas/playbook). The ETag is the file's BLAKE3 checksum.",
            body = Object,
            headers(("ETag" = String, description = "The playbook file's BLAKE3 checksum, quoted.")),
        ),
        (status = 404, response = NotFound),
        (status = 429, response = RateLimited),
    ),
)]
pub(crate) async fn get_playbook(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response> {
    let unknown =
        || Error::NotFound("no playbook with this id; GET /v1/playbooks lists them".into());
    let Path(id) = id.map_err(|_| unknown())?;
    let loaded = state.planner.library().get(&id).ok_or_else(unknown)?;
    let mut response = Json(&loaded.playbook).into_response();
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", loaded.checksum)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// The JSON Schema of playbook files, for editors
#[utoipa::path(
    get,
    path = "/v1/schemas/playbook",
    operation_id = "playbookSchema",
    responses(
        (status = 200, description = "A JSON Schema.", body = Object),
        (status = 429, response = RateLimited),
    ),
)]
pub(crate) async fn playbook_schema(State(state): State<Arc<AppState>>) -> Response {
    json_bytes(state.playbook_schema.clone())
}

/// What `GET /healthz` answers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health<'a> {
    /// `degraded` when the metadata store does not answer.
    status: HealthStatus,
    /// Valid playbooks served.
    playbooks: usize,
    /// The Git commit of a directory library in a repository.
    #[schema(required = true)]
    commit: Option<&'a str>,
    /// The checksum over every playbook.
    checksum: &'a str,
    /// The embedder used for playbook retrieval.
    embedder: &'a str,
    /// The metadata store.
    metadata: MetadataHealth,
}

/// Whether the server has everything it needs.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HealthStatus {
    /// Everything answers.
    Ok,
    /// Planning works; rate limits and usage counters are missing.
    Degraded,
}

/// The metadata store, in `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MetadataHealth {
    /// Which store is configured.
    #[schema(value_type = schema::MetadataBackend)]
    backend: &'static str,
    /// Whether it answered.
    ok: bool,
}

/// Liveness and what is served
///
/// Always 200 while the server runs. `status` is `degraded` when the metadata store does not
/// answer: plans are still made, without rate limits and usage counters.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    responses((status = 200, description = "The server is up.", body = Health<'_>)),
)]
pub(crate) async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let metadata_ok = match state.metadata.ping().await {
        Ok(()) => true,
        Err(error) => {
            metadata_failed(&state, &error);
            false
        }
    };
    Json(Health {
        // Degraded still plans: only rate limits and usage counters are missing.
        status: if metadata_ok { HealthStatus::Ok } else { HealthStatus::Degraded },
        playbooks: state.library.playbooks,
        commit: state.library.commit.as_deref(),
        checksum: &state.library.checksum,
        embedder: &state.embedder,
        metadata: MetadataHealth { backend: state.metadata.backend(), ok: metadata_ok },
    })
    .into_response()
}

/// Prometheus metrics
///
/// cloudops_http_requests_total{route,status}, cloudops_plan_duration_seconds (histogram),
/// cloudops_plans_total{playbook,outcome}, cloudops_playbooks, cloudops_library_problems,
/// cloudops_rate_limited_total, cloudops_metadata_errors_total.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    responses((
        status = 200,
        description = "The Prometheus text exposition format, version 0.0.4.",
        body = String,
        content_type = "text/plain",
    )),
)]
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(crate::metrics::CONTENT_TYPE))],
        state.metrics.render(),
    )
        .into_response()
}

/// This document
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    responses((
        status = 200,
        description = "The OpenAPI 3.1 description of the API.",
        body = Object,
    )),
)]
pub(crate) async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    json_bytes(state.openapi.clone())
}

/// Any path that is not a route.
pub(crate) async fn no_route() -> Error {
    Error::NotFound("no such route; GET /openapi.json describes the API".into())
}

/// A route with a method it does not serve.
pub(crate) async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

fn json_bytes(bytes: Bytes) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
}

/// A planner task's result, as a plan or the error the client gets.
fn planner_result(
    planned: std::result::Result<cloudops_playbooks::Result<PlanResponse>, tokio::task::JoinError>,
) -> Result<PlanResponse> {
    match planned {
        Ok(Ok(plan)) => Ok(plan),
        Ok(Err(error)) => Err(Error::from_planner(error)),
        Err(error) if error.is_panic() => Err(Error::Internal("the planner panicked".into())),
        Err(_) => Err(Error::Internal("the planner task was cancelled".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types() {
        let check = |value: &str, expected: bool| {
            let header = HeaderValue::from_str(value).ok();
            assert_eq!(is_json(header.as_ref()), expected, "{value}");
        };
        check("application/json", true);
        check("application/json; charset=utf-8", true);
        check("Application/JSON", true);
        check("application/merge-patch+json", true);
        check("text/plain", false);
        check("application/x-www-form-urlencoded", false);
        check("+json", false);
        assert!(!is_json(None));
    }

    #[test]
    fn errors_say_where() {
        let syntax = parse_request(b"{\"prompt\": \"x\",\n  \"identified_resources\": [,]}");
        match syntax {
            Err(Error::MalformedJson(message)) => assert!(message.contains("line 2"), "{message}"),
            other => panic!("expected a syntax error, got {other:?}"),
        }
        let shape = parse_request(br#"{"prompt": "x", "identified_resources": [{"resource_type": "rds_instance", "account_id": 1, "region": "us-west-2"}]}"#);
        match shape {
            Err(Error::InvalidRequest(message)) => {
                assert!(message.contains("identified_resources[0].account_id"), "{message}")
            }
            other => panic!("expected a shape error, got {other:?}"),
        }
        assert!(matches!(parse_request(b"{\"prompt\": \"x\"} {}"), Err(Error::MalformedJson(_))));
        assert!(matches!(parse_request(b""), Err(Error::MalformedJson(_))));
        assert!(matches!(parse_request(b"[]"), Err(Error::InvalidRequest(_))));
    }
}
