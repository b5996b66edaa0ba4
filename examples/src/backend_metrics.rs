//! The backends' counters in `/metrics`: the transport renders the hub's counters (including
//! `chatcore_bus_events_received_total` and `chatcore_gaps_repaired_total`); a layer around
//! its router appends those only the bus knows (Redis: published, dropped, reconnects, …) or
//! the store (SQLite: commits, the message log, checkpoints).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Renders a backend's counters in the Prometheus text format. Clones share the backend.
pub type BackendMetrics = Arc<dyn Fn() -> String + Send + Sync>;

/// Largest `/metrics` body the layer rewrites (far above what a transport renders).
const MAX_BODY: usize = 16 << 20;

/// `router` with `metrics` appended to every successful `GET /metrics` answer.
pub(crate) fn layer(router: Router, metrics: BackendMetrics) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let metrics = Arc::clone(&metrics);
            async move {
                let is_metrics = request.uri().path() == "/metrics";
                let response = next.run(request).await;
                if !is_metrics || !response.status().is_success() {
                    return response;
                }
                let (mut parts, body) = response.into_parts();
                let mut text = match axum::body::to_bytes(body, MAX_BODY).await {
                    Ok(bytes) => bytes.to_vec(),
                    Err(_) => Vec::new(),
                };
                text.extend_from_slice(metrics().as_bytes());
                parts.headers.remove(axum::http::header::CONTENT_LENGTH);
                Response::from_parts(parts, Body::from(text))
            }
        },
    ))
}

/// The counters of two backends one after the other (either may have none).
pub(crate) fn both(
    first: Option<BackendMetrics>,
    second: Option<BackendMetrics>,
) -> Option<BackendMetrics> {
    match (first, second) {
        (Some(a), Some(b)) => Some(Arc::new(move || a() + &b())),
        (one, None) | (None, one) => one,
    }
}

/// One metric in the text format.
// Only the Redis bus and the SQLite store have counters of their own.
#[cfg_attr(not(any(feature = "redis", feature = "sqlite")), allow(dead_code))]
fn metric(out: &mut String, kind: &str, name: &str, help: &str, value: u64) {
    let _ = writeln!(
        out,
        "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
    );
}

/// Metrics of one kind (`counter`, `gauge`), each `(name, help, value)`.
#[cfg_attr(not(any(feature = "redis", feature = "sqlite")), allow(dead_code))]
pub(crate) fn metrics(out: &mut String, kind: &str, list: &[(&str, &str, u64)]) {
    for (name, help, value) in list {
        metric(out, kind, name, help, *value);
    }
}

/// The Redis bus's counters (feature `redis`).
#[cfg(feature = "redis")]
pub(crate) fn redis(bus: chatcore_bus_redis::RedisBus) -> BackendMetrics {
    Arc::new(move || {
        let s = bus.stats();
        let mut out = String::with_capacity(2048);
        let counters = [
            (
                "chatcore_redis_published_total",
                "Bus events Redis accepted (one PUBLISH each).",
                s.published,
            ),
            (
                "chatcore_redis_dropped_total",
                "Bus events not published: queue full, Redis away or bus closed (repaired from the store).",
                s.dropped,
            ),
            (
                "chatcore_redis_received_total",
                "Bus events of other nodes received from Redis.",
                s.received,
            ),
            (
                "chatcore_redis_decode_errors_total",
                "Payloads on room channels that were not valid bus events.",
                s.decode_errors,
            ),
            (
                "chatcore_redis_lagged_total",
                "Received events lost because the reader fell behind.",
                s.lagged,
            ),
            (
                "chatcore_redis_gaps_suspected_total",
                "Times the hub was told to check its rooms against the store (reconnect or lag).",
                s.gaps_suspected,
            ),
            (
                "chatcore_redis_heads_reannounced_total",
                "Room heads published again after this node's events were dropped.",
                s.heads_reannounced,
            ),
            (
                "chatcore_redis_reconnects_total",
                "Reconnections to Redis of the bus's two connections.",
                s.reconnects,
            ),
        ];
        metrics(&mut out, "counter", &counters);
        let gauges = [
            (
                "chatcore_redis_connected",
                "1 while both bus connections to Redis are up.",
                u64::from(s.connected),
            ),
            (
                "chatcore_redis_queued",
                "Bus events waiting to be published.",
                s.queued,
            ),
            (
                "chatcore_redis_rooms",
                "Room channels this node is subscribed to.",
                s.rooms,
            ),
        ];
        metrics(&mut out, "gauge", &gauges);
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn appends_to_metrics_only() {
        use tower::ServiceExt;
        let router = Router::new()
            .route("/metrics", axum::routing::get(|| async { "hub_total 1\n" }))
            .route("/other", axum::routing::get(|| async { "other" }));
        let extra: BackendMetrics = Arc::new(|| {
            let mut out = String::new();
            metric(&mut out, "counter", "bus_total", "Help.", 7);
            out
        });
        let app = layer(router, extra);
        let get = |path: &'static str| {
            let app = app.clone();
            async move {
                let request = Request::builder()
                    .uri(path)
                    .body(Body::empty())
                    .expect("request");
                let response = app.oneshot(request).await.expect("response");
                let bytes = axum::body::to_bytes(response.into_body(), MAX_BODY)
                    .await
                    .expect("body");
                String::from_utf8(bytes.to_vec()).expect("utf-8")
            }
        };
        assert_eq!(
            get("/metrics").await,
            "hub_total 1\n# HELP bus_total Help.\n# TYPE bus_total counter\nbus_total 7\n"
        );
        assert_eq!(get("/other").await, "other");
    }
}
