//! chat-load end to end, briefly: 20 connections for about 2 s against an in-process
//! chatcore server (memory hub) and against the baseline server.

use std::net::SocketAddr;

use chatcore_benches::baseline;
use chatcore_benches::load::args::{Args, Plan};
use chatcore_benches::load::run;
use chatcore_testkit::{TestServer, memory_hub};
use chatcore_transport_ws::WsConfig;
use clap::Parser;
use tokio::net::TcpListener;

fn plan(server: SocketAddr, target: &str) -> Plan {
    let server = server.to_string();
    let args = Args::try_parse_from([
        "chat-load",
        "--server",
        &server,
        "--target",
        target,
        "--connections",
        "20",
        "--rooms",
        "2",
        "--publishers",
        "2",
        "--rate",
        "10",
        "--duration",
        "2",
    ])
    .expect("flags");
    Plan::from_args(&args).expect("plan")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_an_in_process_chatcore_server() {
    let mut server = TestServer::serve(memory_hub().await, WsConfig::default()).await;

    let summary = run::run(plan(server.addr, "chatcore"), false)
        .await
        .expect("run");
    assert_eq!(summary.connected, 20, "{}", summary.table());
    assert!(summary.deliveries > 0, "{}", summary.table());
    assert!(summary.acks > 0, "{}", summary.table());
    assert_eq!(summary.errors, 0, "{}", summary.table());
    assert_eq!(summary.disconnects, 0, "{}", summary.table());
    assert!(summary.latency_us.count > 0);
    // Every member of a room (10) gets every acknowledged message exactly once: no loss and
    // no duplicate hides in a ratio.
    assert_eq!(
        summary.deliveries_total,
        summary.acks_total * 10,
        "{}",
        summary.table()
    );

    let _ = server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_the_baseline_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(baseline::serve(listener, 64, async move {
        let _ = stopped.await;
    }));

    let summary = run::run(plan(addr, "baseline"), false).await.expect("run");
    assert_eq!(summary.connected, 20, "{}", summary.table());
    assert!(summary.deliveries > 0, "{}", summary.table());
    assert_eq!(summary.errors, 0, "{}", summary.table());
    // Every member of a room gets every message: 10 per room.
    assert!(
        summary.delivered_ratio.unwrap_or(0.0) > 0.99,
        "{}",
        summary.table()
    );

    let _ = stop.send(());
    let _ = server.await;
}
