//! Prometheus metrics, kept in process and rendered in the text exposition format by hand:
//! requests by route and status, plan latency, plans by playbook and outcome, library size.
//!
//! Labels only ever hold route templates, status codes, playbook ids from the server's own
//! library and fixed outcome names — never anything a client sent.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

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

/// A latency histogram with fixed buckets.
#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (not cumulative), plus the overflow bucket at the end.
    counts: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let index = LATENCY_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.counts[index].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str) {
        let mut cumulative = 0;
        for (bound, count) in LATENCY_BUCKETS.iter().zip(&self.counts) {
            cumulative += count.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.counts[LATENCY_BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Route template → status → count.
    requests: Mutex<HashMap<String, BTreeMap<u16, u64>>>,
    plan_latency: Histogram,
    /// (playbook id or empty, outcome) → count.
    plans: Mutex<BTreeMap<(String, Outcome), u64>>,
    playbooks: AtomicU64,
    library_problems: AtomicU64,
    rate_limited: AtomicU64,
    metadata_errors: AtomicU64,
}

impl Metrics {
    /// Metrics for a library of `playbooks` valid playbooks and `problems` files left out.
    pub fn new(playbooks: usize, problems: usize) -> Self {
        let metrics = Metrics::default();
        metrics.playbooks.store(playbooks as u64, Ordering::Relaxed);
        metrics.library_problems.store(problems as u64, Ordering::Relaxed);
        metrics
    }

    /// Counts a response.
    pub fn count_request(&self, route: &str, status: u16) {
        let mut requests = self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match requests.get_mut(route) {
            Some(statuses) => *statuses.entry(status).or_default() += 1,
            None => {
                requests.insert(route.to_owned(), BTreeMap::from([(status, 1)]));
            }
        }
    }

    /// Records the time one plan took.
    pub fn observe_plan_latency(&self, elapsed: Duration) {
        self.plan_latency.observe(elapsed);
    }

    /// Counts a plan by the playbook it used (none for no match) and its outcome.
    pub fn count_plan(&self, playbook: Option<&str>, outcome: Outcome) {
        let mut plans = self.plans.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *plans.entry((playbook.unwrap_or_default().to_owned(), outcome)).or_default() += 1;
    }

    /// Counts a request refused by the rate limiter.
    pub fn count_rate_limited(&self) {
        self.rate_limited.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed call to the metadata store.
    pub fn count_metadata_error(&self) {
        self.metadata_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# HELP cloudops_http_requests_total HTTP responses by route template and status.\n",
        );
        out.push_str("# TYPE cloudops_http_requests_total counter\n");
        {
            let requests = self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut routes: Vec<_> = requests.iter().collect();
            routes.sort_by(|a, b| a.0.cmp(b.0));
            for (route, statuses) in routes {
                for (status, count) in statuses {
                    let _ = writeln!(
                        out,
                        "cloudops_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                        escape(route)
                    );
                }
            }
        }
        out.push_str("# HELP cloudops_plan_duration_seconds Time to plan one request, queueing for a planner thread included.\n");
        out.push_str("# TYPE cloudops_plan_duration_seconds histogram\n");
        self.plan_latency.render(&mut out, "cloudops_plan_duration_seconds");
        out.push_str("# HELP cloudops_plans_total Plans by playbook id (empty when none matched) and outcome.\n");
        out.push_str("# TYPE cloudops_plans_total counter\n");
        {
            let plans = self.plans.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            for ((playbook, outcome), count) in plans.iter() {
                let _ = writeln!(
                    out,
                    "cloudops_plans_total{{playbook=\"{}\",outcome=\"{}\"}} {count}",
                    escape(playbook),
                    outcome.as_str()
                );
            }
        }
        let gauges = [
            (
                "cloudops_playbooks",
                "gauge",
                "Valid playbooks in the library served.",
                &self.playbooks,
            ),
            (
                "cloudops_library_problems",
                "gauge",
                "Playbook files left out of the library because they are invalid.",
                &self.library_problems,
            ),
            (
                "cloudops_rate_limited_total",
                "counter",
                "Requests refused by the rate limiter.",
                &self.rate_limited,
            ),
            (
                "cloudops_metadata_errors_total",
                "counter",
                "Failed calls to the metadata store (requests proceed without it).",
                &self.metadata_errors,
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        out
    }
}

/// Escapes a label value: backslash, double quote and newline.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
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
        let text = metrics.render();
        for line in [
            "cloudops_http_requests_total{route=\"/v1/plan\",status=\"200\"} 2",
            "cloudops_http_requests_total{route=\"/v1/plan\",status=\"400\"} 1",
            "cloudops_plan_duration_seconds_bucket{le=\"0.0005\"} 1",
            "cloudops_plan_duration_seconds_bucket{le=\"0.005\"} 2",
            "cloudops_plan_duration_seconds_bucket{le=\"2.5\"} 2",
            "cloudops_plan_duration_seconds_bucket{le=\"+Inf\"} 3",
            "cloudops_plan_duration_seconds_count 3",
            "cloudops_plans_total{playbook=\"aws_rds_stop_instance\",outcome=\"executable\"} 1",
            "cloudops_plans_total{playbook=\"\",outcome=\"no_match\"} 1",
            "cloudops_playbooks 9",
            "cloudops_library_problems 1",
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
