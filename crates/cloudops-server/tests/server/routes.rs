//! The read-only routes, and the OpenAPI document against the router it describes.

use std::collections::BTreeSet;

use cloudops_server::{OPENAPI, ROUTES, ServerConfig};
use serde_json::Value;

use crate::support::{DESIGN_REQUEST, TestServer, metric, request};

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn openapi() -> Value {
    serde_json::from_str(OPENAPI).expect("openapi.json is JSON")
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
    assert_eq!(documented(), routes, "openapi.json and ROUTES differ");

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
