//! [`RestClient`]: the server's small REST API over plain HTTP/1.1.
//!
//! Only what the WebSocket cannot do for a client without a session: getting a token
//! (`POST /api/token`), and reading public rooms anonymously. Each call is one request on
//! its own TCP connection (`Connection: close`), so no HTTP client stack is pulled in: the
//! request is written by hand and the response is read with a bounded size, honouring
//! `Content-Length` or chunked transfer encoding.

use std::time::Duration;

use chatcore::ErrorCode;
use chatcore::protocol::{Message, RoomSummary};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::endpoint::{Endpoint, encode_component};
use crate::types::{HistoryPage, HistoryQuery};
use crate::{Error, Result};

/// Largest response accepted, in bytes (a full history page is far below it).
const MAX_RESPONSE: usize = 8 << 20;

/// A token issued by `POST /api/token`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenGrant {
    /// The session token (a JWT): pass it to [`ClientConfig::with_token`](crate::ClientConfig::with_token).
    pub token: String,
    /// The user it was issued for.
    pub user: String,
}

/// Calls the REST API of one server.
///
/// ```no_run
/// # async fn demo() -> chatcore_client::Result<()> {
/// use chatcore_client::RestClient;
///
/// let api = RestClient::new("http://127.0.0.1:8080")?;
/// let grant = api.issue_token("ann").await?;
/// let rooms = api.with_token(grant.token).rooms().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RestClient {
    endpoint: Endpoint,
    token: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.endpoint.http_base())
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RestClient {
    /// A client for the server at `url` (an `http://` base or a `ws://` socket URL, as for
    /// [`ClientConfig::new`](crate::ClientConfig::new)). Requests time out after 10 s.
    pub fn new(url: &str) -> Result<Self> {
        Ok(Self {
            endpoint: Endpoint::parse(url)?,
            token: None,
            timeout: Duration::from_secs(10),
        })
    }

    /// Presents `token` as `Authorization: Bearer` (members-only rooms become readable).
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// Sets the deadline of each request (connect, send, read).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// `POST /api/token`: a session token for `user`. Only servers that let guests in issue
    /// them ([`Error::Refused`] with status 403 otherwise).
    pub async fn issue_token(&self, user: &str) -> Result<TokenGrant> {
        let body = serde_json::json!({ "user": user }).to_string();
        self.call("POST", "/api/token", Some(body)).await
    }

    /// `GET /api/rooms`: public rooms (and the token holder's private ones).
    pub async fn rooms(&self) -> Result<Vec<RoomSummary>> {
        #[derive(Deserialize)]
        struct Rooms {
            rooms: Vec<RoomSummary>,
        }
        let rooms: Rooms = self.call("GET", "/api/rooms", None).await?;
        Ok(rooms.rooms)
    }

    /// `GET /api/rooms/{room}/messages`: a page of history.
    pub async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        #[derive(Deserialize)]
        struct Page {
            room: String,
            messages: Vec<Message>,
            has_more: bool,
        }
        let mut route = format!("/api/rooms/{}/messages", encode_component(room));
        let params: Vec<String> = [
            ("before", query.before),
            ("after", query.after),
            ("limit", query.limit.map(u64::from)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")))
        .collect();
        if !params.is_empty() {
            route = format!("{route}?{}", params.join("&"));
        }
        let page: Page = self.call("GET", &route, None).await?;
        Ok(HistoryPage {
            room: page.room,
            messages: page.messages,
            has_more: page.has_more,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        route: &str,
        body: Option<String>,
    ) -> Result<T> {
        let url = format!("{}{route}", self.endpoint.http_base());
        let exchange = self.exchange(method, route, body.as_deref());
        let raw = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(Ok(raw)) => raw,
            Ok(Err(e)) => {
                return Err(Error::Connect {
                    url,
                    reason: e.to_string(),
                });
            }
            Err(_) => return Err(Error::Timeout(self.timeout)),
        };
        let response = parse_response(&raw)
            .map_err(|why| Error::Protocol(format!("{method} {url}: {why}")))?;
        if !(200..300).contains(&response.status) {
            let (code, message) = crate::client::error_body(&response.body).unwrap_or_else(|| {
                (
                    ErrorCode::Unknown,
                    format!("HTTP {} from {method} {url}", response.status),
                )
            });
            return Err(match response.status {
                401 => Error::Unauthorized(message),
                status => Error::Refused {
                    status,
                    code,
                    message,
                },
            });
        }
        serde_json::from_slice(&response.body)
            .map_err(|e| Error::Protocol(format!("{method} {url}: unexpected response body: {e}")))
    }

    /// Sends one request and reads the whole response (the server closes the connection).
    async fn exchange(
        &self,
        method: &str,
        route: &str,
        body: Option<&str>,
    ) -> std::io::Result<Vec<u8>> {
        let (host, port) = self.endpoint.host_port();
        let mut stream = TcpStream::connect((host, port)).await?;
        let mut head = format!(
            "{method} {} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\nUser-Agent: chatcore-client/{}\r\n",
            self.endpoint.http_path(route),
            self.endpoint.authority(),
            env!("CARGO_PKG_VERSION"),
        );
        if let Some(token) = &self.token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.unwrap_or_default();
        if method == "POST" {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body.as_bytes()).await?;
        stream.flush().await?;
        let mut raw = Vec::new();
        (&mut stream)
            .take(MAX_RESPONSE as u64 + 1)
            .read_to_end(&mut raw)
            .await?;
        if raw.len() > MAX_RESPONSE {
            return Err(std::io::Error::other("response too large"));
        }
        Ok(raw)
    }
}

/// A parsed HTTP response.
#[derive(Debug, PartialEq, Eq)]
struct Response {
    status: u16,
    body: Vec<u8>,
}

/// Parses a complete HTTP/1.1 response: status line, headers, and a body delimited by
/// `Content-Length`, chunked encoding, or the end of the connection.
fn parse_response(raw: &[u8]) -> std::result::Result<Response, String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("incomplete response head")?;
    let head = std::str::from_utf8(&raw[..split]).map_err(|_| "response head is not UTF-8")?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP/1.x response: {status_line:?}"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| "bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        rest.get(..n)
            .ok_or("response body shorter than Content-Length")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(Response { status, body })
}

/// Decodes a chunked body.
fn dechunk(mut data: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("truncated chunk size")?;
        let size_line = std::str::from_utf8(&data[..end]).map_err(|_| "bad chunk size")?;
        let size_hex = size_line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| format!("bad chunk size {size_hex:?}"))?;
        data = &data[end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = data.get(..size).ok_or("truncated chunk")?;
        body.extend_from_slice(chunk);
        data = data.get(size + 2..).ok_or("truncated chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_length_bodies() {
        let raw = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}trailing";
        assert_eq!(
            parse_response(raw),
            Ok(Response {
                status: 200,
                body: b"{}".to_vec()
            })
        );
    }

    #[test]
    fn chunked_and_until_close_bodies() {
        let raw = b"HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(
            parse_response(raw).map(|r| (r.status, r.body)),
            Ok((403, b"abcde".to_vec()))
        );
        let raw = b"HTTP/1.0 200 OK\r\n\r\nall of it";
        assert_eq!(
            parse_response(raw).map(|r| r.body),
            Ok(b"all of it".to_vec())
        );
    }

    #[test]
    fn malformed_responses_are_errors_not_panics() {
        for raw in [
            &b""[..],
            b"HTTP/1.1 200 OK\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nff\r\nab",
        ] {
            assert!(
                parse_response(raw).is_err(),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
