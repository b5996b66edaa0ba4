//! A receiving connection on the lean path: one task, raw tokio-tungstenite with a 4 KiB
//! read buffer (or chatcore's TCP transport, `tcp.rs`), no decoding. It finds a frame's kind
//! from its leading `type` field and the send time with one substring search, so a member
//! costs little CPU per delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{SinkExt, Stream, StreamExt};
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use crate::load::args::{Target, Transport};
use crate::load::conn::{self, Socket};
use crate::load::ctx::Ctx;
use crate::load::payload::{self, Stamp};
use crate::load::reads;
use crate::load::stats::Counters;
use crate::load::wire::{self, FrameKind};

/// How long a connection may take to open and join.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Connection `i` as a plain member: opens, joins, then counts deliveries until the run
/// stops (with `--read-every`, also sending its reads), recording latencies into the run's.
pub async fn run(ctx: Arc<Ctx>, i: usize) {
    let Some(mut ws) = open_and_join(&ctx, i).await else {
        return;
    };
    let stop = ctx.stop.clone();
    if ctx.plan.read_every.is_none() {
        // The socket stays whole: no split lock on the path every delivery takes.
        read_loop(&ctx, &mut ws, &stop, None, |_| {}).await;
        let _ = tokio::time::timeout(Duration::from_millis(200), ws.close()).await;
        return;
    }
    let latest = AtomicU64::new(0);
    let (mut sink, mut stream) = ws.split();
    tokio::join!(
        read_loop(&ctx, &mut stream, &stop, Some(&latest), |_| {}),
        reads::lean(&ctx, i, &mut sink, &latest),
    );
    let _ = tokio::time::timeout(Duration::from_millis(200), sink.close()).await;
}

/// Opens connection `i` and joins its room (chatcore: waits for `welcome`, sends `join`,
/// waits for `joined`). Counts it as ready or failed.
pub async fn open_and_join(ctx: &Ctx, i: usize) -> Option<Socket> {
    let setup = async {
        let _permit = ctx
            .handshakes
            .acquire()
            .await
            .map_err(|_| "closed".to_owned())?;
        let plan = &ctx.plan;
        let room = plan.room_of(i);
        let mut ws = match plan.transport {
            Transport::Ws => {
                let path = wire::socket_path(plan.target, &plan.user(i), &room);
                let subprotocol = wire::subprotocol(plan.target, plan.codec);
                conn::open(plan.server, plan.bind_of(i), &path, subprotocol).await?
            }
            Transport::Tcp => {
                let codec = plan.codec.codec();
                conn::open_tcp(plan.server, plan.bind_of(i), codec, &plan.user(i)).await?
            }
        };
        if plan.target == Target::Chatcore {
            wait_for(&mut ws, FrameKind::Welcome).await?;
            ws.send(wire::join(plan.codec, 1, &room))
                .await
                .map_err(|e| format!("join: {e}"))?;
            wait_for(&mut ws, FrameKind::Joined).await?;
        }
        Ok::<_, String>(ws)
    };
    let outcome = tokio::select! {
        () = ctx.stop.cancelled() => Err("setup cancelled".to_owned()),
        r = tokio::time::timeout(SETUP_TIMEOUT, setup) => r.unwrap_or_else(|_| Err("setup timeout".into())),
    };
    match outcome {
        Ok(ws) => {
            Counters::bump(&ctx.counters.ready);
            Some(ws)
        }
        Err(e) => {
            ctx.counters.connect_failed(e);
            None
        }
    }
}

/// Reads until a frame of `kind` arrives; an error frame or a closed socket is a failure.
async fn wait_for(ws: &mut Socket, kind: FrameKind) -> Result<(), String> {
    while let Some(msg) = ws.next().await {
        let msg = msg.map_err(|e| format!("read: {e}"))?;
        let bytes: &[u8] = match &msg {
            WsMessage::Text(t) => t.as_bytes(),
            WsMessage::Binary(b) => b,
            WsMessage::Close(c) => {
                return Err(format!(
                    "closed {}",
                    c.as_ref().map_or(0, |c| u16::from(c.code))
                ));
            }
            _ => continue,
        };
        match wire::classify(bytes) {
            k if k == kind => return Ok(()),
            FrameKind::Error => return Err(format!("error frame before {kind:?}")),
            _ => {}
        }
    }
    Err(format!("closed before {kind:?}"))
}

/// Counts deliveries (and records their latency) until `stop`; `on_stamp` sees the stamp of
/// every delivered message (publishers use it to spot their own echo on the baseline);
/// `latest`, when given, follows the newest seq delivered (for `read`).
pub async fn read_loop<S>(
    ctx: &Ctx,
    ws: &mut S,
    stop: &tokio_util::sync::CancellationToken,
    latest: Option<&AtomicU64>,
    mut on_stamp: impl FnMut(Stamp),
) where
    S: Stream<Item = Result<WsMessage, WsError>> + Unpin,
{
    let finder = payload::finder();
    let counters = &ctx.counters;
    let baseline = ctx.plan.target == Target::Baseline;
    // One wait for the whole loop: a new one per frame registered and dropped a waiter each
    // time (7 % of the load generator's CPU in `fanout`).
    let stopped = stop.cancelled();
    tokio::pin!(stopped);
    loop {
        let msg = tokio::select! {
            biased;
            () = &mut stopped => return,
            msg = ws.next() => msg,
        };
        let bytes: &[u8] = match &msg {
            Some(Ok(WsMessage::Text(t))) => t.as_bytes(),
            Some(Ok(WsMessage::Binary(b))) => b,
            Some(Ok(WsMessage::Close(c))) => {
                let code = c.as_ref().map_or(1005, |c| u16::from(c.code));
                return lost(ctx, format!("close {code}"));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return lost(ctx, format!("read: {}", kind_of(e))),
            None => return lost(ctx, "eof".to_owned()),
        };
        let kind = if baseline {
            FrameKind::Message
        } else {
            wire::classify(bytes)
        };
        match kind {
            FrameKind::Message => {
                Counters::bump(&counters.deliveries);
                if let Some(latest) = latest {
                    let seq = wire::message_seq(bytes).unwrap_or(0);
                    latest.fetch_max(seq, Ordering::Relaxed);
                }
                if let Some(stamp) = payload::find_with(&finder, bytes) {
                    let us = payload::now_us().saturating_sub(stamp.sent_us);
                    ctx.latencies.delivery(us);
                    on_stamp(stamp);
                }
            }
            FrameKind::Receipts => Counters::bump(&counters.receipts),
            FrameKind::Read => Counters::bump(&counters.read_replies),
            FrameKind::Error => counters.error("error frame at a member"),
            _ => {}
        }
    }
}

fn lost(ctx: &Ctx, reason: String) {
    if !ctx.stop.is_cancelled() {
        ctx.counters.disconnect(reason);
    }
}

fn kind_of(e: &WsError) -> String {
    match e {
        WsError::Io(io) => format!("{:?}", io.kind()),
        WsError::Protocol(p) => format!("protocol {p}"),
        other => other.to_string().chars().take(40).collect(),
    }
}
