//! Where the server is: one parsed URL gives both the socket URL and the REST base.

use tokio_tungstenite::tungstenite::http::Uri;

use crate::{Error, Result};

/// A parsed server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `host[:port]` as given (IPv6 hosts in brackets), for URLs and the `Host` header.
    authority: String,
    /// The host without brackets, for the TCP connection.
    host: String,
    /// The port (80 when not given).
    port: u16,
    /// Path prefix of the HTTP surface without a trailing `/` (`""`, or `"/chat"` when the
    /// chat router is nested under a prefix).
    prefix: String,
    /// Path of the WebSocket endpoint.
    socket_path: String,
    /// A query string given with a `ws://` URL, kept as is.
    query: Option<String>,
    /// `tcp://host:port`: the TCP transport instead of a WebSocket.
    tcp: bool,
}

impl Endpoint {
    /// `http://127.0.0.1:8080`, for the infallible default.
    pub(crate) fn loopback() -> Self {
        Self {
            authority: "127.0.0.1:8080".into(),
            host: "127.0.0.1".into(),
            port: 8080,
            prefix: String::new(),
            socket_path: "/ws".into(),
            query: None,
            tcp: false,
        }
    }

    /// Parses `http://host[:port][/prefix]` (the HTTP base; the socket is `prefix/ws`) or
    /// `ws://host[:port][/path][?query]` (the socket itself; an empty path means `/ws`), or
    /// `tcp://host:port` (the TCP transport; no path, no HTTP surface).
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::Config(format!("bad server URL {url:?}: {why}"));
        let uri: Uri = url.trim().parse().map_err(|e| bad(&format!("{e}")))?;
        let socket = match uri.scheme_str() {
            Some("http") => false,
            Some("ws") => true,
            Some("tcp") => return Self::parse_tcp(&uri).map_err(&bad),
            Some("https" | "wss") => {
                return Err(bad(
                    "TLS (https://, wss://) is not supported by this build of chatcore-client; \
                     connect over http:// or ws:// (loopback, or behind a TLS-terminating proxy)",
                ));
            }
            Some(other) => {
                return Err(bad(&format!(
                    "unsupported scheme {other}://; use http://, ws:// or tcp://"
                )));
            }
            None => {
                return Err(bad(
                    "missing scheme; use http://host:port or ws://host:port/ws",
                ));
            }
        };
        let authority = uri.authority().ok_or_else(|| bad("missing host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("credentials in the URL are not supported; use a token"));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("missing host"));
        }
        let path = uri.path().trim_end_matches('/');
        let (prefix, socket_path, query) = if socket {
            let socket_path = if path.is_empty() { "/ws" } else { path };
            let prefix = socket_path.rsplit_once('/').map_or("", |(p, _)| p);
            let query = uri.query().filter(|q| !q.is_empty()).map(str::to_owned);
            (prefix.to_owned(), socket_path.to_owned(), query)
        } else {
            if uri.query().is_some() {
                return Err(bad("a base URL takes no query string"));
            }
            (path.to_owned(), format!("{path}/ws"), None)
        };
        Ok(Self {
            authority: authority.as_str().to_owned(),
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(80),
            prefix,
            socket_path,
            query,
            tcp: false,
        })
    }

    /// The rest of `tcp://host:port`: a host and a port, nothing else.
    fn parse_tcp(uri: &Uri) -> std::result::Result<Self, &'static str> {
        let authority = uri.authority().ok_or("missing host")?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        let port = authority.port_u16().ok_or("a tcp:// URL needs a port")?;
        if host.is_empty() || authority.as_str().contains('@') {
            return Err("a tcp:// URL is tcp://host:port");
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err("a tcp:// URL takes no path or query");
        }
        Ok(Self {
            authority: authority.as_str().to_owned(),
            host: host.to_owned(),
            port,
            prefix: String::new(),
            socket_path: String::new(),
            query: None,
            tcp: true,
        })
    }

    /// `true` for a `tcp://` server: connect with the TCP transport.
    pub(crate) fn is_tcp(&self) -> bool {
        self.tcp
    }

    /// `ws://authority/socket_path[?query]`, or `tcp://authority`.
    pub(crate) fn socket_url(&self) -> String {
        if self.tcp {
            return format!("tcp://{}", self.authority);
        }
        match &self.query {
            Some(q) => format!("ws://{}{}?{q}", self.authority, self.socket_path),
            None => format!("ws://{}{}", self.authority, self.socket_path),
        }
    }

    /// The socket URL with `name=value` (percent-encoded) added to the query.
    pub(crate) fn socket_url_with(&self, name: &str, value: &str) -> String {
        let base = self.socket_url();
        let sep = if self.query.is_some() { '&' } else { '?' };
        format!("{base}{sep}{name}={}", encode_component(value))
    }

    /// `http://authority/prefix`, no trailing `/`.
    pub(crate) fn http_base(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }

    /// The full path (with prefix) of a REST route given from the root (`/api/rooms`).
    pub(crate) fn http_path(&self, route: &str) -> String {
        format!("{}{route}", self.prefix)
    }

    /// `host[:port]` as given, for the `Host` header.
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    /// Host (without brackets) and port, for the TCP connection.
    pub(crate) fn host_port(&self) -> (&str, u16) {
        (&self.host, self.port)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so any room or user name
/// is safe in a path segment or a query value.
pub(crate) fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(url: &str) -> Endpoint {
        Endpoint::parse(url).expect(url)
    }

    #[test]
    fn http_base_urls() {
        let e = ep("http://127.0.0.1:8080");
        assert_eq!(e.socket_url(), "ws://127.0.0.1:8080/ws");
        assert_eq!(e.http_base(), "http://127.0.0.1:8080");
        assert_eq!(e.host_port(), ("127.0.0.1", 8080));
        let nested = ep("http://example.com/chat/");
        assert_eq!(nested.socket_url(), "ws://example.com/chat/ws");
        assert_eq!(nested.http_path("/api/token"), "/chat/api/token");
        assert_eq!(nested.host_port(), ("example.com", 80));
    }

    #[test]
    fn socket_urls() {
        assert_eq!(ep("ws://h:1").socket_url(), "ws://h:1/ws");
        let nested = ep("ws://h:1/chat/ws");
        assert_eq!(nested.socket_url(), "ws://h:1/chat/ws");
        assert_eq!(nested.http_base(), "http://h:1/chat");
        let q = ep("ws://h:1/ws?x=1");
        assert_eq!(
            q.socket_url_with("user", "a b"),
            "ws://h:1/ws?x=1&user=a%20b"
        );
        let v6 = ep("ws://[::1]:9000/ws");
        assert_eq!(v6.host_port(), ("::1", 9000));
        assert_eq!(v6.socket_url(), "ws://[::1]:9000/ws");
    }

    #[test]
    fn tcp_urls() {
        let e = ep("tcp://127.0.0.1:9000");
        assert!(e.is_tcp());
        assert_eq!(e.host_port(), ("127.0.0.1", 9000));
        assert_eq!(e.socket_url(), "tcp://127.0.0.1:9000");
        assert!(!ep("ws://h:1").is_tcp());
        for bad in ["tcp://h", "tcp://h:1/ws", "tcp://h:1?x=1", "tcp://u@h:1"] {
            assert!(
                matches!(Endpoint::parse(bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn refusals() {
        for bad in [
            "https://h",
            "wss://h/ws",
            "ftp://h",
            "127.0.0.1:8080",
            "http://u:p@h/",
            "http://h/?q=1",
            "",
        ] {
            assert!(
                matches!(Endpoint::parse(bad), Err(Error::Config(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn encoding() {
        assert_eq!(encode_component("ann"), "ann");
        assert_eq!(encode_component("a/b?c&d=é"), "a%2Fb%3Fc%26d%3D%C3%A9");
    }
}
