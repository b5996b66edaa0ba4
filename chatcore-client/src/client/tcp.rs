//! `tcp://host:port`: the same [`Client`](crate::Client) over chatcore's TCP transport
//! (length-prefixed frames; `PROTOCOL.md`, "TCP transport"); `tcps://host:port`: the same
//! inside TLS, with the rustls configuration of `wss://` (its CA file too).
//!
//! The hook into the connection code is one `if` at the top of
//! [`connection::open`](super::connection::open): a `tcp(s)://` endpoint opens here. What it
//! returns is the same [`Opened`] a WebSocket gives: a sink of WebSocket messages (framed here:
//! text and binary frames as payloads, pings as keep-alives, a close as our FIN) and a stream
//! of [`Incoming`] events, so the reader, the writer, reconnect and resume are shared.

use std::sync::Arc;

use bytes::BytesMut;
use chatcore::ErrorCode;
use chatcore::protocol::Codec;
use chatcore::transport::close;
use chatcore::transport::framed::{self, Close, Hello, ServerFrame};
use futures::SinkExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use super::link::{Incoming, Opened, session_info};
use crate::config::{Auth, ClientConfig};
use crate::error::{Error, Result};

/// Connects (with TLS for `tcps://`), sends the hello and waits for `welcome`, within
/// `connect_timeout`.
pub(crate) async fn open(config: &ClientConfig) -> Result<Opened> {
    let url = config.socket_url();
    let attempt = async {
        let (host, port) = config.endpoint.host_port();
        let stream = TcpStream::connect((host, port))
            .await
            .map_err(|e| Error::Connect {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let _ = stream.set_nodelay(true);
        if !config.endpoint.is_tls() {
            return welcome(config, url.clone(), stream).await;
        }
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| Error::Config(format!("bad server name {host:?} for TLS: {e}")))?;
        let connector = TlsConnector::from(Arc::new(config.tls.rustls_config()?));
        let stream = connector
            .connect(name, stream)
            .await
            .map_err(|e| Error::unreachable(&url, &e))?;
        welcome(config, url.clone(), stream).await
    };
    match tokio::time::timeout(config.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Error::Connect {
            url: config.socket_url(),
            reason: format!("no welcome within {:?}", config.connect_timeout),
        }),
    }
}

/// Sends the hello on `stream` (plain or TLS) and waits for `welcome`.
async fn welcome<S>(config: &ClientConfig, url: String, stream: S) -> Result<Opened>
where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let (read, mut write) = tokio::io::split(stream);
    let mut out = BytesMut::new();
    framed::encode(&hello(config).to_json(), &mut out)
        .map_err(|e| Error::Config(format!("the hello does not fit a frame: {e}")))?;
    write.write_all(&out).await.map_err(|e| Error::Connect {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    let mut reader = Reader {
        io: read,
        buf: BytesMut::with_capacity(config.read_buffer_bytes),
        codec: config.codec,
        max: config.max_message_bytes,
    };
    let session = loop {
        match reader.next().await {
            Some(Incoming::Event(first)) => break session_info(first)?,
            Some(Incoming::Alive) => continue,
            Some(Incoming::Close { code, reason }) => return Err(refusal(code, reason)),
            Some(Incoming::Undecodable(detail)) => {
                return Err(Error::Protocol(format!(
                    "undecodable first frame: {detail}"
                )));
            }
            Some(Incoming::Failed(reason)) => return Err(Error::Connect { url, reason }),
            // Like a reset during a WebSocket upgrade: worth another attempt.
            None => {
                return Err(Error::Connect {
                    url,
                    reason: "the connection ended before the server's welcome".into(),
                });
            }
        }
    };
    Ok(Opened {
        sink: Box::pin(sink(write)),
        stream: Box::pin(futures::stream::unfold(reader, |mut r| async move {
            r.next().await.map(|item| (item, r))
        })),
        session,
    })
}

/// The hello for this configuration's codec and credentials.
fn hello(config: &ClientConfig) -> Hello {
    let mut hello = Hello::new(config.codec);
    match &config.auth {
        Auth::Token(token) => hello.token = Some(token.clone()),
        Auth::Guest(name) => hello.user = Some(name.clone()),
        Auth::None => {}
    }
    hello
}

/// What a close frame instead of `welcome` means for the caller (and for reconnecting:
/// unauthorized and protocol errors are final, "retry later" is not).
fn refusal(code: u16, reason: String) -> Error {
    match code {
        close::UNAUTHORIZED => Error::Unauthorized(reason),
        close::TRY_AGAIN_LATER | close::GOING_AWAY => Error::Refused {
            status: 503,
            code: ErrorCode::Unavailable,
            message: reason,
        },
        _ => Error::Protocol(format!(
            "the server refused the connection ({code}: {reason})"
        )),
    }
}

/// The read half with its buffer: frames in, [`Incoming`] out.
struct Reader<R> {
    io: R,
    buf: BytesMut,
    codec: Codec,
    max: usize,
}

impl<R: AsyncRead + Unpin> Reader<R> {
    /// The next thing that arrived; `None` once the server ended the connection.
    async fn next(&mut self) -> Option<Incoming> {
        loop {
            match framed::decode(&mut self.buf, self.max) {
                Err(too_big) => return Some(Incoming::Failed(too_big.to_string())),
                Ok(Some(payload)) if payload.is_empty() => return Some(Incoming::Alive),
                Ok(Some(payload)) => {
                    return Some(match framed::decode_server_frame(self.codec, &payload) {
                        Ok(ServerFrame::Event(event)) => Incoming::Event(event),
                        Ok(ServerFrame::Close(Close { code, reason })) => {
                            Incoming::Close { code, reason }
                        }
                        Err(e) => Incoming::Undecodable(e.detail),
                    });
                }
                Ok(None) => {}
            }
            match self.io.read_buf(&mut self.buf).await {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Incoming::Failed(e.to_string())),
            }
        }
    }
}

/// The writer's sink: a message's payload as one frame, a ping as a keep-alive, a close as
/// the end of our side (the TCP transport has no client close frame).
fn sink<W: AsyncWrite + Send + Unpin>(
    io: W,
) -> impl futures::Sink<WsMessage, Error = WsError> + Send {
    futures::sink::unfold(io, |mut io, message: WsMessage| async move {
        let payload = match &message {
            WsMessage::Text(text) => text.as_bytes(),
            WsMessage::Binary(bytes) => bytes,
            WsMessage::Ping(_) => &[][..],
            WsMessage::Close(_) => {
                io.shutdown().await?;
                return Ok(io);
            }
            WsMessage::Pong(_) | WsMessage::Frame(_) => return Ok(io),
        };
        let mut out = BytesMut::with_capacity(framed::HEADER_BYTES + payload.len());
        framed::encode(payload, &mut out)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        io.write_all(&out).await?;
        Ok(io)
    })
    .sink_map_err(WsError::Io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_typed_for_reconnecting() {
        assert!(matches!(refusal(4401, "no".into()), Error::Unauthorized(_)));
        assert!(matches!(
            refusal(1013, "full".into()),
            Error::Refused { status: 503, .. }
        ));
        assert!(matches!(refusal(1002, "bad".into()), Error::Protocol(_)));
    }
}
