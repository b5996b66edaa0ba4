//! Real processes: `chat-server` children that report where they listen, a private
//! `redis-server` a test may kill and restart, and unique names and free ports for them.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::error::{Error, Result};
use crate::wait::{BOUND, services_required};

/// How long a `chat-server` may take to print its URL: generous, because a busy machine may
/// be linking other test binaries at the same time.
const START_PATIENCE: Duration = Duration::from_secs(60);

/// A name no other test (or earlier run) uses: `{tag}_{pid}_{nanos}_{n}`, only lower-case
/// letters, digits and `_` when `tag` is, so it is a valid PostgreSQL schema or Redis prefix.
pub fn unique_name(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000_000);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{tag}_{}_{nanos}_{n}", std::process::id())
}

/// A loopback port that was free a moment ago, for a process that must be told its port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Starts `command`, to be killed when its handle is dropped; `what` names it in the error.
fn spawn(command: &mut Command, what: &str) -> Result<Child> {
    command
        .kill_on_drop(true)
        .spawn()
        .map_err(|source| Error::Process {
            what: format!("{what}: start"),
            source,
        })
}

/// A `chat-server` child process, killed on drop.
pub struct ChatServerProcess {
    /// Where it listens, as it printed.
    pub addr: SocketAddr,
    /// Where its TCP transport listens, as it printed, when started with `--tcp-listen`.
    pub tcp_addr: Option<SocketAddr>,
    /// `true` when it printed an `https://` URL (it terminates TLS itself).
    pub https: bool,
    /// The child, for killing it.
    child: Child,
}

impl ChatServerProcess {
    /// Runs `command` (a `chat-server` command line: binary, flags, environment) with its
    /// stdout piped, and waits for the `http(s)://HOST:PORT` URL it prints once listening (and,
    /// with `--tcp-listen`, for its `tcp://HOST:PORT`, or `tcps://HOST:PORT` under TLS, too). Stdout keeps being drained so the
    /// child never blocks on a full pipe.
    pub async fn spawn(mut command: Command) -> Result<Self> {
        let wants_tcp = command.as_std().get_args().any(|a| a == "--tcp-listen");
        command.stdin(Stdio::null()).stdout(Stdio::piped());
        let mut child = spawn(&mut command, "chat-server")?;
        let stdout = child.stdout.take().ok_or(Error::NoUrl)?;
        let mut lines = BufReader::new(stdout).lines();
        let listening = async {
            let (mut http, mut tcp) = (None, None);
            while let Ok(Some(line)) = lines.next_line().await {
                http = http.or_else(|| {
                    printed_addr(&line, "https://")
                        .map(|a| (a, true))
                        .or_else(|| printed_addr(&line, "http://").map(|a| (a, false)))
                });
                tcp = tcp.or_else(|| {
                    printed_addr(&line, "tcps://").or_else(|| printed_addr(&line, "tcp://"))
                });
                if let Some(http) = http.filter(|_| tcp.is_some() || !wants_tcp) {
                    return Ok((http, tcp));
                }
            }
            Err(Error::NoUrl)
        };
        let ((addr, https), tcp_addr) = tokio::time::timeout(START_PATIENCE, listening)
            .await
            .map_err(|_| Error::Timeout(START_PATIENCE))??;
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            addr,
            tcp_addr,
            https,
            child,
        })
    }

    /// SIGTERM (a graceful stop), then the exit status once the server has drained, within
    /// [`BOUND`].
    pub async fn terminate(mut self) -> Result<std::process::ExitStatus> {
        let pid = self.child.id().ok_or(Error::NoUrl)?.to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await;
        sent.map_err(|source| Error::Process {
            what: "kill -TERM chat-server".into(),
            source,
        })?;
        tokio::time::timeout(BOUND, self.child.wait())
            .await
            .map_err(|_| Error::Timeout(BOUND))?
            .map_err(|source| Error::Process {
                what: "chat-server: wait".into(),
                source,
            })
    }

    /// `http://ADDR`, or `https://ADDR` when it terminates TLS.
    pub fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// SIGKILL, then reap: no shutdown code runs, as in a power cut of the process.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// A `redis-server` of a test's own on a free loopback port, so the test can kill and
/// restart it without disturbing the shared one. Saves nothing; killed on drop.
pub struct PrivateRedis {
    /// The port it listens on, kept across restarts.
    pub port: u16,
    /// The running server; `None` while stopped.
    child: Option<Child>,
}

impl PrivateRedis {
    /// Starts one and waits until it accepts connections.
    pub async fn start() -> Result<Self> {
        let mut redis = Self {
            port: free_port(),
            child: None,
        };
        redis.restart().await?;
        Ok(redis)
    }

    /// [`PrivateRedis::start`] for tests that skip without services: `None` (after saying
    /// why) when `CHATCORE_TEST_REDIS_URL` is unset or `redis-server` cannot run, unless
    /// `CHATCORE_REQUIRE_SERVICES=1` makes that a failure.
    pub async fn start_or_skip() -> Option<Self> {
        chatcore::testing::service_url("CHATCORE_TEST_REDIS_URL")?;
        match Self::start().await {
            Ok(redis) => Some(redis),
            Err(e) if services_required() => panic!("cannot run redis-server: {e}"),
            Err(e) => {
                eprintln!("skipped: cannot run redis-server ({e})");
                None
            }
        }
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (like a crash) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Starts it (again) on the same port, empty, and waits until it listens.
    pub async fn restart(&mut self) -> Result<()> {
        let mut command = Command::new("redis-server");
        command
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let what = "redis-server (apt-get install -y redis-server)";
        self.child = Some(spawn(&mut command, what)?);
        let addr = ("127.0.0.1", self.port);
        let up = async {
            while tokio::net::TcpStream::connect(addr).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(BOUND, up)
            .await
            .map_err(|_| Error::Timeout(BOUND))
    }
}

/// The `HOST:PORT` after `scheme` in a line the server printed, if any.
fn printed_addr(line: &str, scheme: &str) -> Option<SocketAddr> {
    line.split(scheme).nth(1)?.split('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_names_differ_and_suit_schemas() {
        let (a, b) = (unique_name("t"), unique_name("t"));
        assert_ne!(a, b);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{a}"
        );
    }

    #[tokio::test]
    async fn a_process_that_prints_no_url_is_an_error() {
        let mut quiet = Command::new("sh");
        quiet.args(["-c", "echo starting; exit 3"]);
        let started = ChatServerProcess::spawn(quiet).await;
        assert!(matches!(started, Err(Error::NoUrl)), "{:?}", started.err());
    }

    #[tokio::test]
    async fn the_printed_url_is_the_address() {
        let mut server = Command::new("sh");
        server.args([
            "-c",
            "echo 'listening on http://127.0.0.1:4567/ (web client)'; sleep 5",
        ]);
        let mut process = ChatServerProcess::spawn(server).await.expect("started");
        assert_eq!(process.url(), "http://127.0.0.1:4567");
        process.kill().await;
    }

    /// The TCP address a fake `chat-server --tcp-listen` (a shell `script`) is read to have.
    async fn tcp_addr_of(script: &str) -> Option<SocketAddr> {
        let mut server = Command::new("sh");
        server.args(["-c", script, "--tcp-listen"]);
        let mut process = ChatServerProcess::spawn(server).await.expect("started");
        let addr = process.tcp_addr;
        process.kill().await;
        addr
    }

    #[tokio::test]
    async fn with_tcp_listen_the_tcp_address_is_awaited_too() {
        let addr = tcp_addr_of(
            "echo 'open http://127.0.0.1:4567/'; sleep 0.2; \
             echo 'TCP transport on tcp://127.0.0.1:4568'; sleep 5",
        )
        .await;
        assert_eq!(addr, Some("127.0.0.1:4568".parse().expect("addr")));
    }

    #[tokio::test]
    async fn under_tls_the_tcps_address_is_the_tcp_address() {
        let addr = tcp_addr_of(
            "echo 'TCP transport on tcps://127.0.0.1:4570'; \
             echo 'open https://127.0.0.1:4569/'; sleep 5",
        )
        .await;
        assert_eq!(addr, Some("127.0.0.1:4570".parse().expect("addr")));
    }
}
