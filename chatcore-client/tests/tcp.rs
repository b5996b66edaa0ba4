//! `tcp://` servers: the same `Client` over chatcore's TCP transport, with its refusals typed
//! like the WebSocket handshake's.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use chatcore::Hub;
use chatcore_client::{Client, ClientConfig, Codec, Error};
use chatcore_testkit::{BOUND, jwt, token};
use chatcore_transport_tcp::{TcpConfig, TcpTransport};
use tokio::net::TcpListener;

/// A TCP transport on `127.0.0.1:0` for `hub`, accepting until the test ends.
async fn tcp_server(hub: Hub, config: TcpConfig) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let transport = TcpTransport::new(hub, config);
    tokio::spawn(async move { transport.accept(listener, std::future::pending()).await });
    addr
}

fn config(addr: SocketAddr) -> ClientConfig {
    ClientConfig::new(format!("tcp://{addr}"))
        .expect("url")
        .with_connect_timeout(Duration::from_secs(5))
        .expect("timeout")
}

#[tokio::test]
async fn commands_resolve_over_tcp_in_both_codecs() {
    let hub = Hub::builder().build().await.expect("hub");
    let addr = tcp_server(hub, TcpConfig::default()).await;
    for (user, codec) in [("ann", Codec::Json), ("bob", Codec::MsgPack)] {
        let (client, _events) = Client::connect(config(addr).with_guest(user).with_codec(codec))
            .await
            .expect("connect");
        assert_eq!(client.session().map(|s| s.user), Some(user.to_owned()));
        client.join("general").await.expect("join");
        let ack = tokio::time::timeout(BOUND, client.send("general", "over tcp"))
            .await
            .expect("in time")
            .expect("ack");
        assert!(ack.seq >= 1);
        let _ = client.close().await;
    }
}

#[tokio::test]
async fn refusals_are_typed_like_the_websocket_handshake() {
    let hub = Hub::builder()
        .authenticator(jwt(false))
        .build()
        .await
        .expect("hub");
    let addr = tcp_server(
        hub,
        TcpConfig::default().with_max_connections(1).expect("cap"),
    )
    .await;
    let guest = Client::connect(config(addr).with_guest("mallory")).await;
    match guest {
        Err(Error::Unauthorized(why)) => assert!(why.contains("guests are not allowed"), "{why}"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    let (carol, _events) = Client::connect(config(addr).with_token(token("carol")))
        .await
        .expect("a token is accepted");
    let full = Client::connect(config(addr).with_token(token("dave"))).await;
    assert!(
        matches!(full, Err(Error::Refused { status: 503, .. })),
        "{full:?}"
    );
    let _ = carol.close().await;
}
