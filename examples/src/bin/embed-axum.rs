//! An existing axum service that embeds chat: its own routes (`/`, `/api/orders`) plus
//! chatcore's router mounted under `/chat`. Run it and open <http://127.0.0.1:3000/chat>.
//!
//! ```text
//! cargo run --bin embed-axum [ADDR]
//! ```

use std::process::ExitCode;

use chatcore::Hub;
use chatcore_examples::{embed, shutdown};
use chatcore_transport_ws::{Transport, WsConfig};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHATCORE_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3000".to_owned());
    match run(&addr).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("embed-axum: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    // The chat part: an in-memory hub that lets guests in (this example listens on loopback).
    let hub = Hub::builder().build().await?;
    let chat = Transport::new(hub, WsConfig::default());
    let app = embed::app(chat.router());

    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    println!("shop on http://{local}/, its chat on http://{local}/chat");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown::signal())
        .await?;
    // HTTP has stopped; now close the chat sessions (queued frames are written first).
    chat.shutdown().await?;
    Ok(())
}
