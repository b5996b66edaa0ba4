//! A [`TestServer`] with accounts, and the calls every account test makes.

use std::sync::Arc;

use chatcore::Hub;
use chatcore::accounts::{AccountAuthenticator, Accounts};
use chatcore_transport_ws::{AccountsConfig, Transport};
use serde_json::{Value, json};

use crate::http::{HttpResponse, post_json};
use crate::server::{TestServer, ws_config};
use crate::token::jwt;

/// Account settings for tests: accounts in `accounts`, tokens signed with the test
/// [`SECRET`](crate::SECRET), argon2id at its smallest sensible cost (8 MiB, 1 pass) so
/// tests stay quick. Adjust with the `with_*` setters.
pub fn accounts_config(accounts: Arc<dyn Accounts>) -> AccountsConfig {
    AccountsConfig::new(accounts, jwt(false))
        .with_argon2(8 * 1024, 1, 1)
        .expect("argon2 parameters")
}

/// A server whose hub authenticates with an [`AccountAuthenticator`] over `config`'s
/// accounts and the test secret (guests allowed when `guests`), serving the account routes.
pub async fn account_server(
    accounts: Arc<dyn Accounts>,
    config: AccountsConfig,
    guests: bool,
) -> TestServer {
    let auth = AccountAuthenticator::new(Arc::new(jwt(guests)), accounts);
    let hub = Hub::builder()
        .authenticator(auth)
        .build()
        .await
        .expect("hub");
    TestServer::serve_transport(Transport::with_accounts(hub, ws_config(), config)).await
}

/// `POST /api/register` of `user` with `password`.
pub async fn register(server: &TestServer, user: &str, password: &str) -> HttpResponse {
    let body = json!({"user": user, "password": password});
    post_json(server.addr, "/api/register", None, &body).await
}

/// `POST /api/login`; panics unless it succeeds. The response body (tokens).
pub async fn login(server: &TestServer, user: &str, password: &str) -> Value {
    let body = json!({"user": user, "password": password});
    let r = post_json(server.addr, "/api/login", None, &body).await;
    assert_eq!(r.status, 200, "login {user}: {}", r.body);
    r.json()
}
