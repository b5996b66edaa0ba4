//! The flags of `chat-load`, the scenario presets, and [`Plan`]: the validated settings of
//! one run.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::load::payload;
pub use crate::load::scenario::Scenario;
use crate::load::scenario::preset;

/// Flags of `chat-load`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "chat-load",
    version,
    about = "End-to-end load generator for chatcore (and the baseline-server it is compared with).",
    long_about = "End-to-end load generator for chatcore and for the baseline-server it is \
                  compared with.\n\n\
                  It opens --connections WebSocket connections (ramp-up paced by --ramp-rate), \
                  joins them round-robin to --rooms rooms, then lets the first --publishers \
                  connections publish --payload-byte messages for --duration, either at --rate \
                  messages/s each or, with --rate 0, as fast as acks allow (--window sends in \
                  flight). Every message carries its send time; every member that receives it \
                  records the end-to-end latency in an HDR histogram. At the end it prints \
                  deliveries/s, acks/s, connect rate, errors, disconnects, latency percentiles, \
                  its own CPU and, with --server-pid, the server's CPU and memory.\n\n\
                  Scenarios (explicit flags override the preset):\n  \
                  fanout   1 room x 1,000 members, 1 publisher as fast as acks allow (window 4), 100 B\n  \
                  rooms    1,000 rooms x 10 members, 10% publish 1 msg/s each (10,000 deliveries/s)\n  \
                  rooms-changes  rooms with 2 publishers per room at 0.5/s, 10% of their events \
                  edits/reactions, a read from every connection each second\n  \
                  idle     19,000 connections in 1,900 rooms, nobody publishes: connect rate, memory\n  \
                  latency  1 room x 1,000 members, 1 publisher at 10 msg/s (10,000 deliveries/s)\n  \
                  small    1 room x 10 members, 1 publisher as fast as acks allow (window 4): per-message cost\n  \
                  acks     100 rooms x 10 members, 1 publisher per room at 2 msg/s: send -> ack latency\n  \
                  storm    5,000 connections joining 1 room, nobody publishes: time to fill, memory\n\n\
                  Only loopback targets are accepted. One process holds at most ~19,900 \
                  connections (20,000 open files); combine processes with distinct \
                  --user-prefix and --bind 127.0.0.2, 127.0.0.3, … to go further. chatcore \
                  rate-limits 30 frames/s per connection by default: start chat-server with \
                  --frames-per-second 100000 (and --max-connections 20000 for idle), and \
                  turn the per-user, per-IP and per-room limits off: --user-message-rate off \
                  --ip-message-rate off --user-join-rate off --ip-join-rate off \
                  --room-join-rate off --max-connections-per-ip off."
)]
pub struct Args {
    /// Server address (loopback only).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub server: SocketAddr,

    /// What the server is: `chatcore` (chat-server or anything embedding
    /// chatcore-transport-ws) or `baseline` (baseline-server: text in, broadcast out).
    #[arg(long, value_enum, default_value_t = Target::Chatcore)]
    pub target: Target,

    /// Preset to start from; the other flags override its values.
    #[arg(long, value_enum)]
    pub scenario: Option<Scenario>,

    /// Connections to open (publishers included). Default: 100, or the scenario's.
    #[arg(long)]
    pub connections: Option<usize>,

    /// Rooms; connection i joins room i mod rooms. Default: 10, or the scenario's.
    #[arg(long)]
    pub rooms: Option<usize>,

    /// Connections that publish (the first P, so publisher j is in room j mod rooms).
    /// Default: 10, or the scenario's.
    #[arg(long)]
    pub publishers: Option<usize>,

    /// Messages per second per publisher; 0 = as fast as acks allow. Default: 1, or the
    /// scenario's.
    #[arg(long)]
    pub rate: Option<f64>,

    /// Sends a publisher keeps in flight when --rate is 0 (the next leaves when an ack
    /// returns; on the baseline the "ack" is the publisher's own echo). Default: 4.
    #[arg(long)]
    pub window: Option<usize>,

    /// Message text size in bytes (at least 28: the timestamp and publisher id). Default: 100.
    #[arg(long)]
    pub payload: Option<usize>,

    /// Fraction (0 to 1) of a publisher's ticks that change a recent message instead of
    /// sending one: in turn a `react`, an `edit` of an own message and an `unreact`
    /// (chatcore only). Default: 0, or the scenario's.
    #[arg(long)]
    pub changes: Option<f64>,

    /// Every connection sends a `read` of the newest seq it saw this often, in seconds
    /// (chatcore only); 0 = never. Default: 0, or the scenario's.
    #[arg(long)]
    pub read_every: Option<f64>,

    /// Wire codec (chatcore only).
    #[arg(long, value_enum, default_value_t = CodecArg::Json)]
    pub codec: CodecArg,

    /// How long publishers publish (or, with no publishers, how long connections are held),
    /// in seconds (fractions allowed).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,

    /// Connections opened per second during ramp-up; 0 = as fast as --handshakes allows.
    #[arg(long, default_value_t = 0.0)]
    pub ramp_rate: f64,

    /// Handshakes in progress at once during ramp-up.
    #[arg(long, default_value_t = 64)]
    pub handshakes: usize,

    /// Local (source) address for the connections, e.g. 127.0.0.2, to spread several load
    /// processes over more source ports (loopback only). Binding makes the kernel search a
    /// free port per connection: slow beyond ~10,000 connections per address.
    #[arg(long)]
    pub bind: Option<IpAddr>,

    /// Process id of the server: its CPU time and memory (/proc/PID) are reported, and CPU per
    /// delivery is computed.
    #[arg(long)]
    pub server_pid: Option<u32>,

    /// Prefix of user names (`PREFIXi`); give each load process its own.
    #[arg(long, default_value = "load")]
    pub user_prefix: String,

    /// Prefix of room names (`PREFIXi`); processes sharing a prefix share rooms.
    #[arg(long, default_value = "lr")]
    pub room_prefix: String,

    /// Print the summary as one JSON object on stdout instead of a table.
    #[arg(long)]
    pub json: bool,

    /// Label copied into the summary (e.g. `chatcore-sqlite`), for scripts.
    #[arg(long, default_value = "")]
    pub label: String,
}

/// The server under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// chatcore's protocol (PROTOCOL.md).
    Chatcore,
    /// baseline-server: every text frame is broadcast to the connections of the same room.
    Baseline,
}

/// The wire codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CodecArg {
    /// JSON text frames.
    Json,
    /// MessagePack binary frames.
    Msgpack,
}

impl CodecArg {
    /// The chatcore codec.
    pub fn codec(self) -> chatcore::protocol::Codec {
        match self {
            CodecArg::Json => chatcore::protocol::Codec::Json,
            CodecArg::Msgpack => chatcore::protocol::Codec::MsgPack,
        }
    }
}

/// Most connections one process opens: the 20,000 open-file limit minus headroom.
pub const MAX_CONNECTIONS_PER_PROCESS: usize = 19_900;

/// The validated settings of one run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan {
    /// Server address.
    pub server: SocketAddr,
    /// Server kind.
    pub target: Target,
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
    /// Codec.
    pub codec: CodecArg,
    /// Publishing (or holding) time.
    #[serde(serialize_with = "secs")]
    pub duration: Duration,
    /// Connections per second during ramp-up; `None`: unpaced.
    pub ramp_rate: Option<f64>,
    /// Concurrent handshakes.
    pub handshakes: usize,
    /// Source address.
    pub bind: Option<IpAddr>,
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
            scenario: args.scenario,
            connections: args.connections.unwrap_or(p.connections),
            rooms: args.rooms.unwrap_or(p.rooms),
            publishers: args.publishers.unwrap_or(p.publishers),
            rate: Some(args.rate.unwrap_or(p.rate)).filter(|r| *r > 0.0),
            window: args.window.unwrap_or(p.window),
            payload: args.payload.unwrap_or(p.payload),
            changes: args.changes.unwrap_or(p.changes),
            read_every: (read_every > 0.0).then(|| Duration::from_secs_f64(read_every)),
            codec: args.codec,
            duration: Duration::try_from_secs_f64(args.duration)
                .map_err(|_| "--duration must be a positive number of seconds".to_owned())?,
            ramp_rate: Some(args.ramp_rate).filter(|r| *r > 0.0),
            handshakes: args.handshakes,
            bind: args.bind,
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
        if let Some(ip) = self.bind {
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
        if self.duration.is_zero() {
            return Err("--duration must be greater than zero".into());
        }
        if self.user_prefix.is_empty()
            || self.user_prefix.len() > 20
            || self
                .user_prefix
                .chars()
                .any(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
        {
            return Err("--user-prefix must be 1-20 characters of [A-Za-z0-9_-]".into());
        }
        if self.room_prefix.is_empty()
            || self.room_prefix.len() > 40
            || self
                .room_prefix
                .chars()
                .any(|c| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
        {
            return Err("--room-prefix must be 1-40 characters of [A-Za-z0-9_-]".into());
        }
        Ok(())
    }

    /// User name of connection `i`.
    pub fn user(&self, i: usize) -> String {
        format!("{}{i}", self.user_prefix)
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
        assert_eq!(p.read_every, Some(Duration::from_secs(1)));
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
