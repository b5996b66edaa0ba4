//! How a command goes out and its reply comes back: matched by request id, within the
//! request timeout, sent again after `rate_limited`, and forgotten however the caller ends.

use std::time::Duration;

use chatcore::ErrorCode;
use chatcore::protocol::{Command, Event};
use tokio::time::Instant;

use super::Client;
use super::shared::Shared;
use super::state::{self, JoinMode};
use crate::error::{Error, Result};

/// First wait before a command refused with `rate_limited` is sent again; doubles each time.
const RATE_LIMIT_RETRY: Duration = Duration::from_millis(250);

impl Client {
    /// Sends a command and waits for its reply, retrying after `rate_limited`.
    pub(super) async fn call(&self, command: Command, join: Option<JoinMode>) -> Result<Event> {
        let shared = self.shared();
        let timeout = shared.config.request_timeout;
        let deadline = Instant::now() + timeout;
        let mut pause = RATE_LIMIT_RETRY;
        loop {
            let (id, reply) = shared.lock().call(command.clone(), join)?;
            // Forgets the request however this future ends (answered, timed out, dropped).
            let _forget = Forget { shared, id };
            let outcome = match tokio::time::timeout_at(deadline, reply).await {
                Err(_) => return Err(Error::Timeout(timeout)),
                Ok(Err(_)) => {
                    let closed = shared.lock().closed.clone();
                    return Err(closed.map_or(Error::Closed, |r| state::closed_error(&r)));
                }
                Ok(Ok(outcome)) => outcome,
            };
            match outcome {
                Err(Error::Server {
                    code: ErrorCode::RateLimited,
                    message,
                }) => {
                    if Instant::now() + pause >= deadline {
                        return Err(Error::server(ErrorCode::RateLimited, message));
                    }
                    tracing::debug!(?pause, "rate limited; sending again after a pause");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(4));
                }
                other => return other,
            }
        }
    }
}

/// Removes a caller's pending request when dropped.
struct Forget<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.shared.lock().abandon(self.id);
    }
}
