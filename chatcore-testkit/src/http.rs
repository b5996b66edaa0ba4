//! HTTP calls on hyper-util's client: one request per fresh connection, bounded by
//! [`BOUND`], the whole body read as text.

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::{Error, Result};
use crate::wait::BOUND;

/// A response: status, headers and the body as text.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Every header, names lower-case.
    pub headers: ::http::HeaderMap,
    /// The body, decoded as UTF-8 (lossily).
    pub body: String,
}

impl HttpResponse {
    /// The body as JSON; panics with the body when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The value of header `name` (any case), when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `error.code` of a JSON error body; panics when there is none.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {}", self.body))
            .to_owned()
    }
}

/// One request to `http://ADDR{path}`; a `body` is sent as `application/json`. Errors when
/// nothing answers (connection refused or reset, or no answer within [`BOUND`]).
pub async fn try_http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpResponse> {
    try_http_from(None, addr, method, path, headers, body).await
}

/// [`try_http`] from the local address `from` (`127.0.0.2`: another client IP on loopback).
pub async fn try_http_from(
    from: Option<std::net::IpAddr>,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<HttpResponse> {
    let mut request = ::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if body.is_some() {
        request = request.header(::http::header::CONTENT_TYPE, "application/json");
    }
    let body = Bytes::from(body.unwrap_or_default().to_owned());
    let request = request.body(Full::new(body))?;
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_local_address(from);
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let exchange = async {
        let response = client.request(request).await?;
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(HttpResponse {
            status,
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    };
    tokio::time::timeout(BOUND, exchange)
        .await
        .map_err(|_| Error::Timeout(BOUND))?
}

/// [`try_http`] that panics when nothing answers.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> HttpResponse {
    try_http(addr, method, path, headers, body)
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// `GET path`, or an error when nothing answers (a server still starting, or gone).
pub async fn try_get(addr: SocketAddr, path: &str) -> Result<HttpResponse> {
    try_http(addr, "GET", path, &[], None).await
}

/// `GET path`; panics when nothing answers.
pub async fn get(addr: SocketAddr, path: &str) -> HttpResponse {
    http(addr, "GET", path, &[], None).await
}

/// `GET path` with `Authorization: Bearer token`.
pub async fn get_as(addr: SocketAddr, path: &str, token: &str) -> HttpResponse {
    let auth = format!("Bearer {token}");
    http(addr, "GET", path, &[("authorization", &auth)], None).await
}

/// `POST path` with a JSON `body` and, when given, `Authorization: Bearer token`; panics
/// when nothing answers.
pub async fn post_json(
    addr: SocketAddr,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> HttpResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("authorization", a)])
        .unwrap_or_default();
    http(addr, "POST", path, &headers, Some(&body.to_string())).await
}
