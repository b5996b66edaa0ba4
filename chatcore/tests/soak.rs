//! Steady memory (contract 5): sessions that come, join a room, leave it and go, over a fixed
//! set of rooms and users, leave nothing behind. Not timed: bounded by a number of cycles.

use chatcore::Hub;
use chatcore::protocol::Command;
use chatcore_testkit::{SessionProbe, memory_hub, rss_anon_kib};

/// `n` cycles from cycle `from`: user `u{i % 2000}` connects, joins `r{i % 400}`, leaves it
/// and disconnects.
async fn cycles(hub: &Hub, from: usize, n: usize) {
    for i in from..from + n {
        let mut s = SessionProbe::connect(hub, &format!("u{}", i % 2000)).await;
        let room = format!("r{}", i % 400);
        s.join(&room).await;
        let id = s.request(Command::Leave { room }).await;
        s.reply(id).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_leave_cycles_leave_memory_flat_after_warm_up() {
    let hub = memory_hub().await;
    // Warm-up: every room loaded, every map at its working size.
    cycles(&hub, 0, 10_000).await;
    let before = rss_anon_kib();
    let n = 50_000;
    cycles(&hub, 10_000, n).await;
    let after = rss_anon_kib();
    let per_cycle = after.saturating_sub(before) as f64 * 1024.0 / n as f64;
    eprintln!(
        "RssAnon {before} KiB -> {after} KiB over {n} join/leave cycles: {per_cycle:.1} B/cycle"
    );
    assert_eq!(hub.stats().sessions, 0);
    assert!(per_cycle < 16.0, "{per_cycle:.1} bytes per cycle");
}
