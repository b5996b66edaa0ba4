//! The client against a real server over real sockets: typed errors, auth, REST reads and
//! the connection's life cycle (unreachable server, shutdown, restart, close, drop).

mod common;

use chatcore::Hub;
use chatcore_client::{
    Client, ClientEvent, ConnectionState, DisconnectReason, Error, ErrorCode, HistoryQuery,
    RestClient,
};
use chatcore_testkit::*;
use common::*;

#[tokio::test]
async fn server_errors_are_typed() {
    let server = TestServer::start().await;
    let (ann, _events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("connect");
    let code = |r: Result<_, Error>| match r {
        Err(Error::Server { code, .. }) => code,
        other => panic!("expected a server error, got {other:?}"),
    };
    assert_eq!(
        code(ann.send("general", "x").await.map(|_| ())),
        ErrorCode::NotMember
    );
    ann.join("general").await.expect("join");
    assert_eq!(
        code(ann.join("general").await.map(|_| ())),
        ErrorCode::Invalid
    );
    let bad = HistoryQuery::after(5).and_before(3);
    assert_eq!(
        code(ann.history("general", bad).await.map(|_| ())),
        ErrorCode::BadCursor
    );
    assert_eq!(
        code(
            ann.history("nope", HistoryQuery::latest())
                .await
                .map(|_| ())
        ),
        ErrorCode::UnknownRoom
    );
    // Refused locally, before sending.
    assert!(matches!(
        ann.send("general", "   ").await,
        Err(Error::Invalid(_))
    ));
    let huge = "x".repeat(9000);
    assert!(matches!(
        ann.send("general", huge).await,
        Err(Error::Invalid(_))
    ));
    // The connection is still fine.
    assert_eq!(ann.send("general", "ok").await.expect("send").seq, 1);
}

#[tokio::test]
async fn auth_failures_are_typed() {
    // Guests refused: a JWT server without guests.
    let server = TestServer::with(Hub::builder().authenticator(jwt(false)), ws_config()).await;
    let guest = Client::connect(config(&server.url(""), "ann")).await;
    assert!(
        matches!(&guest, Err(Error::Unauthorized(m)) if m.contains("guests")),
        "{guest:?}"
    );
    let forged = config(&server.url(""), "x").with_token("not.a.jwt");
    let forged = Client::connect(forged).await;
    assert!(
        matches!(&forged, Err(e @ Error::Unauthorized(_)) if e.is_auth()),
        "{forged:?}"
    );
    let none = config(&server.url(""), "x").with_auth(chatcore_client::Auth::None);
    assert!(matches!(
        Client::connect(none).await,
        Err(Error::Unauthorized(_))
    ));
    // A valid token works and names the user.
    let good = config(&server.url(""), "x").with_token(token("dana"));
    let (dana, _events) = Client::connect(good).await.expect("token accepted");
    assert_eq!(dana.session().map(|s| s.user), Some("dana".to_owned()));
    // This server issues no tokens to guests.
    let api = RestClient::new(&server.url("")).expect("rest");
    let refused = api.issue_token("eve").await;
    assert!(
        matches!(refused, Err(Error::Refused { status: 403, .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn rest_token_and_anonymous_reads() {
    let server = TestServer::with(Hub::builder().authenticator(jwt(true)), ws_config()).await;
    let api = RestClient::new(&server.url("")).expect("rest");
    let grant = api.issue_token("ann").await.expect("token");
    assert_eq!(grant.user, "ann");
    let cfg = config(&server.url(""), "ignored").with_token(grant.token);
    let (ann, _events) = Client::connect(cfg)
        .await
        .expect("connect with the issued token");
    ann.join("a/b?c").await.expect("join");
    ann.send("a/b?c", "odd room name").await.expect("send");
    let rooms = api.rooms().await.expect("rooms");
    assert_eq!(rooms[0].name, "a/b?c");
    let page = api
        .history("a/b?c", HistoryQuery::after(0))
        .await
        .expect("history");
    assert_eq!(page.messages[0].text, "odd room name");
    let missing = api.history("nope", HistoryQuery::latest()).await;
    assert!(
        matches!(
            missing,
            Err(Error::Refused {
                status: 404,
                code: ErrorCode::UnknownRoom,
                ..
            })
        ),
        "{missing:?}"
    );
}

#[tokio::test]
async fn unreachable_server_is_a_connect_error() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let result = Client::connect(config(&format!("http://{addr}"), "ann")).await;
    assert!(
        matches!(&result, Err(e @ Error::Connect { .. }) if e.is_connection()),
        "{result:?}"
    );
}

#[tokio::test]
async fn server_shutdown_disconnects_then_closes_when_attempts_run_out() {
    let mut server = TestServer::start().await;
    let cfg = config(&server.url(""), "ann").with_max_reconnect_attempts(Some(2));
    let (ann, mut events) = Client::connect(cfg).await.expect("connect");
    ann.join("general").await.expect("join");
    assert!(matches!(
        next_state(&mut events).await,
        ConnectionState::Connected(_)
    ));
    server.shutdown().await.expect("serve");

    let state = next_state(&mut events).await;
    assert_eq!(
        state,
        ConnectionState::Disconnected(DisconnectReason::ClosedByServer {
            code: 1001,
            reason: "server shutting down: reconnect and resume".into()
        })
    );
    for attempt in 1..=2 {
        match next_state(&mut events).await {
            ConnectionState::Reconnecting { attempt: a, .. } => assert_eq!(a, attempt),
            other => panic!("expected a reconnect attempt, got {other:?}"),
        }
    }
    let closed = next_state(&mut events).await;
    assert!(
        matches!(&closed, ConnectionState::Closed(DisconnectReason::GaveUp(e)) if e.is_connection()),
        "{closed:?}"
    );
    assert!(
        within(events.recv()).await.is_none(),
        "the stream ends after Closed"
    );
    assert_eq!(ann.state(), closed);
    assert!(ann.send("general", "late").await.is_err());
}

#[tokio::test]
async fn commands_wait_across_a_restart_of_the_connection() {
    let server = TestServer::start().await;
    let proxy = Proxy::start(server.addr).await;
    let (ann, mut events) = Client::connect(config(&proxy.url(), "ann"))
        .await
        .expect("connect");
    ann.join("general").await.expect("join");
    assert!(matches!(
        next_state(&mut events).await,
        ConnectionState::Connected(_)
    ));
    proxy.cut();
    // Whether the command goes out before or after the reconnect, it is answered once.
    let ack = ann.send("general", "through the gap").await.expect("send");
    assert_eq!(ack.seq, 1);
    assert!(matches!(
        next_state(&mut events).await,
        ConnectionState::Disconnected(DisconnectReason::ConnectionLost(_))
    ));
    assert_eq!(next_message(&mut events).await.seq, 1);
    assert_eq!(server.stored("general").await.len(), 1);
}

#[tokio::test]
async fn close_ends_the_stream_and_refuses_commands() {
    let server = TestServer::start().await;
    let (ann, mut events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("connect");
    ann.join("general").await.expect("join");
    within(ann.close()).await.expect("close");
    within(ann.close()).await.expect("closing twice is fine");
    let mut last = None;
    while let Some(event) = within(events.recv()).await {
        last = Some(event);
    }
    assert_eq!(
        last,
        Some(ClientEvent::State(ConnectionState::Closed(
            DisconnectReason::ClientClosed
        )))
    );
    assert!(matches!(ann.ping().await, Err(Error::Closed)));
    nobody_left_in(&server, "general").await;
}

#[tokio::test]
async fn dropping_every_handle_closes_the_client() {
    let server = TestServer::start().await;
    let (ann, mut events) = Client::connect(config(&server.url(""), "ann"))
        .await
        .expect("connect");
    ann.join("general").await.expect("join");
    let clone = ann.clone();
    drop(ann);
    clone.ping().await.expect("a clone keeps it open");
    drop(clone);
    assert!(matches!(
        next_state(&mut events).await,
        ConnectionState::Connected(_)
    ));
    let closed = next_state(&mut events).await;
    assert_eq!(
        closed,
        ConnectionState::Disconnected(DisconnectReason::ClientClosed)
    );
    nobody_left_in(&server, "general").await;
}

/// Waits until the server sees nobody online in `room` (the client's session ended).
async fn nobody_left_in(server: &TestServer, room: &str) {
    eventually(|| async {
        server
            .hub
            .online(room, None)
            .await
            .is_ok_and(|u| u.is_empty())
    })
    .await;
}
