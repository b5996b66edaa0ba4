//! What a login costs: `POST /api/login` over a real loopback socket against an in-process
//! server with accounts, at the default argon2id cost (19 MiB, 2 passes, 1 lane) unless
//! `CHATCORE_BENCH_ARGON2=MEMORY_KIB,PASSES,LANES` says otherwise, and the hash alone.
//! A plain loop that prints the median and mean of `CHATCORE_BENCH_LOGINS` (20) logins.
//!
//! `cargo bench -p chatcore-benches --bench login` (`BENCHMARKS.md`, "Accounts")

#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chatcore::accounts::MemoryAccounts;
use chatcore_testkit::{account_server, accounts_config, login, register};

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn summary(mut times: Vec<Duration>) -> String {
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len().max(1) as u32;
    format!(
        "median {:.1} ms, mean {:.1} ms, min {:.1} ms",
        times[times.len() / 2].as_secs_f64() * 1e3,
        mean.as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    )
}

#[tokio::main]
async fn main() {
    let n: usize = env_or("CHATCORE_BENCH_LOGINS", 20);
    let cost: String = env_or("CHATCORE_BENCH_ARGON2", "19456,2,1".to_owned());
    let parts: Vec<u32> = cost.split(',').filter_map(|p| p.parse().ok()).collect();
    let [m, t, p] = parts[..] else {
        panic!("CHATCORE_BENCH_ARGON2=MEMORY_KIB,PASSES,LANES")
    };
    let accounts = Arc::new(MemoryAccounts::new());
    let config = accounts_config(accounts.clone())
        .with_argon2(m, t, p)
        .and_then(|c| c.with_login_limits(100_000, 100_000))
        .expect("settings");
    let hashes: Vec<_> = (0..n)
        .map(|_| {
            let started = Instant::now();
            config.hash_password("correct horse battery").expect("hash");
            started.elapsed()
        })
        .collect();
    let server = account_server(accounts, config, false).await;
    assert_eq!(
        register(&server, "ann", "correct horse battery")
            .await
            .status,
        201
    );
    let logins: Vec<_> = {
        let mut times = Vec::with_capacity(n);
        for _ in 0..n {
            let started = Instant::now();
            login(&server, "ann", "correct horse battery").await;
            times.push(started.elapsed());
        }
        times
    };
    println!("argon2id m={m} KiB t={t} p={p}, {n} samples each");
    println!("hash a password:        {}", summary(hashes));
    println!("POST /api/login (HTTP): {}", summary(logins));
}
