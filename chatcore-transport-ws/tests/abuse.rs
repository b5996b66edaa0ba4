//! The hub's abuse limits over real sockets: per-user message rates, join floods into one
//! room, sessions per IP address (close 4429), and `POST /api/refresh` per IP.

use std::sync::Arc;

use chatcore::accounts::MemoryAccounts;
use chatcore::protocol::{Codec, Command, Event};
use chatcore::store::HistoryQuery;
use chatcore::{ErrorCode, Hub, Limits, Rate};
use chatcore_testkit::*;
use futures::StreamExt;
use tokio_tungstenite::tungstenite::Message;

fn rate(per_second: u32, burst: u32) -> Option<Rate> {
    Some(Rate::new(per_second, burst).expect("rate"))
}

/// The retry hint of a `rate_limited` error; panics on anything else.
fn retry_after(event: &Event) -> u64 {
    match event {
        Event::Error {
            code: ErrorCode::RateLimited,
            retry_after_ms: Some(ms),
            ..
        } => *ms,
        other => panic!("expected rate_limited with retry_after_ms, got {other:?}"),
    }
}

#[tokio::test]
async fn a_user_flooding_sends_is_limited_while_the_room_goes_on_and_nothing_refused_is_stored() {
    let limits = Limits::default().with_message_rates(rate(1, 5), None);
    let server = TestServer::with(Hub::builder().limits(limits), ws_config()).await;
    let mut ann = Probe::guest(&server, "ann").await;
    let mut bob = Probe::guest(&server, "bob").await;
    ann.join("general").await;
    bob.join("general").await;

    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            ann.request(send("general", &format!("flood {i}"), None))
                .await,
        );
    }
    // Refusals are immediate, acks wait for the commit: read the replies in any order.
    let (mut acked, mut limited) = (0, 0);
    while acked + limited < ids.len() {
        let reply = ann
            .until(|ev| reply_id(&ev).filter(|id| ids.contains(id)).map(|_| ev))
            .await;
        match reply {
            Event::Ack { .. } => acked += 1,
            refused => {
                let ms = retry_after(&refused);
                assert!((1..=1000).contains(&ms), "retry in {ms} ms");
                limited += 1;
            }
        }
    }
    assert_eq!((acked, limited), (5, 15), "the burst of 5, then refusals");

    // Bob has an allowance of his own: each of his sends is acked.
    for i in 0..3 {
        bob.say("general", &format!("bob {i}")).await;
    }
    let stored = server
        .hub
        .read_history("general", HistoryQuery::latest(100))
        .await
        .expect("history");
    assert_eq!(stored.messages.len(), 8, "refused sends stored nothing");
    let from_ann = stored.messages.iter().filter(|m| m.sender == "ann").count();
    assert_eq!(from_ann, 5);
}

#[tokio::test]
async fn joins_pouring_into_one_room_are_refused_past_its_rate() {
    let limits = Limits::default().with_join_rates(None, None, rate(1, 3));
    let server = TestServer::with(Hub::builder().limits(limits), ws_config()).await;
    let mut members = Vec::new();
    for name in ["a", "b", "c"] {
        let mut p = Probe::guest(&server, name).await;
        p.join("lobby").await;
        members.push(p);
    }
    let mut late = Probe::guest(&server, "d").await;
    let id = late
        .request(Command::Join {
            room: "lobby".into(),
            resume_after: None,
        })
        .await;
    let ms = retry_after(&late.reply(id).await);
    assert!((1..=1000).contains(&ms), "retry in {ms} ms");
    let member = server
        .hub
        .store()
        .member("lobby", "d")
        .await
        .expect("store");
    assert!(member.is_none(), "a refused join records no membership");
    // Another room is not flooded; the refused user is not limited there.
    late.join("other").await;
}

#[tokio::test]
async fn one_address_over_its_session_cap_is_closed_with_4429_while_another_connects() {
    let limits = Limits::default()
        .with_max_connections_per_ip(Some(2))
        .expect("limits");
    let server = TestServer::with(Hub::builder().limits(limits), ws_config()).await;
    let first = Probe::guest(&server, "a").await;
    let _second = Probe::guest(&server, "b").await;

    let mut third = open(&server.ws_url("?user=c"), None, &[])
        .await
        .expect("the upgrade is answered");
    match tokio::time::timeout(BOUND, third.next()).await {
        Ok(Some(Ok(Message::Close(Some(frame))))) => {
            assert_eq!(u16::from(frame.code), 4429);
            assert!(frame.reason.contains("at most 2"), "{}", frame.reason);
        }
        other => panic!("expected close 4429, got {other:?}"),
    }

    let other_ip = "127.0.0.2".parse().expect("ip");
    let ws = open_from(&server.ws_url("?user=d"), other_ip)
        .await
        .expect("another address connects");
    let mut d = Probe::from_ws(ws, Codec::Json).await;
    d.join("general").await;

    // A place frees when a session ends.
    drop(first);
    let retry = async {
        loop {
            let mut ws = open(&server.ws_url("?user=e"), None, &[])
                .await
                .expect("upgrade");
            match ws.next().await {
                Some(Ok(Message::Text(_))) => return,
                _ => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        }
    };
    tokio::time::timeout(BOUND, retry)
        .await
        .expect("a session from 127.0.0.1 within the bound");
}

#[tokio::test]
async fn a_thousand_refreshes_from_one_address_are_throttled_while_others_are_served() {
    let accounts = Arc::new(MemoryAccounts::new());
    let config = accounts_config(accounts.clone());
    let server = account_server(accounts, config, false).await;
    assert_eq!(register(&server, "ann", "correct horse").await.status, 201);
    let tokens = login(&server, "ann", "correct horse").await;

    let bogus = serde_json::json!({"refresh_token": "not-a-token"}).to_string();
    let (mut refused, mut limited, mut retry) = (0, 0, None);
    let started = std::time::Instant::now();
    for _ in 0..1000 {
        let r = http(server.addr, "POST", "/api/refresh", &[], Some(&bogus)).await;
        match r.status {
            401 => refused += 1,
            429 => {
                limited += 1;
                assert_eq!(r.error_code(), "rate_limited");
                retry = r.json()["error"]["retry_after_ms"].as_u64();
            }
            other => panic!("unexpected {other}: {}", r.body),
        }
    }
    // A burst of 60, then one more a second: a slow machine gets one per second it took.
    let refills = started.elapsed().as_secs() + 1;
    assert!(
        (60..=60 + refills).contains(&refused),
        "60 a minute, then 429: {refused} answered in {:?}",
        started.elapsed()
    );
    assert_eq!(refused + limited, 1000);
    assert!(limited >= 1000 - 60 - refills, "{limited} throttled");
    let ms = retry.expect("retry_after_ms");
    assert!(ms > 0 && ms <= 1000, "one more a second: {ms} ms");

    // Another address refreshes a real token; the server still answers everyone.
    let body = serde_json::json!({"refresh_token": tokens["refresh_token"]}).to_string();
    let other = try_http_from(
        Some("127.0.0.2".parse().expect("ip")),
        server.addr,
        "POST",
        "/api/refresh",
        &[],
        Some(&body),
    )
    .await
    .expect("answered");
    assert_eq!(other.status, 200, "{}", other.body);
    assert_eq!(get(server.addr, "/health").await.status, 200);
}
