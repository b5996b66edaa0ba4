//! [`Summary`]: the outcome of one run, as a table for people or JSON for scripts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::load::plan::Plan;
use crate::load::stats::Percentiles;

/// The server's side of a run (with `--server-pid`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ServerStats {
    /// CPU seconds the server used while publishers published (or, with none, while the
    /// connections were held).
    pub cpu_s: f64,
    /// The same as a percentage of one core.
    pub cpu_pct: f64,
    /// Server CPU microseconds per delivery in that window.
    pub cpu_us_per_delivery: Option<f64>,
    /// RSS before the first connection, KiB.
    pub rss_start_kib: u64,
    /// RSS once every connection was ready, KiB.
    pub rss_after_ramp_kib: u64,
    /// RSS at the end of the window, KiB.
    pub rss_end_kib: u64,
    /// (RSS after ramp − RSS before) ÷ connections ready, KiB.
    pub rss_per_connection_kib: f64,
    /// CPU seconds the server used during the ramp-up.
    pub ramp_cpu_s: f64,
}

/// The outcome of one run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Summary {
    /// `--label`.
    pub label: String,
    /// What was asked for.
    pub plan: Option<Plan>,
    /// Load average at the start and at the end (1, 5, 15 min).
    pub loadavg_start: String,
    /// Load average at the end.
    pub loadavg_end: String,
    /// Connections ready.
    pub connected: u64,
    /// Connections that failed to open or join.
    pub failed: u64,
    /// Ramp-up time, seconds.
    pub ramp_s: f64,
    /// Connections ready per second of ramp-up.
    pub connect_rate: f64,
    /// Length of the measured window, seconds.
    pub window_s: f64,
    /// Messages sent in the window.
    pub sent: u64,
    /// Acks received in the window.
    pub acks: u64,
    /// Deliveries in the window.
    pub deliveries: u64,
    /// Deliveries including the drain after the window.
    pub deliveries_total: u64,
    /// Acks including the drain.
    pub acks_total: u64,
    /// Sends per second.
    pub sent_per_s: f64,
    /// Acks per second.
    pub acks_per_s: f64,
    /// Deliveries per second.
    pub deliveries_per_s: f64,
    /// Deliveries received ÷ (acks × members per room): 1.0 when every member got every
    /// acknowledged message (meaningful for one process with uniform rooms).
    pub delivered_ratio: Option<f64>,
    /// Of `sent`, the edits and reactions (`--changes`).
    pub changes: u64,
    /// `read` commands sent per second (`--read-every`).
    pub reads_per_s: f64,
    /// Answers to `read` per second.
    pub read_replies_per_s: f64,
    /// `receipts` frames received per second (all connections together).
    pub receipts_per_s: f64,
    /// Error frames, failed sends and skipped ticks.
    pub errors: u64,
    /// Connections lost during the run.
    pub disconnects: u64,
    /// Errors, disconnects and failed connects by kind.
    pub error_kinds: BTreeMap<String, u64>,
    /// Send → receipt at each member, µs.
    pub latency_us: Percentiles,
    /// Send → ack at the publisher, µs.
    pub ack_latency_us: Percentiles,
    /// CPU seconds of chat-load in the window.
    pub load_cpu_s: f64,
    /// The same as a percentage of one core.
    pub load_cpu_pct: f64,
    /// The server, with `--server-pid`.
    pub server: Option<ServerStats>,
}

/// `1234` µs as `1.23 ms`, `850` as `850 µs`.
pub fn fmt_us(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.2} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    }
}

/// `12345.6` as `12,346`.
pub fn fmt_count(v: f64) -> String {
    let n = v.round() as u64;
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Summary {
    /// The summary as an aligned two-column table.
    pub fn table(&self) -> String {
        let mut rows: Vec<(&str, String)> = Vec::new();
        if let Some(p) = &self.plan {
            let scenario = p
                .scenario
                .map_or("custom".to_owned(), |s| format!("{s:?}").to_lowercase());
            rows.push((
                "run",
                format!(
                    "{} {scenario} → {:?} {} ({:?})",
                    self.label, p.target, p.server, p.codec
                )
                .trim()
                .to_owned(),
            ));
            let rate = p
                .rate
                .map_or(format!("ack-paced, window {}", p.window), |r| {
                    format!("{r} msg/s each")
                });
            rows.push((
                "shape",
                format!(
                    "{} connections, {} rooms, {} publishers ({rate}), {} B",
                    p.connections, p.rooms, p.publishers, p.payload
                ),
            ));
            if p.changes > 0.0 || p.read_every.is_some() {
                let reads = p
                    .read_every
                    .map_or("no reads".to_owned(), |d| format!("a read every {d:?}"));
                let answered = if p.read_answered { " (answered)" } else { "" };
                rows.push((
                    "changes",
                    format!(
                        "{:.0}% of ticks edit/react/unreact, {reads}{answered}",
                        p.changes * 100.0
                    ),
                ));
            }
        }
        rows.push((
            "load average",
            format!("{} → {}", self.loadavg_start, self.loadavg_end),
        ));
        rows.push((
            "connected",
            format!(
                "{} ({} failed) in {:.2} s = {} conn/s",
                self.connected,
                self.failed,
                self.ramp_s,
                fmt_count(self.connect_rate)
            ),
        ));
        rows.push((
            "deliveries/s",
            format!(
                "{} ({} in {:.1} s)",
                fmt_count(self.deliveries_per_s),
                fmt_count(self.deliveries as f64),
                self.window_s
            ),
        ));
        rows.push((
            "sent/s, acks/s",
            format!(
                "{} / {}",
                fmt_count(self.sent_per_s),
                fmt_count(self.acks_per_s)
            ),
        ));
        if let Some(r) = self.delivered_ratio {
            rows.push(("delivered/expected", format!("{r:.4}")));
        }
        if self.changes > 0 || self.reads_per_s > 0.0 || self.receipts_per_s > 0.0 {
            rows.push((
                "changes, reads/s, answers/s, receipts/s",
                format!(
                    "{} / {} / {} / {}",
                    self.changes,
                    fmt_count(self.reads_per_s),
                    fmt_count(self.read_replies_per_s),
                    fmt_count(self.receipts_per_s)
                ),
            ));
        }
        rows.push((
            "errors, disconnects",
            format!("{} / {}", self.errors, self.disconnects),
        ));
        let l = &self.latency_us;
        rows.push((
            "latency p50/p90/p99",
            format!("{} / {} / {}", fmt_us(l.p50), fmt_us(l.p90), fmt_us(l.p99)),
        ));
        rows.push((
            "latency p99.9/max",
            format!("{} / {} (n={})", fmt_us(l.p999), fmt_us(l.max), l.count),
        ));
        let a = &self.ack_latency_us;
        if a.count > 0 {
            rows.push((
                "ack p50/p99/max",
                format!("{} / {} / {}", fmt_us(a.p50), fmt_us(a.p99), fmt_us(a.max)),
            ));
        }
        rows.push((
            "chat-load CPU",
            format!(
                "{:.2} s ({:.0}% of a core)",
                self.load_cpu_s, self.load_cpu_pct
            ),
        ));
        if let Some(s) = &self.server {
            let per = s
                .cpu_us_per_delivery
                .map_or(String::new(), |us| format!(", {us:.2} µs/delivery"));
            rows.push((
                "server CPU",
                format!("{:.2} s ({:.0}% of a core){per}", s.cpu_s, s.cpu_pct),
            ));
            rows.push((
                "server RSS",
                format!(
                    "{} → {} → {} KiB ({:.2} KiB/connection)",
                    s.rss_start_kib, s.rss_after_ramp_kib, s.rss_end_kib, s.rss_per_connection_kib
                ),
            ));
        }
        for (kind, n) in &self.error_kinds {
            rows.push(("  error kind", format!("{n} × {kind}")));
        }
        let width = rows
            .iter()
            .map(|(k, _)| k.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for (k, v) in rows {
            let _ = writeln!(out, "{k:<width$}  {v}");
        }
        out
    }

    /// The summary as one line of JSON.
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_units() {
        assert_eq!(fmt_us(850), "850 µs");
        assert_eq!(fmt_us(1_234), "1.23 ms");
        assert_eq!(fmt_us(2_500_000), "2.50 s");
        assert_eq!(fmt_count(0.0), "0");
        assert_eq!(fmt_count(999.0), "999");
        assert_eq!(fmt_count(1_234_567.4), "1,234,567");
    }

    #[test]
    fn table_and_json() {
        let mut s = Summary {
            label: "chatcore-memory".into(),
            connected: 1_000,
            deliveries: 50_000,
            deliveries_per_s: 10_000.0,
            window_s: 5.0,
            latency_us: Percentiles {
                count: 50_000,
                p50: 400,
                p90: 900,
                p99: 1_500,
                p999: 3_000,
                max: 9_000,
            },
            server: Some(ServerStats {
                cpu_s: 0.5,
                cpu_us_per_delivery: Some(10.0),
                ..ServerStats::default()
            }),
            ..Summary::default()
        };
        s.error_kinds.insert("close 4008".into(), 2);
        let t = s.table();
        assert!(t.contains("10,000 (50,000 in 5.0 s)"), "{t}");
        assert!(t.contains("400 µs / 900 µs / 1.50 ms"), "{t}");
        assert!(t.contains("10.00 µs/delivery"), "{t}");
        assert!(t.contains("2 × close 4008"), "{t}");
        let v: serde_json::Value = serde_json::from_str(&s.json()).expect("json");
        assert_eq!(v["deliveries_per_s"], 10_000.0);
        assert_eq!(v["latency_us"]["p99"], 1_500);
        assert_eq!(v["server"]["cpu_us_per_delivery"], 10.0);
    }
}
