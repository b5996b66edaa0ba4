//! [`Rate`]: a sustained rate with a burst allowance, the value type of the hub's per-user,
//! per-IP and per-room limits ([`Limits`](super::Limits)), enforced by `throttle.rs`.

use std::num::NonZeroU32;

use crate::{Error, Result};

/// A sustained rate with a burst allowance, for the per-user, per-IP and per-room limits of
/// [`Limits`](super::Limits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    per_second: NonZeroU32,
    burst: NonZeroU32,
}

impl Rate {
    /// `per_second` sustained, up to `burst` at once after a quiet spell; both at least 1.
    pub fn new(per_second: u32, burst: u32) -> Result<Self> {
        match (NonZeroU32::new(per_second), NonZeroU32::new(burst)) {
            (Some(per_second), Some(burst)) => Ok(Self { per_second, burst }),
            _ => Err(Error::Config(format!(
                "a rate needs at least 1 per second and a burst of at least 1 (got {per_second}/s, burst {burst})"
            ))),
        }
    }

    /// A rate known to be valid, for defaults.
    pub(crate) const fn of(per_second: NonZeroU32, burst: NonZeroU32) -> Self {
        Self { per_second, burst }
    }

    /// Sustained commands per second.
    pub fn per_second(&self) -> u32 {
        self.per_second.get()
    }

    /// Commands admitted at once after a quiet spell.
    pub fn burst(&self) -> u32 {
        self.burst.get()
    }

    pub(super) fn per_second_nz(self) -> NonZeroU32 {
        self.per_second
    }

    pub(super) fn burst_nz(self) -> NonZeroU32 {
        self.burst
    }
}
