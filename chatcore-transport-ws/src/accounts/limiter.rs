//! Login attempts per client IP and per account, and refreshes per client IP, with governor's
//! keyed GCRA limiters.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Keys kept before idle ones are swept (each is a few dozen bytes).
const SWEEP_AT: usize = 10_000;

/// The login limiters and the refresh limiter.
pub(crate) struct LoginLimiter {
    per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    refresh_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
}

impl LoginLimiter {
    /// `per_ip` and `per_account` attempts per minute, and `refresh_per_ip` refreshes per
    /// minute; each also the burst.
    pub(crate) fn new(
        per_ip: NonZeroU32,
        per_account: NonZeroU32,
        refresh_per_ip: NonZeroU32,
    ) -> Self {
        Self {
            per_ip: RateLimiter::keyed(Quota::per_minute(per_ip)),
            per_account: RateLimiter::keyed(Quota::per_minute(per_account)),
            refresh_per_ip: RateLimiter::keyed(Quota::per_minute(refresh_per_ip)),
            clock: DefaultClock::default(),
        }
    }

    /// Admits one `POST /api/refresh` from `ip` (when known), or says how long to wait. Its
    /// own allowance: refreshing never spends a login attempt.
    pub(crate) fn admit_refresh(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        if self.refresh_per_ip.len() > SWEEP_AT {
            self.refresh_per_ip.retain_recent();
        }
        match ip {
            Some(ip) => self
                .refresh_per_ip
                .check_key(&ip)
                .map_err(|n| n.wait_time_from(self.clock.now())),
            None => Ok(()),
        }
    }

    /// Admits one attempt from `ip` (when known) that names no account (a registration), or
    /// says how long to wait.
    pub(crate) fn admit_ip(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        if self.per_ip.len() > SWEEP_AT {
            self.per_ip.retain_recent();
        }
        match ip {
            Some(ip) => self
                .per_ip
                .check_key(&ip)
                .map_err(|n| n.wait_time_from(self.clock.now())),
            None => Ok(()),
        }
    }

    /// Admits one attempt from `ip` (when known) for the account keyed `account`, or says
    /// how long to wait. The IP is checked first, so a throttled IP spends nothing of the
    /// account's allowance (and cannot lock its owner out that way faster).
    pub(crate) fn admit(&self, ip: Option<IpAddr>, account: &str) -> Result<(), Duration> {
        if self.per_ip.len() > SWEEP_AT {
            self.per_ip.retain_recent();
        }
        if self.per_account.len() > SWEEP_AT {
            self.per_account.retain_recent();
        }
        if let Some(ip) = ip {
            self.per_ip
                .check_key(&ip)
                .map_err(|n| n.wait_time_from(self.clock.now()))?;
        }
        self.per_account
            .check_key(&account.to_owned())
            .map_err(|n| n.wait_time_from(self.clock.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_and_account_limits_are_separate() {
        let nz = |n| NonZeroU32::new(n).expect("nonzero");
        let l = LoginLimiter::new(nz(3), nz(2), nz(1));
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        assert!(l.admit(Some(a), "ann").is_ok());
        assert!(l.admit(Some(a), "ann").is_ok());
        let wait = l.admit(Some(a), "ann").expect_err("account spent");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        assert!(l.admit(Some(a), "bob").expect_err("ip spent") > Duration::ZERO);
        assert!(
            l.admit(Some(b), "bob").is_ok(),
            "another IP, another account"
        );
        assert!(
            l.admit_refresh(Some(a)).is_ok(),
            "refreshes have their own allowance"
        );
        assert!(l.admit_refresh(Some(a)).is_err());
        assert!(l.admit_refresh(Some(b)).is_ok());
    }
}
