//! Prometheus metrics of one transport: its own counters plus the hub's [`StatsSnapshot`].
//!
//! Each [`Transport`](crate::Transport) owns a private `metrics-exporter-prometheus` recorder
//! (never installed globally), so two transports in one process (or two test servers) never
//! mix their numbers. Handles are registered once here; the hot path only bumps atomics.
//! Hub counters live in the core and are copied into the recorder when `/metrics` renders.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use chatcore::StatsSnapshot;
use metrics::{
    Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, SharedString, Unit,
};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

use crate::close;

static META: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// Buckets of the socket write latency histogram, in seconds.
const WRITE_BUCKETS: &[f64] = &[0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

/// Close codes counted separately by `chatcore_ws_closes_total`.
const CLOSE_CODES: &[u16] = &[
    close::NORMAL,
    close::GOING_AWAY,
    close::PROTOCOL_ERROR,
    close::INVALID_PAYLOAD,
    close::POLICY,
    close::TOO_BIG,
    close::INTERNAL,
    close::IDLE_TIMEOUT,
    close::SLOW_CONSUMER,
];

/// Why a WebSocket handshake was refused (a label of `chatcore_ws_handshakes_rejected_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Rejection {
    /// Not a valid WebSocket upgrade request.
    BadRequest,
    /// Origin not allowed.
    Origin,
    /// No acceptable subprotocol.
    Subprotocol,
    /// Missing or invalid credentials.
    Unauthorized,
    /// Connection limit reached.
    Capacity,
    /// The hub is shutting down.
    Unavailable,
    /// A `Host` the server does not answer to (any request, not only `/ws`).
    Host,
    /// A connection closed at accept: its peer IP or the server had too many unfinished
    /// handshakes.
    HandshakeLimit,
    /// A connection dropped for not finishing its TLS handshake or request head in time.
    HandshakeTimeout,
    /// Its peer IP already had the hub's most sessions open (closed with 4429).
    PerIp,
}

impl Rejection {
    const ALL: [Rejection; 10] = [
        Rejection::BadRequest,
        Rejection::Origin,
        Rejection::Subprotocol,
        Rejection::Unauthorized,
        Rejection::Capacity,
        Rejection::Unavailable,
        Rejection::Host,
        Rejection::HandshakeLimit,
        Rejection::HandshakeTimeout,
        Rejection::PerIp,
    ];

    fn label(self) -> &'static str {
        match self {
            Rejection::BadRequest => "bad_request",
            Rejection::Origin => "origin",
            Rejection::Subprotocol => "subprotocol",
            Rejection::Unauthorized => "unauthorized",
            Rejection::Capacity => "capacity",
            Rejection::Unavailable => "unavailable",
            Rejection::Host => "host",
            Rejection::HandshakeLimit => "handshake_limit",
            Rejection::HandshakeTimeout => "handshake_timeout",
            Rejection::PerIp => "per_ip",
        }
    }
}

/// Histogram samples held, at most, before they are folded into the buckets (8 bytes each).
const UPKEEP_EVERY: u64 = 4096;

/// Registered metric handles of one transport.
pub(crate) struct Metrics {
    handle: PrometheusHandle,
    pub(crate) connections_open: Gauge,
    pub(crate) connections_total: Counter,
    pub(crate) frames_received: Counter,
    pub(crate) bytes_received: Counter,
    pub(crate) frames_sent: Counter,
    pub(crate) bytes_sent: Counter,
    pub(crate) rate_limited: Counter,
    pub(crate) write_timeouts: Counter,
    pub(crate) write_seconds: Histogram,
    /// Samples recorded into `write_seconds` since the last upkeep. The exporter keeps every
    /// histogram sample in a growing bucket until `run_upkeep` folds it in; without a scrape
    /// of `/metrics` that bucket grew by a sample per socket write, forever (issue 17: the
    /// ~200 bytes per join/leave cycle). Upkeep now runs every [`UPKEEP_EVERY`] samples too.
    unfolded: AtomicU64,
    closes: HashMap<u16, Counter>,
    rejected: HashMap<Rejection, Counter>,
    hub: HubMetrics,
}

/// Gauges and counters mirroring [`StatsSnapshot`].
struct HubMetrics {
    sessions: Gauge,
    rooms: Gauge,
    messages_in: Counter,
    deliveries: Counter,
    queue_drops: Counter,
    slow_consumers: Counter,
    gaps_repaired: Counter,
    bus_received: Counter,
    fanout_nanos: Counter,
    fanouts: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let builder = PrometheusBuilder::new();
        let recorder = match builder.set_buckets_for_metric(
            Matcher::Full("chatcore_ws_write_seconds".into()),
            WRITE_BUCKETS,
        ) {
            Ok(b) => b.build_recorder(),
            // Only fails for empty buckets; fall back to a summary rather than no metrics.
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        let r = &recorder;
        let closes = CLOSE_CODES
            .iter()
            .map(|code| {
                let key = Key::from_parts(
                    "chatcore_ws_closes_total",
                    vec![Label::new("code", code.to_string())],
                );
                (*code, r.register_counter(&key, &META))
            })
            .collect();
        let rejected = Rejection::ALL
            .iter()
            .map(|why| {
                let key = Key::from_parts(
                    "chatcore_ws_handshakes_rejected_total",
                    vec![Label::new("reason", why.label())],
                );
                (*why, r.register_counter(&key, &META))
            })
            .collect();
        describe(
            r,
            "chatcore_ws_closes_total",
            "Close frames sent by the server, by close code.",
            None,
        );
        describe(
            r,
            "chatcore_ws_handshakes_rejected_total",
            "WebSocket upgrade requests refused before the upgrade, by reason.",
            None,
        );
        let hub = HubMetrics {
            sessions: gauge(
                r,
                "chatcore_sessions",
                "Sessions currently connected to the hub.",
            ),
            rooms: gauge(r, "chatcore_rooms_loaded", "Rooms loaded in memory."),
            messages_in: counter(
                r,
                "chatcore_messages_in_total",
                "Messages committed from local senders.",
            ),
            deliveries: counter(
                r,
                "chatcore_deliveries_total",
                "Frames queued to sessions (each message times each recipient, plus other events).",
            ),
            queue_drops: counter(
                r,
                "chatcore_queue_drops_total",
                "Typing and presence frames dropped for lagging sessions.",
            ),
            slow_consumers: counter(
                r,
                "chatcore_slow_consumers_total",
                "Sessions disconnected because their outbound queue overflowed.",
            ),
            gaps_repaired: counter(
                r,
                "chatcore_gaps_repaired_total",
                "Messages read back from the store to fill a seq gap.",
            ),
            bus_received: counter(
                r,
                "chatcore_bus_events_received_total",
                "Events received from other nodes.",
            ),
            fanout_nanos: counter(
                r,
                "chatcore_fanout_nanoseconds_total",
                "Time spent queueing committed messages to local members; divide by chatcore_fanouts_total for the mean fan-out latency.",
            ),
            fanouts: counter(r, "chatcore_fanouts_total", "Message fan-outs."),
        };
        let write_seconds =
            r.register_histogram(&Key::from_static_name("chatcore_ws_write_seconds"), &META);
        r.describe_histogram(
            KeyName::from_const_str("chatcore_ws_write_seconds"),
            Some(Unit::Seconds),
            SharedString::const_str(
                "Latency of one socket write (a coalesced batch of frames, flushed).",
            ),
        );
        Self {
            connections_open: gauge(
                r,
                "chatcore_ws_connections_open",
                "WebSocket connections open now.",
            ),
            connections_total: counter(
                r,
                "chatcore_ws_connections_total",
                "WebSocket connections accepted.",
            ),
            frames_received: counter(
                r,
                "chatcore_ws_frames_received_total",
                "WebSocket messages received.",
            ),
            bytes_received: counter(
                r,
                "chatcore_ws_bytes_received_total",
                "Payload bytes of WebSocket data messages received.",
            ),
            frames_sent: counter(
                r,
                "chatcore_ws_frames_sent_total",
                "Protocol frames written to sockets.",
            ),
            bytes_sent: counter(
                r,
                "chatcore_ws_bytes_sent_total",
                "Payload bytes of protocol frames written.",
            ),
            rate_limited: counter(
                r,
                "chatcore_ws_rate_limited_total",
                "Frames rejected by the per-connection rate limit.",
            ),
            write_timeouts: counter(
                r,
                "chatcore_ws_write_timeouts_total",
                "Connections dropped because a socket write exceeded the write timeout.",
            ),
            write_seconds,
            unfolded: AtomicU64::new(0),
            closes,
            rejected,
            hub,
            handle,
        }
    }

    /// Counts a close frame sent with `code`.
    pub(crate) fn closed(&self, code: u16) {
        if let Some(c) = self.closes.get(&code) {
            c.increment(1);
        }
    }

    /// Counts a refused handshake.
    pub(crate) fn rejected(&self, why: Rejection) {
        if let Some(c) = self.rejected.get(&why) {
            c.increment(1);
        }
    }

    /// Records how long a socket write took.
    pub(crate) fn write_took(&self, elapsed: Duration) {
        self.write_seconds.record(elapsed.as_secs_f64());
        if self.unfolded.fetch_add(1, Relaxed) + 1 >= UPKEEP_EVERY {
            self.unfolded.store(0, Relaxed);
            self.handle.run_upkeep();
        }
    }

    /// The Prometheus text exposition, with the hub's counters as of now.
    pub(crate) fn render(&self, stats: StatsSnapshot) -> String {
        let h = &self.hub;
        h.sessions.set(stats.sessions as f64);
        h.rooms.set(stats.rooms as f64);
        h.messages_in.absolute(stats.messages_in);
        h.deliveries.absolute(stats.deliveries);
        h.queue_drops.absolute(stats.dropped_ephemeral);
        h.slow_consumers.absolute(stats.slow_consumers);
        h.gaps_repaired.absolute(stats.gaps_repaired);
        h.bus_received.absolute(stats.bus_received);
        h.fanout_nanos.absolute(stats.fanout_nanos);
        h.fanouts.absolute(stats.fanouts);
        self.handle.run_upkeep();
        self.handle.render()
    }
}

fn describe(r: &PrometheusRecorder, name: &'static str, help: &'static str, unit: Option<Unit>) {
    r.describe_counter(
        KeyName::from_const_str(name),
        unit,
        SharedString::const_str(help),
    );
}

fn counter(r: &PrometheusRecorder, name: &'static str, help: &'static str) -> Counter {
    describe(r, name, help, None);
    r.register_counter(&Key::from_static_name(name), &META)
}

fn gauge(r: &PrometheusRecorder, name: &'static str, help: &'static str) -> Gauge {
    r.describe_gauge(
        KeyName::from_const_str(name),
        None,
        SharedString::const_str(help),
    );
    r.register_gauge(&Key::from_static_name(name), &META)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_transport_and_hub_metrics() {
        let m = Metrics::new();
        m.connections_total.increment(2);
        m.connections_open.increment(1.0);
        m.closed(close::SLOW_CONSUMER);
        m.rejected(Rejection::Capacity);
        m.write_took(Duration::from_millis(2));
        let text = m.render(StatsSnapshot {
            messages_in: 7,
            fanout_nanos: 1_000,
            fanouts: 7,
            ..StatsSnapshot::default()
        });
        for needle in [
            "chatcore_ws_connections_total 2",
            "chatcore_ws_connections_open 1",
            "chatcore_ws_closes_total{code=\"4008\"} 1",
            "chatcore_ws_handshakes_rejected_total{reason=\"capacity\"} 1",
            "chatcore_messages_in_total 7",
            "chatcore_fanouts_total 7",
            "chatcore_ws_write_seconds_bucket",
            "# HELP chatcore_slow_consumers_total",
        ] {
            assert!(text.contains(needle), "missing {needle} in\n{text}");
        }
    }

    #[test]
    fn recorders_are_independent() {
        let a = Metrics::new();
        let b = Metrics::new();
        a.connections_total.increment(5);
        assert!(
            b.render(StatsSnapshot::default())
                .contains("chatcore_ws_connections_total 0")
        );
    }
}
