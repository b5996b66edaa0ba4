//! [`LeaseRecord`] and [`next_lease`]: the one rule every store applies to an event-stream
//! consumer group's lease, so backends agree on when a lease changes hands.

use std::time::Duration;

/// A consumer group's lease as a store keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaseRecord {
    /// Who holds it.
    pub holder: String,
    /// The fencing token: grows each time the lease is taken (not when it is renewed).
    pub token: u64,
    /// When it lapses, milliseconds since the Unix epoch by the store's clock.
    pub expires: i64,
}

impl LeaseRecord {
    /// A lease record (for stores reading one back).
    pub fn new(holder: impl Into<String>, token: u64, expires: i64) -> Self {
        Self {
            holder: holder.into(),
            token,
            expires,
        }
    }
}

/// What the lease becomes when `holder` asks for it at `now` (ms) for `ttl`: `Some` with the
/// record to store when granted — renewed with the same token while `holder` still holds
/// it, taken with the next token when it is free or lapsed — `None` while someone else's
/// lease is valid.
pub fn next_lease(
    current: Option<&LeaseRecord>,
    holder: &str,
    now: i64,
    ttl: Duration,
) -> Option<LeaseRecord> {
    let expires = now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
    match current {
        Some(l) if l.holder == holder && l.expires > now => Some(LeaseRecord {
            expires,
            ..l.clone()
        }),
        Some(l) if l.expires > now => None,
        Some(l) => Some(LeaseRecord::new(holder, l.token + 1, expires)),
        None => Some(LeaseRecord::new(holder, 1, expires)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TTL: Duration = Duration::from_millis(100);

    #[test]
    fn renewals_keep_the_token_and_take_overs_move_it() {
        let first = next_lease(None, "a", 0, TTL).expect("free");
        assert_eq!((first.token, first.expires), (1, 100));
        let renewed = next_lease(Some(&first), "a", 50, TTL).expect("renew");
        assert_eq!((renewed.token, renewed.expires), (1, 150));
        assert_eq!(next_lease(Some(&renewed), "b", 149, TTL), None);
        let taken = next_lease(Some(&renewed), "b", 150, TTL).expect("lapsed");
        assert_eq!((taken.holder.as_str(), taken.token), ("b", 2));
        let back = next_lease(Some(&taken), "a", 300, TTL).expect("lapsed again");
        assert_eq!(back.token, 3, "the old holder comes back with a new token");
    }
}
