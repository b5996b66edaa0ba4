//! TLS on the TCP transport (feature `tls`) over real sockets: the same frames inside TLS, a
//! peer that never finishes its TLS handshake dropped after the handshake timeout, and
//! replies that outrun a client that does not read.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chatcore::protocol::{Codec, Command, Event, Request};
use chatcore::transport::framed::{self, Hello};
use chatcore::{Hub, HubBuilder};
use chatcore_testkit::SentBack;
use chatcore_transport_tcp::rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
};
use chatcore_transport_tcp::rustls::{self, ClientConfig, RootCertStore, ServerConfig};
use chatcore_transport_tcp::{TcpConfig, TcpTransport};
use common::{BOUND, TestServer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A server certificate for `localhost` and a client that trusts it.
fn pki() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    let cert = params.self_signed(&key).expect("certificate");
    let der = CertificateDer::from(cert.der().to_vec());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![der.clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .expect("server config");
    let mut roots = RootCertStore::empty();
    roots.add(der).expect("root");
    let client = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    (Arc::new(server), Arc::new(client))
}

async fn tls_server(config: TcpConfig) -> (TestServer, Arc<ClientConfig>) {
    tls_server_with(Hub::builder(), config).await
}

async fn tls_server_with(
    builder: HubBuilder,
    config: TcpConfig,
) -> (TestServer, Arc<ClientConfig>) {
    let (server, client) = pki();
    let hub = builder.build().await.expect("hub");
    let transport = TcpTransport::with_tls(hub, config, server);
    assert!(transport.is_tls());
    (TestServer::serving(transport).await, client)
}

/// The next non-empty frame's event.
async fn event(io: &mut (impl AsyncRead + Unpin)) -> Event {
    next_event(io, &mut bytes::BytesMut::new()).await
}

/// The next non-empty frame's event, `buf` holding what was read past the last one.
async fn next_event(io: &mut (impl AsyncRead + Unpin), buf: &mut bytes::BytesMut) -> Event {
    loop {
        if let Some(frame) = framed::decode(buf, 1 << 20).expect("frame") {
            if !frame.is_empty() {
                return serde_json::from_slice(&frame)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&frame)));
            }
            continue;
        }
        let n = io.read_buf(buf).await.expect("read");
        assert!(n > 0, "the server ended the TLS stream");
    }
}

/// A guest `name` over TLS who got its welcome.
async fn welcomed(
    server: &TestServer,
    client: Arc<ClientConfig>,
    name: &str,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let tcp = TcpStream::connect(server.addr).await.expect("connect");
    let host = ServerName::try_from("localhost").expect("name");
    let mut tls = TlsConnector::from(client)
        .connect(host, tcp)
        .await
        .expect("TLS handshake");
    let mut hello = Hello::new(Codec::Json);
    hello.user = Some(name.into());
    let mut out = bytes::BytesMut::new();
    framed::encode(&hello.to_json(), &mut out).expect("frame");
    tls.write_all(&out).await.expect("hello");
    let welcome = tokio::time::timeout(BOUND, event(&mut tls))
        .await
        .expect("welcome in time");
    assert!(
        matches!(welcome, Event::Welcome { ref user, .. } if user == name),
        "{welcome:?}"
    );
    tls
}

#[tokio::test]
async fn a_guest_says_hello_inside_tls_and_is_welcomed() {
    let (server, client) = tls_server(TcpConfig::default()).await;
    welcomed(&server, client, "ann").await;
    assert_eq!(server.transport.open_connections(), 1);
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_dropped_without_delaying_others() {
    let config = TcpConfig::default()
        .with_handshake_timeout(Duration::from_millis(500))
        .expect("config");
    let (server, client) = tls_server(config).await;
    // Connects and never starts the TLS handshake.
    let mut stalled = TcpStream::connect(server.addr).await.expect("connect");
    // Meanwhile another client completes its TLS handshake and its hello.
    let _ann = tokio::time::timeout(Duration::from_millis(400), welcomed(&server, client, "ann"))
        .await
        .expect("a stalled peer must not hold up other handshakes");
    let mut sink = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), stalled.read(&mut sink))
        .await
        .expect("the stalled connection must be dropped after the handshake timeout");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    // Its slot under the connection cap is free again; the good client still holds one.
    tokio::time::timeout(BOUND, async {
        while server.transport.open_connections() != 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the stalled connection's slot returns");
}

/// Over TLS the writer alone writes, through a split half (corked, without direct writes).
/// A client that writes 400 sends of 60 KB before it reads a byte fills both sockets with
/// replies (24 MB): the writer's writes block on the full socket, and every reply still
/// arrives, whole and in order, once the client reads.
#[tokio::test]
async fn replies_that_outrun_a_tls_client_that_does_not_read_arrive_whole_and_in_order() {
    const SENDS: u64 = 400;
    let (hub, config) = common::unthrottled();
    let (server, client) = tls_server_with(hub, config).await;
    let mut tls = welcomed(&server, client, "ann").await;
    let mut buf = bytes::BytesMut::new();
    let join = Command::Join {
        room: "r".into(),
        resume_after: None,
    };
    let mut out = Vec::new();
    framed::encode(&Codec::Json.encode(&Request::new(1, join)), &mut out).expect("frame");
    tls.write_all(&out).await.expect("join");
    while !matches!(next_event(&mut tls, &mut buf).await, Event::Joined { .. }) {}
    let body = |i: u64| format!("{i:08}{}", "y".repeat(60_000));
    let requests = common::framed_sends("r", SENDS, 1_000, body);
    tokio::time::timeout(BOUND, tls.write_all(&requests))
        .await
        .expect("the server reads on while its replies wait")
        .expect("write");
    let mut back = SentBack::new();
    while !back.has(SENDS) {
        let event = tokio::time::timeout(BOUND, next_event(&mut tls, &mut buf))
            .await
            .expect("every reply in time");
        back.take(event);
    }
    back.assert_in_order(SENDS, 1_000, body);
}
