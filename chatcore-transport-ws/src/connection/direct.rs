//! What the hub's direct writes to a plain TCP connection need from this transport
//! (`chatcore::transport::SocketSink`): the socket, shared by the connection's write pump and
//! the hub, and the WebSocket framing of data frames. Over TLS, or any stream other than
//! plain TCP, the pump writes alone through a split half.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use chatcore::protocol::{Codec, Frame};
use chatcore::transport::{Framing, SharedSocket};
use tokio::net::tcp::OwnedWriteHalf;

use super::wire;
use crate::metrics::Metrics;

/// A plain TCP connection's write half, written by its pump and by the hub.
#[derive(Debug)]
pub(super) struct TcpWrite(pub(super) OwnedWriteHalf);

impl SharedSocket for TcpWrite {
    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }

    fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_ref().poll_write_ready(cx)
    }
}

/// Data frames as the writer frames them ([`wire`]), counted in the transport's metrics.
#[derive(Debug)]
pub(super) struct WsFraming {
    metrics: Arc<Metrics>,
}

impl WsFraming {
    pub(super) fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl Framing for WsFraming {
    fn push(&self, out: &mut Vec<u8>, frame: &Frame, codec: Codec) -> Option<u64> {
        Some(wire::push_data(out, frame, codec))
    }

    fn sent(&self, frames: u64, bytes: u64) {
        self.metrics.frames_sent.increment(frames);
        self.metrics.bytes_sent.increment(bytes);
    }
}
