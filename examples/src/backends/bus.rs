//! `--bus` and `--node-id`: [`BusUrl`] parses the value and opens the bus whose feature is
//! compiled in; [`default_node_id`] names this node.

use std::sync::Arc;

use chatcore::bus::Bus;

use super::redact::redact;
use crate::backend_metrics::BackendMetrics;
use crate::error::{Result, StartupError};

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
    pub metrics: Option<BackendMetrics>,
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
            metrics: Some(crate::backend_metrics::redis(bus.clone())),
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
