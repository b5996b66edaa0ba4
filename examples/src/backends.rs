//! Choosing backends at run time by URL: `--store sqlite://…|memory://|postgres://…` and
//! `--bus local|redis://…`. Which schemes work depends on the cargo features the binary was
//! built with; a scheme whose feature is off gets an error saying how to rebuild.

use std::path::PathBuf;
use std::sync::Arc;

use chatcore::accounts::{Accounts, MemoryAccounts};
use chatcore::bus::Bus;
use chatcore::store::{MemoryStore, Store};

use crate::bus_metrics::BusMetrics;
use crate::error::{Result, StartupError};

/// A parsed `--store` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `memory://`: everything in memory, gone on exit.
    Memory,
    /// `sqlite://PATH`: a SQLite file (relative paths are relative to the working directory).
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`: the full connection URL.
    Postgres(String),
}

impl StoreUrl {
    /// Parses a `--store` value.
    pub fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(StartupError::Config(format!(
                "--store {url:?} is not a URL; use sqlite://{url} for a SQLite file, memory:// \
                 for an in-memory store or postgres://USER:PASSWORD@HOST/DB"
            )));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "memory" | "mem" => Ok(StoreUrl::Memory),
            "sqlite" => {
                let path = rest.strip_prefix("//").unwrap_or(rest);
                if path.is_empty() {
                    return Err(StartupError::Config(
                        "--store sqlite:// needs a file path, e.g. sqlite://chatcore.db or \
                         sqlite:///var/lib/chatcore/chat.db"
                            .into(),
                    ));
                }
                Ok(StoreUrl::Sqlite(PathBuf::from(path)))
            }
            "postgres" | "postgresql" => Ok(StoreUrl::Postgres(url.to_owned())),
            other => Err(StartupError::Config(format!(
                "--store: unknown scheme {other:?} in {}; use sqlite://PATH, memory:// or \
                 postgres://USER:PASSWORD@HOST/DB",
                redact(url)
            ))),
        }
    }

    /// The URL for logs, with any password replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            StoreUrl::Memory => "memory://".into(),
            StoreUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            StoreUrl::Postgres(url) => redact(url),
        }
    }

    /// Opens (and for SQLite creates) the store. Fails with a one-line explanation when the
    /// backend is not compiled in or the database cannot be reached.
    pub async fn open(&self) -> Result<Arc<dyn Store>> {
        self.open_with_accounts().await.map(|opened| opened.store)
    }

    /// Opens the store and the accounts kept in the same database.
    pub async fn open_with_accounts(&self) -> Result<OpenedStore> {
        match self {
            StoreUrl::Memory => Ok(OpenedStore {
                store: Arc::new(MemoryStore::new()),
                accounts: Arc::new(MemoryAccounts::new()),
            }),
            StoreUrl::Sqlite(path) => open_sqlite(path).await,
            StoreUrl::Postgres(url) => open_postgres(url).await,
        }
    }
}

/// A store and the accounts in its database.
#[derive(Clone)]
pub struct OpenedStore {
    /// Rooms and messages.
    pub store: Arc<dyn Store>,
    /// Accounts, sessions and invites.
    pub accounts: Arc<dyn Accounts>,
}

impl std::fmt::Debug for OpenedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedStore").finish_non_exhaustive()
    }
}

#[cfg(feature = "sqlite")]
async fn open_sqlite(path: &std::path::Path) -> Result<OpenedStore> {
    crate::sqlite::open(path).await
}

#[cfg(not(feature = "sqlite"))]
async fn open_sqlite(path: &std::path::Path) -> Result<OpenedStore> {
    Err(StartupError::Config(format!(
        "--store sqlite://{}: this chat-server was built without the `sqlite` feature; rebuild \
         with `--features sqlite` or use --store memory://",
        path.display()
    )))
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str) -> Result<OpenedStore> {
    crate::postgres::open(url).await
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(url: &str) -> Result<OpenedStore> {
    Err(StartupError::Config(format!(
        "--store {}: this chat-server was built without the `postgres` feature; rebuild with \
         `cargo run --features postgres --bin chat-server`",
        redact(url)
    )))
}

/// A parsed `--bus` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusUrl {
    /// `local`: the in-process bus of a single server.
    Local,
    /// `redis://[:PASSWORD@]HOST[:PORT][/DB]`, or `redis-cluster://HOST:PORT?node=HOST:PORT…`
    /// (Redis Cluster, with sharded pub/sub), or `redis-sentinel://…`: the full URL.
    Redis(String),
}

impl BusUrl {
    /// Parses a `--bus` value.
    pub fn parse(value: &str) -> Result<Self> {
        let value = value.trim();
        let scheme = value.split_once(':').map_or(value, |(s, _)| s);
        match scheme.to_ascii_lowercase().as_str() {
            "local" => Ok(BusUrl::Local),
            "redis" | "redis-cluster" | "redis-sentinel" => {
                let host = value
                    .split_once("://")
                    .map(|(_, rest)| rest.rsplit('@').next().unwrap_or(rest))
                    .unwrap_or("");
                if host.is_empty() || host.starts_with(['/', '?']) {
                    return Err(StartupError::Config(format!(
                        "--bus {}: no host; use redis://HOST:PORT, e.g. redis://127.0.0.1:6379",
                        redact(value)
                    )));
                }
                Ok(BusUrl::Redis(value.to_owned()))
            }
            "rediss" | "rediss-cluster" | "rediss-sentinel" => Err(StartupError::Config(format!(
                "--bus {}: TLS to Redis is not supported by this build; use redis:// on a \
                 private network or through a TLS tunnel",
                redact(value)
            ))),
            _ => Err(StartupError::Config(format!(
                "--bus {:?} is not a known bus; use `local` for a single server or \
                 redis://HOST:PORT for several",
                redact(value)
            ))),
        }
    }

    /// The value for logs, with any password replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            BusUrl::Local => "local".into(),
            BusUrl::Redis(url) => redact(url),
        }
    }

    /// Opens the bus, known to other nodes as `node_id`, on channels named `prefix…`. Fails
    /// with a one-line explanation when the backend is not compiled in or Redis cannot be
    /// reached.
    pub async fn open(&self, node_id: &str, prefix: &str) -> Result<OpenedBus> {
        match self {
            BusUrl::Local => Ok(OpenedBus {
                bus: None,
                metrics: None,
            }),
            BusUrl::Redis(url) => open_redis(url, node_id, prefix).await,
        }
    }
}

/// What [`BusUrl::open`] gives the server.
#[derive(Clone)]
pub struct OpenedBus {
    /// The bus to build the hub with; `None` for the hub's own in-process bus.
    pub bus: Option<Arc<dyn Bus>>,
    /// The bus's own counters for `/metrics`, when it has any.
    pub metrics: Option<BusMetrics>,
}

impl std::fmt::Debug for OpenedBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedBus")
            .field(
                "node_id",
                &self.bus.as_ref().map(|b| b.node_id().to_owned()),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "redis")]
async fn open_redis(url: &str, node_id: &str, prefix: &str) -> Result<OpenedBus> {
    use chatcore_bus_redis::{RedisBus, RedisBusConfig};
    let config = RedisBusConfig::new(url)
        .with_node_id(node_id)
        .map_err(|e| StartupError::Config(format!("--node-id: {e}")))?
        .with_prefix(prefix)
        .with_sharded(url.to_ascii_lowercase().starts_with("redis-cluster:"));
    match RedisBus::connect(config).await {
        Ok(bus) => Ok(OpenedBus {
            metrics: Some(crate::bus_metrics::redis(bus.clone())),
            bus: Some(Arc::new(bus)),
        }),
        // Already one line naming the URL (password redacted) and what to check.
        Err(e @ chatcore_bus_redis::Error::Connect { .. }) => Err(StartupError::Bus(e.to_string())),
        Err(e) => Err(StartupError::Bus(format!("--bus {}: {e}", redact(url)))),
    }
}

#[cfg(not(feature = "redis"))]
async fn open_redis(url: &str, _node_id: &str, _prefix: &str) -> Result<OpenedBus> {
    Err(StartupError::Bus(format!(
        "--bus {}: this chat-server was built without the `redis` feature; rebuild with \
         `cargo run --features redis --bin chat-server` (add `postgres` to share one \
         PostgreSQL store), or run a single node with --bus local",
        redact(url)
    )))
}

/// The default `--node-id`: `HOSTNAME-PID`, readable in logs and unique among the processes
/// that run at one time (in a container the host name is the container's), or a random one
/// when the host name is unknown.
pub fn default_node_id() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("{host}-{}", std::process::id()),
        None => {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            format!("node-{}-{nanos:08x}", std::process::id())
        }
    }
}

/// `url` with the password of its user-info part (`user:password@`) replaced by `***`, for
/// logs and error messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_urls_parse() {
        assert_eq!(StoreUrl::parse("memory://").ok(), Some(StoreUrl::Memory));
        assert_eq!(
            StoreUrl::parse("sqlite://chatcore.db").ok(),
            Some(StoreUrl::Sqlite("chatcore.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("sqlite:///var/lib/c.db").ok(),
            Some(StoreUrl::Sqlite("/var/lib/c.db".into()))
        );
        assert_eq!(
            StoreUrl::parse("postgres://u:p@h/db").ok(),
            Some(StoreUrl::Postgres("postgres://u:p@h/db".into()))
        );
    }

    #[test]
    fn bad_store_urls_say_what_to_do() {
        for bad in ["chat.db", "mysql://h/db", "sqlite://"] {
            let msg = StoreUrl::parse(bad).expect_err(bad).to_string();
            assert!(msg.contains("sqlite://"), "{bad}: {msg}");
        }
        let msg = StoreUrl::parse("mysql://u:secret@h/db")
            .expect_err("mysql")
            .to_string();
        assert!(!msg.contains("secret"), "{msg}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://me:hunter2@db:5432/chat?sslmode=disable"),
            "postgres://me:***@db:5432/chat?sslmode=disable"
        );
        assert_eq!(redact("postgres://db/chat"), "postgres://db/chat");
        assert_eq!(redact("postgres://me@db/chat"), "postgres://me@db/chat");
    }

    #[test]
    fn buses_parse() {
        assert_eq!(BusUrl::parse("local").ok(), Some(BusUrl::Local));
        for url in [
            "redis://127.0.0.1:6379",
            "redis://:secret@redis:6379/2",
            "REDIS://h",
            "redis-cluster://h1:7000?node=h2:7001",
        ] {
            assert_eq!(
                BusUrl::parse(url).ok(),
                Some(BusUrl::Redis(url.into())),
                "{url}"
            );
        }
        assert_eq!(
            BusUrl::parse("redis://:secret@redis:6379")
                .map(|b| b.display())
                .ok(),
            Some("redis://:***@redis:6379".into())
        );
    }

    #[test]
    fn bad_buses_say_what_to_do() {
        for bad in [
            "kafka://x",
            "redis",
            "redis://",
            "redis:///0",
            "nats://u:secret@h",
        ] {
            let msg = BusUrl::parse(bad).expect_err(bad).to_string();
            assert!(msg.contains("redis://HOST:PORT"), "{bad}: {msg}");
            assert!(
                !msg.contains('\n') && !msg.contains("secret"),
                "{bad}: {msg}"
            );
        }
        let msg = BusUrl::parse("rediss://h:6380")
            .expect_err("tls")
            .to_string();
        assert!(msg.contains("TLS"), "{msg}");
    }

    #[test]
    fn default_node_ids_are_not_empty() {
        let id = default_node_id();
        assert!(!id.is_empty() && !id.contains(char::is_whitespace), "{id}");
        assert!(id.ends_with(&std::process::id().to_string()) || id.starts_with("node-"));
    }

    #[tokio::test]
    async fn local_bus_is_the_hub_default() {
        assert!(
            BusUrl::Local
                .open("n1", "p:")
                .await
                .expect("local")
                .bus
                .is_none()
        );
    }

    #[cfg(not(feature = "redis"))]
    #[tokio::test]
    async fn redis_without_the_feature_says_how_to_rebuild() {
        let bus = BusUrl::parse("redis://:secret@127.0.0.1:6379").expect("url");
        let Err(e) = bus.open("n1", "p:").await else {
            panic!("no redis feature");
        };
        let msg = e.to_string();
        assert!(
            msg.contains("--features redis") && !msg.contains("secret"),
            "{msg}"
        );
    }

    #[cfg(feature = "redis")]
    #[tokio::test]
    async fn unreachable_redis_is_one_line() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port(); // nothing listens there once the listener is dropped
        let bus = BusUrl::parse(&format!("redis://:secret@127.0.0.1:{port}")).expect("url");
        let Err(e) = bus.open("n1", "p:").await else {
            panic!("nothing listens on port {port}");
        };
        let msg = e.to_string();
        assert!(!msg.contains('\n') && !msg.contains("secret"), "{msg}");
        assert!(
            msg.contains("cannot reach Redis") && msg.contains("--bus"),
            "{msg}"
        );
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn sqlite_store_opens_and_bad_paths_are_explained() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("chat.db").display());
        let store = StoreUrl::parse(&url)
            .expect("url")
            .open()
            .await
            .expect("sqlite store");
        store.ping().await.expect("ping");
        store.close().await.expect("close");
        let missing = format!("sqlite://{}", dir.path().join("no/such/dir/x.db").display());
        let Err(e) = StoreUrl::parse(&missing).expect("url").open().await else {
            panic!("a file in a missing directory cannot be opened");
        };
        assert!(e.to_string().contains("--store"), "{e}");
    }

    #[tokio::test]
    async fn memory_store_opens() {
        let store = StoreUrl::Memory.open().await.expect("memory store");
        store.ping().await.expect("ping");
    }
}
