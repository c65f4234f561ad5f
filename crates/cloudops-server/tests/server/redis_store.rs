//! The Redis metadata store with a real `redis-server`: what instances share, that estate data
//! never reaches it (nor the logs), and that planning survives Redis going away.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use cloudops_core::HashEmbedder;
use cloudops_playbooks::Library;
use cloudops_server::{CatalogRecord, MetadataStore, RedisStore, ServerConfig};
use serde_json::json;

use crate::errors::inside_one_window;
use crate::support::{Binary, DESIGN_REQUEST, Redis, TestServer, metric, request};

async fn instance(redis: &Redis, config: &ServerConfig) -> TestServer {
    let store = RedisStore::connect(&redis.url(), "cloudops:").await.expect("redis connects");
    TestServer::start_with(Arc::new(HashEmbedder), Arc::new(store), config.clone()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_usage_rate_limits_and_catalog() {
    let redis = Redis::start();
    let config = ServerConfig { rate_limit_per_minute: 8, ..ServerConfig::default() };
    let a = instance(&redis, &config).await;
    let b = instance(&redis, &config).await;
    inside_one_window().await;

    for _ in 0..3 {
        assert_eq!(a.plan(DESIGN_REQUEST).await.status, 200);
    }
    for _ in 0..2 {
        assert_eq!(b.plan(DESIGN_REQUEST).await.status, 200);
    }
    // Usage counted by both instances, seen from either (6th request of the window).
    let list = b.get("/v1/playbooks").await.json();
    let stop = list["playbooks"]
        .as_array()
        .and_then(|playbooks| playbooks.iter().find(|p| p["id"] == "aws_rds_stop_instance"))
        .cloned()
        .expect("listed");
    assert_eq!(stop["plans"], 5, "{list:#}");
    // Requests 7 and 8 pass; the 9th is over the shared limit, on either instance.
    assert_eq!(a.plan(DESIGN_REQUEST).await.status, 200);
    assert_eq!(a.get("/v1/playbooks/aws_rds_stop_instance").await.status, 200);
    b.plan(DESIGN_REQUEST).await.assert_error(429, "rate_limited");
    a.plan(DESIGN_REQUEST).await.assert_error(429, "rate_limited");

    // Each instance's own metrics count its own plans.
    let plans = |text: &str| {
        metric(
            text,
            "cloudops_plans_total",
            "playbook=\"aws_rds_stop_instance\",outcome=\"executable\"",
        )
    };
    assert_eq!(plans(&a.get("/metrics").await.text()), 4.0);
    assert_eq!(plans(&b.get("/metrics").await.text()), 2.0);

    // The catalog, as published.
    let library = Library::builtin();
    let store = RedisStore::connect(&redis.url(), "cloudops:").await.expect("redis connects");
    let catalog: CatalogRecord = store.catalog().await.expect("readable").expect("published");
    assert_eq!(catalog.library, "builtin");
    assert_eq!(catalog.checksum, library.checksum());
    let ids: Vec<&str> = catalog.playbooks.iter().map(|entry| entry.id.as_str()).collect();
    let expected: Vec<&str> =
        library.playbooks().map(|loaded| loaded.playbook.id.as_str()).collect();
    assert_eq!(ids, expected);
    assert_eq!(store.usage().await.expect("readable").get("aws_rds_stop_instance"), Some(&6));

    // The keys are the documented ones, and rate-limit windows expire.
    let keys: BTreeSet<String> = redis.dump().into_iter().map(|(key, _)| key).collect();
    assert!(keys.contains("cloudops:catalog") && keys.contains("cloudops:usage"), "{keys:?}");
    let windows: Vec<&String> =
        keys.iter().filter(|key| key.starts_with("cloudops:ratelimit:")).collect();
    assert_eq!(windows.len(), 1, "{keys:?}");
    let mut connection = redis.connection().expect("redis answers");
    let ttl: i64 = redis::cmd("TTL").arg(windows[0]).query(&mut connection).expect("TTL");
    assert!((1..=120).contains(&ttl), "ttl {ttl}");

    let health = a.get("/healthz").await.json();
    assert_eq!(health["metadata"], json!({"backend": "redis", "ok": true}));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planning_survives_redis_going_away() {
    let redis = Redis::start();
    let server = instance(&redis, &ServerConfig::default()).await;
    assert_eq!(server.plan(DESIGN_REQUEST).await.status, 200);
    drop(redis);
    for _ in 0..3 {
        let reply = server.plan(DESIGN_REQUEST).await;
        assert_eq!(reply.status, 200, "{}", reply.text());
    }
    let health = server.get("/healthz").await.json();
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["metadata"]["ok"], false);
    let list = server.get("/v1/playbooks").await.json();
    assert!(list["playbooks"][0].get("plans").is_none(), "{list:#}");
    let text = server.get("/metrics").await.text();
    assert!(metric(&text, "cloudops_metadata_errors_total", "") >= 3.0, "{text}");
    server.stop().await;
}

/// Strings that appear only in the estate data of the requests below.
const DISTINCTIVE: [&str; 8] = [
    "zq-secret-db-7781",
    "314159265358",
    "xylophone",
    "frobnitz",
    "plugh",
    "zq-region",
    "zqpath",
    "zq-route",
];

fn distinctive_request(state: &str) -> String {
    json!({
        "prompt": "Stop zq-secret-db-7781 for the xylophone cutover",
        "identified_resources": [{
            "resource_type": "rds_instance",
            "db_instance_identifier": "zq-secret-db-7781",
            "arn": "arn:aws:rds:us-west-2:314159265358:db:zq-secret-db-7781",
            "name": "zq-secret-db-7781",
            "account_id": "314159265358",
            "account_name": "frobnitz-production",
            "region": "us-west-2",
            "current_state": state,
            "engine": "postgres",
            "multi_az": true,
            "tags": {"environment": "production", "owner": "xylophone-team", "cost-center": "plugh-42"},
            "available_permissions": ["rds:StopDBInstance"],
            "constraints": {"can_stop": true, "has_read_replicas": false}
        }],
        "user_context": {"user_id": "frobnitz-user", "default_region": "us-west-2", "aws_accounts": ["314159265358"]}
    })
    .to_string()
}

#[test]
fn estate_data_reaches_neither_the_logs_nor_redis() {
    let redis = Redis::start();
    let url = redis.url();
    let mut server = Binary::start(
        &["--embedder", "hashing", "--metadata-url", &url],
        // Debug logs from every crate, the server's and its dependencies'.
        &[("RUST_LOG", "debug")],
    );
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    runtime.block_on(async {
        let address = server.address;
        let json = [("content-type", "application/json")];
        let executable =
            request(address, "POST", "/v1/plan", &json, distinctive_request("available")).await;
        assert_eq!(executable.status, 200, "{}", executable.text());
        assert_eq!(executable.json()["executable"], true, "{}", executable.text());
        assert!(executable.text().contains("zq-secret-db-7781"), "the plan names the instance");
        let refused =
            request(address, "POST", "/v1/plan", &json, distinctive_request("stopped")).await;
        assert_eq!(refused.json()["executable"], false);
        let bad_region =
            distinctive_request("available").replace("\"us-west-2\"", "\"zq-region-1x\"");
        let invalid = request(address, "POST", "/v1/plan", &json, bad_region).await;
        invalid.assert_error(422, "invalid_request");
        let malformed = format!("{}, plugh", distinctive_request("available"));
        request(address, "POST", "/v1/plan", &json, malformed)
            .await
            .assert_error(400, "malformed_json");
        request(address, "GET", "/v1/playbooks/zqpath-secret-db-7781", &[], "")
            .await
            .assert_error(404, "not_found");
        request(address, "GET", "/zq-route/314159265358", &[], "")
            .await
            .assert_error(404, "not_found");
        request(
            address,
            "POST",
            "/v1/plan",
            &[("content-type", "text/xylophone")],
            distinctive_request("available"),
        )
        .await
        .assert_error(415, "unsupported_media_type");
    });
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(30)).success());
    let logs = server.stderr();
    assert!(logs.contains("aws_rds_stop_instance"), "the access log names the playbook:\n{logs}");
    assert!(logs.contains("/v1/plan"), "the access log names the route:\n{logs}");
    for secret in DISTINCTIVE {
        assert!(!logs.contains(secret), "{secret:?} is in the logs:\n{logs}");
    }
    let stored = redis.dump();
    assert!(stored.iter().any(|(key, _)| key == "cloudops:usage"), "{stored:?}");
    for (key, value) in &stored {
        for secret in DISTINCTIVE {
            assert!(!key.contains(secret), "{secret:?} is in the Redis key {key}");
            assert!(!value.contains(secret), "{secret:?} is in the Redis value of {key}: {value}");
        }
        assert!(
            !key.contains("127.0.0.1") && !value.contains("127.0.0.1"),
            "client address stored: {key}"
        );
    }
}
