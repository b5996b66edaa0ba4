//! The HTTP surface over real sockets: probes, metrics, REST API, tokens, the web client.

use std::sync::atomic::Ordering;

use chatcore::Hub;
use chatcore_testkit::*;

#[tokio::test]
async fn health_and_ready() {
    let bus = FlakyBus::default();
    let down = bus.down.clone();
    let server = TestServer::with(Hub::builder().bus(bus), ws_config()).await;
    let r = get(server.addr, "/health").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    let r = get(server.addr, "/ready").await;
    assert_eq!((r.status, r.body.as_str()), (200, "ready"));

    down.store(true, Ordering::Relaxed);
    let r = get(server.addr, "/ready").await;
    assert_eq!((r.status, r.error_code().as_str()), (503, "unavailable"));
    assert!(
        r.body.contains("connection refused"),
        "the reason is given: {}",
        r.body
    );
    let r = get(server.addr, "/health").await;
    assert_eq!(r.status, 200, "liveness does not depend on the backends");
}

#[tokio::test]
async fn metrics_count_connections_and_messages() {
    let server = TestServer::start().await;
    let mut ann = Probe::guest(&server, "ann").await;
    ann.join("general").await;
    ann.say("general", "one").await;
    // A refused handshake is counted too.
    let _ = open(&server.ws_url(""), None, &[]).await;
    let r = get(server.addr, "/metrics").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain"))
    );
    for needle in [
        "chatcore_ws_connections_open 1",
        "chatcore_ws_connections_total 1",
        "chatcore_ws_handshakes_rejected_total{reason=\"unauthorized\"} 1",
        "chatcore_messages_in_total 1",
        "chatcore_rooms_loaded 1",
        "chatcore_sessions 1",
        "chatcore_deliveries_total",
        "chatcore_fanouts_total 1",
        "chatcore_fanout_nanoseconds_total",
        "chatcore_queue_drops_total 0",
        "chatcore_slow_consumers_total 0",
        "chatcore_gaps_repaired_total 0",
        "chatcore_ws_frames_received_total",
        "chatcore_ws_write_seconds_bucket",
    ] {
        assert!(r.body.contains(needle), "missing {needle} in\n{}", r.body);
    }
}

#[tokio::test]
async fn rooms_and_room_info() {
    let server = TestServer::start().await;
    let mut ann = Probe::guest(&server, "ann").await;
    ann.join("general").await;
    ann.join("random").await;
    ann.say("general", "x").await;

    let r = get(server.addr, "/api/rooms").await;
    assert_eq!(r.status, 200);
    let rooms = r.json()["rooms"].as_array().cloned().expect("rooms");
    let names: Vec<&str> = rooms.iter().filter_map(|r| r["name"].as_str()).collect();
    assert_eq!(names, ["general", "random"]);
    assert_eq!(rooms[0]["members"], 1);
    assert_eq!(rooms[0]["online"], 1);
    assert_eq!(rooms[0]["kind"], "public");

    let r = get(server.addr, "/api/rooms/general").await;
    assert_eq!(r.status, 200);
    let info = r.json();
    assert_eq!(
        (info["name"].as_str(), info["last_seq"].as_u64()),
        (Some("general"), Some(1))
    );

    let r = get(server.addr, "/api/rooms/nowhere").await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "unknown_room"));
    let r = get(server.addr, "/api/rooms/nowhere/messages").await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "unknown_room"));
}

#[tokio::test]
async fn message_pages_and_bad_query_parameters() {
    let server = TestServer::start().await;
    let mut ann = Probe::guest(&server, "ann").await;
    ann.join("general").await;
    for i in 1..=5 {
        ann.say("general", &format!("m{i}")).await;
    }
    let page = |path: &str| {
        let addr = server.addr;
        let path = format!("/api/rooms/general/messages{path}");
        async move {
            let r = get(addr, &path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            let v = r.json();
            let seqs: Vec<u64> = v["messages"]
                .as_array()
                .expect("messages")
                .iter()
                .filter_map(|m| m["seq"].as_u64())
                .collect();
            (seqs, v["has_more"].as_bool().expect("has_more"))
        }
    };
    assert_eq!(page("").await, (vec![1, 2, 3, 4, 5], false));
    assert_eq!(page("?limit=2").await, (vec![4, 5], true));
    assert_eq!(page("?before=4&limit=2").await, (vec![2, 3], true));
    assert_eq!(page("?after=3").await, (vec![4, 5], false));
    assert_eq!(page("?after=1&before=4").await, (vec![2, 3], false));
    assert_eq!(
        page("?limit=100000").await,
        (vec![1, 2, 3, 4, 5], false),
        "clamped"
    );
    assert_eq!(
        page("?limit=0").await.0,
        Vec::<u64>::new(),
        "as over WebSocket"
    );
    assert_eq!(
        page("?unknown=1").await.0.len(),
        5,
        "unknown parameters are ignored"
    );

    for (query, code) in [
        ("?limit=abc", "bad_request"),
        ("?before=-1", "bad_request"),
        ("?after=1.5", "bad_request"),
        ("?before=2&after=5", "bad_cursor"),
    ] {
        let r = get(server.addr, &format!("/api/rooms/general/messages{query}")).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, code),
            "{query}: {}",
            r.body
        );
    }
    let r = get_as(server.addr, "/api/rooms/general/messages", "not-a-token").await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    assert!(r.header("www-authenticate").is_some());
}

#[tokio::test]
async fn tokens_are_issued_only_while_guests_are_allowed() {
    let server = TestServer::with(Hub::builder().authenticator(jwt(true)), ws_config()).await;
    let post = |body: &'static str| http(server.addr, "POST", "/api/token", &[], Some(body));
    let r = post(r#"{"user":"ann"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let issued = r.json()["token"].as_str().expect("token").to_owned();
    // The token opens a socket.
    let mut ann = Probe::open(
        &server,
        &format!("?token={issued}"),
        chatcore::protocol::Codec::Json,
        false,
    )
    .await;
    ann.join("general").await;

    let r = post(r#"{"user":"bad name"}"#).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "invalid"));
    let r = post(r#"{"name":"ann"}"#).await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    let r = post("{not json").await;
    assert_eq!((r.status, r.error_code().as_str()), (400, "bad_request"));
    let r = http(server.addr, "GET", "/api/token", &[], None).await;
    assert_eq!(r.status, 405);

    let closed = TestServer::with(Hub::builder().authenticator(jwt(false)), ws_config()).await;
    let r = http(
        closed.addr,
        "POST",
        "/api/token",
        &[],
        Some(r#"{"user":"ann"}"#),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
    // The guest token is no credential on the guests-off server with the same secret.
    let (status, body) =
        refusal(open(&closed.ws_url(&format!("?token={issued}")), None, &[]).await);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("guest"), "{body}");
    let r = get_as(closed.addr, "/api/rooms/general/messages", &issued).await;
    assert_eq!((r.status, r.error_code().as_str()), (401, "unauthorized"));
    // Guests without a signing secret: nothing to sign with.
    let guests = TestServer::start().await;
    let r = http(
        guests.addr,
        "POST",
        "/api/token",
        &[],
        Some(r#"{"user":"ann"}"#),
    )
    .await;
    assert_eq!((r.status, r.error_code().as_str()), (403, "forbidden"));
}

#[tokio::test]
async fn web_client_and_unknown_paths() {
    let server = TestServer::start().await;
    let r = get(server.addr, "/").await;
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(r.body.to_ascii_lowercase().contains("<html"), "{}", r.body);
    let r = get(server.addr, "/nope").await;
    assert_eq!((r.status, r.error_code().as_str()), (404, "not_found"));
    let big = "x".repeat(64 * 1024);
    let r = http(server.addr, "POST", "/api/token", &[], Some(&big)).await;
    assert_eq!(r.status, 413, "the body limit applies");
}

#[tokio::test]
async fn web_client_assets_have_their_types_and_the_page_headers() {
    let server = TestServer::start().await;
    let page = get(server.addr, "/").await;
    assert!(
        page.body.contains("src=\"/js/main.js\"") && page.body.contains("href=\"/app.css\""),
        "the page names its assets under its own prefix: {}",
        page.body
    );
    let modules = [
        "main", "net", "auth", "rooms", "messages", "search", "members", "thread",
    ];
    let assets = std::iter::once(("/app.css".to_owned(), "text/css", ".msg")).chain(
        modules
            .iter()
            .map(|m| (format!("/js/{m}.js"), "text/javascript", "import ")),
    );
    for (path, content_type, body) in assets {
        let r = get(server.addr, &path).await;
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(
            r.header("content-type"),
            Some(format!("{content_type}; charset=utf-8").as_str()),
            "{path}"
        );
        assert!(r.body.contains(body), "{path}: {}", r.body);
        for header in [
            "cache-control",
            "x-content-type-options",
            "content-security-policy",
            "referrer-policy",
            "x-frame-options",
        ] {
            assert_eq!(r.header(header), page.header(header), "{path}: {header}");
        }
    }
    for path in [
        "/js/nope.js",
        "/js/../app.css",
        "/js/main.js/x",
        "/app.js",
        "/js/",
    ] {
        let r = get(server.addr, path).await;
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (404, "not_found"),
            "{path}"
        );
    }
    server.stop().await;
}
