//! A per-connection token bucket: `rate` frames per second with a `burst` allowance.
//!
//! One plain struct owned by a connection's reader: no lock, no shared map on the hot path.

use std::time::Duration;

use tokio::time::Instant;

use super::{RateLimit, close};
use crate::ErrorCode;
use crate::protocol::{Codec, Event, ceil_millis};

/// The close reason of a connection that kept flooding.
pub const ABUSE: &str = "rate limit exceeded repeatedly";

/// What to do with one received frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Within the limit: handle it.
    Allow,
    /// Over the limit: answer `rate_limited`, do not handle it.
    Reject,
    /// Over the limit too often without backing off: close the connection (1008).
    Abuse,
}

/// What a transport does with one received data frame, per [`RateLimiter::admit`].
#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    /// Hand it to the session.
    Handle,
    /// Do not handle it; send this `rate_limited` error instead (advisory: a transport may
    /// drop it when its writer is far behind).
    Refuse(Event),
    /// Stop handling frames and close the connection with this code and reason.
    Close {
        /// [`close::POLICY`].
        code: u16,
        /// Why, for people.
        reason: &'static str,
    },
}

/// Token bucket with a count of rejections since the bucket was last full.
#[derive(Debug)]
pub struct RateLimiter {
    /// Tokens added per second.
    rate: f64,
    /// Bucket size.
    burst: f64,
    /// Tokens left.
    tokens: f64,
    /// When `tokens` was last brought up to date.
    last: Instant,
    /// Rejections since the bucket was last full.
    rejected: u32,
    /// Rejections tolerated before [`Verdict::Abuse`].
    max_rejected: u32,
}

impl RateLimiter {
    /// A full bucket for `limit`.
    pub fn new(limit: &RateLimit) -> Self {
        let burst = f64::from(limit.burst());
        Self {
            rate: f64::from(limit.per_second()),
            burst,
            tokens: burst,
            last: Instant::now(),
            rejected: 0,
            max_rejected: limit.max_rejected(),
        }
    }

    /// Takes a token for a data frame received at `now` and says what to do with it. `frame`
    /// is the frame and its codec when the transport can read it (the right codec), so a
    /// refusal echoes the request id.
    pub fn admit(&mut self, now: Instant, frame: Option<(Codec, &[u8])>) -> Admission {
        match self.check(now) {
            Verdict::Allow => Admission::Handle,
            Verdict::Reject => {
                let id = frame.and_then(|(codec, bytes)| match codec.decode_request(bytes) {
                    Ok(request) => request.id,
                    Err(e) => e.id,
                });
                let text = format!(
                    "rate limited: at most {} frames per second (bursts of {}); this frame was not handled",
                    self.rate, self.burst
                );
                Admission::Refuse(Event::Error {
                    id,
                    code: ErrorCode::RateLimited,
                    message: text,
                    retry_after_ms: Some(self.retry_after_ms()),
                })
            }
            Verdict::Abuse => Admission::Close {
                code: close::POLICY,
                reason: ABUSE,
            },
        }
    }

    /// Milliseconds until the bucket holds a whole token again.
    fn retry_after_ms(&self) -> u64 {
        let missing = (1.0 - self.tokens).max(0.0);
        ceil_millis(Duration::from_secs_f64(missing / self.rate))
    }

    /// Takes one token for a frame received at `now`.
    pub fn check(&mut self, now: Instant) -> Verdict {
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

    #[test]
    fn burst_then_rate_then_abuse() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(&RateLimit::new(10, 5, 3).expect("valid"));
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
    fn refusals_echo_the_request_id_and_abuse_closes() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(&RateLimit::new(1, 1, 1).expect("valid"));
        let frame = br#"{"type":"ping","id":7}"#;
        assert_eq!(rl.admit(t0, Some((Codec::Json, frame))), Admission::Handle);
        match rl.admit(t0, Some((Codec::Json, frame))) {
            Admission::Refuse(Event::Error {
                id,
                code,
                message,
                retry_after_ms,
            }) => {
                assert_eq!((id, code), (Some(7), ErrorCode::RateLimited));
                // One token a second, none left: the next is a second away.
                assert_eq!(retry_after_ms, Some(1000));
                assert!(message.contains("1 frames per second"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(matches!(
            rl.admit(t0, None),
            Admission::Close { code: 1008, .. }
        ));
    }

    #[test]
    fn a_full_refill_forgives() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(&RateLimit::new(10, 2, 2).expect("valid"));
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
