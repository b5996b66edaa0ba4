//! End to end: the real `chat-tui` in tmux against a real `chat-server`, with `chat-cli` as
//! the other user. Skipped (with a message) when tmux is missing, unless
//! `CHATCORE_REQUIRE_SERVICES=1`, which turns that into a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use chatcore_testkit::{ChatServerProcess, free_port};

const DEADLINE: Duration = Duration::from_secs(15);

/// The tmux binary, or `None` (after printing why) when the test should be skipped.
fn tmux_binary() -> Option<PathBuf> {
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
fn helper_binaries() -> (PathBuf, PathBuf) {
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
                .args(["-p", "chatcore-client", "--bin", "chat-cli"]);
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
struct Server {
    /// Runs the helper's stdout reader and the kill.
    runtime: tokio::runtime::Runtime,
    /// The server; `None` once stopped.
    process: Option<ChatServerProcess>,
    url: String,
    port: u16,
}

impl Server {
    /// Starts `binary` on `port` (a free one when `None`) with a memory store.
    fn start(binary: &Path, port: Option<u16>) -> Server {
        let port = port.unwrap_or_else(free_port);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let mut command = tokio::process::Command::new(binary);
        command
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--store", "memory://"])
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

    fn stop(&mut self) {
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
struct Tmux {
    binary: PathBuf,
    socket: String,
}

impl Tmux {
    fn new(binary: PathBuf, name: &str) -> Tmux {
        Tmux {
            binary,
            socket: format!("chatcore-tui-test-{}-{name}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new(&self.binary)
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("run tmux");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "main", "-l", text]);
    }

    /// Presses keys by name (`Enter`, `Escape`, …).
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    /// Polls the pane until `pred` holds; panics with the pane on timeout.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
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

    fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |p| p.contains(text))
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
fn start_tui(tmux: &Tmux, server: &str, user: &str, scratch: &Path) {
    start_tui_with(tmux, server, user, scratch, "");
}

/// [`start_tui`] with extra environment assignments (`NAME=value …`).
fn start_tui_with(tmux: &Tmux, server: &str, user: &str, scratch: &Path, env: &str) {
    let tui = env!("CARGO_BIN_EXE_chat-tui");
    let config = scratch.join("tui.toml");
    let script = format!(
        "{env} XDG_CONFIG_HOME='{xdg}' '{tui}' --server '{server}' --user '{user}' --config '{config}'; \
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
fn assert_restored(pane: &str, status: &str) {
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

fn wait_exit(tmux: &Tmux) -> String {
    tmux.wait_for("exit and stty", |p| {
        p.contains("EXITED") && p.contains("icanon")
    })
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chat-tui-e2e-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn cli(binary: &Path, server: &str, args: &[&str]) -> String {
    let out = Command::new(binary)
        .args(["--server", server, "--user", "bob"])
        .args(args)
        .output()
        .expect("run chat-cli");
    assert!(
        out.status.success(),
        "chat-cli {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn chat_in_tmux_join_send_receive_theme_quit() {
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, cli_bin) = helper_binaries();
    let server = Server::start(&server_bin, None);
    let scratch = scratch_dir("chat");
    let tmux = Tmux::new(tmux_bin, "chat");
    start_tui(&tmux, &server.url, "ann", &scratch);

    tmux.wait_text("● connected as ann");
    tmux.type_text(":join general");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the room in the list and the title", |p| {
        p.contains("│ #general") && p.contains("┌ #general")
    });

    tmux.keys(&["i"]);
    tmux.type_text("hello from the tui");
    tmux.keys(&["Enter", "Escape"]);
    tmux.wait_for("the own message, acknowledged", |p| {
        p.contains(" ann hello from the tui") && !p.contains("(sending)")
    });
    let history = cli(&cli_bin, &server.url, &["history", "general"]);
    assert!(history.contains("hello from the tui"), "stored: {history}");

    cli(
        &cli_bin,
        &server.url,
        &["send", "general", "hi ann, from the cli"],
    );
    let pane = tmux.wait_text(" bob hi ann, from the cli");
    assert!(pane.contains("NORMAL"), "{pane}");

    tmux.type_text(":theme light");
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_text("light · ? help");
    println!("--- chat-tui at 120x40 ---\n{pane}");

    tmux.keys(&["?"]);
    tmux.wait_text("Keys (normal mode)");
    tmux.keys(&["Escape"]);
    tmux.wait_for("help closed", |p| !p.contains("Keys (normal mode)"));

    tmux.type_text(":quit");
    tmux.keys(&["Enter"]);
    assert_restored(&wait_exit(&tmux), "0");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn reconnect_keeps_the_draft_and_shows_the_state() {
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, _) = helper_binaries();
    let mut server = Server::start(&server_bin, None);
    let scratch = scratch_dir("reconnect");
    let tmux = Tmux::new(tmux_bin, "reconnect");
    start_tui(&tmux, &server.url, "cy", &scratch);

    tmux.wait_text("● connected as cy");
    tmux.type_text(":join lobby");
    tmux.keys(&["Enter"]);
    tmux.wait_text("┌ #lobby");
    tmux.keys(&["i"]);
    tmux.type_text("half-typed draft");
    tmux.wait_text("half-typed draft");

    server.stop();
    tmux.wait_text("reconnecting (attempt");
    let pane = tmux.capture();
    assert!(
        pane.contains("half-typed draft"),
        "the draft survives: {pane}"
    );

    let port = server.port;
    let _server = Server::start(&server_bin, Some(port));
    let pane = tmux.wait_text("● connected as cy");
    assert!(pane.contains("half-typed draft"), "{pane}");
    assert!(pane.contains("┌ #lobby"), "{pane}");

    tmux.keys(&["C-q"]);
    assert_restored(&wait_exit(&tmux), "0");
    let _ = std::fs::remove_dir_all(scratch);
}

#[test]
fn a_panic_restores_the_terminal_and_prints_the_message() {
    let Some(tmux_bin) = tmux_binary() else {
        return;
    };
    let (server_bin, _) = helper_binaries();
    let server = Server::start(&server_bin, None);
    let scratch = scratch_dir("panic");
    let tmux = Tmux::new(tmux_bin, "panic");
    start_tui_with(
        &tmux,
        &server.url,
        "dee",
        &scratch,
        "RUST_BACKTRACE=0 CHATCORE_TUI_TEST_PANIC=1",
    );
    let pane = wait_exit(&tmux);
    assert_restored(&pane, "101");
    assert!(
        pane.contains("test panic"),
        "the panic message is readable: {pane}"
    );
    let _ = std::fs::remove_dir_all(scratch);
}
