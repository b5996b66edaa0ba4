//! The embed-axum composition: an existing service's routes and chatcore's router under
//! `/chat`, served on a real socket.

use std::time::Duration;

use chatcore::Hub;
use chatcore::protocol::{Codec, Event};
use chatcore_examples::embed;
use chatcore_testkit::{HttpResponse, get};
use chatcore_transport_ws::{Transport, WsConfig};
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

#[tokio::test]
async fn own_routes_and_mounted_chat_both_answer() {
    let hub = Hub::builder().build().await.expect("hub");
    let chat = Transport::new(hub, WsConfig::default());
    let app = embed::app(chat.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });

    // The service's own routes.
    let HttpResponse { status, body, .. } = get(addr, "/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Shop"), "{body}");
    let HttpResponse { status, body, .. } = get(addr, "/api/orders").await;
    assert_eq!(status, 200);
    let orders: serde_json::Value = serde_json::from_str(&body).expect("orders JSON");
    assert_eq!(orders["orders"][0]["item"], "teapot");

    // chatcore under /chat.
    let HttpResponse { status, body, .. } = get(addr, "/chat/health").await;
    assert_eq!((status, body.as_str()), (200, "ok"));
    let HttpResponse { status, body, .. } = get(addr, "/chat/api/rooms").await;
    assert_eq!(status, 200, "{body}");
    let HttpResponse { status, body, .. } = get(addr, "/chat").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("src=\"/chat/js/main.js\"") && body.contains("href=\"/chat/app.css\""),
        "the web client is served, its assets under /chat: {body}"
    );
    let HttpResponse { status, body, .. } = get(addr, "/chat/js/state.js").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("chatcore.v1.json"), "its modules are served");
    let HttpResponse { status, .. } = get(addr, "/chat/").await;
    assert_eq!(status, 308, "/chat/ redirects to /chat");

    // The socket works mounted, too.
    let mut request = format!("ws://{addr}/chat/ws?user=ann")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "chatcore.v1.json".parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket handshake at /chat/ws");
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("welcome in time")
        .expect("a frame")
        .expect("no error");
    let Message::Text(text) = first else {
        panic!("expected a text frame, got {first:?}");
    };
    match Codec::Json.decode_event(text.as_bytes()).expect("event") {
        Event::Welcome { user, .. } => assert_eq!(user, "ann"),
        other => panic!("expected welcome, got {other:?}"),
    }
    drop(ws);

    let _ = stop.send(());
    server
        .await
        .expect("no panic")
        .expect("axum served cleanly");
    chat.shutdown().await.expect("chat shut down");
}
