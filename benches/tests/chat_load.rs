//! chat-load end to end, briefly: 20 connections for about 2 s against an in-process
//! chatcore server (memory hub) and against the baseline server.

use std::net::SocketAddr;

use chatcore_benches::baseline;
use chatcore_benches::load::args::Args;
use chatcore_benches::load::plan::Plan;
use chatcore_benches::load::run;
use chatcore_testkit::{TestServer, memory_hub};
use chatcore_transport_ws::WsConfig;
use clap::Parser;
use tokio::net::TcpListener;

fn plan(server: SocketAddr, target: &str) -> Plan {
    plan_with(server, target, &[])
}

fn plan_with(server: SocketAddr, target: &str, extra: &[&str]) -> Plan {
    let server = server.to_string();
    let base = [
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
    ];
    let args = Args::try_parse_from(base.iter().chain(extra)).expect("flags");
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

/// The `rooms-changes` mix, small: half of the ticks edit, react or unreact (each accepted by
/// the server: no error), every connection reads 4 times a second, and the change events
/// reach every member exactly like messages. The reads are fire-and-forget (no answer, yet
/// the receipts show they moved positions), or answered with `--read-answered`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_and_reads_against_an_in_process_chatcore_server() {
    let mut server = TestServer::serve(memory_hub().await, WsConfig::default()).await;
    for answered in [false, true] {
        let mut extra = vec!["--changes", "0.5", "--read-every", "0.25"];
        if answered {
            // Users and rooms of their own: the first run's positions and history stay apart.
            extra.extend([
                "--read-answered",
                "--user-prefix",
                "ans",
                "--room-prefix",
                "ans",
            ]);
        }
        let summary = run::run(plan_with(server.addr, "chatcore", &extra), false)
            .await
            .expect("run");
        let t = summary.table();
        assert_eq!(summary.connected, 20, "{t}");
        assert_eq!(summary.errors, 0, "{t}");
        assert_eq!(summary.disconnects, 0, "{t}");
        assert!(summary.changes >= 10, "{t}");
        assert!(summary.changes < summary.sent, "{t}");
        assert!(t.contains("changes, reads/s, answers/s, receipts/s"), "{t}");
        // 20 connections, 4 reads/s each, for 2 s (phases spread over the first period).
        assert!(summary.reads_per_s > 40.0, "{t}");
        if answered {
            assert!(summary.read_replies_per_s > 40.0, "{t}");
        } else {
            assert_eq!(summary.read_replies_per_s, 0.0, "{t}");
        }
        assert!(summary.receipts_per_s > 0.0, "{t}");
        assert_eq!(
            summary.deliveries_total,
            summary.acks_total * 10,
            "every member gets every acknowledged message and change once: {t}"
        );
    }

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
