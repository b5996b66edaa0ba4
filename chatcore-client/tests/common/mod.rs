//! What only this crate's tests share: client configs for tests and readers of the client's
//! event stream. Servers, proxies and bounded waits come from `chatcore-testkit`.

#![allow(dead_code, unreachable_pub)] // each test binary uses a subset

#[cfg(feature = "cli")]
pub mod cli;

use std::time::Duration;

use chatcore_client::{ClientConfig, ClientEvent, ConnectionState, Events, Message};
use chatcore_testkit::{BOUND, within};

/// A client config for `url` as guest `user`: fast reconnects, no client-side rate limit.
pub fn config(url: &str, user: &str) -> ClientConfig {
    ClientConfig::new(url)
        .expect("url")
        .with_guest(user)
        .with_backoff(Duration::from_millis(10), Duration::from_millis(100))
        .and_then(|c| c.with_request_timeout(BOUND))
        .and_then(|c| c.with_rate_limit(None))
        .expect("config")
}

/// The next event matching `pick`, skipping others, within [`BOUND`].
pub async fn next_matching<T>(
    events: &mut Events,
    mut pick: impl FnMut(ClientEvent) -> Option<T>,
) -> T {
    within(async {
        loop {
            let event = events.recv().await.expect("the event stream ended");
            if let Some(found) = pick(event) {
                return found;
            }
        }
    })
    .await
}

/// The next message event.
pub async fn next_message(events: &mut Events) -> Message {
    next_matching(events, |e| match e {
        ClientEvent::Message(m) => Some(m),
        _ => None,
    })
    .await
}

/// The next connection state change.
pub async fn next_state(events: &mut Events) -> ConnectionState {
    next_matching(events, |e| match e {
        ClientEvent::State(s) => Some(s),
        _ => None,
    })
    .await
}
