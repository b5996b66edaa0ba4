//! DNS rebinding, over real sockets: a page that points its own name at the server sends
//! that name as `Host` and `Origin`; the server answers to neither.

use chatcore::Hub;
use chatcore_testkit::*;

#[tokio::test]
async fn a_rebound_name_is_refused_for_websocket_and_rest() {
    let server = TestServer::start().await;
    let port = server.addr.port();
    let host = format!("rebind.example:{port}");
    let origin = format!("http://rebind.example:{port}");
    let headers = [("Host", host.as_str()), ("Origin", origin.as_str())];

    let (status, body) = refusal(open(&server.ws_url("?user=ann"), None, &headers).await);
    assert_eq!(status, 421, "{body}");
    assert!(body.contains("rebind.example"), "{body}");
    assert!(
        server
            .hub
            .online("lobby", None)
            .await
            .unwrap_or_default()
            .is_empty(),
        "no session was made"
    );

    for (method, path, body) in [
        ("GET", "/api/rooms", None),
        ("GET", "/api/rooms/lobby/messages", None),
        ("POST", "/api/token", Some(r#"{"user":"ann"}"#)),
        ("GET", "/", None),
    ] {
        let response = http(server.addr, method, path, &headers, body).await;
        assert_eq!(response.status, 421, "{method} {path}: {}", response.body);
    }

    // The same server answers to its loopback name, its IP and with a matching Origin.
    for name in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let origin = format!("http://{name}");
        let headers = [("Host", name.as_str()), ("Origin", origin.as_str())];
        assert!(
            open(&server.ws_url("?user=ann"), None, &headers)
                .await
                .is_ok(),
            "{name}"
        );
    }
}

#[tokio::test]
async fn configured_public_names_are_answered() {
    let config = ws_config()
        .with_allowed_hosts(["chat.example.com"])
        .expect("config");
    let server = TestServer::with(Hub::builder(), config).await;
    let port = server.addr.port();
    let host = format!("chat.example.com:{port}");
    let origin = format!("http://chat.example.com:{port}");
    let headers = [("Host", host.as_str()), ("Origin", origin.as_str())];
    assert!(
        open(&server.ws_url("?user=ann"), None, &headers)
            .await
            .is_ok()
    );
    let rooms = http(server.addr, "GET", "/api/rooms", &headers, None).await;
    assert_eq!(rooms.status, 200, "{}", rooms.body);

    // A page elsewhere still may not open a socket in the user's name.
    let foreign = [("Host", host.as_str()), ("Origin", "https://evil.example")];
    let (status, body) = refusal(open(&server.ws_url("?user=ann"), None, &foreign).await);
    assert_eq!(status, 403, "{body}");
}

#[tokio::test]
async fn lossy_query_strings_are_refused() {
    let server = TestServer::start().await;
    for query in ["?user=%FF%FE", "?user=a%C0b"] {
        let (status, body) = refusal(open(&server.ws_url(query), None, &[]).await);
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains("UTF-8"), "{body}");
    }
    let r = get(server.addr, "/api/rooms/lobby/messages?before=%FF").await;
    assert_eq!(r.status, 400, "{}", r.body);
    let ok = open(&server.ws_url("?user=g%C3%A9n%C3%A9ral"), None, &[]).await;
    assert!(ok.is_ok(), "real UTF-8 passes");
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let server = TestServer::start().await;
    for path in ["/", "/health", "/api/rooms", "/nope"] {
        let r = get(server.addr, path).await;
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert!(
            r.header("content-security-policy").is_some_and(|c| {
                c.contains("frame-ancestors 'none'")
                    && c.contains("script-src 'self'")
                    && c.contains("style-src 'self'")
            }),
            "{path}"
        );
    }
}
