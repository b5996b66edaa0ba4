//! TLS on the TCP transport (feature `tls`) over real sockets: the same frames inside TLS, and
//! a peer that never finishes its TLS handshake dropped after the handshake timeout.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chatcore::Hub;
use chatcore::protocol::{Codec, Event};
use chatcore::transport::framed::{self, Hello};
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
    let (server, client) = pki();
    let hub = Hub::builder().build().await.expect("hub");
    let transport = TcpTransport::with_tls(hub, config, server);
    assert!(transport.is_tls());
    (TestServer::serving(transport).await, client)
}

/// The next non-empty frame's event.
async fn event(io: &mut (impl AsyncRead + Unpin)) -> Event {
    let mut buf = bytes::BytesMut::new();
    loop {
        if let Some(frame) = framed::decode(&mut buf, 1 << 20).expect("frame") {
            if !frame.is_empty() {
                return serde_json::from_slice(&frame)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&frame)));
            }
            continue;
        }
        let n = io.read_buf(&mut buf).await.expect("read");
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
