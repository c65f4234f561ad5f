//! The optional language-model advisor, against a local OpenAI-compatible endpoint that
//! answers what each test tells it to (no real model is reachable here): its choice is used
//! only when it names a retrieved playbook, and it never sees resource names.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use cloudops_server::{AdvisorConfig, ServerConfig};
use serde_json::{Value, json};

use crate::support::TestServer;

/// A chat endpoint that records the requests it gets and answers `content`, where
/// `FIRST_OFFERED` stands for the first playbook id it was offered.
struct FakeModel {
    address: std::net::SocketAddr,
    seen: Arc<Mutex<Vec<Value>>>,
}

const FIRST_OFFERED: &str = "<first offered>";

type ModelState = (Arc<Mutex<Vec<Value>>>, &'static str);

async fn answer(State((seen, content)): State<ModelState>, Json(body): Json<Value>) -> Json<Value> {
    let offered: Value = body["messages"][1]["content"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    let reply = if content == FIRST_OFFERED {
        offered["playbooks"][0]["id"].as_str().unwrap_or_default().to_owned()
    } else {
        content.to_owned()
    };
    seen.lock().expect("lock").push(body);
    Json(json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": reply}}]}))
}

async fn fake_model(content: &'static str) -> FakeModel {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let router = axum::Router::new()
        .route("/v1/chat/completions", post(answer))
        .with_state((seen.clone(), content));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let config = ServerConfig::default();
        let _ =
            cloudops_server::serve(listener, router, &config, std::future::pending::<()>()).await;
    });
    FakeModel { address, seen }
}

/// The playbook ids offered to the model in its `n`th request.
fn offered(model: &FakeModel, n: usize) -> Vec<String> {
    let seen = model.seen.lock().expect("lock");
    let user: Value = seen[n]["messages"][1]["content"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_default();
    user["playbooks"]
        .as_array()
        .map(|list| list.iter().filter_map(|p| p["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

fn advised(model: &FakeModel) -> ServerConfig {
    ServerConfig {
        advisor: Some(AdvisorConfig {
            url: format!("http://{}/v1", model.address),
            model: "test-model".into(),
            api_key: None,
            timeout: Duration::from_secs(5),
        }),
        ..ServerConfig::default()
    }
}

/// A prompt retrieval is not confident about: no word in common with any RDS playbook.
const VAGUE: &str = r#"{"prompt": "snooze pg-secret-ledger-7 till xmas",
  "identified_resources": [{"resource_type": "rds_instance", "id": "pg-secret-ledger-7",
    "account_id": "123456789012", "region": "us-west-2", "current_state": "available",
    "tags": {"env": "prod"}, "constraints": {"has_read_replicas": false, "can_stop": true}}]}"#;

#[tokio::test]
async fn an_offered_choice_is_rendered_like_any_plan() {
    let model = fake_model(FIRST_OFFERED).await;
    let without = TestServer::start(ServerConfig::default()).await;
    let plain = without.plan(VAGUE).await.json();
    // The premise: without the advisor, this prompt is an honest refusal.
    assert!(plain["playbook"].is_null(), "{plain:#}");
    assert_eq!(plain["executable"], false);
    let server = TestServer::start(advised(&model)).await;
    let plan = server.plan(VAGUE).await.json();
    let chosen = offered(&model, 0).first().cloned().expect("candidates were offered");
    assert_eq!(plan["playbook"]["id"], chosen.as_str(), "{plan:#}");
    assert!(
        plan["script"]["steps"][0]["command"].as_str().unwrap_or_default().starts_with("aws rds ")
    );
    assert!(plan["explain_plan"].as_str().unwrap_or_default().contains("language model"));
    let seen = model.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    let sent = seen[0].to_string();
    assert!(!sent.contains("pg-secret-ledger-7"), "the resource's name reached the model: {sent}");
    assert!(!sent.contains("123456789012") && !sent.contains("us-west-2"), "{sent}");
    assert!(sent.contains(&chosen), "the candidates are offered: {sent}");
}

#[tokio::test]
async fn anything_but_an_offered_id_is_ignored() {
    // A command, a playbook for another kind of resource, a valid RDS playbook that was not
    // among the retrieved ones, and a refusal.
    for answer in [
        "aws iam delete-user --user-name admin",
        "aws_ec2_terminate_instances",
        "aws_rds_stop_instance",
        "none",
    ] {
        let model = fake_model(answer).await;
        let server = TestServer::start(advised(&model)).await;
        let plan = server.plan(VAGUE).await.json();
        assert_eq!(model.seen.lock().expect("lock").len(), 1, "the advisor was asked");
        assert!(!offered(&model, 0).contains(&answer.to_owned()), "{answer} was offered");
        assert!(plan["playbook"].is_null(), "{answer}: {plan:#}");
        assert_eq!(plan["executable"], false);
        assert!(plan["script"]["steps"].as_array().is_none_or(Vec::is_empty));
    }
}

#[tokio::test]
async fn an_unreachable_model_leaves_the_honest_refusal() {
    let config = ServerConfig {
        advisor: Some(AdvisorConfig {
            url: "http://127.0.0.1:9/v1".into(),
            model: "m".into(),
            api_key: None,
            timeout: Duration::from_secs(2),
        }),
        ..ServerConfig::default()
    };
    let server = TestServer::start(config).await;
    let reply = server.plan(VAGUE).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["executable"], false);
}
