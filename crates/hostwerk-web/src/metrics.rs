//! Request metrics in the Prometheus text format (`GET /metrics`) and the health check (`GET /healthz`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Counters and latency histograms per method, route and status.
/// One method and status of a route, with its counts.
type MethodStatus = (String, u16, Series);

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// Route pattern → (method, status, series); keyed by route so that counting a request allocates nothing.
    series: Mutex<HashMap<String, Vec<MethodStatus>>>,
}

impl Metrics {
    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut map = self.series.lock().unwrap_or_else(|e| e.into_inner());
        if !map.contains_key(route) {
            map.insert(route.to_owned(), Vec::new());
        }
        let Some(list) = map.get_mut(route) else { return };
        let at = match list.iter().position(|(m, st, _)| m == method && *st == status) {
            Some(at) => at,
            None => {
                list.push((method.to_owned(), status, Series::default()));
                list.len() - 1
            }
        };
        let s = &mut list[at].2;
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    fn render(&self) -> String {
        let guard = self.series.lock().unwrap_or_else(|e| e.into_inner());
        let mut map: BTreeMap<(&str, &str, u16), &Series> = BTreeMap::new();
        for (route, list) in guard.iter() {
            for (method, status, series) in list {
                map.insert((method.as_str(), route.as_str(), *status), series);
            }
        }
        let mut out = String::new();
        out.push_str("# HELP hostwerk_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE hostwerk_http_requests_total counter\n");
        for ((m, r, st), s) in map.iter() {
            let _ = writeln!(
                out,
                "hostwerk_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{st}\"}} {}",
                s.count
            );
        }
        out.push_str("# HELP hostwerk_http_errors_total HTTP requests answered with a server error (5xx).\n");
        out.push_str("# TYPE hostwerk_http_errors_total counter\n");
        let errors: u64 = map.iter().filter(|((_, _, st), _)| *st >= 500).map(|(_, s)| s.count).sum();
        let _ = writeln!(out, "hostwerk_http_errors_total {errors}");
        out.push_str("# HELP hostwerk_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE hostwerk_http_request_duration_seconds histogram\n");
        let mut per_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((m, r, _), s) in map.iter() {
            let agg = per_route.entry((m, r)).or_default();
            agg.count += s.count;
            agg.sum += s.sum;
            for i in 0..BUCKETS.len() {
                agg.buckets[i] += s.buckets[i];
            }
        }
        for ((m, r), s) in per_route {
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "hostwerk_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "hostwerk_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {}",
                s.count
            );
            let _ =
                writeln!(out, "hostwerk_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}", s.sum);
            let _ = writeln!(
                out,
                "hostwerk_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {}",
                s.count
            );
        }
        out
    }
}

/// Middleware: times every request and counts it under its route pattern (never the raw path).
pub(crate) async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    state.metrics.observe(method.as_str(), route, response.status().as_u16(), start.elapsed().as_secs_f64());
    response
}

/// The health check, on the public address (load balancers ask it).
pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// The metrics and the health check, for their own listen address (`serve --metrics-listen`): the request
/// counts per route and the cache figures are nobody's business on the public address (issue 17).
pub(crate) fn metrics_routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    let mut text = state.metrics.render();
    let (hits, misses) = state.dashboards.counts();
    text.push_str(
        "# HELP hostwerk_dashboard_cache_total Dashboards answered from the kept page (hit) or rendered (miss).\n",
    );
    text.push_str("# TYPE hostwerk_dashboard_cache_total counter\n");
    let _ = writeln!(text, "hostwerk_dashboard_cache_total{{result=\"hit\"}} {hits}");
    let _ = writeln!(text, "hostwerk_dashboard_cache_total{{result=\"miss\"}} {misses}");
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
