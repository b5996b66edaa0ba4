//! The TCP handshake: a `hello` within the handshake timeout (else 4408), one that this server
//! speaks (else 1002), credentials the hub accepts (else 4401), a peer address under the hub's
//! `max_connections_per_ip` (else 4429), an open hub (else 1013). Then the session starts and
//! its first frame is `welcome`.

use std::net::SocketAddr;

use chatcore::transport::framed::Hello;
use chatcore::transport::{CredentialHints, choose_credentials, close};
use chatcore::{Hub, Outbound, Session};

use crate::TcpConfig;
use crate::connection::{Conn, Io, ReadError};

/// How a TCP client presents credentials, for refusals.
const HINTS: CredentialHints = CredentialHints {
    token: "`token` in the hello",
    guest: "`user` in the hello",
};

/// Runs the handshake; `None` when the connection was refused (and closed) or went away.
pub(crate) async fn accept<S: Io>(
    mut conn: Conn<S>,
    peer: SocketAddr,
    hub: &Hub,
    config: &TcpConfig,
) -> Option<(Conn<S>, Session, Outbound)> {
    let timeout = config.handshake_timeout();
    let first = match tokio::time::timeout(timeout, first_frame(&mut conn)).await {
        Err(_) => {
            let reason = format!("no complete hello within {} s", timeout.as_secs_f32());
            conn.refuse(close::HANDSHAKE_TIMEOUT, &reason, None).await;
            return None;
        }
        Ok(Err(ReadError::TooLarge(e))) => {
            conn.refuse(close::TOO_BIG, &e.to_string(), None).await;
            return None;
        }
        Ok(Err(ReadError::Io(_))) | Ok(Ok(None)) => return None,
        Ok(Ok(Some(frame))) => frame,
    };
    let hello = match Hello::parse(&first) {
        Ok(hello) => hello,
        Err(why) => {
            conn.refuse(close::PROTOCOL_ERROR, &why, None).await;
            return None;
        }
    };
    let codec = hello.codec();
    let guests = hub.authenticator().allows_guests();
    let identity = match choose_credentials(hello.token, hello.user, guests, &HINTS) {
        Ok(credentials) => hub.authenticate(&credentials).await,
        Err(e) => Err(e),
    };
    let identity = match identity {
        Ok(identity) => identity,
        Err(e) => {
            let why = match e {
                chatcore::Error::Unauthorized(why) => why,
                other => other.to_string(),
            };
            conn.refuse(close::UNAUTHORIZED, &why, Some(codec)).await;
            return None;
        }
    };
    match hub.connect_from(identity, codec, peer.ip()) {
        Ok((session, outbound)) => Some((conn, session, outbound)),
        Err(e @ chatcore::Error::TooManyConnections(_)) => {
            let why = e.to_string();
            conn.refuse(close::TOO_MANY_CONNECTIONS, &why, Some(codec))
                .await;
            None
        }
        Err(e) => {
            let why = match e {
                chatcore::Error::Closed => "the server is shutting down; retry later".to_owned(),
                other => other.to_string(),
            };
            conn.refuse(close::TRY_AGAIN_LATER, &why, Some(codec)).await;
            None
        }
    }
}

/// The first frame that is not a keep-alive.
async fn first_frame<S: Io>(conn: &mut Conn<S>) -> Result<Option<bytes::Bytes>, ReadError> {
    loop {
        match conn.read_frame().await? {
            Some(frame) if frame.is_empty() => continue,
            other => return Ok(other),
        }
    }
}
