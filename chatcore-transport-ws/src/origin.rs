//! The browser `Origin` check done before a WebSocket upgrade.
//!
//! Browsers attach `Origin` to every WebSocket handshake but do not apply the same-origin
//! policy to WebSockets, so the server must: otherwise any page a user visits could open a
//! socket with the user's cookies or stored token (cross-site WebSocket hijacking). A request
//! passes when it has no `Origin` (not a browser), or the origin is a loopback host (unless
//! disabled), listed in [`WsConfig::allowed_origins`](crate::WsConfig::allowed_origins), or
//! the request's own `Host` when that host is one the server answers to (one of
//! [`WsConfig::allowed_hosts`](crate::WsConfig::allowed_hosts), or an IP address). The
//! `Host` alone is never trusted: under DNS rebinding it is the attacker's name.

use std::net::{Ipv4Addr, Ipv6Addr};

use http::HeaderMap;
use http::header::{HOST, ORIGIN};

/// A parsed, normalized browser origin: lowercase scheme and host, explicit port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OriginPattern {
    scheme: String,
    host: String,
    port: u16,
}

impl OriginPattern {
    /// Parses `scheme://host[:port]` (http or https, no path, no user info).
    pub(crate) fn parse(origin: &str) -> Option<Self> {
        let (scheme, authority) = origin.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let (host, port) = split_authority(authority, default_port)?;
        Some(Self { scheme, host, port })
    }

    fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }
}

/// Splits `host[:port]` into a lowercase host and a port (`default_port` when absent).
pub(crate) fn split_authority(authority: &str, default_port: u16) -> Option<(String, u16)> {
    if authority.is_empty() || authority.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{inside}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return None;
    }
    let port = match port {
        None => default_port,
        Some(p) => p.parse().ok()?,
    };
    Some((host.to_ascii_lowercase(), port))
}

/// Whether `host` is an IP address literal (`10.0.0.1`, `[2001:db8::1]`).
pub(crate) fn is_ip_host(host: &str) -> bool {
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => v6.parse::<Ipv6Addr>().is_ok(),
        None => host.parse::<Ipv4Addr>().is_ok(),
    }
}

/// Whether `host` is a loopback name or address.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why an origin was refused, for the 403 body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(pub(crate) String);

/// The configured origin policy: [`WsConfig::allowed_origins`](crate::WsConfig::allowed_origins)
/// and [`WsConfig::allow_loopback_origins`](crate::WsConfig::allow_loopback_origins).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Policy<'a> {
    /// Listed origins, or `"*"`.
    pub(crate) allowed: &'a [String],
    /// Whether loopback origins pass.
    pub(crate) loopback: bool,
    /// The host names the server answers to ([`crate::host`]).
    pub(crate) hosts: &'a [String],
}

/// Checks the request's `Origin` against the configured policy.
pub(crate) fn check(policy: Policy<'_>, headers: &HeaderMap) -> Result<(), Refused> {
    let Some(value) = headers.get(ORIGIN) else {
        return Ok(());
    };
    if policy.allowed.iter().any(|o| o == "*") {
        return Ok(());
    }
    let raw = value.to_str().unwrap_or("<non-ASCII origin>");
    let refused = || {
        Refused(format!(
            "origin {raw} may not open a WebSocket on this server; add it to the allowed origins"
        ))
    };
    let origin = OriginPattern::parse(raw).ok_or_else(refused)?;
    if policy.loopback && origin.is_loopback() {
        return Ok(());
    }
    // The request's own Host counts only when the server answers to it: under DNS rebinding
    // Origin and Host are both the attacker's name.
    let same_host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| split_authority(h, origin.port))
        .is_some_and(|(host, port)| {
            host == origin.host
                && port == origin.port
                && crate::host::is_allowed(policy.hosts, &host)
        });
    if same_host {
        return Ok(());
    }
    let listed = policy
        .allowed
        .iter()
        .filter_map(|o| OriginPattern::parse(o))
        .any(|allowed| allowed == origin);
    if listed { Ok(()) } else { Err(refused()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(HOST, HeaderValue::from_str(host).expect("host"));
        if let Some(o) = origin {
            h.insert(ORIGIN, HeaderValue::from_str(o).expect("origin"));
        }
        h
    }

    #[test]
    fn parses_and_normalizes() {
        let a = OriginPattern::parse("HTTPS://Chat.Example.com").expect("parse");
        let b = OriginPattern::parse("https://chat.example.com:443").expect("parse");
        assert_eq!(a, b);
        assert!(OriginPattern::parse("http://[::1]:8080").is_some());
        for bad in [
            "null",
            "chat.example.com",
            "ftp://x",
            "https://",
            "https://a/b",
            "https://u@a",
            "https://a:port",
        ] {
            assert!(OriginPattern::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn default_policy() {
        let names = ["chat.example.com".to_owned()];
        let c = Policy {
            allowed: &[],
            loopback: true,
            hosts: &names,
        };
        assert!(check(c, &headers(None, "chat.example.com")).is_ok());
        assert!(
            check(
                c,
                &headers(Some("https://chat.example.com"), "chat.example.com")
            )
            .is_ok()
        );
        assert!(
            check(
                c,
                &headers(
                    Some("http://chat.example.com:8080"),
                    "chat.example.com:8080"
                )
            )
            .is_ok()
        );
        assert!(
            check(
                c,
                &headers(Some("http://localhost:3000"), "chat.example.com")
            )
            .is_ok()
        );
        assert!(check(c, &headers(Some("http://127.0.0.1:5173"), "10.0.0.1")).is_ok());
        assert!(check(c, &headers(Some("http://[::1]"), "10.0.0.1")).is_ok());
        assert!(
            check(
                c,
                &headers(Some("https://evil.example"), "chat.example.com")
            )
            .is_err()
        );
        assert!(check(c, &headers(Some("null"), "chat.example.com")).is_err());
        // Same host, other port: another origin.
        assert!(
            check(
                c,
                &headers(
                    Some("http://chat.example.com:9999"),
                    "chat.example.com:8080"
                )
            )
            .is_err()
        );
    }

    #[test]
    fn rebinding_is_refused() {
        let c = Policy {
            allowed: &[],
            loopback: true,
            hosts: &[],
        };
        let rebound = headers(Some("http://rebind.example:8080"), "rebind.example:8080");
        assert!(check(c, &rebound).is_err());
        let by_ip = headers(Some("http://10.0.0.5:8080"), "10.0.0.5:8080");
        assert!(
            check(c, &by_ip).is_ok(),
            "a page served by this server at its IP"
        );
    }

    #[test]
    fn configured_policy() {
        let listed = ["https://app.example.com".to_owned()];
        let c = Policy {
            allowed: &listed,
            loopback: false,
            hosts: &[],
        };
        assert!(
            check(
                c,
                &headers(Some("https://app.example.com"), "api.example.com")
            )
            .is_ok()
        );
        assert!(
            check(
                c,
                &headers(Some("http://localhost:3000"), "api.example.com")
            )
            .is_err()
        );
        let star = ["*".to_owned()];
        let any = Policy {
            allowed: &star,
            loopback: true,
            hosts: &[],
        };
        assert!(check(any, &headers(Some("null"), "api.example.com")).is_ok());
    }
}
