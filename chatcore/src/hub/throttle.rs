//! [`Throttle`]: the hub's limits on what the network may ask for, across connections — per-user
//! and per-IP rates of messages and joins, joins into one room (join floods), and sessions per
//! IP address.
//!
//! Rates are governor's keyed GCRA limiters: one small cell per key, no timer, no task, a
//! lock-free check on the message path. Sessions per IP are a plain count: it is a cap on
//! things held open, not a rate.
//!
//! Only sessions a transport opened for a peer address ([`Hub::connect_from`](crate::Hub::connect_from))
//! are limited: the host's own sessions (in-process bots, tests) come from trusted code. A
//! transport's per-connection frame limit ([`RateLimit`](crate::transport::RateLimit)) comes
//! first; these limits stop the same user (or IP) from multiplying it with more connections.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::config::Limits;
use super::rate::Rate;
use crate::{Error, Result};

/// Keys a limiter keeps before idle ones (whose allowance is full again) are swept; each is a
/// few dozen bytes.
const SWEEP_AT: usize = 10_000;

/// The governor quota of a [`Rate`].
fn quota(rate: Rate) -> Quota {
    Quota::per_second(rate.per_second_nz()).allow_burst(rate.burst_nz())
}

/// One keyed limiter with what it limits, for the error.
struct Keyed<K: Hash + Eq + Clone> {
    limiter: DefaultKeyedRateLimiter<K>,
    what: &'static str,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(rate: Option<Rate>, what: &'static str) -> Option<Self> {
        rate.map(|r| Self {
            limiter: RateLimiter::keyed(quota(r)),
            what,
        })
    }

    fn check(&self, key: &K, clock: &DefaultClock) -> Result<()> {
        if self.limiter.len() > SWEEP_AT {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(key)
            .map_err(|not_until| Error::Throttled {
                what: self.what,
                retry_after: not_until.wait_time_from(clock.now()),
            })
    }
}

/// Checks `key` against `limiter` when both are there.
fn check<K: Hash + Eq + Clone>(
    limiter: &Option<Keyed<K>>,
    key: Option<&K>,
    clock: &DefaultClock,
) -> Result<()> {
    match (limiter, key) {
        (Some(l), Some(k)) => l.check(k, clock),
        _ => Ok(()),
    }
}

/// The limiters and counts of one hub.
pub(crate) struct Throttle {
    messages_per_user: Option<Keyed<Arc<str>>>,
    messages_per_ip: Option<Keyed<IpAddr>>,
    joins_per_user: Option<Keyed<Arc<str>>>,
    joins_per_ip: Option<Keyed<IpAddr>>,
    joins_per_room: Option<Keyed<String>>,
    connections: Connections,
    clock: DefaultClock,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").finish_non_exhaustive()
    }
}

impl Throttle {
    /// The limiters `limits` asks for.
    pub(crate) fn new(limits: &Limits) -> Self {
        Self {
            messages_per_user: Keyed::new(limits.messages_per_user, "too many messages from you"),
            messages_per_ip: Keyed::new(
                limits.messages_per_ip,
                "too many messages from your address",
            ),
            joins_per_user: Keyed::new(limits.joins_per_user, "too many joins from you"),
            joins_per_ip: Keyed::new(limits.joins_per_ip, "too many joins from your address"),
            joins_per_room: Keyed::new(
                limits.joins_per_room,
                "too many joins into this room right now",
            ),
            connections: Connections {
                cap: limits.max_connections_per_ip,
                open: Arc::default(),
            },
            clock: DefaultClock::default(),
        }
    }

    /// Admits one message (`send`, `dm`) from `user` at `ip`. The IP is checked first, so a
    /// throttled address spends nothing of its users' allowances.
    pub(crate) fn message(&self, user: &Arc<str>, ip: IpAddr) -> Result<()> {
        check(&self.messages_per_ip, Some(&ip), &self.clock)?;
        check(&self.messages_per_user, Some(user), &self.clock)
    }

    /// Admits one `join` of `room` (`None`: a name that is not a room's, which the join itself
    /// refuses) from `user` at `ip`.
    pub(crate) fn join(&self, user: &Arc<str>, ip: IpAddr, room: Option<&str>) -> Result<()> {
        check(&self.joins_per_ip, Some(&ip), &self.clock)?;
        check(&self.joins_per_user, Some(user), &self.clock)?;
        check(
            &self.joins_per_room,
            room.map(str::to_owned).as_ref(),
            &self.clock,
        )
    }

    /// A place for one more session from `ip`, held until the guard drops.
    pub(crate) fn open(&self, ip: IpAddr) -> Result<ConnectionGuard> {
        self.connections.open(ip)
    }
}

/// Sessions open per peer IP, under a cap.
struct Connections {
    cap: Option<usize>,
    /// A `std` mutex: held for one map operation, never across an await.
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl Connections {
    fn open(&self, ip: IpAddr) -> Result<ConnectionGuard> {
        let ip = crate::transport::canonical(ip);
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = open.entry(ip).or_insert(0);
        if let Some(cap) = self.cap {
            if *mine >= cap {
                if *mine == 0 {
                    open.remove(&ip);
                }
                return Err(Error::TooManyConnections(cap));
            }
        }
        *mine += 1;
        Ok(ConnectionGuard {
            ip,
            open: Arc::clone(&self.open),
        })
    }
}

/// One session's place among its IP's; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct ConnectionGuard {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl ConnectionGuard {
    /// The peer address (IPv4-mapped addresses as IPv4).
    pub(crate) fn ip(&self) -> IpAddr {
        self.ip
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(f: impl FnOnce(&mut Limits)) -> Limits {
        let mut l = Limits::default();
        f(&mut l);
        l
    }

    #[test]
    fn messages_are_limited_per_user_and_per_ip() {
        let t = Throttle::new(&limits(|l| {
            l.messages_per_user = Some(Rate::new(1, 2).expect("rate"));
            l.messages_per_ip = Some(Rate::new(1, 3).expect("rate"));
        }));
        let (ann, bob): (Arc<str>, Arc<str>) = ("ann".into(), "bob".into());
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        assert!(t.message(&ann, a).is_ok());
        assert!(t.message(&ann, a).is_ok());
        let e = t.message(&ann, a).expect_err("ann's burst is spent");
        let wait = e.retry_after().expect("says when");
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        assert_eq!(e.code(), crate::ErrorCode::RateLimited);
        // Ann's refusal spent a place of the IP's burst of 3; bob gets none from a.
        assert!(t.message(&bob, a).is_err(), "the address is spent");
        assert!(t.message(&bob, b).is_ok(), "bob from another address");
    }

    #[test]
    fn joins_into_one_room_are_limited_whoever_joins() {
        let t = Throttle::new(&limits(|l| {
            l.joins_per_room = Some(Rate::new(1, 2).expect("rate"));
        }));
        let ip: IpAddr = [127, 0, 0, 1].into();
        for (i, user) in ["a", "b"].into_iter().enumerate() {
            assert!(t.join(&Arc::from(user), ip, Some("lobby")).is_ok(), "{i}");
        }
        let e = t
            .join(&Arc::from("c"), ip, Some("lobby"))
            .expect_err("flood");
        assert!(e.to_string().contains("this room"), "{e}");
        assert!(t.join(&Arc::from("c"), ip, Some("other")).is_ok());
        assert!(t.join(&Arc::from("c"), ip, None).is_ok(), "no room key");
    }

    #[test]
    fn sessions_per_ip_are_capped_and_freed() {
        let t = Throttle::new(&limits(|l| l.max_connections_per_ip = Some(2)));
        let a: IpAddr = [127, 0, 0, 1].into();
        let one = t.open(a).expect("first");
        let _two = t
            .open("::ffff:127.0.0.1".parse().expect("ip"))
            .expect("second");
        assert!(matches!(t.open(a), Err(Error::TooManyConnections(2))));
        assert!(t.open([127, 0, 0, 2].into()).is_ok(), "another address");
        drop(one);
        assert!(t.open(a).is_ok(), "a place came back");
    }

    #[test]
    fn rates_must_be_positive() {
        assert!(Rate::new(0, 1).is_err());
        assert!(Rate::new(1, 0).is_err());
        assert_eq!(Rate::new(4, 1).map(|r| r.per_second()).ok(), Some(4));
    }
}
