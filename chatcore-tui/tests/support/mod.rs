//! Helpers of the end-to-end tests: a real `chat-server` process, `chat-cli` as the other
//! user, and a tmux server that runs `chat-tui` in a pane and reads the pane back.

#![allow(dead_code)] // each test binary uses a subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use chatcore_testkit::{ChatServerProcess, free_port};

mod peer;

#[allow(unused_imports)] // each test binary uses a subset
pub(crate) use peer::Peer;

pub(crate) const DEADLINE: Duration = Duration::from_secs(15);

/// The tmux binary, or `None` (after printing why) when the test should be skipped.
pub(crate) fn tmux_binary() -> Option<PathBuf> {
    let found = ["/usr/bin/tmux", "/usr/local/bin/tmux", "/bin/tmux"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        if std::env::var("CHATCORE_REQUIRE_SERVICES").as_deref() == Ok("1") {
            panic!("tmux is required (CHATCORE_REQUIRE_SERVICES=1) but was not found");
        }
        eprintln!("skipped: tmux not found (install it: apt-get install -y tmux)");
    }
    found
}

/// Paths of `chat-server` and `chat-cli`, built once into the target dir of `chat-tui`.
pub(crate) fn helper_binaries() -> (PathBuf, PathBuf) {
    static BUILT: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    BUILT
        .get_or_init(|| {
            let tui = PathBuf::from(env!("CARGO_BIN_EXE_chat-tui"));
            let bin_dir = tui.parent().expect("bin dir").to_owned();
            let profile = bin_dir
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("debug");
            let target_dir = bin_dir.parent().expect("target dir");
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("workspace");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut build = Command::new(cargo);
            build
                .current_dir(workspace)
                .env("CARGO_TARGET_DIR", target_dir)
                .args([
                    "build",
                    "--quiet",
                    "-p",
                    "chatcore-examples",
                    "--bin",
                    "chat-server",
                ])
                .args(["-p", "chatcore-client", "--bin", "chat-cli"])
                .args(["--features", "chatcore-client/cli"]);
            if profile == "release" {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build");
            assert!(status.success(), "building chat-server and chat-cli failed");
            (bin_dir.join("chat-server"), bin_dir.join("chat-cli"))
        })
        .clone()
}

/// A `chat-server` on a loopback port (the kit's process helper, driven by a runtime of its
/// own: these tests are synchronous), killed on drop.
pub(crate) struct Server {
    /// Runs the helper's stdout reader and the kill.
    runtime: tokio::runtime::Runtime,
    /// The server; `None` once stopped.
    process: Option<ChatServerProcess>,
    pub(crate) url: String,
    pub(crate) port: u16,
}

impl Server {
    /// A server with an in-memory store, on `port` or a free one.
    pub(crate) fn start(binary: &Path, port: Option<u16>) -> Server {
        Server::with_store(binary, port, "memory://")
    }

    /// A server storing in `store` (a `--store` URL), on `port` or a free one.
    pub(crate) fn with_store(binary: &Path, port: Option<u16>, store: &str) -> Server {
        Server::spawn(binary, port, &["--store", store])
    }

    /// A server with an in-memory store on a free port, started with the extra flags `args`
    /// (`--tls-cert FILE --tls-key FILE`, …).
    pub(crate) fn with_args(binary: &Path, args: &[&str]) -> Server {
        Server::spawn(binary, None, &[&["--store", "memory://"], args].concat())
    }

    /// `chat-server --listen 127.0.0.1:PORT ARGS…`, on `port` or a free one.
    fn spawn(binary: &Path, port: Option<u16>, args: &[&str]) -> Server {
        let port = port.unwrap_or_else(free_port);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut command = tokio::process::Command::new(binary);
        command
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(args)
            .stderr(Stdio::null());
        let process = runtime
            .block_on(ChatServerProcess::spawn(command))
            .expect("start chat-server");
        Server {
            url: process.url(),
            port: process.addr.port(),
            runtime,
            process: Some(process),
        }
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            self.runtime.block_on(process.kill());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A tmux server on its own socket, killed on drop.
pub(crate) struct Tmux {
    binary: PathBuf,
    socket: String,
}

impl Tmux {
    pub(crate) fn new(binary: PathBuf, name: &str) -> Tmux {
        Tmux {
            binary,
            socket: format!("chatcore-tui-test-{}-{name}", std::process::id()),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let mut tmux = Command::new(&self.binary);
        tmux.arg("-L").arg(&self.socket).args(args);
        succeeded(tmux, &format!("tmux {args:?}"))
    }

    /// Types `text` literally.
    pub(crate) fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "main", "-l", text]);
    }

    /// Presses keys by name (`Enter`, `Escape`, …).
    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub(crate) fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    /// Polls the pane until `pred` holds; panics with the pane on timeout.
    pub(crate) fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let pane = self.capture();
            if pred(&pane) {
                return pane;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; pane:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub(crate) fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |p| p.contains(text))
    }

    /// Runs `:join ROOM` and waits until the room is shown.
    pub(crate) fn join(&self, room: &str) {
        self.type_text(&format!(":join {room}"));
        self.keys(&["Enter"]);
        self.wait_text(&format!("┌ #{room}"));
    }

    /// Quits with `Ctrl-q`; asserts exit status 0 and a restored terminal.
    pub(crate) fn quit(&self) {
        self.keys(&["C-q"]);
        assert_restored(&wait_exit(self), "0");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(&self.binary)
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// Starts `chat-tui` in a 120×40 tmux pane, wrapped so its exit status and the terminal
/// modes after it are printed.
pub(crate) fn start_tui(tmux: &Tmux, server: &str, user: &str, scratch: &Path) {
    start_tui_with(tmux, server, user, scratch, "");
}

/// [`start_tui`] with extra environment assignments (`NAME=value …`).
pub(crate) fn start_tui_with(tmux: &Tmux, server: &str, user: &str, scratch: &Path, env: &str) {
    start_tui_full(tmux, server, user, scratch, env, &[]);
}

/// [`start_tui`] with extra flags (`--ca-file PATH`, …; no single quotes in them).
pub(crate) fn start_tui_flags(
    tmux: &Tmux,
    server: &str,
    user: &str,
    scratch: &Path,
    flags: &[&str],
) {
    start_tui_full(tmux, server, user, scratch, "", flags);
}

fn start_tui_full(
    tmux: &Tmux,
    server: &str,
    user: &str,
    scratch: &Path,
    env: &str,
    flags: &[&str],
) {
    let tui = env!("CARGO_BIN_EXE_chat-tui");
    let config = scratch.join("tui.toml");
    let flags: String = flags.iter().map(|f| format!(" '{f}'")).collect();
    let script = format!(
        "{env} XDG_CONFIG_HOME='{xdg}' '{tui}' --server '{server}' --user '{user}' --config '{config}'{flags}; \
         echo EXITED $?; stty -a; exec sleep 600",
        xdg = scratch.display(),
        config = config.display(),
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-x",
        "120",
        "-y",
        "40",
        "-s",
        "main",
        "sh",
        "-c",
        &script,
    ]);
}

/// Asserts the pane shows the shell again with a sane terminal (see `start_tui`).
pub(crate) fn assert_restored(pane: &str, status: &str) {
    assert!(pane.contains(&format!("EXITED {status}")), "{pane}");
    assert!(
        !pane.contains("┌ Rooms"),
        "the alternate screen was left: {pane}"
    );
    let words: Vec<&str> = pane.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig"] {
        assert!(
            words.contains(&mode),
            "terminal not restored ({mode}): {pane}"
        );
    }
}

pub(crate) fn wait_exit(tmux: &Tmux) -> String {
    tmux.wait_for("exit and stty", |p| {
        p.contains("EXITED") && p.contains("icanon")
    })
}

pub(crate) fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chat-tui-e2e-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

pub(crate) fn cli(binary: &Path, server: &str, args: &[&str]) -> String {
    let mut cli = Command::new(binary);
    cli.args(["--server", server, "--user", "bob"]).args(args);
    let out = succeeded(cli, &format!("chat-cli {args:?}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `command` (`what`, for the message) and returns its output; panics with its stderr
/// unless it succeeded.
fn succeeded(mut command: Command, what: &str) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// One end-to-end scene: the helper binaries, a tmux server and a scratch folder (removed on
/// drop).
pub(crate) struct Scene {
    /// `chat-server`.
    pub(crate) server_bin: PathBuf,
    /// `chat-cli`.
    pub(crate) cli_bin: PathBuf,
    /// The tmux server that runs `chat-tui`.
    pub(crate) tmux: Tmux,
    /// Config file and databases of this scene.
    pub(crate) scratch: PathBuf,
}

impl Scene {
    /// `None` (after printing why) when tmux is missing; see [`tmux_binary`].
    pub(crate) fn new(name: &str) -> Option<Scene> {
        let tmux = Tmux::new(tmux_binary()?, name);
        let (server_bin, cli_bin) = helper_binaries();
        Some(Scene {
            server_bin,
            cli_bin,
            tmux,
            scratch: scratch_dir(name),
        })
    }

    /// Starts `chat-tui` as `user` against `server` (see [`start_tui`]).
    pub(crate) fn start_tui(&self, server: &str, user: &str) {
        start_tui(&self.tmux, server, user, &self.scratch);
    }

    /// Runs `chat-cli` as `bob` against `server` (see [`cli`]).
    pub(crate) fn cli(&self, server: &Server, args: &[&str]) -> String {
        cli(&self.cli_bin, &server.url, args)
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}
