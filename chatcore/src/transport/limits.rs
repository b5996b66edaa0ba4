//! [`RateLimit`] and [`Keepalive`]: the per-connection settings every transport validates the
//! same way and defaults the same way, so a client meets the same limits on each.

use std::time::Duration;

use crate::{Error, Result};

/// How fast one connection may send frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    per_second: u32,
    burst: u32,
    max_rejected: u32,
}

impl Default for RateLimit {
    /// 30 frames per second in bursts of 100, closed after 50 rejections.
    fn default() -> Self {
        Self {
            per_second: 30,
            burst: 100,
            max_rejected: 50,
        }
    }
}

impl RateLimit {
    /// A limit of `per_second` sustained frames, bursts of `burst`, and `max_rejected`
    /// `rate_limited` errors before the connection is closed; each at least 1.
    pub fn new(per_second: u32, burst: u32, max_rejected: u32) -> Result<Self> {
        if per_second == 0 || burst == 0 || max_rejected == 0 {
            return Err(Error::Config(
                "frames_per_second, frame_burst and max_rate_limited must be at least 1".into(),
            ));
        }
        Ok(Self {
            per_second,
            burst,
            max_rejected,
        })
    }

    /// Sustained frames per second. Default 30, because a person types far slower and a
    /// well-behaved bot batches.
    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Frames allowed in a burst above the sustained rate. Default 100, because a client that
    /// reconnects rejoins all its rooms at once.
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// Rejected frames tolerated before the connection is closed with 1008; the count resets
    /// once the client lets its allowance refill completely. Default 50, because a client that
    /// ignores that many `rate_limited` errors is flooding.
    pub fn max_rejected(&self) -> u32 {
        self.max_rejected
    }
}

/// When a server pings a connection and when it gives up on a silent one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    interval: Duration,
    idle_timeout: Duration,
}

impl Default for Keepalive {
    /// A ping every 20 s; closed after 60 s of silence.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
        }
    }
}

impl Keepalive {
    /// Pings every `interval`, closes (4000) after `idle_timeout` without anything from the
    /// peer: both non-zero, the timeout longer than the interval (a live peer has time to
    /// answer).
    pub fn new(interval: Duration, idle_timeout: Duration) -> Result<Self> {
        if interval.is_zero() {
            return Err(Error::Config(
                "ping_interval must be greater than zero".into(),
            ));
        }
        if idle_timeout <= interval {
            return Err(Error::Config(
                "idle_timeout must be longer than ping_interval, or live peers would time out"
                    .into(),
            ));
        }
        Ok(Self {
            interval,
            idle_timeout,
        })
    }

    /// How often the server pings. Default 20 s, because that keeps NAT and proxy mappings
    /// alive (most drop idle TCP after 30–60 s) at negligible cost.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Silence after which a connection is closed with 4000, checked at each ping. Default
    /// 60 s: three missed pings, so a dead peer is found within about a minute while a slow
    /// network is tolerated.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invariants_are_checked() {
        assert!(RateLimit::new(0, 1, 1).is_err());
        assert!(RateLimit::new(1, 1, 0).is_err());
        assert_eq!(RateLimit::new(5, 10, 3).map(|r| r.burst()).ok(), Some(10));
        let s = Duration::from_secs(1);
        assert!(Keepalive::new(Duration::ZERO, s).is_err());
        assert!(Keepalive::new(s, s).is_err());
        assert_eq!(
            Keepalive::new(s, s * 3).map(|k| k.idle_timeout()).ok(),
            Some(s * 3)
        );
    }
}
