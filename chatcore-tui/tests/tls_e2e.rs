//! End to end over TLS: a real `chat-server --tls-cert/--tls-key` with a certificate from a
//! throwaway CA, the real `chat-tui` in tmux (`--server https://localhost:PORT --ca-file`)
//! and `chat-cli` over `https://` as the other user; without the CA the status line says
//! what to do and the client stops instead of reconnecting. A bad CA file stops `chat-tui`
//! at start-up with one line. The tmux tests are skipped (with a message) when tmux is
//! missing, unless `CHATCORE_REQUIRE_SERVICES=1`.

#[path = "../../chatcore-client/tests/tls_pki/mod.rs"]
mod pki;
mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use pki::Pki;
use support::*;

/// A scene with `chat-server` terminating TLS with the test PKI's certificate, and
/// `chat-tui` as `ann` started against it.
struct TlsScene {
    scene: Scene,
    pki: Pki,
    /// `https://localhost:PORT` (the certificate names `localhost`).
    url: String,
    _server: Server,
}

impl TlsScene {
    /// `None` when tmux is missing (see [`Scene::new`]). `ca` picks the CA file passed to
    /// `chat-tui` with `--ca-file` (none when it returns `None`).
    fn start(name: &str, ca: fn(&Pki) -> Option<&Path>) -> Option<TlsScene> {
        let scene = Scene::new(name)?;
        let pki = Pki::new();
        let cert = path_str(&pki.cert_file);
        let key = path_str(&pki.key_file);
        let server = Server::with_args(&scene.server_bin, &["--tls-cert", cert, "--tls-key", key]);
        let url = format!("https://localhost:{}", server.port);
        let flags = match ca(&pki) {
            Some(file) => vec!["--ca-file", path_str(file)],
            None => Vec::new(),
        };
        start_tui_flags(&scene.tmux, &url, "ann", &scene.scratch, &flags);
        Some(TlsScene {
            scene,
            pki,
            url,
            _server: server,
        })
    }

    /// Runs `chat-cli --ca-file CA ARGS…` as `bob` over `https://`.
    fn cli(&self, args: &[&str]) -> String {
        let ca = ["--ca-file", path_str(&self.pki.ca_file)];
        cli(&self.scene.cli_bin, &self.url, &[&ca[..], args].concat())
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

#[test]
fn chat_over_https_with_the_ca_file() {
    let Some(tls) = TlsScene::start("tls-chat", |pki| Some(&pki.ca_file)) else {
        return;
    };
    let tmux = &tls.scene.tmux;
    tmux.wait_text("● connected as ann");
    tmux.join("general");

    tls.cli(&["send", "general", "hi ann, over TLS"]);
    tmux.wait_text(" bob hi ann, over TLS");

    tmux.keys(&["i"]);
    tmux.type_text("hello back over TLS");
    tmux.keys(&["Enter", "Escape"]);
    tmux.wait_for("the own message, acknowledged", |p| {
        p.contains(" ann hello back over TLS") && !p.contains("(sending)")
    });
    let history = tls.cli(&["history", "general"]);
    assert!(history.contains("hello back over TLS"), "stored: {history}");
    tmux.quit();
}

#[test]
fn an_untrusted_certificate_says_to_pass_the_ca_file_and_stops() {
    let Some(tls) = TlsScene::start("tls-untrusted", |_| None) else {
        return;
    };
    let tmux = &tls.scene.tmux;
    let pane = tmux.wait_text("✕ TLS: the server's certificate is not trusted (UnknownIssuer)");
    assert!(
        pane.contains("start chat-tui with --ca-file PATH (or CHATCORE_CA_FILE)"),
        "the notice says what to do: {pane}"
    );
    // The client's first retry would come 250 ms later: there is none.
    std::thread::sleep(Duration::from_millis(1500));
    let pane = tmux.capture();
    assert!(
        !pane.contains("reconnecting") && pane.contains("✕ TLS:"),
        "no reconnect loop: {pane}"
    );
    tmux.quit();
}

/// Runs `chat-tui` with `args` and `CHATCORE_CA_FILE=env_ca` (when given), no terminal and
/// no config file; returns its exit code and stderr.
fn run_tui(args: &[&str], env_ca: Option<&str>) -> (Option<i32>, String) {
    let scratch = scratch_dir("tls-bad-ca");
    let mut tui = Command::new(env!("CARGO_BIN_EXE_chat-tui"));
    tui.args(args)
        .env_remove("CHATCORE_CA_FILE")
        .env("XDG_CONFIG_HOME", &scratch)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(path) = env_ca {
        tui.env("CHATCORE_CA_FILE", path);
    }
    let out = tui.output().expect("run chat-tui");
    let _ = std::fs::remove_dir_all(scratch);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_ca_file_is_a_one_line_start_up_error() {
    let pki = Pki::new();
    let missing = pki.ca_file.with_file_name("missing-ca.pem");
    let missing = path_str(&missing);
    let cases = [
        (vec!["--ca-file", missing], None, missing, "cannot read"),
        (vec![], Some(missing), missing, "cannot read"),
        (
            vec!["--ca-file", path_str(&pki.key_file)],
            Some(missing),
            "server-key.pem",
            "holds no certificate",
        ),
    ];
    for (args, env, names, says) in cases {
        let (code, err) = run_tui(&args, env);
        assert_eq!(code, Some(2), "{args:?} {env:?}: {err}");
        assert!(
            err.starts_with("chat-tui: ") && err.contains(names) && err.contains(says),
            "{args:?} {env:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
}
