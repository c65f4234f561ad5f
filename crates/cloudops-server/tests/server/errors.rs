//! Every way a request can fail gets a JSON error with the right status.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cloudops_core::{Embedder, HashEmbedder};
use cloudops_server::{EmbeddedStore, ServerConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{DESIGN_REQUEST, TestServer, metric, raw, raw_body, request};

const JSON: (&str, &str) = ("content-type", "application/json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_400_that_says_where() {
    let server = TestServer::start(ServerConfig::default()).await;
    let broken = "{\n  \"prompt\": \"Stop pg-instance-main1\",\n  \"identified_resources\": [\n    {\"resource_type\": \"rds_instance\",}\n  ]\n}";
    let reply = server.plan(broken).await;
    let message = reply.assert_error(400, "malformed_json");
    assert!(message.contains("line 4") && message.contains("column"), "{message}");

    let message = server.plan("").await.assert_error(400, "malformed_json");
    assert!(message.contains("EOF"), "{message}");
    server.plan(&format!("{DESIGN_REQUEST} trailing")).await.assert_error(400, "malformed_json");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests_are_422_naming_the_field() {
    let server = TestServer::start(ServerConfig::default()).await;
    // The wrong type for a field.
    let mut request: serde_json::Value = serde_json::from_str(DESIGN_REQUEST).expect("JSON");
    request["user_context"]["aws_accounts"] = json!(123);
    let message = server.plan(&request.to_string()).await.assert_error(422, "invalid_request");
    assert!(message.contains("user_context.aws_accounts"), "{message}");
    // A required field missing.
    let message =
        server.plan(r#"{"identified_resources": []}"#).await.assert_error(422, "invalid_request");
    assert!(message.contains("prompt"), "{message}");
    // Well-formed, but the planner refuses it: not an account id.
    let mut request: serde_json::Value = serde_json::from_str(DESIGN_REQUEST).expect("JSON");
    request["identified_resources"][0]["account_id"] = json!("12345");
    let message = server.plan(&request.to_string()).await.assert_error(422, "invalid_request");
    assert!(message.contains("account_id"), "{message}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_not_declared_json_is_415() {
    let server = TestServer::start(ServerConfig::default()).await;
    let address = server.address;
    request(address, "POST", "/v1/plan", &[("content-type", "text/plain")], DESIGN_REQUEST)
        .await
        .assert_error(415, "unsupported_media_type");
    request(address, "POST", "/v1/plan", &[], DESIGN_REQUEST)
        .await
        .assert_error(415, "unsupported_media_type");
    let charset = request(
        address,
        "POST",
        "/v1/plan",
        &[("content-type", "application/json; charset=utf-8")],
        DESIGN_REQUEST,
    )
    .await;
    assert_eq!(charset.status, 200, "{}", charset.text());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_413() {
    let config = ServerConfig { max_body_bytes: 256 * 1024, ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    // Declared too large.
    let big = format!(r#"{{"prompt": "{}"}}"#, "a".repeat(300 * 1024));
    let message = server.plan(&big).await.assert_error(413, "payload_too_large");
    assert!(message.contains("262144"), "{message}");
    // Not declared (chunked), found too large while reading.
    let chunk = "b".repeat(64 * 1024);
    let mut raw_request = String::from(
        "POST /v1/plan HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
    );
    for _ in 0..5 {
        raw_request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    raw_request.push_str("0\r\n\r\n");
    let response = raw(server.address, raw_request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{}", &response[..response.len().min(300)]);
    assert_eq!(raw_body(&response)["code"], "payload_too_large");
    // Just under the limit is read (and then judged on its content).
    let under = format!(r#"{{"prompt": "{}"}}"#, "a".repeat(200 * 1024));
    server.plan(&under).await.assert_error(422, "invalid_request");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_and_playbooks_are_404() {
    let server = TestServer::start(ServerConfig::default()).await;
    server.get("/nope").await.assert_error(404, "not_found");
    server.get("/v1/plan/extra").await.assert_error(404, "not_found");
    server.get("/v1/playbooks/aws_no_such_playbook").await.assert_error(404, "not_found");
    server.get("/v1/playbooks/%FF%FE").await.assert_error(404, "not_found");
    let text = server.get("/metrics").await.text();
    assert_eq!(
        metric(&text, "cloudops_http_requests_total", "route=\"unmatched\",status=\"404\""),
        2.0
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_methods_are_405() {
    let server = TestServer::start(ServerConfig::default()).await;
    let address = server.address;
    let reply = request(address, "GET", "/v1/plan", &[], "").await;
    reply.assert_error(405, "method_not_allowed");
    assert_eq!(reply.headers.get("allow").and_then(|v| v.to_str().ok()), Some("POST"));
    request(address, "DELETE", "/v1/playbooks", &[], "")
        .await
        .assert_error(405, "method_not_allowed");
    request(address, "PUT", "/v1/playbooks/aws_rds_stop_instance", &[JSON], "{}")
        .await
        .assert_error(405, "method_not_allowed");
    server.stop().await;
}

/// Waits, when needed, so that the next few seconds stay inside one rate-limit window.
pub async fn inside_one_window() {
    let second = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 60;
    if second >= 50 {
        tokio::time::sleep(Duration::from_secs(61 - second)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_rate_limit_is_429_with_retry_after() {
    let config = ServerConfig { rate_limit_per_minute: 3, ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    inside_one_window().await;
    for _ in 0..2 {
        assert_eq!(server.plan(DESIGN_REQUEST).await.status, 200);
    }
    assert_eq!(server.get("/v1/playbooks").await.status, 200);
    let limited = server.plan(DESIGN_REQUEST).await;
    limited.assert_error(429, "rate_limited");
    let retry_after: u64 = limited
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a numeric Retry-After");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    server.get("/v1/playbooks").await.assert_error(429, "rate_limited");
    // Health, metrics and the API description are not limited.
    for path in ["/healthz", "/metrics", "/openapi.json"] {
        assert_eq!(server.get(path).await.status, 200, "{path}");
    }
    let text = server.get("/metrics").await.text();
    assert_eq!(metric(&text, "cloudops_rate_limited_total", ""), 2.0, "{text}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_for_keys_clients_only_when_trusted() {
    let get = |address, forwarded: &'static str| async move {
        request(address, "GET", "/v1/playbooks", &[("x-forwarded-for", forwarded)], "").await.status
    };
    for trusted in [true, false] {
        let config = ServerConfig {
            rate_limit_per_minute: 1,
            trust_forwarded_for: trusted,
            ..ServerConfig::default()
        };
        let server = TestServer::start(config).await;
        inside_one_window().await;
        assert_eq!(get(server.address, "10.9.8.7, 203.0.113.1").await, 200);
        assert_eq!(get(server.address, "203.0.113.1").await, 429);
        // Another client behind the proxy has its own window; unless the header is not
        // trusted, and every request is the peer's.
        let other = get(server.address, "203.0.113.1, 203.0.113.2").await;
        assert_eq!(other, if trusted { 200 } else { 429 }, "trusted: {trusted}");
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_too_slow_to_arrive_times_out_with_503() {
    let config =
        ServerConfig { request_timeout: Duration::from_millis(300), ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    let head = format!(
        "POST /v1/plan HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        DESIGN_REQUEST.len()
    );
    let mut stream = tokio::net::TcpStream::connect(server.address).await.expect("connects");
    stream.write_all(head.as_bytes()).await.expect("writes");
    stream.write_all(&DESIGN_REQUEST.as_bytes()[..20]).await.expect("writes");
    let started = Instant::now();
    let mut response = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut response))
        .await
        .expect("a response before the body is complete")
        .expect("reads");
    assert!(started.elapsed() < Duration::from_secs(3));
    let response = String::from_utf8_lossy(&response[..read]).into_owned();
    assert!(response.starts_with("HTTP/1.1 503"), "{response}");
    assert_eq!(raw_body(&response)["code"], "timeout");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_cut_off() {
    let config =
        ServerConfig { header_read_timeout: Duration::from_millis(300), ..ServerConfig::default() };
    let server = TestServer::start(config).await;
    let mut stream = tokio::net::TcpStream::connect(server.address).await.expect("connects");
    stream.write_all(b"POST /v1/plan HTTP/1.1\r\nhost: x\r\n").await.expect("writes");
    let started = Instant::now();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("the server closes the connection")
        .ok();
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(!String::from_utf8_lossy(&response).contains("200 OK"));
    // An idle keep-alive connection is closed after the same time.
    let mut stream = tokio::net::TcpStream::connect(server.address).await.expect("connects");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.expect("writes");
    let started = Instant::now();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .expect("the server closes the idle connection")
        .expect("reads");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(String::from_utf8_lossy(&response).starts_with("HTTP/1.1 200"));
    // The server still serves others.
    assert_eq!(server.get("/healthz").await.status, 200);
    server.stop().await;
}

/// An embedder that fails on demand once the catalog is built.
struct Sabotaged {
    armed: AtomicBool,
}

impl Embedder for Sabotaged {
    fn name(&self) -> &str {
        HashEmbedder.name()
    }

    fn is_semantic(&self) -> bool {
        false
    }

    fn embed(&self, texts: &[&str]) -> cloudops_core::Result<Vec<Vec<f32>>> {
        if self.armed.load(Ordering::SeqCst) {
            let text = texts.join(" ").to_lowercase();
            if text.contains("explode") {
                panic!("secret internal detail: the embedder exploded at 0xdeadbeef");
            }
            if text.contains("unplug") {
                return Err(cloudops_core::Error::Model(
                    "secret detail: /srv/models/x.bin is gone".into(),
                ));
            }
        }
        HashEmbedder.embed(texts)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_faults_are_500_and_503_without_details() {
    let embedder = Arc::new(Sabotaged { armed: AtomicBool::new(false) });
    let server = TestServer::start_with(
        embedder.clone(),
        Arc::new(EmbeddedStore::new()),
        ServerConfig::default(),
    )
    .await;
    embedder.armed.store(true, Ordering::SeqCst);
    let with_prompt = |prompt: &str| {
        let mut request: serde_json::Value = serde_json::from_str(DESIGN_REQUEST).expect("JSON");
        request["prompt"] = json!(prompt);
        request.to_string()
    };
    let message =
        server.plan(&with_prompt("explode pg-instance-main1")).await.assert_error(500, "internal");
    assert!(!message.contains("secret") && !message.contains("0xdeadbeef"), "{message}");
    let message = server
        .plan(&with_prompt("unplug pg-instance-main1"))
        .await
        .assert_error(503, "unavailable");
    assert!(!message.contains("secret") && !message.contains("/srv"), "{message}");
    // The server keeps serving.
    assert_eq!(server.plan(DESIGN_REQUEST).await.status, 200);
    server.stop().await;
}
