//! Reconnect delays: exponential backoff with jitter.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Delays between reconnect attempts: attempt `n` (from 1) waits a random time in the upper
/// half of `min(max, initial · 2ⁿ⁻¹)` ("equal jitter"), so the delay still grows but clients
/// dropped at the same moment spread out.
#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Self {
        Self {
            initial,
            max,
            attempt: 0,
        }
    }

    /// Attempts made so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempt
    }

    /// The delay before the next attempt (and counts it).
    pub(crate) fn next_delay(&mut self) -> Duration {
        self.attempt = self.attempt.saturating_add(1);
        let ceiling = self.ceiling();
        let half = ceiling / 2;
        let spread = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        let jitter = if spread == 0 {
            0
        } else {
            random_u64() % spread
        };
        half + Duration::from_nanos(jitter)
    }

    /// The upper bound of the current attempt's delay.
    fn ceiling(&self) -> Duration {
        let doublings = self.attempt.saturating_sub(1).min(30);
        self.initial
            .checked_mul(1u32 << doublings)
            .map_or(self.max, |d| d.min(self.max))
    }
}

/// A random number from the standard library's per-map random keys: plenty for jitter, and no
/// random-number crate needed.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(0x5eed);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_with_jitter_up_to_the_maximum() {
        let initial = Duration::from_millis(100);
        let max = Duration::from_secs(2);
        let mut b = Backoff::new(initial, max);
        let d1 = b.next_delay();
        assert!(d1 >= Duration::from_millis(50) && d1 <= initial, "{d1:?}");
        let d2 = b.next_delay();
        assert!(
            d2 >= Duration::from_millis(100) && d2 <= Duration::from_millis(200),
            "{d2:?}"
        );
        // Attempts 3–5 still double (400 ms, 800 ms, 1.6 s); from the 6th on the cap holds.
        for attempt in 3..=52 {
            let d = b.next_delay();
            assert!(d <= max, "{d:?}");
            if attempt >= 6 {
                assert!(d >= max / 2, "{d:?}");
            }
        }
        assert_eq!(b.attempts(), 52);
    }

    #[test]
    fn jitter_varies() {
        let delays: std::collections::HashSet<Duration> = (0..20)
            .map(|_| Backoff::new(Duration::from_secs(1), Duration::from_secs(1)).next_delay())
            .collect();
        assert!(delays.len() > 1, "jitter must not be constant");
    }
}
