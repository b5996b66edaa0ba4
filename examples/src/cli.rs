//! The command line of `chat-server`: every setting is a flag with a `CHATCORE_…` environment
//! twin, and `--help` explains each.

use std::net::SocketAddr;
use std::path::PathBuf;

use chatcore_transport_ws::Registration;
use clap::builder::BoolishValueParser;
use clap::{Parser, Subcommand, ValueEnum};

/// The store `chat-server` uses when `--store` is not given: a SQLite file in the working
/// directory, so a first run keeps its history without any set-up.
pub const DEFAULT_STORE: &str = "sqlite://chatcore.db";

/// Flags of `chat-server`.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "chat-server",
    version,
    about = "A complete chat server: WebSocket protocol, REST API and the browser client at /.",
    long_about = "A complete chat server built from the chatcore crates: the WebSocket protocol \
                  (see PROTOCOL.md), a small REST API, health and metrics endpoints, and the \
                  browser client at /.\n\n\
                  With no arguments it listens on 127.0.0.1:8080, keeps rooms and messages in \
                  ./chatcore.db and lets anyone on this machine pick a name. Every flag has an \
                  environment variable twin (shown as [env: …])."
)]
pub struct ServerArgs {
    /// Address and port to listen on. On a loopback address (127.0.0.1, ::1) guests are let in
    /// by default; on any other address the server refuses to start unless --jwt-secret or
    /// --allow-guests says who may connect. Port 0 picks a free port.
    #[arg(long, env = "CHATCORE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Also accept chatcore's TCP transport (length-prefixed frames, see PROTOCOL.md) on this
    /// address, beside the WebSocket listener and on the same hub: TCP and WebSocket users
    /// chat in the same rooms. Clients connect with `chat-cli --server tcp://ADDR`. Guests are
    /// let in by default only when both addresses are loopback.
    #[arg(long, env = "CHATCORE_TCP_LISTEN", value_name = "ADDR")]
    pub tcp_listen: Option<SocketAddr>,

    /// Where rooms and messages are stored, as a URL: `sqlite://PATH` (a file, created when
    /// missing; `sqlite:///abs/path.db` for an absolute path), `memory://` (in memory, lost on
    /// exit), or `postgres://USER:PASSWORD@HOST/DB[?schema=NAME]` (needs the `postgres`
    /// cargo feature; `schema` picks the PostgreSQL schema, `public` by default). Several
    /// nodes must share one PostgreSQL store.
    #[arg(long, env = "CHATCORE_STORE", default_value = DEFAULT_STORE, global = true)]
    pub store: String,

    /// How this node reaches other nodes: `local` (a single server), or
    /// `redis://[:PASSWORD@]HOST:PORT[/DB]` for several nodes behind a load balancer, all on
    /// one PostgreSQL store (needs the `redis` cargo feature; `redis-cluster://HOST:PORT`
    /// uses sharded pub/sub on Redis Cluster 7+).
    #[arg(long, env = "CHATCORE_BUS", default_value = "local")]
    pub bus: String,

    /// Prefix of the bus's Redis channels, the same on every node of one deployment, so
    /// several deployments (or tests) can share one Redis.
    #[arg(long, env = "CHATCORE_BUS_PREFIX", default_value = "chatcore:")]
    pub bus_prefix: String,

    /// This node's name on the bus, unique among the nodes sharing one Redis; shown in logs.
    /// Default: HOSTNAME-PID.
    #[arg(long, env = "CHATCORE_NODE_ID")]
    pub node_id: Option<String>,

    /// Secret that signs and verifies session tokens (HS256 JWT), at least 32 bytes; generate
    /// one with `openssl rand -hex 32`. With it, clients present a token (`?token=` or an
    /// `Authorization: Bearer` header); guests are refused unless --allow-guests is given.
    #[arg(long, env = "CHATCORE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// JSON Web Key Set file of an identity provider (`{"keys":[…]}`, as served at its
    /// `jwks_uri`): tokens it signed (RS256, ES256 or EdDSA) are accepted, without a shared
    /// secret. Enough to listen on a public address without --jwt-secret. Read at start-up.
    #[arg(long, env = "CHATCORE_JWKS_FILE", value_name = "FILE")]
    pub jwks_file: Option<PathBuf>,

    /// Accepted `aud` claims of tokens, comma separated; unset: `aud` is not checked.
    #[arg(
        long,
        env = "CHATCORE_JWT_AUDIENCE",
        value_delimiter = ',',
        value_name = "AUD"
    )]
    pub jwt_audience: Vec<String>,

    /// Accepted `iss` claims of tokens, comma separated; unset: `iss` is not checked.
    #[arg(
        long,
        env = "CHATCORE_JWT_ISSUER",
        value_delimiter = ',',
        value_name = "ISS"
    )]
    pub jwt_issuer: Vec<String>,

    /// Let guests in: anyone may connect under any free-form name without a password.
    /// Default: on when listening on a loopback address, off otherwise. `--allow-guests=false`
    /// turns it off on loopback too (then --jwt-secret is required).
    #[arg(
        long,
        env = "CHATCORE_ALLOW_GUESTS",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_parser = BoolishValueParser::new(),
        value_name = "BOOL"
    )]
    pub allow_guests: Option<bool>,

    /// Messages sent to a client when it joins a room without a resume point (0 to 1000).
    /// Older ones are fetched on demand as the client scrolls back.
    #[arg(long, env = "CHATCORE_HISTORY_ON_JOIN", default_value_t = 50)]
    pub history_on_join: u32,

    /// Users online in a room up to which every join and leave is announced to every member;
    /// past it members get a coalesced count instead (PROTOCOL.md, "Presence in large rooms").
    #[arg(long, env = "CHATCORE_PRESENCE_ANNOUNCE_LIMIT", default_value_t = 200)]
    pub presence_announce_limit: usize,

    /// Seconds between a node's presence renewals for each room with members on it. Every
    /// renewal is one bus event per room per node: a large fleet raises it to spare Redis
    /// (SCALING.md), at the cost of slower detection of a dead node.
    #[arg(
        long,
        env = "CHATCORE_PRESENCE_HEARTBEAT",
        default_value_t = 2,
        value_name = "SECONDS"
    )]
    pub presence_heartbeat: u64,

    /// Seconds a presence renewal stays valid: a dead node's users leave everyone's presence
    /// between `lease - heartbeat` and `lease` (plus at most 250 ms) after it died. At least
    /// twice --presence-heartbeat.
    #[arg(
        long,
        env = "CHATCORE_PRESENCE_LEASE",
        default_value_t = 7,
        value_name = "SECONDS"
    )]
    pub presence_lease: u64,

    /// Largest message text accepted, in UTF-8 bytes. Larger sends get a `too_large` error.
    #[arg(long, env = "CHATCORE_MAX_MESSAGE_BYTES", default_value_t = 8192)]
    pub max_message_bytes: usize,

    /// Open WebSocket connections at most; further handshakes get HTTP 503. With --tcp-listen
    /// the TCP transport has a cap of its own of the same size (further connections get close
    /// 1013). Each connection also holds a file descriptor, so `ulimit -n` must be higher.
    #[arg(long, env = "CHATCORE_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Sustained frames per second one connection may send (bursts of 100, or of this rate
    /// when higher). Raise it for load tests (`chat-load`); frames over it get `rate_limited`.
    #[arg(long, env = "CHATCORE_FRAMES_PER_SECOND", default_value_t = 30)]
    pub frames_per_second: u32,

    /// The URLs people open to reach this server (`https://chat.example.com`), comma
    /// separated. The server answers only to loopback names, IP addresses and the host names
    /// of these URLs: any other `Host` is refused (HTTP 421), so a web page cannot point a
    /// name of its own at the server (DNS rebinding) and use it in a visitor's name.
    #[arg(
        long,
        env = "CHATCORE_PUBLIC_URL",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub public_url: Vec<String>,

    /// Seconds a connection may take to finish its TLS handshake and each HTTP request head
    /// (and, over --tcp-listen, its hello); slower or silent connections are closed. Each peer
    /// IP may have 64 unfinished handshakes, the server 1,024.
    #[arg(
        long,
        env = "CHATCORE_HANDSHAKE_TIMEOUT",
        default_value_t = 10,
        value_name = "SECS"
    )]
    pub handshake_timeout: u64,

    /// PEM file of the certificate chain (the server's certificate first) to serve HTTPS and
    /// `wss://` with; needs --tls-key. Without both, the server speaks plain HTTP (put a
    /// TLS-terminating proxy in front of it for anything but loopback).
    #[arg(long, env = "CHATCORE_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// PEM file of the private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "CHATCORE_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Turn accounts on (`POST /api/register`, `/api/login`, … in PROTOCOL.md) and say who
    /// may register: `open` (anyone), `invite` (with a single-use code an admin issues at
    /// `POST /api/invites`) or `closed` (accounts only from `chat-server admin create`).
    /// Unset: no accounts; people connect as before (guests, or tokens of --jwt-secret or an
    /// identity provider, which keep working with accounts on too). With accounts on, guests
    /// can never use a registered name.
    #[arg(long, env = "CHATCORE_REGISTRATION", value_name = "POLICY")]
    pub registration: Option<Registration>,

    /// argon2id memory cost of password hashes, in KiB (OWASP's choice: 19 MiB). Each login
    /// takes this much memory while it is checked; see BENCHMARKS.md for the time.
    #[arg(long, env = "CHATCORE_ARGON2_MEMORY_KIB", default_value_t = 19 * 1024, global = true)]
    pub argon2_memory_kib: u32,

    /// argon2id passes over that memory.
    #[arg(
        long,
        env = "CHATCORE_ARGON2_ITERATIONS",
        default_value_t = 2,
        global = true
    )]
    pub argon2_iterations: u32,

    /// argon2id lanes.
    #[arg(
        long,
        env = "CHATCORE_ARGON2_LANES",
        default_value_t = 1,
        global = true
    )]
    pub argon2_lanes: u32,

    /// Lifetime of access tokens (the JWTs clients connect with), in seconds.
    #[arg(
        long,
        env = "CHATCORE_ACCESS_TOKEN_TTL",
        default_value_t = 900,
        value_name = "SECS"
    )]
    pub access_token_ttl: u64,

    /// Lifetime of refresh tokens, in seconds (default 30 days).
    #[arg(long, env = "CHATCORE_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600, value_name = "SECS")]
    pub refresh_token_ttl: u64,

    /// Login and registration attempts per minute from one client IP (also the burst); more
    /// get `rate_limited` with `retry_after`.
    #[arg(long, env = "CHATCORE_LOGIN_ATTEMPTS_PER_IP", default_value_t = 10)]
    pub login_attempts_per_ip: u32,

    /// Login attempts per minute for one account, from anywhere (also the burst).
    #[arg(long, env = "CHATCORE_LOGIN_ATTEMPTS_PER_ACCOUNT", default_value_t = 5)]
    pub login_attempts_per_account: u32,

    /// `POST /api/refresh` calls per minute from one client IP (also the burst); more get
    /// `rate_limited` with `retry_after`.
    #[arg(long, env = "CHATCORE_REFRESHES_PER_IP", default_value_t = 60)]
    pub refreshes_per_ip: u32,

    /// Message and join rates, sessions per IP address.
    #[command(flatten)]
    pub limits: crate::limits::LimitArgs,

    /// A maintenance command instead of serving (`chat-server admin --help`).
    #[command(subcommand)]
    pub command: Option<ServerCommand>,

    /// What to log, as a tracing filter: a level (`error`, `warn`, `info`, `debug`, `trace`)
    /// or per-crate directives such as `info,chatcore=debug`.
    #[arg(long, env = "CHATCORE_LOG", default_value = "info")]
    pub log: String,

    /// Log line format: `text` for people, `json` for log collectors.
    #[arg(long, env = "CHATCORE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Commands that act on the store and exit.
#[derive(Debug, Clone, Subcommand)]
pub enum ServerCommand {
    /// Server admins: create the first one, grant or revoke the role, delete an account. Acts
    /// on the database of --store directly (the server may be running).
    Admin {
        /// What to do.
        #[command(subcommand)]
        action: AdminAction,
    },
}

/// `chat-server admin …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminAction {
    /// Create an admin account; its password is the first line of standard input
    /// (`printf '%s\n' "$PASSWORD" | chat-server admin create ann`).
    Create {
        /// The account name.
        name: String,
    },
    /// Make an existing account a server admin (signs its sessions out, so the next login's
    /// token carries the role).
    Grant {
        /// The account name (any case).
        name: String,
    },
    /// Take the admin role away (signs its sessions out).
    Revoke {
        /// The account name (any case).
        name: String,
    },
    /// Delete an account and its sessions.
    Delete {
        /// The account name (any case).
        name: String,
    },
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> ServerArgs {
        let argv = std::iter::once("chat-server").chain(args.iter().copied());
        ServerArgs::try_parse_from(argv).expect("valid flags")
    }

    #[test]
    fn command_is_well_formed() {
        ServerArgs::command().debug_assert();
    }

    #[test]
    fn allow_guests_is_tri_state() {
        // Env twins would leak into this test if set in the environment running it; these
        // flags are given explicitly, so only the absent case could be affected.
        assert_eq!(parse(&["--allow-guests"]).allow_guests, Some(true));
        assert_eq!(parse(&["--allow-guests=false"]).allow_guests, Some(false));
        assert_eq!(parse(&["--allow-guests=yes"]).allow_guests, Some(true));
    }

    #[test]
    fn registration_and_admin_commands_parse() {
        assert_eq!(
            parse(&["--registration=invite"]).registration,
            Some(Registration::Invite)
        );
        assert!(parse(&[]).registration.is_none());
        let argv = ["chat-server", "--registration=bogus"];
        assert!(ServerArgs::try_parse_from(argv).is_err());
        let a = parse(&["admin", "grant", "ann", "--store=memory://"]);
        assert_eq!(a.store, "memory://");
        assert!(matches!(
            a.command,
            Some(ServerCommand::Admin { action: AdminAction::Grant { name } }) if name == "ann"
        ));
    }

    #[test]
    fn help_names_every_env_twin() {
        let help = ServerArgs::command().render_long_help().to_string();
        for env in [
            "CHATCORE_LISTEN",
            "CHATCORE_TCP_LISTEN",
            "CHATCORE_STORE",
            "CHATCORE_BUS",
            "CHATCORE_NODE_ID",
            "CHATCORE_BUS_PREFIX",
            "CHATCORE_JWT_SECRET",
            "CHATCORE_ALLOW_GUESTS",
            "CHATCORE_HISTORY_ON_JOIN",
            "CHATCORE_MAX_MESSAGE_BYTES",
            "CHATCORE_MAX_CONNECTIONS",
            "CHATCORE_FRAMES_PER_SECOND",
            "CHATCORE_TLS_CERT",
            "CHATCORE_PUBLIC_URL",
            "CHATCORE_JWKS_FILE",
            "CHATCORE_JWT_AUDIENCE",
            "CHATCORE_JWT_ISSUER",
            "CHATCORE_HANDSHAKE_TIMEOUT",
            "CHATCORE_TLS_KEY",
            "CHATCORE_LOG",
            "CHATCORE_LOG_FORMAT",
            "CHATCORE_REGISTRATION",
            "CHATCORE_ARGON2_MEMORY_KIB",
            "CHATCORE_ACCESS_TOKEN_TTL",
            "CHATCORE_LOGIN_ATTEMPTS_PER_IP",
        ] {
            assert!(help.contains(env), "--help lacks {env}");
        }
    }
}
