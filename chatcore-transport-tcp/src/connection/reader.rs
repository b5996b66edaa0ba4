//! The read pump: frames → rate limit → `Session::handle_frame`.

use std::sync::Arc;

use bytes::BytesMut;
use chatcore::Session;
use chatcore::protocol::{Codec, Frame};
use chatcore::transport::{Activity, Admission, RateLimiter, close};
use tokio::io::AsyncRead;
use tokio::time::Instant;

use super::{CloseRequest, Control, ReadError, ReaderLink, WriterState, discard, read_frame};
use crate::TcpConfig;

/// How the read loop ended.
enum End {
    /// The peer ended its side or the socket failed: nothing more to read.
    PeerEnded,
    /// A close is under way (asked for by the reader, or the writer's own): discard input.
    Closing,
}

/// Owns the read half's loop and the per-connection rate limiter.
pub(super) struct Reader {
    /// The session's codec, to read request ids for refusals.
    pub(super) codec: Codec,
    /// Requests to the writer (error replies, close), and the writer's state: once it
    /// closed, reading only discards.
    pub(super) link: ReaderLink,
    /// Touched on every frame, for the writer's idle check.
    pub(super) activity: Arc<Activity>,
    /// This connection's rate limit.
    pub(super) limiter: RateLimiter,
    /// Frame limit and timeouts.
    pub(super) config: Arc<TcpConfig>,
    /// We asked the writer to close: handle no more frames.
    pub(super) closing: bool,
}

impl Reader {
    /// Reads until the connection is over. `buf` holds what arrived after the hello.
    pub(super) async fn run(
        mut self,
        mut io: impl AsyncRead + Unpin,
        mut buf: BytesMut,
        session: &mut Session,
    ) {
        let end = self.pump(&mut io, &mut buf, session).await;
        let Reader { link, config, .. } = self;
        if matches!(end, End::PeerEnded) {
            return; // dropping the link closes the connection (after any close asked for)
        }
        let budget = config.write_timeout() + config.close_timeout();
        let waited = tokio::time::timeout(budget, link.wait_for(|s| s != WriterState::Running));
        let closed = matches!(waited.await, Ok(WriterState::Closed));
        if closed {
            let _ = tokio::time::timeout(config.close_timeout(), discard(&mut io)).await;
        }
    }

    async fn pump(
        &mut self,
        io: &mut (impl AsyncRead + Unpin),
        buf: &mut BytesMut,
        session: &mut Session,
    ) -> End {
        let max = self.config.max_frame_bytes();
        loop {
            // A writer task that is gone (it panicked) ends reading too.
            if self.link.state() != (WriterState::Running, false) || self.closing {
                return End::Closing;
            }
            let frame = tokio::select! {
                biased;
                () = self.link.changed() => continue,
                frame = read_frame(io, buf, max) => frame,
            };
            let payload = match frame {
                Ok(Some(payload)) => payload,
                Ok(None) => return End::PeerEnded,
                Err(ReadError::Io(e)) => {
                    tracing::debug!(error = %e, "peer went away");
                    return End::PeerEnded;
                }
                Err(ReadError::TooLarge(e)) => {
                    self.close(close::TOO_BIG, &e.to_string());
                    return End::Closing;
                }
            };
            self.activity.touch();
            if !payload.is_empty() {
                self.data(session, &payload).await;
            }
            shrink(buf, payload.len(), self.config.read_buffer_bytes());
        }
    }

    /// One request frame.
    async fn data(&mut self, session: &mut Session, bytes: &[u8]) {
        if session.close_reason().is_some() {
            return; // the session is over; the writer is closing the connection
        }
        match self
            .limiter
            .admit(Instant::now(), Some((self.codec, bytes)))
        {
            // Boxed: the command layer's future (~2 KB) would otherwise be part of every
            // connection's task, idle or not; one allocation per request is far cheaper.
            Admission::Handle => Box::pin(session.handle_frame(bytes)).await,
            // Dropped when the writer is far behind: the client is flooding, the error is advisory.
            Admission::Refuse(error) => {
                self.link.try_send(Control::Reply(Frame::new(error)));
            }
            Admission::Close { code, reason } => self.close(code, reason),
        }
    }

    /// Asks the writer to close the connection; no more frames are handled.
    fn close(&mut self, code: u16, reason: &str) {
        if self.closing {
            return;
        }
        self.closing = true;
        tracing::debug!(code, reason, "closing the TCP connection");
        let reason = close::reason_text(reason).to_owned();
        self.link
            .send(Control::Close(Box::new(CloseRequest { code, reason })));
    }
}

/// Gives back the read buffer's larger allocation after a frame over `keep` bytes (the frame
/// shared it) or once the buffer grew past `keep`, when nothing else waits in it: an idle
/// connection holds `keep` bytes, whatever it read before.
fn shrink(buf: &mut BytesMut, frame: usize, keep: usize) {
    if buf.is_empty() && (frame > keep || buf.capacity() > keep) {
        *buf = BytesMut::with_capacity(keep);
    }
}

#[cfg(test)]
mod tests {
    use chatcore::transport::framed;

    use super::*;

    /// Reads `frame` out of a buffer that held it whole, as the pump does.
    fn read_one(buf: &mut BytesMut, payload: &[u8]) -> bytes::Bytes {
        framed::encode(payload, buf).expect("encode");
        framed::decode(buf, 1 << 20).expect("size").expect("whole")
    }

    #[test]
    fn a_large_frames_buffer_is_given_back_once_it_was_handled() {
        let mut buf = BytesMut::with_capacity(1024);
        let frame = read_one(&mut buf, &[7; 64 * 1024]);
        shrink(&mut buf, frame.len(), 1024);
        assert_eq!(buf.capacity(), 1024);
        assert!(buf.is_empty());
    }

    #[test]
    fn a_small_frame_keeps_the_buffer_and_what_follows_it() {
        let mut buf = BytesMut::with_capacity(1024);
        let frame = read_one(&mut buf, &[7; 200]);
        let before = buf.capacity();
        shrink(&mut buf, frame.len(), 1024);
        assert_eq!(buf.capacity(), before, "no new allocation per frame");
        // A large frame with the next one already behind it: that one is not thrown away.
        let mut buf = BytesMut::with_capacity(1024);
        framed::encode(&[7; 4096], &mut buf).expect("encode");
        framed::encode(b"next", &mut buf).expect("encode");
        let frame = framed::decode(&mut buf, 1 << 20)
            .expect("size")
            .expect("whole");
        shrink(&mut buf, frame.len(), 1024);
        let next = framed::decode(&mut buf, 1 << 20)
            .expect("size")
            .expect("whole");
        assert_eq!(&next[..], b"next");
    }
}
