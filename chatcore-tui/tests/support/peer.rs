//! The other party of an end-to-end test as a Rust client (`chatcore-client`), driven by a
//! runtime of its own (these tests are synchronous): it acts, and the test asserts on the
//! events it receives.

use std::future::Future;
use std::time::Instant;

use chatcore_client::{Auth, Client, ClientConfig, ClientEvent, Events, RestClient};

use super::DEADLINE;

/// A connected client and its event stream.
pub(crate) struct Peer {
    runtime: tokio::runtime::Runtime,
    /// The client, for commands ([`Peer::call`] runs them).
    pub(crate) client: Client,
    events: Events,
}

impl Peer {
    /// Connects to `server` as the guest `user`.
    pub(crate) fn guest(server: &str, user: &str) -> Peer {
        Peer::connect(server, Auth::Guest(user.into()))
    }

    /// Registers the account `user` on `server` and connects as it.
    pub(crate) fn account(server: &str, user: &str, password: &str) -> Peer {
        let runtime = runtime();
        let grant = runtime
            .block_on(async { RestClient::new(server)?.register(user, password).await })
            .unwrap_or_else(|e| panic!("register {user}: {e}"));
        drop(runtime);
        Peer::connect(server, Auth::Token(grant.access_token))
    }

    fn connect(server: &str, auth: Auth) -> Peer {
        let runtime = runtime();
        let (client, events) = runtime
            .block_on(async {
                Client::connect(ClientConfig::new(server.to_owned())?.with_auth(auth)).await
            })
            .unwrap_or_else(|e| panic!("connect to {server}: {e}"));
        Peer {
            runtime,
            client,
            events,
        }
    }

    /// Runs `f` (a client command) to completion.
    pub(crate) fn call<T>(&self, f: impl Future<Output = T>) -> T {
        self.runtime.block_on(f)
    }

    /// Waits for an event for which `pred` holds (skipping others); panics with `what` after
    /// the test deadline.
    pub(crate) fn wait(&mut self, what: &str, pred: impl Fn(&ClientEvent) -> bool) -> ClientEvent {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = self
                .runtime
                .block_on(async { tokio::time::timeout(left, self.events.recv()).await });
            match next {
                Ok(Some(event)) if pred(&event) => return event,
                Ok(Some(_)) => {}
                Ok(None) => panic!("the event stream ended before {what}"),
                Err(_) => panic!("timed out waiting for {what}"),
            }
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}
