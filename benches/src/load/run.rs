//! One run: ramp-up (open and join every connection), the measured window (publishers
//! publish for `--duration`), the drain (in-flight messages arrive), then the summary.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::load::ctx::Ctx;
use crate::load::plan::Plan;
use crate::load::procstat::{self, Sample};
use crate::load::stats::{Counters, Percentiles};
use crate::load::summary::{ServerStats, Summary, fmt_count};
use crate::load::{member, publisher};

/// How long deliveries may keep arriving after publishers stop.
const DRAIN: Duration = Duration::from_secs(1);
/// Progress refresh period.
const TICK: Duration = Duration::from_millis(250);

/// Runs `plan`; with `progress`, draws a progress bar on stderr (hidden when stderr is not
/// a terminal).
pub async fn run(plan: Plan, progress: bool) -> Result<Summary, String> {
    plan.validate()?;
    if let Some(limit) = procstat::open_files_limit() {
        if plan.connections as u64 + 64 > limit {
            return Err(format!(
                "{} connections need more open files than `ulimit -n` ({limit}) allows",
                plan.connections
            ));
        }
    }
    let ctx = Arc::new(Ctx::new(plan));
    let plan = &ctx.plan;
    let pid = plan.server_pid;
    let loadavg_start = procstat::loadavg();
    let server_start = observe(pid)?;
    let bar = bar(progress, plan.connections as u64, "connecting");

    // Ramp-up.
    let ramp_started = Instant::now();
    let mut tasks = JoinSet::new();
    for i in 0..plan.connections {
        if let Some(rate) = plan.ramp_rate {
            tokio::time::sleep_until(ramp_started + Duration::from_secs_f64(i as f64 / rate)).await;
        }
        let c = Arc::clone(&ctx);
        if i < plan.publishers {
            tasks.spawn(publisher::run(c, i, i));
        } else {
            tasks.spawn(member::run(c, i));
        }
        if i % 256 == 0 {
            bar.set_position(Counters::get(&ctx.counters.ready));
        }
    }
    let counters = &ctx.counters;
    loop {
        let ready = Counters::get(&counters.ready);
        let done = ready + Counters::get(&counters.failed);
        bar.set_position(done);
        bar.set_message(format!("{ready} ready"));
        if done >= plan.connections as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let ramp = ramp_started.elapsed();
    let connected = Counters::get(&counters.ready);
    let server_ramped = observe(pid)?;

    // The measured window.
    let bar = retarget(bar, plan.duration, "running");
    let start = Snapshot::take(counters);
    let self_start = procstat::sample(None).unwrap_or_default();
    let started = Instant::now();
    ctx.go.cancel();
    while started.elapsed() < plan.duration {
        tokio::time::sleep(TICK.min(plan.duration.saturating_sub(started.elapsed()))).await;
        let now = Snapshot::take(counters).minus(&start);
        let secs = started.elapsed().as_secs_f64().max(1e-3);
        bar.set_position(started.elapsed().as_millis() as u64);
        bar.set_message(format!(
            "{} deliveries/s, {} acks/s, {} errors, {} disconnects",
            fmt_count(now.deliveries as f64 / secs),
            fmt_count(now.acks as f64 / secs),
            now.errors,
            now.disconnects
        ));
    }
    let window = started.elapsed();
    let end = Snapshot::take(counters);
    let self_end = procstat::sample(None).unwrap_or_default();
    let server_end = observe(pid)?;
    let loadavg_end = procstat::loadavg();

    // Drain, then collect the histograms.
    ctx.stop_publishing.cancel();
    bar.set_message("draining");
    let mut last = Counters::get(&counters.deliveries);
    let drain_started = Instant::now();
    while drain_started.elapsed() < DRAIN * 5 {
        tokio::time::sleep(DRAIN / 4).await;
        let now = Counters::get(&counters.deliveries);
        if now == last && drain_started.elapsed() >= DRAIN {
            break;
        }
        last = now;
    }
    ctx.stop.cancel();
    let collect = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(15), collect)
        .await
        .is_err()
    {
        tasks.abort_all();
    }
    bar.finish_and_clear();
    let rec = ctx.latencies.merged();

    let total = Snapshot::take(counters);
    let d = end.minus(&start);
    let secs = window.as_secs_f64();
    let members_per_room = plan.connections as f64 / plan.rooms as f64;
    let expected = total.acks as f64 * members_per_room;
    Ok(Summary {
        label: plan.label.clone(),
        plan: Some(plan.clone()),
        loadavg_start,
        loadavg_end,
        connected,
        failed: Counters::get(&counters.failed),
        ramp_s: ramp.as_secs_f64(),
        connect_rate: connected as f64 / ramp.as_secs_f64().max(1e-6),
        window_s: secs,
        sent: d.sent,
        acks: d.acks,
        deliveries: d.deliveries,
        deliveries_total: total.deliveries,
        acks_total: total.acks,
        sent_per_s: d.sent as f64 / secs,
        acks_per_s: d.acks as f64 / secs,
        deliveries_per_s: d.deliveries as f64 / secs,
        changes: d.changes,
        reads_per_s: d.reads as f64 / secs,
        read_replies_per_s: d.read_replies as f64 / secs,
        receipts_per_s: d.receipts as f64 / secs,
        delivered_ratio: (expected > 0.0).then(|| total.deliveries as f64 / expected),
        errors: total.errors,
        disconnects: total.disconnects,
        error_kinds: counters.kinds(),
        latency_us: Percentiles::of(&rec.delivery),
        ack_latency_us: Percentiles::of(&rec.ack),
        load_cpu_s: self_end.cpu_s - self_start.cpu_s,
        load_cpu_pct: 100.0 * (self_end.cpu_s - self_start.cpu_s) / secs,
        server: server_start.map(|s0| {
            let ramped = server_ramped.unwrap_or(s0);
            let s1 = server_end.unwrap_or(ramped);
            let cpu = s1.cpu_s - ramped.cpu_s;
            ServerStats {
                cpu_s: cpu,
                cpu_pct: 100.0 * cpu / secs,
                cpu_us_per_delivery: (d.deliveries > 0).then(|| cpu * 1e6 / d.deliveries as f64),
                rss_start_kib: s0.rss_kib,
                rss_after_ramp_kib: ramped.rss_kib,
                rss_end_kib: s1.rss_kib,
                rss_per_connection_kib: (ramped.rss_kib as f64 - s0.rss_kib as f64)
                    / connected.max(1) as f64,
                ramp_cpu_s: ramped.cpu_s - s0.cpu_s,
            }
        }),
    })
}

/// The server's sample, or an error when `--server-pid` names no readable process.
fn observe(pid: Option<u32>) -> Result<Option<Sample>, String> {
    match pid {
        None => Ok(None),
        Some(p) => procstat::sample(Some(p))
            .map(Some)
            .ok_or_else(|| format!("cannot read /proc/{p}/stat and /proc/{p}/status")),
    }
}

/// Counter values at one moment.
#[derive(Debug, Clone, Copy)]
struct Snapshot {
    deliveries: u64,
    sent: u64,
    acks: u64,
    errors: u64,
    disconnects: u64,
    changes: u64,
    reads: u64,
    read_replies: u64,
    receipts: u64,
}

impl Snapshot {
    fn take(c: &Counters) -> Self {
        Self {
            deliveries: Counters::get(&c.deliveries),
            sent: Counters::get(&c.sent),
            acks: Counters::get(&c.acks),
            errors: Counters::get(&c.errors),
            disconnects: Counters::get(&c.disconnects),
            changes: Counters::get(&c.changes),
            reads: Counters::get(&c.reads),
            read_replies: Counters::get(&c.read_replies),
            receipts: Counters::get(&c.receipts),
        }
    }

    fn minus(&self, o: &Self) -> Self {
        Self {
            deliveries: self.deliveries - o.deliveries,
            sent: self.sent - o.sent,
            acks: self.acks - o.acks,
            errors: self.errors - o.errors,
            disconnects: self.disconnects - o.disconnects,
            changes: self.changes - o.changes,
            reads: self.reads - o.reads,
            read_replies: self.read_replies - o.read_replies,
            receipts: self.receipts - o.receipts,
        }
    }
}

fn bar(progress: bool, len: u64, phase: &'static str) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix(phase);
    bar
}

fn retarget(bar: ProgressBar, duration: Duration, phase: &'static str) -> ProgressBar {
    bar.set_length(duration.as_millis() as u64);
    bar.set_position(0);
    bar.set_prefix(phase);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>10} [{bar:30}] {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}
