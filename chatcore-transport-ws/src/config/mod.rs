//! [`WsConfig`]: limits, timeouts and policies of the transport. The settings that guard
//! the door (handshakes, hosts) are in [`access`].

mod access;

use std::time::Duration;

use chatcore::transport::{HandshakeLimit, Keepalive, RateLimit};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::origin::OriginPattern;
use crate::{Error, Result};

/// Settings of the WebSocket transport and its HTTP surface.
///
/// Every setting has a default suited to a public chat server. Read them with the getters of
/// the same name; change them with the consuming `with_*` setters, which check invariants.
/// The fields are private so that a `WsConfig` that exists is always valid: a transport
/// built from it cannot fail (or panic, as a semaphore of more than
/// [`Semaphore::MAX_PERMITS`](tokio::sync::Semaphore::MAX_PERMITS) permits would) at run time.
///
/// ```
/// use std::time::Duration;
/// use chatcore_transport_ws::WsConfig;
///
/// let config = WsConfig::default()
///     .with_max_connections(50_000)?
///     .with_keepalive(Duration::from_secs(15), Duration::from_secs(45))?
///     .with_allowed_origins(["https://chat.example.com"])?;
/// # Ok::<(), chatcore_transport_ws::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WsConfig {
    pub(crate) max_message_bytes: usize,
    pub(crate) read_buffer_bytes: usize,
    pub(crate) write_buffer_bytes: usize,
    pub(crate) max_connections: usize,
    pub(crate) keepalive: Keepalive,
    pub(crate) write_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) rate_limit: RateLimit,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) allow_loopback_origins: bool,
    pub(crate) request_timeout: Duration,
    pub(crate) max_body_bytes: usize,
    pub(crate) shutdown_grace: Duration,
    pub(crate) handshake_timeout: Duration,
    pub(crate) handshake_limit: HandshakeLimit,
    pub(crate) allowed_hosts: Vec<String>,
}

impl Default for WsConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            read_buffer_bytes: 1024,
            write_buffer_bytes: 16 * 1024,
            max_connections: 10_000,
            keepalive: Keepalive::default(),
            write_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(3),
            rate_limit: RateLimit::default(),
            allowed_origins: Vec::new(),
            allow_loopback_origins: true,
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024,
            shutdown_grace: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            handshake_limit: HandshakeLimit::default(),
            allowed_hosts: Vec::new(),
        }
    }
}

/// Smallest accepted [`WsConfig::max_message_bytes`]: any real request must fit.
const MIN_MESSAGE_BYTES: usize = 1024;
/// Smallest accepted [`WsConfig::read_buffer_bytes`].
const MIN_READ_BUFFER: usize = 256;

impl WsConfig {
    /// Largest WebSocket message (and frame) a client may send, in bytes. Default is 64 KiB,
    /// because the largest legitimate request (a `send` at the hub's 8 KiB text limit, JSON
    /// escaped) is far below it while a 1 MiB paste is refused before it is buffered. A larger
    /// message gets close code 1009.
    pub fn max_message_bytes(&self) -> usize {
        self.max_message_bytes
    }

    /// Read buffer of each connection, in bytes. Default is 1 KiB, because tungstenite
    /// allocates (and zero-fills) this buffer up front per connection: its own 128 KiB default
    /// costs ~135 KiB per idle connection and measurably more CPU per message, and at 2 KiB it
    /// was still the largest single part of an idle connection (BENCHMARKS.md, "Memory of a
    /// joined idle connection"). Client requests are small (a `send` of a 100-byte text is
    /// ~200 bytes); a larger message is read 1 KiB per read.
    pub fn read_buffer_bytes(&self) -> usize {
        self.read_buffer_bytes
    }

    /// Bytes the writer gathers into one socket write, at most: it stops adding queued
    /// frames to a write once past this. Default is 16 KiB, because coalesced bursts of small
    /// chat frames then go out in one system call, while an idle connection does not hold a
    /// large buffer (the writer keeps at most 4 KiB of it between writes).
    pub fn write_buffer_bytes(&self) -> usize {
        self.write_buffer_bytes
    }

    /// Open WebSocket connections at most; the next upgrade request gets HTTP 503. Default is
    /// 10,000, because each connection costs two tasks, its buffers and a session queue, and
    /// a server should refuse clearly before it runs out of memory or file descriptors.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// How often the server pings an idle peer ([`Keepalive::interval`]: 20 s by default).
    pub fn ping_interval(&self) -> Duration {
        self.keepalive.interval()
    }

    /// A connection from which nothing arrived (no frame, no pong) for this long is closed
    /// with code 4000 ([`Keepalive::idle_timeout`]: 60 s by default).
    pub fn idle_timeout(&self) -> Duration {
        self.keepalive.idle_timeout()
    }

    /// A socket write (one coalesced batch, a ping or a close) that takes longer is abandoned
    /// and the connection dropped. Default is 10 s, because a peer whose TCP window stays
    /// shut that long is gone or hopelessly behind; it reconnects and resumes.
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }

    /// How long the server waits for the peer's half of the close handshake (and for it to
    /// end the TCP connection) after sending a close frame. Default is 3 s, because healthy
    /// peers answer in one round trip and a stuck one must not hold resources.
    pub fn close_timeout(&self) -> Duration {
        self.close_timeout
    }

    /// The per-connection rate limit (30 frames per second in bursts of 100, closed with
    /// 1008 after 50 rejections, by default); frames over it are answered with `rate_limited`
    /// errors and not handled.
    pub fn rate_limit(&self) -> RateLimit {
        self.rate_limit
    }

    /// Browser origins allowed to open a WebSocket, besides the same host and (by default)
    /// loopback, as `scheme://host[:port]`; `"*"` allows every origin. Default is empty,
    /// because a WebSocket is not covered by the same-origin policy: without this check any
    /// web page a user visits could chat in their name (cross-site WebSocket hijacking).
    /// Requests without an `Origin` header (non-browser clients) are always allowed.
    pub fn allowed_origins(&self) -> &[String] {
        &self.allowed_origins
    }

    /// Allows origins on loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`). Default is
    /// `true`, because that is where development front-ends run; a remote site cannot have
    /// a loopback origin.
    pub fn allow_loopback_origins(&self) -> bool {
        self.allow_loopback_origins
    }

    /// Deadline of one REST request. Default is 30 s, because every endpoint answers from
    /// memory or one store query; a stuck store yields a 503 instead of a hung client.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Largest REST request body, in bytes. Default is 16 KiB, because the only body the API
    /// takes is a small JSON object (`POST /api/token`).
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// On shutdown, how long [`serve`](crate::serve) waits for sends in flight to commit, and
    /// then again for connections to write their queued frames and close. Default is 10 s,
    /// because that is well within the usual 30 s a process supervisor grants after SIGTERM.
    pub fn shutdown_grace(&self) -> Duration {
        self.shutdown_grace
    }

    /// Sets [`WsConfig::max_message_bytes`] (at least 1 KiB).
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes < MIN_MESSAGE_BYTES {
            return Err(Error::config(format!(
                "max_message_bytes must be at least {MIN_MESSAGE_BYTES}"
            )));
        }
        self.max_message_bytes = bytes;
        Ok(self)
    }

    /// Sets [`WsConfig::read_buffer_bytes`] (at least 256).
    pub fn with_read_buffer_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes < MIN_READ_BUFFER {
            return Err(Error::config(format!(
                "read_buffer_bytes must be at least {MIN_READ_BUFFER}"
            )));
        }
        self.read_buffer_bytes = bytes;
        Ok(self)
    }

    /// Sets [`WsConfig::write_buffer_bytes`] (0 writes every frame at once).
    pub fn with_write_buffer_bytes(mut self, bytes: usize) -> Self {
        self.write_buffer_bytes = bytes;
        self
    }

    /// Sets [`WsConfig::max_connections`] (1 to [`tokio::sync::Semaphore::MAX_PERMITS`]).
    pub fn with_max_connections(mut self, connections: usize) -> Result<Self> {
        if connections == 0 || connections > tokio::sync::Semaphore::MAX_PERMITS {
            return Err(Error::config(format!(
                "max_connections must be between 1 and {}",
                tokio::sync::Semaphore::MAX_PERMITS
            )));
        }
        self.max_connections = connections;
        Ok(self)
    }

    /// Sets [`WsConfig::ping_interval`] and [`WsConfig::idle_timeout`] (checked by
    /// [`Keepalive::new`]).
    pub fn with_keepalive(
        mut self,
        ping_interval: Duration,
        idle_timeout: Duration,
    ) -> Result<Self> {
        self.keepalive =
            Keepalive::new(ping_interval, idle_timeout).map_err(Error::from_core_config)?;
        Ok(self)
    }

    /// Sets [`WsConfig::write_timeout`] (non-zero).
    pub fn with_write_timeout(mut self, timeout: Duration) -> Result<Self> {
        if timeout.is_zero() {
            return Err(Error::config("write_timeout must be greater than zero"));
        }
        self.write_timeout = timeout;
        Ok(self)
    }

    /// Sets [`WsConfig::close_timeout`] (non-zero).
    pub fn with_close_timeout(mut self, timeout: Duration) -> Result<Self> {
        if timeout.is_zero() {
            return Err(Error::config("close_timeout must be greater than zero"));
        }
        self.close_timeout = timeout;
        Ok(self)
    }

    /// Sets [`WsConfig::rate_limit`] (checked by [`RateLimit::new`]): `frames_per_second`
    /// sustained, bursts of `burst`, closed after `max_rate_limited` rejections.
    pub fn with_rate_limit(
        mut self,
        frames_per_second: u32,
        burst: u32,
        max_rate_limited: u32,
    ) -> Result<Self> {
        self.rate_limit = RateLimit::new(frames_per_second, burst, max_rate_limited)
            .map_err(Error::from_core_config)?;
        Ok(self)
    }

    /// Sets [`WsConfig::allowed_origins`]. Each entry is `"*"` or a browser origin
    /// `scheme://host[:port]` (http or https, no path).
    pub fn with_allowed_origins<I, S>(mut self, origins: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let origins: Vec<String> = origins.into_iter().map(Into::into).collect();
        for o in &origins {
            if o != "*" && OriginPattern::parse(o).is_none() {
                return Err(Error::config(format!(
                    "allowed origin {o:?} is not \"*\" or scheme://host[:port]"
                )));
            }
        }
        self.allowed_origins = origins;
        Ok(self)
    }

    /// Sets [`WsConfig::allow_loopback_origins`].
    pub fn with_loopback_origins(mut self, allow: bool) -> Self {
        self.allow_loopback_origins = allow;
        self
    }

    /// Sets [`WsConfig::request_timeout`] (non-zero).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Result<Self> {
        if timeout.is_zero() {
            return Err(Error::config("request_timeout must be greater than zero"));
        }
        self.request_timeout = timeout;
        Ok(self)
    }

    /// Sets [`WsConfig::max_body_bytes`] (at least 256).
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes < 256 {
            return Err(Error::config("max_body_bytes must be at least 256"));
        }
        self.max_body_bytes = bytes;
        Ok(self)
    }

    /// Sets [`WsConfig::shutdown_grace`].
    pub fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }

    /// The tungstenite settings derived from this configuration.
    pub(crate) fn tungstenite(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(self.read_buffer_bytes)
            // It writes only control frames (pongs, a close reply), which go to the writer at
            // once; the writer gathers data frames itself.
            .write_buffer_size(0)
            .max_message_size(Some(self.max_message_bytes))
            .max_frame_size(Some(self.max_message_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_sane() {
        let c = WsConfig::default();
        assert_eq!(c.max_message_bytes, 64 * 1024);
        assert!(c.read_buffer_bytes <= 8 * 1024);
        assert!(c.idle_timeout() > c.ping_interval());
        let t = c.tungstenite();
        assert_eq!(t.read_buffer_size, 1024);
        assert_eq!(t.max_message_size, Some(64 * 1024));
        assert_eq!(t.max_frame_size, Some(64 * 1024));
    }

    #[test]
    fn setters_check_invariants() {
        let c = WsConfig::default();
        assert!(c.clone().with_max_message_bytes(10).is_err());
        assert!(c.clone().with_read_buffer_bytes(0).is_err());
        assert!(c.clone().with_max_connections(0).is_err());
        assert!(
            c.clone()
                .with_keepalive(Duration::from_secs(10), Duration::from_secs(10))
                .is_err()
        );
        assert!(
            c.clone()
                .with_keepalive(Duration::ZERO, Duration::from_secs(10))
                .is_err()
        );
        assert!(c.clone().with_write_timeout(Duration::ZERO).is_err());
        assert!(c.clone().with_close_timeout(Duration::ZERO).is_err());
        assert!(c.clone().with_rate_limit(0, 1, 1).is_err());
        assert!(c.clone().with_allowed_origins(["example.com"]).is_err());
        assert!(
            c.clone()
                .with_allowed_origins(["https://a.b/path"])
                .is_err()
        );
        assert!(c.clone().with_request_timeout(Duration::ZERO).is_err());
        assert!(c.clone().with_max_body_bytes(1).is_err());
        let ok = c
            .with_allowed_origins(["*", "https://chat.example.com:8443"])
            .and_then(|c| c.with_rate_limit(5, 10, 3))
            .and_then(|c| c.with_keepalive(Duration::from_secs(1), Duration::from_secs(3)))
            .expect("valid");
        assert_eq!(ok.rate_limit().per_second(), 5);
        assert_eq!(ok.idle_timeout(), Duration::from_secs(3));
        assert_eq!(ok.allowed_origins.len(), 2);
    }
}
