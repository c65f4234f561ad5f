//! What happens around every request: rate limiting, the request timeout, metrics and the
//! access log.
//!
//! The access log names the route template, never the path: a path can carry anything a
//! client typed. Only the route, method, status, latency and, for plans, the playbook id and
//! outcome are logged.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::Error;
use crate::handlers::PlanLog;
use crate::serve::ClientAddr;

/// At most one warning about a failing metadata store per this many seconds.
const METADATA_WARNING_INTERVAL_SECONDS: u64 = 10;

/// Rate limit, time out, count and log one request.
pub(crate) async fn observe(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("unmatched", |route| route.as_str());
    let method = request.method().clone();
    let limited = if route.starts_with("/v1/") && state.config.rate_limit_per_minute > 0 {
        // The key is computed first: the request (its body) must not be held across an await.
        let client = client_key(client_ip(&request, state.config.trust_forwarded_for));
        rate_limit(&state, &client).await
    } else {
        None
    };
    let response = match limited {
        Some(error) => error.into_response(),
        None => match tokio::time::timeout(state.config.request_timeout, next.run(request)).await {
            Ok(response) => response,
            Err(_) => Error::Timeout.into_response(),
        },
    };
    let status = response.status().as_u16();
    state.metrics.count_request(route, status);
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    match response.extensions().get::<PlanLog>() {
        Some(plan) => tracing::info!(
            target: "cloudops_server::access",
            route,
            %method,
            status,
            latency_us,
            playbook = plan.playbook.as_deref().unwrap_or("-"),
            outcome = plan.outcome.as_str(),
        ),
        None => {
            tracing::info!(target: "cloudops_server::access", route, %method, status, latency_us)
        }
    }
    response
}

/// The error to answer with when the client is over its limit.
async fn rate_limit(state: &AppState, client: &str) -> Option<Error> {
    let limit = u64::from(state.config.rate_limit_per_minute);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let window = now / 60;
    match state.metadata.hit(client, window).await {
        Ok(count) if count > limit => {
            state.metrics.count_rate_limited();
            Some(Error::RateLimited { retry_after: 60 - now % 60 })
        }
        Ok(_) => None,
        Err(error) => {
            // Availability over strictness: a failing store does not stop planning.
            metadata_failed(state, &error);
            None
        }
    }
}

/// Counts a failed metadata call and warns about it, at most once per interval.
pub(crate) fn metadata_failed(state: &AppState, error: &Error) {
    state.metrics.count_metadata_error();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let last = state.metadata_warned.load(Ordering::Relaxed);
    if now >= last + METADATA_WARNING_INTERVAL_SECONDS
        && state
            .metadata_warned
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            backend = state.metadata.backend(),
            %error,
            "metadata store failing; serving without rate limits and usage counters"
        );
    }
}

/// The client's address: the peer, or with `trust_forwarded_for` the last address of
/// `x-forwarded-for` (the one the trusted proxy appended).
fn client_ip(request: &Request, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .filter_map(|entry| entry.trim().parse::<IpAddr>().ok())
            .next_back();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    request.extensions().get::<ClientAddr>().map(|ClientAddr(address)| address.ip())
}

/// The key of a client in the metadata store: a hash of its address, not the address.
fn client_key(ip: Option<IpAddr>) -> String {
    let text = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    let hash = blake3::hash(text.as_bytes());
    hash.to_hex()[..32].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(forwarded: &[&str]) -> Request {
        let mut builder = axum::http::Request::builder().uri("/v1/plan");
        for value in forwarded {
            builder = builder.header("x-forwarded-for", *value);
        }
        let mut request = builder.body(axum::body::Body::empty()).expect("valid request");
        request.extensions_mut().insert(ClientAddr(([10, 0, 0, 1], 4000).into()));
        request
    }

    #[test]
    fn forwarded_for_only_when_trusted() {
        let ip = |text: &str| text.parse::<IpAddr>().ok();
        let forwarded = request(&["203.0.113.9, 198.51.100.7"]);
        assert_eq!(client_ip(&forwarded, false), ip("10.0.0.1"));
        assert_eq!(client_ip(&forwarded, true), ip("198.51.100.7"));
        assert_eq!(client_ip(&request(&["1.1.1.1", "2.2.2.2"]), true), ip("2.2.2.2"));
        assert_eq!(client_ip(&request(&["garbage"]), true), ip("10.0.0.1"));
        assert_eq!(client_ip(&request(&[]), true), ip("10.0.0.1"));
    }

    #[test]
    fn client_keys_hide_addresses() {
        let key = client_key("192.0.2.44".parse().ok());
        assert_eq!(key.len(), 32);
        assert!(!key.contains('.'));
        assert_ne!(key, client_key("192.0.2.45".parse().ok()));
    }
}
