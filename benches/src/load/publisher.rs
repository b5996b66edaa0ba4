//! A publishing connection. On chatcore it is a [`chatcore_client::Client`] (the library an
//! application would use: typed sends, acks matched by request id); on the baseline a raw
//! socket whose "ack" is its own echo. Either sends at a fixed rate or keeps `window` sends
//! in flight, and also counts the deliveries it receives as a member of its room. On chatcore,
//! `--changes` turns some ticks into edits and reactions ([`changes`](crate::load::changes))
//! and `--read-every` adds its reads ([`reads`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatcore::protocol::MessageKind;
use chatcore_client::{Client, ClientConfig, ClientEvent, ConnectionState};
use futures::stream::FuturesUnordered;
use futures::{SinkExt, StreamExt};
use tokio::sync::Semaphore;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use crate::load::args::{Target, Transport};
use crate::load::changes::{Mix, Op};
use crate::load::ctx::Ctx;
use crate::load::payload::{self, Stamp};
use crate::load::stats::Counters;
use crate::load::{member, reads};

/// Sends in flight at most in fixed-rate mode (beyond it a tick is skipped and counted).
const MAX_IN_FLIGHT: usize = 1024;

/// Connection `i` as publisher number `n` of `publishers`, recording latencies into the run's.
pub async fn run(ctx: Arc<Ctx>, i: usize, n: usize) {
    match ctx.plan.target {
        Target::Chatcore => chatcore(ctx, i, n).await,
        Target::Baseline => baseline(ctx, i, n).await,
    }
}

/// The pacing of publisher `n`: a tick every `1/rate` s, phase-shifted so that publishers
/// spread over the period instead of sending together.
fn ticker(ctx: &Ctx, n: usize, rate: f64) -> tokio::time::Interval {
    let period = Duration::from_secs_f64(1.0 / rate);
    let phase = period.mul_f64(n as f64 / ctx.plan.publishers.max(1) as f64);
    let mut t = tokio::time::interval_at(Instant::now() + phase, period);
    t.set_missed_tick_behavior(MissedTickBehavior::Skip);
    t
}

/// The next tick, or never without a ticker.
async fn tick(ticks: &mut Option<tokio::time::Interval>) {
    match ticks {
        Some(t) => {
            t.tick().await;
        }
        None => std::future::pending().await,
    }
}

fn stamp_now(id: u32) -> Stamp {
    Stamp {
        sent_us: payload::now_us(),
        publisher: id,
    }
}

async fn chatcore(ctx: Arc<Ctx>, i: usize, n: usize) {
    let plan = &ctx.plan;
    let room = plan.room_of(i);
    let setup = async {
        let _permit = ctx.handshakes.acquire().await.map_err(|e| e.to_string())?;
        let scheme = match plan.transport {
            Transport::Ws => "http",
            Transport::Tcp => "tcp",
        };
        let config = ClientConfig::new(format!("{scheme}://{}", plan.server))
            .and_then(|c| c.with_rate_limit(None))
            .and_then(|c| c.with_event_buffer(8192))
            .map_err(|e| e.to_string())?
            .with_guest(plan.user(i))
            .with_codec(plan.codec.codec())
            .with_reconnect(false);
        let (client, events) = Client::connect(config)
            .await
            .map_err(|e| format!("client connect: {e}"))?;
        client
            .join(room.clone())
            .await
            .map_err(|e| format!("client join: {e}"))?;
        Ok::<_, String>((client, events))
    };
    let (client, mut events) = match setup.await {
        Ok(ok) => {
            Counters::bump(&ctx.counters.ready);
            ok
        }
        Err(e) => {
            ctx.counters.connect_failed(e);
            return;
        }
    };
    let me = plan.user(i);
    let mix = Mutex::new(Mix::new(plan.changes, i as u64));
    let latest = AtomicU64::new(0);
    let receive = async {
        loop {
            let event = tokio::select! {
                () = ctx.stop.cancelled() => break,
                e = events.recv() => e,
            };
            match event {
                Some(ClientEvent::Receipts { .. }) => Counters::bump(&ctx.counters.receipts),
                Some(ClientEvent::Message(m)) => {
                    Counters::bump(&ctx.counters.deliveries);
                    latest.fetch_max(m.seq, Ordering::Relaxed);
                    if m.kind == MessageKind::Text {
                        lock(&mix).seen(m.seq, m.sender == me);
                    }
                    if let Some(s) = payload::find(m.text.as_bytes()) {
                        ctx.latencies
                            .delivery(payload::now_us().saturating_sub(s.sent_us));
                    }
                }
                Some(ClientEvent::State(ConnectionState::Disconnected(r)))
                    if !ctx.stop.is_cancelled() =>
                {
                    ctx.counters.disconnect(
                        format!("publisher: {r:?}")
                            .chars()
                            .take(60)
                            .collect::<String>(),
                    );
                }
                Some(_) => {}
                None => break,
            }
        }
    };
    tokio::join!(
        receive,
        chatcore_sends(&ctx, &client, &room, i, n, &mix),
        reads::client(&ctx, i, &client, &room, &latest),
    );
    let _ = tokio::time::timeout(Duration::from_millis(500), client.close()).await;
}

/// The mix, locked (by this publisher's own task only: never contended).
fn lock(mix: &Mutex<Mix>) -> std::sync::MutexGuard<'_, Mix> {
    mix.lock().unwrap_or_else(|p| p.into_inner())
}

/// The send loop of a chatcore publisher: each tick sends, or makes the change `mix` says.
/// Records the ack latencies.
async fn chatcore_sends(
    ctx: &Ctx,
    client: &Client,
    room: &str,
    i: usize,
    n: usize,
    mix: &Mutex<Mix>,
) {
    let id = ctx.publisher_id(i);
    let counters = &ctx.counters;
    let issue = |stamp: Stamp| {
        Counters::bump(&counters.sent);
        let op = lock(mix).next_op();
        if op != Op::Send {
            Counters::bump(&counters.changes);
        }
        // Edits carry a stamp like messages: members measure their latency too.
        let text = move || payload::encode(stamp, ctx.plan.payload);
        async move {
            let acked = match op {
                Op::Send => client.send(room, text()).await,
                Op::Edit(seq) => client.edit(room, seq, text()).await,
                Op::React(seq, emoji) => client.react(room, seq, emoji).await,
                Op::Unreact(seq, emoji) => client.unreact(room, seq, emoji).await,
            };
            (stamp.sent_us, acked)
        }
    };
    tokio::select! {
        () = ctx.stop.cancelled() => return,
        () = ctx.go.cancelled() => {}
    }
    let mut in_flight = FuturesUnordered::new();
    let mut ticks = ctx.plan.rate.map(|r| ticker(ctx, n, r));
    if ticks.is_none() {
        for _ in 0..ctx.plan.window {
            in_flight.push(issue(stamp_now(id)));
        }
    }
    loop {
        tokio::select! {
            () = ctx.stop.cancelled() => break,
            () = tick(&mut ticks), if ticks.is_some() && !ctx.stop_publishing.is_cancelled() => {
                if in_flight.len() < MAX_IN_FLIGHT {
                    in_flight.push(issue(stamp_now(id)));
                } else {
                    counters.error("publisher: in-flight cap reached, tick skipped");
                }
            }
            Some((sent_us, result)) = in_flight.next(), if !in_flight.is_empty() => {
                match result {
                    Ok(_) => {
                        Counters::bump(&counters.acks);
                        ctx.latencies.ack(payload::now_us().saturating_sub(sent_us));
                    }
                    Err(e) => counters.error(format!("send: {e}").chars().take(60).collect::<String>()),
                }
                if ticks.is_none() && !ctx.stop_publishing.is_cancelled() {
                    in_flight.push(issue(stamp_now(id)));
                }
            }
            () = ctx.stop_publishing.cancelled(), if in_flight.is_empty() => {
                // Nothing left to wait for: idle until the run stops.
                ctx.stop.cancelled().await;
                break;
            }
        }
    }
}

async fn baseline(ctx: Arc<Ctx>, i: usize, n: usize) {
    let Some(ws) = member::open_and_join(&ctx, i).await else {
        return;
    };
    let id = ctx.publisher_id(i);
    let (mut sink, mut stream) = ws.split();
    let window = Semaphore::new(ctx.plan.window);
    let receive = member::read_loop(&ctx, &mut stream, &ctx.stop, None, |s| {
        if s.publisher == id {
            Counters::bump(&ctx.counters.acks);
            ctx.latencies
                .ack(payload::now_us().saturating_sub(s.sent_us));
            window.add_permits(1);
        }
    });
    let send = async {
        tokio::select! {
            () = ctx.stop.cancelled() => return,
            () = ctx.go.cancelled() => {}
        }
        let mut ticks = ctx.plan.rate.map(|r| ticker(&ctx, n, r));
        loop {
            let ready = async {
                if ticks.is_some() {
                    tick(&mut ticks).await;
                } else if let Ok(p) = window.acquire().await {
                    p.forget();
                }
            };
            tokio::select! {
                () = ctx.stop_publishing.cancelled() => return,
                () = ready => {}
            }
            let text = payload::encode(stamp_now(id), ctx.plan.payload);
            Counters::bump(&ctx.counters.sent);
            if let Err(e) = sink.send(WsMessage::Text(text.into())).await {
                ctx.counters.error(
                    format!("baseline send: {e}")
                        .chars()
                        .take(60)
                        .collect::<String>(),
                );
                return;
            }
        }
    };
    tokio::join!(receive, send);
    let _ = tokio::time::timeout(Duration::from_millis(200), sink.close()).await;
}
