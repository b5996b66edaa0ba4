//! The supervisor task: runs one connection after another until the client stops.
//!
//! ```text
//! Client::connect ──open──> supervise ─┬─ run: install writer, rejoin rooms, retry requests
//! Client::start ──────────> (connect) ─┤        spawn writer + reader, wait for the reader
//!                                      ├─ Disconnected → Reconnecting (backoff) → open → run …
//!                                      └─ Closed: fail waiting callers, end the event stream
//! ```

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::connection;
use super::link::Opened;
use super::shared::Shared;
use crate::backoff::Backoff;
use crate::error::{DisconnectReason, Error};
use crate::events::{ClientEvent, ConnectionState};

/// How long a closing client waits for the server to answer its close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(3);

/// Runs the client's connections, starting with `first` (`None`: make the first connection
/// here, retrying like a reconnect), until it is closed or gives up.
pub(crate) async fn supervise(
    shared: Arc<Shared>,
    first: Option<Opened>,
    events: mpsc::Sender<ClientEvent>,
) {
    let mut opened = match first {
        Some(opened) => opened,
        None => match reconnect(&shared, &events, None).await {
            Ok(opened) => opened,
            Err(reason) => return finish(&shared, &events, reason).await,
        },
    };
    let reason = loop {
        let reason = run(&shared, opened, &events).await;
        let closing = shared.is_closing();
        let reason = if closing {
            DisconnectReason::ClientClosed
        } else {
            reason
        };
        tracing::debug!(%reason, "disconnected");
        emit(
            &shared,
            &events,
            ConnectionState::Disconnected(reason.clone()),
        )
        .await;
        if closing || !shared.config.reconnect || !reason.may_reconnect() {
            break reason;
        }
        match reconnect(&shared, &events, Some(reason)).await {
            Ok(next) => opened = next,
            Err(reason) => break reason,
        }
    };
    finish(&shared, &events, reason).await;
}

/// The client stopped for good: fails waiting callers and reports [`ConnectionState::Closed`].
async fn finish(shared: &Shared, events: &mpsc::Sender<ClientEvent>, reason: DisconnectReason) {
    let waiting = shared.lock().finish(reason.clone());
    let error = super::state::closed_error(&reason);
    for reply in waiting {
        let _ = reply.send(Err(error.clone()));
    }
    emit(shared, events, ConnectionState::Closed(reason)).await;
    // Dropping `events` (the caller's last sender) ends the application's stream.
}

/// Runs one connection until it ends, and returns why.
async fn run(
    shared: &Arc<Shared>,
    opened: Opened,
    events: &mpsc::Sender<ClientEvent>,
) -> DisconnectReason {
    let Opened {
        sink,
        stream,
        session,
    } = opened;
    let (tx, rx) = mpsc::unbounded_channel();
    let config = &shared.config;
    let mut writer = tokio::spawn(connection::write_loop(
        sink,
        rx,
        config.ping_interval,
        config.rate_limit,
    ));
    shared.lock().install(tx, session.clone());
    tracing::debug!(user = %session.user, session = session.session, "connected");
    emit(shared, events, ConnectionState::Connected(session)).await;
    let mut reader = tokio::spawn(connection::read_loop(
        stream,
        Arc::clone(shared),
        events.clone(),
    ));
    let mut closing = shared.closing.subscribe();
    let reason = tokio::select! {
        ended = &mut reader => ended.unwrap_or_else(|e| {
            DisconnectReason::ConnectionLost(format!("the reader task failed: {e}"))
        }),
        () = until_closing(&mut closing) => {
            shared.lock().request_close();
            if tokio::time::timeout(CLOSE_WAIT, &mut reader).await.is_err() {
                reader.abort();
            }
            DisconnectReason::ClientClosed
        }
    };
    // Let a close frame in progress go out, then make sure the socket is dropped.
    if tokio::time::timeout(Duration::from_millis(200), &mut writer)
        .await
        .is_err()
    {
        writer.abort();
    }
    shared.lock().disconnected();
    reason
}

/// Reconnects with backoff after the connection was `lost`; with `None` (the first
/// connection of [`Client::start`](crate::Client::start)) the first attempt goes out at once
/// and only failed ones are followed by [`ConnectionState::Reconnecting`]. `Err` with the
/// final reason when the client closes or gives up.
async fn reconnect(
    shared: &Arc<Shared>,
    events: &mpsc::Sender<ClientEvent>,
    lost: Option<DisconnectReason>,
) -> Result<Opened, DisconnectReason> {
    let config = &shared.config;
    let mut backoff = Backoff::new(config.backoff_initial, config.backoff_max);
    let mut last = lost.map(Error::Disconnected);
    let mut closing = shared.closing.subscribe();
    loop {
        let (delay, attempt) = match last {
            None => (Duration::ZERO, 0),
            Some(last) => {
                let spent = config
                    .max_reconnect_attempts
                    .is_some_and(|max| backoff.attempts() >= max);
                if spent || !config.reconnect {
                    return Err(DisconnectReason::GaveUp(Box::new(last)));
                }
                let delay = backoff.next_delay();
                let attempt = backoff.attempts();
                let state = ConnectionState::Reconnecting { attempt, delay };
                emit(shared, events, state).await;
                (delay, attempt)
            }
        };
        let outcome = tokio::select! {
            () = until_closing(&mut closing) => return Err(DisconnectReason::ClientClosed),
            outcome = async {
                tokio::time::sleep(delay).await;
                connection::open(&shared.connect_config()).await
            } => outcome,
        };
        match outcome {
            Ok(opened) => return Ok(opened),
            Err(e) if is_final(&e) => {
                tracing::warn!(error = %e, "reconnecting refused; giving up");
                return Err(DisconnectReason::GaveUp(Box::new(e)));
            }
            Err(e) => {
                tracing::debug!(error = %e, attempt, "reconnect attempt failed");
                last = Some(e);
            }
        }
    }
}

/// Errors that another attempt cannot fix: refused credentials, a refusal other than "busy",
/// a server that does not speak this protocol, a certificate this client does not trust, a
/// bad configuration.
fn is_final(e: &Error) -> bool {
    match e {
        Error::Unauthorized(_) | Error::Config(_) | Error::Protocol(_) => true,
        Error::Tls { certificate, .. } => *certificate,
        Error::Refused { status, .. } => *status != 503 && *status < 500,
        _ => false,
    }
}

/// Resolves once the client is closing (the watch's guard is not held across awaits).
async fn until_closing(closing: &mut watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await;
}

/// Publishes a state change: to [`Client::state`](crate::Client::state) at once, and to the
/// event stream (waiting for room unless the client is closing, so a full, unread stream
/// cannot block a close).
async fn emit(shared: &Shared, events: &mpsc::Sender<ClientEvent>, state: ConnectionState) {
    shared.status.send_replace(state.clone());
    let event = ClientEvent::State(state);
    if shared.is_closing() {
        let _ = events.try_send(event);
        return;
    }
    let mut closing = shared.closing.subscribe();
    tokio::select! {
        _ = events.send(event) => {}
        () = until_closing(&mut closing) => {}
    }
}

#[cfg(test)]
mod tests {
    use chatcore::ErrorCode;

    use super::*;

    #[test]
    fn which_failures_end_reconnecting() {
        assert!(is_final(&Error::Unauthorized("expired".into())));
        let refused = |status| Error::Refused {
            status,
            code: ErrorCode::Unknown,
            message: String::new(),
        };
        assert!(is_final(&refused(403)));
        assert!(!is_final(&refused(503)));
        assert!(!is_final(&refused(502)));
        let unreachable = Error::Connect {
            url: "ws://h/ws".into(),
            reason: "refused".into(),
        };
        assert!(!is_final(&unreachable));
        let tls = |certificate| Error::Tls {
            url: "wss://h/ws".into(),
            reason: "r".into(),
            certificate,
        };
        assert!(is_final(&tls(true)));
        assert!(!is_final(&tls(false)));
    }
}
