//! The browser client (`chatcore-transport-ws/static/index.html`) in headless Chromium,
//! against a real server on `127.0.0.1:0`: two people in two browser contexts see each other
//! online, see each other type, exchange messages (escaped, never markup), and one of them
//! survives a dropped connection without losing or doubling a message; a third scrolls back
//! through history.
//!
//! Skipped with a printed reason when Chromium is not installed (`apt-get install chromium`),
//! unless `CHATCORE_REQUIRE_SERVICES=1`, which makes that a failure. `CHATCORE_CHROMIUM`
//! names the binary; `CHATCORE_BROWSER_SCREENSHOT=DIR` saves screenshots of the pages there.

use std::time::Duration;

use chatcore::auth::Credentials;
use chatcore::protocol::{Codec, Command, Event, Request};
use chatcore::{Hub, Limits, Outgoing};
use serde_json::Value;

use chatcore_testkit::browser::{SHOWN, browser_or_skip, has_text, online_has, shows};
use chatcore_testkit::{TestServer, memory_hub};
use chatcore_transport_ws::WsConfig;

const WAIT: Duration = Duration::from_secs(20);

/// The transport settings `chat-server` uses, with a short shutdown grace.
fn config() -> WsConfig {
    WsConfig::default().with_shutdown_grace(Duration::from_secs(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_chat_see_presence_and_typing_and_survive_a_dropped_connection() {
    let Some(browser) = browser_or_skip().await else {
        return;
    };
    let server = TestServer::serve(memory_hub().await, config()).await;

    let ann = browser.open(&server.url("/?user=ann&room=lobby")).await;
    ann.wait_for("ann connected", &online_has("ann"), WAIT)
        .await;
    let bob = browser.open(&server.url("/?user=bob&room=lobby")).await;
    bob.wait_for("bob connected", &online_has("bob"), WAIT)
        .await;

    // Presence: each sees the other online.
    ann.wait_for("ann sees bob online", &online_has("bob"), WAIT)
        .await;
    bob.wait_for("bob sees ann online", &online_has("ann"), WAIT)
        .await;

    // Typing: bob types, ann sees it; sending clears it.
    bob.eval("document.getElementById('text').focus()").await;
    bob.type_text("hello <b>ann</b> & <img src=x onerror=alert(1)>")
        .await;
    ann.wait_for(
        "ann sees bob typing",
        "document.getElementById('typing').textContent.includes('bob is typing')",
        WAIT,
    )
    .await;
    bob.press_enter().await;

    // The message arrives, with its sender, as text: no element was made from it.
    let hostile = "hello <b>ann</b> & <img src=x onerror=alert(1)>";
    ann.wait_for("ann sees bob's message", &shows("bob", hostile), WAIT)
        .await;
    let shown = ann.eval(SHOWN).await;
    let msg = shown
        .as_array()
        .and_then(|a| a.iter().find(|m| m["text"] == hostile))
        .expect("message");
    assert_eq!(msg["markup"], 0, "user text must never become markup");
    assert_eq!(
        ann.eval("document.querySelectorAll('#scroller img').length")
            .await,
        0
    );
    ann.wait_for(
        "the typing indicator clears",
        "document.getElementById('typing').textContent === ''",
        WAIT,
    )
    .await;

    // And back.
    ann.type_and_send("hi bob").await;
    bob.wait_for("bob sees ann's reply", &shows("ann", "hi bob"), WAIT)
        .await;

    // An application's card (a kind the browser client has no drawing for): both see its
    // text fallback, not nothing.
    server
        .hub
        .post(
            chatcore::HostPost::as_user("lobby", "shopbot", "Order 12 shipped")
                .with_kind(chatcore::protocol::MessageKind::from_name("shop.order"))
                .with_data(chatcore_testkit::fixtures::card(12)),
        )
        .await
        .expect("card");
    for page in [&ann, &bob] {
        page.wait_for(
            "the card's text is shown",
            &shows("shopbot", "Order 12 shipped"),
            WAIT,
        )
        .await;
    }

    // Ann's connection drops. While she is away she writes one message (queued, sent after
    // the reconnect with its nonce) and bob writes one (delivered through resume).
    ann.eval("window.chatcore.drop()").await;
    ann.type_and_send("written while offline").await;
    bob.type_and_send("while you were away").await;
    bob.wait_for(
        "bob's message is stored",
        &shows("bob", "while you were away"),
        WAIT,
    )
    .await;
    ann.wait_for(
        "ann reconnects and resumes",
        &shows("bob", "while you were away"),
        WAIT,
    )
    .await;
    bob.wait_for(
        "ann's queued message arrives",
        &shows("ann", "written while offline"),
        WAIT,
    )
    .await;
    ann.wait_for(
        "ann sees her own queued message stored",
        &shows("ann", "written while offline"),
        WAIT,
    )
    .await;
    ann.wait_for(
        "ann shows connected",
        "document.getElementById('conn').classList.contains('online')",
        WAIT,
    )
    .await;

    // Exactly once, in order, without gaps, on both sides.
    for (who, page) in [("ann", &ann), ("bob", &bob)] {
        let shown = page.eval(SHOWN).await;
        assert_eq!(
            seqs(&shown),
            (1..=5).collect::<Vec<_>>(),
            "{who} sees {shown}"
        );
        assert_eq!(has_text(&shown, "bob", "while you were away"), 1, "{who}");
        assert_eq!(has_text(&shown, "shopbot", "Order 12 shipped"), 1, "{who}");
        assert_eq!(has_text(&shown, "ann", "written while offline"), 1, "{who}");
        let pending = page
            .eval("document.querySelectorAll('.msg.pending').length")
            .await;
        assert_eq!(pending, 0, "{who} has no unsent copies left");
    }
    ann.save_screenshot("ann").await;
    bob.save_screenshot("bob").await;

    // Bob closes his tab: ann sees him go.
    browser.close(bob).await;
    ann.wait_for(
        "ann sees bob leave",
        &format!("!{}", online_has("bob")),
        WAIT,
    )
    .await;

    let errors = browser.page_errors();
    assert!(errors.is_empty(), "page errors: {errors:#?}");
    drop(browser);
    server.stop().await;
}

/// Stores messages `first..=last` (texts `message N`) in `room` through the hub, as user
/// `seed`, and waits until all are committed.
async fn seed(hub: &Hub, room: &str, first: u64, last: u64) {
    let me = hub
        .authenticate(&Credentials::Guest("seed".into()))
        .await
        .expect("guest");
    let (mut session, mut out) = hub.connect(me, Codec::Json).expect("session");
    session
        .handle(Request::new(
            0,
            Command::Join {
                room: room.into(),
                resume_after: None,
            },
        ))
        .await;
    for i in first..=last {
        session
            .handle(Request::new(
                i,
                Command::Send {
                    room: room.into(),
                    text: format!("message {i}"),
                    nonce: None,
                    kind: Default::default(),
                    reply_to: None,
                    data: None,
                },
            ))
            .await;
    }
    let mut acked = 0;
    while acked <= last - first {
        match out.recv().await {
            Outgoing::Frame(f) => match f.event() {
                Event::Ack { .. } => acked += 1,
                Event::Error { message, .. } => panic!("seeding failed: {message}"),
                _ => {}
            },
            Outgoing::Closed(reason) => panic!("seed session closed: {reason:?}"),
            Outgoing::Flush => panic!("no direct sink is attached here"),
        }
    }
}

fn seqs(shown: &Value) -> Vec<u64> {
    shown
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrolling_up_pages_back_through_history() {
    let Some(browser) = browser_or_skip().await else {
        return;
    };
    let server = TestServer::serve(memory_hub().await, config()).await;
    seed(&server.hub, "archive", 1, 130).await;

    let cat = browser.open(&server.url("/?user=cat&room=archive")).await;
    cat.wait_for(
        "recent history on join",
        &format!("{SHOWN}.length >= 50"),
        WAIT,
    )
    .await;
    let shown = cat.eval(SHOWN).await;
    let last = shown.as_array().and_then(|a| a.last()).expect("messages");
    assert_eq!(last["text"], "message 130", "newest last");

    // Scroll to the top until everything is loaded.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let n = cat
            .eval(&format!(
                "document.getElementById('scroller').scrollTop = 0; {SHOWN}.length"
            ))
            .await;
        if n == 130 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "history stopped at {n} messages"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(seqs(&cat.eval(SHOWN).await), (1..=130).collect::<Vec<_>>());
    cat.wait_for(
        "the top says where the room begins",
        "document.querySelector('.list-top').textContent.includes('beginning')",
        WAIT,
    )
    .await;
    cat.save_screenshot("history").await;
    drop(browser);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_pages_through_more_missed_messages_than_fit_in_joined() {
    let Some(browser) = browser_or_skip().await else {
        return;
    };
    // Replay at most 5 messages inside `joined`: missing 40 forces `complete: false`.
    let limits = Limits::default().with_resume_limit(5).expect("limits");
    let hub = Hub::builder().limits(limits).build().await.expect("hub");
    let server = TestServer::serve(hub, config()).await;
    seed(&server.hub, "busy", 1, 3).await;

    let dan = browser.open(&server.url("/?user=dan&room=busy")).await;
    dan.wait_for("history on join", &format!("{SHOWN}.length === 3"), WAIT)
        .await;
    dan.eval("window.chatcore.drop(1500)").await;
    dan.wait_for(
        "dan shows the connection lost",
        "!document.getElementById('conn').classList.contains('online')",
        WAIT,
    )
    .await;
    seed(&server.hub, "busy", 4, 43).await;
    dan.wait_for(
        "dan catches up on all 43",
        &format!("{SHOWN}.length >= 43"),
        WAIT,
    )
    .await;
    seed(&server.hub, "busy", 44, 45).await;
    dan.wait_for(
        "live messages follow",
        &format!("{SHOWN}.length >= 45"),
        WAIT,
    )
    .await;
    let shown = dan.eval(SHOWN).await;
    assert_eq!(seqs(&shown), (1..=45).collect::<Vec<_>>(), "{shown}");
    let resumed = dan
        .eval("window.chatcore.messages('busy').map(m => m.text).join('|')")
        .await;
    let expected: Vec<String> = (1..=45).map(|i| format!("message {i}")).collect();
    assert_eq!(resumed, expected.join("|"));
    drop(browser);
    server.stop().await;
}
