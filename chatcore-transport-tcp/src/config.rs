//! [`TcpConfig`]: limits and timeouts of the TCP transport.

use std::time::Duration;

use chatcore::transport::{HandshakeLimit, Keepalive, RateLimit};
use tokio::sync::Semaphore;

use crate::{Error, Result};

/// Settings of the TCP transport. The defaults are those of the WebSocket transport, so a
/// client sees the same limits on either.
///
/// Read a setting with the getter of its name; change it with the consuming `with_*` setters,
/// which check invariants. The fields are private so that a `TcpConfig` that exists is valid
/// and a transport built from it cannot fail at run time.
///
/// ```
/// use std::time::Duration;
/// use chatcore::transport::Keepalive;
/// use chatcore_transport_tcp::TcpConfig;
///
/// let config = TcpConfig::default()
///     .with_max_connections(50_000)?
///     .with_keepalive(Keepalive::new(Duration::from_secs(15), Duration::from_secs(45))?)
///     .with_handshake_timeout(Duration::from_secs(5))?;
/// assert_eq!(config.max_connections(), 50_000);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConfig {
    max_frame_bytes: usize,
    read_buffer_bytes: usize,
    write_buffer_bytes: usize,
    max_connections: usize,
    handshake_timeout: Duration,
    handshake_limit: HandshakeLimit,
    keepalive: Keepalive,
    write_timeout: Duration,
    close_timeout: Duration,
    rate_limit: RateLimit,
    shutdown_grace: Duration,
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            read_buffer_bytes: 1024,
            write_buffer_bytes: 16 * 1024,
            max_connections: 10_000,
            handshake_timeout: Duration::from_secs(10),
            handshake_limit: HandshakeLimit::default(),
            keepalive: Keepalive::default(),
            write_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(3),
            rate_limit: RateLimit::default(),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Smallest accepted [`TcpConfig::max_frame_bytes`]: any real request must fit.
const MIN_FRAME_BYTES: usize = 1024;

/// `value`, refused when zero.
fn nonzero(value: Duration, name: &str) -> Result<Duration> {
    if value.is_zero() {
        return Err(Error::config(format!("{name} must be greater than zero")));
    }
    Ok(value)
}

impl TcpConfig {
    /// Largest frame payload a client may send, in bytes. Default is 64 KiB, as on WebSocket:
    /// a `send` at the hub's 8 KiB text limit, JSON escaped, fits, while a 1 MiB paste is
    /// refused (close 1009) from its length prefix, before it is buffered.
    pub fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    /// Open connections at most, handshakes included; the next one is closed with 1013.
    /// Default is 10,000, because each connection costs two tasks, buffers and a session
    /// queue, and a server should refuse clearly before it runs out of memory or descriptors.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Read buffer of each connection, in bytes. Default is 1 KiB, as on WebSocket, because
    /// an idle connection should cost little and requests are small (a `send` of a 100-byte
    /// text is ~200 bytes). The buffer grows to fit a larger frame while it arrives and goes
    /// back to this size once that frame was handled.
    pub fn read_buffer_bytes(&self) -> usize {
        self.read_buffer_bytes
    }

    /// Bytes the writer collects from queued frames before one socket write. Default is
    /// 16 KiB, because a burst of small chat frames then goes out in one system call, while an
    /// idle connection does not hold a large buffer (the writer keeps at most 4 KiB of it
    /// between writes).
    pub fn write_buffer_bytes(&self) -> usize {
        self.write_buffer_bytes
    }

    /// Time a client has from connecting to a complete `hello`. Default is 10 s, because a
    /// hello is one small frame: a peer that has not sent it by then (or trickles it) only
    /// holds a connection slot. It gets close 4408.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// Connections that have not finished their handshake (TLS and `hello`), per peer IP and
    /// in total; a connection past either is closed at once, before anything is read or
    /// written, so one client cannot hold the server's file descriptors with sockets that
    /// never say hello. They also hold a slot under [`TcpConfig::max_connections`]. Default is
    /// [`HandshakeLimit::default`] (1,024 in total, 64 per IP).
    pub fn handshake_limit(&self) -> HandshakeLimit {
        self.handshake_limit
    }

    /// The keep-alive: the server sends an empty frame every [`Keepalive::interval`] and
    /// closes (4000) a connection from which nothing, not even a keep-alive, arrived for
    /// [`Keepalive::idle_timeout`]. Default: 20 s and 60 s, as on WebSocket.
    pub fn keepalive(&self) -> Keepalive {
        self.keepalive
    }

    /// The per-connection rate limit. Default: [`RateLimit::default`], as on WebSocket.
    pub fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    /// A socket write (one coalesced batch, a keep-alive or a close) that takes longer is
    /// abandoned and the connection dropped. Default is 10 s, because a peer whose TCP window
    /// stays shut that long is gone or hopelessly behind; it reconnects and resumes.
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }

    /// After its close frame the server ends its side (FIN) and reads and discards what the
    /// peer still sends for at most this long, so the close frame is not lost to a reset.
    /// Default is 3 s.
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// On shutdown, how long [`TcpTransport::shutdown`](crate::TcpTransport::shutdown) waits
    /// for sends in flight, and then for connections to write their queued frames. Default
    /// is 10 s, well within the usual 30 s a process supervisor grants after SIGTERM.
    pub fn shutdown_grace(&self) -> Duration {
        self.shutdown_grace
    }

    /// Sets [`TcpConfig::max_frame_bytes`] (1 KiB up to 4 GiB − 1, what a length prefix holds).
    pub fn with_max_frame_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes < MIN_FRAME_BYTES || u32::try_from(bytes).is_err() {
            return Err(Error::config(format!(
                "max_frame_bytes must be between {MIN_FRAME_BYTES} and {}",
                u32::MAX
            )));
        }
        self.max_frame_bytes = bytes;
        Ok(self)
    }

    /// Sets [`TcpConfig::read_buffer_bytes`] (at least 256) and
    /// [`TcpConfig::write_buffer_bytes`] (0 writes every frame at once).
    pub fn with_buffers(mut self, read: usize, write: usize) -> Result<Self> {
        if read < 256 {
            return Err(Error::config("read_buffer_bytes must be at least 256"));
        }
        self.read_buffer_bytes = read;
        self.write_buffer_bytes = write;
        Ok(self)
    }

    /// Sets [`TcpConfig::max_connections`] (1 to [`Semaphore::MAX_PERMITS`]).
    pub fn with_max_connections(mut self, connections: usize) -> Result<Self> {
        if connections == 0 || connections > Semaphore::MAX_PERMITS {
            return Err(Error::config(format!(
                "max_connections must be between 1 and {}",
                Semaphore::MAX_PERMITS
            )));
        }
        self.max_connections = connections;
        Ok(self)
    }

    /// Sets [`TcpConfig::handshake_timeout`] (non-zero).
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.handshake_timeout = nonzero(timeout, "handshake_timeout")?;
        Ok(self)
    }

    /// Sets [`TcpConfig::handshake_limit`].
    pub fn with_handshake_limit(mut self, limit: HandshakeLimit) -> Self {
        self.handshake_limit = limit;
        self
    }

    /// Sets [`TcpConfig::keepalive`].
    pub fn with_keepalive(mut self, keepalive: Keepalive) -> Self {
        self.keepalive = keepalive;
        self
    }

    /// Sets [`TcpConfig::write_timeout`] and [`TcpConfig::close_timeout`] (non-zero).
    pub fn with_write_timeouts(mut self, write: Duration, close: Duration) -> Result<Self> {
        self.write_timeout = nonzero(write, "write_timeout")?;
        self.close_timeout = nonzero(close, "close_timeout")?;
        Ok(self)
    }

    /// Sets [`TcpConfig::rate_limit`].
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = limit;
        self
    }

    /// Sets [`TcpConfig::shutdown_grace`].
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_websocket_transport() {
        let c = TcpConfig::default();
        assert_eq!(c.max_frame_bytes(), 64 * 1024);
        assert_eq!(c.read_buffer_bytes(), 1024);
        assert_eq!(c.keepalive().interval(), Duration::from_secs(20));
        assert_eq!(c.keepalive().idle_timeout(), Duration::from_secs(60));
        assert_eq!(c.rate_limit(), RateLimit::default());
    }

    #[test]
    fn setters_check_invariants() {
        let c = TcpConfig::default();
        assert!(c.clone().with_max_frame_bytes(10).is_err());
        assert!(c.clone().with_max_connections(0).is_err());
        assert!(c.clone().with_max_connections(usize::MAX).is_err());
        assert!(c.clone().with_handshake_timeout(Duration::ZERO).is_err());
        let s = Duration::from_secs(1);
        assert!(c.clone().with_write_timeouts(Duration::ZERO, s).is_err());
        assert!(c.clone().with_buffers(1, 0).is_err());
        let ok = c.with_handshake_timeout(s).expect("valid");
        assert_eq!(ok.handshake_timeout(), s);
    }
}
