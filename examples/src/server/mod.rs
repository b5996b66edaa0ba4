//! `chat-server` from flags to a running server: [`ServerPlan`] checks every setting before
//! anything is opened, [`run`] opens the store, builds the hub and serves until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use chatcore::accounts::AccountAuthenticator;
use chatcore::auth::Authenticator;
use chatcore::{Hub, Limits};
use chatcore_transport_tcp::TcpConfig;
use chatcore_transport_ws::{AccountsConfig, Listener, Transport, WsConfig};
use tokio::net::TcpListener;

use crate::accounts::AccountsPlan;
use crate::auth::{AuthPolicy, TokenProvider};
use crate::backend_metrics::{self, BackendMetrics};
use crate::backends::{BusUrl, OpenedStore, StoreUrl, default_node_id};
use crate::cli::ServerArgs;
use crate::error::{Result, StartupError};
use crate::tcp::TcpListening;
use crate::tls::{self, ServerTls};
use crate::{fds, public_url};

/// Everything the flags decided, validated: building it is where configuration errors show
/// up, before a port is bound or a database is touched.
#[derive(Debug, Clone)]
pub struct ServerPlan {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Which store.
    pub store: StoreUrl,
    /// Which bus.
    pub bus: BusUrl,
    /// This node's name on the bus.
    pub node_id: String,
    /// Prefix of the bus's channels.
    pub bus_prefix: String,
    /// Who may connect.
    pub auth: AuthPolicy,
    /// An identity provider's keys and required claims (`--jwks-file`, `--jwt-audience`,
    /// `--jwt-issuer`).
    pub provider: Option<TokenProvider>,
    /// The hub's limits (history on join, message size).
    pub limits: Limits,
    /// The transport's settings (the WebSocket message limit follows the text limit).
    pub ws: WsConfig,
    /// Where the TCP transport listens too (`--tcp-listen`), if anywhere.
    pub tcp_listen: Option<SocketAddr>,
    /// The TCP transport's settings (the WebSocket transport's limits).
    pub tcp: TcpConfig,
    /// TLS termination (`--tls-cert`/`--tls-key`), or `None` for plain HTTP.
    pub tls: Option<ServerTls>,
    /// Accounts (`--registration`), or `None` when they are off.
    pub accounts: Option<AccountsPlan>,
}

impl ServerPlan {
    /// Validates the flags.
    pub fn from_args(args: &ServerArgs) -> Result<Self> {
        let store = StoreUrl::parse(&args.store)?;
        let bus = BusUrl::parse(&args.bus)?;
        let node_id = match args.node_id.as_deref().map(str::trim) {
            Some("") => return Err(StartupError::Config("--node-id must not be empty".into())),
            Some(id) => id.to_owned(),
            None => default_node_id(),
        };
        // Guests by default only when every listener is on loopback.
        let exposed = match args.tcp_listen {
            Some(tcp) if !tcp.ip().is_loopback() => tcp,
            _ => args.listen,
        };
        let provider = token_provider(args)?;
        let auth = AuthPolicy::decide(
            exposed,
            args.jwt_secret.as_deref(),
            args.allow_guests,
            args.jwks_file.is_some(),
        )?;
        let limits = Limits::default()
            .with_history_on_join(args.history_on_join)
            .map_err(|e| config_error("--history-on-join", e))?
            .with_max_text_bytes(args.max_message_bytes)
            .map_err(|e| config_error("--max-message-bytes", e))?
            .with_presence_announce_limit(args.presence_announce_limit)
            .map_err(|e| config_error("--presence-announce-limit", e))?
            .with_presence(
                std::time::Duration::from_secs(args.presence_heartbeat),
                std::time::Duration::from_secs(args.presence_lease),
            )
            .map_err(|e| config_error("--presence-heartbeat/--presence-lease", e))?;
        let limits = args.limits.apply(limits)?;
        let ws = ws_config(&limits)?
            .with_allowed_hosts(public_url::hosts(&args.public_url)?)
            .and_then(|ws| {
                ws.with_handshake_timeout(std::time::Duration::from_secs(args.handshake_timeout))
            })
            .map_err(|e| StartupError::Config(format!("--public-url/--handshake-timeout: {e}")))?
            .with_max_connections(args.max_connections)
            .and_then(|ws| {
                let burst = args.frames_per_second.max(100);
                ws.with_rate_limit(args.frames_per_second, burst, 50)
            })
            .map_err(|e| {
                StartupError::Config(format!("--max-connections/--frames-per-second: {e}"))
            })?;
        Ok(Self {
            listen: args.listen,
            tcp_listen: args.tcp_listen,
            tcp: crate::tcp::tcp_config(&ws)?,
            ws,
            store,
            bus,
            node_id,
            bus_prefix: args.bus_prefix.clone(),
            auth,
            provider,
            limits,
            tls: ServerTls::from_flags(args.tls_cert.as_deref(), args.tls_key.as_deref())?,
            accounts: args
                .registration
                .map(|r| AccountsPlan::from_args(args, r))
                .transpose()?,
        })
    }
}

/// The identity provider of the flags: `--jwks-file` read now, so a missing file fails at
/// start-up; `--jwt-audience`/`--jwt-issuer` also apply to tokens signed with `--jwt-secret`.
fn token_provider(args: &ServerArgs) -> Result<Option<TokenProvider>> {
    let jwks = match &args.jwks_file {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| StartupError::Config(format!("--jwks-file {}: {e}", path.display())))?,
        None if args.jwt_audience.is_empty() && args.jwt_issuer.is_empty() => return Ok(None),
        None => String::new(),
    };
    Ok(Some(TokenProvider {
        jwks,
        audience: args.jwt_audience.clone(),
        issuer: args.jwt_issuer.clone(),
    }))
}

fn config_error(flag: &str, e: chatcore::Error) -> StartupError {
    StartupError::Config(format!("{flag}: {e}"))
}

/// The transport settings for `limits`: defaults, with a WebSocket message limit that fits a
/// `send` at the text limit even if every byte needs JSON escaping (`\u0001` is 6 bytes).
pub fn ws_config(limits: &Limits) -> Result<WsConfig> {
    let defaults = WsConfig::default();
    let needed = limits.max_text_bytes.saturating_mul(6).saturating_add(1024);
    if needed <= defaults.max_message_bytes() {
        return Ok(defaults);
    }
    defaults
        .with_max_message_bytes(needed)
        .map_err(|e| StartupError::Config(format!("--max-message-bytes: {e}")))
}

/// Binds, opens the store and the bus, builds the hub, prints the URL to open, and serves
/// until `shutdown` resolves; then drains and closes everything.
pub async fn run(plan: ServerPlan, shutdown: impl Future<Output = ()> + Send) -> Result<()> {
    check_open_files(&plan);
    let listener = TcpListener::bind(plan.listen)
        .await
        .map_err(|source| StartupError::Listen {
            addr: plan.listen,
            source,
        })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartupError::Listen {
            addr: plan.listen,
            source,
        })?;
    let tcp_listener = match plan.tcp_listen {
        Some(addr) => Some(crate::tcp::bind(addr).await?),
        None => None,
    };
    let (hub, backend_metrics, accounts) = open_hub(&plan).await?;
    tracing::info!(
        listen = %local,
        store = %plan.store.display(),
        bus = %plan.bus.display(),
        node = %plan.node_id,
        auth = plan.auth.describe(),
        history_on_join = plan.limits.history_on_join,
        max_message_bytes = plan.limits.max_text_bytes,
        tls_cert = plan.tls.as_ref().map(|t| t.cert_file.display().to_string()),
        registration = ?plan.accounts.as_ref().map(|a| a.registration),
        "chat-server ready"
    );
    println!(
        "chatcore is running: open {} in a browser",
        tls::scheme(browser_url(local), plan.tls.is_some())
    );
    if local.ip().is_unspecified() {
        println!("(listening on every interface, port {})", local.port());
    }
    let tcp = tcp_listener.map(|tcp_listener| {
        if let Ok(addr) = tcp_listener.local_addr() {
            let scheme = if plan.tls.is_some() { "tcps" } else { "tcp" };
            println!("TCP transport on {scheme}://{addr}");
        }
        let tls = plan.tls.as_ref().map(ServerTls::tcp_config);
        TcpListening::start(tcp_listener, hub.clone(), plan.tcp.clone(), tls)
    });
    let (stopped_tx, stopped) = tokio::sync::oneshot::channel();
    let shutdown = async move {
        shutdown.await;
        // Stop taking TCP connections as the WebSocket side stops taking its own.
        let _ = stopped_tx.send(tcp.map(TcpListening::stop_accepting));
    };
    let transport = match accounts {
        Some(accounts) => Transport::with_accounts(hub, plan.ws, accounts),
        None => Transport::new(hub, plan.ws),
    };
    let served = match &plan.tls {
        Some(tls) => serve(tls.listener(listener), transport, backend_metrics, shutdown).await,
        None => serve(listener, transport, backend_metrics, shutdown).await,
    };
    // The hub is shut down: TCP sessions were closed with 1001 too.
    if let Ok(Some(tcp)) = stopped.await {
        tcp.drain().await;
    }
    served
}

/// Raises the open-file limit and warns when the connections of the plan do not fit in it.
fn check_open_files(plan: &ServerPlan) {
    let limit = match fds::raise() {
        Ok(limit) => limit,
        Err(e) => {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
            return;
        }
    };
    if limit.before != limit.now {
        tracing::info!(from = ?limit.before, to = ?limit.now, "raised the open-file limit");
    }
    let mut connections = vec![plan.ws.max_connections()];
    let mut handshakes = vec![plan.ws.handshake_limit().total()];
    if plan.tcp_listen.is_some() {
        connections.push(plan.tcp.max_connections());
        handshakes.push(plan.tcp.handshake_limit().total());
    }
    if let Some(warning) = fds::shortfall(limit, fds::needed(&connections, &handshakes)) {
        tracing::warn!("{warning}");
    }
}

/// Opens the store and builds the hub the plan describes.
pub async fn build_hub(plan: &ServerPlan) -> Result<Hub> {
    open_hub(plan).await.map(|(hub, ..)| hub)
}

/// The hub, the store's and the bus's own counters for `/metrics` when they have any, and
/// the account routes' settings when accounts are on.
async fn open_hub(
    plan: &ServerPlan,
) -> Result<(Hub, Option<BackendMetrics>, Option<AccountsConfig>)> {
    if matches!(plan.bus, BusUrl::Redis(_)) && !matches!(plan.store, StoreUrl::Postgres(_)) {
        tracing::warn!(
            store = %plan.store.display(),
            "--bus redis with a store of this process only: every node numbers and keeps its \
             own messages; give all nodes one --store postgres://…"
        );
    }
    let OpenedStore {
        store,
        accounts,
        metrics: store_metrics,
    } = plan.store.open_with_accounts().await?;
    let opened = match plan.bus.open(&plan.node_id, &plan.bus_prefix).await {
        Ok(opened) => opened,
        Err(e) => {
            let _ = store.close().await;
            return Err(e);
        }
    };
    let jwt = plan.auth.jwt(plan.provider.as_ref())?;
    let (authenticator, accounts): (Arc<dyn Authenticator>, _) = match &plan.accounts {
        Some(accounts_plan) => (
            Arc::new(AccountAuthenticator::new(
                Arc::new(jwt.clone()),
                Arc::clone(&accounts),
            )),
            Some(accounts_plan.config(accounts, jwt)?),
        ),
        None => (Arc::new(jwt), None),
    };
    let mut builder = Hub::builder()
        .shared_store(store)
        .shared_authenticator(authenticator)
        .limits(plan.limits.clone());
    if let Some(bus) = opened.bus {
        builder = builder.shared_bus(bus);
    }
    let hub = builder
        .build()
        .await
        .map_err(|e| StartupError::Bus(format!("cannot start the hub: {e}")))?;
    let metrics = backend_metrics::both(store_metrics, opened.metrics);
    Ok((hub, metrics, accounts))
}

/// [`chatcore_transport_ws::serve`], with the backends' counters appended to `/metrics`.
async fn serve(
    listener: impl Listener,
    transport: Transport,
    backend_metrics: Option<BackendMetrics>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<()> {
    let router = match backend_metrics {
        Some(metrics) => backend_metrics::layer(transport.router(), metrics),
        None => transport.router(),
    };
    chatcore_transport_ws::serve_router(listener, transport, router, shutdown)
        .await
        .map_err(|e| StartupError::Serve(e.to_string()))
}

/// The URL a person opens for a server listening on `addr` (loopback for a wildcard address).
pub fn browser_url(addr: SocketAddr) -> String {
    let mut shown = addr;
    if addr.ip().is_unspecified() {
        shown.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{shown}/")
}

#[cfg(test)]
mod tests;
