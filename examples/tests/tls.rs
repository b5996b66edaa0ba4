//! `chat-server --tls-cert FILE --tls-key FILE`: the real binary terminating TLS with a
//! certificate from a test CA made for the test, reached by `chatcore-client` over `wss://`
//! and `https://`; bad TLS files stop it with one line that says what to do.

#[path = "../../chatcore-client/tests/tls_pki/mod.rs"]
mod pki;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use chatcore_client::{
    Client, ClientConfig, ConnectionState, DisconnectReason, Error, HistoryQuery, RestClient,
};
use chatcore_testkit::ChatServerProcess;
use pki::Pki;

const BIN: &str = env!("CARGO_BIN_EXE_chat-server");
/// Upper bound of every wait.
const BOUND: Duration = Duration::from_secs(30);

/// A `chat-server` child process with TLS, killed on drop.
struct TlsServerProcess(ChatServerProcess);

impl TlsServerProcess {
    /// Starts `chat-server ARGS…` configured through the environment twins
    /// (`CHATCORE_TLS_CERT`, `CHATCORE_TLS_KEY`, …; nothing else inherited) on `127.0.0.1:0`,
    /// and checks that the URL it prints is `https://`.
    async fn start(pki: &Pki, args: &[&str]) -> Self {
        let mut command = tokio::process::Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("CHATCORE_TLS_CERT", &pki.cert_file)
            .env("CHATCORE_TLS_KEY", &pki.key_file)
            .envs([
                ("CHATCORE_LISTEN", "127.0.0.1:0"),
                ("CHATCORE_STORE", "memory://"),
                ("CHATCORE_LOG", "warn"),
            ])
            .stderr(Stdio::inherit());
        let process = ChatServerProcess::spawn(command)
            .await
            .expect("chat-server prints its URL in time");
        assert!(process.https, "chat-server must print an https:// URL");
        Self(process)
    }

    /// `https://localhost:PORT` (the certificate names `localhost` and `127.0.0.1`).
    fn url(&self) -> String {
        format!("https://localhost:{}", self.0.addr.port())
    }

    /// SIGTERM, and the exit status once the server has drained.
    async fn terminate(self) -> std::process::ExitStatus {
        self.0.terminate().await.expect("exits in time")
    }
}

/// `e` says that the server's certificate was not trusted.
fn assert_certificate_refused(e: &Error) {
    assert!(
        matches!(
            e,
            Error::Tls {
                certificate: true,
                ..
            }
        ),
        "{e:?}"
    );
}

fn client_config(url: &str, user: &str, ca: &Path) -> ClientConfig {
    ClientConfig::new(url)
        .expect("url")
        .with_guest(user)
        .with_ca_file(ca)
        .expect("CA file")
        .with_reconnect(false)
        .with_rate_limit(None)
        .expect("config")
}

#[tokio::test]
async fn chat_server_serves_wss_and_https_and_drains_on_sigterm() {
    let pki = Pki::new();
    let server = TlsServerProcess::start(&pki, &[]).await;
    let (ann, mut events) = Client::connect(client_config(&server.url(), "ann", &pki.ca_file))
        .await
        .expect("connect over wss://");
    ann.join("general").await.expect("join");
    let ack = ann.send("general", "hello over TLS").await.expect("send");
    assert_eq!(ack.seq, 1);

    let api = RestClient::new(&server.url())
        .expect("rest")
        .with_ca_file(&pki.ca_file)
        .expect("CA file");
    let page = api
        .history("general", HistoryQuery::latest())
        .await
        .expect("history over https://");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].text, "hello over TLS");

    let untrusted = Client::connect(client_config(&server.url(), "eve", &pki.other_ca_file))
        .await
        .expect_err("a client trusting another CA");
    assert_certificate_refused(&untrusted);

    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
    let closed = tokio::time::timeout(BOUND, async {
        loop {
            match events.recv().await {
                Some(chatcore_client::ClientEvent::State(ConnectionState::Disconnected(
                    reason,
                ))) => return reason,
                Some(_) => {}
                None => panic!("the event stream ended first"),
            }
        }
    })
    .await
    .expect("disconnected in time");
    assert!(
        matches!(closed, DisconnectReason::ClosedByServer { code: 1001, .. }),
        "{closed:?}"
    );
}

#[tokio::test]
async fn the_connection_cap_holds_over_tls() {
    let pki = Pki::new();
    let server = TlsServerProcess::start(&pki, &["--max-connections", "1"]).await;
    let (first, _events) = Client::connect(client_config(&server.url(), "ann", &pki.ca_file))
        .await
        .expect("first connection");
    let second = Client::connect(client_config(&server.url(), "bob", &pki.ca_file))
        .await
        .expect_err("over the cap");
    assert!(
        matches!(second, Error::Refused { status: 503, .. }),
        "{second:?}"
    );
    first.close().await.expect("close");
}

#[tokio::test]
async fn bad_tls_files_fail_with_one_line_that_says_what_to_do() {
    let pki = Pki::new();
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("missing.pem");
    let stranger_key = dir.path().join("stranger-key.pem");
    let key = rcgen::KeyPair::generate().expect("key");
    std::fs::write(&stranger_key, key.serialize_pem()).expect("write");
    let flag = |s: &'static str| Path::new(s);
    let cases: [(Vec<&Path>, &str); 4] = [
        (
            vec![
                flag("--tls-cert"),
                &missing,
                flag("--tls-key"),
                &pki.key_file,
            ],
            "--tls-cert",
        ),
        (
            vec![flag("--tls-cert"), &pki.cert_file],
            "--tls-cert and --tls-key go together",
        ),
        (
            vec![
                flag("--tls-cert"),
                &pki.cert_file,
                flag("--tls-key"),
                &pki.ca_file,
            ],
            "no usable private key",
        ),
        (
            vec![
                flag("--tls-cert"),
                &pki.cert_file,
                flag("--tls-key"),
                &stranger_key,
            ],
            "pass the key that belongs to the certificate",
        ),
    ];
    for (args, hint) in cases {
        let run = tokio::process::Command::new(BIN)
            .args(&args)
            .env_clear()
            .envs([
                ("CHATCORE_LISTEN", "127.0.0.1:0"),
                ("CHATCORE_STORE", "memory://"),
            ])
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(BOUND, run)
            .await
            .unwrap_or_else(|_| panic!("{args:?}: chat-server started instead of refusing"))
            .expect("run chat-server");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.contains(hint),
            "{args:?}: should mention {hint:?}: {err}"
        );
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
}

/// `tcps://localhost:PORT` of a server started with `--tcp-listen`.
fn tcps_url(server: &TlsServerProcess) -> String {
    let addr = server
        .0
        .tcp_addr
        .expect("chat-server prints its tcps:// address");
    format!("tcps://localhost:{}", addr.port())
}

#[tokio::test]
async fn a_tcps_user_chats_with_a_wss_user_on_the_same_certificate() {
    let pki = Pki::new();
    let server = TlsServerProcess::start(&pki, &["--tcp-listen", "127.0.0.1:0"]).await;
    let (bob, mut bob_events) = Client::connect(client_config(&server.url(), "bob", &pki.ca_file))
        .await
        .expect("connect over wss://");
    bob.join("general").await.expect("join");
    let (ann, _ann_events) =
        Client::connect(client_config(&tcps_url(&server), "ann", &pki.ca_file))
            .await
            .expect("connect over tcps://");
    ann.join("general").await.expect("join");
    let ack = ann.send("general", "hello over tcps").await.expect("send");
    assert_eq!(ack.seq, 1);
    let seen = tokio::time::timeout(BOUND, async {
        loop {
            match bob_events.recv().await {
                Some(chatcore_client::ClientEvent::Message(m)) => return m.text,
                Some(_) => {}
                None => panic!("the event stream ended first"),
            }
        }
    })
    .await
    .expect("the wss:// user sees the message in time");
    assert_eq!(seen, "hello over tcps");
    server.terminate().await;
}

#[tokio::test]
async fn tcps_refuses_an_untrusted_certificate_and_plain_tcp_fails_fast() {
    let pki = Pki::new();
    let server = TlsServerProcess::start(&pki, &["--tcp-listen", "127.0.0.1:0"]).await;
    let tcps = tcps_url(&server);
    let untrusted = Client::connect(client_config(&tcps, "eve", &pki.other_ca_file))
        .await
        .expect_err("a client trusting another CA");
    assert_certificate_refused(&untrusted);
    // Plain frames to the TLS port: refused at once, well within the 10 s connect timeout.
    let plain = tcps.replacen("tcps://", "tcp://", 1);
    let refused = tokio::time::timeout(
        Duration::from_secs(5),
        Client::connect(client_config(&plain, "eve", &pki.ca_file)),
    )
    .await
    .expect("a plain tcp:// client must not hang on the TLS port")
    .expect_err("plain TCP on the TLS port");
    assert!(matches!(refused, Error::Connect { .. }), "{refused:?}");
    server.terminate().await;
}
