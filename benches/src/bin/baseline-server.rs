//! `baseline-server`: the minimal broadcast WebSocket server chat-load compares chatcore
//! with (see `chatcore_benches::baseline`). Loopback only.

use std::net::SocketAddr;
use std::process::ExitCode;

use chatcore_benches::baseline;
use clap::Parser;

/// Flags of `baseline-server`.
#[derive(Debug, Parser)]
#[command(
    name = "baseline-server",
    version,
    about = "Minimal broadcast WebSocket server (tokio-tungstenite + tokio::sync::broadcast): \
             every text frame goes to every connection of the same ?room=. No persistence, \
             no protocol. The baseline for chat-load --target baseline."
)]
struct Args {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:9090")]
    listen: SocketAddr,
    /// Frames each room's broadcast channel holds; a connection that lags further behind is
    /// dropped.
    #[arg(long, default_value_t = baseline::DEFAULT_CAPACITY)]
    capacity: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        eprintln!("baseline-server: listens on loopback only");
        return ExitCode::from(2);
    }
    if args.capacity == 0 {
        eprintln!("baseline-server: --capacity must be at least 1");
        return ExitCode::from(2);
    }
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("baseline-server: cannot listen on {}: {e}", args.listen);
            return ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        println!("baseline-server listening on {addr}");
    }
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match baseline::serve(listener, args.capacity, shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("baseline-server: {e}");
            ExitCode::FAILURE
        }
    }
}
