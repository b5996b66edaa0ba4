//! Helpers shared by the `accounts_*` tests only: a server with in-memory accounts, a token
//! socket, a refused handshake's answer, and a refresh call.

#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;

use chatcore::accounts::MemoryAccounts;
use chatcore::protocol::Codec;
use chatcore_testkit::*;
use chatcore_transport_ws::AccountsConfig;
use serde_json::{Value, json};

/// A server with open registration over fresh in-memory accounts.
pub async fn server() -> (TestServer, Arc<MemoryAccounts>) {
    server_with(|c| c).await
}

pub async fn server_with(
    configure: impl FnOnce(AccountsConfig) -> AccountsConfig,
) -> (TestServer, Arc<MemoryAccounts>) {
    let accounts = Arc::new(MemoryAccounts::new());
    let config = configure(accounts_config(accounts.clone()));
    (
        account_server(accounts.clone(), config, true).await,
        accounts,
    )
}

pub fn s(v: &Value, field: &str) -> String {
    v[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {v}"))
        .to_owned()
}

/// A socket with `token`.
pub async fn connect(server: &TestServer, token: &str) -> Probe {
    Probe::open(server, &format!("?token={token}"), Codec::Json, false).await
}

/// The status and error code of a handshake with `query`.
pub async fn handshake_refused(server: &TestServer, query: &str) -> (u16, String) {
    let (status, body) = refusal(open(&server.ws_url(query), None, &[]).await);
    let code = serde_json::from_str::<Value>(&body).expect("json")["error"]["code"]
        .as_str()
        .expect("code")
        .to_owned();
    (status, code)
}

pub async fn refresh(server: &TestServer, token: &str) -> HttpResponse {
    post_json(
        server.addr,
        "/api/refresh",
        None,
        &json!({"refresh_token": token}),
    )
    .await
}
