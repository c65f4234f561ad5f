//! The read-only routes, and the OpenAPI document against the router it describes and the
//! responses the server sends.

use std::collections::BTreeSet;

use cloudops_server::{ROUTES, ServerConfig, openapi_json};
use serde_json::Value;

use crate::support::{DESIGN_REQUEST, TestServer, metric, request};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn openapi() -> Value {
    serde_json::from_str(&openapi_json()).expect("the OpenAPI document is JSON")
}

/// `(METHOD, path)` of every operation in the document.
fn documented() -> BTreeSet<(String, String)> {
    let document = openapi();
    let paths = document["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("a path item")
                .keys()
                .filter(|key| METHODS.iter().any(|m| m.eq_ignore_ascii_case(key)))
                .map(|method| (method.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn concrete(path: &str) -> String {
    path.replace("{id}", "aws_rds_stop_instance")
}

#[test]
fn openapi_is_3_1_and_its_references_resolve() {
    let document = openapi();
    assert!(document["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")));
    fn references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("$ref", Value::String(reference)) => found.push(reference.clone()),
                        _ => references(value, found),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| references(item, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    references(&document, &mut found);
    assert!(!found.is_empty());
    for reference in found {
        let pointer = reference.strip_prefix('#').expect("local references only");
        assert!(document.pointer(pointer).is_some(), "unresolved {reference}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_exactly_the_routes_served() {
    let routes: BTreeSet<(String, String)> =
        ROUTES.iter().map(|(method, path)| ((*method).to_owned(), (*path).to_owned())).collect();
    assert_eq!(documented(), routes, "the OpenAPI document and ROUTES differ");

    let config = ServerConfig { rate_limit_per_minute: 0, ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    let paths: BTreeSet<&str> = ROUTES.iter().map(|(_, path)| *path).collect();
    for path in paths {
        for method in METHODS {
            let (headers, body): (&[(&str, &str)], &str) = if method == "POST" {
                (&[("content-type", "application/json")], DESIGN_REQUEST)
            } else {
                (&[], "")
            };
            let reply = request(server.address, method, &concrete(path), headers, body).await;
            if routes.contains(&(method.to_owned(), path.to_owned())) {
                assert_eq!(reply.status, 200, "{method} {path}: {}", reply.text());
            } else {
                reply.assert_error(405, "method_not_allowed");
            }
        }
    }
    server.stop().await;
}

/// Every `(method, path)` the router answers other than with "no such route" or "method not
/// allowed", among the routes listed, the documented paths and some near misses.
async fn routed(server: &TestServer) -> BTreeSet<(String, String)> {
    let document = openapi();
    let mut candidates: BTreeSet<String> =
        ROUTES.iter().map(|(_, path)| (*path).to_owned()).collect();
    candidates.extend(document["paths"].as_object().expect("paths").keys().cloned());
    for near in [
        "/",
        "/v1",
        "/v1/",
        "/v1/plans",
        "/v1/playbooks/",
        "/v1/schemas",
        "/health",
        "/openapi",
        "/docs",
    ] {
        candidates.insert(near.to_owned());
    }
    let mut served = BTreeSet::new();
    for path in candidates {
        for method in METHODS {
            let (headers, body): (&[(&str, &str)], &str) = if method == "POST" {
                (&[("content-type", "application/json")], DESIGN_REQUEST)
            } else {
                (&[], "")
            };
            let reply = request(server.address, method, &concrete(&path), headers, body).await;
            let unrouted = matches!(reply.status, 404 | 405)
                && reply.json()["code"].as_str().is_some_and(|code| {
                    code == "method_not_allowed" || reply.text().contains("no such route")
                });
            if !unrouted {
                served.insert((method.to_owned(), path.clone()));
            }
        }
    }
    served
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_routed_path_is_in_the_generated_document() {
    let config = ServerConfig { rate_limit_per_minute: 0, ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    let served = routed(&server).await;
    let documented = documented();
    for route in &served {
        assert!(documented.contains(route), "{route:?} is served but not in the OpenAPI document");
    }
    for route in &documented {
        assert!(served.contains(route), "{route:?} is documented but not served");
    }
    let document = openapi();
    for path in
        ["/v1/plan", "/v1/playbooks", "/v1/playbooks/{id}", "/healthz", "/metrics", "/openapi.json"]
    {
        assert!(document["paths"][path].is_object(), "{path} is not documented");
    }
    server.stop().await;
}

/// Whether `value` conforms to `schema`, resolving references in `document`. Stricter than
/// JSON Schema on one point: an object may only carry the properties its schema names,
/// unless the schema allows others, so that a field the document does not know is caught.
fn conforms(document: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema["$ref"].as_str() {
        let pointer = reference.strip_prefix('#').ok_or("not a local reference")?;
        let target = document.pointer(pointer).ok_or(format!("unresolved {reference}"))?;
        return conforms(document, target, value, at);
    }
    for keyword in ["oneOf", "anyOf"] {
        if let Some(alternatives) = schema[keyword].as_array() {
            let errors: Vec<String> = alternatives
                .iter()
                .filter_map(|alternative| conforms(document, alternative, value, at).err())
                .collect();
            if errors.len() == alternatives.len() {
                return Err(format!("{at}: matches no alternative of {keyword}: {errors:?}"));
            }
        }
    }
    if let Some(parts) = schema["allOf"].as_array() {
        for part in parts {
            conforms(document, part, value, at)?;
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
            _ => return Err(format!("{at}: bad type {types}")),
        };
        let matches = |name: &str| match (name, value) {
            ("null", Value::Null) | ("boolean", Value::Bool(_)) | ("string", Value::String(_)) => {
                true
            }
            ("array", Value::Array(_)) | ("object", Value::Object(_)) => true,
            ("number", Value::Number(_)) => true,
            ("integer", Value::Number(number)) => number.is_i64() || number.is_u64(),
            _ => false,
        };
        if !types.iter().any(|name| matches(name)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(allowed) = schema["enum"].as_array()
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
        for (index, item) in values.iter().enumerate() {
            conforms(document, items, item, &format!("{at}[{index}]"))?;
        }
    }
    if let Value::Object(fields) = value {
        for required in schema["required"].as_array().into_iter().flatten() {
            let name = required.as_str().unwrap_or_default();
            if !fields.contains_key(name) {
                return Err(format!("{at}: missing required {name}"));
            }
        }
        if let Some(properties) = schema["properties"].as_object() {
            let others = &schema["additionalProperties"];
            for (name, field) in fields {
                let at = format!("{at}.{name}");
                match properties.get(name) {
                    Some(property) => conforms(document, property, field, &at)?,
                    None if others.is_object() => conforms(document, others, field, &at)?,
                    None if *others == Value::Bool(true) => {}
                    None => return Err(format!("{at}: not in the schema")),
                }
            }
        }
    }
    Ok(())
}

/// The schema of the JSON body `method path` answers with `status`, in `document`.
fn response_schema<'a>(document: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let mut response = &document["paths"][path][method]["responses"][status.to_string()];
    if let Some(reference) = response["$ref"].as_str() {
        response = document.pointer(&reference[1..]).expect("a resolvable response");
    }
    let schema = &response["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "no JSON schema for {method} {path} {status}");
    schema
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_conform_to_the_document() {
    let config = ServerConfig { rate_limit_per_minute: 0, ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    let document = openapi();
    let check = |method: &str, path: &str, status: u16, body: &Value| {
        let schema = response_schema(&document, method, path, status);
        if let Err(problem) = conforms(&document, schema, body, "$") {
            panic!("{method} {path} {status} does not conform: {problem}\n{body:#}");
        }
    };

    // The example request is a valid request, and the plans made conform.
    let example =
        &document["paths"]["/v1/plan"]["post"]["requestBody"]["content"]["application/json"];
    let request_schema = &example["schema"];
    let example = &example["example"];
    assert_eq!(*example, serde_json::from_str::<Value>(DESIGN_REQUEST).expect("JSON"));
    conforms(&document, request_schema, example, "$").expect("the example request conforms");
    let mut no_match = serde_json::from_str::<Value>(DESIGN_REQUEST).expect("JSON");
    no_match["identified_resources"] = serde_json::json!([]);
    let mut refused = serde_json::from_str::<Value>(DESIGN_REQUEST).expect("JSON");
    refused["identified_resources"][0]["constraints"]["can_stop"] = Value::Bool(false);
    for body in [example.clone(), no_match, refused] {
        let reply = server.plan(&body.to_string()).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
        check("post", "/v1/plan", 200, &reply.json());
    }

    check("get", "/healthz", 200, &server.get("/healthz").await.json());
    check("get", "/v1/playbooks", 200, &server.get("/v1/playbooks").await.json());

    // Errors.
    let missing = server.get("/v1/playbooks/no_such_playbook").await;
    check("get", "/v1/playbooks/{id}", missing.status, &missing.json());
    for (headers, body) in [
        (&[("content-type", "application/json")][..], "{"),
        (&[("content-type", "application/json")][..], "{}"),
        (&[("content-type", "text/plain")][..], DESIGN_REQUEST),
    ] {
        let reply = request(server.address, "POST", "/v1/plan", headers, body).await;
        check("post", "/v1/plan", reply.status, &reply.json());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_document_is_served() {
    let server = TestServer::start(ServerConfig::default()).await;
    let reply = server.get("/openapi.json").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), openapi());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playbooks_are_listed_with_the_library() {
    let server = TestServer::start(ServerConfig::default()).await;
    let library = cloudops_playbooks::Library::builtin();
    let list = server.get("/v1/playbooks").await.json();
    assert_eq!(list["library"]["kind"], "builtin");
    assert_eq!(list["library"]["commit"], Value::Null);
    assert_eq!(list["library"]["checksum"], library.checksum());
    assert_eq!(list["library"]["playbooks"], library.len());
    let playbooks = list["playbooks"].as_array().expect("a list");
    assert_eq!(playbooks.len(), library.len());
    for entry in playbooks {
        let id = entry["id"].as_str().expect("an id");
        let loaded = library.get(id).expect("a served playbook is in the library");
        assert_eq!(entry["version"], loaded.playbook.version.as_str());
        assert_eq!(entry["title"], loaded.playbook.title.as_str());
        assert_eq!(entry["service"], loaded.playbook.service.as_str());
        assert_eq!(entry["operation"], loaded.playbook.operation.as_str());
        assert_eq!(entry["resource_types"], serde_json::json!(loaded.playbook.resource_types));
        assert_eq!(entry["checksum"], loaded.checksum.as_str());
        assert_eq!(entry["plans"], 0);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_playbook_in_full() {
    let server = TestServer::start(ServerConfig::default()).await;
    let library = cloudops_playbooks::Library::builtin();
    let loaded = library.get("aws_rds_stop_instance").expect("a built-in playbook");
    let reply = server.get("/v1/playbooks/aws_rds_stop_instance").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::to_value(&loaded.playbook).expect("serializes"));
    let etag = reply.headers.get("etag").and_then(|v| v.to_str().ok()).map(str::to_owned);
    assert_eq!(etag, Some(format!("\"{}\"", loaded.checksum)));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_playbook_schema_is_served() {
    let server = TestServer::start(ServerConfig::default()).await;
    let reply = server.get("/v1/schemas/playbook").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), cloudops_playbooks::json_schema());
    assert!(reply.json()["$schema"].is_string(), "{}", reply.text());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_metrics() {
    let server = TestServer::start(ServerConfig::default()).await;
    let health = server.get("/healthz").await;
    assert_eq!(health.status, 200);
    let health = health.json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["playbooks"], cloudops_playbooks::Library::builtin().len());
    assert_eq!(health["commit"], Value::Null);
    assert_eq!(health["metadata"]["backend"], "embedded");
    assert_eq!(health["metadata"]["ok"], true);

    assert_eq!(server.plan(DESIGN_REQUEST).await.status, 200);
    let reply = server.get("/metrics").await;
    assert_eq!(reply.status, 200);
    let content_type = reply.headers.get("content-type").and_then(|v| v.to_str().ok());
    assert_eq!(content_type, Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = reply.text();
    let requests = |labels: &str| metric(&text, "cloudops_http_requests_total", labels);
    assert_eq!(requests("route=\"/healthz\",status=\"200\""), 1.0, "{text}");
    assert_eq!(requests("route=\"/v1/plan\",status=\"200\""), 1.0, "{text}");
    assert_eq!(
        metric(&text, "cloudops_playbooks", ""),
        cloudops_playbooks::Library::builtin().len() as f64
    );
    assert_eq!(metric(&text, "cloudops_plan_duration_seconds_bucket", "le=\"+Inf\""), 1.0);
    // Every sample line is `name{labels} value` or `name value`.
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let value = line.rsplit(' ').next().expect("a value");
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    server.stop().await;
}
