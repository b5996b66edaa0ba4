//! Deterministic simulation of hub + bus + store (contract lines 1–5 and 8 of DESIGN.md).
//!
//! Each seed builds 2–3 hubs on one memory store (behind a [`FlakyStore`]) and one local
//! network (each node behind a chaotic [`FlakyBus`]), puts two clients on every node, and
//! runs a few seconds of traffic on tokio's paused clock in a current-thread runtime, under
//! one main fault ([`plan::Kind`]): a lossy bus (drops, duplicates, delays, reorders), a
//! whole-bus outage of 1–5 s, one node partitioned, the store refusing calls, or clients
//! dropping and resuming with sends in flight. Every frame is checked as it is read
//! (`client.rs`), time to live after the bus returns and forced disconnects while it runs,
//! the store at the end (`world.rs`).
//!
//! `CHATCORE_SIM_SEEDS` sets how many seeds one run covers (default 5,000), from
//! `CHATCORE_SIM_FIRST` (default 0). `CHATCORE_SIM_SEED=n` runs seed `n` alone, verbosely: a
//! failing seed is printed with that command.
//!
//! [`FlakyStore`]: chatcore_testkit::FlakyStore
//! [`FlakyBus`]: chatcore_testkit::FlakyBus

mod client;
mod plan;
mod world;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use plan::{Kind, Plan};
use world::Outcome;

/// Runs one seed on a fresh paused current-thread runtime. A panic is a failure too.
fn run_seed(seed: u64) -> Result<Outcome, String> {
    let plan = Plan::new(seed);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| e.to_string())?;
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(world::run(&plan))
    }));
    match result {
        Ok(r) => r.map_err(|e| format!("{:?} fault: {e}", plan.kind)),
        Err(panic) => Err(format!(
            "{:?} fault: panicked: {}",
            plan.kind,
            panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or(panic.downcast_ref::<&str>().copied())
                .unwrap_or("?")
        )),
    }
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn replay(seed: u64) -> String {
    format!("CHATCORE_SIM_SEED={seed} cargo test -p chatcore --test sim -- --nocapture")
}

#[test]
fn seeded_runs_keep_the_contract() {
    if let Ok(seed) = std::env::var("CHATCORE_SIM_SEED") {
        let seed: u64 = seed.parse().expect("CHATCORE_SIM_SEED is a number");
        println!("{:#?}", Plan::new(seed));
        match run_seed(seed) {
            Ok(o) => println!("seed {seed}: {o:?}"),
            Err(e) => panic!("seed {seed}: {e}\nreplay: {}", replay(seed)),
        }
        return;
    }
    let first = env_u64("CHATCORE_SIM_FIRST", 0);
    let count = env_u64("CHATCORE_SIM_SEEDS", 5_000);
    let next = AtomicU64::new(first);
    let failures: Mutex<BTreeMap<u64, String>> = Mutex::default();
    let per_kind: Mutex<BTreeMap<Kind, (u64, u64)>> = Mutex::default();
    let (messages, drops) = (AtomicU64::new(0), AtomicU64::new(0));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= first + count {
                        return;
                    }
                    let result = run_seed(seed);
                    let kind = Plan::new(seed).kind;
                    let mut k = per_kind.lock().unwrap_or_else(|p| p.into_inner());
                    let entry = k.entry(kind).or_default();
                    entry.0 += 1;
                    if let Ok(o) = &result {
                        messages.fetch_add(o.messages, Ordering::Relaxed);
                        drops.fetch_add(u64::from(o.drops), Ordering::Relaxed);
                    }
                    if let Err(e) = result {
                        entry.1 += 1;
                        failures
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(seed, e);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    let per_kind = per_kind.into_inner().unwrap_or_else(|p| p.into_inner());
    println!(
        "{count} seeds from {first} in {:.1?} on {threads} threads: {} messages, {} client \
         drops; per fault (runs, failed): {per_kind:?}",
        started.elapsed(),
        messages.into_inner(),
        drops.into_inner()
    );
    if !failures.is_empty() {
        let shown: Vec<String> = failures
            .iter()
            .take(20)
            .map(|(seed, e)| format!("seed {seed}: {e}\n  replay: {}", replay(*seed)))
            .collect();
        panic!(
            "{} of {count} seeds broke the contract; the first {}:\n{}",
            failures.len(),
            shown.len(),
            shown.join("\n")
        );
    }
}

/// The same seed gives the same run: twice in this process, and in a fresh one (where std's
/// hash maps inside the hub get other random keys), as the printed replay command runs it.
#[test]
fn a_seed_replays_exactly() {
    if std::env::var("CHATCORE_SIM_SEED").is_ok() {
        return;
    }
    for seed in [0, 1, 2, 3, 4, 7, 11] {
        let a = run_seed(seed).map(|o| o.trace);
        let b = run_seed(seed).map(|o| o.trace);
        assert_eq!(a, b, "seed {seed} ran two ways in one process");
        // The replay command's process: this test binary again, on this seed alone.
        let out = std::process::Command::new(std::env::current_exe().expect("test binary"))
            .args(["seeded_runs_keep_the_contract", "--exact", "--nocapture"])
            .env("CHATCORE_SIM_SEED", seed.to_string())
            .output()
            .expect("run the replay");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let replayed = match &a {
            Ok(trace) => stdout.contains(&format!("trace: {trace},")),
            Err(e) => stderr.contains(e.as_str()),
        };
        assert!(
            replayed,
            "seed {seed}: {a:?} here, another process said:\n{stdout}\n{stderr}"
        );
    }
}
