//! `--read-every`: each connection sends a `read` of the newest seq it saw on a timer, as a
//! client does that shows a room and clears its badge. Timers are phase-shifted per
//! connection so the reads of a run spread over the period instead of coming together.

use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chatcore_client::Client;
use futures::{Sink, SinkExt};
use tokio::time::{Instant, Interval, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::load::ctx::Ctx;
use crate::load::stats::Counters;
use crate::load::wire;

/// The read timer of connection `i`, `None` when the plan sends no reads.
fn ticker(ctx: &Ctx, i: usize) -> Option<Interval> {
    let period = ctx.plan.read_every?;
    let phase = period.mul_f64((i % 1024) as f64 / 1024.0);
    let mut t = tokio::time::interval_at(Instant::now() + phase, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Skip);
    Some(t)
}

/// Waits until publishing starts, then yields each tick until publishing stops; `None`
/// when the run stops first.
async fn next_tick(ctx: &Ctx, ticks: &mut Interval) -> Option<()> {
    tokio::select! {
        () = ctx.stop_publishing.cancelled() => None,
        _ = ticks.tick() => Some(()),
    }
}

/// Counts a failed read, by the first 60 characters of its error.
fn failed(ctx: &Ctx, e: impl Display) {
    ctx.counters
        .error(format!("read: {e}").chars().take(60).collect::<String>());
}

async fn started(ctx: &Ctx) -> bool {
    tokio::select! {
        () = ctx.stop.cancelled() => false,
        () = ctx.go.cancelled() => true,
    }
}

/// The reads of lean member `i` over its raw socket; `latest` is kept up to date by its
/// read loop. Fire-and-forget unless the plan says `--read-answered`; answers are counted by
/// the read loop.
pub async fn lean<S>(ctx: &Ctx, i: usize, sink: &mut S, latest: &AtomicU64)
where
    S: Sink<WsMessage> + Unpin,
    S::Error: Display,
{
    let Some(mut ticks) = ticker(ctx, i) else {
        return;
    };
    if !started(ctx).await {
        return;
    }
    let room = ctx.plan.room_of(i);
    // Request id 1 was the join.
    let mut id = 1;
    while next_tick(ctx, &mut ticks).await.is_some() {
        let seq = latest.load(Ordering::Relaxed);
        if seq == 0 {
            continue;
        }
        id += 1;
        let id = ctx.plan.read_answered.then_some(id);
        if let Err(e) = sink.send(wire::read(ctx.plan.codec, id, &room, seq)).await {
            failed(ctx, e);
            return;
        }
        Counters::bump(&ctx.counters.reads);
    }
}

/// The reads of publisher `i` through its [`Client`] (fire-and-forget with
/// [`Client::mark_read`] unless the plan says `--read-answered`); `latest` is kept up to date
/// by its event loop.
pub async fn client(ctx: &Ctx, i: usize, client: &Client, room: &str, latest: &AtomicU64) {
    let Some(mut ticks) = ticker(ctx, i) else {
        return;
    };
    if !started(ctx).await {
        return;
    }
    while next_tick(ctx, &mut ticks).await.is_some() {
        let seq = latest.load(Ordering::Relaxed);
        if seq == 0 {
            continue;
        }
        Counters::bump(&ctx.counters.reads);
        if !ctx.plan.read_answered {
            if let Err(e) = client.mark_read(room, seq) {
                failed(ctx, e);
            }
            continue;
        }
        match tokio::time::timeout(Duration::from_secs(10), client.read(room, seq)).await {
            Ok(Ok(_)) => Counters::bump(&ctx.counters.read_replies),
            Ok(Err(e)) => failed(ctx, e),
            Err(_) => ctx.counters.error("read: no answer in 10 s"),
        }
    }
}
