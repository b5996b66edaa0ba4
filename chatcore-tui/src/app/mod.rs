//! The application state and its one entry point, [`App::update`]: pure (no I/O, no clock
//! reads), so every behaviour is testable by feeding actions and looking at the state and
//! the returned [`Effect`]s.

mod action;
mod apply;
pub mod blocks;
pub mod clock;
pub mod command;
mod complete;
mod input;
mod keys;
mod netcmd;
mod room;
mod run;
mod select;

use std::time::{Duration, Instant};

use chatcore_client::Message;
use ratatui::layout::Rect;

pub use action::{Action, ConnStatus, Effect};
pub use netcmd::{NetCmd, Secret};
pub use room::{RoomView, TYPING_TTL};

use crate::config::Settings;
use crate::theme::Theme;
use crate::ui::layout;
use command::Command;

/// How often "typing" is sent again while the user keeps typing.
pub const TYPING_RENEW: Duration = Duration::from_secs(3);
/// After this long without a keystroke, "stopped typing" is sent.
pub const TYPING_IDLE: Duration = Duration::from_secs(5);

/// Vim-style input modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Keys navigate (`j`, `k`, `gg`, …).
    #[default]
    Normal,
    /// Keys type into the message line.
    Insert,
    /// Keys type a `:` command.
    Command,
    /// Keys pick a message (`j`/`k`, ↑/↓) and change it: `e` edit, `d` delete, `r` react,
    /// `t` thread.
    Select,
}

/// What the centre pane shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum View {
    /// Messages of the current room.
    #[default]
    Chat,
    /// The settings list.
    Settings,
    /// A thread of the current room: the root and its replies; sending replies there.
    Thread {
        /// The root's seq.
        root: u64,
    },
    /// The results of `/search`.
    Search,
}

/// What a key in select mode completes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// `d` was pressed: `y` deletes.
    Delete,
    /// `r` was pressed: a digit picks one of [`REACTIONS`].
    React,
}

/// The emoji `r` offers, picked with 1 to 6.
pub const REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "🎉", "😮", "😢"];

/// The answer to `/search`, as the search view shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchView {
    /// What was searched for.
    pub query: String,
    /// The hits, newest first.
    pub hits: Vec<Message>,
    /// The selected hit.
    pub selected: usize,
}

/// A line on the notice bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Information.
    Info(String),
    /// An error (a bad command, a failed send).
    Error(String),
}

/// A message sent but not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Local id.
    pub local_id: u64,
    /// Room name.
    pub room: String,
    /// Text.
    pub text: String,
    /// An emote.
    pub emote: bool,
    /// The thread's root, for a reply.
    pub reply_to: Option<u64>,
}

/// A password being typed for `/login`, `/register` or `--login`: keys go here instead of
/// the message line, and it shows as `•`s.
#[derive(Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The account.
    pub user: String,
    /// Registering a new account rather than logging in.
    pub create: bool,
    /// What was typed.
    pub secret: String,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("user", &self.user)
            .field("create", &self.create)
            .finish_non_exhaustive()
    }
}

/// The rows of the settings view.
pub const SETTINGS_ROWS: [&str; 4] = ["Server", "Name", "Theme", "Notifications"];

/// Everything the client shows and remembers.
#[derive(Debug, Clone)]
pub struct App {
    /// Effective settings (changed by `:theme`, the settings view, …).
    pub settings: Settings,
    /// Styles of the current theme.
    pub theme: Theme,
    /// Input mode.
    pub mode: Mode,
    /// What the centre pane shows.
    pub view: View,
    /// The help overlay is open.
    pub show_help: bool,
    /// The user list is shown.
    pub show_users: bool,
    /// Joined rooms, in the order they were joined.
    pub rooms: Vec<RoomView>,
    /// Index of the shown room in `rooms`.
    pub current: usize,
    /// The message line; kept across disconnects and mode changes.
    pub input: String,
    /// Cursor position in `input`, in characters.
    pub cursor: usize,
    /// The `:` command being typed.
    pub command: String,
    /// A password being typed, when one is asked for.
    pub prompt: Option<Prompt>,
    /// The message being edited (room, seq): the input line holds its new text.
    pub editing: Option<(String, u64)>,
    /// What the next key completes in select mode.
    pub pick: Option<Pick>,
    /// The last search's results.
    pub search: Option<SearchView>,
    /// A `g` was pressed (for `gg`).
    pub pending_g: bool,
    /// Connection state for the status bar.
    pub conn: ConnStatus,
    /// The user name the server gave this session.
    pub me: String,
    /// The account signed in (`/login`), if any.
    pub account: Option<String>,
    /// The notice line.
    pub notice: Option<Notice>,
    /// Messages sent and not yet acknowledged.
    pub pending: Vec<Pending>,
    /// The selected row of the settings view.
    pub settings_row: usize,
    /// The clock, as of the last [`Action::Tick`].
    pub now: Instant,
    /// Terminal size.
    pub size: (u16, u16),
    /// Set once the user asked to quit.
    pub quitting: bool,
    next_local_id: u64,
    /// Room and time the last "typing" was sent.
    typing_sent: Option<(String, Instant)>,
    last_keystroke: Instant,
    /// Rooms this client asked to join (switch to them when the answer comes).
    joining: Vec<String>,
}

impl App {
    /// A fresh state for `settings`.
    pub fn new(settings: Settings, now: Instant) -> App {
        let prompt = settings.login.clone().map(|user| Prompt {
            user,
            create: false,
            secret: String::new(),
        });
        App {
            theme: Theme::new(settings.theme),
            me: settings.user.clone(),
            account: None,
            settings,
            mode: if prompt.is_some() {
                Mode::Insert
            } else {
                Mode::Normal
            },
            prompt,
            editing: None,
            pick: None,
            search: None,
            view: View::Chat,
            show_help: false,
            show_users: true,
            rooms: Vec::new(),
            current: 0,
            input: String::new(),
            cursor: 0,
            command: String::new(),
            pending_g: false,
            conn: ConnStatus::Connecting,
            notice: None,
            pending: Vec::new(),
            settings_row: 0,
            now,
            size: (80, 24),
            quitting: false,
            next_local_id: 1,
            typing_sent: None,
            last_keystroke: now,
            joining: Vec::new(),
        }
    }

    /// The shown room.
    pub fn room(&self) -> Option<&RoomView> {
        self.rooms.get(self.current)
    }

    fn room_mut(&mut self) -> Option<&mut RoomView> {
        self.rooms.get_mut(self.current)
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.rooms.iter().position(|r| r.name == name)
    }

    /// Rows of messages visible in the chat pane.
    pub fn page(&self) -> usize {
        layout::chat_rows(Rect::new(0, 0, self.size.0, self.size.1), self.show_users)
    }

    /// Applies one action; returns what the world should do.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mut fx = Vec::new();
        // Any key but `g` (network events and ticks aside) cancels a pending `gg`.
        let keeps_g = matches!(
            action,
            Action::PendingG | Action::Tick(_) | Action::Resize(..)
        );
        if !keeps_g && !is_network(&action) {
            self.pending_g = false;
        }
        match action {
            Action::Tick(now) => self.tick(now, &mut fx),
            Action::Resize(w, h) => self.size = (w, h),
            Action::Char(c) if self.mode == Mode::Select => self.select_key(c, &mut fx),
            Action::SelectMode => self.enter_select(),
            Action::Complete if self.mode == Mode::Insert && self.prompt.is_none() => {
                self.complete();
            }
            Action::Complete => {}
            Action::Char(_)
            | Action::Paste(_)
            | Action::Backspace
            | Action::Delete
            | Action::DeleteWord
            | Action::ClearLine
            | Action::CursorLeft
            | Action::CursorRight
            | Action::CursorHome
            | Action::CursorEnd => self.edit(action, &mut fx),
            Action::Submit => self.submit(&mut fx),
            Action::InsertMode => {
                self.show_help = false;
                self.mode = Mode::Insert;
            }
            Action::SlashMode => {
                self.mode = Mode::Insert;
                if self.input.is_empty() {
                    self.input.push('/');
                    self.cursor = 1;
                }
            }
            Action::CommandMode => {
                self.show_help = false;
                self.mode = Mode::Command;
                self.command.clear();
            }
            Action::Escape => self.escape(&mut fx),
            Action::PendingG => {
                if std::mem::take(&mut self.pending_g) {
                    self.scroll_top(&mut fx);
                } else {
                    self.pending_g = true;
                }
            }
            Action::ScrollUp(n) => self.scroll_up(n, &mut fx),
            Action::ScrollDown(n) => self.scroll_down(n),
            Action::HalfPageUp => self.scroll_up((self.page() / 2).max(1), &mut fx),
            Action::HalfPageDown => self.scroll_down((self.page() / 2).max(1)),
            Action::ScrollTop => self.scroll_top(&mut fx),
            Action::ScrollBottom => {
                if let Some(r) = self.room_mut() {
                    r.scroll = 0;
                }
            }
            Action::NextRoom if !self.rooms.is_empty() => {
                self.select((self.current + 1) % self.rooms.len(), &mut fx);
            }
            Action::PrevRoom if !self.rooms.is_empty() => {
                let n = self.rooms.len();
                self.select((self.current + n - 1) % n, &mut fx);
            }
            Action::NextRoom | Action::PrevRoom => {}
            Action::SelectRoom(i) => self.select(i, &mut fx),
            Action::ToggleHelp => self.show_help = !self.show_help,
            Action::ToggleUsers => self.show_users = !self.show_users,
            Action::ToggleSettings => {
                self.view = match self.view {
                    View::Settings => View::Chat,
                    _ => View::Settings,
                };
            }
            Action::Click(col, row) => self.click(col, row, &mut fx),
            Action::Quit => self.run(Command::Quit, &mut fx),
            action => self.apply(action, &mut fx),
        }
        fx
    }
}

fn is_network(action: &Action) -> bool {
    matches!(
        action,
        Action::Conn(_)
            | Action::Joined { .. }
            | Action::Left(_)
            | Action::Message(_)
            | Action::History { .. }
            | Action::Presence { .. }
            | Action::OnlineCount { .. }
            | Action::UserPresence { .. }
            | Action::Typing { .. }
            | Action::Sent { .. }
            | Action::SendFailed { .. }
            | Action::SignedIn { .. }
            | Action::SignedOut
            | Action::Info(_)
            | Action::Error(_)
    )
}

/// `true` when `text` mentions `user`: `@user`, or `user` as a whole word, any case.
pub fn mentions(text: &str, user: &str) -> bool {
    if user.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    let user = user.to_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(&user).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + user.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_changes;
