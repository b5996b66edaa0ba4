//! [`Activity`]: when a connection's peer last sent anything, for idle timeouts.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use tokio::time::Instant;

/// When the peer last sent anything (a frame, a keep-alive, a pong). Touched by a
/// connection's reader and read by its writer at each keep-alive tick, without a lock.
#[derive(Debug)]
pub struct Activity {
    /// When the connection started.
    start: Instant,
    /// Milliseconds after `start` of the last touch.
    last: AtomicU64,
}

impl Default for Activity {
    fn default() -> Self {
        Self::new()
    }
}

impl Activity {
    /// Activity that starts now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// Records that the peer sent something just now.
    pub fn touch(&self) {
        let millis = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(millis, Relaxed);
    }

    /// How long the peer has been silent.
    pub fn idle(&self) -> Duration {
        self.start
            .elapsed()
            .saturating_sub(Duration::from_millis(self.last.load(Relaxed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_touch_resets_the_idle_time() {
        let a = Activity::new();
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(a.idle(), Duration::from_secs(5));
        a.touch();
        assert_eq!(a.idle(), Duration::ZERO);
    }
}
