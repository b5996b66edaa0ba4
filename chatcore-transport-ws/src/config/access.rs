//! The settings of [`WsConfig`] that guard the door: how long and how many connections may
//! take to finish their handshake, and which `Host` names the server answers to.

use std::time::Duration;

use chatcore::transport::HandshakeLimit;

use crate::{Error, Result, WsConfig};

impl WsConfig {
    /// How long a connection may take from `accept` to a complete HTTP request head: the TLS
    /// handshake (with `TlsListener`) and the request line and headers, each request on a
    /// kept-alive connection again. A connection that is slower (silent, trickling, or idle
    /// between requests) is dropped. The WebSocket upgrade response must also be written
    /// within it. Default is 10 s, because a real client needs one or two round trips, while
    /// a socket that says nothing must not hold a file descriptor for long.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// Connections that have not become a WebSocket yet (TLS or HTTP request in progress, or
    /// an HTTP keep-alive connection), per peer IP and in total; a connection past either is
    /// closed at once, before anything is read. Such connections also take a slot under
    /// [`WsConfig::max_connections`] while one is free, which the WebSocket keeps when it
    /// upgrades. Default is [`HandshakeLimit::default`] (1,024 in total, 64 per IP).
    pub fn handshake_limit(&self) -> HandshakeLimit {
        self.handshake_limit
    }

    /// Host names the server answers to besides loopback names (`localhost`, `*.localhost`)
    /// and IP addresses; `"*"` answers to any. A request whose `Host` is none of them is
    /// refused with 421 before any handler runs. Default is empty, because a browser page can
    /// point a name of its own at the server's address (DNS rebinding) and would then be
    /// same-origin with it: only a `Host` check tells that name apart. Set it to the names in
    /// the public URLs of the server (`chat-server --public-url`).
    pub fn allowed_hosts(&self) -> &[String] {
        &self.allowed_hosts
    }

    /// Sets [`WsConfig::handshake_timeout`] (non-zero).
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Result<Self> {
        if timeout.is_zero() {
            return Err(Error::config("handshake_timeout must be greater than zero"));
        }
        self.handshake_timeout = timeout;
        Ok(self)
    }

    /// Sets [`WsConfig::handshake_limit`].
    pub fn with_handshake_limit(mut self, limit: HandshakeLimit) -> Self {
        self.handshake_limit = limit;
        self
    }

    /// Sets [`WsConfig::allowed_hosts`]: each entry `"*"` or a host name (`chat.example.com`,
    /// no scheme, port or path; compared case-insensitively, without the port of the request).
    pub fn with_allowed_hosts<I, S>(mut self, hosts: I) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut checked = Vec::new();
        for host in hosts {
            let host: String = host.into();
            let valid = host == "*"
                || (!host.is_empty()
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')));
            if !valid {
                return Err(Error::config(format!(
                    "allowed host {host:?} is not \"*\" or a host name such as chat.example.com"
                )));
            }
            checked.push(host.trim_end_matches('.').to_ascii_lowercase());
        }
        self.allowed_hosts = checked;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_setters_check_invariants() {
        let c = WsConfig::default();
        assert!(c.clone().with_handshake_timeout(Duration::ZERO).is_err());
        assert!(c.clone().with_allowed_hosts(["https://a.example"]).is_err());
        assert!(c.clone().with_allowed_hosts(["a.example:443"]).is_err());
        assert!(c.clone().with_allowed_hosts([""]).is_err());
        let ok = c
            .with_allowed_hosts(["Chat.Example.com.", "*"])
            .expect("valid");
        assert_eq!(ok.allowed_hosts(), ["chat.example.com", "*"]);
    }
}
