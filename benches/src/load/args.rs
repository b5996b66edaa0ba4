//! The flags of `chat-load` ([`Args`]) and the values some of them take; [`Plan`](crate::load::plan::Plan)
//! turns them into the validated settings of one run.

use std::net::{IpAddr, SocketAddr};

use clap::{Parser, ValueEnum};

pub use crate::load::scenario::Scenario;

/// Flags of `chat-load`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "chat-load",
    version,
    about = "End-to-end load generator for chatcore (and the baseline-server it is compared with).",
    long_about = "End-to-end load generator for chatcore and for the baseline-server it is \
                  compared with.\n\n\
                  It opens --connections WebSocket connections (or, with --transport tcp, \
                  connections to chatcore's TCP transport; ramp-up paced by --ramp-rate), \
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

    /// How chatcore is reached: `ws` (WebSocket, at --server) or `tcp` (chatcore's TCP
    /// transport, at --server: chat-server's --tcp-listen address). chatcore only.
    #[arg(long, value_enum, default_value_t = Transport::Ws)]
    pub transport: Transport,

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

    /// Send each `read` with a request id, so that the server answers every one (publishers
    /// then wait for the answer). Without it the reads are fire-and-forget (no id, no
    /// answer), as a client that clears its own badge sends them.
    #[arg(long)]
    pub read_answered: bool,

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

    /// Local (source) addresses for the connections, comma separated (loopback only):
    /// connection i uses the (i mod n)-th. Binding makes the kernel search a free port per
    /// connection, slow beyond ~10,000 connections per address; so is connecting from one
    /// address without binding past ~14,000 (the kernel prefers half the port range for
    /// connect). Spread more connections over more addresses: 127.0.0.1,127.0.0.2,…
    #[arg(long, value_delimiter = ',')]
    pub bind: Vec<IpAddr>,

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

/// How the connections reach a chatcore server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    /// WebSocket.
    Ws,
    /// chatcore's TCP transport (length-prefixed frames after a hello).
    Tcp,
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
