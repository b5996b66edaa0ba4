//! The baseline: the usual minimal "chat example" WebSocket server, to compare chatcore
//! with. tokio-tungstenite (4 KiB read buffer) and one `tokio::sync::broadcast` channel per
//! room: every text frame a connection sends is broadcast, as is, to every connection of
//! the same room (the sender included). No protocol, no persistence, no acks, no
//! authentication. The room is the `room` query parameter (`/?room=NAME`; default one room).
//!
//! Per connection: a reader task (frames in → broadcast) and a writer task (broadcast →
//! socket, coalescing what is already queued into one flush). A writer that lags behind
//! the channel's capacity is disconnected, like chatcore's slow consumers.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::load::conn::READ_BUFFER;

/// Frames a room's channel holds for its slowest member.
pub const DEFAULT_CAPACITY: usize = 1024;

/// The socket settings: a 4 KiB read buffer (tungstenite's 128 KiB default is zero-filled
/// per read) and, like chatcore's transport, a 16 KiB write buffer so that a burst of queued
/// frames goes out in one system call.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(16 * 1024)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

/// Frames written per flush at most.
const BATCH: usize = 256;

type Rooms = Arc<Mutex<HashMap<String, broadcast::Sender<Message>>>>;

/// Serves on `listener` until `shutdown` resolves; each room's channel holds `capacity`
/// frames.
pub async fn serve(
    listener: TcpListener,
    capacity: usize,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let rooms: Rooms = Arc::default();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            () = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // Out of file descriptors and the like: keep serving the others.
                Err(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        tokio::spawn(connection(stream, Arc::clone(&rooms), capacity));
    }
}

fn room_of(query: Option<&str>) -> String {
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|kv| kv.strip_prefix("room="))
        .unwrap_or("default")
        .to_owned()
}

async fn connection(stream: TcpStream, rooms: Rooms, capacity: usize) {
    let _ = stream.set_nodelay(true);
    let mut room = String::new();
    // The error type is tungstenite's `Callback` contract, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| {
        room = room_of(req.uri().query());
        Ok(resp)
    };
    let Ok(ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config())).await
    else {
        return;
    };
    let tx = {
        let mut rooms = rooms.lock().unwrap_or_else(|p| p.into_inner());
        rooms
            .entry(room)
            .or_insert_with(|| broadcast::channel(capacity).0)
            .clone()
    };
    let mut rx = tx.subscribe();
    let (mut sink, mut source) = ws.split();
    let writer = tokio::spawn(async move {
        loop {
            let first = match rx.recv().await {
                Ok(m) => m,
                // Lagged (slow consumer) or closed: drop the connection.
                Err(_) => break,
            };
            if sink.feed(first).await.is_err() {
                break;
            }
            let mut n = 1;
            while n < BATCH {
                match rx.try_recv() {
                    Ok(m) => {
                        if sink.feed(m).await.is_err() {
                            return;
                        }
                        n += 1;
                    }
                    Err(broadcast::error::TryRecvError::Empty) => break,
                    Err(_) => return,
                }
            }
            if sink.flush().await.is_err() {
                break;
            }
        }
        let _ = sink.close().await;
    });
    while let Some(Ok(msg)) = source.next().await {
        match msg {
            Message::Text(_) | Message::Binary(_) => {
                let _ = tx.send(msg);
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    writer.abort();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_from_query() {
        assert_eq!(room_of(Some("room=a")), "a");
        assert_eq!(room_of(Some("x=1&room=b")), "b");
        assert_eq!(room_of(None), "default");
        assert_eq!(room_of(Some("user=z")), "default");
    }
}
