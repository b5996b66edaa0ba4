//! Steady memory over the WebSocket transport (contract 5): connections that come, join a
//! room, leave it and go, over a fixed set of rooms and users, leave nothing behind once
//! warmed up. Not timed: bounded by a number of cycles.

use std::sync::Arc;

use chatcore::protocol::Command;
use chatcore::{Hub, Limits};
use chatcore_testkit::{Probe, TestServer, rss_anon_kib, ws_config};

/// Cycles `from..to` on `lanes` concurrent connections: user `u{i % 2000}` connects, joins
/// `r{i % 400}`, leaves it and disconnects.
async fn cycles(server: &Arc<TestServer>, from: usize, to: usize, lanes: usize) {
    let mut tasks = Vec::new();
    for lane in 0..lanes {
        let server = Arc::clone(server);
        tasks.push(tokio::spawn(async move {
            for i in (from + lane..to).step_by(lanes) {
                let mut p = Probe::guest(&server, &format!("u{}", i % 2000)).await;
                let room = format!("r{}", i % 400);
                p.join(&room).await;
                let id = p.request(Command::Leave { room }).await;
                p.reply(id).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("lane");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_leave_cycles_leave_memory_flat_after_warm_up() {
    // 40 lanes from one address join faster than its join limit on purpose: this test is
    // about memory, not limits.
    let limits = Limits::default().without_rate_limits();
    let server = Arc::new(TestServer::with(Hub::builder().limits(limits), ws_config()).await);
    cycles(&server, 0, 4_000, 40).await;
    let before = rss_anon_kib();
    let n = 16_000;
    cycles(&server, 4_000, 4_000 + n, 40).await;
    let after = rss_anon_kib();
    let per_cycle = after.saturating_sub(before) as f64 * 1024.0 / n as f64;
    eprintln!(
        "RssAnon {before} KiB -> {after} KiB over {n} join/leave cycles: {per_cycle:.1} B/cycle"
    );
    // Half of what the metrics leak cost (64-69 B per cycle here); the test's own clients
    // share the process, so a few bytes per cycle of allocator noise remain.
    assert!(per_cycle < 32.0, "{per_cycle:.1} bytes per cycle");
}
