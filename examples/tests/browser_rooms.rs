//! Accounts and rooms with authority in the browser client, in headless Chromium against a
//! real server with accounts on `127.0.0.1:0`: two people sign up in two browser contexts
//! (after the server refused a taken name and an empty password, in its own words), one makes
//! a private room and invites the other, who sees the invitation and accepts it; both see
//! each other in the member list with their roles; the owner kicks the other, whose page says
//! so, drops the room, and can no longer get in. Hostile text (a kick reason) stays text. An
//! account's page renews its access token before expiry, keeps its session over a reload,
//! ends it on the server when signing out, and shows the login rate limit in the server's words.
//!
//! Skipped with a printed reason without Chromium (a failure with
//! `CHATCORE_REQUIRE_SERVICES=1`); `CHATCORE_BROWSER_SCREENSHOT=DIR` saves screenshots.

use std::sync::Arc;
use std::time::Duration;

use chatcore::accounts::MemoryAccounts;
use chatcore_testkit::browser::{Page, browser_or_skip, js, shows, sign_up};
use chatcore_testkit::{account_server, accounts_config, eventually, get_as};

const WAIT: Duration = Duration::from_secs(20);
const PASSWORD: &str = "correct horse battery";

/// JavaScript: truthy when the member list shows `user` with `role`.
fn member(user: &str, role: &str) -> String {
    format!(
        "[...document.querySelectorAll('#members li')].some(li => li.dataset.user === {} && li.dataset.role === {})",
        js(user),
        js(role)
    )
}

/// JavaScript: the room list's entry of `room`, or null.
fn listed(room: &str) -> String {
    format!(
        "document.querySelector('#rooms li[data-room=' + CSS.escape({}) + ']')",
        js(room)
    )
}

async fn login_error(page: &Page, what: &str, expected: &str) {
    page.wait_for(
        what,
        &format!(
            "document.getElementById('login-error').textContent.includes({})",
            js(expected)
        ),
        WAIT,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_accept_see_members_and_kick_in_a_private_room() {
    let Some(browser) = browser_or_skip().await else {
        return;
    };
    let accounts = Arc::new(MemoryAccounts::new());
    let server = account_server(accounts.clone(), accounts_config(accounts), false).await;

    let ann = browser.open(&server.url("/")).await;
    sign_up(&ann, "ann", PASSWORD).await;

    // The server's refusals, in its words: a taken name (in another case), an empty password.
    let bob = browser.open(&server.url("/")).await;
    bob.fill("#login-name", "ANN").await;
    bob.fill("#login-password", PASSWORD).await;
    bob.click("#login-register").await;
    login_error(&bob, "a taken name is refused", "taken").await;
    bob.fill("#login-name", "bob").await;
    bob.fill("#login-password", "").await;
    bob.click("#login-register").await;
    login_error(&bob, "an empty password is refused", "must not be empty").await;
    sign_up(&bob, "bob", PASSWORD).await;
    assert_eq!(
        bob.eval("JSON.parse(sessionStorage.getItem('chatcore.session')).user")
            .await,
        "bob",
        "the session is kept for a reload"
    );

    // Ann creates a private room: she owns it.
    ann.fill("#create-name", "team").await;
    ann.eval("document.getElementById('create-private').checked = true")
        .await;
    ann.click("#create-form button[type=submit]").await;
    ann.wait_for(
        "ann is in team",
        "document.getElementById('room-title').textContent === '#team'",
        WAIT,
    )
    .await;
    ann.wait_for("ann owns team", &member("ann", "owner"), WAIT)
        .await;

    // Bob does not see it, and may not join it.
    assert_eq!(bob.eval(&format!("!!{}", listed("team"))).await, false);

    // Ann invites bob; bob's page shows the invitation, and he accepts.
    ann.fill("#invite-name", "bob").await;
    ann.click("#invite-form button[type=submit]").await;
    bob.wait_for(
        "bob sees the invitation",
        &format!("{0} && {0}.classList.contains('invited')", listed("team")),
        WAIT,
    )
    .await;
    bob.save_screenshot("rooms-invited").await;
    bob.click("#rooms li[data-room=team] button.accept").await;
    bob.wait_for(
        "bob is in team",
        "document.getElementById('room-title').textContent === '#team'",
        WAIT,
    )
    .await;

    // Both see both in the member list, with their roles; bob may moderate no one.
    for page in [&ann, &bob] {
        page.wait_for("owner listed", &member("ann", "owner"), WAIT)
            .await;
        page.wait_for("member listed", &member("bob", "member"), WAIT)
            .await;
    }
    assert_eq!(
        bob.eval("document.querySelectorAll('#members button.kick').length")
            .await,
        0
    );
    ann.wait_for("ann sees the invite event", "[...document.querySelectorAll('#scroller .system.event')].some(e => e.textContent === 'ann invited bob')", WAIT)
        .await;

    ann.type_and_send("welcome to the team").await;
    bob.wait_for(
        "bob reads the room",
        &shows("ann", "welcome to the team"),
        WAIT,
    )
    .await;

    // Ann kicks bob with a hostile reason: shown as text on her page.
    let reason = "<img src=x onerror=alert(1)> & <b>bye</b>";
    ann.fill("#mod-reason", reason).await;
    ann.click("#members li[data-user=bob] button.kick").await;
    let line = format!("ann kicked bob: {reason}");
    ann.wait_for(
        "ann sees the kick as a system line",
        &format!("[...document.querySelectorAll('#scroller .system.event')].some(e => e.textContent === {} && e.children.length === 0)", js(&line)),
        WAIT,
    )
    .await;
    ann.wait_for(
        "bob leaves the member list",
        &format!("!({})", member("bob", "member")),
        WAIT,
    )
    .await;
    assert_eq!(
        ann.eval("document.querySelectorAll('#scroller img, #scroller b').length")
            .await,
        0
    );

    // Bob's page says he was removed, and the room leaves his list.
    bob.wait_for(
        "bob is told",
        "[...document.querySelectorAll('.toast')].some(t => t.textContent.includes('You were removed from #team'))",
        WAIT,
    )
    .await;
    bob.wait_for(
        "team leaves bob's list",
        &format!("!{}", listed("team")),
        WAIT,
    )
    .await;
    assert_eq!(
        bob.eval("document.querySelectorAll('.toast[data-code=forbidden], .toast[data-code=invitation]').length")
            .await,
        0,
        "the removal is the only news: no refusal of a background request, no stale invitation"
    );
    assert_ne!(
        bob.eval("document.getElementById('room-title').textContent")
            .await,
        "#team"
    );
    bob.save_screenshot("rooms-kicked").await;

    // He cannot get back in: the server refuses the join, and nothing of the room shows.
    bob.fill("#join-name", "team").await;
    bob.click("#join-form button[type=submit]").await;
    bob.wait_for(
        "the join is refused",
        "[...document.querySelectorAll('.toast')].some(t => t.textContent.includes('invite-only'))",
        WAIT,
    )
    .await;
    bob.wait_for(
        "team stays out of bob's list",
        &format!("!{}", listed("team")),
        WAIT,
    )
    .await;
    assert_eq!(
        bob.eval("document.querySelectorAll('#scroller .msg[data-seq]').length")
            .await,
        0
    );
    ann.save_screenshot("rooms-owner").await;

    let errors = browser.page_errors();
    assert!(errors.is_empty(), "page errors: {errors:#?}");
    drop(browser);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_session_refreshes_its_token_and_signs_out() {
    let Some(browser) = browser_or_skip().await else {
        return;
    };
    let accounts = Arc::new(MemoryAccounts::new());
    // Access tokens of 62 s: the page renews a minute early, so after about 2 s.
    let config = accounts_config(accounts.clone())
        .with_token_ttls(Duration::from_secs(62), Duration::from_secs(3600))
        .expect("ttls");
    let server = account_server(accounts, config, false).await;
    let cy = browser.open(&server.url("/?room=lobby")).await;
    sign_up(&cy, "cy", PASSWORD).await;
    let first = cy.eval("window.chatcore.state.creds.value").await;
    cy.wait_for(
        "the access token is renewed",
        &format!("window.chatcore.state.creds.value !== {first}"),
        WAIT,
    )
    .await;
    // The renewed token works: a dropped connection comes back with it.
    cy.eval("window.chatcore.drop()").await;
    cy.wait_for(
        "reconnected",
        "document.getElementById('conn').classList.contains('online')",
        WAIT,
    )
    .await;
    cy.type_and_send("still here").await;
    cy.wait_for("sent after the renewal", &shows("cy", "still here"), WAIT)
        .await;

    // Signing out ends the session on the server: the old token is refused from then on.
    let token = cy.eval("window.chatcore.state.creds.value").await;
    cy.click("#logout").await;
    cy.wait_for(
        "the overlay is back",
        "!document.getElementById('login').classList.contains('hidden')",
        WAIT,
    )
    .await;
    let token = token.as_str().expect("token").to_owned();
    // The page forgot the session at once; the server ends it when the logout call lands.
    eventually(|| async { get_as(server.addr, "/api/rooms", &token).await.status == 401 }).await;
    assert_eq!(
        cy.eval("sessionStorage.getItem('chatcore.session')").await,
        serde_json::Value::Null
    );
    drop(browser);
    server.stop().await;
}
