//! The flags of `chat-server` for the hub's abuse limits ([`LimitArgs`]): message and join rates
//! per user, per IP address and per room, and sessions per IP address.

use std::str::FromStr;

use chatcore::{Limits, Rate};
use clap::Args;

use crate::error::{Result, StartupError};

/// A rate flag: `PER_SECOND/BURST` (`10/50`), `PER_SECOND` (the burst is the same), or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateFlag(pub Option<Rate>);

impl FromStr for RateFlag {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        let number = |part: &str| {
            part.trim()
                .parse::<u32>()
                .map_err(|_| format!("{s:?}: expected PER_SECOND/BURST (e.g. 10/50), or off"))
        };
        let (rate, burst) = match s.split_once('/') {
            Some((rate, burst)) => (number(rate)?, number(burst)?),
            None => (number(s)?, number(s)?),
        };
        Rate::new(rate, burst)
            .map(|r| Self(Some(r)))
            .map_err(|e| e.to_string())
    }
}

/// A cap flag: a number of at least 1, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapFlag(pub Option<usize>);

impl FromStr for CapFlag {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        match s.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(Self(Some(n))),
            _ => Err(format!("{s:?}: expected a number of at least 1, or off")),
        }
    }
}

/// The hub's abuse limits (SECURITY.md, "Limits"). Over a rate a command gets `rate_limited`
/// with `retry_after_ms` and is not applied; over the session cap a connection is closed with
/// 4429. Rates are `PER_SECOND/BURST` or `off`.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Messages (`send`, `dm`) per second one user may send, over all their connections.
    #[arg(
        long,
        env = "CHATCORE_USER_MESSAGE_RATE",
        default_value = "10/50",
        value_name = "RATE"
    )]
    pub user_message_rate: RateFlag,

    /// Messages per second from one IP address, all its users together.
    #[arg(
        long,
        env = "CHATCORE_IP_MESSAGE_RATE",
        default_value = "100/300",
        value_name = "RATE"
    )]
    pub ip_message_rate: RateFlag,

    /// Joins per second one user may make (the burst covers rejoining every room at once).
    #[arg(
        long,
        env = "CHATCORE_USER_JOIN_RATE",
        default_value = "10/300",
        value_name = "RATE"
    )]
    pub user_join_rate: RateFlag,

    /// Joins per second from one IP address.
    #[arg(
        long,
        env = "CHATCORE_IP_JOIN_RATE",
        default_value = "100/1000",
        value_name = "RATE"
    )]
    pub ip_join_rate: RateFlag,

    /// Joins per second into one room, from everyone (join-flood protection).
    #[arg(
        long,
        env = "CHATCORE_ROOM_JOIN_RATE",
        default_value = "50/500",
        value_name = "RATE"
    )]
    pub room_join_rate: RateFlag,

    /// Sessions one IP address may have open at once, WebSocket and TCP together; further
    /// connections are closed with 4429. `off` for no cap (load tests from one address).
    #[arg(
        long,
        env = "CHATCORE_MAX_CONNECTIONS_PER_IP",
        default_value = "1000",
        value_name = "N"
    )]
    pub max_connections_per_ip: CapFlag,
}

impl LimitArgs {
    /// `limits` with these rates and the cap.
    pub fn apply(&self, limits: Limits) -> Result<Limits> {
        limits
            .with_message_rates(self.user_message_rate.0, self.ip_message_rate.0)
            .with_join_rates(
                self.user_join_rate.0,
                self.ip_join_rate.0,
                self.room_join_rate.0,
            )
            .with_max_connections_per_ip(self.max_connections_per_ip.0)
            .map_err(|e| StartupError::Config(format!("--max-connections-per-ip: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_with_and_without_a_burst() {
        let r = |s: &str| s.parse::<RateFlag>().map(|f| f.0);
        assert_eq!(r("10/50"), Ok(Rate::new(10, 50).ok()));
        assert_eq!(r("7"), Ok(Rate::new(7, 7).ok()));
        assert_eq!(r("OFF"), Ok(None));
        for bad in ["0/5", "5/0", "x", "1/2/3", "", "-1"] {
            assert!(r(bad).is_err(), "{bad}");
        }
        assert_eq!("off".parse::<CapFlag>().map(|c| c.0), Ok(None));
        assert!("0".parse::<CapFlag>().is_err());
    }

    #[test]
    fn the_flag_defaults_are_the_hub_defaults() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            limits: LimitArgs,
        }
        let cli = Cli::try_parse_from(["x"]).expect("defaults parse");
        assert_eq!(
            cli.limits.apply(Limits::default()).expect("valid"),
            Limits::default()
        );
    }
}
