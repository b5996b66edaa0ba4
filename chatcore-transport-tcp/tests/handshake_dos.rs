//! Thousands of connections that never say hello neither lock real clients out nor stay
//! open past the handshake timeout.

mod common;

use std::time::Duration;

use chatcore::Hub;
use chatcore::protocol::{Codec, Event};
use chatcore::transport::HandshakeLimit;
use chatcore_testkit::{half_open, loopback, still_open_after};
use chatcore_transport_tcp::TcpConfig;
use common::*;

async fn a_real_client_gets_in(server: &TestServer) {
    let mut ann = Client::guest(server, "ann", Codec::Json).await;
    ann.join("lobby").await;
    assert!(matches!(
        ann.say("lobby", "still here").await,
        Event::Ack { .. }
    ));
}

/// 2,000 sockets from one peer: closed at once over the per-IP cap, the rest after the
/// handshake timeout (silent, or a length prefix with no payload); a real client gets in.
#[tokio::test]
async fn one_peer_with_two_thousand_half_open_sockets_locks_no_one_out() {
    let config = TcpConfig::default()
        .with_handshake_timeout(Duration::from_secs(2))
        .expect("config");
    let server = TestServer::with(Hub::builder(), config).await;
    let mut all = half_open(server.addr, loopback(1), 1000, b"").await;
    all.extend(half_open(server.addr, loopback(1), 1000, &[0, 0, 0, 40, b'{']).await);
    a_real_client_gets_in(&server).await;
    assert_eq!(
        still_open_after(all, Duration::from_secs(2) + BOUND).await,
        0
    );
}

/// 2,000 half-open sockets from 40 peers under a total cap that admits them all: all held,
/// all closed after the timeout, a real client still gets in.
#[tokio::test]
async fn two_thousand_held_handshakes_close_after_the_timeout() {
    let config = TcpConfig::default()
        .with_handshake_timeout(Duration::from_secs(2))
        .expect("config")
        .with_handshake_limit(HandshakeLimit::new(4096, 64).expect("limit"));
    let server = TestServer::with(Hub::builder(), config).await;
    let mut held = Vec::new();
    for n in 0..40 {
        held.extend(half_open(server.addr, loopback(10 + n), 50, b"").await);
    }
    a_real_client_gets_in(&server).await;
    assert_eq!(
        still_open_after(held, Duration::from_secs(2) + BOUND).await,
        0
    );
}
