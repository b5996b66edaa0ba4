//! [`ClientConfig`]: where to connect, as whom, and how to behave when the network fails.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chatcore::protocol::Codec;

use crate::endpoint::Endpoint;
use crate::tls::TlsRoots;
use crate::{Error, Result};

/// Who the client is at the handshake.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Auth {
    /// No credentials. Servers refuse this with 401; useful only to test that they do.
    #[default]
    None,
    /// A session token (JWT), sent as `Authorization: Bearer <token>`.
    Token(String),
    /// A guest name without a password (`?user=NAME`), accepted only by servers that let
    /// guests in (by default a `chat-server` bound to loopback).
    Guest(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            // Never print the secret.
            Auth::Token(_) => f.write_str("Token(…)"),
            Auth::Guest(name) => f.debug_tuple("Guest").field(name).finish(),
        }
    }
}

/// Settings of a [`Client`](crate::Client).
///
/// Fields are public for reading; set them with the consuming `with_*` setters, which check
/// invariants. Every default is chosen for an interactive client or a bot on an ordinary
/// network:
///
/// ```
/// use std::time::Duration;
/// use chatcore_client::{ClientConfig, Codec};
///
/// let config = ClientConfig::new("http://127.0.0.1:8080")?
///     .with_guest("ann")
///     .with_codec(Codec::MsgPack)
///     .with_backoff(Duration::from_millis(100), Duration::from_secs(10))?
///     .with_request_timeout(Duration::from_secs(10))?;
/// assert_eq!(config.socket_url(), "ws://127.0.0.1:8080/ws");
/// # Ok::<(), chatcore_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Where the server is, as given: the base of its HTTP surface (`http://host:port`, or
    /// `http://host:port/prefix` when the chat is mounted under a prefix; the socket is then at
    /// `/prefix/ws`) or the socket URL itself (`ws://host:port/ws`); `https://` and `wss://`
    /// connect over TLS. Default is `http://127.0.0.1:8080`, where `chat-server` listens by
    /// default.
    pub url: String,
    pub(crate) endpoint: Endpoint,
    /// The CAs trusted for TLS: the default roots, plus [`ClientConfig::ca_file`]'s.
    pub(crate) tls: TlsRoots,
    /// Credentials presented at every (re)connect. Default is [`Auth::None`], because there
    /// is no sensible default identity; set one with [`ClientConfig::with_token`] or
    /// [`ClientConfig::with_guest`].
    pub auth: Auth,
    /// Wire codec. Default is JSON, because it is readable in logs and browser tools;
    /// MessagePack is smaller and faster to decode.
    pub codec: Codec,
    /// Reconnect automatically when the connection drops. Default is `true`, because a chat
    /// client should survive server restarts and network blips without losing messages.
    pub reconnect: bool,
    /// Delay range of the first reconnect attempt; each further attempt doubles it up to
    /// [`ClientConfig::backoff_max`]. The actual delay is drawn at random from the upper half
    /// of the range (jitter), so clients dropped together do not return together. Default is
    /// 250 ms, like the browser client, because most drops are brief.
    pub backoff_initial: Duration,
    /// Longest delay between reconnect attempts. Default is 30 s, because a server that is down
    /// for long should not be hammered, and a user still notices recovery soon enough.
    pub backoff_max: Duration,
    /// Failed reconnect attempts in a row after which the client gives up (`None`: never).
    /// Default is `None`, because a chat client should come back whenever the server does;
    /// scripts that prefer to fail set a bound.
    pub max_reconnect_attempts: Option<u32>,
    /// Deadline of one connection attempt: TCP connect, WebSocket handshake and the server's
    /// `welcome`. Default is 10 s, because a healthy server answers in milliseconds and a
    /// black-holed one must not stall reconnecting for minutes.
    pub connect_timeout: Duration,
    /// How long a command waits for its reply, reconnects included. Default is 30 s, because
    /// it covers a server restart while a caller is still waiting on a useful answer; after it
    /// the command fails with [`Error::Timeout`] and is not retried any more.
    pub request_timeout: Duration,
    /// How often the client pings the server while connected. Default is 20 s, because that
    /// keeps NAT and proxy mappings alive and lets the server see a live peer.
    pub ping_interval: Duration,
    /// A connection from which nothing arrived for this long is considered dead and replaced.
    /// Default is 60 s: the server pings every 20 s, so three missed pings.
    pub idle_timeout: Duration,
    /// Events buffered for the application before the client stops reading the socket (and the
    /// server, once its own queue is full, disconnects it as a slow consumer; the client then
    /// resumes without loss). Default is 1024, because that absorbs bursts of a busy room.
    pub event_buffer: usize,
    /// Sustained frames per second the client sends at most, and the burst above it; `None`
    /// sends as fast as asked. Default is 25/s with bursts of 90, just under the server's
    /// default limit (30/s, bursts of 100), because frames over the server's limit are refused
    /// and a client that keeps exceeding it is disconnected.
    pub rate_limit: Option<(u32, u32)>,
    /// Read buffer of the socket, in bytes. Default is 4 KiB, because tungstenite allocates
    /// and zero-fills the buffer up front and its 128 KiB default costs CPU on every read.
    pub read_buffer_bytes: usize,
    /// Largest message accepted from the server, in bytes. Default is 32 MiB, because a
    /// `joined` frame on resume carries up to 500 messages of up to 8 KiB each (escaped).
    pub max_message_bytes: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        let url = "http://127.0.0.1:8080";
        Self {
            url: url.to_owned(),
            endpoint: Endpoint::parse(url).unwrap_or_else(|_| Endpoint::loopback()),
            tls: TlsRoots::default(),
            auth: Auth::None,
            codec: Codec::Json,
            reconnect: true,
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            max_reconnect_attempts: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            ping_interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            event_buffer: 1024,
            rate_limit: Some((25, 90)),
            read_buffer_bytes: 4 * 1024,
            max_message_bytes: 32 << 20,
        }
    }
}

fn nonzero(d: Duration, what: &str) -> Result<Duration> {
    if d.is_zero() {
        return Err(Error::Config(format!("{what} must be greater than zero")));
    }
    Ok(d)
}

impl ClientConfig {
    /// A configuration for the server at `url` (see [`ClientConfig::url`]). Over `https://`
    /// and `wss://` the server's certificate must chain to a root of `webpki-roots` (the
    /// Mozilla CA list), or to a CA added with [`ClientConfig::with_ca_file`].
    pub fn new(url: impl Into<String>) -> Result<Self> {
        Self::default().with_url(url)
    }

    /// Sets [`ClientConfig::url`].
    pub fn with_url(mut self, url: impl Into<String>) -> Result<Self> {
        let url = url.into();
        self.endpoint = Endpoint::parse(&url)?;
        self.url = url;
        Ok(self)
    }

    /// Trusts the CA certificates of the PEM file at `path` for `https://` and `wss://`, in
    /// addition to the default roots (a private CA, or the certificate of a server that signs
    /// its own). The file is read and checked now: a missing file, or one without a usable
    /// certificate, is an [`Error::Config`] naming the path. The WebSocket and the
    /// [`RestClient`](crate::RestClient) trust the same roots.
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Result<Self> {
        self.tls = TlsRoots::with_ca_file(path.into())?;
        Ok(self)
    }

    /// The PEM file of extra CA certificates given to [`ClientConfig::with_ca_file`].
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.ca_file()
    }

    /// Connects with a session token ([`Auth::Token`]).
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.auth = Auth::Token(token.into());
        self
    }

    /// Connects as a guest ([`Auth::Guest`]).
    pub fn with_guest(mut self, name: impl Into<String>) -> Self {
        self.auth = Auth::Guest(name.into());
        self
    }

    /// Sets [`ClientConfig::auth`].
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Sets [`ClientConfig::codec`].
    pub fn with_codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// Sets [`ClientConfig::reconnect`].
    pub fn with_reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    /// Sets [`ClientConfig::backoff_initial`] and [`ClientConfig::backoff_max`]: both
    /// non-zero, the initial delay at most the maximum.
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Result<Self> {
        nonzero(initial, "backoff_initial")?;
        if max < initial {
            return Err(Error::Config(
                "backoff_max must be at least backoff_initial".into(),
            ));
        }
        self.backoff_initial = initial;
        self.backoff_max = max;
        Ok(self)
    }

    /// Sets [`ClientConfig::max_reconnect_attempts`].
    pub fn with_max_reconnect_attempts(mut self, attempts: Option<u32>) -> Self {
        self.max_reconnect_attempts = attempts;
        self
    }

    /// Sets [`ClientConfig::connect_timeout`] (non-zero).
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.connect_timeout = nonzero(timeout, "connect_timeout")?;
        Ok(self)
    }

    /// Sets [`ClientConfig::request_timeout`] (non-zero).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Result<Self> {
        self.request_timeout = nonzero(timeout, "request_timeout")?;
        Ok(self)
    }

    /// Sets [`ClientConfig::ping_interval`] and [`ClientConfig::idle_timeout`]: both non-zero,
    /// the idle timeout longer than the ping interval.
    pub fn with_keepalive(
        mut self,
        ping_interval: Duration,
        idle_timeout: Duration,
    ) -> Result<Self> {
        nonzero(ping_interval, "ping_interval")?;
        if idle_timeout <= ping_interval {
            return Err(Error::Config(
                "idle_timeout must be longer than ping_interval".into(),
            ));
        }
        self.ping_interval = ping_interval;
        self.idle_timeout = idle_timeout;
        Ok(self)
    }

    /// Sets [`ClientConfig::event_buffer`] (at least 1).
    pub fn with_event_buffer(mut self, events: usize) -> Result<Self> {
        if events == 0 {
            return Err(Error::Config("event_buffer must be at least 1".into()));
        }
        self.event_buffer = events;
        Ok(self)
    }

    /// Sets [`ClientConfig::rate_limit`]: `Some((frames_per_second, burst))`, both at least 1,
    /// or `None` for no client-side limit.
    pub fn with_rate_limit(mut self, limit: Option<(u32, u32)>) -> Result<Self> {
        if let Some((rate, burst)) = limit {
            if rate == 0 || burst == 0 {
                return Err(Error::Config(
                    "rate limit and burst must be at least 1".into(),
                ));
            }
        }
        self.rate_limit = limit;
        Ok(self)
    }

    /// Sets [`ClientConfig::read_buffer_bytes`] (at least 256).
    pub fn with_read_buffer_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes < 256 {
            return Err(Error::Config(
                "read_buffer_bytes must be at least 256".into(),
            ));
        }
        self.read_buffer_bytes = bytes;
        Ok(self)
    }

    /// Sets [`ClientConfig::max_message_bytes`] (at least 64 KiB).
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Result<Self> {
        if bytes < 64 * 1024 {
            return Err(Error::Config(
                "max_message_bytes must be at least 64 KiB".into(),
            ));
        }
        self.max_message_bytes = bytes;
        Ok(self)
    }

    /// The WebSocket URL the client connects to (without credentials).
    pub fn socket_url(&self) -> String {
        self.endpoint.socket_url()
    }

    /// The base URL of the server's HTTP surface (for the REST API), without a trailing `/`.
    pub fn http_base(&self) -> String {
        self.endpoint.http_base()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_point_at_a_local_chat_server() {
        let c = ClientConfig::default();
        assert_eq!(c.socket_url(), "ws://127.0.0.1:8080/ws");
        assert_eq!(c.http_base(), "http://127.0.0.1:8080");
        assert_eq!(c.read_buffer_bytes, 4096);
        assert_eq!(c.ca_file(), None);
        assert!(c.idle_timeout > c.ping_interval);
    }

    #[test]
    fn setters_check_invariants() {
        let c = ClientConfig::default();
        assert!(
            c.clone()
                .with_backoff(Duration::ZERO, Duration::ZERO)
                .is_err()
        );
        assert!(
            c.clone()
                .with_backoff(Duration::from_secs(2), Duration::from_secs(1))
                .is_err()
        );
        assert!(c.clone().with_request_timeout(Duration::ZERO).is_err());
        assert!(
            c.clone()
                .with_keepalive(Duration::from_secs(5), Duration::from_secs(5))
                .is_err()
        );
        assert!(c.clone().with_event_buffer(0).is_err());
        assert!(c.clone().with_rate_limit(Some((0, 1))).is_err());
        assert!(c.clone().with_read_buffer_bytes(10).is_err());
        assert!(c.clone().with_url("ftp://example.com/ws").is_err());
        assert!(c.clone().with_ca_file("/nonexistent/ca.pem").is_err());
        let ok = c.with_rate_limit(None).expect("no limit");
        assert_eq!(ok.rate_limit, None);
    }

    #[test]
    fn debug_hides_tokens() {
        let c = ClientConfig::default().with_token("secret.jwt.value");
        assert!(!format!("{c:?}").contains("secret"));
    }
}
