//! Bounded waits: every test wait ends within [`BOUND`], and polls instead of sleeping to
//! assert.

use std::future::Future;
use std::time::Duration;

/// Upper bound of every wait in tests: a bound against hangs, never a performance goal.
pub const BOUND: Duration = Duration::from_secs(20);

/// Awaits `f` within [`BOUND`]; panics when it takes longer.
pub async fn within<F: Future>(f: F) -> F::Output {
    tokio::time::timeout(BOUND, f)
        .await
        .expect("did not finish within the bound")
}

/// Polls `check` every 10 ms until it holds, within [`BOUND`].
pub async fn eventually<F, Fut>(mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    within(async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// `true` when `CHATCORE_REQUIRE_SERVICES=1`: a missing dependency (a service, a browser, a
/// program) fails the test instead of skipping it. CI sets it.
pub fn services_required() -> bool {
    std::env::var("CHATCORE_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}
