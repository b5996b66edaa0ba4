//! Where the server is: one parsed URL gives both the socket URL and the REST base.

use tokio_tungstenite::tungstenite::http::Uri;

use crate::{Error, Result};

/// A parsed server address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `host[:port]` as given (IPv6 hosts in brackets), for URLs.
    authority: String,
    /// `https://`/`wss://`: the socket is `wss://` and the REST base `https://`.
    tls: bool,
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
            tls: false,
            prefix: String::new(),
            socket_path: "/ws".into(),
            query: None,
            tcp: false,
        }
    }

    /// Parses `http(s)://host[:port][/prefix]` (the HTTP base; the socket is `prefix/ws`),
    /// `ws(s)://host[:port][/path][?query]` (the socket itself; an empty path means `/ws`), or
    /// `tcp://host:port` (the TCP transport; no path, no HTTP surface).
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::Config(format!("bad server URL {url:?}: {why}"));
        let uri: Uri = url.trim().parse().map_err(|e| bad(&format!("{e}")))?;
        let (socket, tls) = match uri.scheme_str() {
            Some("http") => (false, false),
            Some("https") => (false, true),
            Some("ws") => (true, false),
            Some("wss") => (true, true),
            Some("tcp") => return Self::parse_tcp(&uri, false).map_err(&bad),
            Some("tcps") => return Self::parse_tcp(&uri, true).map_err(&bad),
            Some(other) => {
                return Err(bad(&format!(
                    "unsupported scheme {other}://; use http://, https://, ws://, wss://, tcp:// or tcps://"
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
            tls,
            prefix,
            socket_path,
            query,
            tcp: false,
        })
    }

    /// The rest of `tcp://host:port` (or `tcps://host:port`, `tls`): a host and a port,
    /// nothing else.
    fn parse_tcp(uri: &Uri, tls: bool) -> std::result::Result<Self, &'static str> {
        let authority = uri.authority().ok_or("missing host")?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']');
        if authority.port_u16().is_none() {
            return Err("a tcp:// or tcps:// URL needs a port");
        }
        if host.is_empty() || authority.as_str().contains('@') {
            return Err("a tcp:// URL is tcp://host:port (tcps://host:port over TLS)");
        }
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err("a tcp:// or tcps:// URL takes no path or query");
        }
        Ok(Self {
            authority: authority.as_str().to_owned(),
            tls,
            prefix: String::new(),
            socket_path: String::new(),
            query: None,
            tcp: true,
        })
    }

    /// `true` for a `tcp://` or `tcps://` server: connect with the TCP transport.
    pub(crate) fn is_tcp(&self) -> bool {
        self.tcp
    }

    /// Host (without brackets) and port of a `tcp(s)://` server, for the TCP connection (and
    /// the name its TLS certificate must carry).
    pub(crate) fn host_port(&self) -> (&str, u16) {
        let (host, port) = self
            .authority
            .rsplit_once(':')
            .unwrap_or((self.authority.as_str(), ""));
        let host = host.trim_start_matches('[').trim_end_matches(']');
        (host, port.parse().unwrap_or(0))
    }

    /// `true` for `https://`, `wss://` and `tcps://` servers.
    pub(crate) fn is_tls(&self) -> bool {
        self.tls
    }

    /// `ws(s)://authority/socket_path[?query]`, or `tcp(s)://authority`.
    pub(crate) fn socket_url(&self) -> String {
        if self.tcp {
            let scheme = if self.tls { "tcps" } else { "tcp" };
            return format!("{scheme}://{}", self.authority);
        }
        let scheme = if self.tls { "wss" } else { "ws" };
        match &self.query {
            Some(q) => format!("{scheme}://{}{}?{q}", self.authority, self.socket_path),
            None => format!("{scheme}://{}{}", self.authority, self.socket_path),
        }
    }

    /// The socket URL with `name=value` (percent-encoded) added to the query.
    pub(crate) fn socket_url_with(&self, name: &str, value: &str) -> String {
        let base = self.socket_url();
        let sep = if self.query.is_some() { '&' } else { '?' };
        format!("{base}{sep}{name}={}", encode_component(value))
    }

    /// `http(s)://authority/prefix`, no trailing `/`.
    pub(crate) fn http_base(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}{}", self.authority, self.prefix)
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
        assert!(!e.is_tls());
        let nested = ep("http://example.com/chat/");
        assert_eq!(nested.socket_url(), "ws://example.com/chat/ws");
        assert_eq!(nested.http_base(), "http://example.com/chat");
    }

    #[test]
    fn tls_urls() {
        let https = ep("https://chat.example.com/chat");
        assert!(https.is_tls());
        assert_eq!(https.socket_url(), "wss://chat.example.com/chat/ws");
        assert_eq!(https.http_base(), "https://chat.example.com/chat");
        let wss = ep("wss://[::1]:8443/ws?x=1");
        assert!(wss.is_tls());
        assert_eq!(wss.socket_url(), "wss://[::1]:8443/ws?x=1");
        assert_eq!(wss.http_base(), "https://[::1]:8443");
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
        assert_eq!(v6.socket_url(), "ws://[::1]:9000/ws");
    }

    #[test]
    fn tcp_urls() {
        let e = ep("tcp://127.0.0.1:9000");
        assert!(e.is_tcp());
        assert_eq!(e.host_port(), ("127.0.0.1", 9000));
        assert_eq!(e.socket_url(), "tcp://127.0.0.1:9000");
        assert!(!ep("ws://h:1").is_tcp());
        let tls = ep("tcps://localhost:9001");
        assert!(tls.is_tcp() && tls.is_tls());
        assert_eq!(tls.socket_url(), "tcps://localhost:9001");
        assert_eq!(tls.host_port(), ("localhost", 9001));
        assert!(!e.is_tls());
        assert!(Endpoint::parse("tcps://h").is_err());
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
            "ftp://h",
            "https://",
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
