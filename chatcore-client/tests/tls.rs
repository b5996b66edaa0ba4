//! TLS end to end: a real server terminating TLS on `127.0.0.1:0` with a certificate from a
//! test CA made for the test; the library over `wss://` and `https://`, and `chat-cli`.

mod common;
#[path = "tls_pki/mod.rs"]
mod pki;

use std::net::SocketAddr;
use std::path::Path;

use chatcore::Hub;
use chatcore_client::{
    Client, ClientConfig, ConnectionState, DisconnectReason, Error, HistoryQuery, RestClient,
};
use chatcore_testkit::{TestServer, jwt, within, ws_config};
use chatcore_transport_ws::{TlsListener, serve};
use common::*;
use pki::Pki;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A server behind a [`TlsListener`]: memory store, guests allowed, tokens issued.
struct TlsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<chatcore_transport_ws::Result<()>>,
}

impl TlsServer {
    async fn start(pki: &Pki) -> Self {
        let hub = Hub::builder()
            .authenticator(jwt(true))
            .build()
            .await
            .expect("hub");
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = tcp.local_addr().expect("addr");
        let listener = TlsListener::new(tcp, pki.server_config());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, hub, ws_config(), async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// `https://localhost:PORT` (the certificate names `localhost` and `127.0.0.1`).
    fn url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let served = within(self.task).await.expect("serve task");
        served.expect("clean shutdown");
    }
}

fn untrusted(e: &Error) -> bool {
    matches!(
        e,
        Error::Tls { reason, certificate: true, .. }
            if reason == "the server's certificate is not trusted (UnknownIssuer)"
    )
}

/// The test client config for `url` as guest `user`, trusting the CA of the PEM file `ca`.
fn trusting(url: &str, user: &str, ca: &Path) -> ClientConfig {
    config(url, user).with_ca_file(ca).expect("CA file")
}

/// A TLS failure that is not about the certificate: the server does not speak TLS.
fn not_tls(e: &Error) -> bool {
    matches!(
        e,
        Error::Tls {
            certificate: false,
            ..
        }
    )
}

#[tokio::test]
async fn wss_and_https_work_with_the_ca_file() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki).await;
    let config = trusting(&server.url(), "ann", &pki.ca_file);
    assert_eq!(config.ca_file(), Some(pki.ca_file.as_path()));
    assert!(config.socket_url().starts_with("wss://"));
    let (ann, _events) = within(Client::connect(config)).await.expect("connect");
    ann.join("general").await.expect("join");
    let ack = ann.send("general", "over TLS").await.expect("send");
    assert_eq!(ack.seq, 1);

    // The socket URL form, to the IP address the certificate also names.
    let socket = format!("wss://127.0.0.1:{}/ws", server.addr.port());
    let config = trusting(&socket, "bob", &pki.ca_file);
    let (bob, _events) = within(Client::connect(config)).await.expect("connect");
    let joined = bob.join("general").await.expect("join");
    assert_eq!(joined.history.len(), 1);
    assert_eq!(joined.history[0].text, "over TLS");

    let api = RestClient::new(&server.url())
        .expect("rest")
        .with_ca_file(&pki.ca_file)
        .expect("CA file");
    let grant = within(api.issue_token("cid")).await.expect("token");
    assert_eq!(grant.user, "cid");
    let rooms = within(api.rooms()).await.expect("rooms");
    assert!(rooms.iter().any(|r| r.name == "general"), "{rooms:?}");
    let page = within(api.history("general", HistoryQuery::latest()))
        .await
        .expect("history");
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].text, "over TLS");

    ann.close().await.expect("close");
    bob.close().await.expect("close");
    server.shutdown().await;
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_with_a_tls_error() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki).await;

    let without = config(&server.url(), "ann");
    let e = within(Client::connect(without))
        .await
        .expect_err("untrusted");
    assert!(untrusted(&e), "{e:?}");
    assert!(e.is_connection());

    let wrong = trusting(&server.url(), "ann", &pki.other_ca_file);
    let e = within(Client::connect(wrong)).await.expect_err("wrong CA");
    assert!(untrusted(&e), "{e:?}");
    assert!(e.to_string().contains("wss://localhost:"), "{e}");

    let api = RestClient::new(&server.url()).expect("rest");
    let e = within(api.rooms()).await.expect_err("untrusted");
    assert!(untrusted(&e), "{e:?}");
    let api = api.with_ca_file(&pki.other_ca_file).expect("CA file");
    let e = within(api.issue_token("ann")).await.expect_err("wrong CA");
    assert!(untrusted(&e), "{e:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn tls_to_a_plain_server_is_a_tls_error_not_a_certificate_one() {
    let mut plain = TestServer::start().await;
    let url = format!("https://{}", plain.addr);
    let e = within(Client::connect(config(&url, "ann")))
        .await
        .expect_err("not TLS");
    assert!(not_tls(&e), "{e:?}");
    let e = within(RestClient::new(&url).expect("rest").rooms())
        .await
        .expect_err("not TLS");
    assert!(not_tls(&e), "{e:?}");
    plain.shutdown().await.expect("the plain server stops");
}

#[tokio::test]
async fn shutting_a_tls_server_down_closes_its_sockets_with_1001() {
    let pki = Pki::new();
    let server = TlsServer::start(&pki).await;
    let config = trusting(&server.url(), "ann", &pki.ca_file).with_reconnect(false);
    let (ann, mut events) = within(Client::connect(config)).await.expect("connect");
    ann.join("general").await.expect("join");
    server.shutdown().await;
    loop {
        match next_state(&mut events).await {
            ConnectionState::Disconnected(DisconnectReason::ClosedByServer { code, .. }) => {
                assert_eq!(code, 1001);
                break;
            }
            ConnectionState::Closed(reason) => panic!("closed without a close frame: {reason}"),
            _ => {}
        }
    }
}

/// `chat-cli` against the TLS server.
#[cfg(feature = "cli")]
mod cli {
    use std::process::Output;

    use super::*;

    const BIN: &str = env!("CARGO_BIN_EXE_chat-cli");

    /// Runs `chat-cli` with `args` and no `CHATCORE_…` variables but `env`.
    async fn chat_cli(args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = tokio::process::Command::new(BIN);
        for (key, _) in std::env::vars() {
            if key.starts_with("CHATCORE_") {
                cmd.env_remove(key);
            }
        }
        cmd.args(args).envs(env.iter().copied()).kill_on_drop(true);
        within(cmd.output()).await.expect("run chat-cli")
    }

    fn text(bytes: &[u8]) -> String {
        String::from_utf8_lossy(bytes).into_owned()
    }

    #[tokio::test]
    async fn chat_cli_sends_and_reads_over_tls_with_ca_file() {
        let pki = Pki::new();
        let server = TlsServer::start(&pki).await;
        let url = server.url();
        let ca = pki.ca_file.to_str().expect("UTF-8 path");
        let sent = chat_cli(
            &[
                "--server",
                &url,
                "--ca-file",
                ca,
                "--user",
                "ann",
                "send",
                "ops",
                "deployed",
            ],
            &[],
        )
        .await;
        assert_eq!(sent.status.code(), Some(0), "{}", text(&sent.stderr));
        assert_eq!(text(&sent.stdout), "sent #1 to ops\n");

        // Anonymous history goes over the REST API; the CA file comes from the environment.
        let history = chat_cli(
            &["--server", &url, "--json", "history", "ops"],
            &[("CHATCORE_CA_FILE", ca)],
        )
        .await;
        assert_eq!(history.status.code(), Some(0), "{}", text(&history.stderr));
        let line: serde_json::Value =
            serde_json::from_str(text(&history.stdout).trim()).expect("one JSON line");
        assert_eq!(line["text"], "deployed");
        server.shutdown().await;
    }

    #[tokio::test]
    async fn chat_cli_without_the_ca_says_what_to_do() {
        let pki = Pki::new();
        let server = TlsServer::start(&pki).await;
        let url = server.url();
        let expected = "chat-cli: error: TLS: the server's certificate is not trusted \
                        (UnknownIssuer); pass --ca-file (CHATCORE_CA_FILE) with the CA that \
                        signed it\n";
        for args in [
            vec!["--server", &url, "--user", "ann", "send", "ops", "hi"],
            vec!["--server", &url, "rooms"],
        ] {
            let out = chat_cli(&args, &[]).await;
            assert_eq!(out.status.code(), Some(3), "{args:?}");
            assert_eq!(text(&out.stderr), expected, "{args:?}");
        }
        let other = pki.other_ca_file.to_str().expect("UTF-8 path");
        let out = chat_cli(&["--server", &url, "--ca-file", other, "rooms"], &[]).await;
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(text(&out.stderr), expected);

        let out = chat_cli(
            &["--server", &url, "--ca-file", "/nonexistent.pem", "rooms"],
            &[],
        )
        .await;
        assert_eq!(out.status.code(), Some(2));
        let err = text(&out.stderr);
        assert!(
            err.contains("/nonexistent.pem") && err.lines().count() == 1,
            "{err}"
        );
        server.shutdown().await;
    }
}
