//! Raw WebSocket receivers: no client library that could hide a duplicate or a gap.

use std::net::SocketAddr;

use chatcore::protocol::Message;
use tokio::time::Instant;

/// What a raw WebSocket receiver saw: every message with the moment it arrived, and how
/// the connection ended if the server ended it.
#[derive(Default)]
pub(crate) struct Seen {
    pub(crate) messages: Vec<(Message, Instant)>,
    pub(crate) ended: Option<String>,
}

/// A receiver that reads raw frames (no client library that could hide a duplicate or a
/// gap) from `addr`, joined to `room`, until `stop` is set.
pub(crate) async fn raw_receiver(
    addr: SocketAddr,
    user: String,
    room: &'static str,
    stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Seen> {
    use chatcore::protocol::{Codec, Command, Event, Request};
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as Ws;

    let url = format!("ws://{addr}/ws?user={user}");
    let mut ws = chatcore_testkit::open(&url, None, &[]).await.expect("ws");
    let join = Request::new(
        1,
        Command::Join {
            room: room.into(),
            resume_after: None,
        },
    );
    let json = String::from_utf8(Codec::Json.encode(&join)).expect("utf-8");
    ws.send(Ws::text(json)).await.expect("join");
    let decode = |t: &str| Codec::Json.decode_event(t.as_bytes()).expect("event");
    // Welcome, then joined (before any message: the room is new).
    loop {
        let Some(Ok(Ws::Text(t))) = ws.next().await else {
            panic!("{user}: no joined")
        };
        if let Event::Joined { history, .. } = decode(&t) {
            assert!(history.is_empty(), "{user}: the room is new");
            break;
        }
    }
    tokio::spawn(async move {
        let mut seen = Seen::default();
        let mut stop = stop;
        loop {
            let item = tokio::select! {
                _ = stop.changed() => return seen,
                item = ws.next() => item,
            };
            match item {
                Some(Ok(Ws::Text(t))) => match decode(&t) {
                    Event::Message(m) => seen.messages.push((m, Instant::now())),
                    Event::Joined { .. } => panic!("{user}: joined twice"),
                    _ => {}
                },
                Some(Ok(Ws::Close(frame))) => {
                    seen.ended = Some(format!("close {frame:?}"));
                    return seen;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    seen.ended = Some(format!("error {e}"));
                    return seen;
                }
                None => {
                    seen.ended = Some("end of stream".into());
                    return seen;
                }
            }
        }
    })
}
