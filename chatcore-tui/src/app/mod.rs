//! The application state and its one entry point, [`App::update`]: pure (no I/O, no clock
//! reads), so every behaviour is testable by feeding actions and looking at the state and
//! the returned [`Effect`]s.

mod action;
pub mod blocks;
pub mod clock;
pub mod command;
mod input;
mod room;

use std::time::{Duration, Instant};

use chatcore::names::DM_PREFIX;
use chatcore_client::{Message, RoomKind};
use ratatui::layout::Rect;

pub use action::{Action, ConnStatus, Effect, NetCmd};
pub use room::{RoomView, TYPING_TTL};

use crate::config::{Notifications, Settings};
use crate::theme::{Theme, ThemeName};
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
}

/// What the centre pane shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum View {
    /// Messages of the current room.
    #[default]
    Chat,
    /// The settings list.
    Settings,
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
    /// A `g` was pressed (for `gg`).
    pub pending_g: bool,
    /// Connection state for the status bar.
    pub conn: ConnStatus,
    /// The user name the server gave this session.
    pub me: String,
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
        App {
            theme: Theme::new(settings.theme),
            me: settings.user.clone(),
            settings,
            mode: Mode::Normal,
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
                    View::Chat => View::Settings,
                    View::Settings => View::Chat,
                };
            }
            Action::Click(col, row) => self.click(col, row, &mut fx),
            Action::Quit => self.run(Command::Quit, &mut fx),
            Action::Conn(status) => {
                if let ConnStatus::Connected { user } = &status {
                    self.me.clone_from(user);
                }
                self.conn = status;
            }
            Action::Joined {
                room,
                kind,
                last_seq,
                online,
                history,
            } => self.joined(room, kind, last_seq, online, history),
            Action::Left(room) => self.left(&room, &mut fx),
            Action::Message(m) => self.message(m, &mut fx),
            Action::History {
                room,
                messages,
                has_more,
            } => {
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    for m in messages {
                        r.insert(m);
                    }
                    r.has_more = has_more;
                    r.loading = false;
                }
            }
            Action::Presence { room, online } => {
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    r.online = online.into_iter().collect();
                    r.online_count = None;
                }
            }
            Action::OnlineCount { room, online } => {
                if let Some(i) = self.find(&room) {
                    self.rooms[i].online_count = Some(online);
                }
            }
            Action::UserPresence { room, user, online } => {
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    if online {
                        r.online.insert(user);
                    } else {
                        r.typing.remove(&user);
                        r.online.remove(&user);
                    }
                }
            }
            Action::Typing { room, user, on } => {
                if user == self.me {
                    return fx;
                }
                if let Some(i) = self.find(&room) {
                    let r = &mut self.rooms[i];
                    if on {
                        r.typing.insert(user, self.now + TYPING_TTL);
                    } else {
                        r.typing.remove(&user);
                    }
                }
            }
            Action::Sent { local_id } => self.pending.retain(|p| p.local_id != local_id),
            Action::SendFailed { local_id, error } => {
                if let Some(i) = self.pending.iter().position(|p| p.local_id == local_id) {
                    let p = self.pending.remove(i);
                    // Give the text back so nothing typed is lost.
                    if self.input.is_empty() {
                        self.input = if p.emote {
                            format!("/me {}", p.text)
                        } else {
                            p.text
                        };
                        self.cursor = self.input.chars().count();
                    }
                }
                self.notice = Some(Notice::Error(format!("not sent: {error}")));
            }
            Action::Info(text) => self.notice = Some(Notice::Info(text)),
            Action::Error(text) => self.notice = Some(Notice::Error(text)),
        }
        fx
    }

    fn tick(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        self.now = now;
        for r in &mut self.rooms {
            r.expire_typing(now);
        }
        let idle = now.saturating_duration_since(self.last_keystroke) >= TYPING_IDLE;
        if self.typing_sent.is_some() && (idle || self.input.is_empty()) {
            self.stop_typing(fx);
        }
    }

    fn escape(&mut self, fx: &mut Vec<Effect>) {
        if self.show_help {
            self.show_help = false;
        } else if self.mode == Mode::Command {
            self.mode = Mode::Normal;
            self.command.clear();
        } else if self.mode == Mode::Insert {
            self.mode = Mode::Normal;
            self.stop_typing(fx);
        } else if self.view == View::Settings {
            self.view = View::Chat;
        } else {
            self.notice = None;
        }
    }

    fn submit(&mut self, fx: &mut Vec<Effect>) {
        match self.mode {
            Mode::Command => {
                let line = std::mem::take(&mut self.command);
                self.mode = Mode::Normal;
                match command::parse_colon(&line) {
                    Ok(cmd) => self.run(cmd, fx),
                    Err(e) => self.notice = Some(Notice::Error(e)),
                }
            }
            Mode::Insert => {
                let text = self.input.trim_end().to_owned();
                if text.trim().is_empty() {
                    return;
                }
                let parsed = match text.strip_prefix('/') {
                    Some(rest) => command::parse_slash(rest),
                    None => Ok(Command::Say(text)),
                };
                match parsed {
                    Ok(cmd) => {
                        let kept = self.input.clone();
                        self.input.clear();
                        self.cursor = 0;
                        self.stop_typing(fx);
                        self.run(cmd, fx);
                        if matches!(self.notice, Some(Notice::Error(_))) && self.input.is_empty() {
                            // The command failed before anything was sent: keep the text.
                            self.input = kept;
                            self.cursor = self.input.chars().count();
                        }
                    }
                    Err(e) => self.notice = Some(Notice::Error(e)),
                }
            }
            Mode::Normal if self.view == View::Settings => self.change_setting(fx),
            Mode::Normal => self.mode = Mode::Insert,
        }
    }

    fn change_setting(&mut self, fx: &mut Vec<Effect>) {
        match self.settings_row {
            0 => {
                self.mode = Mode::Command;
                self.command = format!("server {}", self.settings.server);
            }
            1 => {
                self.mode = Mode::Command;
                self.command = format!("nick {}", self.me);
            }
            2 => self.run(Command::Theme(self.settings.theme.next()), fx),
            _ => self.run(Command::Notify(self.settings.notifications.next()), fx),
        }
    }

    /// Runs a parsed `:` or `/` command.
    fn run(&mut self, cmd: Command, fx: &mut Vec<Effect>) {
        self.notice = None;
        match cmd {
            Command::Join(room) => match self.find(&room) {
                Some(i) => self.select(i, fx),
                None => {
                    self.joining.push(room.clone());
                    self.notice = Some(Notice::Info(format!("joining #{room}…")));
                    fx.push(Effect::Net(NetCmd::Join(room)));
                }
            },
            Command::Leave(room) => match room.or_else(|| self.room().map(|r| r.name.clone())) {
                Some(room) => fx.push(Effect::Net(NetCmd::Leave(room))),
                None => self.notice = Some(Notice::Error("no room to leave".into())),
            },
            Command::Dm { to, text: None } => {
                self.mode = Mode::Insert;
                self.input = format!("/msg {to} ");
                self.cursor = self.input.chars().count();
            }
            Command::Dm {
                to,
                text: Some(text),
            } => {
                self.joining.push(to.clone());
                let local_id = self.local_id();
                fx.push(Effect::Net(NetCmd::Dm { local_id, to, text }));
            }
            Command::Me(text) => self.send(text, true, fx),
            Command::Say(text) => self.send(text, false, fx),
            Command::Nick(user) => {
                if self.settings.token.is_some() {
                    self.notice = Some(Notice::Error(
                        "signed in with a token: the name comes from the token".into(),
                    ));
                } else {
                    self.settings.user.clone_from(&user);
                    self.notice = Some(Notice::Info(format!("reconnecting as {user}…")));
                    let server = self.settings.server.clone();
                    fx.push(Effect::Net(NetCmd::Reconnect { server, user }));
                }
            }
            Command::Server(server) => {
                if server != self.settings.server {
                    // The rooms are joined afresh there: the old server's messages (and
                    // seqs, which the new server numbers on its own) do not belong.
                    for r in &mut self.rooms {
                        *r = RoomView::new(std::mem::take(&mut r.name), r.kind);
                    }
                }
                self.settings.server.clone_from(&server);
                self.notice = Some(Notice::Info(format!("connecting to {server}…")));
                let user = self.settings.user.clone();
                fx.push(Effect::Net(NetCmd::Reconnect { server, user }));
            }
            Command::Theme(name) => self.set_theme(name),
            Command::Notify(n) => {
                self.settings.notifications = n;
                self.notice = Some(Notice::Info(format!("notifications: {n}")));
            }
            Command::Rooms => fx.push(Effect::Net(NetCmd::Rooms)),
            Command::Write => {
                self.settings.rooms = self
                    .rooms
                    .iter()
                    .filter(|r| r.kind != RoomKind::Direct)
                    .map(|r| r.name.clone())
                    .collect();
                fx.push(Effect::SaveConfig);
            }
            Command::Settings => self.view = View::Settings,
            Command::Help => self.show_help = true,
            Command::Quit => {
                self.quitting = true;
                self.stop_typing(fx);
                fx.push(Effect::Net(NetCmd::Close));
                fx.push(Effect::Quit);
            }
        }
    }

    /// Switches to theme `name`.
    pub fn set_theme(&mut self, name: ThemeName) {
        self.settings.theme = name;
        self.theme = Theme::new(name);
        self.notice = Some(Notice::Info(format!("theme: {name}")));
    }

    fn local_id(&mut self) -> u64 {
        let id = self.next_local_id;
        self.next_local_id += 1;
        id
    }

    fn send(&mut self, text: String, emote: bool, fx: &mut Vec<Effect>) {
        let Some(room) = self.room().map(|r| r.name.clone()) else {
            self.notice = Some(Notice::Error("join a room first: :join NAME".into()));
            return;
        };
        let local_id = self.local_id();
        self.pending.push(Pending {
            local_id,
            room: room.clone(),
            text: text.clone(),
            emote,
        });
        if let Some(r) = self.room_mut() {
            r.scroll = 0;
        }
        fx.push(Effect::Net(NetCmd::Send {
            local_id,
            room,
            text,
            emote,
        }));
    }

    fn edit(&mut self, action: Action, fx: &mut Vec<Effect>) {
        match self.mode {
            Mode::Command => {
                match action {
                    Action::Char(c) => self.command.push(c),
                    Action::Paste(text) => self.command.push_str(&text.replace(['\n', '\r'], " ")),
                    Action::Backspace if self.command.is_empty() => self.mode = Mode::Normal,
                    Action::Backspace => {
                        self.command.pop();
                    }
                    Action::ClearLine => self.command.clear(),
                    Action::DeleteWord => input::delete_word_end(&mut self.command),
                    _ => {}
                }
                return;
            }
            Mode::Normal => return,
            Mode::Insert => {}
        }
        if let Action::Paste(text) = &action {
            for c in text.chars() {
                let c = if c == '\n' || c == '\r' { ' ' } else { c };
                self.cursor = input::apply(&mut self.input, self.cursor, &Action::Char(c));
            }
        } else {
            self.cursor = input::apply(&mut self.input, self.cursor, &action);
        }
        if matches!(action, Action::Char(_) | Action::Paste(_)) {
            self.typed(fx);
        }
    }

    /// Sends "typing" (debounced) after a keystroke in a room's message line.
    fn typed(&mut self, fx: &mut Vec<Effect>) {
        self.last_keystroke = self.now;
        if self.input.starts_with('/') {
            return;
        }
        let Some(room) = self.room().map(|r| r.name.clone()) else {
            return;
        };
        let renew = match &self.typing_sent {
            Some((r, at)) => *r != room || self.now.saturating_duration_since(*at) >= TYPING_RENEW,
            None => true,
        };
        if renew {
            self.typing_sent = Some((room.clone(), self.now));
            fx.push(Effect::Net(NetCmd::Typing { room, on: true }));
        }
    }

    fn stop_typing(&mut self, fx: &mut Vec<Effect>) {
        if let Some((room, _)) = self.typing_sent.take() {
            fx.push(Effect::Net(NetCmd::Typing { room, on: false }));
        }
    }

    fn select(&mut self, i: usize, fx: &mut Vec<Effect>) {
        if i >= self.rooms.len() {
            return;
        }
        if i != self.current {
            self.stop_typing(fx);
        }
        self.current = i;
        self.view = View::Chat;
        let r = &mut self.rooms[i];
        r.unread = 0;
        r.mentions = 0;
    }

    fn scroll_up(&mut self, n: usize, fx: &mut Vec<Effect>) {
        if self.view == View::Settings {
            self.settings_row = self.settings_row.saturating_sub(n);
            return;
        }
        let page = self.page();
        if let Some(r) = self.room_mut() {
            r.scroll = (r.scroll + n).min(r.max_scroll(page));
        }
        self.maybe_fetch(page, fx);
    }

    fn scroll_down(&mut self, n: usize) {
        if self.view == View::Settings {
            self.settings_row = (self.settings_row + n).min(SETTINGS_ROWS.len() - 1);
            return;
        }
        if let Some(r) = self.room_mut() {
            r.scroll = r.scroll.saturating_sub(n);
        }
    }

    fn scroll_top(&mut self, fx: &mut Vec<Effect>) {
        if self.view == View::Settings {
            self.settings_row = 0;
            return;
        }
        let page = self.page();
        if let Some(r) = self.room_mut() {
            r.scroll = r.max_scroll(page);
        }
        self.maybe_fetch(page, fx);
    }

    /// Asks for older messages when the oldest loaded one is within a screen of the view.
    fn maybe_fetch(&mut self, page: usize, fx: &mut Vec<Effect>) {
        let Some(r) = self.room_mut() else { return };
        if !r.has_more || r.loading || r.scroll + page < r.messages.len() {
            return;
        }
        let Some(before) = r.oldest_seq() else { return };
        r.loading = true;
        fx.push(Effect::Net(NetCmd::History {
            room: r.name.clone(),
            before,
        }));
    }

    fn click(&mut self, col: u16, row: u16, fx: &mut Vec<Effect>) {
        let a = layout::areas(Rect::new(0, 0, self.size.0, self.size.1), self.show_users);
        let inside = |r: Rect| col >= r.x && col < r.right() && row >= r.y && row < r.bottom();
        if inside(a.rooms) && row > a.rooms.y {
            self.select(usize::from(row - a.rooms.y - 1), fx);
        } else if inside(a.input) && self.mode == Mode::Normal {
            self.mode = Mode::Insert;
        }
    }

    fn joined(
        &mut self,
        room: String,
        kind: RoomKind,
        last_seq: u64,
        online: Vec<String>,
        history: Vec<Message>,
    ) {
        let i = match self.find(&room) {
            Some(i) => i,
            None => {
                self.rooms.push(RoomView::new(room.clone(), kind));
                self.rooms.len() - 1
            }
        };
        let r = &mut self.rooms[i];
        r.kind = kind;
        r.online = online.into_iter().collect();
        let fresh = r.messages.is_empty();
        for m in history {
            r.insert(m);
        }
        if fresh {
            r.has_more = match r.oldest_seq() {
                Some(oldest) => oldest > 1,
                None => last_seq > 0,
            };
        }
        let asked = self.joining.iter().position(|j| {
            *j == room || (kind == RoomKind::Direct && r.display_name(&self.me) == format!("@{j}"))
        });
        if let Some(p) = asked {
            self.joining.remove(p);
            self.notice = None;
            self.current = i;
            self.view = View::Chat;
        } else if self.rooms.len() == 1 {
            self.current = 0;
        }
    }

    fn left(&mut self, room: &str, fx: &mut Vec<Effect>) {
        let Some(i) = self.find(room) else { return };
        if i == self.current {
            self.stop_typing(fx);
        }
        self.rooms.remove(i);
        if self.current > i || self.current >= self.rooms.len() {
            self.current = self.current.saturating_sub(1);
        }
        self.notice = Some(Notice::Info(format!("left #{room}")));
    }

    fn message(&mut self, m: Message, fx: &mut Vec<Effect>) {
        let i = match self.find(&m.room) {
            Some(i) => i,
            None => {
                let kind = if m.room.starts_with(DM_PREFIX) {
                    RoomKind::Direct
                } else {
                    RoomKind::Public
                };
                self.rooms.push(RoomView::new(m.room.clone(), kind));
                self.rooms.len() - 1
            }
        };
        let shown = i == self.current && self.view == View::Chat;
        let mine = m.sender == self.me;
        let r = &mut self.rooms[i];
        r.typing.remove(&m.sender);
        let notify = !mine && (r.kind == RoomKind::Direct || mentions(&m.text, &self.me));
        let title = format!("{} in {}", m.sender, r.display_name(&self.me));
        let body = m.text.clone();
        if !r.insert(m) {
            return; // a duplicate (replay seam, history overlap): nothing new
        }
        if !mine && !shown {
            r.unread += 1;
            if notify {
                r.mentions += 1;
            }
        }
        if notify && self.settings.notifications != Notifications::Off {
            fx.push(Effect::Notify { title, body });
        }
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
