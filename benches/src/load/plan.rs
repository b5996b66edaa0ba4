//! [`Plan`]: the validated settings of one run, from the flags ([`Args`]) over a scenario's
//! preset.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::load::args::{Args, CodecArg, Scenario, Target, Transport};
use crate::load::payload;
use crate::load::scenario::preset;

/// Most connections one process opens: the 20,000 open-file limit minus headroom.
pub const MAX_CONNECTIONS_PER_PROCESS: usize = 19_900;

/// The validated settings of one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan {
    /// Server address.
    pub server: SocketAddr,
    /// Server kind.
    pub target: Target,
    /// How chatcore is reached.
    pub transport: Transport,
    /// Preset used, if any.
    pub scenario: Option<Scenario>,
    /// Connections to open.
    pub connections: usize,
    /// Rooms.
    pub rooms: usize,
    /// Publishing connections.
    pub publishers: usize,
    /// Messages/s per publisher; `None`: paced by acks.
    pub rate: Option<f64>,
    /// Sends in flight per publisher (ack-paced mode, and the cap in fixed-rate mode).
    pub window: usize,
    /// Message text size.
    pub payload: usize,
    /// Fraction of publisher ticks that are changes (edit, react, unreact).
    pub changes: f64,
    /// How often every connection sends a `read`; `None`: never.
    #[serde(serialize_with = "opt_secs")]
    pub read_every: Option<Duration>,
    /// Whether the reads (members' and publishers') carry a request id and are answered.
    pub read_answered: bool,
    /// Codec.
    pub codec: CodecArg,
    /// Publishing (or holding) time.
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// Connections per second during ramp-up; `None`: unpaced.
    pub ramp_rate: Option<f64>,
    /// Concurrent handshakes.
    pub handshakes: usize,
    /// Source addresses, used in turn (none: the kernel picks).
    pub bind: Vec<IpAddr>,
    /// Server process to observe.
    pub server_pid: Option<u32>,
    /// User name prefix.
    pub user_prefix: String,
    /// Room name prefix.
    pub room_prefix: String,
    /// Free-form label.
    pub label: String,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn opt_secs<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// A name prefix: 1 to `max` characters of `[A-Za-z0-9_-]`.
fn check_prefix(flag: &str, prefix: &str, max: usize) -> Result<(), String> {
    let bad = |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_';
    if prefix.is_empty() || prefix.len() > max || prefix.chars().any(bad) {
        return Err(format!(
            "{flag} must be 1-{max} characters of [A-Za-z0-9_-]"
        ));
    }
    Ok(())
}

impl Plan {
    /// Applies the preset, then the explicit flags, and checks the result.
    pub fn from_args(args: &Args) -> Result<Plan, String> {
        let p = preset(args.scenario);
        let read_every = args.read_every.unwrap_or(p.read_every);
        if !read_every.is_finite() || read_every < 0.0 {
            return Err("--read-every must be 0 (never) or a positive number of seconds".into());
        }
        let plan = Plan {
            server: args.server,
            target: args.target,
            transport: args.transport,
            scenario: args.scenario,
            connections: args.connections.unwrap_or(p.connections),
            rooms: args.rooms.unwrap_or(p.rooms),
            publishers: args.publishers.unwrap_or(p.publishers),
            rate: Some(args.rate.unwrap_or(p.rate)).filter(|r| *r > 0.0),
            window: args.window.unwrap_or(p.window),
            payload: args.payload.unwrap_or(p.payload),
            changes: args.changes.unwrap_or(p.changes),
            read_every: (read_every > 0.0).then(|| Duration::from_secs_f64(read_every)),
            read_answered: args.read_answered,
            codec: args.codec,
            duration: Duration::try_from_secs_f64(args.duration)
                .map_err(|_| "--duration must be a positive number of seconds".to_owned())?,
            ramp_rate: Some(args.ramp_rate).filter(|r| *r > 0.0),
            handshakes: args.handshakes,
            bind: args.bind.clone(),
            server_pid: args.server_pid,
            user_prefix: args.user_prefix.clone(),
            room_prefix: args.room_prefix.clone(),
            label: args.label.clone(),
        };
        if let Some(r) = args.rate {
            if !r.is_finite() || r < 0.0 {
                return Err("--rate must be 0 (ack-paced) or a positive number".into());
            }
        }
        if !args.ramp_rate.is_finite() || args.ramp_rate < 0.0 {
            return Err("--ramp-rate must be 0 (unpaced) or a positive number".into());
        }
        plan.validate()?;
        Ok(plan)
    }

    /// Checks the invariants (also of plans built in code).
    pub fn validate(&self) -> Result<(), String> {
        if !self.server.ip().is_loopback() {
            return Err(format!(
                "refusing non-loopback target {}: chat-load only loads servers on this machine",
                self.server
            ));
        }
        for &ip in &self.bind {
            if !ip.is_loopback() {
                return Err(format!("--bind {ip} is not a loopback address"));
            }
            if ip.is_ipv4() != self.server.is_ipv4() {
                return Err("--bind and --server must be the same IP version".into());
            }
        }
        if self.connections == 0 {
            return Err("--connections must be at least 1".into());
        }
        if self.connections > MAX_CONNECTIONS_PER_PROCESS {
            return Err(format!(
                "--connections {} exceeds {MAX_CONNECTIONS_PER_PROCESS} per process (20,000 open \
                 files); run several chat-load processes with distinct --user-prefix and --bind",
                self.connections
            ));
        }
        if self.rooms == 0 || self.rooms > self.connections {
            return Err("--rooms must be between 1 and --connections".into());
        }
        if self.publishers > self.connections {
            return Err("--publishers cannot exceed --connections".into());
        }
        if self.window == 0 {
            return Err("--window must be at least 1".into());
        }
        if self.handshakes == 0 {
            return Err("--handshakes must be at least 1".into());
        }
        if self.payload < payload::MIN_LEN || self.payload > 8192 {
            return Err(format!(
                "--payload must be between {} and 8192 bytes",
                payload::MIN_LEN
            ));
        }
        if !(0.0..=1.0).contains(&self.changes) {
            return Err("--changes must be a fraction from 0 to 1".into());
        }
        if self.target == Target::Baseline && (self.changes > 0.0 || self.read_every.is_some()) {
            return Err("--changes and --read-every need a chatcore target".into());
        }
        if self.target == Target::Baseline && self.transport == Transport::Tcp {
            return Err(
                "--transport tcp needs a chatcore target (baseline-server speaks WebSocket only)"
                    .into(),
            );
        }
        if self.duration.is_zero() {
            return Err("--duration must be greater than zero".into());
        }
        check_prefix("--user-prefix", &self.user_prefix, 20)?;
        check_prefix("--room-prefix", &self.room_prefix, 40)
    }

    /// User name of connection `i`.
    pub fn user(&self, i: usize) -> String {
        format!("{}{i}", self.user_prefix)
    }

    /// Source address of connection `i`, when `--bind` gave any.
    pub fn bind_of(&self, i: usize) -> Option<IpAddr> {
        (!self.bind.is_empty()).then(|| self.bind[i % self.bind.len()])
    }

    /// Room of connection `i`.
    pub fn room_of(&self, i: usize) -> String {
        format!("{}{}", self.room_prefix, i % self.rooms)
    }

    /// Deliveries per second the plan asks for when every publisher keeps its rate (members
    /// per room x messages/s), `None` when ack-paced.
    pub fn offered_deliveries_per_s(&self) -> Option<f64> {
        let rate = self.rate?;
        let per_room = self.connections as f64 / self.rooms as f64;
        Some(self.publishers as f64 * rate * per_room)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use clap::Parser;

    fn plan(args: &[&str]) -> Result<Plan, String> {
        let argv = std::iter::once("chat-load").chain(args.iter().copied());
        Plan::from_args(&Args::try_parse_from(argv).map_err(|e| e.to_string())?)
    }

    #[test]
    fn command_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn non_loopback_targets_are_refused() {
        let err = plan(&["--server", "10.0.0.1:8080"]).expect_err("refused");
        assert!(err.contains("non-loopback"), "{err}");
        assert!(plan(&["--server", "192.168.1.2:80"]).is_err());
        assert!(plan(&["--server", "[::1]:8080"]).is_ok());
        assert!(plan(&["--server", "127.0.0.5:8080"]).is_ok());
        assert!(plan(&["--bind", "10.1.1.1"]).is_err());
        assert!(plan(&["--bind", "127.0.0.2"]).is_ok());
        assert!(plan(&["--bind", "::1"]).is_err(), "IP versions differ");
        assert!(
            plan(&["--bind", "127.0.0.2,10.1.1.1"]).is_err(),
            "every address is checked"
        );
        assert!(
            plan(&["--bind", "127.0.0.2,"]).is_err(),
            "an empty address is refused"
        );
    }

    #[test]
    fn connections_take_the_bind_addresses_in_turn() {
        let p = plan(&["--bind", "127.0.0.2,127.0.0.3"]).expect("plan");
        let ip = |s: &str| Some(s.parse::<IpAddr>().expect("address"));
        assert_eq!(p.bind_of(0), ip("127.0.0.2"));
        assert_eq!(p.bind_of(1), ip("127.0.0.3"));
        assert_eq!(p.bind_of(4), ip("127.0.0.2"));
        assert_eq!(plan(&[]).expect("plan").bind_of(3), None);
    }

    #[test]
    fn presets_and_overrides() {
        let p = plan(&["--scenario", "fanout"]).expect("plan");
        assert_eq!((p.connections, p.rooms, p.publishers), (1_000, 1, 1));
        assert_eq!(p.rate, None, "ack-paced");
        let p = plan(&["--scenario", "rooms"]).expect("plan");
        assert_eq!(p.offered_deliveries_per_s(), Some(10_000.0));
        let p = plan(&["--scenario", "latency", "--rate", "20"]).expect("plan");
        assert_eq!(p.offered_deliveries_per_s(), Some(20_000.0));
        let p = plan(&[
            "--scenario",
            "idle",
            "--connections",
            "500",
            "--rooms",
            "50",
        ])
        .expect("p");
        assert_eq!((p.connections, p.rooms, p.publishers), (500, 50, 0));
        let p = plan(&["--scenario", "small", "--connections", "100"]).expect("plan");
        assert_eq!(
            (p.connections, p.rooms, p.publishers, p.rate),
            (100, 1, 1, None)
        );
        let p = plan(&["--scenario", "acks"]).expect("plan");
        assert_eq!(p.offered_deliveries_per_s(), Some(2_000.0));
        let p = plan(&["--scenario", "storm"]).expect("plan");
        assert_eq!((p.connections, p.rooms, p.publishers), (5_000, 1, 0));
        let p = plan(&["--scenario", "rooms-changes"]).expect("plan");
        assert_eq!(p.offered_deliveries_per_s(), Some(10_000.0));
        assert_eq!((p.publishers, p.changes), (2_000, 0.1));
        assert_eq!(
            (p.read_every, p.read_answered),
            (Some(Duration::from_secs(1)), false)
        );
        let p = plan(&["--scenario", "rooms-changes", "--read-answered"]).expect("plan");
        assert!(p.read_answered);
        let p = plan(&["--scenario", "rooms-changes", "--read-every", "0"]).expect("plan");
        assert_eq!(p.read_every, None);
    }

    #[test]
    fn bad_values_are_refused() {
        for bad in [
            &["--connections", "0"][..],
            &["--connections", "20000"],
            &["--rooms", "0"],
            &["--connections", "5", "--rooms", "6"],
            &["--publishers", "101"],
            &["--payload", "5"],
            &["--payload", "9000"],
            &["--rate", "-1"],
            &["--window", "0"],
            &["--duration", "0"],
            &["--duration", "-3"],
            &["--user-prefix", "a:b"],
            &["--changes", "1.5"],
            &["--changes", "-0.1"],
            &["--read-every", "-1"],
            &["--target", "baseline", "--changes", "0.1"],
            &["--target", "baseline", "--transport", "tcp"],
            &["--transport", "quic"],
        ] {
            assert!(plan(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_spread_round_robin() {
        let p = plan(&["--connections", "10", "--rooms", "3"]).expect("plan");
        assert_eq!(p.user(7), "load7");
        assert_eq!(p.room_of(0), "lr0");
        assert_eq!(p.room_of(4), "lr1");
    }
}
