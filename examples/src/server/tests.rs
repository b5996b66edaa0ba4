//! Unit tests of the server plan: URLs to open, limits from flags, serving until shutdown
//! and the error for a port in use.

use std::time::Duration;

use super::*;
use clap::Parser;

fn plan(args: &[&str]) -> Result<ServerPlan> {
    let argv = std::iter::once("chat-server").chain(args.iter().copied());
    ServerPlan::from_args(&ServerArgs::try_parse_from(argv).expect("flags"))
}

#[test]
fn urls_to_open() {
    assert_eq!(
        browser_url("127.0.0.1:8080".parse().expect("addr")),
        "http://127.0.0.1:8080/"
    );
    assert_eq!(
        browser_url("0.0.0.0:80".parse().expect("addr")),
        "http://127.0.0.1:80/"
    );
    assert_eq!(
        browser_url("[::]:8080".parse().expect("addr")),
        "http://[::1]:8080/"
    );
}

#[test]
fn limits_come_from_flags() {
    let p = plan(&[
        "--listen=127.0.0.1:0",
        "--store=memory://",
        "--history-on-join=7",
        "--max-message-bytes=100000",
    ])
    .expect("plan");
    assert_eq!(p.limits.history_on_join, 7);
    assert_eq!(p.limits.max_text_bytes, 100_000);
    assert!(p.ws.max_message_bytes() >= 600_000);
    assert!(plan(&["--store=memory://", "--max-message-bytes=0"]).is_err());
    assert!(plan(&["--store=memory://", "--history-on-join=5000"]).is_err());
    assert!(plan(&["--store=memory://", "--presence-announce-limit=1"]).is_err());
    let p = plan(&[
        "--store=memory://",
        "--presence-heartbeat=5",
        "--presence-lease=15",
    ])
    .expect("plan");
    assert_eq!(
        (p.limits.presence_heartbeat, p.limits.presence_lease),
        (Duration::from_secs(5), Duration::from_secs(15))
    );
    assert!(plan(&["--store=memory://", "--presence-heartbeat=0"]).is_err());
    assert!(
        plan(&["--store=memory://", "--presence-heartbeat=5"]).is_err(),
        "a lease of 7 s is less than twice a 5 s heartbeat"
    );
}

#[tokio::test]
async fn serves_until_shutdown() {
    let p = plan(&["--listen=127.0.0.1:0", "--store=memory://"]).expect("plan");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(run(p, async move {
        let _ = rx.await;
    }));
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    tx.send(()).expect("server still running");
    let result = tokio::time::timeout(std::time::Duration::from_secs(20), server)
        .await
        .expect("shuts down in time")
        .expect("no panic");
    assert!(result.is_ok(), "{result:?}");
}

#[tokio::test]
async fn port_in_use_is_explained() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let p = plan(&[&format!("--listen={addr}"), "--store=memory://"]).expect("plan");
    let msg = run(p, std::future::pending())
        .await
        .expect_err("port taken")
        .to_string();
    assert!(msg.contains("--listen"), "{msg}");
}
