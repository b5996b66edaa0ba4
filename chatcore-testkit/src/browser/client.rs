//! The chatcore browser client as tests see it: what it shows, and signing up through its
//! overlay. Selectors live here once, for every browser test.

use std::time::Duration;

use serde_json::Value;

use super::page::{Page, js};

/// JavaScript listing the messages the chatcore browser client shows for its current room:
/// `[{seq, sender, text, markup}]`, where `markup` counts element children of the text (0 for
/// any user text: it must stay text).
pub const SHOWN: &str = "[...document.querySelectorAll('#scroller .msg[data-seq]')].map(m => ({
    seq: Number(m.dataset.seq), sender: m.dataset.sender,
    text: m.querySelector('.text').textContent,
    markup: m.querySelector('.text').children.length }))";

/// How many of the [`SHOWN`] messages are `sender`'s `text`.
pub fn has_text(shown: &Value, sender: &str, text: &str) -> usize {
    shown
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|m| m["sender"] == sender && m["text"] == text)
                .count()
        })
        .unwrap_or(0)
}

/// JavaScript that is truthy once the page shows `sender`'s `text` (exact text content).
pub fn shows(sender: &str, text: &str) -> String {
    format!(
        "{SHOWN}.some(m => m.sender === {} && m.text === {})",
        js(sender),
        js(text)
    )
}

/// JavaScript that is truthy while the page lists `user` as online.
pub fn online_has(user: &str) -> String {
    format!(
        "[...document.querySelectorAll('#online li')].some(li => li.dataset.user === {})",
        js(user)
    )
}

/// Signs up `user` with `password` through the sign-in overlay ("Create account") and waits
/// until the page is connected as that user.
pub async fn sign_up(page: &Page, user: &str, password: &str) {
    page.wait_for(
        "the sign-in overlay",
        "!document.getElementById('login').classList.contains('hidden')",
        Duration::from_secs(20),
    )
    .await;
    page.fill("#login-name", user).await;
    page.fill("#login-password", password).await;
    page.click("#login-register").await;
    page.wait_for(
        &format!("{user} signed up and connected"),
        &format!(
            "document.getElementById('me').textContent.includes({}) && \
             document.getElementById('conn').classList.contains('online')",
            js(user)
        ),
        Duration::from_secs(20),
    )
    .await;
}

impl Page {
    /// Types `text` into the client's composer and presses Enter.
    pub async fn type_and_send(&self, text: &str) {
        self.eval("document.getElementById('text').focus()").await;
        self.type_text(text).await;
        self.press_enter().await;
    }
}
