//! Keys applied to the state: modes, the input line, scrolling, room selection, clicks.

use std::time::Instant;

use ratatui::layout::Rect;

use super::command::{self, Command};
use super::{
    Action, App, Effect, Mode, NetCmd, Notice, SETTINGS_ROWS, Secret, TYPING_IDLE, TYPING_RENEW,
    View, input,
};
use crate::ui::layout;

impl App {
    pub(super) fn tick(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        self.now = now;
        for r in &mut self.rooms {
            r.expire_typing(now);
        }
        let idle = now.saturating_duration_since(self.last_keystroke) >= TYPING_IDLE;
        if self.typing_sent.is_some() && (idle || self.input.is_empty()) {
            self.stop_typing(fx);
        }
    }

    pub(super) fn escape(&mut self, fx: &mut Vec<Effect>) {
        if self.prompt.take().is_some() {
            self.mode = Mode::Normal;
            self.notice = Some(Notice::Info("sign-in cancelled".into()));
        } else if self.show_help {
            self.show_help = false;
        } else if self.mode == Mode::Command {
            self.mode = Mode::Normal;
            self.command.clear();
        } else if self.mode == Mode::Insert {
            self.mode = Mode::Normal;
            self.stop_typing(fx);
            if self.editing.take().is_some() {
                self.input.clear();
                self.cursor = 0;
                self.notice = Some(Notice::Info("edit cancelled".into()));
            }
        } else if self.mode == Mode::Select {
            if self.pick.take().is_some() {
                self.notice = Some(Notice::Info("cancelled".into()));
            } else {
                self.leave_select();
            }
        } else if self.view != View::Chat {
            self.view = View::Chat;
            self.notice = None;
            self.mark_shown_read(fx);
        } else {
            self.notice = None;
        }
    }

    pub(super) fn submit(&mut self, fx: &mut Vec<Effect>) {
        if self.mode == Mode::Insert {
            if let Some(p) = self.prompt.take() {
                self.mode = Mode::Normal;
                let what = if p.create {
                    "registering"
                } else {
                    "signing in as"
                };
                self.notice = Some(Notice::Info(format!("{what} {}…", p.user)));
                fx.push(Effect::Net(NetCmd::SignIn {
                    user: p.user,
                    password: Secret::new(p.secret),
                    create: p.create,
                }));
                return;
            }
            if self.editing.is_some() {
                return self.save_edit(fx);
            }
        }
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
            Mode::Normal if self.view == View::Search => self.open_hit(fx),
            Mode::Select => {}
            Mode::Normal => self.mode = Mode::Insert,
        }
    }

    pub(super) fn change_setting(&mut self, fx: &mut Vec<Effect>) {
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

    pub(super) fn edit(&mut self, action: Action, fx: &mut Vec<Effect>) {
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
            Mode::Normal | Mode::Select => return,
            Mode::Insert => {}
        }
        if let Some(p) = self.prompt.as_mut() {
            match action {
                Action::Char(c) => p.secret.push(c),
                Action::Paste(text) => p.secret.push_str(text.trim_end_matches(['\n', '\r'])),
                Action::Backspace => {
                    p.secret.pop();
                }
                Action::ClearLine | Action::DeleteWord => p.secret.clear(),
                _ => {}
            }
            return;
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
    pub(super) fn typed(&mut self, fx: &mut Vec<Effect>) {
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

    pub(super) fn stop_typing(&mut self, fx: &mut Vec<Effect>) {
        if let Some((room, _)) = self.typing_sent.take() {
            fx.push(Effect::Net(NetCmd::Typing { room, on: false }));
        }
    }

    pub(super) fn select(&mut self, i: usize, fx: &mut Vec<Effect>) {
        if i >= self.rooms.len() {
            return;
        }
        if i != self.current {
            self.stop_typing(fx);
        }
        if self.mode == Mode::Select {
            self.leave_select();
        }
        self.current = i;
        self.view = View::Chat;
        let r = &mut self.rooms[i];
        r.unread = 0;
        r.mentions = 0;
        self.mark_shown_read(fx);
    }

    pub(super) fn scroll_up(&mut self, n: usize, fx: &mut Vec<Effect>) {
        if self.view == View::Settings {
            self.settings_row = self.settings_row.saturating_sub(n);
            return;
        }
        if self.view == View::Search {
            return self.move_hit(n, true);
        }
        if self.mode == Mode::Select {
            self.move_selection(n, true);
            let page = self.page();
            return self.maybe_fetch(page, fx);
        }
        let page = self.page();
        if let Some(r) = self.room_mut() {
            r.scroll = (r.scroll + n).min(r.max_scroll(page));
        }
        self.maybe_fetch(page, fx);
    }

    pub(super) fn scroll_down(&mut self, n: usize) {
        if self.view == View::Settings {
            self.settings_row = (self.settings_row + n).min(SETTINGS_ROWS.len() - 1);
            return;
        }
        if self.view == View::Search {
            return self.move_hit(n, false);
        }
        if self.mode == Mode::Select {
            return self.move_selection(n, false);
        }
        if let Some(r) = self.room_mut() {
            r.scroll = r.scroll.saturating_sub(n);
        }
    }

    pub(super) fn scroll_top(&mut self, fx: &mut Vec<Effect>) {
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
    pub(super) fn maybe_fetch(&mut self, page: usize, fx: &mut Vec<Effect>) {
        let Some(r) = self.room_mut() else { return };
        if !r.has_more || r.loading || r.scroll + page < r.len() {
            return;
        }
        let Some(before) = r.oldest_seq() else { return };
        r.loading = true;
        fx.push(Effect::Net(NetCmd::History {
            room: r.name.clone(),
            before,
        }));
    }

    pub(super) fn click(&mut self, col: u16, row: u16, fx: &mut Vec<Effect>) {
        let a = layout::areas(Rect::new(0, 0, self.size.0, self.size.1), self.show_users);
        let inside = |r: Rect| col >= r.x && col < r.right() && row >= r.y && row < r.bottom();
        if inside(a.rooms) && row > a.rooms.y {
            self.select(usize::from(row - a.rooms.y - 1), fx);
        } else if inside(a.input) && self.mode == Mode::Normal {
            self.mode = Mode::Insert;
        }
    }
}
