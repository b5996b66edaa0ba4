//! `Client::start`: a client made before its server is up connects in the background,
//! retrying with backoff, and runs the commands that waited for it; one refused for good
//! ends its stream and fails what waited.

mod common;

use std::net::SocketAddr;

use chatcore::Hub;
use chatcore_client::{Client, ConnectionState, DisconnectReason, Error};
use chatcore_testkit::{TestServer, jwt, within, ws_config};
use chatcore_transport_ws::serve;
use common::*;
use tokio::net::TcpListener;

/// A loopback address nothing listens on (yet).
fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_client_connects_once_the_server_is_up_and_runs_what_waited() {
    let addr = free_addr();
    let (client, mut events) = Client::start(config(&format!("http://{addr}"), "ann"));
    // Not connected; on the other worker the first attempt may already have been refused.
    let state = client.state();
    assert!(
        matches!(
            state,
            ConnectionState::Connecting | ConnectionState::Reconnecting { attempt: 1, .. }
        ),
        "{state:?}"
    );
    assert_eq!(client.session(), None);
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { client.join("general").await }
    });
    // Nobody listens: the first attempt fails, and the client keeps trying.
    for expected in 1..=2 {
        match next_state(&mut events).await {
            ConnectionState::Reconnecting { attempt, .. } => assert_eq!(attempt, expected),
            other => panic!("expected a retry, got {other:?}"),
        }
    }

    let listener = TcpListener::bind(addr)
        .await
        .expect("bind the server's port");
    let hub = Hub::builder().build().await.expect("hub");
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, hub.clone(), ws_config(), async {
        let _ = stopped.await;
    }));
    loop {
        match next_state(&mut events).await {
            ConnectionState::Connected(session) => {
                assert_eq!(session.user, "ann");
                break;
            }
            ConnectionState::Reconnecting { .. } => {}
            other => panic!("expected to connect, got {other:?}"),
        }
    }
    let joined = within(waiting)
        .await
        .expect("task")
        .expect("the join that waited");
    assert_eq!(joined.room, "general");
    let ack = client.send("general", "made it").await.expect("send");
    assert_eq!(ack.seq, 1);
    assert_eq!(next_message(&mut events).await.text, "made it");
    assert!(matches!(client.state(), ConnectionState::Connected(_)));
}

#[tokio::test]
async fn a_started_client_refused_for_good_closes_and_fails_what_waited() {
    let server = TestServer::with(Hub::builder().authenticator(jwt(false)), ws_config()).await;
    let (client, mut events) = Client::start(config(&server.url(""), "guest"));
    let waiting = client.rooms();
    let (refused, state) = tokio::join!(waiting, next_state(&mut events));
    assert!(
        matches!(refused, Err(Error::Unauthorized(_))),
        "{refused:?}"
    );
    match state {
        ConnectionState::Closed(DisconnectReason::GaveUp(e)) => {
            assert!(e.is_auth(), "{e:?}");
        }
        other => panic!("expected the client to give up, got {other:?}"),
    }
    assert_eq!(within(events.recv()).await, None, "the stream ends");
    assert!(matches!(
        client.join("general").await,
        Err(Error::Unauthorized(_))
    ));
}

#[tokio::test]
async fn without_reconnect_a_started_client_makes_one_attempt() {
    let url = format!("http://{}", free_addr());
    let (_client, mut events) = Client::start(config(&url, "ann").with_reconnect(false));
    match next_state(&mut events).await {
        ConnectionState::Closed(DisconnectReason::GaveUp(e)) => {
            assert!(matches!(*e, Error::Connect { .. }), "{e:?}");
        }
        other => panic!("expected one attempt, got {other:?}"),
    }
}
