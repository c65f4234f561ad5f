//! `POST /v1/plan`: the design's request gets the design's plan, and every outcome is counted.

use cloudops_server::ServerConfig;
use serde_json::{Value, json};

use crate::support::{DESIGN_REQUEST, TestServer, metric};

fn design() -> Value {
    serde_json::from_str(DESIGN_REQUEST).expect("the design's request is JSON")
}

fn assert_designs_plan(plan: &Value) {
    assert_eq!(plan["executable"], true, "{plan:#}");
    assert_eq!(plan["playbook"]["id"], "aws_rds_stop_instance", "{plan:#}");
    let step = &plan["script"]["steps"][0];
    assert_eq!(step["command"], "aws rds stop-db-instance", "{plan:#}");
    assert_eq!(
        step["args"],
        json!(["--db-instance-identifier", "pg-instance-main1", "--region", "us-west-2"])
    );
    assert_eq!(plan["risk_assessment"]["level"], "medium");
    assert_eq!(plan["approval_required"], true);
    assert!(plan["explain_plan"].as_str().is_some_and(|text| text.contains("pg-instance-main1")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_designs_request_gets_the_designs_plan() {
    let server = TestServer::start(ServerConfig::default()).await;
    let reply = server.plan(DESIGN_REQUEST).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_eq!(
        reply.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_designs_plan(&reply.json());
    server.stop().await;
}

#[cfg(feature = "model")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_designs_request_with_the_model() {
    let Some(directory) = crate::support::model_dir() else {
        eprintln!("skipped: the MiniLM model is not installed");
        return;
    };
    let embedder =
        tokio::task::spawn_blocking(move || cloudops_embed::MiniLmEmbedder::load(&directory))
            .await
            .expect("loading does not panic")
            .expect("the model loads");
    // As the binary runs it: behind the query cache.
    let embedder = cloudops_server::CachedEmbedder::new(std::sync::Arc::new(embedder), 16);
    let store = std::sync::Arc::new(cloudops_server::EmbeddedStore::new());
    let server =
        TestServer::start_with(std::sync::Arc::new(embedder), store, ServerConfig::default()).await;
    // Twice: the second plan reads the query's vector from the cache.
    let first = server.plan(DESIGN_REQUEST).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_designs_plan(&first.json());
    let second = server.plan(DESIGN_REQUEST).await;
    assert_eq!(second.json()["script"], first.json()["script"]);
    let health = server.get("/healthz").await.json();
    assert_ne!(health["embedder"], cloudops_core::Embedder::name(&cloudops_core::HashEmbedder));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_fields_are_tolerated() {
    let server = TestServer::start(ServerConfig::default()).await;
    let mut request = design();
    request["client_version"] = json!("9.9.9");
    request["future"] = json!({"nested": [1, 2, 3]});
    request["identified_resources"][0]["storage_gb"] = json!(500);
    request["identified_resources"][0]["some_new_fact"] = json!({"x": null});
    request["user_context"]["team"] = json!("dba");
    let reply = server.plan(&request.to_string()).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert_designs_plan(&reply.json());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_are_counted_by_playbook() {
    let server = TestServer::start(ServerConfig::default()).await;
    // Executable, twice.
    for _ in 0..2 {
        assert_eq!(server.plan(DESIGN_REQUEST).await.status, 200);
    }
    // Refused: a stopped instance cannot be stopped.
    let mut stopped = design();
    stopped["identified_resources"][0]["current_state"] = json!("stopped");
    let refused = server.plan(&stopped.to_string()).await;
    assert_eq!(refused.status, 200, "{}", refused.text());
    let refused = refused.json();
    assert_eq!(refused["executable"], false, "{refused:#}");
    assert_eq!(refused["playbook"]["id"], "aws_rds_stop_instance");
    // No match: nothing identified, nothing to plan.
    let nothing = server.plan(r#"{"prompt": "Stop pg-instance-main1"}"#).await;
    assert_eq!(nothing.status, 200, "{}", nothing.text());
    let nothing = nothing.json();
    assert_eq!(nothing["executable"], false);
    assert!(nothing.get("playbook").is_none(), "{nothing:#}");

    let text = server.get("/metrics").await.text();
    let plans = |labels: &str| metric(&text, "cloudops_plans_total", labels);
    assert_eq!(plans("playbook=\"aws_rds_stop_instance\",outcome=\"executable\""), 2.0, "{text}");
    assert_eq!(plans("playbook=\"aws_rds_stop_instance\",outcome=\"refused\""), 1.0, "{text}");
    assert_eq!(plans("playbook=\"\",outcome=\"no_match\""), 1.0, "{text}");
    assert_eq!(metric(&text, "cloudops_plan_duration_seconds_count", ""), 4.0, "{text}");
    assert_eq!(
        metric(&text, "cloudops_http_requests_total", "route=\"/v1/plan\",status=\"200\""),
        4.0
    );

    // Usage counters count plans made with a playbook, refused ones included.
    let list = server.get("/v1/playbooks").await.json();
    let stop = list["playbooks"]
        .as_array()
        .and_then(|playbooks| playbooks.iter().find(|p| p["id"] == "aws_rds_stop_instance"))
        .cloned()
        .expect("the stop playbook is listed");
    assert_eq!(stop["plans"], 3, "{list:#}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_plans_all_succeed() {
    let server = TestServer::start(ServerConfig::default()).await;
    let address = server.address;
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            tokio::spawn(async move {
                crate::support::request(
                    address,
                    "POST",
                    "/v1/plan",
                    &[("content-type", "application/json")],
                    DESIGN_REQUEST,
                )
                .await
            })
        })
        .collect();
    for task in tasks {
        let reply = task.await.expect("the request task completes");
        assert_eq!(reply.status, 200, "{}", reply.text());
        assert_designs_plan(&reply.json());
    }
    server.stop().await;
}
