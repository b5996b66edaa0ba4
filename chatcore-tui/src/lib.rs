//! # chatcore-tui
//!
//! `chat-tui`, the terminal client of the [chatcore](chatcore_client) chat engine: a room
//! list with unread counts, the chat with day separators and scroll-back that pages history
//! from the server, the user list (presence), a settings view and a help overlay; vim-style
//! keys (normal, insert, command and select modes), `:` commands and `/` slash commands
//! with Tab completion; accounts (`/register`, `/login`, `--login`; the refresh token kept
//! in [`session`]); room commands (`/create`, `/invite`, `/kick`, `/ban`, `/mute`, `/topic`,
//! `/op`, …) with room events as system lines; edits, deletes, reactions and threads of
//! messages picked in select mode; unread badges from the server's read positions;
//! `/search`; typing indicators; bell or desktop notifications for mentions and direct
//! messages; dark, light and high-contrast themes; a TOML config file.
//!
//! ## Architecture (The Elm Architecture)
//!
//! - [`app`]: the state and `App::update(Action) -> Vec<Effect>`, pure: no I/O, no clock.
//! - [`event`]: terminal events (keys per mode, mouse, resize) to [`app::Action`]s.
//! - [`ui`]: one module per view, each a pure function of the state onto a frame.
//! - [`net`]: a thin adapter over [`chatcore_client`]: a task that owns the
//!   [`Client`](chatcore_client::Client), turns its events into actions over an mpsc channel
//!   and the commands the state asks for into client calls. Connecting (also before the
//!   server is up), reconnecting with backoff, resuming rooms and retrying sends are the
//!   library's; the task only joins the configured rooms, refreshes presence after a
//!   reconnect, and replaces the client for `/nick` and `:server`.
//! - [`config`], [`theme`], [`notify`], and [`terminal`] (setup and a restore guard, plus a
//!   panic hook, so the terminal is never left raw).
//!
//! The loop in [`run`] `select!`s over terminal events, network actions and a tick, feeds
//! each to `update`, performs the effects, and redraws.
//!
//! ## Delivery
//!
//! The client library delivers each room's messages once and in order across reconnects;
//! the view keys messages by `(room, seq)` as well, so a replayed or overlapping message
//! is never shown twice. Text typed while disconnected stays in the input line; a message
//! sent while disconnected is shown as "sending" and goes out after the reconnect (with
//! its nonce, so at most once); when the server is not back within the client's request
//! timeout (30 s) it fails and its text returns to the input line.
//!
//! ## Features
//!
//! - `desktop-notify`: desktop notifications through notify-rust (session bus); without it,
//!   or when no notification service answers, the terminal bell rings.
#![forbid(unsafe_code)]

pub mod app;
pub mod config;
pub mod event;
pub mod net;
pub mod notify;
pub mod session;
pub mod terminal;
pub mod theme;
pub mod ui;

#[cfg(test)]
mod testing;

use std::time::{Duration, Instant};

use crossterm::event::EventStream;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::app::{Action, App, Effect};
use crate::config::{Settings, write_file};

/// How often the clock ticks (typing expiry and debounce).
const TICK: Duration = Duration::from_millis(250);

/// Runs the client until `:quit`; the terminal is restored on every way out.
pub async fn run(settings: Settings) -> std::io::Result<()> {
    let (action_tx, mut actions) = mpsc::unbounded_channel();
    let target = net::Target::from_settings(&settings);
    let net = net::spawn(target, settings.rooms.clone(), action_tx);
    let mut app = App::new(settings, Instant::now());
    let mut guard = terminal::Guard::enter()?;
    let size = guard.terminal.size()?;
    app.update(Action::Resize(size.width, size.height));
    let mut keys = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // Test hook: the end-to-end test panics here to check the terminal is restored.
    let test_panic = std::env::var_os("CHATCORE_TUI_TEST_PANIC").is_some();
    loop {
        guard.terminal.draw(|f| ui::draw(f, &app))?;
        if test_panic && matches!(app.conn, app::ConnStatus::Connected { .. }) {
            panic!("test panic (CHATCORE_TUI_TEST_PANIC is set)");
        }
        let action = tokio::select! {
            event = keys.next() => match event {
                Some(Ok(event)) => event::map(&event, app.mode, app.page()),
                Some(Err(e)) => return Err(e),
                None => Some(Action::Quit),
            },
            action = actions.recv() => action,
            _ = tick.tick() => Some(Action::Tick(Instant::now())),
        };
        let Some(action) = action else { continue };
        let mut quit = false;
        for effect in app.update(action) {
            match effect {
                Effect::Net(cmd) => {
                    let _ = net.send(cmd);
                }
                Effect::Notify { title, body } => {
                    notify::notify(app.settings.notifications, &title, &body);
                }
                Effect::SaveConfig => save(&mut app),
                Effect::Quit => quit = true,
            }
        }
        if quit {
            break;
        }
    }
    // Give the network task a moment to close the connection cleanly.
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while actions.recv().await.is_some() {}
    })
    .await;
    drop(guard);
    Ok(())
}

fn save(app: &mut App) {
    let action = match &app.settings.config_path {
        Some(path) => match write_file(path, &app.settings.to_file()) {
            Ok(()) => Action::Info(format!("settings saved to {}", path.display())),
            Err(e) => Action::Error(format!("cannot save settings: {e}")),
        },
        None => Action::Error("no config path (set --config)".into()),
    };
    app.update(action);
}
