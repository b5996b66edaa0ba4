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
    // Three windows: a leak grows RSS in every one of them, while the allocator's noise on a
    // busy machine (an arena growing once) lands in one; the quietest window is judged.
    let n = 8_000;
    let mut windows = Vec::new();
    for w in 0..3 {
        let from = 4_000 + w * n;
        let before = rss_anon_kib();
        cycles(&server, from, from + n, 40).await;
        let after = rss_anon_kib();
        let per_cycle = after.saturating_sub(before) as f64 * 1024.0 / n as f64;
        eprintln!(
            "RssAnon {before} KiB -> {after} KiB over {n} join/leave cycles: {per_cycle:.1} B/cycle"
        );
        windows.push(per_cycle);
    }
    let per_cycle = windows.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(per_cycle < 32.0, "{windows:.1?} bytes per cycle");
}
