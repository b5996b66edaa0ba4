//! A per-connection token bucket: `rate` frames per second with a `burst` allowance.
//!
//! One plain struct owned by the connection's reader: no lock, no shared map on the hot path.

use tokio::time::Instant;

/// What to do with one received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Within the limit: handle it.
    Allow,
    /// Over the limit: answer `rate_limited`, do not handle it.
    Reject,
    /// Over the limit too often without backing off: close the connection (1008).
    Abuse,
}

/// Token bucket with a count of rejections since the bucket was last full.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
    rejected: u32,
    max_rejected: u32,
}

impl RateLimiter {
    /// A full bucket.
    pub(crate) fn new(per_second: u32, burst: u32, max_rejected: u32) -> Self {
        Self {
            rate: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            last: Instant::now(),
            rejected: 0,
            max_rejected,
        }
    }

    /// Takes one token for a frame received at `now`.
    pub(crate) fn check(&mut self, now: Instant) -> Verdict {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= self.burst {
            // The client backed off long enough to refill completely: forgive past rejections.
            self.rejected = 0;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Verdict::Allow;
        }
        self.rejected = self.rejected.saturating_add(1);
        if self.rejected > self.max_rejected {
            Verdict::Abuse
        } else {
            Verdict::Reject
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_rate_then_abuse() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(10, 5, 3);
        for _ in 0..5 {
            assert_eq!(rl.check(t0), Verdict::Allow);
        }
        assert_eq!(rl.check(t0), Verdict::Reject);
        // 100 ms later one token is back.
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(rl.check(t1), Verdict::Allow);
        assert_eq!(rl.check(t1), Verdict::Reject);
        assert_eq!(rl.check(t1), Verdict::Reject);
        assert_eq!(rl.check(t1), Verdict::Abuse);
    }

    #[test]
    fn a_full_refill_forgives() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(10, 2, 2);
        rl.check(t0);
        rl.check(t0);
        assert_eq!(rl.check(t0), Verdict::Reject);
        assert_eq!(rl.check(t0), Verdict::Reject);
        let later = t0 + Duration::from_secs(1);
        assert_eq!(rl.check(later), Verdict::Allow);
        rl.check(later);
        assert_eq!(rl.check(later), Verdict::Reject, "strikes were reset");
    }
}
