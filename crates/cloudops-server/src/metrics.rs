//! Prometheus metrics, kept with `prometheus-client` and rendered in the Prometheus text
//! exposition format (version 0.0.4): requests by route and status, plan latency, plans by
//! playbook and outcome, library size.
//!
//! Labels only ever hold route templates, status codes, playbook ids from the server's own
//! library and fixed outcome names — never anything a client sent.

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`Metrics::render`]'s output.
pub(crate) const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The upper bounds of the plan latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// What became of a plan request that reached the planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// A playbook matched and its script may run.
    Executable,
    /// A playbook matched, but a precondition failed: nothing may run.
    Refused,
    /// No playbook matched.
    NoMatch,
}

impl Outcome {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Executable => "executable",
            Outcome::Refused => "refused",
            Outcome::NoMatch => "no_match",
        }
    }
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> std::fmt::Result {
        std::fmt::Write::write_str(encoder, self.as_str())
    }
}

/// The labels of `cloudops_http_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    /// The route template, or `unmatched`.
    route: String,
    status: u16,
}

/// The labels of `cloudops_plans_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct PlanLabels {
    /// The playbook id, empty when none matched.
    playbook: String,
    outcome: Outcome,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    plan_latency: Histogram,
    plans: Family<PlanLabels, Counter>,
    rate_limited: Counter,
    metadata_errors: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new(0, 0)
    }
}

impl Metrics {
    /// Metrics for a library of `playbooks` valid playbooks and `problems` files left out.
    pub fn new(playbooks: usize, problems: usize) -> Self {
        let requests = Family::<RequestLabels, Counter>::default();
        let plan_latency = Histogram::new(LATENCY_BUCKETS);
        let plans = Family::<PlanLabels, Counter>::default();
        let library_playbooks = Gauge::<i64>::default();
        library_playbooks.set(i64::try_from(playbooks).unwrap_or(i64::MAX));
        let library_problems = Gauge::<i64>::default();
        library_problems.set(i64::try_from(problems).unwrap_or(i64::MAX));
        let rate_limited = Counter::default();
        let metadata_errors = Counter::default();

        // The registry adds the `_total` suffix of counters, the unit suffix and the final
        // period of each help text.
        let mut registry = Registry::default();
        registry.register(
            "cloudops_http_requests",
            "HTTP responses by route template and status",
            requests.clone(),
        );
        registry.register_with_unit(
            "cloudops_plan_duration",
            "Time to plan one request, queueing for a planner thread included",
            Unit::Seconds,
            plan_latency.clone(),
        );
        registry.register(
            "cloudops_plans",
            "Plans by playbook id (empty when none matched) and outcome",
            plans.clone(),
        );
        registry.register(
            "cloudops_playbooks",
            "Valid playbooks in the library served",
            library_playbooks,
        );
        registry.register(
            "cloudops_library_problems",
            "Playbook files left out of the library because they are invalid",
            library_problems,
        );
        registry.register(
            "cloudops_rate_limited",
            "Requests refused by the rate limiter",
            rate_limited.clone(),
        );
        registry.register(
            "cloudops_metadata_errors",
            "Failed calls to the metadata store (requests proceed without it)",
            metadata_errors.clone(),
        );
        Metrics { registry, requests, plan_latency, plans, rate_limited, metadata_errors }
    }

    /// Counts a response.
    pub fn count_request(&self, route: &str, status: u16) {
        let labels = RequestLabels { route: route.to_owned(), status };
        self.requests.get_or_create(&labels).inc();
    }

    /// Records the time one plan took.
    pub fn observe_plan_latency(&self, elapsed: Duration) {
        self.plan_latency.observe(elapsed.as_secs_f64());
    }

    /// Counts a plan by the playbook it used (none for no match) and its outcome.
    pub fn count_plan(&self, playbook: Option<&str>, outcome: Outcome) {
        let labels = PlanLabels { playbook: playbook.unwrap_or_default().to_owned(), outcome };
        self.plans.get_or_create(&labels).inc();
    }

    /// Counts a request refused by the rate limiter.
    pub fn count_rate_limited(&self) {
        self.rate_limited.inc();
    }

    /// Counts a failed call to the metadata store.
    pub fn count_metadata_error(&self) {
        self.metadata_errors.inc();
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        // Writing to a `String` cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_a_cumulative_histogram() {
        let metrics = Metrics::new(9, 1);
        metrics.count_request("/v1/plan", 200);
        metrics.count_request("/v1/plan", 200);
        metrics.count_request("/v1/plan", 400);
        metrics.observe_plan_latency(Duration::from_micros(300));
        metrics.observe_plan_latency(Duration::from_millis(3));
        metrics.observe_plan_latency(Duration::from_secs(10));
        metrics.count_plan(Some("aws_rds_stop_instance"), Outcome::Executable);
        metrics.count_plan(None, Outcome::NoMatch);
        metrics.count_rate_limited();
        let text = metrics.render();
        for line in [
            "cloudops_http_requests_total{route=\"/v1/plan\",status=\"200\"} 2",
            "cloudops_http_requests_total{route=\"/v1/plan\",status=\"400\"} 1",
            "cloudops_plan_duration_seconds_bucket{le=\"0.0005\"} 1",
            "cloudops_plan_duration_seconds_bucket{le=\"0.005\"} 2",
            "cloudops_plan_duration_seconds_bucket{le=\"1\"} 2",
            "cloudops_plan_duration_seconds_bucket{le=\"2.5\"} 2",
            "cloudops_plan_duration_seconds_bucket{le=\"+Inf\"} 3",
            "cloudops_plan_duration_seconds_count 3",
            "cloudops_plans_total{playbook=\"aws_rds_stop_instance\",outcome=\"executable\"} 1",
            "cloudops_plans_total{playbook=\"\",outcome=\"no_match\"} 1",
            "cloudops_playbooks 9",
            "cloudops_library_problems 1",
            "cloudops_rate_limited_total 1",
            "cloudops_metadata_errors_total 0",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
        let sum = text
            .lines()
            .find_map(|line| line.strip_prefix("cloudops_plan_duration_seconds_sum "))
            .and_then(|value| value.parse::<f64>().ok());
        assert!(sum.is_some_and(|sum| (sum - 10.0033).abs() < 1e-9), "{text}");
    }

    #[test]
    fn help_and_type_lines_name_the_exposed_metrics() {
        let metrics = Metrics::new(1, 0);
        // Label families are only written once they have a series.
        metrics.count_request("/healthz", 200);
        metrics.count_plan(None, Outcome::NoMatch);
        let text = metrics.render();
        for line in [
            "# HELP cloudops_http_requests_total HTTP responses by route template and status.",
            "# TYPE cloudops_http_requests_total counter",
            "# TYPE cloudops_plan_duration_seconds histogram",
            "# TYPE cloudops_plans_total counter",
            "# TYPE cloudops_playbooks gauge",
            "# TYPE cloudops_library_problems gauge",
            "# TYPE cloudops_rate_limited_total counter",
            "# HELP cloudops_metadata_errors_total Failed calls to the metadata store (requests proceed without it).",
            "# TYPE cloudops_metadata_errors_total counter",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        let metrics = Metrics::default();
        metrics.count_request("a\"b\\c\nd", 200);
        let text = metrics.render();
        let line = "cloudops_http_requests_total{route=\"a\\\"b\\\\c\\nd\",status=\"200\"} 1";
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
}
