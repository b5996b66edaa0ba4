//! Accounts from the Rust client: `RestClient::refresh` and `::logout`, and
//! `Client::set_token`, whose token the next reconnect presents instead of the configured
//! one (how a long-running client keeps its session past the access token's life).

use std::sync::Arc;
use std::time::Duration;

use chatcore::accounts::MemoryAccounts;
use chatcore_client::{Client, ClientConfig, ClientEvent, ConnectionState, Error, RestClient};
use chatcore_testkit::{account_server, accounts_config, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_token_is_presented_at_the_next_reconnect() {
    let accounts = Arc::new(MemoryAccounts::new());
    let server = account_server(accounts.clone(), accounts_config(accounts), false).await;
    let url = server.url("");
    let api = RestClient::new(&url).expect("rest client");
    let first = api.register("ann", "pw one").await.expect("register");
    // A second session of the same account, refreshed once.
    let second = api.login("ann", "pw one").await.expect("login");
    let refreshed = api.refresh(&second.refresh_token).await.expect("refresh");
    assert_eq!(refreshed.user, "ann");
    assert_ne!(refreshed.refresh_token, second.refresh_token, "a new pair");

    let config = ClientConfig::new(url.clone())
        .expect("config")
        .with_token(first.access_token.clone())
        .with_backoff(Duration::from_millis(20), Duration::from_millis(100))
        .expect("backoff");
    let (client, mut events) = Client::connect(config).await.expect("connect");
    client.set_token(refreshed.access_token.clone());

    // Signing the first session out closes its socket (4403); the reconnect presents the
    // second session's token, which still works: the client is ann again, not refused.
    let signed_out = api.clone().with_token(first.access_token.clone());
    assert_eq!(signed_out.logout().await.expect("logout"), 1);
    within(async {
        let mut dropped = false;
        loop {
            match events.recv().await {
                Some(ClientEvent::State(ConnectionState::Disconnected(_))) => dropped = true,
                Some(ClientEvent::State(ConnectionState::Connected(info))) if dropped => {
                    assert_eq!(info.user, "ann");
                    break;
                }
                Some(ClientEvent::State(ConnectionState::Closed(why))) => {
                    panic!("the reconnect presented the old token: {why}")
                }
                Some(_) => {}
                None => panic!("the event stream ended"),
            }
        }
    })
    .await;
    client.join("general").await.expect("commands work again");

    // The signed-out session's tokens are refused; the refreshed one logs out.
    let e = signed_out.logout().await.expect_err("signed out already");
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    let e = api
        .refresh(&first.refresh_token)
        .await
        .expect_err("its refresh token died with it");
    assert!(matches!(e, Error::Unauthorized(_)), "{e:?}");
    let api = api.with_token(refreshed.access_token);
    assert_eq!(api.logout().await.expect("logout"), 1);
}
