//! [`Handshakes`]: the cap on connections that have not finished their handshake, per peer IP
//! and in total, shared by every transport.
//!
//! A TCP connection costs a file descriptor and a task from `accept` on, long before it has
//! said who it is. Without a cap of its own, one unauthenticated client that opens sockets and
//! never finishes (or trickles) its handshake holds them until the handshake timeout, and
//! enough of them exhaust the process's descriptors: real clients are refused and `/health`
//! stops answering. A transport therefore takes a [`HandshakeSlot`] at accept time, before it
//! reads a byte, and drops the connection at once when there is none; the slot is released
//! when the handshake finishes (or the connection ends).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::{Error, Result};

/// How many connections may be mid-handshake at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeLimit {
    total: usize,
    per_ip: usize,
}

impl Default for HandshakeLimit {
    /// 1,024 in total and 64 per peer IP.
    fn default() -> Self {
        Self {
            total: 1024,
            per_ip: 64,
        }
    }
}

impl HandshakeLimit {
    /// At most `total` unfinished handshakes, and at most `per_ip` from one peer address;
    /// both at least 1, `per_ip` at most `total`.
    pub fn new(total: usize, per_ip: usize) -> Result<Self> {
        if total == 0 || per_ip == 0 || per_ip > total {
            return Err(Error::Config(format!(
                "handshake limits must be at least 1, per IP at most the total (got {total} in \
                 total, {per_ip} per IP)"
            )));
        }
        Ok(Self { total, per_ip })
    }

    /// Unfinished handshakes at most. Default 1,024, because a healthy server finishes a
    /// handshake in a round trip or two, so even a burst of reconnects stays far below it,
    /// while it bounds what silent sockets can hold.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Unfinished handshakes from one IP address at most. Default 64, because a browser opens
    /// a handful of connections and even a NAT of many users rarely has that many handshakes
    /// in flight at once, while one client alone cannot fill the total.
    pub fn per_ip(&self) -> usize {
        self.per_ip
    }
}

/// Counts the handshakes in progress; cheap to clone (clones share the counts).
#[derive(Debug, Clone)]
pub struct Handshakes {
    limit: HandshakeLimit,
    /// Handshakes in progress per peer IP, and their sum. A `std` mutex: no `.await` happens
    /// under it, and it is held for one map operation.
    counts: Arc<Mutex<Counts>>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl Handshakes {
    /// Counts under `limit`.
    pub fn new(limit: HandshakeLimit) -> Self {
        Self {
            limit,
            counts: Arc::default(),
        }
    }

    /// The limit in force.
    pub fn limit(&self) -> HandshakeLimit {
        self.limit
    }

    /// A slot for a handshake from `ip`, or `None` when `ip` or the server is at its limit.
    pub fn try_start(&self, ip: IpAddr) -> Option<HandshakeSlot> {
        let ip = canonical(ip);
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.total >= self.limit.total {
            return None;
        }
        let mine = counts.per_ip.entry(ip).or_insert(0);
        if *mine >= self.limit.per_ip {
            return None;
        }
        *mine += 1;
        counts.total += 1;
        Some(HandshakeSlot {
            ip,
            counts: Arc::clone(&self.counts),
        })
    }

    /// Handshakes in progress.
    pub fn in_progress(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }
}

/// IPv4 peers reached over an IPv6 socket (`::ffff:a.b.c.d`) count as their IPv4 address.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// One handshake in progress; dropping it (the handshake finished, or the connection ended)
/// frees the slot.
#[derive(Debug)]
pub struct HandshakeSlot {
    ip: IpAddr,
    counts: Arc<Mutex<Counts>>,
}

impl Drop for HandshakeSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.total = counts.total.saturating_sub(1);
        if let Some(n) = counts.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                counts.per_ip.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_per_ip_and_in_total_and_frees_on_drop() {
        let gate = Handshakes::new(HandshakeLimit::new(3, 2).expect("limit"));
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let a1 = gate.try_start(a).expect("first from a");
        let _a2 = gate.try_start(a).expect("second from a");
        assert!(gate.try_start(a).is_none(), "a is at its per-IP cap");
        let _b1 = gate.try_start(b).expect("b has room");
        assert!(gate.try_start(b).is_none(), "the total is reached");
        assert_eq!(gate.in_progress(), 3);
        drop(a1);
        assert_eq!(gate.in_progress(), 2);
        assert!(gate.try_start(a).is_some(), "a's slot came back");
    }

    #[test]
    fn mapped_ipv4_counts_as_ipv4() {
        let gate = Handshakes::new(HandshakeLimit::new(10, 1).expect("limit"));
        let _v4 = gate
            .try_start("127.0.0.1".parse().expect("ip"))
            .expect("slot");
        assert!(
            gate.try_start("::ffff:127.0.0.1".parse().expect("ip"))
                .is_none()
        );
    }

    #[test]
    fn nonsense_limits_are_refused() {
        assert!(HandshakeLimit::new(0, 0).is_err());
        assert!(HandshakeLimit::new(5, 6).is_err());
    }
}
