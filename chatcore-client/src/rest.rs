//! [`RestClient`]: the server's small REST API, over HTTP/1.1 with `reqwest` (and TLS for
//! `https://` servers, with the same roots as the WebSocket).
//!
//! Only what the WebSocket cannot do for a client without a session: getting a token
//! (`POST /api/token`), and reading public rooms anonymously. Responses are read with a
//! bounded size.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chatcore::ErrorCode;
use chatcore::protocol::{Message, RoomSummary};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::endpoint::{Endpoint, encode_component};
use crate::tls::TlsRoots;
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

/// The tokens of an account's session (`POST /api/login`, `POST /api/register`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionGrant {
    /// The account's name as registered.
    pub user: String,
    /// A server admin.
    #[serde(default)]
    pub admin: bool,
    /// The access token (a JWT): pass it to [`ClientConfig::with_token`](crate::ClientConfig::with_token).
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// The refresh token (`POST /api/refresh`).
    pub refresh_token: String,
    /// Seconds the refresh token lives.
    pub refresh_expires_in: u64,
}

impl std::fmt::Debug for SessionGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionGrant")
            .field("user", &self.user)
            .field("admin", &self.admin)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// Calls the REST API of one server.
///
/// Cheap to clone: clones share one pool of connections.
///
/// ```no_run
/// # async fn demo() -> chatcore_client::Result<()> {
/// use chatcore_client::RestClient;
///
/// let api = RestClient::new("https://chat.example.com")?;
/// let grant = api.issue_token("ann").await?;
/// let rooms = api.with_token(grant.token).rooms().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RestClient {
    endpoint: Endpoint,
    tls: TlsRoots,
    http: reqwest::Client,
    token: Option<String>,
    timeout: Duration,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.endpoint.http_base())
            .field("tls", &self.tls)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RestClient {
    /// A client for the server at `url` (an `http(s)://` base or a `ws(s)://` socket URL, as
    /// for [`ClientConfig::new`](crate::ClientConfig::new)). Requests time out after 10 s.
    pub fn new(url: &str) -> Result<Self> {
        let endpoint = Endpoint::parse(url)?;
        if endpoint.is_tcp() {
            return Err(Error::Config(format!(
                "{url} is a TCP transport address, which has no REST API; \
                 pass the server's http:// or https:// address"
            )));
        }
        let tls = TlsRoots::default();
        Ok(Self {
            endpoint,
            http: http_client(&tls)?,
            tls,
            token: None,
            timeout: Duration::from_secs(10),
        })
    }

    /// Trusts the CA certificates of the PEM file at `path` for `https://`, in addition to
    /// the default roots, as [`ClientConfig::with_ca_file`](crate::ClientConfig::with_ca_file)
    /// does for the WebSocket (a missing or unusable file is an [`Error::Config`] naming it).
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Result<Self> {
        self.tls = TlsRoots::with_ca_file(path.into())?;
        self.http = http_client(&self.tls)?;
        Ok(self)
    }

    /// The PEM file of extra CA certificates given to [`RestClient::with_ca_file`].
    pub fn ca_file(&self) -> Option<&Path> {
        self.tls.ca_file()
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
        let body = serde_json::json!({ "user": user });
        self.call(Method::POST, "/api/token", Some(body)).await
    }

    /// `POST /api/register`: creates an account (servers with accounts on) and signs it in.
    pub async fn register(&self, user: &str, password: &str) -> Result<SessionGrant> {
        let body = serde_json::json!({ "user": user, "password": password });
        self.call(Method::POST, "/api/register", Some(body)).await
    }

    /// `POST /api/login`: signs an account in.
    pub async fn login(&self, user: &str, password: &str) -> Result<SessionGrant> {
        let body = serde_json::json!({ "user": user, "password": password });
        self.call(Method::POST, "/api/login", Some(body)).await
    }

    /// `POST /api/refresh`: uses `refresh_token` up and returns a new pair of tokens. A
    /// refused token (unknown, expired, signed out, or used before) is
    /// [`Error::Unauthorized`].
    pub async fn refresh(&self, refresh_token: &str) -> Result<SessionGrant> {
        let body = serde_json::json!({ "refresh_token": refresh_token });
        self.call(Method::POST, "/api/refresh", Some(body)).await
    }

    /// `POST /api/logout` with the access token given to [`RestClient::with_token`]: signs
    /// this session out (its sockets are closed, its tokens stop working). Returns how many
    /// sessions were signed out.
    pub async fn logout(&self) -> Result<u64> {
        #[derive(Deserialize)]
        struct Revoked {
            revoked: u64,
        }
        let answer: Revoked = self.call(Method::POST, "/api/logout", None).await?;
        Ok(answer.revoked)
    }

    /// `GET /api/rooms`: public rooms (and the token holder's private ones).
    pub async fn rooms(&self) -> Result<Vec<RoomSummary>> {
        #[derive(Deserialize)]
        struct Rooms {
            rooms: Vec<RoomSummary>,
        }
        let rooms: Rooms = self.call(Method::GET, "/api/rooms", None).await?;
        Ok(rooms.rooms)
    }

    /// `GET /api/rooms/{room}/messages`: a page of history.
    pub async fn history(&self, room: &str, query: HistoryQuery) -> Result<HistoryPage> {
        #[derive(Deserialize)]
        struct Page {
            room: String,
            messages: Vec<Message>,
            has_more: bool,
            #[serde(default)]
            current_to: u64,
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
        let page: Page = self.call(Method::GET, &route, None).await?;
        Ok(HistoryPage {
            room: page.room,
            messages: page.messages,
            has_more: page.has_more,
            current_to: page.current_to,
        })
    }

    /// One request: the status decides between the JSON answer and a typed error.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        route: &str,
        body: Option<serde_json::Value>,
    ) -> Result<T> {
        let url = format!("{}{route}", self.endpoint.http_base());
        let (status, body) =
            match tokio::time::timeout(self.timeout, self.exchange(method.clone(), &url, body))
                .await
            {
                Ok(Ok(answer)) => answer,
                Ok(Err(e)) if e.is_decode() || e.is_body() => {
                    return Err(Error::Protocol(format!("{method} {url}: {e}")));
                }
                Ok(Err(e)) => return Err(Error::unreachable(&url, &e)),
                Err(_) => return Err(Error::Timeout(self.timeout)),
            };
        let body = body.map_err(|why| Error::Protocol(format!("{method} {url}: {why}")))?;
        if !(200..300).contains(&status) {
            let (code, message) = crate::client::error_body(&body).unwrap_or_else(|| {
                (
                    ErrorCode::Unknown,
                    format!("HTTP {status} from {method} {url}"),
                )
            });
            return Err(match status {
                401 => Error::Unauthorized(message),
                status => Error::Refused {
                    status,
                    code,
                    message,
                },
            });
        }
        serde_json::from_slice(&body)
            .map_err(|e| Error::Protocol(format!("{method} {url}: unexpected response body: {e}")))
    }

    /// Sends one request and reads the response: its status, and its body unless it is over
    /// [`MAX_RESPONSE`].
    async fn exchange(
        &self,
        method: Method,
        url: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Result<(u16, std::result::Result<Vec<u8>, String>)> {
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &body {
            request = request.json(body);
        }
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if bytes.len() + chunk.len() > MAX_RESPONSE {
                return Ok((status, Err(format!("response over {MAX_RESPONSE} bytes"))));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((status, Ok(bytes)))
    }
}

/// The HTTP client for `tls`'s roots: HTTP/1.1, no proxy (the WebSocket connects directly
/// too, so both reach the server the same way), no redirects (the API answers in place).
fn http_client(tls: &TlsRoots) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls.rustls_config()?)
        .user_agent(concat!("chatcore-client/", env!("CARGO_PKG_VERSION")))
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Config(format!("cannot set up the HTTP client: {e}")))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A one-shot HTTP peer on `127.0.0.1:0` that answers the first request with `answer`.
    async fn peer(answer: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mut request = vec![0u8; 4096];
            let _ = stream.read(&mut request).await;
            let _ = stream.write_all(&answer).await;
            let _ = stream.shutdown().await;
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn chunked_error_bodies_become_typed_refusals() {
        let body = br#"{"error":{"code":"forbidden","message":"members only"}}"#;
        let mut answer = b"HTTP/1.1 403 Forbidden\r\ntransfer-encoding: chunked\r\n\r\n".to_vec();
        for part in body.chunks(10) {
            answer.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            answer.extend_from_slice(part);
            answer.extend_from_slice(b"\r\n");
        }
        answer.extend_from_slice(b"0\r\n\r\n");
        let api = RestClient::new(&peer(answer).await).expect("client");
        let e = api.rooms().await.expect_err("refused");
        assert_eq!(
            e,
            Error::Refused {
                status: 403,
                code: ErrorCode::Forbidden,
                message: "members only".into()
            }
        );
    }

    #[tokio::test]
    async fn oversized_and_malformed_answers_are_errors_not_panics() {
        let mut huge = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n".to_vec();
        huge.resize(huge.len() + MAX_RESPONSE + 1, b' ');
        let api = RestClient::new(&peer(huge).await).expect("client");
        let e = api.rooms().await.expect_err("too large");
        assert!(
            matches!(&e, Error::Protocol(why) if why.contains("response over")),
            "{e:?}"
        );
        let api =
            RestClient::new(&peer(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()).await).expect("client");
        let e = api.rooms().await.expect_err("not HTTP");
        assert!(
            e.is_connection() || matches!(e, Error::Protocol(_)),
            "{e:?}"
        );
        let html = b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\n<html>".to_vec();
        let api = RestClient::new(&peer(html).await).expect("client");
        let e = api.rooms().await.expect_err("not JSON");
        assert!(
            matches!(&e, Error::Protocol(why) if why.contains("unexpected response body")),
            "{e:?}"
        );
    }

    #[test]
    fn a_tcp_address_is_refused_with_what_to_pass_instead() {
        let e = RestClient::new("tcp://127.0.0.1:9090").expect_err("no REST over tcp://");
        assert!(
            matches!(&e, Error::Config(why) if why.contains("no REST API") && why.contains("http://")),
            "{e:?}"
        );
        assert!(RestClient::new("https://127.0.0.1:8443").is_ok());
    }
}
