//! Request counters and their Prometheus text rendering (exposition format 0.0.4).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use kakehashi_store::Backend;

#[derive(Default)]
pub struct Metrics {
    /// (route template, method, status) → (count, total seconds)
    requests: Mutex<BTreeMap<RouteKey, (u64, f64)>>,
}

/// A route template, a method and a status.
type RouteKey = (String, String, u16);

pub(crate) async fn count(metrics: Arc<Metrics>, req: Request, next: Next) -> Response {
    // The route template, not the raw path, keeps the label set bounded.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(req).await;
    let elapsed = started.elapsed().as_secs_f64();
    if let Ok(mut map) = metrics.requests.lock() {
        let e = map
            .entry((route, method, response.status().as_u16()))
            .or_insert((0, 0.0));
        e.0 += 1;
        e.1 += elapsed;
    }
    response
}

impl Metrics {
    pub fn render(
        &self,
        db_up: bool,
        backend: Backend,
        group: kakehashi_store::group::GroupStats,
    ) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP kakehashi_build_info Kakehashi version and database backend."
        );
        let _ = writeln!(out, "# TYPE kakehashi_build_info gauge");
        let _ = writeln!(
            out,
            "kakehashi_build_info{{version=\"{}\",backend=\"{backend}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(
            out,
            "# HELP kakehashi_database_up 1 when the database answers."
        );
        let _ = writeln!(out, "# TYPE kakehashi_database_up gauge");
        let _ = writeln!(out, "kakehashi_database_up {}", db_up as u8);
        let _ = writeln!(
            out,
            "# HELP kakehashi_http_requests_total HTTP requests served."
        );
        let _ = writeln!(out, "# TYPE kakehashi_http_requests_total counter");
        let snapshot = self.requests.lock().map(|m| m.clone()).unwrap_or_default();
        for ((route, method, status), (n, _)) in &snapshot {
            let _ = writeln!(
                out,
                "kakehashi_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kakehashi_http_request_seconds_sum Time spent serving requests."
        );
        let _ = writeln!(out, "# TYPE kakehashi_http_request_seconds_sum counter");
        for ((route, method, status), (_, secs)) in &snapshot {
            let _ = writeln!(
                out,
                "kakehashi_http_request_seconds_sum{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {secs:.6}",
                escape(route)
            );
        }
        // Group commit (`kakehashi_store::group`): writes per transaction is the batch size.
        let _ = writeln!(
            out,
            "# HELP kakehashi_group_commit_writes_total Writes handed to the group committer."
        );
        let _ = writeln!(out, "# TYPE kakehashi_group_commit_writes_total counter");
        let _ = writeln!(out, "kakehashi_group_commit_writes_total {}", group.writes);
        let _ = writeln!(
            out,
            "# HELP kakehashi_group_commit_transactions_total Transactions the group committer committed."
        );
        let _ = writeln!(
            out,
            "# TYPE kakehashi_group_commit_transactions_total counter"
        );
        let _ = writeln!(
            out,
            "kakehashi_group_commit_transactions_total {}",
            group.transactions
        );
        out
    }
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
