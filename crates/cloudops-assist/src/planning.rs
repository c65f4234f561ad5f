//! Where plans come from: the planner in this process (the default: offline, the built-in
//! or configured playbook library), or a planning server over HTTPS. Both take and return
//! the same types; either way the answer is verified by the client before anything runs.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use cloudops_core::{EnrichedRequest, PlanResponse};
use cloudops_playbooks::Planner;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};

/// The largest plan answer read from a server.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Attempts at a plan request when the server cannot be reached or is overloaded.
const ATTEMPTS: u32 = 3;

/// A source of plans.
#[derive(Clone)]
pub enum Planning {
    /// The planner in this process.
    InProcess(Arc<Planner>),
    /// A planning server.
    Server(Box<ServerPlanner>),
}

impl std::fmt::Debug for Planning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Planning {
    /// `in-process`, or the server's URL: recorded in the audit trail.
    pub fn describe(&self) -> String {
        match self {
            Planning::InProcess(_) => "in-process".to_owned(),
            Planning::Server(server) => server.base.to_string(),
        }
    }

    /// A plan for `request`.
    pub async fn plan(&self, request: &EnrichedRequest) -> Result<PlanResponse> {
        match self {
            Planning::InProcess(planner) => {
                let planner = Arc::clone(planner);
                let request = request.clone();
                // Retrieval embeds text: keep it off the async threads.
                tokio::task::spawn_blocking(move || planner.plan(&request))
                    .await
                    .map_err(|e| Error::Planner(format!("the planner stopped: {e}")))?
                    .map_err(Error::from)
            }
            Planning::Server(server) => server.plan(request).await,
        }
    }
}

/// A planning server reached over HTTPS (plain HTTP only on a loopback address).
#[derive(Clone)]
pub struct ServerPlanner {
    base: Uri,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl ServerPlanner {
    /// A client for the server at `url` (`https://planner.example.com`), with a limit of
    /// `timeout` per attempt, trusting the system's roots and the PEM certificates in
    /// `extra_roots`.
    pub fn new(url: &str, timeout: Duration, extra_roots: Option<&Path>) -> Result<Self> {
        let base: Uri = url
            .trim_end_matches('/')
            .parse()
            .map_err(|e| Error::Config(format!("server URL {url:?}: {e}")))?;
        let host = base.host().unwrap_or_default();
        match base.scheme_str() {
            Some("https") => {}
            Some("http") if is_loopback(host) => {}
            Some("http") => {
                return Err(Error::Config(format!(
                    "server URL {url:?}: plain http is allowed only on this machine \
                     (127.0.0.1, ::1, localhost); use https"
                )));
            }
            _ => return Err(Error::Config(format!("server URL {url:?}: must be https://…"))),
        }
        if base.query().is_some() || base.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(Error::Config(format!(
                "server URL {url:?}: no user information or query allowed"
            )));
        }
        let tls = tls_config(extra_roots)?;
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(ServerPlanner { base, client, timeout })
    }

    /// `POST /v1/plan`. Planning is free of side effects, so an attempt that could not
    /// connect, timed out, or met 429/502/503/504 is retried (at most three attempts in all).
    pub async fn plan(&self, request: &EnrichedRequest) -> Result<PlanResponse> {
        let body = Bytes::from(
            serde_json::to_vec(request).map_err(|e| Error::Planner(format!("request: {e}")))?,
        );
        let uri: Uri = format!("{}/v1/plan", self.base.to_string().trim_end_matches('/'))
            .parse()
            .map_err(|e| Error::Planner(format!("server URL: {e}")))?;
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(Duration::from_millis(250 * 2u64.pow(attempt - 2))).await;
            }
            let http_request = Request::builder()
                .method(Method::POST)
                .uri(uri.clone())
                .header("content-type", "application/json")
                .header("accept", "application/json")
                .header("user-agent", concat!("cloudops/", env!("CARGO_PKG_VERSION")))
                .body(Full::new(body.clone()))
                .map_err(|e| Error::Planner(e.to_string()))?;
            let answer = tokio::time::timeout(self.timeout, async {
                let response = self
                    .client
                    .request(http_request)
                    .await
                    .map_err(|e| format!("cannot reach {}: {}", self.base, error_chain(&e)))?;
                let status = response.status();
                let bytes = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                    .collect()
                    .await
                    .map_err(|e| format!("reading the answer: {e}"))?
                    .to_bytes();
                Ok::<_, String>((status, bytes))
            })
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", self.timeout.as_secs())));
            match answer {
                Ok((status, bytes)) if status.is_success() => {
                    return serde_json::from_slice(&bytes).map_err(|e| {
                        Error::Planner(format!("the server's answer is not a plan: {e}"))
                    });
                }
                Ok((status, bytes)) => {
                    let message = server_message(&bytes);
                    last = format!("the server answered {status}: {message}");
                    let transient = matches!(
                        status,
                        StatusCode::TOO_MANY_REQUESTS
                            | StatusCode::BAD_GATEWAY
                            | StatusCode::SERVICE_UNAVAILABLE
                            | StatusCode::GATEWAY_TIMEOUT
                    );
                    if !transient {
                        return Err(Error::Planner(last));
                    }
                }
                // Not reached, or no whole answer: planning has no side effects, so retry.
                Err(message) => last = message,
            }
        }
        Err(Error::Planner(format!("{last} (after {ATTEMPTS} attempts)")))
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The error message of a server answer (`{"error": {"message": …}}` or `{"message": …}`),
/// control characters removed and length bounded: it is untrusted text.
fn server_message(bytes: &[u8]) -> String {
    let value: Option<serde_json::Value> = serde_json::from_slice(bytes).ok();
    let message = value
        .as_ref()
        .and_then(|v| {
            v.pointer("/error/message")
                .or_else(|| v.get("message"))
                .or_else(|| v.get("error"))
                .and_then(|m| m.as_str())
        })
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(bytes).into_owned());
    message.chars().filter(|c| !c.is_control()).take(300).collect()
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// TLS with rustls: the operating system's root certificates and `extra_roots`, TLS 1.2
/// and 1.3.
fn tls_config(extra_roots: Option<&Path>) -> Result<rustls::ClientConfig> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;

    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for certificate in native.certs {
        // A malformed system certificate is skipped, as browsers do.
        let _ = roots.add(certificate);
    }
    if let Some(path) = extra_roots {
        let unusable =
            |why: String| Error::Config(format!("server_ca_file {}: {why}", path.display()));
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|e| unusable(e.to_string()))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| unusable(e.to_string()))?;
        if certificates.is_empty() {
            return Err(unusable("no PEM certificate in it".to_owned()));
        }
        for certificate in certificates {
            roots.add(certificate).map_err(|e| unusable(e.to_string()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Planner(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls() {
        let timeout = Duration::from_secs(1);
        assert!(ServerPlanner::new("https://planner.example.com", timeout, None).is_ok());
        assert!(ServerPlanner::new("http://127.0.0.1:8080/", timeout, None).is_ok());
        assert!(ServerPlanner::new("http://[::1]:8080", timeout, None).is_ok());
        assert!(ServerPlanner::new("http://localhost:8080", timeout, None).is_ok());
        for bad in [
            "http://planner.example.com",
            "ftp://planner.example.com",
            "planner.example.com",
            "https://user:pw@planner.example.com",
            "https://planner.example.com/?x=1",
        ] {
            assert!(ServerPlanner::new(bad, timeout, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn extra_roots_must_hold_certificates() {
        let directory = tempfile::tempdir().expect("tempdir");
        let empty = directory.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let timeout = Duration::from_secs(1);
        let error = ServerPlanner::new("https://planner.example.com", timeout, Some(&empty))
            .err()
            .expect("refused");
        assert!(error.to_string().contains("no PEM certificate"), "{error}");
        let missing = directory.path().join("missing.pem");
        assert!(
            ServerPlanner::new("https://planner.example.com", timeout, Some(&missing)).is_err()
        );
    }

    #[test]
    fn server_messages_are_bounded_and_clean() {
        assert_eq!(server_message(br#"{"error":{"message":"bad\nrequest"}}"#), "badrequest");
        assert_eq!(server_message(b"plain"), "plain");
        assert_eq!(server_message(&[b'x'; 1000]).len(), 300);
    }
}
